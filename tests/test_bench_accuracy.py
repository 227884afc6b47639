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


def test_seen_share_leaves_out_the_steps_the_sensor_slept_through() -> None:
    # The "most a detector at the lower back could find" row: a true step the sensor was at
    # rest for is out of every detector's reach, so it lowers the share however good the rules.
    truth = np.arange(6, dtype=float)
    job = bench.Job("file", "ipol", "", "t", "")
    none = match_steps(np.empty(0), truth)
    result = bench.Result(job, truth, np.empty(0), np.empty(0), 0.0, 6.0, 6.0, none, none,
                          at_rest=np.array([False] * 5 + [True]))
    assert bench.seen_share([result], bench.first_last_steps) == 75.0  # 3 of steps 0, 1, 4, 5
    result.at_rest = None
    assert np.isnan(bench.seen_share([result], bench.first_last_steps))
