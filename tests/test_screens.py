"""OLED screens: pixel-exact snapshots through luma's dummy device, and layout at the extremes.

Regenerate the snapshots after an intended change, then look at every PNG before committing:
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_screens.py
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw

from device.core.progress import WeekProgress
from device.display import screens
from device.display.render_all import (
    SAMPLE_WALL,
    SCALE,
    render_all,
    sample_progress,
    sample_status,
    screen_image,
)
from device.history import DayRecord
from device.status import DeviceStatus

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
WALL = SAMPLE_WALL

EXTREME_PROGRESS = WeekProgress(
    week_start=dt.date(2026, 3, 8),  # a Sunday start
    goal_minutes=999,
    moderate_minutes=999,
    day_minutes=(999,) * 7,
    today_index=6,
    today_steps=99_999,
    today_moderate_minutes=999,
    next_goal_minutes=999,
    streak_weeks=999,
)
ZERO_PROGRESS = WeekProgress(dt.date(2026, 3, 9), 0, 0, (0,) * 7, 0, 0, 0, 0, 0)
TROUBLED_STATUS = DeviceStatus(
    live_cadence_spm=96.0,
    threshold_spm=100.0,
    wearer_label="Wilhelmina Montgomery-Featherstonehaugh",
    paired=False,
    pairing_code=None,
    last_sync=WALL - dt.timedelta(days=40),
    clock_trusted=False,
    storage_problem="SD card full: no space left on device",
    sensor_problem="no IMU answers at 0x6A or 0x6B",
    pending_rows=1234,
    battery_percent=9.0,
)
NOT_WALKING = dataclasses.replace(sample_status(), live_cadence_spm=82.0)
MET_PROGRESS = dataclasses.replace(
    sample_progress(), moderate_minutes=152, day_minutes=(40, 0, 52, 33, 27, 0, 0), today_index=4
)

# name -> (screen, progress, status)
CASES: dict[str, tuple[str, WeekProgress | None, DeviceStatus | None]] = {
    "week": ("week", sample_progress(), sample_status()),
    "today": ("today", sample_progress(), sample_status()),
    "plan": ("plan", sample_progress(), sample_status()),
    "status": ("status", sample_progress(), sample_status()),
    "pairing": (
        "pairing",
        sample_progress(),
        dataclasses.replace(sample_status(), pairing_code="482913"),
    ),
    "pairing_waiting": ("pairing", sample_progress(), DeviceStatus()),
    "pairing_paired": ("pairing", sample_progress(), sample_status()),
    "week_extreme": ("week", EXTREME_PROGRESS, TROUBLED_STATUS),
    "week_no_data": ("week", None, None),
    "today_extreme_not_brisk": ("today", EXTREME_PROGRESS, TROUBLED_STATUS),
    "plan_no_goal": ("plan", ZERO_PROGRESS, None),
    "status_problems": ("status", EXTREME_PROGRESS, TROUBLED_STATUS),
    "days": ("days", sample_progress(), sample_status()),
    "days_none": ("days", None, None),
    "walk": ("walk", sample_progress(), sample_status()),
    "walk_not_yet": ("walk", sample_progress(), NOT_WALKING),
    "detail": ("detail", sample_progress(), sample_status()),
    "detail_problem": ("detail", EXTREME_PROGRESS, TROUBLED_STATUS),
    "week_goal_met": ("week", MET_PROGRESS, sample_status()),
    "week_clock_not_set": (
        "week",
        sample_progress(),
        dataclasses.replace(sample_status(), clock_trusted=False, battery_percent=12.0),
    ),
    "status_accents": (
        "status",
        sample_progress(),
        dataclasses.replace(
            sample_status(), wearer_label="Zoë · Ελένη · Юлия", battery_charging=True
        ),
    ),
}


def _png_bytes_equal(a: Image.Image, b: Image.Image) -> bool:
    return (
        a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_screen_matches_reviewed_snapshot(name: str) -> None:
    screen, progress, status = CASES[name]
    image = screen_image(screen, progress, status, WALL)
    assert image.mode == "1" and image.size == (128, 64)
    big = image.resize((128 * SCALE, 64 * SCALE), Image.Resampling.NEAREST)
    path = SNAPSHOTS / f"{name}.png"
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        big.save(path)
        return
    assert path.exists(), f"no snapshot {path}: run UPDATE_SNAPSHOTS=1 .venv/bin/pytest {__file__}"
    expected = Image.open(path)
    assert _png_bytes_equal(big, expected), (
        f"{name} differs from {path}; if intended, regenerate with "
        "UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_screens.py and review the PNGs"
    )


def test_snapshots_differ_between_screens() -> None:
    """Guards against a snapshot set where every screen renders blank or identical."""
    images = {name: screen_image(*CASES[name], WALL).tobytes() for name in CASES}
    assert len(set(images.values())) == len(images)
    assert all(any(data) for data in images.values())


# --- layout at the extremes -------------------------------------------------------------------


def _problems(elements: list[screens.Element]) -> list[str]:
    problems = []
    for e in elements:
        left, top, right, bottom = e.box
        if left < 0 or top < 0 or right > 128 or bottom > 64:
            problems.append(f"{e.name} {e.box} leaves the 128x64 screen")
    for a, b in itertools.combinations(elements, 2):
        if (
            a.box[0] < b.box[2]
            and b.box[0] < a.box[2]
            and a.box[1] < b.box[3]
            and b.box[1] < a.box[3]
        ):
            problems.append(f"{a.name} {a.box} overlaps {b.name} {b.box}")
    return problems


def _layout_problems(view: screens.View) -> list[str]:
    return _problems(screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), view))


PROGRESSES = [
    None,
    ZERO_PROGRESS,
    sample_progress(),
    EXTREME_PROGRESS,
    dataclasses.replace(
        EXTREME_PROGRESS,
        goal_minutes=0,
        next_goal_minutes=0,
        streak_weeks=1,
        day_minutes=(0, 999, 0, 0, 0, 0, 1),
    ),
]
STATUSES = [
    DeviceStatus(),
    sample_status(),
    TROUBLED_STATUS,
    dataclasses.replace(
        TROUBLED_STATUS,
        live_cadence_spm=999.0,
        threshold_spm=0.0,
        pairing_code="999999",
        wearer_label="W" * 60,
    ),
    dataclasses.replace(sample_status(), live_cadence_spm=100.0, pairing_code="ABCDEFGHIJKLMNOPQ"),
]


@pytest.mark.parametrize("screen", screens.ALL_SCREENS)
def test_nothing_clipped_or_overlapping_at_extremes(screen: str) -> None:
    for progress, status in itertools.product(PROGRESSES, STATUSES):
        view = screens.make_view(screen, progress, status, WALL)
        assert _layout_problems(view) == [], view


def test_layout_check_detects_clipping_and_overlap() -> None:
    """The checker itself must fail on a bad layout (so the test above can fail)."""
    image = Image.new("1", (128, 64))
    painter = screens._Painter(ImageDraw.Draw(image))
    painter.text("clipped", (100, 20), "clipped text", 14)
    painter.text("first", (0, 40), "overlaps", 14)
    painter.text("second", (10, 44), "overlaps", 14)
    problems = _problems(painter.elements)
    assert len(problems) == 2
    assert "clipped" in problems[0] and "leaves" in problems[0]
    assert "first" in problems[1] and "second" in problems[1]


counts = st.one_of(st.integers(-10, 2_000_000), st.floats(allow_nan=True, allow_infinity=True))


@settings(max_examples=150, deadline=None)
@given(
    minutes=counts,
    goal=counts,
    steps=counts,
    streak=counts,
    cadence=counts,
    days=st.lists(st.integers(-5, 20_000), min_size=0, max_size=9),
    today=st.integers(-3, 9),
    label=st.text(max_size=80),
    code=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
    battery=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    charging=st.booleans(),
    trusted=st.booleans(),
    history=st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 100_000)), max_size=9),
)
def test_any_values_render_inside_the_screen(
    minutes, goal, steps, streak, cadence, days, today, label, code, battery, charging, trusted,
    history,
) -> None:
    progress = WeekProgress(
        dt.date(2026, 3, 9), goal, minutes, tuple(days), today, steps, minutes, goal, streak
    )
    status = DeviceStatus(
        live_cadence_spm=cadence,
        wearer_label=label,
        pairing_code=code,
        last_sync=WALL,
        clock_trusted=trusted,
        sensor_problem=label or None,  # free text on the detail page too
        battery_percent=battery,
        battery_charging=charging,
        history=tuple(
            DayRecord(dt.date(2026, 3, 12) - dt.timedelta(days=len(history) - 1 - i), s, m)
            for i, (s, m) in enumerate(history)
        ),
    )
    pages = screens.detail_pages(status)
    for screen, page in [(s, 0) for s in screens.ALL_SCREENS] + [("detail", p) for p in
                                                                  range(1, pages)]:
        view = screens.make_view(screen, progress, status, WALL, page)
        problems = _layout_problems(view)
        # Only the free-text fields (label, pairing code) may be cut short; nothing may overflow.
        assert not [p for p in problems if "leaves" in p], problems
        assert not [p for p in problems if "overlaps" in p], problems


# --- what the views say --------------------------------------------------------------------------


def test_brisk_badge_at_or_above_threshold_only() -> None:
    at = screens.make_view("today", None, DeviceStatus(live_cadence_spm=100.0, threshold_spm=100.0))
    below = screens.make_view("today", None, DeviceStatus(live_cadence_spm=99.4, threshold_spm=100))
    still = screens.make_view("today", None, DeviceStatus(live_cadence_spm=0.0, threshold_spm=0.0))
    assert isinstance(at, screens.TodayView) and at.brisk
    assert isinstance(below, screens.TodayView) and not below.brisk
    assert isinstance(still, screens.TodayView) and not still.brisk
    elements = screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), at)
    assert "brisk badge" in {e.name for e in elements}


def test_week_initials_follow_week_start_and_today() -> None:
    progress = dataclasses.replace(sample_progress(), week_start=dt.date(2026, 3, 8), today_index=2)
    view = screens.make_view("week", progress, None)
    assert isinstance(view, screens.WeekView)
    assert view.day_initials == "SMTWTFS" and view.today_index == 2


@pytest.mark.parametrize(
    ("ago", "trusted", "expected"),
    [
        (dt.timedelta(seconds=20), True, "Synced just now"),
        (dt.timedelta(minutes=5, seconds=59), True, "Synced 5 min ago"),
        (dt.timedelta(hours=2, minutes=59), True, "Synced 2 h ago"),
        (dt.timedelta(days=3), True, "Synced 3 d ago"),
        (dt.timedelta(days=40), True, "Synced 31 Jan 2026"),
        (dt.timedelta(hours=2), False, "Synced 12 Mar 2026"),  # clock not set: a date, not "ago"
        (-dt.timedelta(hours=2), True, "Synced 12 Mar 2026"),  # sync in the future: a date
    ],
)
def test_sync_text(ago: dt.timedelta, trusted: bool, expected: str) -> None:
    assert screens.sync_text(WALL - ago, WALL, trusted) == expected


def test_sync_text_never_and_no_wall_clock() -> None:
    assert screens.sync_text(None, WALL, True) == "Never synced"
    assert screens.sync_text(WALL, None, True) == "Synced 12 Mar 2026"


def test_status_lists_clock_not_set_and_problems() -> None:
    view = screens.make_view("status", None, TROUBLED_STATUS, WALL)
    assert isinstance(view, screens.StatusView)
    assert view.title.startswith("Wilhelmina")
    assert any("Clock not set" in p for p in view.problems)
    assert any(p.startswith("Sensor:") for p in view.problems)
    assert any("1,234 min not saved" in p for p in view.problems)


def test_unknown_screen_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown screen 'nope'"):
        screens.make_view("nope", None, None)


# --- the font ------------------------------------------------------------------------------------


def test_font_is_the_bundled_dejavu_sans_not_an_os_file() -> None:
    f = screens.font(30)
    assert f.getname() == ("DejaVu Sans", "Book")
    assert Path(f.path).parent == Path(screens.__file__).parent / "fonts"
    assert (Path(f.path).parent / "LICENSE-DejaVu.txt").exists()
    assert f.getbbox("0")[3] > screens.font(12).getbbox("0")[3]  # sizes really scale


@pytest.mark.parametrize("name", ["Zoë", "Ελένη", "Юлия", "Łukasz Żółć", "François", "Ærøskøbing"])
def test_accented_latin_greek_and_cyrillic_names_render_as_letters(name: str) -> None:
    assert screens.missing_glyphs(name) == []
    # Each letter draws its own glyph, never the font's empty box.
    notdef = screens.font(16).getmask("\U0010fffd")
    for ch in name.replace(" ", ""):
        assert bytes(screens.font(16).getmask(ch)) != bytes(notdef), ch


def test_characters_the_font_lacks_are_named_and_shown_as_question_marks() -> None:
    assert screens.missing_glyphs("Ann 陳 🙂 陳") == ["陳", "🙂"]
    assert screens.shown_text("Ann 陳") == "Ann ?"
    view = screens.make_view("status", None, DeviceStatus(wearer_label="陳 Ann"))
    assert isinstance(view, screens.StatusView) and view.title == "? Ann"


def test_home_screen_says_clock_not_set_until_the_first_sync() -> None:
    unset = screens.make_view("week", sample_progress(), DeviceStatus(), WALL)
    synced = screens.make_view("week", sample_progress(), sample_status(), WALL)
    assert isinstance(unset, screens.WeekView) and isinstance(synced, screens.WeekView)
    assert not unset.top.clock_set and unset.top.time_text == ""
    assert synced.top.clock_set and synced.top.time_text == "15:30"
    names = {e.name for e in screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), unset)}
    assert "clock not set" in names and "time" not in names


def test_week_screen_words_and_fixed_scale_bars() -> None:
    view = screens.make_view("week", sample_progress(), sample_status(), WALL)
    elements = {
        e.name: e.box for e in screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), view)
    }
    assert "to go" in elements and "goal met" not in elements
    met = screens.make_view("week", MET_PROGRESS, sample_status(), WALL)
    met_names = {e.name for e in screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), met)}
    assert "goal met" in met_names and "to go" not in met_names
    # A day's bar depends on its own minutes and the goal only, not on the week's best day.
    a = dataclasses.replace(sample_progress(), day_minutes=(12, 0, 21, 14, 0, 0, 0))
    b = dataclasses.replace(sample_progress(), day_minutes=(12, 0, 90, 14, 0, 0, 0))

    def monday_bar(p: WeekProgress) -> tuple[int, int, int, int]:
        view = screens.make_view("week", p, sample_status(), WALL)
        drawn = screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), view)
        return next(e.box for e in drawn if e.name == "day bar 0")

    assert monday_bar(a) == monday_bar(b)


def test_to_go_counts_the_days_left_including_today() -> None:
    view = screens.make_view("week", sample_progress(), sample_status(), WALL)  # Thursday
    drawn = screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), view)
    assert "to go" in {e.name for e in drawn}
    assert isinstance(view, screens.WeekView) and 7 - view.today_index == 4


def test_days_screen_lists_the_last_seven_days_today_last() -> None:
    view = screens.make_view("days", sample_progress(), sample_status(), WALL)
    assert isinstance(view, screens.DaysView)
    assert [r[0] for r in view.rows] == ["Fr 6", "Sa 7", "Su 8", "Mo 9", "Tu 10", "We 11", "Th 12"]
    assert view.rows[-1][1:] == (14, 6543)


def test_low_battery_is_a_problem_and_shows_on_the_home_screen() -> None:
    low = dataclasses.replace(sample_status(), battery_percent=15.0)
    ok = dataclasses.replace(sample_status(), battery_percent=16.0)
    assert screens.problems_of(low)[0].startswith("Battery low (15 %)")
    assert not any("Battery" in p for p in screens.problems_of(ok))
    view = screens.make_view("week", sample_progress(), low, WALL)
    names = {e.name for e in screens.draw_view(ImageDraw.Draw(Image.new("1", (128, 64))), view)}
    assert "battery low" in names


# --- render_all -------------------------------------------------------------------------------


def test_render_all_writes_every_screen_at_4x(tmp_path: Path) -> None:
    paths = render_all(tmp_path / "out", None, None)
    assert [p.stem for p in paths] == list(screens.ALL_SCREENS)
    for path in paths:
        with Image.open(path) as im:
            assert im.size == (512, 256)
            small = im.resize((128, 64), Image.Resampling.NEAREST)
            # nearest-neighbour 4x: every 4x4 block is one colour
            assert _png_bytes_equal(small.resize((512, 256), Image.Resampling.NEAREST), im)


def test_render_all_cli_reports_unwritable_folder(tmp_path: Path, capsys) -> None:
    from device.display.render_all import main

    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["--out", str(blocker / "sub")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pedometer screens: cannot write to") and err[-1] == "\n"
