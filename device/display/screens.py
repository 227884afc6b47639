"""What each OLED screen shows, and how it is drawn on a 128x64 monochrome canvas.

Two steps per screen, both pure: `make_view` turns (progress, status, wall time) into a small frozen
view holding exactly what will be drawn (its equality is the controller's "did anything change?"),
and `draw_view` draws a view with a Pillow ImageDraw (a luma `canvas` or `hotspot` draw) and returns
the box of every element it drew, so tests can prove nothing is clipped or overlapping.

The font is DejaVu Sans, bundled in `device/display/fonts/` (Bitstream Vera licence, beside it):
it has the Latin, Greek and Cyrillic letters of the wearers' names ("Zoë", "Ελένη", "Юлия"), and
nothing is read from the OS. A character it lacks is shown as "?" (never as an empty box), and the
host refuses such a label before it reaches the device (`missing_glyphs`).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from device.core.progress import WeekProgress
from device.status import LOW_BATTERY_PERCENT, DeviceStatus

WIDTH, HEIGHT = 128, 64
ON, OFF = "white", "black"
FONT_PATH = Path(__file__).parent / "fonts" / "DejaVuSans.ttf"

#: Screens a short press cycles through, in order ("detail" pages through every problem).
SCREEN_ORDER: tuple[str, ...] = ("week", "days", "today", "plan", "status", "detail")
#: Walk mode: opened by a press while the wearer is walking; not in the short-press cycle.
WALK = "walk"
#: Opened by a long press (or when a host starts pairing); not in the short-press cycle.
PAIRING = "pairing"
ALL_SCREENS: tuple[str, ...] = (*SCREEN_ORDER, WALK, PAIRING)

_WEEKDAY_INITIALS = "MTWTFSS"  # date.weekday() 0 = Monday
_WEEKDAY_SHORT = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_ELLIPSIS = "…"
_CHECK = "✓"

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Element:
    """One drawn thing and its pixel box (left, top, right, bottom), right/bottom exclusive."""

    name: str
    box: Box


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """The bundled DejaVu Sans at `size` px (Pillow with FreeType)."""
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError as exc:
        raise RuntimeError(f"the OLED screens need their font {FONT_PATH}: {exc}") from exc


@functools.cache
def _notdef_mask() -> bytes:
    return bytes(font(16).getmask("\U0010fffd"))


@functools.cache
def has_glyph(char: str) -> bool:
    """The bundled font draws `char` (a character it lacks would come out as its empty box)."""
    if not char.isprintable():
        return False
    if char.isspace():
        return True
    return bytes(font(16).getmask(char)) != _notdef_mask()


def missing_glyphs(text: str) -> list[str]:
    """The distinct characters of `text` the device's screen cannot show, in order of appearance.
    The host refuses a wearer label with any (one clear line naming them)."""
    seen: list[str] = []
    for ch in text:
        if ch not in seen and not has_glyph(ch):
            seen.append(ch)
    return seen


def shown_text(text: str) -> str:
    """`text` as the screen draws it: a character the font lacks becomes '?'."""
    return "".join(ch if has_glyph(ch) else "?" for ch in text)


# ---------------------------------------------------------------------------------------------
# Views: what is shown (pure data, compared to decide whether to redraw)


@dataclass(frozen=True)
class TopLine:
    """The line at the top of the home and status screens: time of day and battery."""

    time_text: str  # "15:30", or "" when the clock is not set
    clock_set: bool
    battery: int | None  # percent, None without a gauge
    battery_low: bool
    charging: bool


@dataclass(frozen=True)
class WeekView:
    top: TopLine
    minutes: int
    goal: int
    day_minutes: tuple[int, ...]
    day_initials: str
    today_index: int
    coaching: str = ""  # behind plan: what gets the week back on track ("12 brisk min today")


@dataclass(frozen=True)
class DaysView:
    rows: tuple[tuple[str, int, int], ...]  # (day label, brisk minutes, steps), oldest first
    dates: tuple[dt.date | None, ...] = ()  # the day of each row (what the labels abbreviate)


@dataclass(frozen=True)
class TodayView:
    steps: int
    moderate_minutes: int
    cadence: int
    threshold: int
    brisk: bool


@dataclass(frozen=True)
class WalkView:
    cadence: int
    threshold: int
    brisk: bool
    today_minutes: int


@dataclass(frozen=True)
class PlanView:
    goal: int
    next_goal: int
    streak_weeks: int


@dataclass(frozen=True)
class StatusView:
    title: str
    top: TopLine
    paired: bool
    sync_text: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class DetailView:
    heading: str  # "Problem 1 of 3", "All OK"
    lines: tuple[str, ...]


@dataclass(frozen=True)
class PairingView:
    code: str | None
    paired: bool
    sync_text: str


View = (
    WeekView | DaysView | TodayView | WalkView | PlanView | StatusView | DetailView | PairingView
)


def _number(value: object) -> float:
    """A finite non-negative float from anything numeric (bad values count as 0)."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0


