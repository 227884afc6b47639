"""Coaching rules (device/core/coaching.py): what gets the week back on plan."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from device.core.coaching import (
    LINE_CHARS,
    brisk_walks,
    coach,
    goal_just_met,
    usual_walk_minutes,
)


def test_behind_says_how_many_brisk_minutes_today_keep_the_week_on_plan():
    # goal 130; Mon-Thu 70 min (the plan expects 74 by Friday morning); 8 min on Friday so far
    c = coach(130, [20, 20, 15, 15, 8, 0, 0], 4, recent_walks=[12, 15, 18, 14],
              recent_days=[20, 25, 15])
    assert c.state == "behind"
    assert c.days_left == 3 and c.remaining_minutes == 52
    assert c.today_target == 12  # ceil((130 - 70) / 3) = 20 a day, 8 done today
    assert c.line == "12 brisk min today"
    assert c.message.startswith("12 brisk minutes today keeps you on plan")


def test_a_target_longer_than_the_wearers_walks_is_split_into_their_usual_walks():
    c = coach(130, [10, 10, 10, 0, 0, 0, 0], 3, recent_walks=[8, 10, 12, 10, 9],
              recent_days=[30, 20, 35])
    assert c.state == "behind" and c.today_target == 25
    assert (c.walks, c.walk_minutes) == (3, 9)
    assert c.line == "3 walks of 9 min"


def test_on_plan_goal_met_and_out_of_reach():
    assert coach(130, [20, 20, 0, 0, 0, 0, 0], 2).state == "on_plan"
    c = coach(130, [20, 20, 0, 0, 0, 0, 0], 2)
    # on plan, today's share still to walk: 90 min over 5 days; no walks yet: 10-min walks
    assert c.today_target == 18 and c.line == "2 walks of 9 min"
    c = coach(70, [20, 20, 10, 0, 0, 0, 0], 2)
    assert c.state == "on_plan" and c.today_target == 0 and c.line == "On plan: 20 min to go"
    c = coach(130, [40, 40, 30, 25, 0, 0, 0], 3)
    assert c.state == "goal_met" and c.line == "Goal met! 135/130 min"
    c = coach(130, [5, 0, 0, 0, 0, 0, 0], 6, recent_walks=[11, 11, 12], recent_days=[25, 22])
    assert c.state == "out_of_reach" and c.today_target == 11
    assert c.line == "A 11-min walk today"


def test_brisk_walks_are_runs_of_consecutive_moderate_minutes():
    start = 1_780_000_020 + 60 * np.array([0, 1, 2, 5, 6, 9, 30, 31, 32, 33])
    moderate = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)
    order = np.random.default_rng(1).permutation(start.size)
    assert brisk_walks(start[order], moderate[order]).tolist() == [3, 1, 1, 4]
    assert brisk_walks([], []).size == 0
    assert usual_walk_minutes([3, 1, 1, 4]) == 5  # at least 5 minutes
    assert usual_walk_minutes([]) == 10


def test_the_celebration_shows_once_when_the_goal_is_crossed():
    assert goal_just_met(129, 130, 130)
    assert not goal_just_met(130, 131, 130)
    assert not goal_just_met(None, 140, 130)  # first look of the day: not a crossing
    assert not goal_just_met(120, 140, 130, same_week=False)
    assert not goal_just_met(100, 120, 130)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 300), st.lists(st.integers(0, 200), min_size=7, max_size=7),
       st.integers(0, 6), st.lists(st.integers(0, 90), max_size=20),
       st.lists(st.integers(0, 200), max_size=14))
def test_following_the_advice_reaches_the_goal(goal, days, today, walks, recent):
    days = [d if i <= today else 0 for i, d in enumerate(days)]
    c = coach(goal, days, today, walks, recent)
    assert len(c.line) <= LINE_CHARS and c.line
    done = sum(days)
    if done >= goal:
        assert c.state == "goal_met"
        return
    if c.state == "out_of_reach":
        return
    before = done - days[today]
    per_day = math.ceil((goal - before) / (7 - today))
    # today's target, then per_day on each day left, makes the goal
    assert done + c.today_target + per_day * (6 - today) >= goal
    assert c.walks * c.walk_minutes >= c.today_target
    assert c.state in ("behind", "on_plan")
