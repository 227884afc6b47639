"""The benchmark's check of a recording's truth (tests/bench/truth_check.py).

The IPOL table reports separately the trials whose truth goes on after the lower-back sensor came
to rest, and the short-walk table leaves them out; so the check must flag a sensor at rest, and
never a step, however faint, that moved it.
"""

from __future__ import annotations

import numpy as np

from device.trace import Trace
from tests.bench.truth_check import steps_at_rest

RATE = 100.0


def sensor(duration: float, seed: int = 0, gyro: bool = True) -> Trace:
    """A sensor standing still: gravity plus the noise of a real IMU at rest."""
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration, 1.0 / RATE)
    acc = np.array([0.0, 0.0, 9.81]) + 0.04 * rng.standard_normal((t.size, 3))
    g = 0.8 * rng.standard_normal((t.size, 3)) if gyro else None
    return Trace(t=t, acc=acc, gyro=g)


def with_step(trace: Trace, at: float, peak_ms2: float, rate_dps: float) -> Trace:
    """The same recording with one step at `at`: a vertical pulse and a pelvis rotation."""
    pulse = np.exp(-0.5 * ((trace.t - at) / 0.07) ** 2)
    acc = trace.acc.copy()
    acc[:, 2] += peak_ms2 * pulse
    gyro = None
    if trace.gyro is not None:
        gyro = trace.gyro.copy()
        gyro[:, 0] += rate_dps * np.sin(2 * np.pi * (trace.t - at) / 0.6) * pulse
    return Trace(t=trace.t, acc=acc, gyro=gyro)


def test_a_sensor_at_rest_is_flagged_and_a_faint_step_is_not() -> None:
    still = sensor(6.0)
    assert steps_at_rest(still, np.array([2.0, 3.0])).tolist() == [True, True]
    # A walk's closing step at the lower back: a few tenths of m/s² and a few deg/s.
    closing = with_step(still, 3.0, 0.6, 10.0)
    assert steps_at_rest(closing, np.array([2.0, 3.0])).tolist() == [True, False]


def test_the_gyroscope_alone_shows_a_step_the_acceleration_hardly_does() -> None:
    turning = with_step(sensor(6.0), 3.0, 0.05, 40.0)
    assert not steps_at_rest(turning, np.array([3.0]))[0]
    without_gyro = Trace(t=turning.t, acc=turning.acc, gyro=None)
    assert steps_at_rest(without_gyro, np.array([3.0]))[0]


def test_steps_outside_the_recording_are_not_flagged() -> None:
    still = sensor(4.0, gyro=False)
    assert steps_at_rest(still, np.array([-5.0, 10.0])).tolist() == [False, False]
    assert steps_at_rest(still, np.array([])).size == 0
