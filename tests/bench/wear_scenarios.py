"""Hours of worn and not-worn data for the wear detector, with the truth per second.

A test-data generator (not firmware). A scenario is a list of pieces on one clock, each worn or
not, fed through the device's own wear features in the device's one-second batches with one chip
temperature per batch:

* worn activity from device/synthetic.py's Timeline (sitting at a desk with shifts and typing,
  short walks, a car ride, quiet standing) with the hip clip, 50 Hz, its sensor noise;
* real SisFall belt recordings (lying down, rolling in bed, sitting down and up, getting into a
  car), read from ../shared (never copied), as worn;
* still stretches: gravity along the previous piece's last direction plus white noise of the
  same sensor (0.03 m/s² for the synthetic one; 0.048 m/s² and 0.019 m/s² steps for SisFall's
  ADXL345) and, when worn, a body sway far below that noise, so a still wearer and a table look
  alike to the accelerometer: only the stretch's length and the temperature tell them apart
  (the worst case for the detector);
* "handling" (picking the clip up, clipping it on): a few seconds of turning in the hand.

Temperature (°C, the die): first order towards body warmth when worn (the room + the Pi's own
2.5 °C + ``contrast``, 7 °C by default, i.e. about 31 °C; 1 °C more in bed under covers) or the
room + the Pi's own 2.5 °C when not, time constant 6 min off / 8 min on; the room drifts 20-23
°C over the day and 0.5 °C at random; noise 0.03 °C, 1/256 °C steps (OUT_TEMP).
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.core.wear import WearFeatures, WearMinute, WearParams
from device.synthetic import FLAT_ON_SIDE, HIP_CLIP, Timeline, euler_matrix, sample_times

SISFALL = Path(__file__).resolve().parents[3] / "shared" / "traces" / "sisfall-waist-adl"
SISFALL_NOISE = 0.048
SISFALL_STEP = 0.0192
SYNTH_NOISE = 0.03
G = 9.80665


@dataclass
class Piece:
    """t from 0 (s), acc (N, 3), worn, what it is, and the bed flag (under covers: warmer)."""

    t: np.ndarray
    acc: np.ndarray
    worn: bool
    name: str
    in_bed: bool = False


PieceFn = Callable[[np.random.Generator, np.ndarray], Piece]  # (rng, gravity before) -> piece


def _last_gravity(p: Piece) -> np.ndarray:
    tail = p.t >= p.t[-1] - 1.0
    return p.acc[tail].mean(axis=0)


def still(minutes: float, worn: bool, *, noise: float = SYNTH_NOISE, step: float = 0.0,
          rate_hz: float = 50.0, gravity: np.ndarray | None = None, name: str = "",
          in_bed: bool = False) -> PieceFn:
    """A still stretch; gravity continues the previous piece's (or the given one)."""
    def make(rng: np.random.Generator, before: np.ndarray) -> Piece:
        g = before if gravity is None else gravity
        t = sample_times(0.0, minutes * 60.0, rate_hz, rng)
        acc = np.broadcast_to(g, (t.size, 3)) + rng.normal(0.0, noise, (t.size, 3))
        if worn:  # breathing/sway well below the sensor's noise: the worst case
            acc = acc + 0.003 * np.sin(2 * np.pi * 0.25 * t)[:, None] * rng.normal(size=3)
        if step:
            acc = np.round(acc / step) * step
        return Piece(t, acc, worn, name or ("still, worn" if worn else "on a table"), in_bed)
    return make


def table(minutes: float, **kw: object) -> PieceFn:
    g = FLAT_ON_SIDE.T @ np.array([0.0, 0.0, G])
    return still(minutes, False, gravity=g, name="on a table", **kw)  # type: ignore[arg-type]


def handling(worn_after: bool) -> PieceFn:
    """Picked up or clipped on: 12 s of turning in the hand (labelled as what follows)."""
    def make(rng: np.random.Generator, before: np.ndarray) -> Piece:
        seed = int(rng.integers(1 << 31))
        tl = Timeline(seed, clip=HIP_CLIP).stand(2.0)
        for k in range(4):
            tl.turn_clip(float(rng.uniform(40, 120)), rng.normal(size=3), 1.5, at=2.0 + 2.5 * k)
        tl.stand(10.0)
        sc = tl.render(50.0)
        return Piece(sc.t, sc.acc, worn_after, "handling")
    return make


