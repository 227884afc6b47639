"""Wear and coaching wired into the firmware: stored per minute, coaching on the screens, the
reminder from the hardware config, hostsync plan suggest."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import numpy as np

from device.clock import DeviceClock
from device.core.wear import wear_flags
from device.runtime import DeviceRuntime, SimulatedClock, run_loop
from device.sources import ImuBatch, TraceSource
from device.store import MIGRATIONS, MinuteRow, Store
from device.synthetic import FLAT_ON_SIDE, HIP_CLIP, Timeline

MONDAY = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC).timestamp()


def _walk_then_table():
    walk = Timeline(1, clip=HIP_CLIP).stand(5).walk(330, 110).stand(5).render(50.0)
    table = Timeline(2, clip=FLAT_ON_SIDE).rest(30 * 60).render(50.0)
    t = np.concatenate([walk.t, table.t + walk.t[-1] + 0.02])
    acc = np.concatenate([walk.acc, table.acc])
    return t, acc, float(walk.t[-1])


def test_the_runtime_stores_each_minutes_wear_features(tmp_path: Path) -> None:
    sim = SimulatedClock(MONDAY)
    store = Store(tmp_path / "walkcoach.sqlite3")
    clock = DeviceClock(store, monotonic=sim.monotonic, wall=sim.wall, boot_id="boot-1")
    clock.set_time(MONDAY, "Europe/London")
    t, acc, walk_end = _walk_then_table()
    temps = []

    def temperature() -> float:
        temp = 31.0 if sim.now < walk_end else 23.0 + 8.0 * np.exp(-(sim.now - walk_end) / 360)
        temps.append(temp)
        return temp

    runtime = DeviceRuntime(store, clock, temperature=temperature)

    def on_batch(batch: ImuBatch) -> None:
        sim.now = float(batch.t[-1])

    run_loop(runtime, TraceSource(t, acc), should_stop=lambda: False, on_batch=on_batch)
    rows = store.minutes_after(0, limit=10**6)
    assert len(rows) >= 33
    assert all(r.wear_active_s is not None and r.temp_c is not None for r in rows)
    assert rows[1].wear_active_s >= 40 and rows[1].temp_c == 31.0  # walking
    assert all(r.wear_active_s == 0 for r in rows[6:])  # on the table
    assert rows[-1].temp_c < 25.0
    # the same features as WearFeatures on the trace itself (the runtime adds nothing)
    flags = wear_flags([r.start_utc for r in rows], [r.wear_active_s for r in rows],
                       [r.temp_c for r in rows], turned=[r.wear_turned for r in rows])
    assert flags[:4].all() and not flags[7:].any()  # taken off: cooled, 20 still minutes
    store.close()


def test_an_older_store_gains_the_wear_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "walkcoach.sqlite3"
    db = sqlite3.connect(path)
    for migrate in MIGRATIONS[:3]:
        migrate(db)
    db.execute("INSERT INTO minutes (start_utc, steps, cadence_spm, moderate, chip_steps, "
               "clock_trusted, boot_id, mono_start) VALUES (1780000020, 12, 12.0, 0, NULL, 1, "
               "'b', 5.0)")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = Store(path)
    (old,) = store.minutes_after(0)
    assert old.steps == 12 and old.wear_active_s is None and old.temp_c is None
    store.add_minutes([MinuteRow(1780000080, 0, 0.0, False, None, True, "b", 65.0,
                                 wear_active_s=3, wear_turned=True, temp_c=30.5)])
    new = store.minutes_after(old.seq)[0]
    assert (new.wear_active_s, new.wear_turned, new.temp_c) == (3, True, 30.5)
    store.close()


def test_bad_wear_values_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    import pytest

    from device.store import StoreError

    store = Store(tmp_path / "walkcoach.sqlite3")
    good = MinuteRow(1780000020, 0, 0.0, False, None, True, "b", 5.0, wear_active_s=60)
    for bad in ({"wear_active_s": 61}, {"wear_active_s": -1}, {"wear_active_s": True},
                {"wear_turned": 1}, {"temp_c": float("nan")}, {"temp_c": "31"}):
        row = MinuteRow(1780000080, 0, 0.0, False, None, True, "b", 65.0, **bad)
        with pytest.raises(StoreError, match=next(iter(bad))):
            store.add_minutes([good, row])
    assert store.minutes_after(0) == []
    store.close()


# -- coaching on the screens, the celebration, the reminder through the runtime -------------
def _runtime_with(tmp_path: Path, start_utc: float, **kw):
    sim = SimulatedClock(start_utc)
    store = Store(tmp_path / "walkcoach.sqlite3")
    clock = DeviceClock(store, monotonic=sim.monotonic, wall=sim.wall, boot_id="boot-1")
    clock.set_time(start_utc, "Europe/London")
    return sim, store, clock


def _brisk_rows(start_utc: int, minutes: int, boot: str = "boot-1") -> list[MinuteRow]:
    return [MinuteRow(start_utc + 60 * i, 110, 110.0, True, None, True, boot, 60.0 * i)
            for i in range(minutes)]


class Screen:
    """A display stand-in that keeps what the runtime asked it to show."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.status = None

    def update(self, progress, status) -> None:
        self.status = status

    def tick(self, now: float) -> None:
        pass

    def open_screen(self, name: str) -> None:
        self.opened.append(name)


