"""Speed benchmark of the step pipeline (sampler + detector + aggregator), and of replay from disk.

    .venv/bin/python tests/bench/bench_speed.py [--hours 24] [--rate 100] [--long]

A day of 100 Hz hip data is generated one second at a time (tests/bench/daylife.py) and fed to
`StepPipeline` in the device's one-second batches; only the pipeline calls are timed. Prints the
seconds for the day, times real time, the cost of one 1-second chunk (mean, 99th percentile
and worst, microseconds; the pipeline runs its numpy work every 5 s of samples) and the
pipeline's peak Python memory (tracemalloc).
Budget (DESIGN.md / issue): 24 h in <= 3 s here, a chunk in <= 1 ms, memory bounded.

Then `pedometer replay` from a file on disk (issue 11): 1 h, 8 h and 24 h of the same 100 Hz day
written as CSV and .csv.gz (gzip level 1) to a temporary folder; each replay runs as its own
process (the command a developer types, start-up included) and the table gives its wall time,
the ratio to `pandas.read_csv` parsing the same file in this run (pandas: dev extra, used only
here), the replay process's peak RSS (its VmHWM), and how much of the replay is our reader
alone (TraceReader in this process; the rest is start-up and the pipeline). `--long` adds
10 M rows (CSV) and 7 days (gz): slow to generate (minutes), so not in the default run.
Budget: 8 h <= 3x the pandas parse (aim 1.5x) and <= 150 MB; 24 h and 10 M rows <= 150 MB.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from device.core.pipeline import StepPipeline  # noqa: E402
from device.trace import format_header, format_rows  # noqa: E402
from tests.bench.daylife import day_chunks  # noqa: E402


def run(hours: float, rate: float, chunk_s: int) -> dict[str, float]:
    pipe = StepPipeline()
    costs = []
    steps = minutes = 0
    for t, acc in day_chunks(rate, seconds=int(hours * 3600), chunk_s=chunk_s):
        t0 = time.perf_counter()
        out = pipe.feed(t, acc)
        costs.append(time.perf_counter() - t0)
        steps += out.step_times_s.size
        minutes += len(out.minutes)
    t0 = time.perf_counter()
    out = pipe.finish()
    costs.append(time.perf_counter() - t0)
    total = float(np.sum(costs))
    return {"seconds": total, "x_real_time": hours * 3600 / total,
            "chunk_us_mean": total / len(costs) * 1e6,
            "chunk_us_max": float(np.max(costs)) * 1e6,
            "chunk_us_p99": float(np.percentile(costs, 99)) * 1e6,
            "steps": steps + out.step_times_s.size, "minutes": minutes + len(out.minutes)}


def peak_memory(hours: float, rate: float) -> float:
    """Peak memory (MB) the pipeline adds over a stream, above the data generator's own plan.

    A warm-up run first, so one-time lazy imports inside numpy are not counted as the stream's.
    """
    warm = StepPipeline()
    for t, acc in day_chunks(rate, seed=5, seconds=1800):
        warm.feed(t, acc)
    warm.finish()
    tracemalloc.start()
    chunks = day_chunks(rate, seconds=int(hours * 3600))
    first = next(chunks)  # the generator allocates its day plan here; not the pipeline's
    pipe = StepPipeline()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    pipe.feed(*first)
    for t, acc in chunks:
        pipe.feed(t, acc)
    pipe.finish()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 1e6


def write_day_trace(path: Path, seconds: int, rate: float) -> int:
    """The benchmark day as a CSV trace; returns the rows written."""
    rows = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write(format_header({"source": "tests/bench/daylife.py"}, False))
        for t, acc in day_chunks(rate, seconds=seconds, chunk_s=60):
            f.write(format_rows(t, acc))
            rows += len(t)
    return rows


def gzip_file(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, gzip.open(dst, "wb", compresslevel=1) as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


def read_only_s(path: Path) -> float:
    """Our streaming reader alone (no pipeline), in this process: what parsing costs us."""
    from device.trace import TraceReader

    t0 = time.perf_counter()
    with TraceReader(path) as reader:
        for _ in reader.chunks():
            pass
    return time.perf_counter() - t0


def pandas_parse_s(path: Path) -> float:
    import pandas as pd

    t0 = time.perf_counter()
    frame = pd.read_csv(path, comment="#")
    elapsed = time.perf_counter() - t0
    del frame
    return elapsed


# `pedometer replay --json PATH`, then the process's own peak RSS (VmHWM) on stderr. Not
# wait4's ru_maxrss: on Linux that also counts the parent's pages the child had before exec
# (here, the pandas frame just parsed), which reads several hundred MB too high.
_REPLAY = """
import atexit, runpy, sys
def _hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("VmHWM " + line.split()[1] + "\\n")
atexit.register(_hwm)
sys.argv = ["pedometer", "replay", "--json", sys.argv[1]]
runpy.run_module("device.cli", run_name="__main__")
"""


def replay_process(path: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, steps) of `pedometer replay --json PATH` as its own process."""
    import json

    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _REPLAY, str(path)], cwd=REPO,
                          capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"replay of {path} failed: {proc.stderr.strip()[-300:]}")
    hwm_kb = int(proc.stderr.rsplit("VmHWM ", 1)[1].split()[0])
    return elapsed, hwm_kb / 1024, int(json.loads(proc.stdout)["steps"])


