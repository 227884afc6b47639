"""Sampler: irregular, jittery IMU samples at 15-400 Hz in, a steady grid of |a| out.

Beside |a| it carries the mean acceleration vector per cell (where gravity points) and, when the
IMU has one, the mean gyroscope reading (how fast the wearer turns).

The detector wants one thing: the acceleration magnitude (orientation-free) on a regular grid at a
fixed rate, in runs without holes. Real sensors jitter, drop samples and stall, so the Sampler

* averages every sample that falls in a grid cell (a box anti-alias filter for fast sensors),
* fills a cell left empty by a slow or jittery sensor by linear interpolation from its neighbours,
* and cuts the stream into a new *segment* wherever no sample arrived for longer than
  ``max_gap_s``: nothing is invented across a real gap, so a gap cannot create steps.

Grid cell ``k`` covers ``[k/rate, (k+1)/rate)`` seconds on the source clock; its value stands at
the cell's start. State between calls is a handful of numbers, so memory is bounded whatever the
stream's length, and the output is the same whether samples arrive one second at a time or in one
piece.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 50 Hz, not 25: with a 25 Hz grid, a jittery 25 Hz sensor lands two samples in one cell and
# none in the next, and the accuracy on recordings resampled to 25 Hz fell (MAE 1.75 % vs 1.49 %).
GRID_RATE_HZ = 50.0


@dataclass(frozen=True)
class GridRun:
    """Consecutive grid values: ``values[i]`` is cell ``start + i``.

    new_segment: True when this run does not continue the previous one (first data, or a gap).
    """

    start: int
    values: np.ndarray
    new_segment: bool
    acc: np.ndarray | None = None  # (N, 3) mean acceleration per cell: where gravity points
    gyro: np.ndarray | None = None  # (N, 3) mean angular rate per cell (deg/s), if measured


class Sampler:
    """Resample timestamped accelerations onto the detector's grid, chunk by chunk.

    Call :meth:`push` with each batch as it arrives; it returns the grid runs completed so far.
    Call :meth:`flush` at the end of a stream to release the last held cell.
    """

    def __init__(self, rate_hz: float = GRID_RATE_HZ, max_gap_s: float = 0.5) -> None:
        if not 5.0 <= rate_hz <= 200.0:
            raise ValueError("grid rate must be within 5-200 Hz")
        self.rate_hz = float(rate_hz)
        self.max_gap_cells = max(1, round(max_gap_s * rate_hz))
        # The last, possibly still-filling cell: index, sums of (|a|, ax, ay, az[, gx, gy, gz]),
        # sample count. The gyro columns appear with the first batch that has a gyro.
        self._cell = -1
        self._sum = np.zeros(4)
        self._count = 0
        # The last cell already emitted (values and index) for interpolation across empty cells.
        self._emitted_cell: int | None = None
        self._emitted_value = np.zeros(4)

    def push(
        self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None = None
    ) -> list[GridRun]:
        """Add samples (t in s, acc (N,3) m/s², gyro (N,3) deg/s or None); return the runs
        now complete. Once a gyro has been seen, a batch without one counts as not turning."""
        if len(t) == 0:
            return []
        if gyro is not None and self._sum.size == 4:
            self._sum = np.concatenate((self._sum, np.zeros(3)))
            self._emitted_value = np.concatenate((self._emitted_value, np.zeros(3)))
        data = np.zeros((len(t), self._sum.size))
        data[:, 1:4] = acc
        if gyro is not None:
            data[:, 4:] = gyro
        data[:, 0] = np.sqrt(np.einsum("ij,ij->i", acc, acc))
        cells = np.floor(np.asarray(t, dtype=np.float64) * self.rate_hz).astype(np.int64)
        if self._count and cells[0] < self._cell:
            cells = np.maximum(cells, self._cell)  # time is non-decreasing; guard float jitter
        # Samples arrive in time order, so each cell's samples are one run: sum the runs.
        starts = np.flatnonzero(np.diff(cells, prepend=cells[0] - 1))
        sums = np.add.reduceat(data, starts, axis=0)
        counts = np.diff(starts, append=len(cells))
        filled = cells[starts]
        if self._count:
            if filled[0] == self._cell:
                sums[0] += self._sum
                counts[0] += self._count
            else:
                filled = np.concatenate(([self._cell], filled))
                sums = np.concatenate((self._sum[None, :], sums))
                counts = np.concatenate(([self._count], counts))
        # The last cell may still receive samples: hold it back.
        self._cell = int(filled[-1])
        self._sum = sums[-1].copy()
        self._count = int(counts[-1])
        if len(filled) == 1:
            return []
        return self._emit(filled[:-1], sums[:-1] / counts[:-1, None])

    def flush(self) -> list[GridRun]:
        """Emit the held last cell (end of stream)."""
        if not self._count:
            return []
        runs = self._emit(np.array([self._cell]), (self._sum / self._count)[None, :])
        self._count = 0
        self._sum = np.zeros(self._sum.size)
        return runs

    def _emit(self, cells: np.ndarray, values: np.ndarray) -> list[GridRun]:
        """Turn filled cells into gap-free runs, interpolating short holes."""
        if self._emitted_cell is not None:
            cells = np.concatenate(([self._emitted_cell], cells))
            values = np.concatenate((self._emitted_value[None, :], values))
            joined = True
        else:
            joined = False
        self._emitted_cell = int(cells[-1])
        self._emitted_value = values[-1].copy()
        steps = np.diff(cells)
        breaks = np.flatnonzero(steps > self.max_gap_cells)
        runs: list[GridRun] = []
        lo = 0
        for hi in [*breaks.tolist(), len(cells) - 1]:
            seg_cells = cells[lo : hi + 1]
            seg_vals = values[lo : hi + 1]
            continues = joined and lo == 0
            if continues:  # the first cell was emitted before: skip it
                seg_out = _fill(seg_cells, seg_vals)[1:]
                start = int(seg_cells[0]) + 1
            else:
                seg_out = _fill(seg_cells, seg_vals)
                start = int(seg_cells[0])
            if len(seg_out):
                gyro = np.ascontiguousarray(seg_out[:, 4:]) if seg_out.shape[1] > 4 else None
                runs.append(GridRun(start=start, values=np.ascontiguousarray(seg_out[:, 0]),
                                    new_segment=not continues,
                                    acc=np.ascontiguousarray(seg_out[:, 1:4]), gyro=gyro))
            lo = hi + 1
        return runs


def _fill(cells: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Values (M, k) on every cell from cells[0] to cells[-1], linear across the empty ones."""
    n = int(cells[-1] - cells[0]) + 1
    if n == len(cells):
        return values
    grid = np.arange(cells[0], cells[-1] + 1)
    return np.column_stack([np.interp(grid, cells, values[:, j]) for j in range(values.shape[1])])