# Largest values the layouts are made for; anything above shows as the cap.
MAX_STEPS = 999_999
MAX_MINUTES = 9_999
MAX_DAY_MINUTES = 1_440
MAX_SMALL = 999  # cadence, threshold, streak weeks


def _count(value: object, cap: int = MAX_MINUTES) -> int:
    """A displayable whole number in 0..cap (truncated; bad values show as 0)."""
    return min(int(_number(value)), cap)


def _grouped(number: int) -> str:
    return f"{number:,}"


def sync_text(last_sync: dt.datetime | None, wall: dt.datetime | None, clock_trusted: bool) -> str:
    """'Synced 2 h ago' when the clock can be trusted, else the date of the last sync."""
    if last_sync is None:
        return "Never synced"
    if last_sync.tzinfo is None:
        last_sync = last_sync.replace(tzinfo=dt.UTC)
    tz = wall.tzinfo if wall is not None and wall.tzinfo is not None else dt.UTC
    local = last_sync.astimezone(tz)
    if wall is not None and clock_trusted:
        if wall.tzinfo is None:
            wall = wall.replace(tzinfo=dt.UTC)
        seconds = (wall - last_sync).total_seconds()
        if 0 <= seconds < 60:
            return "Synced just now"
        if 0 <= seconds < 3600:
            return f"Synced {int(seconds // 60)} min ago"
        if 0 <= seconds < 86400:
            return f"Synced {int(seconds // 3600)} h ago"
        if 0 <= seconds < 7 * 86400:
            return f"Synced {int(seconds // 86400)} d ago"
    return f"Synced {local.day} {local:%b %Y}"


def _one_line(text: object, limit: int = 120) -> str:
    """Free text (labels, codes, messages) as one printable line: no control characters."""
    if not isinstance(text, str):
        return ""
    return "".join(ch if ch.isprintable() else " " for ch in text[:limit]).strip()


def problems_of(status: DeviceStatus) -> tuple[str, ...]:
    """Every problem the device knows of, each in full plain words."""
    found: list[str] = []
    battery = status.battery_percent
    if battery is not None and _number(battery) <= LOW_BATTERY_PERCENT:
        found.append(f"Battery low ({_count(battery + 0.5, 100)} %): charge it soon")
    if status.sensor_problem:
        sensor = _one_line(status.sensor_problem).removeprefix("Sensor: ")
        found.append(f"Sensor: {sensor}")
    if status.storage_problem:
        found.append(f"Storage: {_one_line(status.storage_problem)}")
    if status.battery_problem:
        found.append(f"Battery gauge: {_one_line(status.battery_problem)}")
    if status.pending_rows > 0:
        found.append(f"{_grouped(_count(status.pending_rows, MAX_STEPS))} min not saved yet")
    if not status.clock_trusted:
        found.append("Clock not set: connect USB to sync")
    return tuple(found)


def _top_line(status: DeviceStatus, wall: dt.datetime | None) -> TopLine:
    battery = status.battery_percent
    percent = None if battery is None else _count(_number(battery) + 0.5, 100)
    clock_set = bool(status.clock_trusted)
    return TopLine(
        time_text=f"{wall:%H:%M}" if clock_set and wall is not None else "",
        clock_set=clock_set,
        battery=percent,
        battery_low=percent is not None and percent <= LOW_BATTERY_PERCENT,
        charging=bool(status.battery_charging) and percent is not None,
    )


def _brisk(status: DeviceStatus) -> tuple[int, int, bool]:
    cadence = _number(status.live_cadence_spm)
    threshold = _number(status.threshold_spm)
    return (
        _count(cadence + 0.5, MAX_SMALL),
        _count(threshold + 0.5, MAX_SMALL),
        cadence > 0 and cadence >= threshold,
    )


