"""Coaching: what would get this week back on plan, in the wearer's own terms (pure).

The WalkBack programme works when people keep walking week after week, so the home screen does
not only say "behind": it says what would fix it, sized from the days left and from the
wearer's own recent walks ("12 brisk min today keeps you on plan", "2 walks of 10 min today").

The rules (:func:`coach`):

* **goal met**: this week's brisk (moderate) minutes reached its goal: celebrate
  (:func:`goal_just_met` says when it happened, so the celebration shows once).
* **on plan**: today's share (below) is walked, or the days before today hold at least the
  goal's share of them (goal x days before today / 7) and today's share is still to come.
* **behind** otherwise. What keeps the week on plan is the rest of the goal spread evenly over
  the days left (today included): ``today_target`` = ceil((goal - done before today) / days
  left) - done today. It is said as walks of the wearer's usual length when that is more than
  one usual walk (the median of their continuous brisk walks of the last 14 days, at least
  ``MIN_WALK_MIN``), never longer than the longest one they did.
* **out of reach**: even a day as good as their best recent day (at least 30 min), every day
  left, would not make it. The screen then asks for what they can do: their usual walk today.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

MIN_WALK_MIN = 5       # a suggested walk is at least this long
DEFAULT_WALK_MIN = 10  # the usual walk before the wearer has any
MIN_BEST_DAY_MIN = 30  # "out of reach" needs more than this a day
RECENT_DAYS = 14

State = Literal["goal_met", "on_plan", "behind", "out_of_reach"]


@dataclass(frozen=True)
class Coaching:
    """What the home screen says about the week.

    remaining_minutes: brisk minutes still missing for the week's goal.
    days_left: days of this week left, today included.
    today_target: brisk minutes still to walk today to stay on plan (0 when on plan or met).
    walks / walk_minutes: today_target as that many walks of about walk_minutes.
    line: one short line for the 128x64 screen (at most LINE_CHARS characters).
    message: the same in a sentence (reports, logs).
    """

    state: State
    remaining_minutes: int
    days_left: int
    today_target: int
    walks: int
    walk_minutes: int
    line: str
    message: str


LINE_CHARS = 21


def brisk_walks(start_utc: Sequence[int] | np.ndarray, moderate: Sequence[bool] | np.ndarray
                ) -> np.ndarray:
    """Lengths (minutes) of the continuous brisk walks in minute rows: runs of consecutive
    moderate minutes (rows in any order; a missing minute ends a walk)."""
    start = np.asarray(start_utc, dtype=np.int64)
    mod = np.asarray(moderate, dtype=bool)
    if start.size == 0:
        return np.empty(0, dtype=np.int64)
    order = np.argsort(start, kind="stable")
    s = start[order][mod[order]]
    if s.size == 0:
        return np.empty(0, dtype=np.int64)
    breaks = np.flatnonzero(np.diff(s) != 60) + 1
    edges = np.r_[0, breaks, s.size]
    return np.diff(edges).astype(np.int64)


def usual_walk_minutes(walks: Sequence[int] | np.ndarray) -> int:
    """The wearer's usual brisk walk: the median of their walks of at least 2 minutes."""
    w = np.asarray(walks, dtype=np.int64)
    w = w[w >= 2]
    if w.size == 0:
        return DEFAULT_WALK_MIN
    return max(MIN_WALK_MIN, round(float(np.median(w))))


def coach(
    goal_minutes: int,
    day_minutes: Sequence[int],
    today_index: int,
    recent_walks: Sequence[int] | np.ndarray = (),
    recent_days: Sequence[int] = (),
) -> Coaching:
    """The week's coaching.

    goal_minutes: this week's goal; day_minutes: brisk minutes per day of this week (7 values,
    the week's first day first; days after today are 0); today_index: 0..6.
    recent_walks: lengths (min) of the wearer's continuous brisk walks of the last 14 days
    (:func:`brisk_walks`); recent_days: their brisk minutes per day over the same days.
    """
    days = [max(0, int(d)) for d in day_minutes][:7]
    days += [0] * (7 - len(days))
    today_index = min(max(int(today_index), 0), 6)
    goal = max(0, int(goal_minutes))
    done = sum(days)
    today = days[today_index]
    before_today = done - today
    days_left = 7 - today_index
    remaining = max(0, goal - done)
    usual = usual_walk_minutes(recent_walks)
    longest = int(max(recent_walks, default=0))
    if remaining == 0:
        text = f"Goal met! {done}/{goal} min"
        return Coaching("goal_met", 0, days_left, 0, 0, 0, text[:LINE_CHARS],
                        f"Goal met: {done} brisk minutes this week against {goal}. Well done!")
    per_day = math.ceil((goal - before_today) / days_left)
    target = max(0, per_day - today)
    if target == 0:  # today's share is walked: the rest fits in the days left
        return Coaching("on_plan", remaining, days_left, 0, 0, 0,
                        f"On plan: {remaining} min to go"[:LINE_CHARS],
                        f"On plan: {remaining} brisk minutes to go in {days_left} day(s).")
    best_day = max(MIN_BEST_DAY_MIN, int(max(recent_days, default=0)))
    if per_day > best_day:
        walk = min(usual, best_day)
        return Coaching("out_of_reach", remaining, days_left, walk, 1, walk,
                        f"A {walk}-min walk today"[:LINE_CHARS],
                        f"{remaining} brisk minutes are left in {days_left} day(s): more than "
                        f"your best days. A {walk}-minute brisk walk today still counts.")
    state: State = "on_plan" if before_today >= goal * today_index / 7 else "behind"
    walk_len = min(usual, longest) if longest >= MIN_WALK_MIN else usual
    walks = max(1, math.ceil(target / walk_len))
    if walks == 1:
        line = f"{target} brisk min today"
        how = f"{target} brisk minutes today"
    else:
        each = math.ceil(target / walks)
        line = f"{walks} walks of {each} min"
        how = f"{walks} brisk walks of {each} minutes today"
        walk_len = each
    return Coaching(state, remaining, days_left, target, walks, walk_len if walks > 1 else target,
                    line[:LINE_CHARS], f"{how} keep(s) you on plan ({remaining} min to go "
                    f"in {days_left} day(s)).".replace("keep(s)", "keeps" if walks == 1
                                                       else "keep"))


def goal_just_met(before_minutes: int | None, after_minutes: int, goal_minutes: int,
                  same_week: bool = True) -> bool:
    """True when the week's goal was reached between two looks at it (celebrate once)."""
    if goal_minutes <= 0 or after_minutes < goal_minutes:
        return False
    if before_minutes is None or not same_week:
        return False
    return before_minutes < goal_minutes
