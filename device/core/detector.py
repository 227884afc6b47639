"""StepDetector: a streaming numpy peak detector for a hip-worn accelerometer.

Input is the Sampler's grid of |a| (orientation-free: the clip may sit at any angle and turn).
Per step the hip rises and falls once, so |a| shows one peak per step. The detector

1. band-limits |a| to the stepping band with one FIR kernel (a 3 Hz low-pass minus a 2 s moving
   average, which also removes gravity and slow posture changes);
2. takes local maxima that stand above an *adaptive* threshold (a fraction of the recent RMS of the
   band-limited signal) and above an absolute floor (so sensor noise on a desk gives nothing);
3. keeps only the highest peak within a physiological minimum step interval;
4. holds candidate steps in a short buffer until ``min_bout_steps`` of them look like walking,
   then counts them retroactively, so rejecting a car's bumps or a sit-to-stand does not cost the
   first steps of every real bout. Walking means: intervals within 0.3-1.6 s and alike (strides
   more so than steps, since left and right may differ), peak heights alike (a bump's ringing
   decays), gravity turning less than 45 degrees (a device being handled, a wearer sitting down),
   and twice as many steps when the peaks are faint (a car's body bounce);
5. while walking, counts each further peak whose interval fits the bout's rhythm (an early, small
   bump is the second bump of a slow step, not a step), and ends the bout when the rhythm breaks.

Everything is a function of the sample index, never of the chunk boundaries: feeding one second
at a time or the whole stream at once gives the same steps. State is bounded (filter history and a
few candidates), so memory does not grow with the stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median  # numpy's imports numpy.ma on first use: 14 ms on a hot path

import numpy as np

from device.core.sampler import GRID_RATE_HZ, GridRun


@dataclass(frozen=True)
class DetectorParams:
    """Tuning of the detector; defaults are for a hip/lower-back clip, any walking speed."""

    lowpass_hz: float = 3.0          # upper edge of the stepping band
    baseline_s: float = 2.0          # moving-average window removed (gravity, posture)
    floor_ms2: float = 0.25          # a peak must exceed this (m/s², band-limited |a|)
    rms_window_s: float = 2.5        # window of the adaptive threshold
    rms_factor: float = 0.6          # a peak must exceed this times the recent RMS ...
    rms_factor_walking: float = 0.3  # ... or this, once a bout is under way
    min_step_s: float = 0.3          # no two steps closer than this (200 steps/min)
    max_step_s: float = 1.6          # a longer interval ends a bout (37 steps/min)
    min_bout_steps: int = 4          # steps in a row that make a bout ...
    weak_ms2: float = 0.5            # ... but when their median peak is below this (m/s²),
    weak_bout_steps: int = 8         # this many: faint rhythms (a car's bounce) need more proof
    regularity: float = 1.8          # max/min interval allowed when confirming a bout
    stride_regularity: float = 1.15  # max/min of two-step (stride) times when confirming
    height_spread: float = 3.0       # max/min peak height when confirming (a bump's ringing
                                     # decays; steps keep their strength)
    max_turn_deg: float = 45.0       # gravity may turn this much over a confirming run: more
                                     # is a device handled or a wearer sitting down, not walking
    rhythm_low: float = 0.4          # while walking: earlier than this x the rhythm is ignored
    early: float = 0.75              # ... earlier than this x the rhythm counts only if at least
    early_height: float = 0.6        # this x the bout's typical peak (a push-off bump is smaller)
    rhythm_high: float = 1.7         # ... later than this x the rhythm ends the bout


def _design_kernel(rate_hz: float, p: DetectorParams) -> np.ndarray:
    """Band-pass FIR: windowed-sinc low-pass minus a centred moving average (same length)."""
    half = round(p.baseline_s * rate_hz / 2)
    n = 2 * half + 1
    k = np.arange(n) - half
    fc = p.lowpass_hz / rate_hz
    lowpass = 2 * fc * np.sinc(2 * fc * k) * np.hamming(n)
    lowpass /= lowpass.sum()
    return lowpass - np.full(n, 1.0 / n)


@dataclass
class _Candidate:
    index: float   # refined peak position in grid cells
    height: float
    rms: float     # RMS of the band-limited signal over the window ending at the peak
    up: np.ndarray | None = None  # unit gravity direction (2 s mean of a) around the peak


class StepDetector:
    """Streaming step detector. Action method: :meth:`update`; results in ``*_`` attributes.

    Attributes after each call:
      new_step_times_s_: steps confirmed by this call (grid seconds, ascending).
      settled_until_s_: no step earlier than this will ever be reported by a later call.
      step_count_: all steps so far.
      cadence_spm_: the current bout's cadence (0 when not walking).
    """

    def __init__(self, rate_hz: float = GRID_RATE_HZ, params: DetectorParams | None = None) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params or DetectorParams()
        self._kernel = _design_kernel(self.rate_hz, self.params)
        self._lag = (len(self._kernel) - 1) // 2
        self._rms_cells = max(1, round(self.params.rms_window_s * self.rate_hz))
        self._min_step_cells = self.params.min_step_s * self.rate_hz
        self.step_count_ = 0
        self.new_step_times_s_ = np.empty(0)
        self.settled_until_s_ = -np.inf
        self.cadence_spm_ = 0.0
        self._reset_segment()

    # -- public ---------------------------------------------------------------------------
    def update(self, run: GridRun) -> StepDetector:
        """Consume one grid run from the Sampler."""
        steps: list[float] = []
        if run.new_segment:
            steps += self._end_segment()
            self._start_segment(run)
        x = np.asarray(run.values, dtype=np.float64)
        buf = np.concatenate((self._hist, x))
        self._hist = buf[-(len(self._kernel) - 1) :]
        y = np.convolve(buf, self._kernel, mode="valid")
        g = self._gravity(run.acc, len(x))
        first = run.start - self._lag  # grid index of y[0]
        if first < self._seg_start:  # outputs centred on the edge padding
            y = y[self._seg_start - first :]
            g = g[self._seg_start - first :]
            first = self._seg_start
        steps += self._process_filtered(first, y, g)
        self._finish_call(steps, processed_until=first + len(y))
        return self

    def _gravity(self, acc: np.ndarray | None, n: int, pad: int = 0) -> np.ndarray:
        """Mean acceleration over the filter's window, centred like y: where gravity points."""
        if acc is None:
            acc = np.zeros((n, 3))
        if pad:
            acc = np.repeat(self._vhist[-1:], pad, axis=0)
        width = len(self._kernel)
        buf = np.concatenate((self._vhist, acc))
        self._vhist = buf[-(width - 1) :]
        csum = np.concatenate((np.zeros((1, 3)), np.cumsum(buf, axis=0)))
        return (csum[width:] - csum[:-width]) / width

    def finish(self) -> StepDetector:
        """End of stream: release the filter's tail and close the last bout."""
        steps = self._end_segment()
        self._seg_active = False
        self._finish_call(steps, processed_until=None)
        return self

    # -- segment handling -----------------------------------------------------------------
    def _reset_segment(self) -> None:
        self._seg_active = False
        self._seg_start = 0
        self._next_index = 0
        self._hist = np.empty(0)
        self._vhist = np.zeros((0, 3))    # the same history for the acceleration vector
        self._y_tail = np.empty(0)        # last two filtered values (for maxima at the edge)
        self._g_tail = np.zeros((0, 3))   # and the gravity estimates beside them
        self._sq_tail = np.empty(0)       # squared filtered values of the RMS window
        self._sq_sum = 0.0
        self._nms: _Candidate | None = None   # best peak not yet past its refractory time
        self._pending: list[_Candidate] = []
        self._walking = False
        self._last_step: _Candidate | None = None
        self._ref_height = 0.0
        self._ref_interval = 0.0

    def _start_segment(self, run: GridRun) -> None:
        self._reset_segment()
        self._seg_active = True
        self._seg_start = run.start
        first = float(run.values[0]) if len(run.values) else 0.0
        self._hist = np.full(len(self._kernel) - 1, first)
        first_acc = run.acc[0] if run.acc is not None and len(run.acc) else np.zeros(3)
        self._vhist = np.repeat(np.asarray(first_acc, dtype=np.float64)[None, :],
                                len(self._kernel) - 1, axis=0)

    def _end_segment(self) -> list[float]:
        """Flush the filter with edge padding, then close the bout."""
        if not self._seg_active:
            return []
        last = self._hist[-1]
        buf = np.concatenate((self._hist, np.full(self._lag, last)))
        y = np.convolve(buf, self._kernel, mode="valid")
        # y[j] is centred on hist index j + lag: the not-yet-output samples are the last `lag`.
        y = y[-self._lag :] if self._lag else y[:0]
        g = self._gravity(None, 0, pad=self._lag)[-len(y) :] if len(y) else np.zeros((0, 3))
        steps = self._process_filtered(self._next_index, y, g, final=True)
        self._walking = False
        self._pending = []
        self._seg_active = False
        return steps

    # -- peaks ----------------------------------------------------------------------------
    def _process_filtered(
        self, first: int, y: np.ndarray, g: np.ndarray, final: bool = False
    ) -> list[float]:
        p = self.params
        n_tail = len(self._y_tail)
        z = np.concatenate((self._y_tail, y))
        gz = np.concatenate((self._g_tail, g))
        zfirst = first - n_tail
        # Adaptive threshold from the trailing RMS window (cumulative sums over the window).
        sq_all = np.concatenate((self._sq_tail, y * y))
        csum = np.concatenate(([0.0], np.cumsum(sq_all)))
        steps: list[float] = []
        if len(z) >= 3:
            mid = z[1:-1]
            is_max = (mid > z[:-2]) & (mid >= z[2:]) & (mid > p.floor_ms2)
            idx = np.flatnonzero(is_max) + 1
            if idx.size:
                # RMS over the window ending at each peak, within what the tail holds.
                pos = idx - n_tail + len(self._sq_tail)   # index in sq_all of the peak
                lo = np.maximum(pos + 1 - self._rms_cells, 0)
                rms = np.sqrt((csum[pos + 1] - csum[lo]) / np.maximum(pos + 1 - lo, 1))
                low = min(p.rms_factor, p.rms_factor_walking)
                keep = z[idx] > low * rms
                for i, r in zip(idx[keep].tolist(), rms[keep].tolist(), strict=True):
                    a, b, c = z[i - 1], z[i], z[i + 1]
                    denom = a - 2 * b + c
                    off = 0.5 * (a - c) / denom if denom < 0 else 0.0
                    up = gz[i] / max(float(np.linalg.norm(gz[i])), 1e-9)
                    steps += self._offer(_Candidate(zfirst + i + off, float(b), r, up))
        self._y_tail = z[-2:] if not final else np.empty(0)
        self._g_tail = gz[-2:] if not final else np.zeros((0, 3))
        keep_sq = min(len(sq_all), self._rms_cells)
        self._sq_tail = sq_all[len(sq_all) - keep_sq :]
        self._next_index = first + len(y)
        # A held peak is final once its refractory window has passed.
        if self._nms is not None and (final or self._next_index - 1 > self._nms.index
                                      + self._min_step_cells):
            steps += self._accept(self._nms)
            self._nms = None
        return steps

    def _offer(self, cand: _Candidate) -> list[float]:
        """Non-maximum suppression within the minimum step interval."""
        held = self._nms
        if held is None:
            self._nms = cand
            return []
        if cand.index - held.index < self._min_step_cells:
            if cand.height > held.height:
                self._nms = cand
            return []
        self._nms = cand
        return self._accept(held)

    # -- bouts ----------------------------------------------------------------------------
    def _accept(self, cand: _Candidate) -> list[float]:
        """Bout logic on a final candidate; returns the steps it confirms."""
        p = self.params
        rate = self.rate_hz
        factor = p.rms_factor_walking if self._walking else p.rms_factor
        if cand.height <= factor * cand.rms:
            return []
        if self._walking and self._last_step is not None:
            interval = (cand.index - self._last_step.index) / rate
            if interval < p.rhythm_low * self._ref_interval:
                return []  # a bump inside the rhythm (e.g. push-off after heel strike)
            if interval < p.early * self._ref_interval and (
                cand.height < p.early_height * self._ref_height
            ):
                return []  # early and small: the second bump of a slow step
            if interval <= min(p.rhythm_high * self._ref_interval, p.max_step_s):
                self._ref_interval = 0.75 * self._ref_interval + 0.25 * interval
                self._ref_height = 0.75 * self._ref_height + 0.25 * cand.height
                self._last_step = cand
                return [self._time(cand)]
            self._walking = False  # rhythm broken: this candidate may start a new bout
            self._pending = []
        self._pending.append(cand)
        # Forget candidates that can no longer be part of a bout with this one.
        horizon = cand.index - p.max_step_s * rate * (max(p.min_bout_steps, p.weak_bout_steps) - 1)
        self._pending = [c for c in self._pending if c.index >= horizon]
        run = self._regular_tail()
        if run is None:
            return []
        intervals = np.diff([c.index for c in run]) / rate
        self._walking = True
        self._ref_interval = float(median(intervals.tolist()))
        self._last_step = run[-1]
        self._ref_height = float(median(c.height for c in run))
        self._pending = []
        return [self._time(c) for c in run]

    def _regular_tail(self) -> list[_Candidate] | None:
        """The last min_bout_steps candidates if their rhythm is a walking rhythm."""
        p = self.params
        if len(self._pending) < p.min_bout_steps:
            return None
        run = self._pending[-p.min_bout_steps :]
        if median(c.height for c in run) < p.weak_ms2:
            if len(self._pending) < p.weak_bout_steps:
                return None
            run = self._pending[-p.weak_bout_steps :]
        iv = np.diff([c.index for c in run]) / self.rate_hz
        if iv.min() < p.min_step_s or iv.max() > p.max_step_s:
            return None
        if iv.max() > p.regularity * iv.min():
            return None
        heights = [c.height for c in run]
        if max(heights) > p.height_spread * min(heights):
            return None
        if run[0].up is not None and run[-1].up is not None:
            turn = min(float(run[0].up @ c.up) for c in run[1:])  # cosine of the largest turn
            if turn < np.cos(np.radians(p.max_turn_deg)):
                return None
        strides = iv[1:] + iv[:-1]  # left/right steps may alternate; strides should not
        if strides.max() > p.stride_regularity * strides.min():
            return None
        return run

    def _time(self, cand: _Candidate) -> float:
        return (cand.index + 0.5) / self.rate_hz

    def _finish_call(self, steps: list[float], processed_until: int | None) -> None:
        times = np.asarray(steps, dtype=np.float64)
        self.new_step_times_s_ = times
        self.step_count_ += len(times)
        if processed_until is None:
            self.settled_until_s_ = np.inf
        else:
            held = [c.index for c in self._pending]
            if self._nms is not None:
                held.append(self._nms.index)
            earliest = min([*held, processed_until - 2])  # a maximum needs one more sample
            self.settled_until_s_ = max(self.settled_until_s_, (earliest + 0.5) / self.rate_hz)
        walking = self._walking and self._ref_interval > 0
        self.cadence_spm_ = 60.0 / self._ref_interval if walking else 0.0