DETAIL_SIZE = 9  # 5 lines of about 24 characters: a whole problem, brackets and all
DETAIL_LINES = 5


def wrap(text: str, size: int, max_width: int) -> list[str]:
    """`text` broken into lines that each fit `max_width` at `size` (words kept whole when they
    fit; a longer word is cut)."""
    lines: list[str] = []
    for word in text.split():
        while text_width(word, size) > max_width:  # a word wider than the line: cut it
            cut = len(word)
            while cut > 1 and text_width(word[:cut], size) > max_width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        if lines and text_width(f"{lines[-1]} {word}", size) <= max_width:
            lines[-1] = f"{lines[-1]} {word}"
        elif word:
            lines.append(word)
    return lines


def detail_pages(status: DeviceStatus | None) -> int:
    """How many pages the detail screen has (one per problem, at least one)."""
    return max(1, len(problems_of(status or DeviceStatus())))


def make_view(
    screen: str,
    progress: WeekProgress | None,
    status: DeviceStatus | None,
    wall: dt.datetime | None = None,
    page: int = 0,
) -> View:
    """The view of `screen` for these facts; `wall` (aware datetime, the wearer's zone) gives
    the time of day and dates the last sync; `page` chooses the detail screen's problem."""
    status = status or DeviceStatus()
    if screen == "week":
        raw_days = progress.day_minutes if progress else ()
        days = tuple(_count(m) for m in (raw_days if isinstance(raw_days, tuple | list) else ()))
        days = days[:7] + (0,) * (7 - len(days[:7]))
        start = progress.week_start if progress else None
        first = start.weekday() if isinstance(start, dt.date) else 0
        initials = "".join(_WEEKDAY_INITIALS[(first + i) % 7] for i in range(7))
        index = progress.today_index if progress else -1
        today = index if isinstance(index, int) and 0 <= index < 7 else -1
        return WeekView(
            top=_top_line(status, wall),
            minutes=_count(progress.moderate_minutes if progress else 0),
            goal=_count(progress.goal_minutes if progress else 0),
            day_minutes=days,
            day_initials=initials,
            today_index=today,
            coaching=shown_text(_one_line(status.coaching_line, 40)),
        )
    if screen == "days":
        rows, dates = [], []
        for record in tuple(status.history)[-7:]:
            day = getattr(record, "day", None)
            dates.append(day if isinstance(day, dt.date) else None)
            label = f"{_WEEKDAY_SHORT[day.weekday()]} {day.day}" if isinstance(day, dt.date) else ""
            rows.append(
                (
                    label,
                    _count(getattr(record, "moderate_minutes", 0), MAX_DAY_MINUTES),
                    _count(getattr(record, "steps", 0), MAX_STEPS),
                )
            )
        return DaysView(rows=tuple(rows), dates=tuple(dates))
    if screen == "today":
        cadence, threshold, brisk = _brisk(status)
        return TodayView(
            steps=_count(progress.today_steps if progress else 0, MAX_STEPS),
            moderate_minutes=_count(progress.today_moderate_minutes if progress else 0),
            cadence=cadence,
            threshold=threshold,
            brisk=brisk,
        )
    if screen == WALK:
        cadence, threshold, brisk = _brisk(status)
        return WalkView(
            cadence=cadence,
            threshold=threshold,
            brisk=brisk,
            today_minutes=_count(progress.today_moderate_minutes if progress else 0),
        )
    if screen == "plan":
        return PlanView(
            goal=_count(progress.goal_minutes if progress else 0),
            next_goal=_count(progress.next_goal_minutes if progress else 0),
            streak_weeks=_count(progress.streak_weeks if progress else 0, MAX_SMALL),
        )
    synced = sync_text(status.last_sync, wall, status.clock_trusted)
    if screen == "status":
        return StatusView(
            title=shown_text(_one_line(status.wearer_label)) or "Status",
            top=_top_line(status, wall),
            paired=status.paired,
            sync_text=synced,
            problems=problems_of(status),
        )
    if screen == "detail":
        problems = problems_of(status)
        if not problems:
            return DetailView("All OK", ("No problems found.", synced))
        index = min(max(int(page), 0), len(problems) - 1)
        lines = wrap(shown_text(problems[index]), DETAIL_SIZE, WIDTH - 1)
        if len(lines) > DETAIL_LINES:
            lines = [*lines[: DETAIL_LINES - 1], ellipsize(" ".join(lines[DETAIL_LINES - 1 :]),
                                                           DETAIL_SIZE, WIDTH - 1)]
        heading = f"Problem {index + 1} of {len(problems)}" if len(problems) > 1 else "Problem"
        return DetailView(heading, tuple(lines))
    if screen == PAIRING:
        return PairingView(
            code=_one_line(status.pairing_code) or None, paired=status.paired, sync_text=synced
        )
    raise ValueError(f"unknown screen {screen!r}; known: {', '.join(ALL_SCREENS)}")


