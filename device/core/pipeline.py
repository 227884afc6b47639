"""The one step pipeline, live and replayed: Sampler -> StepDetector -> MinuteAggregator.

One object, fed batch by batch, so the firmware loop, `pedometer replay`, the tests and the
benchmarks all exercise exactly the same code in the same chunk sizes.

The IMU is read once a second, but the numpy work runs on `process_every_s` of samples at a
time: each numpy call costs a few microseconds whatever its size, so five one-second batches
processed together cost about a fifth as much. Steps are confirmed a few seconds late anyway
(a bout needs four steps), so nothing a wearer sees gets slower.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from device.core.aggregator import DEFAULT_THRESHOLD_SPM, MinuteAggregator, MinuteSummary
from device.core.detector import DetectorParams, StepDetector
from device.core.sampler import GRID_RATE_HZ, Sampler


@dataclass
class PipelineOutput:
    """What one batch produced: steps confirmed (source clock, s) and minutes closed."""

    step_times_s: np.ndarray = field(default_factory=lambda: np.empty(0))
    minutes: list[MinuteSummary] = field(default_factory=list)


class StepPipeline:
    """Samples in, steps and minute summaries out."""

    def __init__(
        self,
        threshold_spm: float = DEFAULT_THRESHOLD_SPM,
        offset_s: float = 0.0,
        rate_hz: float = GRID_RATE_HZ,
        params: DetectorParams | None = None,
        process_every_s: float = 5.0,
    ) -> None:
        self.process_every_s = float(process_every_s)
        self._held_t: list[np.ndarray] = []
        self._held_acc: list[np.ndarray] = []
        self._held_gyro: list[np.ndarray | None] = []
        self.sampler = Sampler(rate_hz)
        self.detector = StepDetector(rate_hz, params)
        self.aggregator = MinuteAggregator(threshold_spm, offset_s)

    def feed(
        self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None = None
    ) -> PipelineOutput:
        """Process one batch of samples (t in s, acc (N, 3) in m/s², gyro (N, 3) deg/s or None)."""
        if len(t) == 0:
            return PipelineOutput()
        self.aggregator.start(float(t[0]))
        self._held_t.append(t)
        self._held_acc.append(acc)
        self._held_gyro.append(gyro)
        if float(t[-1]) - float(self._held_t[0][0]) < self.process_every_s:
            return PipelineOutput()
        runs = self._push_held()
        return self._run(runs, end=False, last_t=float(t[-1]))

    def finish(self) -> PipelineOutput:
        """End of stream: flush everything and close the last minute."""
        runs = self._push_held() if self._held_t else []
        return self._run(runs + self.sampler.flush(), end=True, last_t=None)

    def _push_held(self) -> list:
        if len(self._held_t) == 1:
            t, acc, gyro = self._held_t[0], self._held_acc[0], self._held_gyro[0]
        else:
            t, acc = np.concatenate(self._held_t), np.concatenate(self._held_acc)
            gyros = self._held_gyro
            gyro = None
            if any(g is not None for g in gyros):  # a batch without a gyro: not turning
                gyro = np.concatenate([g if g is not None else np.zeros((len(a), 3))
                                       for g, a in zip(gyros, self._held_acc, strict=True)])
        self._held_t, self._held_acc, self._held_gyro = [], [], []
        return self.sampler.push(t, acc, gyro)

    def _run(self, runs: list, end: bool, last_t: float | None) -> PipelineOutput:
        steps = []
        det = self.detector
        for run in runs:
            det.update(run)
            if det.new_step_times_s_.size:
                steps.append(det.new_step_times_s_)
        if end:
            det.finish()
            if det.new_step_times_s_.size:
                steps.append(det.new_step_times_s_)
        times = np.concatenate(steps) if steps else np.empty(0)
        self.aggregator.add_steps(times)
        if end:
            minutes = self.aggregator.finish()
        else:
            settled = det.settled_until_s_ if runs else -np.inf
            if last_t is not None and not runs:
                settled = -np.inf
            minutes = self.aggregator.close_until(settled)
        return PipelineOutput(times, minutes)

    @property
    def cadence_spm(self) -> float:
        """Cadence of the bout in progress (0 when not walking)."""
        return self.detector.cadence_spm_
