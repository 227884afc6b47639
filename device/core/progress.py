"""Weekly progress against the walking plan (pure: values in, values out)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from device.config import WearerConfig


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


# ---------------------------------------------------------------------------------------------
# Rules (DESIGN.md): weeks are local to the wearer's time zone and start on week_start_day.
# Default plan (no plan set): week 1 is the first FULL week with data (the week that starts on or
# after the local date of the first trusted minute); it has goal 60, each later week +10, capped
# at 130; weeks before week 1 (including the partial first week) and wearers with no data: 60.
# With a plan: the goal of the latest entry whose week_start <= the week's start; weeks before
# the first entry take the first entry's goal. The moderate flag stored in each minute row is used
# as recorded (a threshold change applies from then on, it does not rewrite past minutes).

DEFAULT_FIRST_GOAL = 60
DEFAULT_WEEKLY_STEP = 10
DEFAULT_CAP = 130
PLAUSIBLE_UTC_MIN = 1577836800  # 2020-01-01: earlier start_utc values come from an unset clock
MAX_HISTORY_WEEKS = 104  # streaks look back at most two years

PlanLike = Sequence[Any]  # PlanWeek objects or (week_start, goal_minutes) pairs


def week_start_for(local_date: dt.date, week_start_day: int) -> dt.date:
    """The first day of the week containing local_date (week_start_day: 0=Monday .. 6=Sunday)."""
    return local_date - dt.timedelta(days=(local_date.weekday() - week_start_day) % 7)


def first_full_week(first_local_date: dt.date, week_start_day: int) -> dt.date:
    """The start of the first week that lies wholly on or after first_local_date."""
    start = week_start_for(first_local_date, week_start_day)
    return start if start == first_local_date else start + dt.timedelta(days=7)


def goal_for_week(plan: PlanLike, week_start: dt.date, first_data_week: dt.date | None) -> int:
    """The goal (moderate minutes) of the week starting week_start.

    plan: PlanWeek entries or (week_start, goal) pairs, any order; empty = default plan.
    first_data_week: week 1 of the default plan (see first_full_week), None if no data yet.
    """
    entries = sorted((_plan_entry(p) for p in plan), key=lambda e: e[0])
    if entries:
        goal = entries[0][1]
        for start, g in entries:
            if start <= week_start:
                goal = g
            else:
                break
        return int(goal)
    if first_data_week is None:
        return DEFAULT_FIRST_GOAL
    weeks_in = (week_start - first_data_week).days // 7
    if weeks_in <= 0:
        return DEFAULT_FIRST_GOAL
    return min(DEFAULT_CAP, DEFAULT_FIRST_GOAL + DEFAULT_WEEKLY_STEP * weeks_in)


def first_data_utc_of(minutes: Iterable[Any]) -> int | None:
    """start_utc of the earliest trusted, plausible minute (rows without a clock_trusted
    attribute count as trusted), or None. Store.first_data_utc() is the device's pinned value."""
    best: int | None = None
    for m in minutes:
        if hasattr(m, "start_utc"):
            if not getattr(m, "clock_trusted", True):
                continue
            t = int(m.start_utc)
        else:
            t = int(m[0])
        if t >= PLAUSIBLE_UTC_MIN and (best is None or t < best):
            best = t
    return best


def first_data_week_for(first_data_utc: int | None, config: WearerConfig) -> dt.date | None:
    """Week 1 of the default plan for a wearer whose first trusted minute is first_data_utc."""
    if first_data_utc is None:
        return None
    first_day = dt.datetime.fromtimestamp(first_data_utc, wearer_zone(config)).date()
    return first_full_week(first_day, config.week_start_day)


def week_goal(
    config: WearerConfig,
    week_start: dt.date,
    minutes: Iterable[Any] = (),
    first_data_utc: int | None = None,
) -> int:
    """goal_for_week with the config's plan and week 1 found from first_data_utc (default: the
    earliest trusted minute among `minutes`). For the host report: same numbers as the device."""
    if first_data_utc is None and not config.plan:
        first_data_utc = first_data_utc_of(minutes)
    return goal_for_week(config.plan, week_start, first_data_week_for(first_data_utc, config))