# ---------------------------------------------------------------------------------------------
# Drawing


class _Painter:
    """Draws on an ImageDraw and records each element's box (the layout test reads them)."""

    def __init__(self, draw: ImageDraw.ImageDraw) -> None:
        self.draw = draw
        self.elements: list[Element] = []

    def text(
        self,
        name: str,
        xy: tuple[int, int],
        text: str,
        size: int,
        anchor: str = "ls",
        fill: str = ON,
        record: bool = True,
    ) -> Box:
        f = font(size)
        box = self.draw.textbbox(xy, text, font=f, anchor=anchor)
        self.draw.text(xy, text, font=f, anchor=anchor, fill=fill)
        # textbbox is inclusive-left/exclusive-right like getbbox.
        result = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        if record:
            self.elements.append(Element(name, result))
        return result

    def rect(self, name: str, box: Box, fill: str | None = ON, outline: str | None = None) -> None:
        left, top, right, bottom = box  # exclusive right/bottom
        if right > left and bottom > top:
            self.draw.rectangle((left, top, right - 1, bottom - 1), fill=fill, outline=outline)
        self.elements.append(Element(name, box))


def text_width(text: str, size: int) -> int:
    """Pixels from the pen position to the right edge of `text` (left bearing included)."""
    return int(font(size).getbbox(text, mode="1", anchor="ls")[2])


def fit_size(text: str, sizes: Sequence[int], max_width: int) -> int:
    """The largest of `sizes` (descending) at which `text` fits `max_width`, else the smallest."""
    for size in sizes:
        if text_width(text, size) <= max_width:
            return size
    return sizes[-1]


def ellipsize(text: str, size: int, max_width: int) -> str:
    """`text` cut with an ellipsis so that it fits `max_width` at `size`."""
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + _ELLIPSIS, size) > max_width:
        text = text[:-1]
    return text.rstrip() + _ELLIPSIS if text else ""


def _battery(p: _Painter, top: TopLine, right: int, baseline: int) -> int:
    """Battery icon and percent ending at x = right; returns the left edge used."""
    if top.battery is None:
        return right
    body_left, body_top = right - 14, baseline - 8
    p.rect("battery", (body_left, body_top, right - 2, baseline), fill=None, outline=ON)
    p.draw.rectangle((right - 2, body_top + 2, right - 1, baseline - 3), fill=ON)  # the nub
    inner = round(min(top.battery, 100) / 100 * 10)
    if inner:
        p.draw.rectangle((body_left + 1, body_top + 1, body_left + inner, baseline - 2), fill=ON)
    text = f"{top.battery}%" + ("+" if top.charging else "")
    if top.battery_low:
        width = text_width(text, 10)
        box = (body_left - width - 5, 0, body_left - 1, 11)
        p.rect("battery low", box, fill=ON)
        p.text("battery text", (box[0] + 2, baseline), text, 10, fill=OFF, record=False)
        return box[0]
    box = p.text("battery text", (body_left - 2, baseline), text, 10, anchor="rs")
    return box[0]


def _draw_top(p: _Painter, top: TopLine) -> None:
    """Time of day (or 'Clock not set', inverted) on the left, battery on the right; y 0..10."""
    baseline = 9
    left_of_battery = _battery(p, top, WIDTH, baseline)
    if top.clock_set:
        if top.time_text:
            p.text("time", (0, baseline), top.time_text, 10)
    else:
        text = ellipsize("Clock not set", 10, left_of_battery - 8)
        width = text_width(text, 10)
        p.rect("clock not set", (0, 0, width + 4, 11), fill=ON)
        p.text("clock text", (2, baseline), text, 10, fill=OFF, record=False)


