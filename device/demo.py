"""`pedometer demo`: the whole product on one computer, in well under a minute.

A simulated wearer follows a progressive walking plan for four weeks (the last three and this one,
up to now): a few steady walks a week, some weeks enough for the goal and some not, and short
slow pottering about every day. The walks are a real recording (played back-to-back; slowed down
for pottering) fed through the device's own firmware loop at full speed. Now and then the wearer
presses the button: the demo records every frame the display controller sends and writes them as
`screens.gif` (every screen, walk mode included). Then, over a virtual USB cable made of two
pseudo-terminals, the caregiver's real `hostsync` command pairs with the device (typing the code
its screen shows), pulls the data and writes the weekly report.

Clock and days. The simulated device's clock is the host's own clock: the four weeks are played
in the past, ending a few minutes ago, and once the walks are done the device's clock runs on in
real time until the caregiver has finished, so the host's time at sync agrees with the device's to
a second and re-timing the minutes moves none of them. The wearer's time zone (this computer's)
was set at handout with the name and the plan: the demo writes that setup into the new device's
store, as a first visit would have. So every walk is on the same day on the device's screens as in
the report; `device-screens.json` lists what the device's screens showed, for the tests.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import queue
import shlex
import subprocess
import sys
import threading
import time
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from device.app import RunOptions, run_device
from device.battery import SimulatedBattery
from device.config import PlanWeek, WearerConfig
from device.sources import ImuBatch
from device.store import Store
from device.sync.virtual_cable import PtyBridge
from device.trace import read_trace

DEMO_TRACE = Path(__file__).parent / "demo_data" / "walk_backpocket.csv.gz"
WEARER = "Sam (demo)"
WEEKS = 4
GOALS = (60, 75, 90, 105, 120, 130)  # brisk minutes a week, from the first demo week on
#: Steady walks, per demo week: (weekday 0 = Monday, local hour, minutes of walking).
#: Week 1 meets its goal (60), week 2 does not (75), week 3 does (90), week 4 is this week.
STEADY_WALKS: tuple[tuple[tuple[int, float, int], ...], ...] = (
    ((0, 9.5, 18), (2, 17.0, 16), (4, 10.0, 19), (6, 11.0, 17)),
    ((1, 9.0, 15), (3, 18.0, 14), (5, 10.5, 17)),
    ((0, 9.0, 20), (1, 17.5, 18), (3, 9.5, 22), (5, 10.0, 20), (6, 15.0, 24)),
    ((0, 9.5, 22), (1, 18.0, 20), (2, 8.5, 16), (3, 10.0, 25), (4, 11.0, 20), (5, 10.0, 26),
     (6, 10.5, 24)),
)
#: Pottering about every day: (local hour, seconds) of slow stepping (about 68 steps a minute).
POTTERING = ((7.75, 90.0), (8.5, 100.0), (11.0, 60.0), (12.5, 100.0), (14.0, 80.0),
             (16.25, 100.0), (18.75, 90.0), (19.75, 70.0))
POTTER_SPEED = 0.6  # the recording slowed down: a shuffle about the house
SAMPLE_STEP = 4  # every 4th sample of the 211 Hz recording: about 53 Hz (the sampler makes 50)
TOUR_HOUR = 20.5  # the wearer looks at the screens on Sunday evening
PRESS_EVERY_S = 4.0
IDLE_TIMEOUT_S = 20.0
REST_BATCH_S = 0.25  # batch length once the clock runs in real time (presses react quickly)
BEHIND_S = 0.5  # the device's clock trails the host's by this much (never ahead of it)


@dataclass(frozen=True)
class Tour:
    """Button presses at one moment: `presses` short presses PRESS_EVERY_S apart."""

    at_s: float  # seconds from the simulation's start
    presses: int
    during_walk: bool = False


def _recording() -> tuple[np.ndarray, np.ndarray, float]:
    trace = read_trace(DEMO_TRACE)
    t = (trace.t - trace.t[0])[::SAMPLE_STEP]
    acc = trace.acc[::SAMPLE_STEP]
    length = float(t[-1]) + float(np.median(np.diff(t)))
    return t, acc, length


def _rest(t0: float, seconds: float, rate_hz: float = 25.0) -> tuple[np.ndarray, np.ndarray]:
    t = t0 + np.arange(0.0, seconds, 1.0 / rate_hz)
    rng = np.random.default_rng(int(t0) % (2**31))
    acc = np.tile([0.3, 0.2, 9.78], (t.size, 1)) + rng.normal(0, 0.02, (t.size, 3))
    return t, acc


def plan_weeks(first_monday: dt.date, weeks: int = WEEKS) -> tuple[PlanWeek, ...]:
    """The caregiver's plan: GOALS from the first demo week on."""
    return tuple(PlanWeek(first_monday + dt.timedelta(days=7 * k), g) for k, g in enumerate(GOALS))