def replay_table(rate: float, long: bool) -> None:
    try:
        import pandas  # noqa: F401
    except ImportError:
        print("\nreplay table skipped: pandas (dev extra) is not installed")
        return
    sizes = [("1 h", 3600, True), ("8 h", 8 * 3600, True), ("24 h", 86400, True)]
    if long:
        sizes += [("10 M rows", int(1e7 / rate), False), ("7 days", 7 * 86400, True)]
    try:
        import pyarrow  # noqa: F401

        parser = "pyarrow"
    except ImportError:
        parser = "numpy loadtxt"
    print(f"\n`pedometer replay` from a file on disk ({rate:g} Hz, parser: {parser}):\n")
    print("| trace | file | rows | MB on disk | replay | pandas.read_csv | ratio | peak RSS |"
          " of which reading |")
    print("|---|---|---|---|---|---|---|---|---|")
    folder = Path(tempfile.mkdtemp(prefix="walkcoach-bench-"))
    try:
        for label, seconds, with_gz in sizes:
            csv = folder / f"day_{seconds}.csv"
            rows = write_day_trace(csv, seconds, rate)
            files = [csv]
            if with_gz:
                gzip_file(csv, folder / f"day_{seconds}.csv.gz")
                files.append(folder / f"day_{seconds}.csv.gz")
            if label == "7 days":  # only the compressed week is asked for
                csv.unlink()
                files = files[1:]
            for path in files:
                parse = pandas_parse_s(path)
                wall, rss, _ = replay_process(path)
                reading = read_only_s(path)
                kind = "gz" if path.suffix == ".gz" else "csv"
                print(f"| {label} | {kind} | {rows:,} | {path.stat().st_size / 1e6:,.0f} | "
                      f"{wall:.2f} s | {parse:.2f} s | {wall / parse:.1f}x | {rss:.0f} MB | "
                      f"{reading:.2f} s |", flush=True)
                path.unlink()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--long", action="store_true",
                        help="also replay 10 M rows and 7 days (gz); takes minutes to generate")
    args = parser.parse_args()
    print("| input | device batch | pipeline time | x real time | per batch: mean | p99 | max |"
          " steps |")
    print("|---|---|---|---|---|---|---|---|")
    for chunk in (1, 10):
        r = run(args.hours, args.rate, chunk)
        print(f"| {args.hours:g} h at {args.rate:g} Hz | {chunk} s | {r['seconds']:.2f} s | "
              f"{r['x_real_time']:,.0f} | {r['chunk_us_mean']:.0f} us | "
              f"{r['chunk_us_p99']:.0f} us | {r['chunk_us_max']:.0f} us | {r['steps']:,} |")
    mem_short = peak_memory(1.0, args.rate)
    mem_long = peak_memory(args.hours, args.rate)
    print(f"\npeak memory the pipeline adds (tracemalloc): {mem_short:.2f} MB over 1 h, "
          f"{mem_long:.2f} MB over {args.hours:g} h: bounded, it does not grow with the stream")
    replay_table(args.rate, args.long)


if __name__ == "__main__":
    main()
