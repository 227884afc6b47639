"""The caregiver's weekly report: weeks in the wearer's time zone, goals as on the device,
and text / PNG / HTML renderings that a person can read."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import itertools
import re
import zoneinfo
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from device.config import PlanWeek, WearerConfig
from device.core.progress import week_progress
from device.store import MinuteRow
from hostsync.report import (
    CHART_SIZE,
    TEXT_WIDTH,
    ReportError,
    brisk_runs,
    cadence_band_minutes,
    daily_totals,
    device_health,
    html_document,
    render_png,
    render_text,
    report_stem,
    trend_chart,
    weekly_summary,
    write_report,
)

LONDON = "Europe/London"


def row(start_utc: int, steps: int = 110, moderate: bool | None = None, seq: int = 0) -> MinuteRow:
    return MinuteRow(
        start_utc=start_utc,
        steps=steps,
        cadence_spm=float(steps),
        moderate=steps >= 100 if moderate is None else moderate,
        chip_steps=steps,
        clock_trusted=True,
        boot_id="boot-1",
        mono_start=0.0,
        seq=seq,
    )


def local_ts(tz: str, y: int, mo: int, d: int, h: int = 12, mi: int = 0) -> int:
    """Epoch seconds of a local wall-clock time in tz."""
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=zoneinfo.ZoneInfo(tz)).timestamp())


def utc_ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC).timestamp())


def walk(start_utc: int, minutes: int, steps: int = 110) -> list[MinuteRow]:
    return [row(start_utc + 60 * i, steps) for i in range(minutes)]


def every_minute(tz: str, first_day: dt.date, last_day_exclusive: dt.date) -> list[MinuteRow]:
    """One moderate row for every real minute between two local midnights (DST-aware)."""
    zone = zoneinfo.ZoneInfo(tz)
    a = int(dt.datetime.combine(first_day, dt.time(0), tzinfo=zone).timestamp())
    b = int(dt.datetime.combine(last_day_exclusive, dt.time(0), tzinfo=zone).timestamp())
    return [row(t) for t in range(a, b, 60)]


# ---------------------------------------------------------------------------------------------
# Weeks


def test_week_boundary_follows_local_time_not_utc() -> None:
    cfg = WearerConfig(timezone=LONDON)
    # Sunday 29 Mar 2026 22:30 UTC = 23:30 BST Sunday; 23:30 UTC = 00:30 BST Monday 30 Mar.
    rows = walk(utc_ts(2026, 3, 29, 22, 30), 10) + walk(utc_ts(2026, 3, 29, 23, 30), 20)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 3, 31))
    assert [w.week_start for w in weeks] == [dt.date(2026, 3, 23), dt.date(2026, 3, 30)]
    assert weeks[0].day_minutes == (0, 0, 0, 0, 0, 0, 10)
    assert weeks[1].day_minutes == (20, 0, 0, 0, 0, 0, 0)
    assert [w.moderate_minutes for w in weeks] == [10, 20]
    assert weeks[1].in_progress and not weeks[0].in_progress


def test_missing_weeks_appear_with_zeros_up_to_this_week() -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = walk(local_ts(LONDON, 2026, 1, 6), 30) + walk(local_ts(LONDON, 2026, 1, 28), 40)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 2, 11))
    assert [w.week_start for w in weeks] == [
        dt.date(2026, 1, 5),
        dt.date(2026, 1, 12),
        dt.date(2026, 1, 19),
        dt.date(2026, 1, 26),
        dt.date(2026, 2, 2),
        dt.date(2026, 2, 9),
    ]
    assert [w.moderate_minutes for w in weeks] == [30, 0, 0, 40, 0, 0]
    assert [w.steps for w in weeks] == [3300, 0, 0, 4400, 0, 0]
    assert weeks[1].day_minutes == (0,) * 7 and weeks[1].active_days == 0
    assert weeks[-1].in_progress


def test_today_before_the_data_does_not_drop_weeks() -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = walk(local_ts(LONDON, 2026, 5, 5), 30)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 1, 1))
    assert [(w.week_start, w.moderate_minutes) for w in weeks] == [(dt.date(2026, 5, 4), 30)]


def test_week_start_day_change_regroups_the_same_minutes() -> None:
    rows = []
    for day in range(1, 22):  # 1..21 March 2026, a different amount each day
        rows += walk(local_ts(LONDON, 2026, 3, day, 9), day)
    monday = weekly_summary(rows, WearerConfig(timezone=LONDON), today=dt.date(2026, 3, 21))
    sunday = weekly_summary(
        rows, WearerConfig(timezone=LONDON, week_start_day=6), today=dt.date(2026, 3, 21)
    )
    assert all(w.week_start.weekday() == 0 for w in monday)
    assert all(w.week_start.weekday() == 6 for w in sunday)
    assert sunday[0].week_start == dt.date(2026, 3, 1)  # 1 Mar 2026 is a Sunday
    assert sunday[0].day_minutes == (1, 2, 3, 4, 5, 6, 7)  # Sunday first
    assert monday[0].week_start == dt.date(2026, 2, 23)
    assert monday[0].day_minutes == (0, 0, 0, 0, 0, 0, 1)  # Sunday 1 Mar is the last day
    total = sum(range(1, 22))
    assert sum(w.moderate_minutes for w in monday) == total
    assert sum(w.moderate_minutes for w in sunday) == total


@pytest.mark.parametrize(
    ("week", "short_day", "day_length"),
    [
        (dt.date(2026, 3, 23), 6, 23 * 60),  # clocks go forward on Sunday 29 March 2026
        (dt.date(2026, 10, 19), 6, 25 * 60),  # clocks go back on Sunday 25 October 2026
    ],
)
def test_dst_weeks_count_every_real_minute_on_the_right_day(
    week: dt.date, short_day: int, day_length: int
) -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = every_minute(LONDON, week, week + dt.timedelta(days=7))
    (summary,) = weekly_summary(rows, cfg, today=week + dt.timedelta(days=7 + 3))[:1]
    expected = [1440] * 7
    expected[short_day] = day_length
    assert summary.week_start == week
    assert list(summary.day_minutes) == expected
    assert summary.moderate_minutes == len(rows) == sum(expected)
    assert summary.active_days == 7


def test_default_plan_goals_start_at_the_first_full_week_and_cap_at_130() -> None:
    cfg = WearerConfig(timezone=LONDON)
    # First data on Wednesday 4 March 2026: week 1 of the default plan is Monday 9 March.
    rows = walk(local_ts(LONDON, 2026, 3, 4), 65)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 5, 20))
    goals = [w.goal_minutes for w in weeks]
    assert goals == [60, 60, 70, 80, 90, 100, 110, 120, 130, 130, 130, 130]
    assert weeks[0].met_goal and not weeks[1].met_goal


def test_plan_goals_and_met_flags() -> None:
    plan = (PlanWeek(dt.date(2026, 3, 2), 45), PlanWeek(dt.date(2026, 3, 16), 90))
    cfg = WearerConfig(timezone=LONDON, plan=plan)
    rows = (
        walk(local_ts(LONDON, 2026, 3, 3), 45)
        + walk(local_ts(LONDON, 2026, 3, 10), 44)
        + walk(local_ts(LONDON, 2026, 3, 17), 90)
        + walk(local_ts(LONDON, 2026, 3, 24), 100, steps=99)  # steps but not moderate
    )
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 3, 29))
    assert [w.goal_minutes for w in weeks] == [45, 45, 90, 90]
    assert [w.met_goal for w in weeks] == [True, False, True, False]
    assert weeks[3].steps == 9900 and weeks[3].moderate_minutes == 0


def test_pinned_first_data_utc_overrides_the_rows() -> None:
    """The device pins its first trusted minute; the host may hold only later rows."""
    cfg = WearerConfig(timezone=LONDON)
    rows = walk(local_ts(LONDON, 2026, 4, 7), 10)
    pinned = local_ts(LONDON, 2026, 3, 2)  # week 1 = 2 March, so 6 April is week 6: 110
    (week,) = weekly_summary(rows, cfg, today=dt.date(2026, 4, 8), first_data_utc=pinned)
    assert week.goal_minutes == 110


def test_rows_without_a_wall_clock_time_are_left_out_and_mentioned() -> None:
    cfg = WearerConfig(timezone=LONDON)
    unset_clock = walk(3600, 5)  # 1970: recorded before the host set the clock, never re-anchored
    rows = unset_clock + walk(local_ts(LONDON, 2026, 3, 3), 20)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 3, 4))
    assert [w.week_start for w in weeks] == [dt.date(2026, 3, 2)]
    assert weeks[0].moderate_minutes == 20
    text = render_text(weeks, cfg, "Ann", unplaced_minutes=5)
    assert "5 minutes recorded before the device clock was set" in text


def test_matches_the_device_screen_for_the_current_week() -> None:
    cfg = WearerConfig(timezone=LONDON, week_start_day=2)
    rows = []
    for day in range(40):
        start = local_ts(LONDON, 2026, 2, 20, 7) + day * 86400
        rows += walk(start, (day * 7) % 23, steps=95 + day % 10)
    now = local_ts(LONDON, 2026, 3, 31, 20)
    device = week_progress(rows, cfg, now)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 3, 31))
    assert weeks[-1].week_start == device.week_start
    assert weeks[-1].goal_minutes == device.goal_minutes
    assert weeks[-1].moderate_minutes == device.moderate_minutes
    assert weeks[-1].day_minutes == device.day_minutes


minute_rows = st.lists(
    st.builds(
        row,
        start_utc=st.integers(utc_ts(2025, 12, 1), utc_ts(2026, 4, 30)).map(lambda t: t - t % 60),
        steps=st.integers(0, 180),
    ),
    max_size=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=minute_rows,
    tz=st.sampled_from(["UTC", LONDON, "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]),
    wsd=st.integers(0, 6),
)
def test_weeks_partition_the_minutes(rows: list[MinuteRow], tz: str, wsd: int) -> None:
    cfg = WearerConfig(timezone=tz, week_start_day=wsd)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 4, 30))
    assert sum(w.moderate_minutes for w in weeks) == sum(r.moderate for r in rows)
    assert sum(w.steps for w in weeks) == sum(r.steps for r in rows)
    days = daily_totals(rows, cfg)
    assert sum(d.moderate_minutes for d in days) == sum(r.moderate for r in rows)
    assert sum(d.active_minutes for d in days) == sum(r.steps > 0 for r in rows)
    for a, b in itertools.pairwise(weeks):
        assert b.week_start - a.week_start == dt.timedelta(days=7)
    for w in weeks:
        assert w.week_start.weekday() == wsd
        assert len(w.day_minutes) == 7 and sum(w.day_minutes) == w.moderate_minutes
        assert w.met_goal == (w.moderate_minutes >= w.goal_minutes)
        assert w.active_days == sum(1 for m in w.day_minutes if m)
    if rows:
        assert weeks[-1].in_progress


# ---------------------------------------------------------------------------------------------
# Text


def test_empty_rows_say_no_data_yet(tmp_path: Path) -> None:
    cfg = WearerConfig(timezone=LONDON, wearer_label="Ann")
    assert weekly_summary([], cfg) == []
    assert "No data yet" in render_text([], cfg, None)
    files = write_report([], cfg, None, tmp_path / "out", today=dt.date(2026, 3, 4))
    assert "No data yet" in files.text and "Ann" in files.text
    with Image.open(files.png_path) as img:
        assert img.size == CHART_SIZE
    assert "No data yet" in files.html_path.read_text(encoding="utf-8")


def test_text_table_fits_80_columns_even_with_extreme_weeks() -> None:
    cfg = WearerConfig(
        timezone=LONDON, wearer_label="X" * 32, plan=(PlanWeek(dt.date(2026, 1, 5), 10080),)
    )
    rows = every_minute(LONDON, dt.date(2026, 1, 5), dt.date(2026, 1, 12))
    rows = [row(r.start_utc, steps=250) for r in rows] + walk(local_ts(LONDON, 2026, 1, 20), 3)
    weeks = weekly_summary(rows, cfg, today=dt.date(2026, 1, 28))
    text = render_text(weeks, cfg, "A very long wearer name that goes on and on and on for ever")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= TEXT_WIDTH
    assert any("2,520,000" in line for line in lines)  # 10080 minutes x 250 steps
    table = [line for line in lines if line.startswith("2026-")]
    assert len(table) == len(weeks) == 4
    assert table[0].split()[1:3] == ["10080", "10080"]
    assert "yes" in table[0] and " no " in table[1]


def test_text_bar_marks_the_goal_and_the_minutes() -> None:
    cfg = WearerConfig(timezone=LONDON, plan=(PlanWeek(dt.date(2026, 3, 2), 100),))
    rows = walk(local_ts(LONDON, 2026, 3, 3), 50)
    (week,) = weekly_summary(rows, cfg, today=dt.date(2026, 3, 10))[:1]
    line = next(ln for ln in render_text([week], cfg, "Ann").splitlines() if ln.startswith("2026"))
    bar = line[29:57]
    assert bar.count("|") == 1
    assert bar.index("|") == bar.count("#") + bar.count(".")  # goal marker after fill and gap
    assert bar.count("#") == pytest.approx(bar.index("|") / 2, abs=1)  # half the goal


def test_text_strips_terminal_control_characters() -> None:
    cfg = WearerConfig(timezone=LONDON)
    text = render_text([], cfg, "Ann\x1b[2J\x07\nSmith")
    assert "\x1b" not in text and "\x07" not in text
    assert "Ann[2J Smith" in text


# ---------------------------------------------------------------------------------------------
# PNG


def _sample(cfg: WearerConfig) -> list[MinuteRow]:
    return (
        walk(local_ts(cfg.timezone, 2026, 3, 3), 70)
        + walk(local_ts(cfg.timezone, 2026, 3, 10), 30)
        + walk(local_ts(cfg.timezone, 2026, 3, 17), 140)
    )


def _colours(path_or_bytes) -> set[tuple[int, int, int]]:
    import io

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with Image.open(src) as img:
        return {c for _, c in img.convert("RGB").getcolors(maxcolors=1 << 22)}


def test_png_has_the_chart_size_bars_of_both_kinds_and_the_lines(tmp_path: Path) -> None:
    cfg = WearerConfig(timezone=LONDON, wearer_label="Ann")
    weeks = weekly_summary(_sample(cfg), cfg, today=dt.date(2026, 3, 25))
    path = render_png(weeks, cfg, None, tmp_path / "chart.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == CHART_SIZE
    colours = _colours(path)
    assert (0x2E, 0x7D, 0x32) in colours  # a week whose goal was met
    assert (0xB0, 0xBE, 0xC5) in colours  # a week whose goal was not met
    assert (0xE6, 0x51, 0x00) in colours  # the goal plan line
    assert (0xB7, 0x1C, 0x1C) in colours  # the 130-minute target
    assert len(colours) > 20  # anti-aliased text: not a blank or flat image


def test_png_taller_bar_for_more_minutes() -> None:
    import io

    cfg = WearerConfig(timezone=LONDON)
    weeks = weekly_summary(_sample(cfg), cfg, today=dt.date(2026, 3, 18))
    img = Image.open(io.BytesIO(trend_chart(weeks, cfg, "Ann"))).convert("RGB")
    green = (0x2E, 0x7D, 0x32)
    width, height = img.size
    columns: dict[int, int] = {}
    for x in range(0, width, 2):
        ys = [y for y in range(height) if img.getpixel((x, y)) == green]
        if ys:
            columns[x] = max(ys) - min(ys)  # the bar's height (hatching and lines cross it)
    # two green bars (70 and 140 minutes, goals 60 and 80): group columns into bars
    bars: list[int] = []
    last_x = -10
    for x in sorted(columns):
        if x - last_x > 4:
            bars.append(0)
        bars[-1] = max(bars[-1], columns[x])
        last_x = x
    bars = [b for b in bars if b > 20]  # the legend's swatch is small
    assert len(bars) == 2 and bars[1] == pytest.approx(2 * bars[0], rel=0.05)


def test_png_for_no_data_is_not_blank() -> None:
    import io

    img = Image.open(io.BytesIO(trend_chart([], WearerConfig(), "Ann"))).convert("L")
    assert img.size == CHART_SIZE
    lo, hi = img.getextrema()
    assert lo < 100 and hi == 255


def test_png_write_error_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"cannot write .*chart\.png") as err:
        render_png([], WearerConfig(), "Ann", tmp_path / "missing" / "chart.png")
    assert "\n" not in str(err.value)


# ---------------------------------------------------------------------------------------------
# HTML


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "action", "srcset", "poster", "data", "formaction"):
                self.urls.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


HOSTILE = '<script>alert("x")</script>&'


@pytest.mark.parametrize("via", ["config", "argument"])
def test_html_is_self_contained_and_escapes_the_label(tmp_path: Path, via: str) -> None:
    cfg = WearerConfig(timezone=LONDON, wearer_label=HOSTILE if via == "config" else "")
    wearer = HOSTILE if via == "argument" else None
    files = write_report(_sample(cfg), cfg, wearer, tmp_path, today=dt.date(2026, 3, 25),
                         device_id="WC-0001")
    doc = files.html_path.read_text(encoding="utf-8")
    parser = _Refs()
    parser.feed(doc)
    assert "script" not in parser.tags and "link" not in parser.tags
    assert "iframe" not in parser.tags
    assert parser.urls and all(u.startswith("data:image/png;base64,") for u in parser.urls)
    without_payload = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", doc).lower()
    for needle in ("http:", "https:", "//", "url(", "@import", "<script", "<link"):
        assert needle not in without_payload
    assert html.escape(HOSTILE) in doc
    assert HOSTILE in "".join(parser.text)  # shown to the reader as the literal name


def test_html_has_table_explanation_and_date() -> None:
    cfg = WearerConfig(timezone=LONDON, threshold_spm=105.0)
    weeks = weekly_summary(_sample(cfg), cfg, today=dt.date(2026, 3, 25))
    doc = html_document(weeks, cfg, "Ann", generated=dt.date(2026, 3, 25))
    parser = _Refs()
    parser.feed(doc)
    text = " ".join(" ".join(parser.text).split())
    # the plan table: every week with its goal, and 4 weeks ahead
    assert text.count(" ahead") == 4
    for w in weeks:
        start = f"{w.week_start.day} {w.week_start:%b %Y}"
        assert f"{start} {w.goal_minutes} {w.moderate_minutes}" in text
    assert "a minute with at least 105 steps" in text
    assert "Generated 25 Mar 2026" in text
    assert "130 moderate minutes a week" in text


# ---------------------------------------------------------------------------------------------
# The weekly page: days, bouts, cadence bands, plan, device health, file names


def test_brisk_runs_are_back_to_back_minutes() -> None:
    t = utc_ts(2026, 3, 3, 9)
    assert brisk_runs([t, t + 60, t + 120, t + 300, t + 360, t + 900]) == [3, 2, 1]
    assert brisk_runs([]) == []


def test_days_carry_the_longest_brisk_walk_and_the_walks_of_ten_minutes() -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = (
        walk(local_ts(LONDON, 2026, 3, 3, 9), 12)  # 12 brisk minutes in a row
        + walk(local_ts(LONDON, 2026, 3, 3, 13), 5)
        + walk(local_ts(LONDON, 2026, 3, 3, 17), 10)
        + walk(local_ts(LONDON, 2026, 3, 3, 19), 30, steps=50)  # pottering: not brisk
        + walk(local_ts(LONDON, 2026, 3, 3, 23, 55), 10)  # runs past midnight: split by day
    )
    days = {d.day: d for d in daily_totals(rows, cfg)}
    tue, wed = days[dt.date(2026, 3, 3)], days[dt.date(2026, 3, 4)]
    assert (tue.moderate_minutes, tue.longest_brisk_minutes, tue.long_brisk_walks) == (32, 12, 2)
    assert (wed.moderate_minutes, wed.longest_brisk_minutes, wed.long_brisk_walks) == (5, 5, 0)


def test_cadence_bands_count_stepping_minutes_by_their_steps() -> None:
    cfg = WearerConfig(timezone=LONDON)
    t = local_ts(LONDON, 2026, 3, 3, 9)
    rows = [row(t + 60 * i, s) for i, s in enumerate((0, 1, 59, 60, 99, 100, 129, 130, 180))]
    day = dt.date(2026, 3, 3)
    assert cadence_band_minutes(rows, cfg, day, day) == [2, 2, 2, 2]
    assert cadence_band_minutes(rows, cfg, day + dt.timedelta(days=1), day + dt.timedelta(7)) == [
        0, 0, 0, 0]


def test_device_health_names_silent_days_and_the_battery() -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = walk(local_ts(LONDON, 2026, 3, 10, 9), 5) + walk(local_ts(LONDON, 2026, 3, 14, 9), 5)
    rows = [dataclasses.replace(r, battery_percent=60.0 - i) for i, r in enumerate(rows)]
    rows.append(dataclasses.replace(row(100 * 60), clock_trusted=False))  # never placed
    health = device_health(rows, cfg, today=dt.date(2026, 3, 16))
    assert health.silent_days == (dt.date(2026, 3, 11), dt.date(2026, 3, 12),
                                  dt.date(2026, 3, 13), dt.date(2026, 3, 15))
    assert health.battery_percent == 51.0 and health.battery_low_percent == 51.0
    assert health.unplaced_minutes == 1 and health.untrusted_minutes == 1
    without = device_health([dataclasses.replace(r, battery_percent=None) for r in rows], cfg,
                            today=dt.date(2026, 3, 16))
    assert without.battery_percent is None


def test_report_files_are_named_per_wearer_and_device(tmp_path: Path) -> None:
    day = dt.date(2026, 3, 25)
    stem = report_stem("Zoë Smith", "WC-0A1B", day)
    assert stem == "walkcoach-report-zoe-smith-WC-0A1B-2026-03-25"
    assert report_stem("Ελένη", None, day) == "walkcoach-report-wearer-2026-03-25"
    cfg = WearerConfig(timezone=LONDON)
    rows = _sample(cfg)
    a = write_report(rows, cfg, "Sam", tmp_path, today=day, device_id="WC-0001")
    b = write_report(rows, cfg, "Sam", tmp_path, today=day, device_id="WC-0002")
    c = write_report(rows, cfg, "Ann", tmp_path, today=day, device_id="WC-0003")
    paths = {a.html_path, b.html_path, c.html_path, a.png_path, b.png_path, c.png_path}
    assert len(paths) == 6 and all(p.exists() for p in paths)


class _DayRows(HTMLParser):
    """The day rows of the report's day table: {date: [cell texts]}."""

    def __init__(self) -> None:
        super().__init__()
        self.days: dict[str, list[str]] = {}
        self._day: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and a.get("class") == "day":
            self._day = a.get("data-day")
            self.days[self._day or ""] = []
        elif tag == "td" and self._day is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._day is not None:
            self.days[self._day].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            self._day = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def report_days(html_text: str) -> dict[dt.date, tuple[int, int, int]]:
    """(steps, brisk minutes, longest brisk walk) of every day row of a report page."""
    parser = _DayRows()
    parser.feed(html_text)
    out = {}
    for day, cells in parser.days.items():
        longest = 0 if cells[3] == "-" else int(cells[3].split()[0])
        out[dt.date.fromisoformat(day)] = (int(cells[1].replace(",", "")), int(cells[2]), longest)
    return out


def test_html_lists_every_day_of_the_last_four_weeks_with_its_numbers(tmp_path: Path) -> None:
    cfg = WearerConfig(timezone=LONDON)
    rows = []
    for d in range(30):
        day = dt.date(2026, 2, 23) + dt.timedelta(days=d)
        rows += walk(local_ts(LONDON, day.year, day.month, day.day, 10), d % 7 * 3)
        rows += walk(local_ts(LONDON, day.year, day.month, day.day, 15), 20, steps=70)
    today = dt.date(2026, 3, 24)
    files = write_report(rows, cfg, "Ann", tmp_path, today=today)
    shown = report_days(files.html_path.read_text(encoding="utf-8"))
    expected = {
        d.day: (d.steps, d.moderate_minutes, d.longest_brisk_minutes)
        for d in daily_totals(rows, cfg)
        if dt.date(2026, 3, 2) <= d.day <= today
    }
    assert shown == expected  # 4 weeks: Mon 2 Mar .. today, nothing after today