def build_weeks(
    start_utc: float, tz: dt.tzinfo, end_utc: float, days: int, first_monday: dt.date
) -> tuple[np.ndarray, np.ndarray, list[Tour]]:
    """The wearer's samples (t from start_utc, acc) and the button presses, for `days` days from
    the local midnight start_utc, leaving out anything at or after end_utc. Week k of
    STEADY_WALKS starts k weeks after first_monday."""
    t_rec, acc_rec, length = _recording()
    first_day = dt.datetime.fromtimestamp(start_utc, tz).date()
    parts_t: list[np.ndarray] = []
    parts_a: list[np.ndarray] = []
    tours: list[Tour] = []

    def at(day: dt.date, hour: float) -> float:
        local = dt.datetime.combine(day, dt.time(0), tzinfo=tz) + dt.timedelta(hours=hour)
        return local.timestamp() - start_utc

    def add(t: np.ndarray, acc: np.ndarray) -> None:
        if t.size and start_utc + t[-1] < end_utc:
            parts_t.append(t)
            parts_a.append(acc)

    walk_tour_done = full_tour_done = False
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        week = min(max(0, (day - first_monday).days // 7), len(STEADY_WALKS) - 1)
        for hour, seconds in POTTERING:
            n = int(np.searchsorted(t_rec, seconds * POTTER_SPEED))
            add(at(day, hour) + t_rec[:n] / POTTER_SPEED, acc_rec[:n])
        for weekday, hour, minutes in STEADY_WALKS[week]:
            if weekday != day.weekday():
                continue
            t0 = at(day, hour)
            for k in range(math.ceil(minutes * 60 / length)):
                add(t0 + k * length + t_rec, acc_rec)
            if week == 2 and not walk_tour_done and start_utc + t0 + 600 < end_utc:
                tours.append(Tour(t0 + 150.0, 2, during_walk=True))  # walk mode, then home
                walk_tour_done = True
        if day.weekday() == 6:
            t0 = at(day, TOUR_HOUR)
            presses = 2 if full_tour_done else 7  # the first Sunday: every screen; then 2
            seconds = presses * PRESS_EVERY_S + IDLE_TIMEOUT_S + 10
            if start_utc + t0 + seconds < end_utc:
                add(*_rest(t0, seconds))
                tours.append(Tour(t0 + 2.0, presses))
                full_tour_done = True
    order = np.argsort([p[0] for p in parts_t], kind="stable")
    t = np.concatenate([parts_t[i] for i in order]) if parts_t else np.zeros(0)
    acc = np.concatenate([parts_a[i] for i in order]) if parts_a else np.zeros((0, 3))
    return t, acc, sorted(tours, key=lambda x: x.at_s)


class DemoWearer:
    """The IMU source of the demo: the planned weeks in 1-s batches (pressing the button on
    schedule), then, once they are done, rest in real time until stopped."""

    def __init__(self, start_utc: float, t: np.ndarray, acc: np.ndarray, tours: list[Tour]):
        self.start_utc = start_utc
        self.t, self.acc = t, acc
        self.presses = [
            tour.at_s + k * PRESS_EVERY_S for tour in tours for k in range(tour.presses)
        ]
        self.presses.sort()
        self.controller: Any = None
        self.now = 0.0
        self.walked = threading.Event()
        self.stop = threading.Event()
        self._i = 0

    def read(self) -> ImuBatch | None:
        if self._i < self.t.size:
            end = int(np.searchsorted(self.t, self.t[self._i] + 1.0, side="left"))
            end = max(end, self._i + 1)
            t, acc = self.t[self._i:end], self.acc[self._i:end]
            self._i = end
        else:
            self.walked.set()  # the weeks are done: from now on the device lives in real time
            if self.stop.is_set():
                return None
            due = time.time() - self.start_utc - BEHIND_S
            t0 = max(self.now + 0.04, due - REST_BATCH_S)
            wait = t0 + REST_BATCH_S - due
            if wait > 0:
                time.sleep(wait)
            t, acc = _rest(t0, REST_BATCH_S)
        self.now = float(t[-1])
        while self.presses and self.presses[0] <= self.now:
            self.presses.pop(0)
            if self.controller is not None:
                self.controller.short_press()
        return ImuBatch(t=t, acc=acc)

    def close(self) -> None:
        self.stop.set()


def _hostsync_cmd(args: list[str], db: Path, port: str) -> list[str]:
    return ["hostsync", "--port", port, "--db", str(db), *args]


def _hostsync(args: list[str], db: Path, port: str, **kw: Any) -> subprocess.CompletedProcess:
    shown = _hostsync_cmd(args, db, port)
    print(f"\n$ {shlex.join(shown)}", flush=True)
    return subprocess.run([sys.executable, "-m", "hostsync.cli", *shown[1:]], text=True, **kw)


def host_zone() -> str:
    """This computer's time zone, as hostsync will tell the device at sync."""
    from hostsync.pull import local_timezone

    return local_timezone()


def run_demo(out_dir: Path, days: int | None = None) -> int:
    """Simulate, pair, pull, report. Returns 0 when every step worked.

    days: simulate only the last `days` days of the four weeks (a quick run); None: all."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = out_dir / "device"
    host_db = out_dir / "host.sqlite3"
    report_dir = out_dir / "report"
    gif = out_dir / "screens.gif"
    zone_name = host_zone()
    tz = zoneinfo.ZoneInfo(zone_name)
    now = time.time()
    today = dt.datetime.fromtimestamp(now, tz).date()
    this_monday = today - dt.timedelta(days=today.weekday())
    first_monday = this_monday - dt.timedelta(days=7 * (WEEKS - 1))
    all_days = (today - first_monday).days + 1
    days = all_days if days is None else max(1, min(days, all_days))
    first_day = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first_day, dt.time(0), tzinfo=tz).timestamp()
    t, acc, tours = build_weeks(start, tz, now - 120.0, days, first_monday)
    plan = plan_weeks(first_monday)
    with Store.in_dir(data_dir) as store:  # the handout visit: name, time zone and plan
        store.set_config(WearerConfig(wearer_label=WEARER, timezone=zone_name, plan=plan))
    print(f"Simulating a wearer for {days} day(s) up to now ({zone_name}): steady walks and "
          f"pottering from a real recording ({len(t):,} samples), device data in {data_dir}",
          flush=True)

    cable = PtyBridge(out_dir)
    codes: queue.Queue[str] = queue.Queue()
    linger = threading.Event()
    summary: list[str] = []
    wearer = DemoWearer(start, t, acc, tours)
    frames: list[tuple[float, str, Any]] = []
    controller: list[Any] = []

    def on_display(display: Any) -> None:
        display.idle_timeout_s = IDLE_TIMEOUT_S  # asleep between presses, as on the hip
        display.frame_log = frames
        wearer.controller = display
        controller.append(display)

    opts = RunOptions(
        data_dir=data_dir, source=wearer, speed=0, display="dummy",
        serial_port=cable.device_path, start_utc=start, linger=linger,
        summary=summary.append, on_display=on_display,
        battery=SimulatedBattery(lambda: start + wearer.now, tz),
        on_pairing_code=lambda code: codes.put(code) if code else None,
    )
    device = threading.Thread(target=run_device, args=(opts,), name="device", daemon=True)
    t0 = time.monotonic()
    device.start()
    ok = False
    try:
        if wearer.walked.wait(timeout=300):  # the weeks are walked; now the caregiver plugs in
            print(f"The simulated {days} days took {time.monotonic() - t0:.1f} s.", flush=True)
            ok = _caregiver(cable.host_path, host_db, report_dir, codes)
            if controller:  # after the visit: the wearer looks at the screens once more
                _press(controller[0], 5)  # week (clock set), days, today, plan, status
    finally:
        wearer.stop.set()
        linger.set()
        device.join(timeout=60)
        cable.close()
    _write_gif(frames, gif)
    _write_screens_seen(frames, out_dir / "device-screens.json")
    print("\n" + "\n".join(summary))
    print(f"\nScreens as the wearer saw them ({len(frames)} frames): {gif}")
    print(f"Weekly report: {report_dir}  (done in {time.monotonic() - t0:.1f} s)")
    return 0 if ok else 1


def _press(controller: Any, times: int) -> None:
    """Short presses, each once the display has shown the one before (however busy the
    computer, no press lands in the same display tick as the last)."""
    for _ in range(times):
        before = (controller.awake, controller.screen, controller.frames_sent)
        controller.short_press()
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and before == (
            controller.awake, controller.screen, controller.frames_sent
        ):
            time.sleep(0.05)
        time.sleep(0.3)


def _caregiver(port: str, db: Path, report_dir: Path, codes: queue.Queue[str]) -> bool:
    """What a caregiver does at the laptop, with the real hostsync command."""
    env = {**os.environ}
    shown = _hostsync_cmd(["pair"], db, port)
    pair = subprocess.Popen([sys.executable, "-m", "hostsync.cli", *shown[1:]],
                            stdin=subprocess.PIPE, text=True, env=env)
    print(f"\n$ {shlex.join(shown)}", flush=True)
    try:
        code = codes.get(timeout=30)
    except queue.Empty:
        pair.kill()
        print("demo: the device never showed a pairing code", file=sys.stderr)
        return False
    print(f"(the caregiver reads {code} on the device's screen and types it)", flush=True)
    assert pair.stdin is not None
    pair.stdin.write(code + "\n")
    pair.stdin.flush()
    if pair.wait(timeout=60) != 0:
        return False
    steps = (["pull"], ["status"], ["plan", "show"], ["report", "--out", str(report_dir)])
    return all(_hostsync(args, db, port, env=env, timeout=120).returncode == 0 for args in steps)


def _write_gif(frames: list[tuple[float, str, Any]], path: Path) -> None:
    """The frames the device's display controller sent, as an animated GIF (2x, 1-bit)."""
    from PIL import Image

    from device.display.screens import preview

    if not frames:
        return
    images, durations = [], []
    for _now, screen, view in frames:
        image = preview(view).convert("L").resize((256, 128), Image.Resampling.NEAREST)
        images.append(image.convert("P"))
        durations.append(700 if screen == "walk" else 1600)
    try:
        images[0].save(path, save_all=True, append_images=images[1:], duration=durations,
                       loop=0, optimize=True)
    except OSError as exc:
        print(f"demo: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)


def _write_screens_seen(frames: list[tuple[float, str, Any]], path: Path) -> None:
    """What the device showed, for the tests: the screens in frame order, and
    {date: [brisk minutes, steps]} as its 7-day screen last showed each day."""
    seen: dict[str, list[int]] = {}
    for _now, screen, view in frames:
        if screen != "days":
            continue
        for day, (_label, minutes, steps) in zip(view.dates, view.rows, strict=True):
            if day is not None:
                seen[day.isoformat()] = [minutes, steps]
    record = {"screens": [screen for _now, screen, _view in frames],
              "days": dict(sorted(seen.items()))}
    try:
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        print(f"demo: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
