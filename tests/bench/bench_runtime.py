"""Device budget benchmark: CPU seconds per simulated day and peak memory of the firmware loop.

    .venv/bin/python tests/bench/bench_runtime.py [--hours 24] [--rate 104]

Runs `device.app.run_device` (what `pedometer run --simulate` runs) at full speed in a fresh
child process: the real step pipeline, the SQLite store (one commit per minute), progress, and
the screens rendered through luma.core into its dummy device. The IMU is a day of generated
hip data streamed one second at a time (tests/bench/daylife.py), so no trace file or whole-day
array inflates memory; the CPU spent generating it is measured and subtracted.
Budgets (DESIGN.md, Pi Zero 2 W): pipeline <= 2 % of one core, resident memory <= 80 MB.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


class DaySource:
    """ImuSource over tests/bench/daylife.py; counts the CPU it spends generating."""

    def __init__(self, hours: float, rate: float) -> None:
        from tests.bench.daylife import day_chunks

        self._chunks = day_chunks(rate, seconds=int(hours * 3600))
        self.generate_cpu = 0.0

    def read(self):
        from device.sources import ImuBatch

        c0 = time.process_time()
        try:
            t, acc = next(self._chunks)
        except StopIteration:
            return None
        finally:
            self.generate_cpu += time.process_time() - c0
        return ImuBatch(t=t, acc=acc)

    def close(self) -> None:
        pass


def child(hours: float, rate: float) -> None:
    from device.app import RunOptions, run_device

    with tempfile.TemporaryDirectory() as tmp:
        source = DaySource(hours, rate)
        summary: list[str] = []
        c0, w0 = time.process_time(), time.perf_counter()
        run_device(RunOptions(data_dir=Path(tmp), source=source, speed=0, display="dummy",
                              start_utc=1_772_409_600.0, summary=summary.append))
        cpu = time.process_time() - c0 - source.generate_cpu
        wall = time.perf_counter() - w0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"cpu_s": cpu, "wall_s": wall, "rss_mb": rss_mb,
                          "generate_cpu_s": source.generate_cpu, "summary": summary}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--rate", type=float, default=104.0)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.hours, args.rate)
        return
    out = subprocess.run([sys.executable, __file__, "--child", "--hours", str(args.hours),
                          "--rate", str(args.rate)], capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    per_day = r["cpu_s"] * 24 / args.hours
    share = 100 * per_day / 86400
    print("| simulated | IMU rate | CPU per simulated day | share of one core here | "
          "peak RSS (whole process) |")
    print("|---|---|---|---|---|")
    print(f"| {args.hours:g} h | {args.rate:g} Hz | {per_day:.1f} s | {share:.3f} % | "
          f"{r['rss_mb']:.0f} MB |")
    print(f"\n(data generation {r['generate_cpu_s']:.1f} s CPU excluded; wall {r['wall_s']:.1f} s)")
    print("\n".join(r["summary"]))


if __name__ == "__main__":
    main()
