"""PeakPicker: candidate steps, one local maximum of the step signal per possible step.

A candidate is a local maximum of the band-limited |a| that stands above an absolute floor (so
sensor noise on a desk gives nothing) and above a small fraction of the recent RMS; it is refined
to sub-sample position with a parabola and kept only if it is the highest within the minimum
step interval (non-maximum suppression). Whether a candidate is a step is decided later, by the
gait-sequence stage: here it only carries what that stage needs (height, recent RMS, where
gravity points, the yaw rate, the signal's energy so far).

A candidate is released once its refractory window has passed, so the same candidates come out
whatever the chunking. State: two samples of tail, one RMS window and one held candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.core.params import DetectorParams
from device.core.step_signal import SignalChunk


@dataclass
class Candidate:
    """A local maximum that may be a step.

    index: refined peak position in grid cells. height: band-limited |a| at the peak (m/s²).
    rms: RMS of the signal over the window ending at the peak. up: unit gravity direction around
    the peak. yaw_dps: turning rate about gravity there (None without a gyro). energy: sum of the
    squared signal from the segment's start (differences give a stretch's energy).
    """

    index: float
    height: float
    rms: float = 0.0
    up: np.ndarray | None = None
    yaw_dps: float | None = None
    energy: float = 0.0


class PeakPicker:
    """Streaming candidate steps. Action method: :meth:`update` (one signal chunk).

    Results after each call: ``candidates_`` (released by this call, ascending),
    ``processed_until_`` (grid index after the last sample seen) and ``held_index_`` (the
    candidate still inside its refractory window, or None).
    """

    def __init__(self, rate_hz: float, params: DetectorParams) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params
        self._rms_cells = max(1, round(params.rms_window_s * self.rate_hz))
        self._min_step_cells = params.min_step_s * self.rate_hz
        self.candidates_: list[Candidate] = []
        self.processed_until_ = 0
        self.held_index_: float | None = None
        self.reset()

    def reset(self) -> None:
        """A new segment: forget the tails and the held candidate."""
        self._y_tail = np.empty(0)          # last two values (for maxima at the chunk's edge)
        self._g_tail = np.zeros((0, 3))     # and the gravity beside them
        self._yaw_tail: np.ndarray | None = None
        self._sq_tail = np.empty(0)         # squared values of the RMS window
        self._energy = 0.0
        self._held: Candidate | None = None
        self.held_index_ = None

    def update(self, chunk: SignalChunk) -> PeakPicker:
        """Find the candidates in one chunk (and release those whose refractory time passed)."""
        p = self.params
        out: list[Candidate] = []
        y, n_tail = chunk.values, len(self._y_tail)
        z = np.concatenate((self._y_tail, y))
        gz = np.concatenate((self._g_tail, chunk.gravity))
        yz = None
        if chunk.yaw_dps is not None:
            tail = self._yaw_tail if self._yaw_tail is not None else np.zeros(n_tail)
            yz = np.concatenate((tail, chunk.yaw_dps))
        zfirst = chunk.start - n_tail
        sq_all = np.concatenate((self._sq_tail, y * y))
        csum = np.concatenate(([0.0], np.cumsum(sq_all)))
        if len(z) >= 3:
            mid = z[1:-1]
            is_max = (mid > z[:-2]) & (mid >= z[2:]) & (mid > p.weak_floor_ms2)
            idx = np.flatnonzero(is_max) + 1
            if idx.size:
                # RMS over the window ending at each peak, within what the tail holds.
                pos = idx - n_tail + len(self._sq_tail)
                lo = np.maximum(pos + 1 - self._rms_cells, 0)
                rms = np.sqrt((csum[pos + 1] - csum[lo]) / np.maximum(pos + 1 - lo, 1))
                keep = z[idx] > p.fill_height * rms
                energy = self._energy + csum[pos + 1] - csum[len(self._sq_tail)]
                for i, r, e in zip(idx[keep].tolist(), rms[keep].tolist(),
                                   energy[keep].tolist(), strict=True):
                    a, b, c = z[i - 1], z[i], z[i + 1]
                    denom = a - 2 * b + c
                    off = 0.5 * (a - c) / denom if denom < 0 else 0.0
                    up = gz[i] / max(float(np.linalg.norm(gz[i])), 1e-9)
                    yaw = float(yz[i]) if yz is not None else None
                    self._offer(Candidate(zfirst + i + off, float(b), r, up, yaw, e), out)
        self._energy += float(csum[-1] - csum[len(self._sq_tail)])
        if chunk.final:
            self._y_tail, self._g_tail, self._yaw_tail = np.empty(0), np.zeros((0, 3)), None
        else:
            self._y_tail, self._g_tail = z[-2:], gz[-2:]
            self._yaw_tail = yz[-2:] if yz is not None else None
        keep_sq = min(len(sq_all), self._rms_cells)
        self._sq_tail = sq_all[len(sq_all) - keep_sq :]
        self.processed_until_ = chunk.start + len(y)
        # A held peak is final once its refractory window has passed.
        held = self._held
        if held is not None and (chunk.final or self.processed_until_ - 1 > held.index
                                 + self._min_step_cells):
            out.append(held)
            self._held = None
        self.held_index_ = self._held.index if self._held is not None else None
        self.candidates_ = out
        return self

    def _offer(self, cand: Candidate, out: list[Candidate]) -> None:
        """Non-maximum suppression within the minimum step interval."""
        held = self._held
        if held is not None and cand.index - held.index < self._min_step_cells:
            if cand.height > held.height:
                self._held = cand
            return
        if held is not None:
            out.append(held)
        self._held = cand
