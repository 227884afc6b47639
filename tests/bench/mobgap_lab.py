"""Lab daily-living walks at the lower back (Mobilise-D, mobgap's example data): steps in bouts.

`.venv/bin/python tests/bench/mobgap_lab.py DIR` replays each recording of mobgap's example lab
data through the device pipeline (`device.replay.replay`, one-second batches) and counts the
steps we find inside each walking bout of the reference (the INDIP system's micro walking bouts,
0.25 s of slack at either end), against the reference's initial contacts in those bouts. Steps
outside the reference's bouts are not scored: the reference makes a bout of two strides or more,
so a single step or two between bouts is in neither count. The textbook baseline of
bench_accuracy.py is scored the same way.

Why: every other recording we have is of healthy adults walking on purpose (steady walks, a
10-m walk and a turn). Test 11 of this data is a simulated daily-living circuit (a kitchen, a
desk, a door, stepping about between tasks) by two healthy adults (HA) and one person with
multiple sclerosis (MS), and Test 5 a short straight walk. It is the only real daily-living
stepping we can measure.

The data is not in this repository and the benchmark downloads nothing. It ships in mobgap's
source distribution on PyPI (Apache-2.0); fetch and unpack it once, outside the repository:

    .venv/bin/pip download --no-deps --no-binary :all: mobgap==1.2.0 -d /tmp/mobgap
    tar xzf /tmp/mobgap/mobgap-1.2.0.tar.gz -C /tmp/mobgap
    .venv/bin/python tests/bench/mobgap_lab.py /tmp/mobgap/mobgap-1.2.0/example_data/data/lab

Error % = (counted - true) / true per recording; MAE = mean |error| over a group's recordings.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from device.replay import replay
from device.trace import Trace
from tests.bench.bench_accuracy import baseline_step_times

G = 9.80665          # the example data's acceleration is in g
SLACK_S = 0.25       # a step this close outside a reference bout still counts as inside it


@dataclass
class Recording:
    name: str            # participant/test/trial, e.g. "HA/001 Test11 Trial1"
    trace: Trace
    bouts: list[tuple[float, float]]   # reference walking bouts (start, end), s
    contacts: np.ndarray               # reference initial contacts inside them, s


@dataclass
class Row:
    name: str
    true: int
    ours: int
    baseline: int

    def error(self, counted: int) -> float:
        return 100.0 * (counted - self.true) / self.true


def load(folder: Path) -> list[Recording]:
    """Every trial under folder (participant folders holding data.mat) that has reference bouts
    (the reference found none in some short trials: nothing to score there)."""
    from scipy.io import loadmat  # the dev extra's; only this benchmark reads .mat files

    out: list[Recording] = []
    for mat in sorted(folder.glob("*/*/data.mat")):
        who = f"{mat.parent.parent.name}/{mat.parent.name}"
        data = loadmat(mat, simplify_cells=True)["data"]
        for measure in data.values():
            for test, trials in measure.items():
                for trial, rec in trials.items():
                    bouts = rec["Standards"]["INDIP"]["MicroWB"]
                    bouts = [bouts] if isinstance(bouts, dict) else list(bouts)
                    if not bouts:
                        continue
                    lower_back = rec["SU"]["LowerBack"]
                    rate = float(lower_back["Fs"]["Acc"])
                    acc = np.asarray(lower_back["Acc"], dtype=float) * G
                    trace = Trace(t=np.arange(len(acc)) / rate, acc=acc,
                                  gyro=np.asarray(lower_back["Gyr"], dtype=float))
                    contacts = np.concatenate([
                        np.atleast_1d(np.asarray(b["InitialContact_Event"], dtype=float))
                        for b in bouts])
                    out.append(Recording(f"{who} {test} {trial}", trace,
                                         [(float(b["Start"]), float(b["End"])) for b in bouts],
                                         contacts[np.isfinite(contacts)]))
    return out


def inside(times: np.ndarray, bouts: Sequence[tuple[float, float]]) -> int:
    """How many of times fall inside a bout (with SLACK_S at either end)."""
    keep = np.zeros(len(times), dtype=bool)
    for start, end in bouts:
        keep |= (times >= start - SLACK_S) & (times <= end + SLACK_S)
    return int(keep.sum())


def score(rec: Recording) -> Row:
    ours = replay(rec.trace).step_times_s
    base = baseline_step_times(rec.trace.t, rec.trace.acc)
    return Row(rec.name, len(rec.contacts), inside(ours, rec.bouts), inside(base, rec.bouts))


def table(rows: Sequence[Row]) -> str:
    lines = ["| recording | true steps in bouts | ours | ours: error % | baseline "
             "| baseline: error % |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.true} | {r.ours} | {r.error(r.ours):+.1f} | "
                     f"{r.baseline} | {r.error(r.baseline):+.1f} |")
    daily = [r for r in rows if "Test11" in r.name]
    for label, group in (("daily-living circuit (Test 11): MAE", daily),
                         ("all recordings: MAE", list(rows))):
        if group:
            ours = np.mean([abs(r.error(r.ours)) for r in group])
            base = np.mean([abs(r.error(r.baseline)) for r in group])
            true = sum(r.true for r in group)
            lines.append(f"| {label} | {true} | | {ours:.1f} | | {base:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     epilog="See the module docstring for how to get the data.")
    parser.add_argument("folder", type=Path,
                        help="mobgap's example_data/data/lab folder (participants' data.mat)")
    args = parser.parse_args(argv)
    if not args.folder.is_dir():
        print(f"mobgap_lab: no such folder: {args.folder}", file=sys.stderr)
        return 2
    recordings = load(args.folder)
    if not recordings:
        print(f"mobgap_lab: no */*/data.mat with reference bouts under {args.folder}",
              file=sys.stderr)
        return 2
    rows = []
    for rec in recordings:
        rows.append(score(rec))
        print(f"  {rec.name}: done", file=sys.stderr)
    print(table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
