"""StepDetector: a streaming numpy step detector for a hip-worn IMU, in four small stages.

Like the Mobilise-D pipeline (mobgap), deciding *that* someone walks is kept apart from finding
*where* each step is, and each stage is one module with one action method:

1. :mod:`~device.core.step_signal` - band-limit |a| to the stepping band; where gravity points;
   the yaw rate when there is a gyroscope;
2. :mod:`~device.core.peaks` - candidate steps: local maxima above a floor, one per minimum
   step interval;
3. :mod:`~device.core.gait_sequence` - is this walking? Bouts start from a few regular,
   self-similar steps, survive pauses and turns shorter than 3 s, and end when the steps stop
   or gravity turns away;
4. :mod:`~device.core.contacts` - every step inside a bout: the gentle first step, the steps of a
   turn, the last step.

Everything is a function of the sample index, never of the chunk boundaries: feeding one second
at a time or the whole stream at once gives the same steps. State is bounded (filter history, a
few seconds of signal and a few candidates), so memory does not grow with the stream.
"""

from __future__ import annotations

import numpy as np

from device.core.gait_sequence import GaitSequence, SignalHistory
from device.core.params import DetectorParams
from device.core.peaks import Candidate, PeakPicker
from device.core.sampler import GRID_RATE_HZ, GridRun
from device.core.step_signal import SignalChunk, StepSignal, split_chunk

__all__ = ["DetectorParams", "StepDetector"]

PIECE_S = 12.0  # longer signal chunks are fed to the later stages in pieces (split_chunk)


class StepDetector:
    """Streaming step detector. Action method: :meth:`update`; results in ``*_`` attributes.

    Attributes after each call:
      new_step_times_s_: steps confirmed by this call (grid seconds, ascending).
      settled_until_s_: no step earlier than this will ever be reported by a later call.
      step_count_: all steps so far.
      cadence_spm_: the current bout's cadence (0 when not walking).
      walking_: a walking bout is under way.
      candidates_: every candidate step the peak stage released during this call, chosen or
        not (grid cells): what a benchmark needs to tell a step the rules passed over from one
        the signal never showed.
    """

    def __init__(self, rate_hz: float = GRID_RATE_HZ, params: DetectorParams | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params or DetectorParams()
        p = self.params
        self.signal = StepSignal(self.rate_hz, p)
        self.peaks = PeakPicker(self.rate_hz, p)
        # A confirming run spans at most weak_bout_steps intervals, plus the refractory time;
        # the history holds that much before the first sample of a piece (see split_chunk).
        span_s = p.max_step_s * (p.weak_bout_steps + 1) + p.min_step_s
        self._piece = round(PIECE_S * self.rate_hz)
        self.history = SignalHistory(round(span_s * self.rate_hz) + self._piece + 4)
        self.sequence = GaitSequence(self.rate_hz, p, self.history)
        self.step_count_ = 0
        self.new_step_times_s_ = np.empty(0)
        self.settled_until_s_ = -np.inf
        self.cadence_spm_ = 0.0
        self.walking_ = False
        self.candidates_: list[Candidate] = []

    def update(self, run: GridRun) -> StepDetector:
        """Consume one grid run from the Sampler."""
        self._finish_call(self._chunks(self.signal.update(run).chunks_), final_call=False)
        return self

    def finish(self) -> StepDetector:
        """End of stream: release the filter's tail and close the last bout."""
        self._finish_call(self._chunks(self.signal.finish().chunks_), final_call=True)
        return self

    def _chunks(self, chunks: list[SignalChunk]) -> list[Candidate]:
        steps: list[Candidate] = []
        self.candidates_ = []
        for chunk in (p for c in chunks for p in split_chunk(c, self._piece)):
            self.history.push(chunk.start, chunk.values, chunk.gravity, chunk.acc)
            self.peaks.update(chunk)
            self.candidates_ += self.peaks.candidates_
            self.sequence.update(self.peaks.candidates_, self.peaks.processed_until_,
                                 self.peaks.held_index_, final=chunk.final)
            steps += self.sequence.steps_
            if chunk.final:  # a gap: the next segment starts afresh
                self.peaks.reset()
                self.sequence.reset()
                self.history.reset()
        return steps

    def _finish_call(self, steps: list[Candidate], final_call: bool) -> None:
        times = np.asarray([(c.index + 0.5) / self.rate_hz for c in steps], dtype=np.float64)
        self.new_step_times_s_ = times
        self.step_count_ += len(times)
        if final_call:
            self.settled_until_s_ = np.inf
        else:
            held = [i for i in (self.sequence.held_index_, self.peaks.held_index_)
                    if i is not None]
            # A maximum needs one more sample than has been processed.
            earliest = min([*held, self.peaks.processed_until_ - 2])
            self.settled_until_s_ = max(self.settled_until_s_, (earliest + 0.5) / self.rate_hz)
        self.walking_ = self.sequence.walking_ and self.sequence.interval_s_ > 0
        self.cadence_spm_ = 60.0 / self.sequence.interval_s_ if self.walking_ else 0.0
