"""MinuteAggregator: step times in, one summary per wall-clock minute out.

A *moderate minute* (DESIGN.md) is a wall-clock minute whose step count is at least the wearer's
threshold. Minutes are closed only once the detector has *settled* past their end, because the
detector confirms a bout's first steps a few seconds late and counts them retroactively.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD_SPM = 100.0


@dataclass(frozen=True)
class MinuteSummary:
    """One wall-clock minute.

    start_s: the minute's start on the aggregator's wall clock (a multiple of 60).
    cadence_spm: steps per minute over this wall-clock minute (equal to steps; a float so a
    partial minute could be scaled later without changing the type).
    moderate: steps >= threshold.
    """

    start_s: float
    steps: int
    cadence_spm: float
    moderate: bool


class MinuteAggregator:
    """Bin step times into wall-clock minutes.

    ``offset_s`` maps the detector's clock to wall-clock seconds (wall = t + offset): 0 for a
    device whose clock is already UTC, ``-t_first`` for a replay that counts from the trace start.
    Every minute from the first one seen to the last one closed is reported, walking or not.
    """

    def __init__(self, threshold_spm: float = DEFAULT_THRESHOLD_SPM, offset_s: float = 0.0) -> None:
        self.threshold_spm = float(threshold_spm)
        self.offset_s = float(offset_s)
        self._open_minute: int | None = None   # index (wall seconds // 60) of the open minute
        self._open_steps = 0
        self._later: list[float] = []          # steps that fall after the open minute

    def start(self, t: float) -> None:
        """Mark that data begins at detector time t (opens its minute if none is open)."""
        if self._open_minute is None:
            self._open_minute = math.floor((t + self.offset_s) / 60.0)

    def add_steps(self, times: np.ndarray) -> None:
        """Add confirmed step times (detector clock, ascending)."""
        if len(times) == 0:
            return
        wall = np.asarray(times, dtype=np.float64) + self.offset_s
        if self._open_minute is None:
            self._open_minute = math.floor(wall[0] / 60.0)
        minutes = np.floor(wall / 60.0).astype(np.int64)
        self._open_steps += int(np.count_nonzero(minutes <= self._open_minute))
        self._later.extend(wall[minutes > self._open_minute].tolist())

    def close_until(self, t: float) -> list[MinuteSummary]:
        """Close every minute that ends at or before detector time t."""
        if self._open_minute is None or not math.isfinite(t):
            return []
        end_minute = math.floor((t + self.offset_s) / 60.0)  # minutes < this one are complete
        closed: list[MinuteSummary] = []
        while self._open_minute < end_minute:
            closed.append(self._summary(self._open_minute, self._open_steps))
            self._open_minute += 1
            now = self._open_minute
            self._open_steps = sum(1 for w in self._later if math.floor(w / 60.0) == now)
            self._later = [w for w in self._later if math.floor(w / 60.0) > now]
        return closed

    def finish(self) -> list[MinuteSummary]:
        """Close the open minute and any after it that hold steps (end of stream)."""
        if self._open_minute is None:
            return []
        last = self._open_minute
        if self._later:
            last = max(last, math.floor(max(self._later) / 60.0))
        out = self.close_until((last + 1) * 60.0 - self.offset_s)
        self._open_minute = None
        return out

    def rebase(self, offset_s: float) -> None:
        """The wall clock was set (a host synced): later minutes follow the new offset.

        The open minute and the steps held after it move with the clock, so nothing is lost or
        counted twice; the minute in progress may straddle the old and new minute boundary.
        """
        shift = float(offset_s) - self.offset_s
        self.offset_s = float(offset_s)
        if self._open_minute is not None:
            self._open_minute = math.floor((self._open_minute * 60.0 + shift) / 60.0)
        self._later = [w + shift for w in self._later]

    def open_minute(self) -> MinuteSummary | None:
        """The minute in progress (for live screens), counted so far."""
        if self._open_minute is None:
            return None
        return self._summary(self._open_minute, self._open_steps)

    def _summary(self, minute: int, steps: int) -> MinuteSummary:
        return MinuteSummary(
            start_s=minute * 60.0,
            steps=steps,
            cadence_spm=float(steps),
            moderate=steps >= self.threshold_spm,
        )