def _draw_week(p: _Painter, v: WeekView) -> None:
    _draw_top(p, v.top)
    # The big number and what it is: "47  /130 brisk min / this week".
    big = _grouped(v.minutes)
    first = f"/{_grouped(v.goal)} brisk min" if v.goal else "brisk min"
    label_w = max(text_width(first, 10), text_width("this week", 10))
    big_size = fit_size(big, (23, 20, 16, 13), 127 - label_w - 3)
    big_box = p.text("minutes", (0, 31), big, big_size)
    x = big_box[2] + 3
    p.text("label 1", (x, 20), first, 10)
    p.text("label 2", (x, 31), "this week", 10)

    # What is left to do, or the goal-met state.
    days_left = 7 - v.today_index if v.today_index >= 0 else 0
    if not v.goal:
        p.text("to go", (0, 44), "no goal set this week", 10)
    elif v.minutes >= v.goal:
        extra = v.minutes - v.goal
        text = f"{_CHECK} Goal met" + (f", +{_grouped(extra)} min" if extra else "!")
        text = ellipsize(text, 10, WIDTH - 4)
        width = text_width(text, 10)
        p.rect("goal met", (0, 34, width + 4, 46), fill=ON)
        p.text("goal met text", (2, 44), text, 10, fill=OFF, record=False)
    elif v.coaching:  # behind plan: what gets the week back on track (device/core/coaching.py)
        p.text("to go", (0, 44), ellipsize(v.coaching, 10, WIDTH - 1), 10)
    else:
        to_go = v.goal - v.minutes
        day_word = "day" if days_left == 1 else "days"
        for text in (f"{_grouped(to_go)} min to go, {days_left} {day_word} left",
                     f"{_grouped(to_go)} to go, {days_left} d left",
                     f"{_grouped(to_go)} to go"):
            if text_width(text, 10) <= WIDTH - 1:
                break
        p.text("to go", (0, 44), ellipsize(text, 10, WIDTH - 1), 10)

    # One bar per day on a fixed scale: the tick is the day's share of the week's goal; a bar
    # reaches it at that share and may grow a little above it (then it stops).
    column = WIDTH // 7  # 18 px
    bars_top, bars_bottom, tick_y = 47, 56, 49
    share = v.goal / 7 if v.goal else 0
    for i, (minutes, initial) in enumerate(zip(v.day_minutes, v.day_initials, strict=True)):
        x0 = 1 + i * column
        if share:
            full = bars_bottom - tick_y
            height = min(bars_bottom - bars_top, round(minutes / share * full))
        else:
            height = min(bars_bottom - bars_top, minutes)  # no goal: 1 px per minute, capped
        if minutes and height < 1:
            height = 1
        p.rect(f"day bar {i}", (x0 + 4, bars_bottom - max(height, 0), x0 + 13, bars_bottom),
               fill=ON)
        if share:  # the tick: a short line either side of the bar at the day's share
            p.draw.line((x0 + 1, tick_y, x0 + 2, tick_y), fill=ON)
            p.draw.line((x0 + 15, tick_y, x0 + 16, tick_y), fill=ON)
        centre = x0 + 8
        if i == v.today_index:
            p.rect(f"today {i}", (x0 + 2, 57, x0 + 15, HEIGHT), fill=ON)
            p.text(f"day {i}", (centre, 63), initial, 8, anchor="ms", fill=OFF, record=False)
        else:
            p.text(f"day {i}", (centre, 63), initial, 8, anchor="ms")


def _draw_days(p: _Painter, v: DaysView) -> None:
    p.text("head day", (0, 6), "7 days", 7)
    p.text("head min", (72, 6), "brisk min", 7, anchor="rs")
    p.text("head steps", (126, 6), "steps", 7, anchor="rs")
    if not v.rows:
        p.text("empty", (0, 36), "No days yet", 12)
        return
    for i, (label, minutes, steps) in enumerate(v.rows):
        baseline = 15 + 8 * i
        last = i == len(v.rows) - 1
        if last:  # today, inverted
            p.rect("today row", (0, baseline - 7, WIDTH, baseline + 1), fill=ON)
        fill = OFF if last else ON
        p.text(f"row {i} day", (1, baseline), label, 9, fill=fill, record=not last)
        p.text(f"row {i} min", (72, baseline), _grouped(minutes), 9, anchor="rs", fill=fill,
               record=not last)
        p.text(f"row {i} steps", (126, baseline), str(steps), 9, anchor="rs", fill=fill,
               record=not last)


