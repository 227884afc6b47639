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
