"""The reminder (device/reminder.py) on gpiozero's MockFactory, over 8 simulated weeks."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
import zoneinfo

import numpy as np
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from device.core.coaching import coach
from device.reminder import Reminder, ReminderPlan, in_quiet_hours, reminder_due

TZ = zoneinfo.ZoneInfo("Europe/Paris")  # 8 weeks across the end of summer time
FIRST_MONDAY = dt.date(2026, 9, 28)


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def _simulate(reminder: Reminder, seed: int, weeks: int = 8):
    """A wearer who walks some weeks and not others; ticks every 5 minutes of 8 weeks.

    Returns the reminders and, for every day, whether the week was behind (by the plain
    arithmetic of the rule) at each tick."""
    rng = np.random.default_rng(seed)
    behind_at: dict[dt.datetime, bool] = {}
    for w in range(weeks):
        goal = min(130, 60 + 10 * w)
        keen = w % 3 != 1  # every third week the wearer lets it slide
        days = [0] * 7
        for d in range(7):
            day = FIRST_MONDAY + dt.timedelta(days=7 * w + d)
            walk_at = dt.time(int(rng.choice([10, 18])), int(rng.integers(0, 60)))
            walk_min = int(rng.integers(15, 35)) if keen else int(rng.integers(0, 12))
            for k in range(24 * 12):
                now = dt.datetime.combine(day, dt.time(0), tzinfo=TZ) + dt.timedelta(minutes=5 * k)
                now = now.astimezone(TZ)
                if now.time() >= walk_at and days[d] == 0:
                    days[d] = walk_min
                c = coach(goal, days, d, recent_walks=[20, 25], recent_days=[25, 30])
                before = sum(days[:d])
                per_day = math.ceil((goal - before) / (7 - d))
                behind = (sum(days) < goal and per_day - days[d] > 0
                          and (before < goal * d / 7 or per_day > 30))
                behind_at[now] = behind
                reminder.tick(now, c.state)
    return behind_at


def test_eight_weeks_of_reminders_exactly_as_specified(factory):
    plan = ReminderPlan(at=dt.time(17, 0), quiet_start=dt.time(21, 0), quiet_end=dt.time(8, 0))
    r = Reminder.on_gpio(18, "motor", plan, pin_factory=factory, pulse_s=0.002, pulses=1)
    behind_at = _simulate(r, seed=3)
    expected_days = sorted({t.date() for t, b in behind_at.items()
                            if b and dt.time(17, 0) <= t.time() < dt.time(19, 0)})
    fired_days = [t.date() for t in r.fired]
    assert fired_days == expected_days  # once on every day behind at 17:00-19:00, else never
    assert len(fired_days) == len(set(fired_days))  # at most once a day
    assert 5 <= len(r.fired) <= 40
    for t in r.fired:
        assert behind_at[t]  # never when on plan or goal met
        assert not in_quiet_hours(t.time(), plan.quiet_start, plan.quiet_end)
        assert dt.time(17, 0) <= t.time() < dt.time(19, 0)
    r.close()


def test_a_keen_wearer_is_never_reminded_and_quiet_hours_win(factory):
    plan = ReminderPlan(at=dt.time(22, 30))  # inside the default quiet hours 21:00-08:00
    r = Reminder.on_gpio(18, "motor", plan, pin_factory=factory)
    behind = _simulate(r, seed=4)
    assert any(behind.values()) and r.fired == []
    r.close()
    r = Reminder.on_gpio(19, "led", ReminderPlan(at=dt.time(12, 0)), pin_factory=factory)
    for day in range(14):
        now = dt.datetime.combine(FIRST_MONDAY + dt.timedelta(days=day), dt.time(12, 5),
                                  tzinfo=TZ)
        assert not r.tick(now, "on_plan") and not r.tick(now, "goal_met")
    assert r.fired == [] and r.output.pin.state == 0
    r.close()


def test_the_motor_really_pulses_on_its_pin(factory):
    r = Reminder.on_gpio(18, "motor", ReminderPlan(at=dt.time(17, 0)), pin_factory=factory,
                         pulse_s=0.02, pulses=2)
    now = dt.datetime(2026, 10, 1, 17, 1, tzinfo=TZ)
    pin = r.output.pin
    pin.clear_states()
    assert r.tick(now, "behind")
    assert not r.tick(now + dt.timedelta(minutes=30), "behind")  # once a day
    deadline = time.monotonic() + 5
    while r.output._blink_thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    levels = [s.state for s in pin.states]
    assert max(levels) == pytest.approx(1.0) and levels[-1] == 0  # ramped up and back down
    assert sum(1 for a, b in itertools.pairwise(levels) if a == 0 and b > 0) >= 2  # two pulses
    r.close()


def test_the_led_blinks(factory):
    r = Reminder.on_gpio(23, "led", ReminderPlan(at=dt.time(9, 0)), pin_factory=factory,
                         pulse_s=0.01, pulses=3)
    pin = r.output.pin
    pin.clear_states()
    assert r.tick(dt.datetime(2026, 10, 1, 9, 0, tzinfo=TZ), "out_of_reach")
    deadline = time.monotonic() + 5
    while r.output._blink_thread is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [s.state for s in pin.states] == [False, True, False, True, False, True, False]
    r.close()


def test_due_rule_edges():
    plan = ReminderPlan(at=dt.time(17, 0), window_min=60)
    day = dt.datetime(2026, 10, 1, 16, 59, tzinfo=TZ)
    assert not reminder_due(day, plan, True, None)
    assert reminder_due(day + dt.timedelta(minutes=1), plan, True, None)
    assert not reminder_due(day + dt.timedelta(minutes=61), plan, True, None)  # window over
    assert not reminder_due(day + dt.timedelta(minutes=1), plan, True, day.date())
    assert not reminder_due(day + dt.timedelta(minutes=1), plan, False, None)
    assert not reminder_due(day, ReminderPlan(at=None), True, None)
    assert in_quiet_hours(dt.time(23, 0), dt.time(21, 0), dt.time(8, 0))
    assert in_quiet_hours(dt.time(7, 59), dt.time(21, 0), dt.time(8, 0))
    assert not in_quiet_hours(dt.time(8, 0), dt.time(21, 0), dt.time(8, 0))
    assert in_quiet_hours(dt.time(13, 30), dt.time(13, 0), dt.time(14, 0))
    assert not in_quiet_hours(dt.time(13, 30), dt.time(13, 0), dt.time(13, 0))


def test_a_broken_output_does_not_stop_the_loop():
    class Broken:
        def pulse(self, **kw):
            raise OSError("GPIO gone")

        def close(self):
            pass

    r = Reminder(Broken(), ReminderPlan(at=dt.time(9, 0)))
    assert r.tick(dt.datetime(2026, 10, 1, 9, 0, tzinfo=TZ), "behind")
    r.close()


def test_times_and_quiet_hours_from_the_wearers_config():
    from types import SimpleNamespace

    from device.reminder import parse_quiet_hours, parse_time_of_day, plan_from_config

    assert parse_time_of_day("07:05") == dt.time(7, 5)
    for bad in ("7:05", "24:00", "12:60", "ab:cd", "12-30", "", "１２:３０", None, 1230):
        with pytest.raises(ValueError):
            parse_time_of_day(bad)  # type: ignore[arg-type]
    assert parse_quiet_hours("22:00-07:30") == (dt.time(22), dt.time(7, 30))
    with pytest.raises(ValueError):
        parse_quiet_hours("22:00/07:30")
    plan = plan_from_config(SimpleNamespace(reminder_time="17:30", quiet_hours="20:00-09:00"))
    assert plan == ReminderPlan(dt.time(17, 30), dt.time(20), dt.time(9))
    assert plan_from_config(SimpleNamespace()).at is None  # a config without the fields
    assert plan_from_config(SimpleNamespace(reminder_time="off")).at is None
    assert plan_from_config(SimpleNamespace(reminder_time="", quiet_hours="x")).at is None
