"""Regression guard on the committed test traces: what the detector must never get wrong.

Accuracy itself is measured by tests/bench/bench_accuracy.py; these bounds are the product's
promises from the issue (zero on non-walking, short bouts and slow gait within 5 %), applied to
every scenario in tests/data, so a detector change that breaks one of them fails CI.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from device.replay import replay
from device.trace import read_trace, read_truth

DATA = Path(__file__).parent / "data"


def _cases(folder: str) -> list[tuple[str, str]]:
    with (DATA / folder / "INDEX.csv").open() as f:
        return [(row["trace"], row.get("scenario_kind", "real")) for row in csv.DictReader(f)]


def _run(folder: str, name: str) -> tuple[int, int]:
    trace = read_trace(DATA / folder / f"{name}.csv.gz")
    truth = read_truth(DATA / folder / f"{name}.steps.csv")
    return replay(trace).steps, int(truth.size)


@pytest.mark.parametrize(("name", "kind"), _cases("scenarios"))
def test_scenario(name: str, kind: str) -> None:
    ours, truth = _run("scenarios", name)
    if kind == "non_walking":
        assert ours == 0, f"{name}: {ours} steps counted where nobody walked"
    else:
        assert abs(ours - truth) <= 0.05 * truth, f"{name}: {ours} steps, truth {truth}"


@pytest.mark.parametrize(("name", "kind"), _cases("real"))
def test_real_recording(name: str, kind: str) -> None:
    ours, truth = _run("real", name)
    assert abs(ours - truth) <= 0.03 * truth, f"{name}: {ours} steps, truth {truth}"
