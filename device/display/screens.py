"""What each OLED screen shows, and how it is drawn on a 128x64 monochrome canvas.

Two steps per screen, both pure: `make_view` turns (progress, status, wall time) into a small frozen
view holding exactly what will be drawn (its equality is the controller's "did anything change?"),
and `draw_view` draws a view with a Pillow ImageDraw (a luma `canvas` or `hotspot` draw) and returns
the box of every element it drew, so tests can prove nothing is clipped or overlapping.

The font is Pillow's built-in scalable default (Aileron Regular, embedded in Pillow >= 10.1 and
loaded from memory), so no font file is read from the OS or downloaded.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import ImageDraw, ImageFont

from device.core.progress import WeekProgress
from device.status import DeviceStatus

WIDTH, HEIGHT = 128, 64
ON, OFF = "white", "black"

#: Screens a short press cycles through, in order.
SCREEN_ORDER: tuple[str, ...] = ("week", "today", "plan", "status")
#: Opened by a long press (or when a host starts pairing); not in the short-press cycle.
PAIRING = "pairing"
ALL_SCREENS: tuple[str, ...] = (*SCREEN_ORDER, PAIRING)

_WEEKDAY_INITIALS = "MTWTFSS"  # date.weekday() 0 = Monday
_ELLIPSIS = "…"

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Element:
    """One drawn thing and its pixel box (left, top, right, bottom), right/bottom exclusive."""

    name: str
    box: Box


@functools.cache
def font(size: int) -> ImageFont.FreeTypeFont:
    """Pillow's embedded scalable default font at `size` px (needs Pillow built with FreeType)."""
    try:
        loaded = ImageFont.load_default(size=size)
    except TypeError as exc:  # Pillow < 10.1 has no scalable default font
        raise RuntimeError("the OLED screens need Pillow >= 10.1 (scalable default font)") from exc
    if not isinstance(loaded, ImageFont.FreeTypeFont):  # Pillow without FreeType: sizes ignored
        raise RuntimeError("Pillow was built without FreeType: the OLED screens need it")
    return loaded


# ---------------------------------------------------------------------------------------------
# Views: what is shown (pure data, compared to decide whether to redraw)


@dataclass(frozen=True)
class WeekView:
    minutes: int
    goal: int
    day_minutes: tuple[int, ...]
    day_initials: str
    today_index: int


@dataclass(frozen=True)
class TodayView:
    steps: int
    moderate_minutes: int
    cadence: int
    threshold: int
    brisk: bool


@dataclass(frozen=True)
class PlanView:
    goal: int
    next_goal: int
    streak_weeks: int


@dataclass(frozen=True)
class StatusView:
    title: str
    paired: bool
    sync_text: str
    problems: tuple[str, ...]


@dataclass(frozen=True)
class PairingView:
    code: str | None
    paired: bool
    sync_text: str


View = WeekView | TodayView | PlanView | StatusView | PairingView


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


def _problems(status: DeviceStatus) -> tuple[str, ...]:
    found: list[str] = []
    if status.sensor_problem:
        found.append(f"Sensor: {_one_line(status.sensor_problem)}")
    if status.storage_problem:
        found.append(f"Storage: {_one_line(status.storage_problem)}")
    if status.pending_rows > 0:
        found.append(f"{_grouped(_count(status.pending_rows, MAX_STEPS))} min not saved")
    if not status.clock_trusted:
        found.append("Clock not set: sync")
    return tuple(found)


