"""`pedometer replay`: a recorded trace through the device's own pipeline, faster than real time.

The trace is cut into the same one-second batches the device reads from its IMU and fed to the
same :class:`~device.core.pipeline.StepPipeline`; the result follows the JSON contract of
DESIGN.md, with times in seconds from the trace's first sample.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from device.core.aggregator import DEFAULT_THRESHOLD_SPM, MinuteSummary
from device.core.detector import DetectorParams
from device.core.pipeline import StepPipeline
from device.trace import Trace

DEVICE_BATCH_S = 1.0


@dataclass
class ReplayResult:
    duration_s: float
    step_times_s: np.ndarray
    minutes: list[MinuteSummary]
    threshold_spm: float

    @property
    def steps(self) -> int:
        return int(self.step_times_s.size)

    @property
    def moderate_minutes(self) -> int:
        return sum(1 for m in self.minutes if m.moderate)

    def to_json(self) -> dict:
        """The replay contract of DESIGN.md."""
        return {
            "duration_s": round(self.duration_s, 6),
            "steps": self.steps,
            "step_times_s": [round(float(t), 4) for t in self.step_times_s],
            "minutes": [
                {"start_s": m.start_s, "steps": m.steps, "cadence_spm": m.cadence_spm,
                 "moderate": m.moderate}
                for m in self.minutes
            ],
            "moderate_minutes": self.moderate_minutes,
            "threshold_spm": self.threshold_spm,
        }


def batches(t: np.ndarray, batch_s: float = DEVICE_BATCH_S) -> Iterator[slice]:
    """Slices of consecutive samples, one per `batch_s` of the trace's clock."""
    if len(t) == 0:
        return
    edges = np.searchsorted(t, np.arange(t[0] + batch_s, t[-1] + batch_s, batch_s), side="left")
    lo = 0
    for hi in [*edges.tolist(), len(t)]:
        if hi > lo:
            yield slice(lo, hi)
            lo = hi


def replay(
    trace: Trace,
    threshold_spm: float = DEFAULT_THRESHOLD_SPM,
    batch_s: float = DEVICE_BATCH_S,
    params: DetectorParams | None = None,
) -> ReplayResult:
    """Run the device pipeline over a whole trace in device-sized batches."""
    t0 = float(trace.t[0]) if len(trace) else 0.0
    pipe = StepPipeline(threshold_spm, offset_s=-t0, params=params)
    t = trace.t - t0  # the clock the results use: seconds from the first sample
    steps: list[np.ndarray] = []
    minutes: list[MinuteSummary] = []
    for sl in batches(t, batch_s):
        out = pipe.feed(t[sl], trace.acc[sl])
        steps.append(out.step_times_s)
        minutes += out.minutes
    out = pipe.finish()
    steps.append(out.step_times_s)
    minutes += out.minutes
    pipe.aggregator.offset_s = 0.0
    return ReplayResult(
        duration_s=trace.duration_s,
        step_times_s=np.concatenate(steps) if steps else np.empty(0),
        minutes=minutes,
        threshold_spm=float(threshold_spm),
    )
