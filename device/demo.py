"""`pedometer demo`: the whole product on one computer, in about half a minute.

A simulated wearer walks on several days of this week (a real recorded walk, played back through
the device's own pipeline); the simulated device stores the minutes and draws its screens (an
animated GIF); then, over a virtual USB cable made of two pseudo-terminals, the caregiver's real
`hostsync` command pairs with the device (typing the code the device's screen shows), pulls the
data, and writes the weekly report.
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from device.app import RunOptions, run_device
from device.sync.virtual_cable import PtyBridge
from device.trace import read_trace

DEMO_TRACE = Path(__file__).parent / "demo_data" / "walk_backpocket.csv.gz"
# Walks per day this week, each a number of back-to-back plays of the ~107 s recording.
WALK_PLAN = ((9.0, 6), (17.5, 3), (10.0, 0), (8.5, 9), (12.0, 4), (18.0, 5), (9.5, 7))


def week_of_walks(t: np.ndarray, acc: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """The recording played as the walks of the last `days` days, on one clock (gaps between)."""
    t = t - t[0]
    length = float(t[-1]) + float(np.median(np.diff(t)))
    parts_t, parts_a = [], []
    for day in range(days):
        hour, plays = WALK_PLAN[day % len(WALK_PLAN)]
        for k in range(plays):
            parts_t.append(t + day * 86400.0 + hour * 3600.0 + k * length)
            parts_a.append(acc)
    return np.concatenate(parts_t), np.concatenate(parts_a)


def _hostsync(args: list[str], db: Path, port: str, **kw) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "hostsync.cli", "--port", port, "--db", str(db), *args]
    print(f"\n$ hostsync {' '.join(args)}", flush=True)
    return subprocess.run(cmd, text=True, **kw)


def run_demo(out_dir: Path, days: int = 5) -> int:
    """Simulate, pair, pull, report. Returns 0 when every step worked."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = out_dir / "device"
    host_db = out_dir / "host.sqlite3"
    report_dir = out_dir / "report"
    gif = out_dir / "screens.gif"
    days = max(1, min(days, 7))
    trace = read_trace(DEMO_TRACE)
    t, acc = week_of_walks(trace.t, trace.acc, days)
    today_end = dt.datetime.now().astimezone()
    start = today_end.timestamp() - float(t[-1]) - 600.0
    print(f"Simulating a wearer: {days} day(s) of walks from a real recording "
          f"({len(t):,} samples), device data in {data_dir}", flush=True)

    cable = PtyBridge(out_dir)
    codes: queue.Queue[str] = queue.Queue()
    linger = threading.Event()
    walked = threading.Event()
    summary: list[str] = []
    opts = RunOptions(
        data_dir=data_dir, samples=(t, acc), speed=0, display="gif", gif_path=gif,
        serial_port=cable.device_path, start_utc=start, linger=linger, source_ended=walked,
        summary=summary.append,
        on_pairing_code=lambda code: codes.put(code) if code else None,
    )
    device = threading.Thread(target=run_device, args=(opts,), name="device", daemon=True)
    t0 = time.monotonic()
    device.start()
    ok = False
    try:
        if walked.wait(timeout=300):  # the week is walked; now the caregiver plugs in
            print(f"The simulated week took {time.monotonic() - t0:.1f} s.", flush=True)
            ok = _caregiver(cable.host_path, host_db, report_dir, codes)
    finally:
        linger.set()
        device.join(timeout=60)
        cable.close()
    print("\n" + "\n".join(summary))
    print(f"\nScreens as the wearer saw them: {gif}")
    print(f"Weekly report: {report_dir}  (done in {time.monotonic() - t0:.1f} s)")
    return 0 if ok else 1


def _caregiver(port: str, db: Path, report_dir: Path, codes: queue.Queue[str]) -> bool:
    """What a caregiver does at the laptop, with the real hostsync command."""
    env = {**os.environ}
    pair = subprocess.Popen(
        [sys.executable, "-m", "hostsync.cli", "--port", port, "--db", str(db), "pair"],
        stdin=subprocess.PIPE, text=True, env=env,
    )
    print("\n$ hostsync pair", flush=True)
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
    steps = (
        ["pull"],
        ["config", "set", "--label", "Sam (demo)", "--threshold", "100"],
        ["plan", "set", "--start", _monday().isoformat(), "--goals", "60,70,80,90,100,110,120,130"],
        ["report", "--out", str(report_dir)],
    )
    return all(_hostsync(args, db, port, env=env, timeout=120).returncode == 0 for args in steps)


def _monday() -> dt.date:
    today = dt.date.today()
    return today - dt.timedelta(days=today.weekday())
