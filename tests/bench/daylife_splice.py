"""Days of daily-life walking spliced from real steps: short bouts, pauses, turns, uneven steps.

A test-data generator (not firmware). Real walks with foot-switch truth are cut into bouts of
4-40 steps and joined into a day the way people potter about: standing pauses of 0.5-5 s between
bouts, turns, slower and uneven steps, sitting down and standing up, still stretches. The truth
moves with the pieces, so every true step is a real step of a real recording (or of the physical
walking model in device/synthetic.py for a share of the bouts).

How a bout is made from a real walk (times t, acceleration a, true steps s_0..s_m):
* cut at the mid-points between true steps: [(s_{k-1}+s_k)/2, (s_{k+n-1}+s_{k+n})/2] holds
  exactly the n steps s_k..s_{k+n-1}; pieces whose intervals are implausible (foot-switch
  glitches, recording gaps) are drawn again;
* gravity of the piece g = median |a| along the mean direction; the piece is turned so g points
  along the day's device "up" u (minimal rotation) and then about u by a random angle (the clip
  sits at another heading on the body); a rotation never changes |a|;
* onset and decay: the dynamic part a - g is cross-faded from standing, weight 0 at the cut, 0.5-0.7
  at the first (last) step, 0.8-0.95 at the second (second-last) when the bout has a two-step
  onset (decay), 1 in between; sensor noise fills in where the weight is low;
* time warp (piecewise linear between true steps, so the truth moves exactly): the whole bout at
  0.75-1.0 x speed, single intervals stretched 1.2-1.6 x (a hesitation), turning steps 1.1-1.25 x;
  the dynamic part scales by 1/stretch² (acceleration of a slowed motion), at least 0.35;
* turns: during 1-3 s the piece rotates about u by ±90-180° (smooth), and a horizontal
  centripetal pull of v·ψ̇ (v = 0.6 m/s) is added;
* the result is resampled by linear interpolation onto the day's clock (50-100 Hz).

Between bouts: standing pauses (gravity, postural sway and 0.03 m/s² noise; the gravity moves
from the previous piece's to the next piece's over a 0.2-0.4 s cross-fade, or over 0.5-1 s when
the wearer re-seats the clip), sit-down/sit/stand-up episodes and still stretches rendered by
device/synthetic.py's Timeline with a clip that puts gravity along the same u.

Sources: real recordings we may copy (CC BY 4.0 Oxford step counter data: tests/data/real and
../shared/traces/oxford-step-counter), pocket placements by default (the nearest to a hip clip).
device/demo_data is the same back-pocket walk as a tests/data/real copy, without truth, so it is
not used. The ipol and sisfall folders are held out and never used (refused by `load_sources`).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from device.synthetic import (
    Timeline,
    axis_angle_matrix,
    body_sway,
    smoothstep,
)
from device.trace import Trace, read_trace, read_truth

REPO = Path(__file__).resolve().parents[2]
TEST_REAL = REPO / "tests" / "data" / "real"
DEFAULT_SHARED = REPO.parent / "shared" / "traces"
OXFORD_FOLDER = "oxford-step-counter"
HELD_OUT = ("ipol", "sisfall")  # licence-restricted / held-out sets: never spliced
POCKETS = ("frontpocket", "backpocket")

MIN_BOUT, MAX_BOUT = 4, 40
BOUT_GROUPS = ((4, 9), (10, 19), (20, MAX_BOUT))
BOUT_GROUP_SHARES = (0.45, 0.35, 0.20)  # daily life is mostly short bouts
NOISE_RMS = 0.03  # m/s², white sensor noise added where a piece is faded or generated
TURN_SPEED = 0.6  # m/s while turning, for the centripetal pull v·ψ̇
SYNTHETIC_SHARE = 0.2  # share of bouts from device/synthetic.py's walking model


@dataclass(frozen=True)
class Source:
    """A real walk: t (s), acc (N, 3) m/s², true step times (s) on the same clock."""

    name: str
    t: np.ndarray
    acc: np.ndarray
    steps: np.ndarray


@dataclass(frozen=True)
class Segment:
    """What the day does from t0 to t1 (s on the day's clock): walk | pause | sit | still."""

    kind: str
    t0: float
    t1: float
    note: str = ""


@dataclass
class Day:
    """A generated day: the trace, its true steps (s on the trace's clock, t[0] = 0), the length
    of each true step's bout, each step's bout number, and the segments in order."""

    trace: Trace
    steps: np.ndarray
    bout_len: np.ndarray
    bout_id: np.ndarray
    segments: list[Segment] = field(default_factory=list)

    @property
    def walking_segments(self) -> list[Segment]:
        return [s for s in self.segments if s.kind == "walk"]


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------


def _refuse_held_out(path: Path) -> None:
    text = str(path).lower()
    if any(h in text for h in HELD_OUT):
        raise ValueError(f"{path}: ipol and sisfall recordings are held out and never spliced")


def load_sources(folders: Sequence[Path], placements: Sequence[str] = POCKETS) -> list[Source]:
    """Real walks from folders with an INDEX.csv (trace, placement columns), deduplicated by trace
    name (tests/data/real holds copies of shared recordings), in name order."""
    found: dict[str, Source] = {}
    for folder in folders:
        _refuse_held_out(folder)
        index = folder / "INDEX.csv"
        if not index.is_file():
            continue
        with index.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        for row in rows:
            if row.get("placement") not in placements or row["trace"] in found:
                continue
            trace = read_trace(folder / f"{row['trace']}.csv.gz")
            steps = read_truth(folder / f"{row['trace']}.steps.csv")
            found[row["trace"]] = Source(row["trace"], trace.t - trace.t[0], trace.acc,
                                         steps - trace.t[0])
    return [found[k] for k in sorted(found)]


def default_sources(shared: Path | None = DEFAULT_SHARED) -> list[Source]:
    """tests/data/real, plus the shared Oxford recordings when the shared folder is present."""
    folders = [TEST_REAL]
    if shared is not None and (shared / OXFORD_FOLDER / "INDEX.csv").is_file():
        folders.append(shared / OXFORD_FOLDER)
    return load_sources(folders)


# ---------------------------------------------------------------------------------------------
# Geometry
# ---------------------------------------------------------------------------------------------


def unit(v: np.ndarray) -> np.ndarray:
    return np.asarray(v, dtype=float) / np.linalg.norm(v)


def align(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation taking direction a to direction b."""
    a, b = unit(a), unit(b)
    axis = np.cross(a, b)
    s, c = np.linalg.norm(axis), float(np.dot(a, b))
    if s < 1e-9:
        if c > 0:
            return np.eye(3)
        other = np.array([1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
        return axis_angle_matrix(np.cross(a, other), np.pi)
    return axis_angle_matrix(axis, np.arctan2(s, c))


def rotate_about(acc: np.ndarray, axis: np.ndarray, angle_rad: np.ndarray | float) -> np.ndarray:
    """Each row of acc turned about axis by its angle (a scalar turns all rows alike)."""
    angles = np.broadcast_to(np.asarray(angle_rad, dtype=float), (acc.shape[0],))
    rot = axis_angle_matrix(axis, angles)
    return np.einsum("nij,nj->ni", rot, acc)


def horizontal(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector perpendicular to u."""
    v = rng.normal(size=3)
    v -= np.dot(v, u) * u
    return unit(v)


def slerp_dir(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Directions from a to b along the great circle, c in [0, 1] per row."""
    a, b = unit(a), unit(b)
    axis = np.cross(a, b)
    if np.linalg.norm(axis) < 1e-9:  # same direction (opposite never happens here)
        return np.broadcast_to(a, (c.size, 3)).copy()
    angle = np.arctan2(np.linalg.norm(axis), np.dot(a, b))
    return rotate_about(np.broadcast_to(a, (c.size, 3)).copy(), axis, angle * c)


# ---------------------------------------------------------------------------------------------
# Pieces: (local t from 0, acc, true steps, gravity at start, gravity at end)
# ---------------------------------------------------------------------------------------------


@dataclass
class Piece:
    t: np.ndarray
    acc: np.ndarray
    steps: np.ndarray
    g_start: np.ndarray
    g_end: np.ndarray
    kind: str
    note: str = ""


def _grid(duration: float, rate_hz: float) -> np.ndarray:
    return np.arange(int(np.floor(duration * rate_hz)) + 1) / rate_hz


def draw_bout_length(rng: np.random.Generator) -> int:
    lo, hi = BOUT_GROUPS[int(rng.choice(len(BOUT_GROUPS), p=BOUT_GROUP_SHARES))]
    return int(rng.integers(lo, hi + 1))


def _pick_cut(src: Source, n: int, rng: np.random.Generator) -> int | None:
    """First step index k of an n-step piece with plausible intervals, or None."""
    s = src.steps
    if s.size < n + 2:
        return None
    med = float(np.median(np.diff(s)))
    dt_max = float(np.max(np.diff(src.t)))
    for _ in range(20):
        k = int(rng.integers(1, s.size - n))
        iv = np.diff(s[k - 1 : k + n + 1])
        if np.all((iv > 0.6 * med) & (iv < 1.6 * med)):
            lo, hi = np.searchsorted(src.t, [s[k - 1], s[k + n]])
            if dt_max < 0.1 or np.max(np.diff(src.t[lo:hi + 1])) < 0.1:
                return k
    return None


def real_bout(src: Source, n: int, u: np.ndarray, rate_hz: float, rng: np.random.Generator
              ) -> Piece | None:
    """n real steps of src as a bout from standing to standing (see the module docstring)."""
    k = _pick_cut(src, n, rng)
    if k is None:
        return None
    s = src.steps
    orig = np.concatenate([[(s[k - 1] + s[k]) / 2], s[k : k + n], [(s[k + n - 1] + s[k + n]) / 2]])
    stretch = np.ones(n + 1)  # per interval between knots
    notes = []
    if rng.random() < 0.4:
        speed = float(rng.uniform(0.75, 1.0))
        stretch /= speed
        notes.append(f"speed x{speed:.2f}")
    if n >= 5 and rng.random() < 0.3:
        chosen = rng.choice(np.arange(1, n), size=int(rng.integers(1, 3)), replace=False)
        stretch[chosen] *= rng.uniform(1.2, 1.6, chosen.size)
        notes.append("uneven")
    turn = None
    if n >= 6 and rng.random() < 0.35:
        first = int(rng.integers(1, n - 3))
        count = int(rng.integers(2, 5))
        last = min(first + count, n - 1)
        stretch[first + 1 : last + 1] *= float(rng.uniform(1.1, 1.25))  # steps first..last
        angle = float(rng.choice([-1.0, 1.0]) * rng.uniform(90.0, 180.0))
        turn = (first, last, angle)
        notes.append(f"turn {angle:+.0f} deg")
    new = np.concatenate([[0.0], np.cumsum(np.diff(orig) * stretch)])
    amp_iv = np.maximum(1.0 / stretch**2, 0.35)
    amp = np.concatenate([[amp_iv[0]], (amp_iv[:-1] + amp_iv[1:]) / 2, [amp_iv[-1]]])
    env = np.ones(n + 2)
    env[0] = env[-1] = 0.0
    env[1] = rng.uniform(0.5, 0.7)
    env[-2] = rng.uniform(0.5, 0.7)
    if n >= 6 and rng.random() < 0.5:
        env[2] = rng.uniform(0.8, 0.95)
    if n >= 6 and rng.random() < 0.5:
        env[-3] = rng.uniform(0.8, 0.95)

    t = _grid(new[-1], rate_hz)
    tau = np.interp(t, new, orig)
    lo, hi = np.searchsorted(src.t, [orig[0], orig[-1]])
    win = slice(max(lo - 1, 0), min(hi + 1, src.t.size))
    acc = np.column_stack([np.interp(tau, src.t[win], src.acc[win, i]) for i in range(3)])
    piece_acc = src.acc[lo:hi]
    g_mag = float(np.median(np.linalg.norm(piece_acc, axis=1)))
    rot = align(piece_acc.mean(axis=0), u)
    acc = acc @ rot.T
    g = g_mag * u
    weight = np.interp(t, new, amp * env)
    fade = np.interp(t, new, env)
    acc = g + weight[:, None] * (acc - g)
    acc += rng.normal(0.0, NOISE_RMS, acc.shape) * (1.0 - fade)[:, None]
    yaw = np.full(t.size, float(rng.uniform(-np.pi, np.pi)))
    if turn is not None:
        first, last, angle = turn
        t0, t1 = new[1 + first], new[1 + last]
        prog = smoothstep((t - t0) / (t1 - t0))
        yaw += np.radians(angle) * prog
        rate = np.radians(angle) * np.gradient(prog, t)
        acc += (TURN_SPEED * rate)[:, None] * horizontal(u, rng)
    acc = rotate_about(acc, u, yaw)
    return Piece(t, acc, new[1:-1].copy(), g, g, "walk",
                 f"{n} steps of {src.name}" + (f" ({', '.join(notes)})" if notes else ""))


def clip_for(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A Timeline clip (device-to-body) whose standing gravity in the device frame is along u."""
    return axis_angle_matrix((0.0, 0.0, 1.0), float(rng.uniform(-np.pi, np.pi))) @ align(
        u, np.array([0.0, 0.0, 1.0]))


def _timeline_piece(tl: Timeline, rate_hz: float, kind: str, note: str) -> Piece:
    sc = tl.render(rate_hz, bias_rms=0.0, noise_rms=NOISE_RMS)
    edge = max(int(0.2 * rate_hz), 1)
    return Piece(sc.t - sc.t[0], sc.acc, sc.steps - sc.t[0], sc.acc[:edge].mean(axis=0),
                 sc.acc[-edge:].mean(axis=0), kind, note)


def synthetic_bout(n: int, u: np.ndarray, rate_hz: float, rng: np.random.Generator) -> Piece:
    """device/synthetic.py's walking model: n steps from standing to standing, maybe turning."""
    seed = int(rng.integers(0, 2**31))
    cadence = float(rng.uniform(70.0, 120.0))
    turns = []
    if n >= 6 and rng.random() < 0.35:
        turns = [(int(rng.integers(1, n - 3)), float(rng.choice([-1, 1]) * rng.uniform(90, 180)),
                  float(rng.uniform(1.0, 3.0)))]
    tl = Timeline(seed, clip=clip_for(u, rng))
    tl.stand(0.3).walk(n, cadence, amplitude_scale=float(rng.uniform(0.7, 1.1)),
                       cv=float(rng.uniform(0.03, 0.06)), turns=turns).stand(0.3)
    return _timeline_piece(tl, rate_hz, "walk", f"{n} synthetic steps at {cadence:.0f} spm"
                           + (" with a turn" if turns else ""))


def sit_episode(u: np.ndarray, rate_hz: float, rng: np.random.Generator) -> Piece:
    """Sit down, sit (sometimes shifting in the chair) 5-40 s, stand up: no steps."""
    tl = Timeline(int(rng.integers(0, 2**31)), clip=clip_for(u, rng),
                  sit_pitch_deg=float(rng.uniform(60.0, 85.0)))
    seated = float(rng.uniform(5.0, 40.0))
    tl.stand(1.0).sit_down()
    if seated > 15.0 and rng.random() < 0.5:
        tl.shift_in_chair(seated)
    else:
        tl.sit(seated)
    tl.stand_up().stand(1.0)
    return _timeline_piece(tl, rate_hz, "sit", f"sit {seated:.0f} s")


def still_stretch(u: np.ndarray, rate_hz: float, rng: np.random.Generator) -> Piece:
    """Standing still for 5-20 s (postural sway only): no steps."""
    tl = Timeline(int(rng.integers(0, 2**31)), clip=clip_for(u, rng))
    duration = float(rng.uniform(5.0, 20.0))
    tl.stand(duration)
    return _timeline_piece(tl, rate_hz, "still", f"stand still {duration:.0f} s")


def pause(g_from: np.ndarray, g_to: np.ndarray, duration: float, rate_hz: float,
          rng: np.random.Generator) -> Piece:
    """Standing between two pieces: gravity moves from g_from to g_to over a smooth 0.2-0.4 s
    cross-fade (0.5-1 s when the direction changes, the wearer re-seating the clip)."""
    t = _grid(duration, rate_hz)
    turned = np.degrees(np.arccos(np.clip(np.dot(unit(g_from), unit(g_to)), -1, 1))) > 1.0
    fade = float(rng.uniform(0.5, 1.0) if turned else rng.uniform(0.2, 0.4))
    fade = min(fade, 0.7 * duration)
    t0 = float(rng.uniform(0.1 * duration, duration - fade - 0.1 * duration))
    c = smoothstep((t - t0) / fade)
    mag = (1 - c) * np.linalg.norm(g_from) + c * np.linalg.norm(g_to)
    g = slerp_dir(g_from, g_to, c) * mag[:, None]
    sway = body_sway(t, rng, 0.03, 0.01)
    edge = np.clip(np.minimum(t, t[-1] - t) / 0.2, 0.0, 1.0)  # sway fades in/out at the ends
    acc = g + sway * edge[:, None] + rng.normal(0.0, NOISE_RMS, (t.size, 3))
    return Piece(t, acc, np.empty(0), g[0], g[-1], "pause", f"{duration:.1f} s")


# ---------------------------------------------------------------------------------------------
# A day
# ---------------------------------------------------------------------------------------------


def make_day(seed: int, sources: Sequence[Source], minutes: float = 15.0, rate_hz: float = 50.0
             ) -> Day:
    """A day of at least `minutes` at `rate_hz`, the same arrays for the same seed and sources."""
    if not sources:
        raise ValueError("no real walks to splice (tests/data/real missing?)")
    if not 25.0 <= rate_hz <= 400.0:
        raise ValueError(f"rate_hz must be 25..400, got {rate_hz}")
    rng = np.random.default_rng(seed)
    u = unit(rng.normal(size=3))
    pieces: list[Piece] = []
    total = 0.0
    while total < minutes * 60.0:
        r = rng.random()
        if pieces and r < 0.10:
            piece = sit_episode(u, rate_hz, rng)
        elif pieces and r < 0.16:
            piece = still_stretch(u, rate_hz, rng)
        else:
            if pieces and rng.random() < 0.1:  # the wearer re-seats the clip during the pause
                u = unit(u + rng.normal(0.0, 0.4, 3))
            n = draw_bout_length(rng)
            piece = None
            if rng.random() >= SYNTHETIC_SHARE:
                piece = real_bout(sources[int(rng.integers(len(sources)))], n, u, rate_hz, rng)
            if piece is None:
                piece = synthetic_bout(n, u, rate_hz, rng)
        if pieces:
            gap = pause(pieces[-1].g_end, piece.g_start, float(rng.uniform(0.5, 5.0)), rate_hz,
                        rng)
            pieces.append(gap)
            total += gap.t[-1] + 1.0 / rate_hz
        pieces.append(piece)
        total += piece.t[-1] + 1.0 / rate_hz
    lead = pause(pieces[0].g_start, pieces[0].g_start, 2.0, rate_hz, rng)
    tail = pause(pieces[-1].g_end, pieces[-1].g_end, 2.0, rate_hz, rng)
    return _join([lead, *pieces, tail], rate_hz, seed, minutes, [s.name for s in sources])


def _join(pieces: Sequence[Piece], rate_hz: float, seed: int, minutes: float,
          source_names: Sequence[str]) -> Day:
    ts, accs, steps, lens, ids, segments = [], [], [], [], [], []
    offset, bout = 0.0, 0
    for p in pieces:
        ts.append(p.t + offset)
        accs.append(p.acc)
        if p.steps.size:
            steps.append(p.steps + offset)
            lens.append(np.full(p.steps.size, p.steps.size))
            ids.append(np.full(p.steps.size, bout))
            bout += 1
        segments.append(Segment(p.kind, offset, offset + float(p.t[-1]), p.note))
        offset += float(p.t[-1]) + 1.0 / rate_hz
    t = np.concatenate(ts)
    meta = {"generator": "tests/bench/daylife_splice.py", "seed": str(seed),
            "rate_hz": f"{rate_hz:g}", "minutes": f"{minutes:g}",
            "sources": " ".join(source_names) + " (Oxford step counter data, CC BY 4.0)",
            "steps": str(sum(s.size for s in steps)), "bouts": str(bout)}
    return Day(Trace(t=t, acc=np.concatenate(accs), meta=meta, path=f"daylife seed {seed}"),
               np.concatenate(steps), np.concatenate(lens), np.concatenate(ids), segments)


# The benchmark's days: (seed, minutes, rate_hz); four days, 60 min, ~3,000 true steps.
BENCH_DAYS = ((1, 15.0, 50.0), (2, 15.0, 100.0), (3, 15.0, 50.0), (4, 15.0, 100.0))


def bench_days(sources: Sequence[Source]) -> list[Day]:
    return [make_day(seed, sources, minutes, rate) for seed, minutes, rate in BENCH_DAYS]
