"""hostsync plan suggest (hostsync/plan_suggest.py): keep when missed, +10 when met, cap 130."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import PlanWeek
from device.core.progress import goal_for_week
from hostsync.plan_suggest import accept, suggest_next_goal

MON = dt.date(2026, 9, 7)


@dataclass(frozen=True)
class Week:
    week_start: dt.date
    goal_minutes: int
    moderate_minutes: int
    in_progress: bool = False


def _weeks(*pairs: tuple[int, int], in_progress_last: bool = False) -> list[Week]:
    out = [Week(MON + dt.timedelta(weeks=i), g, m) for i, (g, m) in enumerate(pairs)]
    if in_progress_last:
        out[-1] = Week(out[-1].week_start, out[-1].goal_minutes, out[-1].moderate_minutes, True)
    return out


def _next(weeks: list[Week]) -> dt.date:
    return weeks[-1].week_start + dt.timedelta(weeks=1)


def test_met_adds_ten_missed_keeps_capped_at_130():
    weeks = _weeks((60, 75), (70, 72))
    s = suggest_next_goal(weeks, _next(weeks))
    assert (s.goal_minutes, s.current_goal, s.judged) == (80, 70, weeks[-1].week_start)
    assert "met its goal (72 of 70 min): 70 + 10 = 80 min" in s.reason
    weeks = _weeks((60, 75), (70, 40))
    s = suggest_next_goal(weeks, _next(weeks))
    assert s.goal_minutes == 70 and "missed its goal (40 of 70 min): keep 70 min" in s.reason
    weeks = _weeks((120, 150), (125, 140))
    assert suggest_next_goal(weeks, _next(weeks)).goal_minutes == 130
    weeks = _weeks((130, 200))
    s = suggest_next_goal(weeks, _next(weeks))
    assert s.goal_minutes == 130 and "cap is 130" in s.reason
    weeks = _weeks((150, 200))  # the caregiver went above the cap: never lowered
    assert suggest_next_goal(weeks, _next(weeks)).goal_minutes == 150


def test_the_week_in_progress_counts_once_it_is_met():
    weeks = _weeks((60, 30), (70, 75), in_progress_last=True)
    s = suggest_next_goal(weeks, _next(weeks))
    assert s.goal_minutes == 80 and s.judged == weeks[-1].week_start
    weeks = _weeks((60, 65), (70, 20), in_progress_last=True)  # not met yet: last finished
    s = suggest_next_goal(weeks, _next(weeks))
    assert s.judged == weeks[0].week_start and s.goal_minutes == 80  # 70 + 10
    weeks = _weeks((60, 20), in_progress_last=True)
    s = suggest_next_goal(weeks, _next(weeks))
    assert s.goal_minutes == 60 and s.judged is None and "no finished week" in s.reason


def test_not_enough_wear_to_judge_keeps_the_goal():
    weeks = _weeks((60, 75), (70, 40))
    s = suggest_next_goal(weeks, _next(weeks), valid_days={weeks[-1].week_start: 3})
    assert s.goal_minutes == 70 and "only 3 valid day(s) of wear, not enough to judge" in s.reason
    s = suggest_next_goal(weeks, _next(weeks), valid_days={weeks[-1].week_start: 4})
    assert s.goal_minutes == 70 and "missed its goal" in s.reason
    weeks = _weeks((60, 75), (70, 90))  # met is met, however little it was worn
    s = suggest_next_goal(weeks, _next(weeks), valid_days={weeks[-1].week_start: 1})
    assert s.goal_minutes == 80


def test_no_data_starts_at_60():
    s = suggest_next_goal([], MON)
    assert s.goal_minutes == 60 and s.judged is None


def test_accept_is_one_entry_and_keeps_past_goals_of_the_default_plan():
    weeks = _weeks((60, 75), (70, 72))
    s = suggest_next_goal(weeks, _next(weeks))
    plan = accept((), s, weeks)
    assert plan == (PlanWeek(MON, 60), PlanWeek(MON + dt.timedelta(weeks=1), 70),
                    PlanWeek(_next(weeks), 80))
    for w in weeks:  # the past keeps its goals, so met/missed does not change afterwards
        assert goal_for_week(plan, w.week_start, None) == w.goal_minutes
    assert accept(plan, s, weeks) == plan  # accepting twice changes nothing
    later = (PlanWeek(MON, 60), PlanWeek(_next(weeks), 75), PlanWeek(MON + dt.timedelta(weeks=5),
                                                                      100))
    assert accept(later, s) == (PlanWeek(MON, 60), PlanWeek(_next(weeks), 80),
                                PlanWeek(MON + dt.timedelta(weeks=5), 100))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 180), st.integers(0, 400)), min_size=1, max_size=12),
       st.booleans())
def test_the_suggestion_never_drops_and_steps_by_at_most_ten(pairs, in_progress):
    weeks = _weeks(*pairs, in_progress_last=in_progress)
    s = suggest_next_goal(weeks, _next(weeks))
    current = weeks[-1].goal_minutes
    assert s.current_goal == current
    assert current <= s.goal_minutes <= max(current, min(130, current + 10))
    plan = accept((), s, weeks)
    assert goal_for_week(plan, s.week_start, None) == s.goal_minutes