def make_view(
    screen: str,
    progress: WeekProgress | None,
    status: DeviceStatus | None,
    wall: dt.datetime | None = None,
) -> View:
    """The view of `screen` for these facts; `wall` (aware datetime) dates the last sync."""
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
            minutes=_count(progress.moderate_minutes if progress else 0),
            goal=_count(progress.goal_minutes if progress else 0),
            day_minutes=days,
            day_initials=initials,
            today_index=today,
        )
    if screen == "today":
        cadence = _number(status.live_cadence_spm)
        threshold = _number(status.threshold_spm)
        return TodayView(
            steps=_count(progress.today_steps if progress else 0, MAX_STEPS),
            moderate_minutes=_count(progress.today_moderate_minutes if progress else 0),
            cadence=_count(cadence + 0.5, MAX_SMALL),
            threshold=_count(threshold + 0.5, MAX_SMALL),
            brisk=cadence > 0 and cadence >= threshold,
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
            title=_one_line(status.wearer_label) or "Status",
            paired=status.paired,
            sync_text=synced,
            problems=_problems(status),
        )
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
        text = _spaced(text, size)
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


def _spaced(text: str, size: int) -> str:
    """Small sizes of the font have 2-3 px word spaces that vanish in 1 bit: double them."""
    return text.replace(" ", "  ") if size <= 14 else text


def text_width(text: str, size: int) -> int:
    """Pixels from the pen position to the right edge of `text` (left bearing included).

    Measured in mode "1" like ImageDraw on a 1-bit image: unhinted widths differ by a few px.
    """
    return int(font(size).getbbox(_spaced(text, size), mode="1", anchor="ls")[2])


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


def _check_mark(p: _Painter, left: int, baseline: int, fill: str) -> None:
    """A drawn check mark (the font has no glyph for one), 8 px wide, sitting on `baseline`."""
    p.draw.line(
        (left, baseline - 4, left + 2, baseline - 1, left + 7, baseline - 8), fill=fill, width=2
    )


def _draw_week(p: _Painter, v: WeekView) -> None:
    big = _grouped(v.minutes)
    small, gap = (f"/{_grouped(v.goal)} min", 1) if v.goal else ("min", 4)
    big_size = fit_size(big, (32, 28, 24, 20), 127 - text_width(small, 14) - gap)
    big_box = p.text("minutes", (0, 25), big, big_size)
    p.text("goal", (big_box[2] + gap, 25), small, 14)

    # Week progress bar: outline plus fill in proportion (full when the goal is met).
    bar_top, bar_bottom = 29, 37
    if v.goal:
        p.rect("week bar", (0, bar_top, WIDTH, bar_bottom), fill=None, outline=ON)
        inner = round(min(1.0, v.minutes / v.goal) * (WIDTH - 4))
        if inner:
            p.draw.rectangle((2, bar_top + 2, 2 + inner - 1, bar_bottom - 3), fill=ON)
    else:
        p.text("no goal", (0, bar_bottom), "no goal set this week", 10)

    # One bar per day over its initial; today's initial inverted.
    column = WIDTH // 7  # 18 px
    bars_top, bars_bottom = 40, 53
    scale = max(max(v.day_minutes), math.ceil(v.goal / 7), 1)
    for i, (minutes, initial) in enumerate(zip(v.day_minutes, v.day_initials, strict=True)):
        x0 = 1 + i * column
        height = 0 if minutes == 0 else max(2, round(minutes / scale * (bars_bottom - bars_top)))
        p.rect(
            f"day bar {i}", (x0 + 4, bars_bottom - max(height, 1), x0 + 14, bars_bottom), fill=ON
        )
        centre = x0 + 9
        if i == v.today_index:
            p.rect(f"today {i}", (x0 + 3, 55, x0 + 15, HEIGHT), fill=ON)
            p.text(f"day {i}", (centre, 63), initial, 10, anchor="ms", fill=OFF, record=False)
        else:
            p.text(f"day {i}", (centre, 63), initial, 10, anchor="ms")