def test_behind_plan_the_home_screen_says_what_keeps_the_week_on_plan(tmp_path: Path) -> None:
    from device.display.screens import WeekView, make_view, preview

    friday = dt.datetime(2026, 3, 6, 16, 0, tzinfo=dt.UTC).timestamp()  # Mon 2 March week
    _sim, store, clock = _runtime_with(tmp_path, friday)
    monday = int(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp())
    store.add_minutes(_brisk_rows(monday, 20))  # 20 of the default 60 by Friday: behind
    screen = Screen()
    runtime = DeviceRuntime(store, clock, display=screen)
    runtime.refresh(force=True)
    assert runtime.coaching is not None and runtime.coaching.state == "behind"
    assert screen.status.coaching_line == runtime.coaching.line == "14 brisk min today"
    view = make_view("week", runtime.progress, screen.status)
    assert isinstance(view, WeekView) and view.coaching == "14 brisk min today"
    preview(view)  # draws
    store.close()


def test_the_goal_met_celebration_wakes_the_week_screen_once(tmp_path: Path) -> None:
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC).timestamp()
    sim, store, clock = _runtime_with(tmp_path, monday)
    store.add_minutes(_brisk_rows(int(monday) - 3600, 55))
    screen = Screen()
    runtime = DeviceRuntime(store, clock, display=screen)
    runtime.refresh(force=True)
    assert runtime.coaching.state != "goal_met" and screen.opened == []
    store.add_minutes(_brisk_rows(int(monday), 10))  # 65 of 60
    sim.now += 700
    runtime.refresh(force=True)
    runtime.refresh(force=True)
    assert runtime.coaching.state == "goal_met" and screen.opened == ["week"]
    assert screen.status.coaching_line == ""
    store.close()


def test_the_runtime_reminds_on_the_gpio_when_behind_and_worn(tmp_path: Path) -> None:
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from device.app import HardwareConfig, _make_reminder

    hw = HardwareConfig._from_toml({"reminder": {"gpio": 18, "kind": "motor", "at": "17:00"}})
    factory = MockFactory(pin_class=MockPWMPin)
    reminder = _make_reminder(hw, pin_factory=factory)
    friday = dt.datetime(2026, 3, 6, 16, 55, tzinfo=dt.UTC).timestamp()  # 16:55 in London
    sim, store, clock = _runtime_with(tmp_path, friday)
    store.add_minutes(_brisk_rows(int(friday) - 4 * 86400, 10))
    runtime = DeviceRuntime(store, clock, reminder=reminder)
    runtime.refresh(force=True)
    assert reminder.fired == []  # 16:55
    sim.now = 600.0
    runtime.refresh(force=True)
    runtime.refresh(force=True)
    assert len(reminder.fired) == 1  # 17:05, behind, once
    assert [e for e in store.events() if e[2] == "reminder"]
    store.set_config(store.get_config().__class__(reminder_time="off"))
    reminder.last_fired = None
    runtime.refresh(force=True)
    assert len(reminder.fired) == 1  # the caregiver turned it off
    store.set_config(store.get_config().__class__(quiet_hours="16:00-18:00"))
    runtime.refresh(force=True)
    assert len(reminder.fired) == 1 and reminder.plan.at == dt.time(17)  # quiet: device.toml's
    store.set_config(store.get_config().__class__(quiet_hours="20:00-08:00"))
    runtime.refresh(force=True)
    assert len(reminder.fired) == 2  # time from device.toml, quiet hours from the caregiver
    reminder.close()
    factory.reset()
    store.close()


