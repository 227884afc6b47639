"""Accuracy benchmark: our detector against ground truth and against a textbook baseline.

    .venv/bin/python tests/bench/bench_accuracy.py [--shared DIR] [--markdown]

Every trace with a NAME.steps.csv in the shared recordings (../shared/traces, if present) and in
tests/data is replayed through the device pipeline (`device.replay.replay`, one-second batches).
The baseline is what a textbook would do: |a| band-passed 0.5-3.5 Hz (4th-order Butterworth,
zero-phase) and `scipy.signal.find_peaks` with a fixed height and a 0.3 s minimum distance.
Error % = (counted - truth) / truth; MAE = mean absolute error % over the traces of a group.
Traces with no true steps report the steps counted (they should be 0).

A second table replays the shared recordings resampled to 25, 50 and 100 Hz (linear
interpolation, sample-time jitter) and turned to a random clip angle, since the detector is also
judged on recordings at other rates and orientations.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, filtfilt, find_peaks

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from device.replay import replay  # noqa: E402
from device.synthetic import random_rotation  # noqa: E402
from device.trace import Trace, read_trace, read_truth  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "traces"


def baseline_steps(t: np.ndarray, acc: np.ndarray) -> int:
    """Band-passed magnitude + find_peaks: the textbook pedometer."""
    fs = 50.0
    grid = np.arange(t[0], t[-1], 1 / fs)
    mag = np.interp(grid, t, np.linalg.norm(acc, axis=1))
    b, a = butter(4, [0.5, 3.5], btype="band", fs=fs)
    y = filtfilt(b, a, mag - mag.mean())
    peaks, _ = find_peaks(y, height=1.0, distance=int(0.3 * fs))
    return int(peaks.size)


@dataclass
class Row:
    group: str
    name: str
    truth: int
    ours: int
    base: int

    @staticmethod
    def err(count: int, truth: int) -> float:
        return 100.0 * (count - truth) / truth if truth else float("nan")


def collect(shared: Path | None) -> list[Row]:
    rows: list[Row] = []
    sources: list[tuple[Path, dict[str, str]]] = []
    if shared is not None and shared.exists():
        for index in sorted(shared.glob("*/INDEX.csv")):
            for r in csv.DictReader(index.open()):
                sources.append((index.parent / r["trace"], {"group": f"shared/{r['placement']}"}))
    for index in (REPO / "tests/data/scenarios/INDEX.csv", REPO / "tests/data/real/INDEX.csv"):
        if index.exists():
            for r in csv.DictReader(index.open()):
                kind = r.get("scenario_kind") or "real copy"
                sources.append((index.parent / r["trace"], {"group": f"tests/{kind}"}))
    for stem, info in sources:
        trace = read_trace(stem.with_name(stem.name + ".csv.gz"))
        truth = read_truth(stem.with_name(stem.name + ".steps.csv"))
        ours = replay(trace).steps
        rows.append(Row(info["group"], stem.name, int(truth.size), ours,
                        baseline_steps(trace.t, trace.acc)))
    return rows


def resampled(trace: Trace, rate: float, rng: np.random.Generator) -> Trace:
    """The recording as a slower (or faster) jittery sensor at a random angle would give it."""
    t = trace.t - trace.t[0]
    grid = np.arange(0.0, t[-1], 1.0 / rate)
    grid = np.sort(np.clip(grid + rng.uniform(0, 0.3 / rate, grid.size), 0, t[-1]))
    acc = np.column_stack([np.interp(grid, t, trace.acc[:, i]) for i in range(3)])
    return Trace(t=grid, acc=acc @ random_rotation(rng).T)


def rate_table(shared: Path) -> str:
    out = ["| shared recordings resampled to | ours: MAE % | baseline: MAE % |", "|---|---|---|"]
    stems = [index.parent / r["trace"] for index in sorted(shared.glob("*/INDEX.csv"))
             for r in csv.DictReader(index.open())]
    loaded = [(read_trace(s.with_name(s.name + ".csv.gz")),
               read_truth(s.with_name(s.name + ".steps.csv")).size) for s in stems]
    for rate in (25.0, 50.0, 100.0):
        rng = np.random.default_rng(int(rate))
        ours, base = [], []
        for trace, truth in loaded:
            moved = resampled(trace, rate, rng)
            ours.append(abs(Row.err(replay(moved).steps, truth)))
            base.append(abs(Row.err(baseline_steps(moved.t, moved.acc), truth)))
        out.append(f"| {rate:g} Hz, random angle ({len(loaded)} traces) | {np.mean(ours):.2f} | "
                   f"{np.mean(base):.2f} |")
    return "\n".join(out)


def table(rows: list[Row]) -> str:
    out = ["| group | traces | true steps | ours: MAE % | ours: bias % | baseline: MAE % |",
           "|---|---|---|---|---|---|"]
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.group, []).append(r)
    pocket = [r for r in rows if r.group in ("shared/frontpocket", "shared/backpocket")]
    shared = [r for r in rows if r.group.startswith("shared/")]
    for label, group in [*sorted(groups.items()), ("shared: front+back pocket", pocket),
                         ("shared: all placements", shared)]:
        walking = [r for r in group if r.truth]
        if not group:
            continue
        if walking:
            ours = [Row.err(r.ours, r.truth) for r in walking]
            base = [Row.err(r.base, r.truth) for r in walking]
            out.append(f"| {label} | {len(group)} | {sum(r.truth for r in walking):,} | "
                       f"{np.mean(np.abs(ours)):.2f} | {np.mean(ours):+.2f} | "
                       f"{np.mean(np.abs(base)):.2f} |")
        else:
            out.append(f"| {label} | {len(group)} | 0 | {sum(r.ours for r in group)} steps "
                       f"counted | | {sum(r.base for r in group)} steps counted |")
    return "\n".join(out)


def detail(rows: list[Row]) -> str:
    out = ["| trace | group | truth | ours | error % | baseline | error % |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        e1 = f"{Row.err(r.ours, r.truth):+.1f}" if r.truth else "-"
        e2 = f"{Row.err(r.base, r.truth):+.1f}" if r.truth else "-"
        out.append(f"| {r.name} | {r.group} | {r.truth} | {r.ours} | {e1} | {r.base} | {e2} |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="folder of shared recordings (default: %(default)s)")
    parser.add_argument("--detail", action="store_true", help="also print every trace")
    args = parser.parse_args()
    rows = collect(args.shared)
    print(table(rows))
    if args.shared.exists():
        print()
        print(rate_table(args.shared))
    if args.detail:
        print()
        print(detail(rows))


if __name__ == "__main__":
    main()