def _draw_today(p: _Painter, v: TodayView) -> None:
    steps = _grouped(v.steps)
    steps_size = fit_size(steps, (30, 26, 22, 18), 127 - text_width("steps", 12) - 3)
    box = p.text("steps", (0, 24), steps, steps_size)
    p.text("steps label", (box[2] + 3, 24), "steps", 12)

    minutes = _grouped(v.moderate_minutes)
    size = fit_size(minutes, (18, 16, 14), 127 - text_width("min moderate", 12) - 3)
    box = p.text("moderate minutes", (0, 43), minutes, size)
    p.text("moderate label", (box[2] + 3, 43), "min moderate", 12)

    cadence = _grouped(v.cadence)
    box = p.text("cadence", (0, 63), cadence, 18)
    p.text("cadence label", (box[2] + 2, 63), "/min", 12)
    if v.brisk:
        label_width = text_width("BRISK", 12)
        left = WIDTH - (label_width + 16)
        p.rect("brisk badge", (left, 48, WIDTH, HEIGHT), fill=ON)
        _check_mark(p, left + 3, 60, OFF)
        p.text("brisk", (left + 13, 61), "BRISK", 12, fill=OFF, record=False)
    else:
        p.text("target", (127, 62), f"brisk at {_grouped(v.threshold)}", 10, anchor="rs")


def _draw_plan(p: _Painter, v: PlanView) -> None:
    weeks = "week" if v.streak_weeks == 1 else "weeks"
    rows = (
        ("This week", f"{_grouped(v.goal)} min" if v.goal else "no goal"),
        ("Next week", f"{_grouped(v.next_goal)} min" if v.next_goal else "no goal"),
        ("On plan", f"{_grouped(v.streak_weeks)} {weeks}"),
    )
    for i, (label, value) in enumerate(rows):
        baseline = 16 + 21 * i
        label_box = p.text(f"label {i}", (0, baseline), label, 12)
        size = fit_size(value, (20, 18, 16, 14), 127 - label_box[2] - 4)
        p.text(f"value {i}", (127, baseline), value, size, anchor="rs")


def _header(p: _Painter, title: str) -> None:
    """An inverted title bar; only its text is recorded (the bar is its background)."""
    p.draw.rectangle((0, 0, WIDTH - 1, 13), fill=ON)
    p.text("title", (3, 11), ellipsize(title, 12, WIDTH - 6), 12, fill=OFF)


def _draw_status(p: _Painter, v: StatusView) -> None:
    _header(p, v.title)
    lines = ["Paired" if v.paired else "Not paired", v.sync_text]
    problems = list(v.problems) or ["All OK"]
    more = f" +{len(problems) - 2}" if len(problems) > 2 else ""
    lines += problems[:2]
    for i, line in enumerate(lines):
        suffix = more if i == len(lines) - 1 else ""
        shown = ellipsize(line, 11, WIDTH - 1 - text_width(suffix, 11)) + suffix
        p.text(f"line {i}", (0, 26 + 12 * i), shown, 11)


def _draw_pairing(p: _Painter, v: PairingView) -> None:
    _header(p, "Pairing")
    if v.code:
        code = v.code.strip()
        size = fit_size(code, (32, 28, 24, 20, 16), WIDTH - 2)
        p.text("code", (64, 44), ellipsize(code, size, WIDTH - 2), size, anchor="ms")
        p.text("hint", (64, 61), "type it in: hostsync pair", 10, anchor="ms")
    else:
        p.text("state", (0, 31), "Paired" if v.paired else "Not paired yet", 14)
        p.text("sync", (0, 45), ellipsize(v.sync_text, 11, WIDTH - 1), 11)
        hint = "Connect USB to sync" if v.paired else "Connect USB to pair"
        p.text("hint", (0, 60), hint, 11)


def draw_view(draw: ImageDraw.ImageDraw, view: View) -> list[Element]:
    """Draw `view` from (0, 0) on a 128x64 draw surface; return the drawn elements' boxes."""
    p = _Painter(draw)
    if isinstance(view, WeekView):
        _draw_week(p, view)
    elif isinstance(view, TodayView):
        _draw_today(p, view)
    elif isinstance(view, PlanView):
        _draw_plan(p, view)
    elif isinstance(view, StatusView):
        _draw_status(p, view)
    else:
        _draw_pairing(p, view)
    return p.elements
