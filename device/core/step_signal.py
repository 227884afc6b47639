"""StepSignal: the Sampler's grid turned into the signal steps show in, streamed.

Per step the hip rises and falls once, so |a| (orientation-free: the clip may sit at any angle
and turn) shows one peak per step. This stage

* band-limits |a| to the stepping band with one FIR kernel, a 3 Hz low-pass minus a 2 s moving
  average, which also removes gravity and slow posture changes;
* estimates where gravity points (the mean acceleration over the same window), so later stages
  can tell a device being handled or a wearer sitting down from walking;
* passes on the acceleration vector beside them, so that :func:`axis_energy` can tell, for a
  stretch in question, how the hip moved along gravity and across it;
* and, when the source has a gyroscope, the rate of turning about gravity (yaw, deg/s).

Outputs are centred on the input (linear phase, delayed by half the kernel) and indexed by grid
cell, so everything downstream is a function of the sample index, never of chunk boundaries. A new
segment (a gap in the data) restarts the filter with edge padding, so no step is invented across
a gap. State is one kernel's worth of history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from device.core.params import DetectorParams
from device.core.sampler import GridRun


def design_kernel(rate_hz: float, p: DetectorParams) -> np.ndarray:
    """Band-pass FIR: windowed-sinc low-pass minus a centred moving average (same length)."""
    half = round(p.baseline_s * rate_hz / 2)
    n = 2 * half + 1
    k = np.arange(n) - half
    fc = p.lowpass_hz / rate_hz
    lowpass = 2 * fc * np.sinc(2 * fc * k) * np.hamming(n)
    lowpass /= lowpass.sum()
    return lowpass - np.full(n, 1.0 / n)


@dataclass(frozen=True)
class SignalChunk:
    """Consecutive samples of the step signal.

    start: grid index of values[0]. values: band-limited |a| (m/s²). gravity: (N, 3) mean
    acceleration around each sample (where gravity points, not normalised). yaw_dps: angular
    rate about gravity (deg/s), or None without a gyro. final: the segment ends after this
    chunk. acc: (N, 3) the acceleration at each sample (for :func:`axis_energy`), or None.
    """

    start: int
    values: np.ndarray
    gravity: np.ndarray
    yaw_dps: np.ndarray | None = None
    final: bool = False
    acc: np.ndarray | None = None


def split_chunk(chunk: SignalChunk, size: int) -> list[SignalChunk]:
    """The chunk as consecutive pieces of at most ``size`` samples (only the last ``final``).

    Later stages judge a candidate on the few seconds of signal before it, which they keep in a
    bounded history; fed a long chunk at once, that history would already have moved past the
    chunk's first candidates. In pieces, the steps are the same whatever the stream's chunking.
    """
    n = len(chunk.values)
    if n <= size:
        return [chunk]
    pieces = []
    for lo in range(0, n, size):
        hi = min(lo + size, n)
        pieces.append(SignalChunk(
            chunk.start + lo, chunk.values[lo:hi], chunk.gravity[lo:hi],
            chunk.yaw_dps[lo:hi] if chunk.yaw_dps is not None else None,
            final=chunk.final and hi == n,
            acc=chunk.acc[lo:hi] if chunk.acc is not None else None))
    return pieces


class StepSignal:
    """Streaming band-limit of |a| with gravity and yaw beside it.

    Action method: :meth:`update` (one grid run); :meth:`finish` at the end of the stream.
    Result: ``chunks_``, the signal completed by the last call (a gap ends the previous segment
    with a ``final`` chunk before the new segment's first).
    """

    def __init__(self, rate_hz: float, params: DetectorParams) -> None:
        self.rate_hz = float(rate_hz)
        self.kernel = design_kernel(self.rate_hz, params)
        self.lag = (len(self.kernel) - 1) // 2
        self.chunks_: list[SignalChunk] = []
        self._active = False
        self._seg_start = 0
        self._next = 0                     # grid index of the next output sample
        self._hist = np.empty(0)           # last len(kernel)-1 inputs
        self._vhist = np.zeros((0, 3))     # the same for the acceleration vector
        self._ghist: np.ndarray | None = None  # and for the gyro, when there is one

    def update(self, run: GridRun) -> StepSignal:
        """Filter one grid run from the Sampler."""
        self.chunks_ = []
        if run.new_segment:
            self._end_segment()
            self._start_segment(run)
        x = np.asarray(run.values, dtype=np.float64)
        buf = np.concatenate((self._hist, x))
        self._hist = buf[-(len(self.kernel) - 1) :]
        y = np.convolve(buf, self.kernel, mode="valid")
        acc = run.acc if run.acc is not None else np.zeros((len(x), 3))
        g, centre = self._window_mean("_vhist", acc)
        yaw = None
        if run.gyro is not None and self._ghist is not None:
            yaw = self._yaw(self._window_mean("_ghist", run.gyro)[0], g)
        first = run.start - self.lag  # grid index of y[0]
        if first < self._seg_start:   # outputs centred on the edge padding
            cut = self._seg_start - first
            y, g, centre = y[cut:], g[cut:], centre[cut:]
            yaw = yaw[cut:] if yaw is not None else None
            first = self._seg_start
        self._emit(SignalChunk(first, y, g, yaw, acc=centre))
        return self

    def finish(self) -> StepSignal:
        """End of stream: release the filter's tail."""
        self.chunks_ = []
        self._end_segment()
        return self

    # -- internals ------------------------------------------------------------------------------
    def _emit(self, chunk: SignalChunk) -> None:
        self._next = chunk.start + len(chunk.values)
        self.chunks_.append(chunk)

    def _window_mean(self, name: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mean over the kernel's window, centred like the filtered signal (running sums), and
        the samples it is centred on."""
        width = len(self.kernel)
        buf = np.concatenate((getattr(self, name), values))
        setattr(self, name, buf[-(width - 1) :])
        csum = np.concatenate((np.zeros((1, 3)), np.cumsum(buf, axis=0)))
        mean = (csum[width:] - csum[:-width]) / width
        return mean, buf[self.lag : self.lag + len(mean)]

    @staticmethod
    def _yaw(gyro: np.ndarray, gravity: np.ndarray) -> np.ndarray:
        norm = np.sqrt(np.einsum("ij,ij->i", gravity, gravity))
        return np.einsum("ij,ij->i", gyro, gravity) / np.maximum(norm, 1e-9)

    def _start_segment(self, run: GridRun) -> None:
        self._active = True
        self._seg_start = run.start
        self._next = run.start
        n = len(self.kernel) - 1
        first = float(run.values[0]) if len(run.values) else 0.0
        self._hist = np.full(n, first)
        first_acc = run.acc[0] if run.acc is not None and len(run.acc) else np.zeros(3)
        self._vhist = np.repeat(np.asarray(first_acc, dtype=np.float64)[None, :], n, axis=0)
        if run.gyro is not None and len(run.gyro):
            self._ghist = np.repeat(np.asarray(run.gyro[0], dtype=np.float64)[None, :], n, axis=0)
        else:
            self._ghist = None

    def _end_segment(self) -> None:
        """Flush the filter with edge padding: the segment's last `lag` outputs."""
        if not self._active:
            return
        self._active = False
        if not self.lag:
            self._emit(SignalChunk(self._next, np.empty(0), np.zeros((0, 3)), None, final=True,
                                   acc=np.zeros((0, 3))))
            return
        buf = np.concatenate((self._hist, np.full(self.lag, self._hist[-1])))
        y = np.convolve(buf, self.kernel, mode="valid")[-self.lag :]
        g, centre = self._window_mean("_vhist", np.repeat(self._vhist[-1:], self.lag, axis=0))
        yaw = None
        if self._ghist is not None:
            gyro = self._window_mean("_ghist", np.repeat(self._ghist[-1:], self.lag, axis=0))[0]
            yaw = self._yaw(gyro, g)[-len(y) :]
        self._emit(SignalChunk(self._next, y, g[-len(y) :], yaw, final=True,
                               acc=centre[-len(y) :]))


def axis_energy(acc: np.ndarray, gravity: np.ndarray) -> tuple[float, float]:
    """Energy of the dynamic acceleration (acc minus gravity) along gravity and across it.

    Walking moves the hip forwards and sideways about as much as up and down; a car's suspension
    bounces it mostly up and down; a body shifting or turning over moves it mostly sideways.
    Returns (vertical, horizontal) sums of squares (m²/s⁴ x samples).
    """
    dyn = acc - gravity
    g2 = np.maximum(np.einsum("ij,ij->i", gravity, gravity), 1e-18)
    along = np.einsum("ij,ij->i", dyn, gravity)
    vertical = float(np.sum(along * along / g2))
    total = float(np.einsum("ij,ij->", dyn, dyn))
    return vertical, max(total - vertical, 0.0)