def test_the_hardware_config_reminder_section(tmp_path: Path) -> None:
    import pytest

    from device.app import HardwareConfig

    assert HardwareConfig._from_toml({}).reminder_gpio is None
    hw = HardwareConfig._from_toml({"reminder": {"gpio": 23, "kind": "led",
                                                 "quiet_hours": "22:00-07:00"}})
    assert (hw.reminder_gpio, hw.reminder_kind, hw.reminder_at) == (23, "led", "")
    for bad, words in (({"gpio": 99}, "reminder.gpio"), ({"kind": "buzzer"}, "reminder.kind"),
                       ({"at": "5pm"}, "reminder.at"), ({"quiet_hours": "late"},
                                                        "reminder.quiet_hours"),
                       ({"volume": 3}, "reminder.volume"), ({"gpio": 17}, "button's GPIO")):
        with pytest.raises(ValueError, match=words):
            HardwareConfig._from_toml({"reminder": bad})
    # the shipped device.toml still loads (its [reminder] section is commented out)
    shipped = Path(__file__).resolve().parents[1] / "hardware" / "device.toml"
    assert HardwareConfig.load(shipped).reminder_gpio is None


def test_the_wearer_config_carries_the_reminder_time_compatibly() -> None:
    import pytest

    from device.config import ConfigError, WearerConfig

    assert "reminder_time" not in WearerConfig().to_json()  # older firmware still takes it
    cfg = WearerConfig(reminder_time="17:30", quiet_hours="22:00-07:00")
    assert WearerConfig.from_json(cfg.to_json()) == cfg
    assert WearerConfig.from_json({"reminder_time": "off"}).reminder_time == "off"
    for bad in ({"reminder_time": "5pm"}, {"reminder_time": 1730}, {"quiet_hours": "all day"}):
        with pytest.raises(ConfigError):
            WearerConfig.from_json(bad)


# -- hostsync plan suggest ----------------------------------------------------------------------
from tests.test_hostsync_cli import cli, device, paired_cli  # noqa: E402, F401


def test_plan_suggest_offline_then_accept_in_one_command(paired_cli, device) -> None:  # noqa: F811
    from device.core.progress import week_start_for

    today = dt.datetime.now(dt.UTC).date()
    this_week = week_start_for(today, 0)
    first = this_week - dt.timedelta(days=12)  # a Wednesday: week 1 is last week (goal 60)
    start = int(dt.datetime.combine(first, dt.time(9), tzinfo=dt.UTC).timestamp())
    last_week = int(dt.datetime.combine(this_week - dt.timedelta(days=7), dt.time(9),
                                        tzinfo=dt.UTC).timestamp())
    device.store.add_minutes(_brisk_rows(start, 5, boot="boot-this")
                             + _brisk_rows(last_week, 80, boot="boot-this"))
    assert paired_cli("pull", "-q")[0] == 0
    next_week = this_week + dt.timedelta(days=7)
    code, out, err = paired_cli("plan", "suggest")
    assert code == 0 and f"week of {next_week.isoformat()}: 80 min" in out
    assert "met its goal (80 of 60 min): 70 + 10 = 80 min" in out
    assert "--accept" in err and device.store.get_config().plan == ()  # nothing changed yet
    code, out, err = paired_cli("plan", "suggest", "--accept")
    assert code == 0 and "Accepted: 80 min" in err
    plan = device.store.get_config().plan
    assert plan[-1].week_start == next_week and plan[-1].goal_minutes == 80
    assert [p.goal_minutes for p in plan] == [60, 60, 70, 80]  # the past keeps its goals


def test_plan_suggest_without_data_is_one_line(paired_cli) -> None:  # noqa: F811
    code, out, _err = paired_cli("plan", "suggest")
    assert code == 0 and "60 min" in out


def test_the_caregiver_sets_the_reminder_time_with_hostsync_config(paired_cli, device) -> None:  # noqa: F811
    code, out, _err = paired_cli("config", "set", "--reminder", "17:30", "--quiet-hours",
                                 "22:00-07:00")
    assert code == 0 and "Reminder:        17:30 when behind plan (quiet 22:00-07:00)" in out
    cfg = device.store.get_config()
    assert (cfg.reminder_time, cfg.quiet_hours) == ("17:30", "22:00-07:00")
    for argv, words in ((["--reminder", "5pm"], "--reminder must be"),
                        (["--quiet-hours", "all night"], "--quiet-hours must be")):
        code, _out, err = paired_cli("config", "set", *argv)
        assert code == 2 and words in err and err.count("\n") == 1
        assert device.store.get_config() == cfg
    code, out, _err = paired_cli("config", "set", "--reminder", "OFF")
    assert code == 0 and "Reminder:        off" in out
    assert device.store.get_config().reminder_time == "off"


