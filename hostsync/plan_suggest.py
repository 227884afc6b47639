"""`hostsync plan suggest`: next week's goal from the last weeks (pure: weeks in, a suggestion out).

The rule is the design's progressive plan (../shared/DESIGN.md), applied to what the wearer
actually did rather than to the calendar:

* the week judged is the last finished week, or the week in progress once it has already met
  its goal (a wearer who is done by Thursday has earned the next step);
* met: next week's goal is this week's + 10 minutes, capped at 130 (a goal the caregiver set
  above 130 is kept, never lowered);
* missed: keep the goal (the programme never steps back by itself);
* a missed week with fewer than 4 valid days (10 h of wear) cannot be judged: keep the goal,
  and say why (a met goal is met, however little the clip was worn);
* no weeks yet: the plan's first goal, 60.

:func:`accept` turns a suggestion into the plan the device gets, so the caregiver accepts it in
one command (``hostsync plan suggest --accept``). On the default plan (no entries) the weeks so
far are written out with the goals they had, so accepting never changes a past week's goal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from device.config import PlanWeek
from device.core.progress import DEFAULT_CAP, DEFAULT_FIRST_GOAL, DEFAULT_WEEKLY_STEP

MIN_VALID_DAYS = 4  # fewer valid days: "not enough wear to judge"


@dataclass(frozen=True)
class PlanSuggestion:
    """week_start: the week the goal is for; judged: the week it is based on (None: no data)."""

    week_start: dt.date
    goal_minutes: int
    current_goal: int
    judged: dt.date | None
    reason: str


def suggest_next_goal(
    weeks: Sequence[Any],
    next_week_start: dt.date,
    valid_days: Mapping[dt.date, int] | None = None,
    step: int = DEFAULT_WEEKLY_STEP,
    cap: int = DEFAULT_CAP,
) -> PlanSuggestion:
    """The goal for the week starting next_week_start.

    weeks: WeekSummary-like objects (week_start, goal_minutes, moderate_minutes, in_progress),
    oldest first, the weeks before next_week_start. valid_days: valid days (>= 10 h of wear) per
    week start, when wear is known; a week missing from it is judged on its minutes alone.
    """
    before = sorted((w for w in weeks if w.week_start < next_week_start),
                    key=lambda w: w.week_start)
    if not before:
        return PlanSuggestion(next_week_start, DEFAULT_FIRST_GOAL, DEFAULT_FIRST_GOAL, None,
                              f"no weeks of data yet: the plan starts at {DEFAULT_FIRST_GOAL} min")
    current = int(before[-1].goal_minutes)
    judged = None
    for w in reversed(before):
        in_progress = bool(getattr(w, "in_progress", False))
        if not in_progress or int(w.moderate_minutes) >= int(w.goal_minutes):
            judged = w
            break
    if judged is None:
        return PlanSuggestion(next_week_start, current, current, None,
                              f"no finished week yet: keep {current} min")
    label = judged.week_start.isoformat()
    done, goal = int(judged.moderate_minutes), int(judged.goal_minutes)
    valid = None if valid_days is None else valid_days.get(judged.week_start)
    if done < goal and valid is not None and valid < MIN_VALID_DAYS:
        return PlanSuggestion(next_week_start, current, current, judged.week_start,
                              f"week of {label}: only {valid} valid day(s) of wear, not enough "
                              f"to judge: keep {current} min")
    if done >= goal:
        new = current if current >= cap else min(cap, current + step)
        why = (f"week of {label} met its goal ({done} of {goal} min): "
               + (f"{current} + {step} = {new} min" if new > current
                  else f"keep {current} min (the plan's cap is {cap})"))
        return PlanSuggestion(next_week_start, new, current, judged.week_start, why)
    return PlanSuggestion(next_week_start, current, current, judged.week_start,
                          f"week of {label} missed its goal ({done} of {goal} min): "
                          f"keep {current} min")


def accept(plan: Sequence[PlanWeek], suggestion: PlanSuggestion,
           weeks: Sequence[Any] = ()) -> tuple[PlanWeek, ...]:
    """The plan with the suggestion in it (replacing an entry for the same week). On an empty
    (default) plan, the given weeks keep the goals they had."""
    entries = {p.week_start: p for p in plan}
    if not entries:
        for w in weeks:
            if w.week_start < suggestion.week_start:
                entries[w.week_start] = PlanWeek(w.week_start, int(w.goal_minutes))
    entries[suggestion.week_start] = PlanWeek(suggestion.week_start, suggestion.goal_minutes)
    return tuple(entries[k] for k in sorted(entries))