def wearer_zone(config: WearerConfig) -> dt.tzinfo:
    """The wearer's zone; UTC if this system lacks its tz data (never crash the screen)."""
    try:
        return zoneinfo.ZoneInfo(config.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return dt.UTC


def local_midnight_utc(day: dt.date, tz: dt.tzinfo) -> int:
    """Epoch seconds at which the local day starts (DST-aware; a skipped midnight starts the day
    at the transition)."""
    return int(dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp())


def week_progress(
    minutes: Iterable[Any],
    config: WearerConfig,
    now_utc: float,
    first_data_utc: int | None = None,
) -> WeekProgress:
    """The screens' numbers for 'now'.

    minutes: MinuteRow-like objects (start_utc, steps, moderate) or (start_utc, steps, moderate)
    tuples, any order; pass at least the current week, plus earlier weeks for the streak.
    first_data_utc: the wearer's first trusted minute (Store.first_data_utc()); None = the
    earliest trusted one among `minutes`.
    """
    rows = minutes if isinstance(minutes, list | tuple) else list(minutes)
    n = len(rows)
    if n and hasattr(rows[0], "start_utc"):
        start = np.fromiter((r.start_utc for r in rows), np.int64, n)
        steps = np.fromiter((r.steps for r in rows), np.int64, n)
        moderate = np.fromiter((bool(r.moderate) for r in rows), np.bool_, n)
    else:
        start = np.fromiter((r[0] for r in rows), np.int64, n)
        steps = np.fromiter((r[1] for r in rows), np.int64, n)
        moderate = np.fromiter((bool(r[2]) for r in rows), np.bool_, n)
    if first_data_utc is None:
        first_data_utc = first_data_utc_of(rows)
    return week_progress_arrays(start, steps, moderate, config, now_utc, first_data_utc)


def week_progress_arrays(
    start_utc: np.ndarray,
    steps: np.ndarray,
    moderate: np.ndarray,
    config: WearerConfig,
    now_utc: float,
    first_data_utc: int | None = None,
) -> WeekProgress:
    """week_progress on column arrays (start_utc int, steps int, moderate bool), the fast path.
    first_data_utc None here means 'no data yet' (default plan week 1 unknown: goal 60)."""
    tz = wearer_zone(config)
    wsd = config.week_start_day
    today = dt.datetime.fromtimestamp(now_utc, tz).date()
    this_week = week_start_for(today, wsd)
    start_utc = np.asarray(start_utc, dtype=np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    moderate = np.asarray(moderate, dtype=bool)
    # Weeks counted: from the week of the earliest row (at most MAX_HISTORY_WEEKS back) to now;
    # rows after this week (a clock set backwards) are ignored.
    history_start = this_week - dt.timedelta(days=7 * MAX_HISTORY_WEEKS)
    first_week = this_week
    if start_utc.size:
        earliest = int(start_utc.min())
        if earliest < local_midnight_utc(history_start, tz):
            first_week = history_start
        else:
            earliest_day = dt.datetime.fromtimestamp(earliest, tz).date()
            first_week = min(this_week, week_start_for(earliest_day, wsd))
    n_weeks = (this_week - first_week).days // 7 + 1
    week_days = [first_week + dt.timedelta(days=7 * k) for k in range(n_weeks + 1)]
    week_edges = np.array([local_midnight_utc(d, tz) for d in week_days], dtype=np.int64)
    week_idx = np.searchsorted(week_edges, start_utc, side="right") - 1
    in_range = (week_idx >= 0) & (week_idx < n_weeks)
    week_moderate = np.bincount(week_idx[in_range & moderate], minlength=n_weeks)[:n_weeks]

    day_edges = np.array(
        [local_midnight_utc(this_week + dt.timedelta(days=i), tz) for i in range(8)],
        dtype=np.int64,
    )
    day_idx = np.searchsorted(day_edges, start_utc, side="right") - 1
    in_week = (day_idx >= 0) & (day_idx < 7)
    day_minutes = np.bincount(day_idx[in_week & moderate], minlength=7)[:7]
    today_index = (today - this_week).days
    today_steps = int(steps[in_week & (day_idx == today_index)].sum())

    fdw = first_data_week_for(first_data_utc, config)
    streak = 0
    for k in range(n_weeks - 2, -1, -1):
        if int(week_moderate[k]) >= goal_for_week(config.plan, week_days[k], fdw):
            streak += 1
        else:
            break
    return WeekProgress(
        week_start=this_week,
        goal_minutes=goal_for_week(config.plan, this_week, fdw),
        moderate_minutes=int(day_minutes.sum()),
        day_minutes=tuple(int(x) for x in day_minutes),
        today_index=today_index,
        today_steps=today_steps,
        today_moderate_minutes=int(day_minutes[today_index]),
        next_goal_minutes=goal_for_week(config.plan, this_week + dt.timedelta(days=7), fdw),
        streak_weeks=streak,
    )


def _plan_entry(p: Any) -> tuple[dt.date, int]:
    if hasattr(p, "week_start"):
        return p.week_start, int(p.goal_minutes)
    start, goal = p
    return start, int(goal)
