"""Speed benchmark of the step pipeline (sampler + detector + aggregator), parsing excluded.

    .venv/bin/python tests/bench/bench_speed.py [--hours 24] [--rate 100]

A day of 100 Hz hip data is generated one second at a time (tests/bench/daylife.py) and fed to
`StepPipeline` in the device's one-second batches; only the pipeline calls are timed. Prints the
seconds for the day, times real time, the cost of one 1-second chunk (mean, 99th percentile
and worst, microseconds; the pipeline runs its numpy work every 5 s of samples) and the
pipeline's peak Python memory (tracemalloc).
Budget (DESIGN.md / issue): 24 h in <= 3 s here, a chunk in <= 1 ms, memory bounded.
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from device.core.pipeline import StepPipeline  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--rate", type=float, default=100.0)
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


if __name__ == "__main__":
    main()
