"""Seconds and bytes to sync a week and 90 days of minute rows over the pty bridge.

Run: .venv/bin/python tests/bench/bench_sync.py [--pages 500,1000]
Target: one week (10,080 rows) in under a second. The time covers STATUS, SET_CLOCK, every PULL
page, the host's transaction per page and every ACK, with real pyserial on both ends, inside the
encrypted session (every frame after login sealed with ChaCha20-Poly1305, device/sync/channel.py).
Each case is run --repeat times and the fastest run is shown (the machine may be busy).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hostsync.db import HostDB
from hostsync.link import DeviceLink, HostSession
from hostsync.pull import sync_device
from tests.sync_harness import DEVICE_ID, make_rows, start_device

CASES = (("1 week", 7 * 1440), ("90 days", 90 * 1440))


def bench(rows: int, page: int, repeat: int = 1) -> tuple[float, int, int, int]:
    """The fastest of ``repeat`` runs."""
    return min((bench_once(rows, page) for _ in range(repeat)), key=lambda r: r[0])


def bench_once(rows: int, page: int) -> tuple[float, int, int, int]:
    """(seconds, bytes device->host, bytes host->device, pages) for one full sync."""
    with tempfile.TemporaryDirectory() as tmp:
        dev = start_device(Path(tmp))
        try:
            dev.store.add_minutes(make_rows(rows, trusted=False))
            session = HostSession(DeviceLink.open(dev.bridge.host_path, timeout=10))
            session.hello()
            pending = session.pair_begin()
            secret = session.pair_confirm(pending, dev.wait_code())
            session.authenticate(secret)
            assert session.link.channel is not None, "the session must be encrypted"
            db = HostDB(Path(tmp) / "host.sqlite3")
            db.save_pairing(DEVICE_ID, secret)
            up0, down0 = dev.bridge.to_host, dev.bridge.to_device
            t0 = time.perf_counter()
            summary = sync_device(session, db, timezone="Europe/London", page_size=page)
            seconds = time.perf_counter() - t0
            assert db.row_count(DEVICE_ID) == rows == summary.new_rows
            assert dev.store.acknowledged_seq() == rows
            session.link.close()
            db.close()
            return (seconds, dev.bridge.to_host - up0, dev.bridge.to_device - down0,
                    summary.pages)
        finally:
            dev.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", default="500,2000", help="page sizes to try (rows per PULL)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per case; the fastest is shown")
    args = ap.parse_args()
    print(f"{'data':<9}{'rows':>8}{'page':>6}{'pages':>7}{'seconds':>9}{'rows/s':>9}"
          f"{'dev->host':>12}{'host->dev':>11}{'B/row':>7}")
    for name, rows in CASES:
        for page in (int(p) for p in args.pages.split(",")):
            s, up, down, pages = bench(rows, page, args.repeat)
            print(f"{name:<9}{rows:>8}{page:>6}{pages:>7}{s:>9.3f}{rows / s:>9.0f}"
                  f"{up:>12,}{down:>11,}{up / rows:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
