"""IMU sources: where samples come from (the LSM6DS chip, a recorded trace, a synthetic walker).

Every source hands the pipeline the same thing, an :class:`ImuBatch` of timestamped samples,
so the Sampler, StepDetector and MinuteAggregator never know whether they run live or replayed
(compare gpiozero's devices, which never know which pin factory drives them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class ImuBatch:
    """A run of consecutive samples.

    t: seconds on a monotonic clock (any origin), shape (N,), strictly increasing.
    acc: acceleration in m/s², gravity included, shape (N, 3).
    gyro: angular rate in deg/s, shape (N, 3), or None when the source has no gyro.
    chip_steps: the IMU's own cumulative hardware step counter at the end of the batch, or None.
    """

    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None = None
    chip_steps: int | None = None

    def __len__(self) -> int:
        return int(self.t.shape[0])


class ImuSource(Protocol):
    """Anything that yields batches of samples, about one second at a time."""

    def read(self) -> ImuBatch | None:
        """The next batch, or None when the source has ended (a trace ran out)."""
        ...

    def close(self) -> None:
        """Release the bus or file."""
        ...


class TraceSource:
    """A recorded trace served in the device's one-second batches (for `run --simulate`),
    with its gyro columns when it has them."""

    def __init__(
        self,
        t: np.ndarray,
        acc: np.ndarray,
        batch_s: float = 1.0,
        gyro: np.ndarray | None = None,
    ) -> None:
        self.t = np.asarray(t, dtype=np.float64) - float(t[0]) if len(t) else np.empty(0)
        self.acc = np.asarray(acc, dtype=np.float64)
        self.gyro = None if gyro is None else np.asarray(gyro, dtype=np.float64)
        self.batch_s = float(batch_s)
        self._pos = 0
        self._edge = self.batch_s

    def read(self) -> ImuBatch | None:
        if self._pos >= len(self.t):
            return None
        end = int(np.searchsorted(self.t, self._edge, side="left"))
        end = max(end, self._pos + 1)
        self._edge = max(self._edge, float(self.t[end - 1])) + self.batch_s
        sl = slice(self._pos, end)
        self._pos = end
        return ImuBatch(t=self.t[sl], acc=self.acc[sl],
                        gyro=None if self.gyro is None else self.gyro[sl])

    def close(self) -> None:
        self._pos = len(self.t)