def timeline(build: Callable[[Timeline, np.random.Generator], Timeline], name: str,
             in_bed: bool = False) -> PieceFn:
    def make(rng: np.random.Generator, before: np.ndarray) -> Piece:
        tl = build(Timeline(int(rng.integers(1 << 31)), clip=HIP_CLIP), rng)
        sc = tl.render(50.0, noise_rms=SYNTH_NOISE)
        return Piece(sc.t, sc.acc, True, name, in_bed)
    return make


def desk_session(minutes: float) -> PieceFn:
    """Sit down, shift, sit still, type (hip coupling 0.2), stand up, walk a few steps."""
    def build(tl: Timeline, rng: np.random.Generator) -> Timeline:
        tl.stand(5.0).sit_down()
        end = tl.now + minutes * 60.0
        while tl.now < end - 120:
            kind = rng.choice(["shift", "still", "type"], p=[0.4, 0.35, 0.25])
            d = min(end - tl.now - 60, float(rng.uniform(60, 600 if kind == "still" else 300)))
            if kind == "shift":
                tl.shift_in_chair(d)
            elif kind == "still":
                tl.sit(d)
            else:
                tl.typing(d, coupling=0.2)
        return tl.stand_up().walk(int(rng.integers(15, 60)), float(rng.uniform(95, 115)))
    return timeline(build, "desk")


def car_ride(minutes: float, city: bool) -> PieceFn:
    def build(tl: Timeline, rng: np.random.Generator) -> Timeline:
        return tl.stand(3.0).sit_down().car(minutes * 60.0, city=city).stand_up().stand(3.0)
    return timeline(build, "car, city" if city else "car, motorway")


def bag_in_car(minutes: float) -> PieceFn:
    """Not worn but moving: the clip in a bag on the passenger seat of a city ride."""
    def make(rng: np.random.Generator, before: np.ndarray) -> Piece:
        tl = Timeline(int(rng.integers(1 << 31)), clip=FLAT_ON_SIDE, sit_pitch_deg=5.0)
        sc = tl.sit_down().car(minutes * 60.0, city=True).render(50.0, noise_rms=SYNTH_NOISE)
        return Piece(sc.t, sc.acc, False, "in a bag in a car")
    return make


def sisfall(code: str, subjects: list[str] | None = None) -> PieceFn:
    """A real SisFall trial set (one subject, one activity), worn; the 5-s gaps between trials
    stay gaps (no samples), as the device would leave them."""
    from device.trace import read_trace

    def make(rng: np.random.Generator, before: np.ndarray) -> Piece:
        files = sorted(glob.glob(str(SISFALL / f"sisfall_*_{code.lower()}.csv.gz")))
        if subjects:
            files = [f for f in files if any(s in f for s in subjects)]
        tr = read_trace(files[int(rng.integers(len(files)))])
        lying = code.upper() in ("D12", "D13", "D14")
        return Piece(tr.t - tr.t[0], tr.acc, True, f"SisFall {code.upper()}", lying)
    return make


def have_sisfall() -> bool:
    return SISFALL.is_dir() and any(SISFALL.glob("*.csv.gz"))


@dataclass
class Run:
    """What the wear features saw, and the truth per minute."""

    minutes: list[WearMinute]
    truth_worn: np.ndarray      # per minute: True when most of its seconds were worn
    names: list[str]            # per minute: the piece most of it came from


class Thermal:
    """The die temperature: first order towards body warmth or the room (+ the Pi's warmth)."""

    def __init__(self, rng: np.random.Generator, start_worn: bool, contrast: float = 7.0) -> None:
        self.rng = rng
        self.contrast = contrast
        self.phase = float(rng.uniform(0, 2 * np.pi))
        self.walk = 0.0
        self.temp = self.room(0.0) + 2.5 + (contrast if start_worn else 0.0)

    def room(self, t: float) -> float:
        return 21.5 + 1.5 * np.sin(2 * np.pi * t / 86400.0 + self.phase) + self.walk

    def step(self, t: float, worn: bool, in_bed: bool) -> float:
        self.walk = float(np.clip(self.walk + self.rng.normal(0, 0.01), -0.5, 0.5))
        target = self.room(t) + 2.5
        if worn:
            target += self.contrast + (1.0 if in_bed else 0.0)
        tau = 480.0 if worn else 360.0
        self.temp += (target - self.temp) * (1.0 - np.exp(-1.0 / tau))
        reading = self.temp + self.rng.normal(0, 0.03)
        return round(reading * 256) / 256