def _brisk_badge(p: _Painter, baseline: int, size: int) -> None:
    text = f"{_CHECK} BRISK"
    width = text_width(text, size)
    left = WIDTH - width - 6
    p.rect("brisk badge", (left, baseline - size - 1, WIDTH, baseline + 3), fill=ON)
    p.text("brisk", (left + 3, baseline), text, size, fill=OFF, record=False)


def _draw_today(p: _Painter, v: TodayView) -> None:
    p.text("title", (0, 9), "Today", 10)
    steps = _grouped(v.steps)
    steps_size = fit_size(steps, (22, 19, 16, 14), 127 - text_width("steps", 11) - 3)
    box = p.text("steps", (0, 31), steps, steps_size)
    p.text("steps label", (box[2] + 3, 31), "steps", 11)

    minutes = _grouped(v.moderate_minutes)
    size = fit_size(minutes, (16, 14, 12), 127 - text_width("brisk min", 11) - 3)
    box = p.text("moderate minutes", (0, 48), minutes, size)
    p.text("moderate label", (box[2] + 3, 48), "brisk min", 11)

    cadence = _grouped(v.cadence)
    box = p.text("cadence", (0, 62), cadence, 12)
    p.text("cadence label", (box[2] + 2, 62), "steps/min", 9)
    if v.brisk:
        _brisk_badge(p, 61, 9)


def _draw_walk(p: _Painter, v: WalkView) -> None:
    p.text("title", (0, 9), "Walking now", 10)
    cadence = _grouped(v.cadence)
    box = p.text("cadence", (0, 36), cadence, 26)
    p.text("cadence label 1", (box[2] + 4, 24), "steps", 11)
    p.text("cadence label 2", (box[2] + 4, 36), "a minute", 11)
    if v.brisk:
        text = f"{_CHECK} Brisk: keep going"
        p.rect("cue", (0, 39, WIDTH, 52), fill=ON)
        p.text("cue text", (2, 50), ellipsize(text, 11, WIDTH - 4), 11, fill=OFF, record=False)
    else:
        text = f"Not yet brisk: aim {_grouped(v.threshold)}"
        p.text("cue", (0, 50), ellipsize(text, 11, WIDTH - 1), 11)
    p.text("today", (0, 62), f"Today {_grouped(v.today_minutes)} brisk min", 9)


def _draw_plan(p: _Painter, v: PlanView) -> None:
    p.text("title", (0, 9), "Plan (brisk min a week)", 10)
    rows = (
        ("This week", f"{_grouped(v.goal)} min" if v.goal else "no goal"),
        ("Next week", f"{_grouped(v.next_goal)} min" if v.next_goal else "no goal"),
    )
    for i, (label, value) in enumerate(rows):
        baseline = 27 + 17 * i
        label_box = p.text(f"label {i}", (0, baseline), label, 11)
        size = fit_size(value, (16, 14, 12, 11), 127 - label_box[2] - 4)
        p.text(f"value {i}", (127, baseline), value, size, anchor="rs")
    weeks = "week" if v.streak_weeks == 1 else "weeks"
    streak = f"{_grouped(v.streak_weeks)} {weeks} met in a row"
    p.text("streak", (0, 62), ellipsize(streak, 11, WIDTH - 1), 11)


def _header(p: _Painter, title: str, right: str = "") -> None:
    """An inverted title bar; only its text is recorded (the bar is its background)."""
    p.draw.rectangle((0, 0, WIDTH - 1, 13), fill=ON)
    width = text_width(right, 10) + 4 if right else 0
    title = ellipsize(title, 11, WIDTH - 4 - width)
    # Tall accents (stacked diacritics) could reach above the screen: lower the line for them.
    baseline = 11 - min(0, font(11).getbbox(title, anchor="ls")[1] + 11)
    p.text("title", (2, baseline), title, 11, fill=OFF)
    if right:
        p.text("title right", (WIDTH - 2, 11), right, 10, anchor="rs", fill=OFF)


