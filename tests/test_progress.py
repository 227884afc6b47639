"""Weekly progress: local weeks across DST, the plan, the default progression and streaks."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import PlanWeek, WearerConfig
from device.core.progress import (
    WeekProgress,
    first_data_utc_of,
    first_full_week,
    goal_for_week,
    week_goal,
    week_progress,
    week_start_for,
)
from device.store import MinuteRow

D = dt.date
UTC = dt.UTC


def utc(y, mo, d, h=0, mi=0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=UTC).timestamp())


def local(tz: str, y, mo, d, h=0, mi=0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=zoneinfo.ZoneInfo(tz)).timestamp())


def mod(t: int, steps: int = 110) -> tuple[int, int, bool]:
    return (t, steps, steps >= 100)


# -- weeks and goals ---------------------------------------------------------------------------


def test_week_start_for_monday_and_sunday_weeks():
    wed = D(2026, 3, 4)
    assert week_start_for(wed, 0) == D(2026, 3, 2)
    assert week_start_for(wed, 6) == D(2026, 3, 1)
    assert week_start_for(D(2026, 3, 2), 0) == D(2026, 3, 2)
    assert week_start_for(D(2026, 3, 1), 0) == D(2026, 2, 23)


@given(st.dates(min_value=D(1900, 1, 8)), st.integers(0, 6))
def test_week_start_is_the_right_weekday_within_the_last_six_days(day, wsd):
    start = week_start_for(day, wsd)
    assert start.weekday() == wsd and 0 <= (day - start).days <= 6


def test_first_full_week_skips_a_partial_first_week():
    assert first_full_week(D(2026, 3, 2), 0) == D(2026, 3, 2)  # started on a Monday
    assert first_full_week(D(2026, 3, 4), 0) == D(2026, 3, 9)  # started on a Wednesday
    assert first_full_week(D(2026, 3, 4), 2) == D(2026, 3, 4)


def test_default_plan_starts_at_60_adds_10_a_week_and_caps_at_130():
    w1 = D(2026, 3, 2)
    weeks = [w1 + dt.timedelta(days=7 * k) for k in range(-2, 12)]
    assert [goal_for_week((), w, w1) for w in weeks] == [
        60,
        60,
        60,
        70,
        80,
        90,
        100,
        110,
        120,
        130,
        130,
        130,
        130,
        130,
    ]
    assert goal_for_week((), D(2030, 1, 7), None) == 60  # no data yet


def test_plan_goal_is_the_latest_entry_not_after_the_week():
    plan = (
        PlanWeek(D(2026, 3, 23), 90),
        PlanWeek(D(2026, 3, 9), 70),
        PlanWeek(D(2026, 3, 25), 100),
    )
    assert goal_for_week(plan, D(2026, 3, 2), None) == 70  # before the first entry
    assert goal_for_week(plan, D(2026, 3, 9), None) == 70
    assert goal_for_week(plan, D(2026, 3, 16), None) == 70
    assert goal_for_week(plan, D(2026, 3, 23), None) == 90  # the Wednesday entry starts later
    assert goal_for_week(plan, D(2026, 3, 30), None) == 100
    assert goal_for_week([(D(2026, 3, 9), 45)], D(2026, 6, 1), D(2020, 1, 6)) == 45  # plan wins


# -- this week ---------------------------------------------------------------------------------


def test_week_days_today_and_totals():
    cfg = WearerConfig()
    rows = [
        mod(utc(2026, 3, 1, 23, 59)),  # Sunday: last week
        *(mod(utc(2026, 3, 2, 9, m)) for m in range(3)),
        (utc(2026, 3, 2, 10, 0), 50, False),
        *(mod(utc(2026, 3, 3, 18, m)) for m in range(5)),
        *(mod(utc(2026, 3, 4, 7, m), 120) for m in range(2)),
    ]
    p = week_progress(reversed(rows), cfg, utc(2026, 3, 4, 10))  # any order, any iterable
    assert p == WeekProgress(
        week_start=D(2026, 3, 2),
        goal_minutes=60,
        moderate_minutes=10,
        day_minutes=(3, 5, 2, 0, 0, 0, 0),
        today_index=2,
        today_steps=240,
        today_moderate_minutes=2,
        next_goal_minutes=70,  # first data on a Sunday: week 1 is the week of 2 March
        streak_weeks=0,  # last week had 1 minute for a goal of 60
    )


def test_no_data_gives_zeros_and_the_starting_goal():
    p = week_progress([], WearerConfig(week_start_day=6), utc(2026, 3, 4, 10))
    assert (p.week_start, p.goal_minutes, p.next_goal_minutes) == (D(2026, 3, 1), 60, 60)
    assert p.day_minutes == (0,) * 7 and p.today_index == 3 and p.streak_weeks == 0


def test_london_spring_forward_week_boundary_is_local_midnight():
    cfg = WearerConfig(timezone="Europe/London")
    rows = [
        mod(utc(2026, 3, 29, 22, 59)),  # Sunday 23:59 BST: previous week
        mod(utc(2026, 3, 29, 23, 30)),  # Monday 00:30 BST: this week, day 0
    ]
    p = week_progress(rows, cfg, local("Europe/London", 2026, 3, 30, 8))
    assert p.week_start == D(2026, 3, 30)
    assert p.day_minutes == (1, 0, 0, 0, 0, 0, 0)
    # The short Sunday (23 h): 00:00 GMT to 24:00 BST is 23*60 minutes, all of that day.
    sunday = [mod(utc(2026, 3, 29, 0, 0) + 60 * i) for i in range(23 * 60)]
    q = week_progress(sunday, cfg, local("Europe/London", 2026, 3, 29, 23, 59))
    assert q.day_minutes[6] == 23 * 60 and q.today_index == 6


def test_london_autumn_25_hour_sunday_with_sunday_weeks():
    cfg = WearerConfig(timezone="Europe/London", week_start_day=6)
    rows = [
        mod(utc(2026, 10, 24, 22, 50)),  # Saturday 23:50 BST: previous week
        mod(utc(2026, 10, 24, 23, 10)),  # Sunday 00:10 BST: day 0
        mod(utc(2026, 10, 25, 23, 30)),  # Sunday 23:30 GMT: still day 0 (25-hour day)
        mod(utc(2026, 10, 26, 0, 0)),  # Monday 00:00 GMT: day 1
    ]
    p = week_progress(rows, cfg, utc(2026, 10, 26, 12))
    assert p.week_start == D(2026, 10, 25)
    assert p.day_minutes[:3] == (2, 1, 0) and p.today_index == 1


def test_new_york_week_boundaries_across_both_changes():
    ny = "America/New_York"
    cfg = WearerConfig(timezone=ny)
    # Spring: Monday 9 March 2026 starts at 04:00 UTC (EDT).
    rows = [mod(utc(2026, 3, 9, 3, 59)), mod(utc(2026, 3, 9, 4, 0))]
    p = week_progress(rows, cfg, local(ny, 2026, 3, 9, 12))
    assert p.week_start == D(2026, 3, 9) and p.moderate_minutes == 1
    # Autumn: Monday 2 November 2026 starts at 05:00 UTC (EST).
    rows = [mod(utc(2026, 11, 2, 4, 59)), mod(utc(2026, 11, 2, 5, 0)), mod(utc(2026, 11, 2, 5, 1))]
    p = week_progress(rows, cfg, local(ny, 2026, 11, 2, 9))
    assert p.week_start == D(2026, 11, 2) and p.day_minutes[0] == 2


def test_rows_after_this_week_are_ignored_not_a_crash():
    rows = [mod(utc(2026, 5, 5, 9)), mod(utc(2026, 3, 20, 9))]  # clock was ahead, then fixed
    p = week_progress(rows, WearerConfig(), utc(2026, 3, 4, 10))
    assert p.moderate_minutes == 0 and p.streak_weeks == 0 and p.week_start == D(2026, 3, 2)


# -- plan, default progression and streaks ------------------------------------------------------


def weeks_of(minutes_per_week: list[int], first_monday: D) -> list[tuple[int, int, bool]]:
    rows = []
    for k, n in enumerate(minutes_per_week):
        t0 = utc(first_monday.year, first_monday.month, first_monday.day) + k * 7 * 86400
        rows += [mod(t0 + 86400 + 60 * i) for i in range(n)]  # Tuesdays
    return rows


def test_streak_counts_completed_weeks_meeting_their_goal():
    cfg = WearerConfig()
    first = D(2026, 2, 2)  # data starts on a Monday: week 1 = 2 Feb (goal 60)
    rows = weeks_of([60, 50, 80, 90, 5], first)  # goals 60, 70, 80, 90; this week 100
    rows.insert(0, mod(utc(2026, 2, 2, 0, 0)))
    p = week_progress(rows, cfg, utc(2026, 3, 5, 12))
    assert (p.goal_minutes, p.next_goal_minutes, p.streak_weeks) == (100, 110, 2)
    assert p.moderate_minutes == 5
    all_met = weeks_of([60, 70, 80, 90, 0], first)
    assert week_progress(all_met, cfg, utc(2026, 3, 5, 12)).streak_weeks == 4


def test_a_week_without_data_breaks_the_streak():
    rows = weeks_of([60, 0, 80, 90], D(2026, 2, 2))
    p = week_progress(rows, WearerConfig(), utc(2026, 3, 2, 12))
    assert p.streak_weeks == 2


def test_plan_goals_drive_goal_next_goal_and_streak():
    plan = (PlanWeek(D(2026, 2, 16), 30), PlanWeek(D(2026, 3, 2), 45), PlanWeek(D(2026, 3, 9), 0))
    cfg = WearerConfig(plan=plan)
    rows = weeks_of([30, 30, 3], D(2026, 2, 16))
    p = week_progress(rows, cfg, utc(2026, 3, 4, 12))
    assert (p.goal_minutes, p.next_goal_minutes, p.streak_weeks) == (45, 0, 2)


def test_untrusted_and_unset_clock_minutes_do_not_start_the_default_plan():
    cfg = WearerConfig()
    stale = MinuteRow(
        start_utc=utc(2026, 1, 5),
        steps=120,
        cadence_spm=120.0,
        moderate=True,
        chip_steps=None,
        clock_trusted=False,
        boot_id="b",
        mono_start=0.0,
    )
    fresh = MinuteRow(**{**stale.__dict__, "start_utc": utc(2026, 3, 2, 9), "clock_trusted": True})
    epoch = MinuteRow(**{**stale.__dict__, "start_utc": 120, "clock_trusted": True})
    rows = [stale, epoch, fresh]
    assert first_data_utc_of(rows) == utc(2026, 3, 2, 9)
    assert week_progress(rows, cfg, utc(2026, 3, 20)).goal_minutes == 80  # week 3 from 2 March
    # The device passes its pinned first-data time (Store.first_data_utc) explicitly.
    assert (
        week_progress(rows, cfg, utc(2026, 3, 20), first_data_utc=utc(2026, 1, 5)).goal_minutes
        == 130
    )
    assert week_goal(cfg, D(2026, 3, 16), rows) == 80


# -- property: equal to a slow, obvious computation ----------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kathmandu"]


def brute_force(rows, cfg: WearerConfig, now: int) -> WeekProgress:
    tz = zoneinfo.ZoneInfo(cfg.timezone)

    def day(t):
        return dt.datetime.fromtimestamp(t, tz).date()

    wsd = cfg.week_start_day
    today = day(now)
    this_week = week_start_for(today, wsd)
    fd = first_data_utc_of(rows)
    fdw = first_full_week(day(fd), wsd) if fd is not None else None
    per_week: dict[D, int] = {}
    for t, _s, m in rows:
        per_week[week_start_for(day(t), wsd)] = per_week.get(week_start_for(day(t), wsd), 0) + m
    days = [this_week + dt.timedelta(days=i) for i in range(7)]
    day_minutes = tuple(sum(m for t, _s, m in rows if day(t) == d) for d in days)
    first_week = min(per_week, default=this_week)
    streak, w = 0, this_week - dt.timedelta(days=7)
    while w >= first_week and per_week.get(w, 0) >= goal_for_week(cfg.plan, w, fdw):
        streak += 1
        w -= dt.timedelta(days=7)
    i = (today - this_week).days
    return WeekProgress(
        week_start=this_week,
        goal_minutes=goal_for_week(cfg.plan, this_week, fdw),
        moderate_minutes=sum(day_minutes),
        day_minutes=day_minutes,
        today_index=i,
        today_steps=sum(s for t, s, _m in rows if day(t) == today),
        today_moderate_minutes=day_minutes[i],
        next_goal_minutes=goal_for_week(cfg.plan, this_week + dt.timedelta(days=7), fdw),
        streak_weeks=streak,
    )


@settings(max_examples=120, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    wsd=st.integers(0, 6),
    now=st.integers(utc(2026, 1, 1), utc(2027, 1, 1)),
    offsets=st.lists(st.integers(-60 * 24 * 60, 30 * 24 * 60), max_size=300),
    goal_scale=st.integers(0, 3),
    data=st.data(),
)
def test_week_progress_matches_a_brute_force_count(zone, wsd, now, offsets, goal_scale, data):
    cfg = WearerConfig(timezone=zone, week_start_day=wsd)
    base = now - now % 60
    rows = []
    for o in offsets:
        steps = data.draw(st.integers(0, 160))
        rows.append((base + 60 * o, steps, steps >= 100 or goal_scale == 0))
    assert week_progress(rows, cfg, now) == brute_force(rows, cfg, now)


# -- speed ---------------------------------------------------------------------------------------


def test_six_weeks_of_minute_rows_take_well_under_a_second():
    rng = np.random.default_rng(3)
    now = local("Europe/London", 2026, 4, 3, 18)
    n = 60_000
    starts = now - now % 60 - 60 * np.sort(rng.choice(42 * 1440, size=n, replace=False))
    steps = rng.integers(0, 150, size=n)
    rows = [
        MinuteRow(int(t), int(s), float(s), bool(s >= 100), None, True, "b", 0.0)
        for t, s in zip(starts, steps, strict=True)
    ]
    cfg = WearerConfig(timezone="Europe/London")
    t0 = time.perf_counter()
    p = week_progress(rows, cfg, now)
    elapsed = time.perf_counter() - t0
    print(f"week_progress over {n} rows: {elapsed * 1000:.1f} ms")
    assert p.moderate_minutes == sum(p.day_minutes) > 0
    assert elapsed < 0.5  # ~10x slower on a Pi Zero 2 W core: still well under a minute's budget
