"""Wear per day and valid days per week on the host, from the wear evidence the device synced.

The device stores each minute's evidence (seconds moving above the sensor's noise, a turned
clip, the chip temperature); the worn / not-worn flags are decided here by the very same rule
(device/core/wear.py ``wear_flags``), with the whole stream in hand. A day is *valid* with at
least 10 h of wear; a finished week with fewer than 4 valid days is "not enough wear to judge"
(hostsync/plan_suggest.py MIN_VALID_DAYS). Minutes without evidence (firmware before issue 13)
are not judged: a week none of whose minutes carry evidence has no valid-day count (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from device.core.progress import wearer_zone
from device.core.wear import DayWear, daily_wear, wear_flags


def worn_minutes(rows: Iterable[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(start_utc, worn) of the trusted rows that carry wear evidence, in time order."""
    chosen = [r for r in rows if getattr(r, "wear_active_s", None) is not None
              and getattr(r, "clock_trusted", True)]
    chosen.sort(key=lambda r: r.start_utc)
    if not chosen:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=bool)
    start = np.array([r.start_utc for r in chosen], dtype=np.int64)
    worn = wear_flags(start, [r.wear_active_s for r in chosen],
                      [getattr(r, "temp_c", None) for r in chosen],
                      turned=[bool(getattr(r, "wear_turned", False)) for r in chosen])
    return start, worn


def wear_by_day(rows: Iterable[Any], config: Any, days: Sequence[dt.date]) -> list[DayWear]:
    """Wear per local day of the wearer (recorded minutes counted only with evidence)."""
    start, worn = worn_minutes(rows)
    return daily_wear(start, worn, wearer_zone(config), days)


def valid_days_by_week(rows: Iterable[Any], config: Any, week_starts: Sequence[dt.date]
                       ) -> dict[dt.date, int | None]:
    """Valid days (>= 10 h worn) per week; None for a week without any wear evidence."""
    rows = list(rows)
    days = [w + dt.timedelta(days=i) for w in week_starts for i in range(7)]
    per_day = wear_by_day(rows, config, days)
    out: dict[dt.date, int | None] = {}
    for k, week in enumerate(week_starts):
        week_days = per_day[7 * k:7 * k + 7]
        if not any(d.recorded_minutes for d in week_days):
            out[week] = None
        else:
            out[week] = sum(1 for d in week_days if d.valid)
    return out
