"""The firmware loop: store, clock, disk full, kill -9, SIGTERM, long simulated runs."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from device.clock import DeviceClock
from device.core.progress import week_progress
from device.runtime import DeviceRuntime, SimulatedClock, run_loop
from device.sources import ImuBatch, TraceSource
from device.store import Store
from device.trace import write_trace
from tests.killsoak import committed_rows, soak
from tests.test_detector import walk

REPO = Path(__file__).resolve().parents[1]
MONDAY = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC).timestamp()


class DailyWalker:
    """An IMU source for many days: one brisk and one slow walk a day, nothing in between.

    Between walks the device sends no samples (a gap), so weeks simulate in seconds.
    """

    def __init__(self, days: int, seed: int = 0) -> None:
        self.batches: list[tuple[np.ndarray, np.ndarray]] = []
        rng = np.random.default_rng(seed)
        for day in range(days):
            for hour, spm, n in ((8.0, 112, 400 + 40 * (day % 5)), (17.0, 85, 150)):
                t, acc, _ = walk(n, spm, rate_hz=26.0, seed=int(rng.integers(1 << 30)),
                                 amp=2.0 + (spm - 85) / 30)
                t = t + day * 86400 + hour * 3600
                for i in range(0, t.size, 26):
                    self.batches.append((t[i : i + 26], acc[i : i + 26]))
        self._i = 0

    def read(self) -> ImuBatch | None:
        if self._i >= len(self.batches):
            return None
        t, acc = self.batches[self._i]
        self._i += 1
        return ImuBatch(t=t, acc=acc)

    def close(self) -> None:
        pass


def _simulated(tmp_path: Path, start_utc: float = MONDAY, **store_kw) -> tuple:
    sim = SimulatedClock(start_utc)
    store = Store(tmp_path / "walkcoach.sqlite3", **store_kw)
    clock = DeviceClock(store, monotonic=sim.monotonic, wall=sim.wall, boot_id="boot-1")
    clock.set_time(start_utc, "Europe/London")  # a host synced before the wearer set off
    return sim, store, clock


def _drive(runtime: DeviceRuntime, sim: SimulatedClock, source) -> None:
    def on_batch(batch: ImuBatch) -> None:
        sim.now = float(batch.t[-1])

    run_loop(runtime, source, should_stop=lambda: False, on_batch=on_batch)


def test_eight_weeks_weekly_totals_equal_the_minute_rows(tmp_path: Path) -> None:
    sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock)
    _drive(runtime, sim, DailyWalker(days=56))
    rows = store.minutes_after(0, limit=10**6)
    assert sum(r.steps for r in rows) == runtime.steps_total > 56 * 500
    assert len({r.seq for r in rows}) == len(rows)
    cfg = store.get_config()
    for week in range(8):
        week_end = MONDAY + (week + 1) * 7 * 86400 - 12 * 3600  # Sunday evening, local
        p = week_progress(rows, cfg, week_end, first_data_utc=store.first_data_utc())
        in_week = [r for r in rows
                   if p.week_start <= dt.datetime.fromtimestamp(r.start_utc, dt.UTC).date()
                   < p.week_start + dt.timedelta(days=7)]
        assert p.moderate_minutes == sum(r.moderate for r in in_week)
        assert sum(p.day_minutes) == p.moderate_minutes
        assert p.moderate_minutes >= 7 * 3  # a brisk 4+ minute walk every day
    assert store.integrity_ok()


def test_disk_full_keeps_counting_and_writes_each_minute_once_when_space_returns(
    tmp_path: Path,
) -> None:
    sim, store, clock = _simulated(tmp_path, max_page_count=12)
    runtime = DeviceRuntime(store, clock)
    source = DailyWalker(days=6)
    full_seen = False
    while (batch := source.read()) is not None:
        sim.now = float(batch.t[-1])
        runtime.process(batch)
        if runtime.storage_problem:
            full_seen = True
            assert runtime.status().storage_problem == "Storage full"
            assert runtime.status().pending_rows == runtime.pending_rows > 0
            break
    assert full_seen, "the page limit should have filled the store"
    for _ in range(200):  # counting goes on while full
        batch = source.read()
        sim.now = float(batch.t[-1])
        runtime.process(batch)
    assert runtime.pending_rows > 0 and store.integrity_ok()
    # Space returns (the card was cleaned): the same file, opened without the limit.
    store.close()
    runtime.store = Store(tmp_path / "walkcoach.sqlite3")
    runtime.clock.store = runtime.store
    while (batch := source.read()) is not None:
        sim.now = float(batch.t[-1])
        runtime.process(batch)
    runtime.flush()
    assert runtime.write_pending() and runtime.storage_problem is None
    rows = runtime.store.minutes_after(0, limit=10**6)
    starts = [r.start_utc for r in rows]
    assert len(starts) == len(set(starts)), "a buffered minute was written twice"
    assert sum(r.steps for r in rows) == runtime.steps_total
    assert starts == sorted(starts)


def test_host_setting_the_clock_re_anchors_untrusted_minutes(tmp_path: Path) -> None:
    sim = SimulatedClock(start_utc=dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp())  # a guess
    store = Store(tmp_path / "walkcoach.sqlite3")
    clock = DeviceClock(store, monotonic=sim.monotonic, wall=sim.wall, boot_id="b")
    runtime = DeviceRuntime(store, clock)
    t, acc, _ = walk(300, 110, rate_hz=50.0)
    source = TraceSource(t, acc)
    while (batch := source.read()) is not None:
        sim.now = float(batch.t[-1])
        runtime.process(batch)
        if sim.now > 120 and not clock.trusted():
            clock.set_time(MONDAY + sim.now, "UTC")  # the host's true time
    runtime.flush()
    rows = store.minutes_after(0, limit=1000)
    assert rows and all(r.clock_trusted for r in rows)
    assert all(MONDAY - 60 <= r.start_utc <= MONDAY + 600 for r in rows)
    assert sum(r.steps for r in rows) == runtime.steps_total


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_committed_minute(tmp_path: Path) -> None:
    result = soak(tmp_path, kills=50)
    assert result.rows > 0, "the simulated device never committed a minute"
    assert not result.lost, result.lost[:5]
    assert result.final_ok  # the restart carries on after the survivors


def test_sigterm_flushes_the_minute_in_progress(tmp_path: Path) -> None:
    trace = tmp_path / "walk.csv.gz"
    t, acc, _ = walk(400, 110, rate_hz=50.0)
    write_trace(trace, t, acc)
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "device.cli", "run", "--simulate", str(trace), "--speed", "20",
           "--data-dir", str(data), "--display", "none", "--start", "2026-03-02T08:00:30+00:00"]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 30
    while time.time() < deadline and not committed_rows(data / "walkcoach.sqlite3"):
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    rows = committed_rows(data / "walkcoach.sqlite3")
    summary_steps = int(out.split("steps counted")[1].split()[0])
    assert sum(r[1] for r in rows.values()) == summary_steps > 0
