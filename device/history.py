"""The wearer's last days, one record per local day (pure: arrays in, records out).

The screens' 7-day history and the report's day table count the same minute rows the same way:
a day is the wearer's local calendar day, its steps are the sum of its minutes' steps and its
brisk minutes the number of its minutes flagged moderate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DayRecord:
    """One local day: its date, steps and moderate ("brisk") minutes."""

    day: dt.date
    steps: int
    moderate_minutes: int


def day_history(
    start_utc: np.ndarray,
    steps: np.ndarray,
    moderate: np.ndarray,
    tz: dt.tzinfo,
    today: dt.date,
    days: int = 7,
) -> tuple[DayRecord, ...]:
    """The `days` local days ending with `today` (oldest first), zeros where nothing was walked.

    start_utc / steps / moderate: minute rows as column arrays (any order; rows outside the
    window are ignored).
    """
    first = today - dt.timedelta(days=days - 1)
    edges = np.array(
        [_midnight(first + dt.timedelta(days=i), tz) for i in range(days + 1)], dtype=np.int64
    )
    start_utc = np.asarray(start_utc, dtype=np.int64)
    idx = np.searchsorted(edges, start_utc, side="right") - 1
    inside = (idx >= 0) & (idx < days)
    day_steps = np.bincount(idx[inside], weights=np.asarray(steps)[inside], minlength=days)
    day_moderate = np.bincount(idx[inside & np.asarray(moderate, dtype=bool)], minlength=days)
    return tuple(
        DayRecord(first + dt.timedelta(days=i), int(day_steps[i]), int(day_moderate[i]))
        for i in range(days)
    )


def _midnight(day: dt.date, tz: dt.tzinfo) -> int:
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp())