def run(pieces: list[PieceFn], seed: int, *, temperature: bool,
        params: WearParams | None = None, start_s: float = 1_780_000_000.0,
        contrast: float = 7.0) -> Run:
    """Feed the pieces through WearFeatures in one-second batches (as device/runtime.py does)."""
    rng = np.random.default_rng(seed)
    feats = WearFeatures(params, offset_s=start_s)
    thermal = Thermal(np.random.default_rng(seed + 1), start_worn=True, contrast=contrast)
    minutes: list[WearMinute] = []
    sec_worn: dict[int, list[int]] = {}
    sec_name: dict[int, dict[str, int]] = {}
    clock = 0.0
    gravity = HIP_CLIP.T @ np.array([0.0, 0.0, G])
    for make in pieces:
        p = make(rng, gravity)
        t = p.t + clock
        for s0 in range(int(np.floor(t[0])), int(np.ceil(t[-1])) + 1):
            lo, hi = np.searchsorted(t, [s0, s0 + 1])
            temp = thermal.step(float(s0), p.worn, p.in_bed)
            minute = int((s0 + start_s) // 60)
            sec_worn.setdefault(minute, []).append(int(p.worn))
            names = sec_name.setdefault(minute, {})
            names[p.name] = names.get(p.name, 0) + 1
            if hi > lo:
                feats.update(t[lo:hi], p.acc[lo:hi], temp if temperature else None)
                minutes.extend(feats.minutes_)
        clock = float(t[-1]) + 0.02
        gravity = _last_gravity(p)
    minutes.extend(feats.finish())
    truth = np.array([np.mean(sec_worn.get(int(m.start_s // 60), [1])) >= 0.5 for m in minutes])
    names = [max(sec_name.get(int(m.start_s // 60), {"?": 1}).items(), key=lambda kv: kv[1])[0]
             for m in minutes]
    return Run(minutes, truth, names)


def iter_scenarios(with_sisfall: bool) -> Iterator[tuple[str, list[PieceFn]]]:
    """The benchmark's scenarios: name, pieces."""
    yield "on a table for 6 h after wear", [desk_session(30), handling(False), table(360)]
    yield "on a table for 6 h from power-on", [table(360)]
    desk = [desk_session(45) for _ in range(5)]
    if with_sisfall:
        for k, code in enumerate(["D07", "D09", "D11", "D08"]):
            desk.insert(2 * k + 1, sisfall(code))
    yield "sitting at a desk, 4 h", desk
    yield "in a car, 1.5 h", [desk_session(10)] + (
        [sisfall("D17")] if with_sisfall else []) + [car_ride(45, True), car_ride(45, False)] + (
        [sisfall("D17")] if with_sisfall else []) + [desk_session(10)]
    yield "off twice for 25 min (a coffee break)", [
        desk_session(40), handling(False), table(25), handling(True), desk_session(40),
        handling(False), table(25), handling(True), desk_session(40)]
    yield "in a bag on a car seat, 45 min (not worn, moving)", [
        desk_session(15), handling(False), bag_in_car(45), handling(True), desk_session(15)]
    yield "off and on mid-day", [desk_session(90), handling(False), table(45), handling(True),
                                 desk_session(90), handling(False), table(150), handling(True),
                                 desk_session(60)]
    if with_sisfall:
        night: list[PieceFn] = [table(30), handling(True), sisfall("D12")]
        rng = np.random.default_rng(7)
        while sum(1 for _ in night) < 30:
            night.append(still(float(rng.uniform(10, 60)), True, noise=SISFALL_NOISE,
                               step=SISFALL_STEP, rate_hz=100.0, name="lying still, in bed",
                               in_bed=True))
            night.append(sisfall(str(rng.choice(["D14", "D14", "D12", "D13"]))))
        yield "off the charger, then sleeping on the back, 7 h+ (SisFall rolls)", night
        yield "off the charger, then a very still sleeper (2.5 h without moving)", [
            table(30), handling(True), sisfall("D12"),
            still(150, True, noise=SISFALL_NOISE, step=SISFALL_STEP, rate_hz=100.0,
                  name="lying still, in bed", in_bed=True),
            sisfall("D14"),
            still(60, True, noise=SISFALL_NOISE, step=SISFALL_STEP, rate_hz=100.0,
                  name="lying still, in bed", in_bed=True),
            sisfall("D13")]


def lying_gravity() -> np.ndarray:
    """Gravity of a hip clip on someone lying on the back (for tests without SisFall)."""
    return (euler_matrix(0.0, 90.0, 0.0) @ HIP_CLIP).T @ np.array([0.0, 0.0, G])
