"""The IPOL short-walk bench's 15 Hz recorder (tests/bench/ipol_short.py: sampled, variant)."""

from __future__ import annotations

import numpy as np

from device.trace import Trace
from tests.bench import ipol_short


def test_a_15_hz_recorder_reads_every_axis_at_even_instants_with_no_filter() -> None:
    t = np.arange(0.0, 10.0, 0.01)
    acc = np.column_stack([np.sin(2 * np.pi * 9.0 * t), np.zeros_like(t), 9.81 + 0 * t])
    gyro = np.column_stack([t, 2 * t, 3 * t])
    low = ipol_short.sampled(Trace(t=t, acc=acc, gyro=gyro), 15.0)
    assert np.allclose(np.diff(low.t), 1 / 15.0)
    assert low.gyro is not None and np.allclose(low.gyro[:, 1], 2 * low.t)
    # No anti-alias filter: a 9 Hz vibration is still there at full strength, folded to 6 Hz.
    assert np.ptp(low.acc[:, 0]) > 1.8
    spectrum = np.abs(np.fft.rfft(low.acc[:, 0]))
    assert np.fft.rfftfreq(low.t.size, 1 / 15.0)[np.argmax(spectrum)] == 6.0


def test_the_15_hz_variant_keeps_the_truth_and_the_recording_without_a_gyro() -> None:
    t = np.arange(0.0, 5.0, 0.01)
    trace = Trace(t=t, acc=np.column_stack([0 * t, 0 * t, 9.81 + np.sin(t)]))
    truth = np.array([1.0, 1.6, 2.2])
    low, steps = ipol_short.variant(trace, truth, "sampled x15")
    assert ipol_short.parse_variant("sampled x15") == ("sampled", 15.0)
    assert low.gyro is None and np.array_equal(steps, truth)
    assert np.allclose(low.acc[:, 2], 9.81 + np.sin(low.t), atol=1e-3)