def test_plan_suggest_has_help(capsys) -> None:
    from hostsync.cli import main

    assert main(["plan", "suggest", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--accept" in out and "130" in out


# -- wear over the USB link and in the host database ------------------------------------------
def test_wear_evidence_travels_to_the_host_database(paired_cli, device) -> None:  # noqa: F811
    from hostsync.db import HostDB
    from tests.sync_harness import DEVICE_ID, make_rows

    rows = [MinuteRow(**{**r.__dict__, "wear_active_s": i % 61, "wear_turned": i % 7 == 0,
                         "temp_c": 20.0 + i / 4})
            for i, r in enumerate(make_rows(300, trusted=True))]
    device.store.add_minutes(rows + make_rows(5, first=300))  # the last 5: not measured
    assert paired_cli("pull", "-q")[0] == 0
    with HostDB(Path(paired_cli.db)) as db:
        got = db.rows(DEVICE_ID)
    assert [(r.wear_active_s, r.wear_turned, r.temp_c) for r in got[:300]] == [
        (i % 61, i % 7 == 0, 20.0 + i / 4) for i in range(300)]
    assert all(r.wear_active_s is None and r.temp_c is None for r in got[300:])


def test_rows_pages_of_older_firmware_and_bad_wear_values() -> None:
    import pytest

    from device.sync.protocol import ROW_COLUMNS, ProtocolError, decode_rows

    base = [7, 1780000020, 12, 12.0, 0, None, 1, 0, 5.0]
    for columns, extra in ((ROW_COLUMNS[:9], []), (ROW_COLUMNS[:10], [55.5])):
        (row,) = decode_rows({"columns": list(columns), "boots": ["b"], "rows": [base + extra]})
        assert row.wear_active_s is None and row.temp_c is None and row.steps == 12
    (row,) = decode_rows({"columns": list(ROW_COLUMNS), "boots": ["b"],
                          "rows": [[*base, None, 60, 1, -3.5]]})
    assert (row.wear_active_s, row.wear_turned, row.temp_c) == (60, True, -3.5)
    for bad in ([61, 0, 30.0], [True, 0, 30.0], [5, 2, 30.0], [5, True, 30.0], [5, 0, "hot"],
                [5, 0, 400.0]):
        with pytest.raises(ProtocolError, match="malformed rows"):
            decode_rows({"columns": list(ROW_COLUMNS), "boots": ["b"],
                         "rows": [[*base, None, *bad]]})


# -- the report: not enough wear to judge --------------------------------------------------------
def _day_rows(day: dt.date, worn_hours: float, brisk: int, seq0: int) -> list[MinuteRow]:
    """A day of minutes: worn_hours of wear (moving), the rest still on a cooling table."""
    start = int(dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC).timestamp())
    rows = []
    worn = int(worn_hours * 60)
    for i in range(24 * 60):
        on = 6 * 60 <= i < 6 * 60 + worn
        steps = 110 if on and i < 6 * 60 + brisk else 0
        rows.append(MinuteRow(start + 60 * i, steps, float(steps), steps >= 100, None, True,
                              "b", 60.0 * i, seq=seq0 + i, wear_active_s=30 if on else 0,
                              wear_turned=False, temp_c=31.0 if on else 23.0))
    return rows


def test_the_report_marks_a_missed_week_with_too_little_wear(tmp_path: Path) -> None:
    from device.config import PlanWeek, WearerConfig
    from hostsync.report import render_text, weekly_summary, write_report

    week1, week2 = dt.date(2026, 3, 2), dt.date(2026, 3, 9)
    cfg = WearerConfig(plan=(PlanWeek(week1, 60),))
    rows = []
    for i in range(7):  # week 1: worn 12 h a day, 5 brisk min a day: missed, and judged
        rows += _day_rows(week1 + dt.timedelta(days=i), 12, 5, len(rows))
    for i in range(7):  # week 2: worn 12 h on 2 days only: missed, not enough wear to judge
        rows += _day_rows(week2 + dt.timedelta(days=i), 12 if i < 2 else 3, 5, len(rows))
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 3, 20))
    assert [(w.valid_days, w.judged) for w in weeks[:2]] == [(7, True), (2, False)]
    text = render_text(weeks, cfg, "Ann")
    assert "unsure" in text and "1 week (marked 'unsure') had fewer than 4 days" in text
    files = write_report(rows, cfg, "Ann", tmp_path, today=dt.date(2026, 3, 20))
    page = Path(files.html_path).read_text(encoding="utf-8")
    assert "not enough wear to judge" in page
    # rows from firmware without wear evidence: nothing is marked
    bare = [MinuteRow(**{**r.__dict__, "wear_active_s": None, "temp_c": None,
                         "wear_turned": None}) for r in rows]
    assert all(w.valid_days is None and w.judged for w in weekly_summary(bare, cfg))
