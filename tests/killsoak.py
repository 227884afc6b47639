"""Kill the simulated device with SIGKILL at random moments and check what survives.

Shared by tests/test_runtime.py (50 kills) and tests/bench/soak_kill.py (1,000 kills).
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.trace import write_trace
from tests.test_detector import walk

REPO = Path(__file__).resolve().parents[1]


def write_long_trace(path: Path) -> None:
    """About 20 minutes of walking at 100 Hz, bouts at 100-133 steps/min."""
    parts_t, parts_a = [], []
    offset = 0.0
    for i in range(12):
        t, acc, _ = walk(160, 100 + 3 * i, rate_hz=100.0, seed=i)
        parts_t.append(t + offset)
        parts_a.append(acc)
        offset += t[-1] + 0.01
    write_trace(path, np.concatenate(parts_t), np.concatenate(parts_a))


def committed_rows(db_path: Path) -> dict[int, tuple]:
    """seq -> (start_utc, steps) of every committed minute; asserts the file is intact."""
    if not db_path.exists():
        return {}
    with sqlite3.connect(db_path) as db:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise AssertionError(f"integrity_check: {check}")
        try:
            return {r[0]: r[1:] for r in db.execute("SELECT seq, start_utc, steps FROM minutes")}
        except sqlite3.OperationalError:  # killed before the schema was created
            return {}


@dataclass
class SoakResult:
    kills: int
    rows: int
    lost: list[str]
    final_ok: bool
    seconds: float


def soak(workdir: Path, kills: int, seed: int = 7, log=None) -> SoakResult:
    """Run, SIGKILL after a random delay, check every committed row survived; repeat."""
    trace = workdir / "long.csv.gz"
    if not trace.exists():
        write_long_trace(trace)
    data = workdir / "data"
    db_path = data / "walkcoach.sqlite3"
    cmd = [sys.executable, "-m", "device.cli", "run", "--simulate", str(trace), "--speed", "600",
           "--data-dir", str(data), "--display", "none", "--start", "2026-03-02T08:00:00+00:00"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(seed)
    seen: dict[int, tuple] = {}
    lost: list[str] = []
    t0 = time.monotonic()
    for kill in range(1, kills + 1):
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.0))  # start-up ~0.3 s, then 10 simulated minutes a second
        proc.kill()
        proc.wait()
        now = committed_rows(db_path)
        lost += [f"kill {kill}: seq {s}" for s, row in seen.items() if now.get(s) != row]
        seen = now
        if log and kill % 50 == 0:
            log(f"{kill} kills, {len(seen)} rows, {len(lost)} lost")
    done = subprocess.run([*cmd[:7], "0", *cmd[8:]], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)
    final = committed_rows(db_path)
    final_ok = (done.returncode == 0 and set(seen) <= set(final)
                and (max(final) > max(seen) if seen else bool(final)))
    return SoakResult(kills, len(final), lost, final_ok, time.monotonic() - t0)
