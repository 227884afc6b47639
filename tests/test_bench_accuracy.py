"""The accuracy benchmark's own instruments (tests/bench/bench_accuracy.py)."""

from __future__ import annotations

import numpy as np

from device.replay import replay
from device.scoring import match_steps
from device.trace import Trace
from tests.bench import bench_accuracy as bench
from tests.test_detector import walk


def test_candidate_times_hold_every_step_on_the_benchmark_clock() -> None:
    # The "most any rule could find" rows score these instead of our steps: they must be on the
    # same clock as the steps (s from the trace's first sample) and include every one of them.
    t, acc, truth = walk(24, 105, seed=4)
    trace = Trace(t=t + 1000.0, acc=acc)  # a recording's clock does not start at 0
    offered = bench.candidate_times(trace)
    steps = np.asarray(replay(trace).step_times_s)
    assert steps.size >= truth.size - 1
    assert np.isin(steps, offered).all()
    found = match_steps(offered, truth - t[0], bench.TOLERANCE_S)
    assert found.matched == truth.size
