"""Two processes on one store, then kill -9: no committed minute lost, no seq reused.

The bug this guards against (SQLite's "How To Corrupt An SQLite Database File", section 2.2):
if a process holding a connection also open()s and close()s the database file by hand, the
close drops every POSIX lock the process holds on it. Another process that then opens and
closes the database believes it is the last user, checkpoints and deletes the live -wal; the
first process goes on committing into an unlinked file, and a power cut loses those minutes
and hands their seqs out again. The device holds two connections in one process (the firmware
loop's and the sync agent's), so a second Store in the same process must never touch the file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from device.store import STORE_FILENAME, MinuteRow, Store

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

# The device's pattern: the firmware loop's Store commits minutes; the sync agent opens its own
# Store on the same file a moment later (here: again and again, as after a USB reconnect).
DEVICE = r"""
import sys, time
from pathlib import Path
from device.store import MinuteRow, Store
path = Path(sys.argv[1])
loop_store = Store(path)
agent_store = Store(path)
print("ready", flush=True)
i = 0
while True:
    rows = [MinuteRow(start_utc=1772409600 + 60 * (i + k), steps=100 + k, cadence_spm=100.0,
                      moderate=True, chip_steps=None, clock_trusted=False, boot_id=sys.argv[2],
                      mono_start=float(i + k)) for k in range(2)]
    seqs = loop_store.add_minutes(rows)
    print(" ".join(f"{s}:{r.start_utc}" for s, r in zip(seqs, rows)), flush=True)
    i += 2
    if i % 20 == 0:
        agent_store.close()
        agent_store = Store(path)
    time.sleep(0.002)
"""

# Another program opening and closing the same store (a caregiver's `pedometer screens
# --data-dir`, a backup script...), as fast as it can.
VISITOR = r"""
import sys
from pathlib import Path
from device.store import Store
for _ in range(int(sys.argv[2])):
    with Store(Path(sys.argv[1])) as s:
        s.minute_count()
print("done", flush=True)
"""


def _deleted_files_held(pid: int, path: Path) -> list[str]:
    """Files of the store that process `pid` still holds open although they were unlinked."""
    held = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)) and target.endswith("(deleted)"):
            held.append(target)
    return held


def _stored(path: Path) -> dict[int, int]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = dict(db.execute("SELECT seq, start_utc FROM minutes"))
    db.close()
    return rows


def _parse(out: bytes) -> dict[int, int]:
    committed = {}
    for line in out.decode().splitlines():
        if line == "ready":
            continue
        for pair in line.split():
            seq, start = pair.split(":")
            committed[int(seq)] = int(start)
    return committed


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see unlinked files")
def test_a_visitor_process_never_deletes_the_live_wal_and_kill_9_loses_nothing(tmp_path):
    path = tmp_path / STORE_FILENAME
    device_py, visitor_py = tmp_path / "device_sim.py", tmp_path / "visitor.py"
    device_py.write_text(DEVICE)
    visitor_py.write_text(VISITOR)
    committed: dict[int, int] = {}
    for boot in range(3):
        dev = subprocess.Popen([sys.executable, str(device_py), str(path), f"boot-{boot}"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        assert dev.stdout.readline() == b"ready\n", dev.stderr.read().decode()
        visitor = subprocess.run([sys.executable, str(visitor_py), str(path), "40"],
                                 capture_output=True, env=ENV, timeout=60)
        assert visitor.stdout == b"done\n", visitor.stderr.decode()
        time.sleep(0.2)  # the device commits more minutes after the visitor has gone
        unlinked = _deleted_files_held(dev.pid, path)
        dev.kill()
        out = dev.stdout.read()
        dev.wait()
        dev.stderr.close()
        dev.stdout.close()
        assert unlinked == [], f"the device writes to unlinked files: {unlinked}"
        new = _parse(out)
        assert new, "the device committed nothing"
        reused = sorted(set(new) & set(committed))
        assert reused == [], f"seqs handed out twice: {reused[:5]}"
        committed.update(new)
        stored = _stored(path)
        lost = sorted(s for s in committed if stored.get(s) != committed[s])
        assert lost == [], f"{len(lost)} committed minutes lost after kill -9: {lost[:5]}"
    with Store(path) as s:
        assert s.integrity_ok()
        assert s.last_seq() >= max(committed)  # a batch may commit just before its print


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see unlinked files")
def test_pedometer_screens_beside_the_running_device_keeps_its_wal(tmp_path):
    """The issue's reproduction: the real `pedometer run` (with its sync agent on a pty, so two
    connections in one process) and `pedometer screens --data-dir` on its folder, then kill -9."""
    from tests.killsoak import write_long_trace

    trace = tmp_path / "long.csv.gz"
    write_long_trace(trace)
    data = tmp_path / "data"
    master, slave = os.openpty()
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "device.cli", "run", "--simulate", str(trace), "--speed", "30",
             "--data-dir", str(data), "--display", "none", "--serial", os.ttyname(slave),
             "--start", "2026-03-02T08:00:00+00:00"],
            cwd=REPO, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        db = data / STORE_FILENAME
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not db.exists():
            time.sleep(0.05)
        for _ in range(3):
            screens = subprocess.run(
                [sys.executable, "-m", "device.cli", "screens", "--data-dir", str(data),
                 "--out", str(tmp_path / "png")], cwd=REPO, env=ENV, capture_output=True,
                timeout=120)
            assert screens.returncode == 0, screens.stderr.decode()
            time.sleep(2.0)  # a minute every 2 s at --speed 30 (the trace lasts 38 s)
        assert run.poll() is None, run.stderr.read().decode()[-2000:]
        unlinked = _deleted_files_held(run.pid, db)
        seen = _stored(db)  # what any other program can see of the device's commits
        run.kill()
        run.wait()
        run.stderr.close()
    finally:
        os.close(master)
        os.close(slave)
    assert unlinked == [], f"the device writes to unlinked files: {unlinked}"
    after = _stored(db)
    assert len(seen) >= 2, "the device's commits were invisible to other programs"
    assert all(after.get(s) == t for s, t in seen.items())
    with Store(db) as s:
        assert s.integrity_ok()
        next_seq = s.add_minutes([MinuteRow(start_utc=1772409600, steps=1, cadence_spm=1.0,
                                            moderate=False, chip_steps=None, clock_trusted=True,
                                            boot_id="after", mono_start=0.0)])[0]
    assert next_seq == max(after) + 1
