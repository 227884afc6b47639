"""Weekly progress against the walking plan (pure: values in, values out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class WeekProgress:
    """What the wearer's screens show, computed from minute rows, the plan and 'now'.

    week_start: first local date of the current week.
    goal_minutes: this week's goal of moderate minutes.
    moderate_minutes: moderate minutes so far this week.
    day_minutes: moderate minutes per day of this week, 7 values, week_start first.
    today_index: 0..6, which of day_minutes is today.
    today_steps / today_moderate_minutes: today's totals (local day).
    next_goal_minutes: next week's goal.
    streak_weeks: completed weeks in a row whose goal was met (the current week not counted).
    """

    week_start: dt.date
    goal_minutes: int
    moderate_minutes: int
    day_minutes: tuple[int, ...]
    today_index: int
    today_steps: int
    today_moderate_minutes: int
    next_goal_minutes: int
    streak_weeks: int