def _draw_status(p: _Painter, v: StatusView) -> None:
    _header(p, v.title)
    # the top line (time, battery) below the title
    time_part = v.top.time_text if v.top.clock_set else "Clock not set"
    time_box = p.text("time", (0, 24), time_part, 10)
    if v.top.battery is not None:
        room = WIDTH - 1 - time_box[2] - 6
        for battery in (f"{v.top.battery}% " + ("charging" if v.top.charging else "battery"),
                        f"{v.top.battery}%" + ("+" if v.top.charging else "")):
            if text_width(battery, 10) <= room:
                break
        p.text("battery", (WIDTH - 1, 24), battery, 10, anchor="rs")
    lines = [v.sync_text if v.paired else "Not paired yet"]
    if not v.problems:
        lines.append("All OK")
    else:
        lines.append(v.problems[0])
        count = len(v.problems)
        lines.append(f"{count} problems: press" if count > 1 else "Press for the details")
    for i, line in enumerate(lines):
        p.text(f"line {i}", (0, 37 + 12 * i), ellipsize(line, 10, WIDTH - 1), 10)


def _stack(lines: Sequence[str], size: int, first: int, pitch: int, top: int) -> list[int]:
    """Baselines for `lines`, `pitch` apart from `first`, lowered where tall accents or brackets
    would touch the line above; lines that would then leave the screen are left off."""
    baselines: list[int] = []
    above = top
    for i, line in enumerate(lines):
        _left, ink_top, _right, ink_bottom = font(size).getbbox(line, mode="1", anchor="ls")
        baseline = max(first + pitch * i, above - int(ink_top))
        if baseline + int(ink_bottom) > HEIGHT:
            break
        baselines.append(baseline)
        above = baseline + int(ink_bottom)
    return baselines


def _draw_detail(p: _Painter, v: DetailView) -> None:
    _header(p, v.heading)
    lines = list(v.lines)
    baselines = _stack(lines, DETAIL_SIZE, 22, 10, 14)
    if len(baselines) < len(lines):  # unusual letters took the room: say the rest is cut
        lines = lines[: len(baselines)]
        if lines:
            lines[-1] = ellipsize(lines[-1] + _ELLIPSIS, DETAIL_SIZE, WIDTH - 1)
    for i, (line, baseline) in enumerate(zip(lines, baselines, strict=True)):
        left = int(font(DETAIL_SIZE).getbbox(line, mode="1", anchor="ls")[0])
        p.text(f"line {i}", (max(0, -left), baseline), line, DETAIL_SIZE)  # a 'y' may lean out


def _draw_pairing(p: _Painter, v: PairingView) -> None:
    _header(p, "Pairing")
    if v.code:
        code = v.code.strip()
        size = fit_size(code, (28, 24, 20, 16), WIDTH - 2)
        p.text("code", (64, 44), ellipsize(code, size, WIDTH - 2), size, anchor="ms")
        p.text("hint", (64, 61), "type it in: hostsync pair", 9, anchor="ms")
    else:
        p.text("state", (0, 30), "Paired" if v.paired else "Not paired yet", 13)
        p.text("sync", (0, 45), ellipsize(v.sync_text, 10, WIDTH - 1), 10)
        hint = "Connect USB to sync" if v.paired else "Connect USB to pair"
        p.text("hint", (0, 60), hint, 10)


def draw_view(draw: ImageDraw.ImageDraw, view: View) -> list[Element]:
    """Draw `view` from (0, 0) on a 128x64 draw surface; return the drawn elements' boxes."""
    p = _Painter(draw)
    if isinstance(view, WeekView):
        _draw_week(p, view)
    elif isinstance(view, DaysView):
        _draw_days(p, view)
    elif isinstance(view, TodayView):
        _draw_today(p, view)
    elif isinstance(view, WalkView):
        _draw_walk(p, view)
    elif isinstance(view, PlanView):
        _draw_plan(p, view)
    elif isinstance(view, StatusView):
        _draw_status(p, view)
    elif isinstance(view, DetailView):
        _draw_detail(p, view)
    else:
        _draw_pairing(p, view)
    return p.elements


def preview(view: View) -> Image.Image:
    """The view drawn on a fresh 128x64 1-bit image (for tools and tests)."""
    image = Image.new("1", (WIDTH, HEIGHT))
    draw_view(ImageDraw.Draw(image), view)
    return image
