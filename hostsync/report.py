"""The caregiver's weekly report: minute rows in, a text table, a PNG chart and one HTML file out.

Everything here is a pure function of the rows, the wearer's config and 'today', except the few
``write``/``render_*`` helpers that save a file. Weeks follow the wearer's time zone and week
start day, and the goals follow the same rules as the device (device.core.progress), so the
caregiver sees exactly the numbers the wearer saw on the screen.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import textwrap
import unicodedata
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from PIL import Image, ImageDraw, ImageFont

from device.core.progress import (
    PLAUSIBLE_UTC_MIN,
    first_data_utc_of,
    first_data_week_for,
    goal_for_week,
    week_start_for,
)
from hostsync.files import write_atomic

if TYPE_CHECKING:
    from device.config import WearerConfig
    from device.store import MinuteRow

TARGET_MINUTES = 130  # WalkBack: at least 130 moderate minutes a week
CHART_SIZE = (1600, 1000)  # pixels; prints sharply on an A4/Letter page in landscape
MAX_CHART_WEEKS = 26  # the chart shows the latest half year; the table shows every week
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DayTotal:
    """One local calendar day of the wearer.

    active_minutes: minutes with at least one step; moderate_minutes: minutes flagged moderate.
    """

    day: dt.date
    steps: int
    moderate_minutes: int
    active_minutes: int


@dataclass(frozen=True)
class WeekSummary:
    """One week of the wearer (local time, the wearer's week start day).

    day_minutes: moderate minutes per day, 7 values, week_start first.
    active_days: days of the week with at least one moderate minute.
    in_progress: the week contains 'today', so its totals are so far, not final.
    """

    week_start: dt.date
    goal_minutes: int
    moderate_minutes: int
    steps: int
    active_days: int
    met_goal: bool
    day_minutes: tuple[int, ...]
    in_progress: bool = False


class ReportError(Exception):
    """A report file could not be written; the message is one plain line."""


class ReportFiles(NamedTuple):
    """What write_report produced: the text table and the paths of the two files."""

    text: str
    png_path: Path
    html_path: Path


# ---------------------------------------------------------------------------------------------
# Pure aggregation


def wearer_tz(config: WearerConfig) -> zoneinfo.ZoneInfo:
    """The wearer's time zone (WearerConfig has already checked the name)."""
    return zoneinfo.ZoneInfo(config.timezone)


def local_start(start_utc: int, tz: dt.tzinfo) -> dt.datetime:
    """The wall-clock start of a minute row in the wearer's time zone (aware datetime)."""
    return dt.datetime.fromtimestamp(start_utc, tz)


def today_for(config: WearerConfig) -> dt.date:
    """Today's date where the wearer lives (not where the laptop is)."""
    return dt.datetime.now(wearer_tz(config)).date()


def placed(row: MinuteRow) -> bool:
    """The row has a plausible wall-clock time (not a minute from before the clock was set that
    was never re-anchored, which would land in 1970); only placed rows go into days and weeks."""
    return row.start_utc >= PLAUSIBLE_UTC_MIN


def unplaced_count(rows: Iterable[MinuteRow]) -> int:
    """How many rows have no plausible wall-clock time (kept in exports, left out of totals)."""
    return sum(1 for r in rows if not placed(r))


def daily_totals(rows: Iterable[MinuteRow], config: WearerConfig) -> list[DayTotal]:
    """Per local day totals, every day from the first to the last day with data (gaps = zeros).
    Rows without a plausible time (see placed) are left out."""
    tz = wearer_tz(config)
    steps: dict[dt.date, int] = {}
    moderate: dict[dt.date, int] = {}
    active: dict[dt.date, int] = {}
    for row in rows:
        if not placed(row):
            continue
        day = local_start(row.start_utc, tz).date()
        steps[day] = steps.get(day, 0) + row.steps
        moderate[day] = moderate.get(day, 0) + (1 if row.moderate else 0)
        active[day] = active.get(day, 0) + (1 if row.steps > 0 else 0)
    if not steps:
        return []
    first, last = min(steps), max(steps)
    out = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        out.append(DayTotal(day, steps.get(day, 0), moderate.get(day, 0), active.get(day, 0)))
    return out


def weekly_summary(
    rows: Sequence[MinuteRow],
    config: WearerConfig,
    today: dt.date | None = None,
    first_data_utc: int | None = None,
) -> list[WeekSummary]:
    """Weeks from the first week with data to the later of the last week with data and the
    current week (so a wearer who stopped walking shows as zeros, not as missing weeks).

    today: the wearer's local date (default: now in the wearer's time zone).
    first_data_utc: the wearer's first trusted minute as the device pinned it (week 1 of the
    default plan); default: the earliest trusted minute among rows, as the device does.
    An empty row list gives an empty list.
    """
    days = daily_totals(rows, config)
    if not days:
        return []
    today = today_for(config) if today is None else today
    wsd = config.week_start_day
    by_day = {d.day: d for d in days}
    first_week = week_start_for(days[0].day, wsd)
    last_week = max(week_start_for(days[-1].day, wsd), week_start_for(today, wsd))
    if first_data_utc is None:
        first_data_utc = first_data_utc_of(rows)
    week_one = first_data_week_for(first_data_utc, config)
    out = []
    week = first_week
    while week <= last_week:
        week_days = [by_day.get(week + dt.timedelta(days=i)) for i in range(7)]
        day_minutes = tuple(d.moderate_minutes if d else 0 for d in week_days)
        moderate = sum(day_minutes)
        goal = goal_for_week(config.plan, week, week_one)
        out.append(
            WeekSummary(
                week_start=week,
                goal_minutes=goal,
                moderate_minutes=moderate,
                steps=sum(d.steps for d in week_days if d),
                active_days=sum(1 for m in day_minutes if m > 0),
                met_goal=moderate >= goal,
                day_minutes=day_minutes,
                in_progress=week <= today < week + dt.timedelta(days=7),
            )
        )
        week += dt.timedelta(days=7)
    return out


# ---------------------------------------------------------------------------------------------
# Words shared by the three renderings


def display_label(wearer: str | None, config: WearerConfig) -> str:
    """The name to print: the given label, else the config's, else 'wearer'; control and other
    invisible characters removed so a label cannot drive the terminal."""
    raw = wearer if wearer else config.wearer_label
    clean = "".join(
        " " if unicodedata.category(c) in ("Zl", "Zp") or c in "\t\r\n" else c
        for c in str(raw or "")
        if not unicodedata.category(c).startswith("C") or c in "\t\r\n"
    )
    clean = " ".join(clean.split())
    return clean[:64] or "wearer"


def _fmt_day(day: dt.date) -> str:
    return f"{day.day} {day:%b %Y}"


def date_range(summaries: Sequence[WeekSummary]) -> str:
    """'2 Mar 2026 to 5 Apr 2026': the first and last day the weeks cover."""
    if not summaries:
        return ""
    first = summaries[0].week_start
    last = summaries[-1].week_start + dt.timedelta(days=6)
    return f"{_fmt_day(first)} to {_fmt_day(last)}"


def threshold_words(config: WearerConfig) -> str:
    """'100 steps' (or '97.5 steps'): the threshold as a person would say it."""
    return f"{config.threshold_spm:g} steps"


def _met_words(s: WeekSummary) -> str:
    if s.in_progress:
        return "yes" if s.met_goal else "not yet"
    return "yes" if s.met_goal else "no"


def _unplaced_words(n: int) -> str:
    if n <= 0:
        return ""
    return (
        f"{n} minute{'s' if n != 1 else ''} recorded before the device clock was set "
        "could not be placed in time and are not counted above (they are kept in exports)."
    )


def _plan_words(config: WearerConfig) -> str:
    if config.plan:
        return "Goals follow the plan set by the caregiver."
    return (
        "Goals follow the default plan: 60 minutes in the first full week with data, "
        f"then 10 more each week, up to {TARGET_MINUTES} minutes."
    )


# ---------------------------------------------------------------------------------------------
# Text


TEXT_WIDTH = 80
_BAR_WIDTH = 28


def render_text(
    summaries: Sequence[WeekSummary],
    config: WearerConfig,
    wearer: str | None = None,
    *,
    unplaced_minutes: int = 0,
) -> str:
    """A plain-text table, at most 80 columns wide, one line per week.

    The bar is '#' for moderate minutes, '.' up to the goal and '|' at the goal.
    unplaced_minutes: rows left out for lack of a wall-clock time (see placed), mentioned.
    """
    label = display_label(wearer, config)
    lines = [_clip(f"Walk Coach weekly report: {label}")]
    if not summaries:
        lines.append("No data yet: sync the device after the wearer has walked with it.")
        lines += textwrap.wrap(_unplaced_words(unplaced_minutes), TEXT_WIDTH)
        return "\n".join(lines) + "\n"
    lines += textwrap.wrap(
        f"Weeks {date_range(summaries)}, starting {DAY_NAMES[config.week_start_day]}"
        f" ({config.timezone}). A moderate minute is a minute with at least "
        f"{threshold_words(config)}.",
        TEXT_WIDTH,
    )
    lines.append("")
    scale = max(TARGET_MINUTES, *(max(s.moderate_minutes, s.goal_minutes) for s in summaries))
    bar_head = "# moderate  | goal"
    header = (
        f"{'Week of':<10}  {'Goal':>5}  {'Moderate':>8}  {bar_head:<{_BAR_WIDTH}}  "
        f"{'Met':<7}  {'Steps':>9}"
    )
    lines.append(header.rstrip())
    lines.append("-" * len(header.rstrip()))
    for s in summaries:
        bar = _text_bar(s.moderate_minutes, s.goal_minutes, scale)
        lines.append(
            f"{s.week_start.isoformat():<10}  {s.goal_minutes:>5}  {s.moderate_minutes:>8}  "
            f"{bar:<{_BAR_WIDTH}}  {_met_words(s):<7}  {s.steps:>9,}"
        )
    done = [s for s in summaries if not s.in_progress]
    lines.append("")
    if done:
        met = sum(1 for s in done if s.met_goal)
        lines.append(f"Goal met in {met} of {len(done)} completed weeks.")
    if summaries[-1].in_progress:
        lines.append("The last week is still in progress: its numbers are so far.")
    lines += textwrap.wrap(_plan_words(config), TEXT_WIDTH)
    lines += textwrap.wrap(_unplaced_words(unplaced_minutes), TEXT_WIDTH)
    return "\n".join(lines) + "\n"


def _text_bar(moderate: int, goal: int, scale: int) -> str:
    """'#' per moderate chunk, '.' up to the goal, '|' at the goal, in _BAR_WIDTH - 1 cells."""
    cells = _BAR_WIDTH - 1
    filled = round(min(moderate, scale) / scale * cells)
    goal_at = round(min(goal, scale) / scale * cells)
    bar = ["#" if i < filled else ("." if i < goal_at else " ") for i in range(cells + 1)]
    if goal > 0:
        bar[goal_at] = "|"
    return "".join(bar).rstrip()


def _clip(line: str) -> str:
    return line if len(line) <= TEXT_WIDTH else line[: TEXT_WIDTH - 3] + "..."


# ---------------------------------------------------------------------------------------------
# PNG chart (Pillow only)

_INK = (33, 33, 33)
_GRID = (215, 215, 215)
_MET = (46, 125, 50)  # dark green: prints dark in grey
_NOT_MET = (176, 190, 197)  # light blue-grey: prints light in grey
_PLAN = (230, 81, 0)  # orange
_TARGET = (183, 28, 28)  # dark red


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled scalable font (Pillow >= 10.1 with FreeType); never an OS font path."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # old Pillow or no FreeType: the small bitmap font
        return ImageFont.load_default()


def chart_image(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None = None
) -> Image.Image:
    """The weekly chart as an RGB image of CHART_SIZE: bars = moderate minutes, an orange step
    line = the goal plan, a dashed red line = the 130-minute target."""
    width, height = CHART_SIZE
    img = Image.new("RGB", CHART_SIZE, "white")
    draw = ImageDraw.Draw(img)
    f_title, f_sub, f_axis, f_tick, f_value = (_font(s) for s in (40, 26, 26, 22, 20))
    label = display_label(wearer, config)
    draw.text(
        (40, 28),
        _fit(draw, f"Weekly walking: {label}", f_title, width - 80),
        font=f_title,
        fill=_INK,
    )
    weeks = list(summaries[-MAX_CHART_WEEKS:])
    if not weeks:
        draw.text((width / 2, height / 2), "No data yet", font=f_title, fill=_INK, anchor="mm")
        draw.text(
            (width / 2, height / 2 + 50),
            "Sync the device after the wearer has walked with it.",
            font=f_sub,
            fill=_INK,
            anchor="mm",
        )
        return img
    shown = "" if len(weeks) == len(summaries) else f" (latest {len(weeks)} weeks)"
    sub = (
        f"Weeks of {date_range(weeks)}{shown}.  Moderate minute = a minute with at least "
        f"{threshold_words(config)}."
    )
    draw.text((40, 84), _fit(draw, sub, f_sub, width - 80), font=f_sub, fill=_INK)

    left, right, top, bottom = 130, width - 130, 200, height - 130
    ymax = _nice_ceiling(
        max(TARGET_MINUTES, *(max(s.moderate_minutes, s.goal_minutes) for s in weeks)) * 1.12
    )
    step = _grid_step(ymax)

    def y_of(minutes: float) -> float:
        return bottom - (bottom - top) * min(minutes, ymax) / ymax

    # grid and y axis
    for v in range(0, ymax + 1, step):
        y = y_of(v)
        draw.line([(left, y), (right, y)], fill=_GRID, width=1)
        draw.text((left - 12, y), str(v), font=f_tick, fill=_INK, anchor="rm")
    draw.line([(left, top), (left, bottom)], fill=_INK, width=2)
    draw.line([(left, bottom), (right, bottom)], fill=_INK, width=2)
    ytitle = _rotated_text("Moderate minutes per week", f_axis)
    img.paste(ytitle, (22, int((top + bottom) / 2 - ytitle.height / 2)), ytitle)
    draw.text(
        ((left + right) / 2, height - 40), "Week starting", font=f_axis, fill=_INK, anchor="mm"
    )

    # bars
    slot = (right - left) / len(weeks)
    bar_w = min(slot * 0.7, 90)
    for i, s in enumerate(weeks):
        cx = left + slot * (i + 0.5)
        x0, x1 = cx - bar_w / 2, cx + bar_w / 2
        if s.moderate_minutes > 0:
            fill = _MET if s.met_goal else _NOT_MET
            draw.rectangle(
                [x0, y_of(s.moderate_minutes), x1, bottom],
                fill=fill,
                outline=_INK,
                width=2 if not s.in_progress else 1,
            )
        if s.in_progress:
            _dashed_rect(draw, x0, y_of(max(s.moderate_minutes, s.goal_minutes)), x1, bottom)
        if slot >= 34:
            draw.text(
                (cx, y_of(s.moderate_minutes) - 6),
                str(s.moderate_minutes),
                font=f_value,
                fill=_INK,
                anchor="md",
            )

    # x labels: as many as fit without touching
    label_w = max(draw.textlength(_tick_label(s.week_start), font=f_tick) for s in weeks) + 16
    every = max(1, int(-(-label_w // slot)))
    for i, s in enumerate(weeks):
        if (len(weeks) - 1 - i) % every == 0:  # always label the latest week
            cx = left + slot * (i + 0.5)
            draw.line([(cx, bottom), (cx, bottom + 8)], fill=_INK, width=2)
            draw.text(
                (cx, bottom + 14), _tick_label(s.week_start), font=f_tick, fill=_INK, anchor="ma"
            )

    # goal plan: a step line, one flat segment per week
    points: list[tuple[float, float]] = []
    for i, s in enumerate(weeks):
        y = y_of(s.goal_minutes)
        points += [(left + slot * i, y), (left + slot * (i + 1), y)]
    draw.line(points, fill=_PLAN, width=5, joint="curve")

    # the 130-minute target
    ty = y_of(TARGET_MINUTES)
    _dashed_line(draw, left, right + 8, ty, _TARGET, width=3)
    # labelled in the right margin, where it can never hide a bar
    draw.text(
        (right + 14, ty),
        f"{TARGET_MINUTES} min\ntarget",
        font=f_tick,
        fill=_TARGET,
        anchor="lm",
        spacing=2,
    )

    _legend(draw, left, 140, f_tick, any(s.in_progress for s in weeks))
    return img


def _legend(
    draw: ImageDraw.ImageDraw,
    x: float,
    y: float,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    in_progress: bool,
) -> None:
    items: list[tuple[str, str]] = [
        ("met", "Goal met"),
        ("not", "Goal not met"),
        ("plan", "Weekly goal (plan)"),
        ("target", f"{TARGET_MINUTES}-minute target"),
    ]
    if in_progress:
        items.append(("progress", "This week so far"))
    for kind, text in items:
        cy = y + 14
        if kind == "met":
            draw.rectangle([x, y + 2, x + 28, y + 26], fill=_MET, outline=_INK, width=2)
        elif kind == "not":
            draw.rectangle([x, y + 2, x + 28, y + 26], fill=_NOT_MET, outline=_INK, width=2)
        elif kind == "plan":
            draw.line([(x, cy), (x + 36, cy)], fill=_PLAN, width=5)
        elif kind == "target":
            _dashed_line(draw, x, x + 36, cy, _TARGET, width=3)
        else:
            _dashed_rect(draw, x, y + 2, x + 28, y + 26)
        draw.text((x + 46, cy), text, font=font, fill=_INK, anchor="lm")
        x += 46 + draw.textlength(text, font=font) + 40


def _dashed_line(
    draw: ImageDraw.ImageDraw,
    x0: float,
    x1: float,
    y: float,
    fill: tuple[int, int, int],
    width: int,
    dash: int = 14,
) -> None:
    x = x0
    while x < x1:
        draw.line([(x, y), (min(x + dash, x1), y)], fill=fill, width=width)
        x += dash * 1.8


def _dashed_rect(draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float) -> None:
    dash = 8
    for a, b, fixed, horizontal in (
        (x0, x1, y0, True),
        (x0, x1, y1, True),
        (y0, y1, x0, False),
        (y0, y1, x1, False),
    ):
        p = a
        while p < b:
            q = min(p + dash, b)
            seg = [(p, fixed), (q, fixed)] if horizontal else [(fixed, p), (fixed, q)]
            draw.line(seg, fill=_INK, width=2)
            p += dash * 2


def _rotated_text(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> Image.Image:
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    left, top, right, bottom = probe.textbbox((0, 0), text, font=font)
    layer = Image.new("RGBA", (int(right - left) + 4, int(bottom - top) + 4), (255, 255, 255, 0))
    ImageDraw.Draw(layer).text((2 - left, 2 - top), text, font=font, fill=(*_INK, 255))
    return layer.rotate(90, expand=True)


def _tick_label(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    max_width: float,
) -> str:
    if draw.textlength(text, font=font) <= max_width:
        return text
    while text and draw.textlength(text + "...", font=font) > max_width:
        text = text[:-1]
    return text + "..."


def _nice_ceiling(value: float) -> int:
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if value / step <= 10:
            return int(-(-value // step) * step)
    return int(-(-value // 10000) * 10000)


def _grid_step(ymax: int) -> int:
    for step in (10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if ymax / step <= 8:
            return step
    return 10000


def png_bytes(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None = None
) -> bytes:
    """The chart as PNG bytes (for embedding)."""
    buf = io.BytesIO()
    chart_image(summaries, config, wearer).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def render_png(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None, path: Path | str
) -> Path:
    """Save the chart as a PNG at path (written atomically); returns the path."""
    path = Path(path)
    _write_atomic(path, png_bytes(summaries, config, wearer))
    return path


# ---------------------------------------------------------------------------------------------
# HTML (one self-contained file)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#212121;
max-width:62rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:1.6rem 0 .5rem}
.meta{color:#555;margin:0 0 1rem}
img.chart{width:100%;height:auto;border:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}
td.met{color:#1b5e20;font-weight:600}td.notmet{color:#555}
tr.progress td{font-style:italic}
.empty{font-size:1.2rem;padding:2rem;border:1px dashed #aaa;text-align:center}
@media print{body{margin:0;max-width:none}img.chart{border:none}h2{break-after:avoid}
table{break-inside:auto}tr{break-inside:avoid}}
"""


def html_document(
    summaries: Sequence[WeekSummary],
    config: WearerConfig,
    wearer: str | None,
    generated: dt.date,
    *,
    unplaced_minutes: int = 0,
) -> str:
    """The report as one HTML string: inline CSS, the chart as a data: URI, no external links."""
    label = html.escape(display_label(wearer, config))
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Walk Coach report: {label}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Weekly walking report: {label}</h1>",
        f'<p class="meta">Generated {esc(_fmt_day(generated))}.'
        + (f" Weeks of {esc(date_range(summaries))}." if summaries else "")
        + f" Weeks start on {DAY_NAMES[config.week_start_day]}, times in"
        f" {esc(config.timezone)}.</p>",
    ]
    if not summaries:
        parts.append(
            '<p class="empty">No data yet: sync the device after the wearer has walked with it.</p>'
        )
    else:
        data = base64.b64encode(png_bytes(summaries, config, wearer)).decode("ascii")
        alt = (
            f"Bar chart of moderate walking minutes per week for {display_label(wearer, config)}"
            f", {date_range(summaries)}, with the weekly goal and the {TARGET_MINUTES}-minute "
            "target."
        )
        parts.append(f'<img class="chart" src="data:image/png;base64,{data}" alt="{esc(alt)}">')
        parts.append(
            "<h2>Week by week</h2><table><thead><tr><th>Week starting</th>"
            "<th>Goal (min)</th><th>Moderate minutes</th><th>Days walked</th>"
            "<th>Goal met</th><th>Steps</th></tr></thead><tbody>"
        )
        for s in summaries:
            cls = ' class="progress"' if s.in_progress else ""
            met_cls = "met" if s.met_goal else "notmet"
            parts.append(
                f"<tr{cls}><td>{esc(_fmt_day(s.week_start))}</td><td>{s.goal_minutes}</td>"
                f"<td>{s.moderate_minutes}</td><td>{s.active_days} of 7</td>"
                f'<td class="{met_cls}">{esc(_met_words(s))}</td><td>{s.steps:,}</td></tr>'
            )
        parts.append("</tbody></table>")
    thr = esc(threshold_words(config))
    parts += [
        "<h2>What the numbers mean</h2><ul>",
        f"<li>A <strong>moderate minute</strong> is a minute with at least {thr}: a brisk, "
        "purposeful walk rather than a stroll.</li>",
        f"<li>The programme builds up to at least <strong>{TARGET_MINUTES} moderate minutes a "
        "week</strong>. Each week has its own goal on the way there.</li>",
        f"<li>{esc(_plan_words(config))}</li>",
        "<li><strong>Days walked</strong> counts the days with at least one moderate minute."
        " A week still in progress is shown in italics; its numbers are so far.</li>",
        "<li>Steps are counted by the device worn on the hip.</li>",
        f"<li>{esc(_unplaced_words(unplaced_minutes))}</li>" if unplaced_minutes > 0 else "",
        "</ul>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def render_html(
    summaries: Sequence[WeekSummary],
    config: WearerConfig,
    wearer: str | None,
    path: Path | str,
    generated: dt.date | None = None,
    *,
    unplaced_minutes: int = 0,
) -> Path:
    """Save the self-contained HTML report at path (atomically); returns the path."""
    path = Path(path)
    generated = today_for(config) if generated is None else generated
    doc = html_document(summaries, config, wearer, generated, unplaced_minutes=unplaced_minutes)
    _write_atomic(path, doc.encode("utf-8"))
    return path


# ---------------------------------------------------------------------------------------------


def write_report(
    rows: Sequence[MinuteRow],
    config: WearerConfig,
    wearer: str | None,
    out_dir: Path | str,
    today: dt.date | None = None,
    first_data_utc: int | None = None,
) -> ReportFiles:
    """Summarise the rows and write walkcoach-report-<today>.png and .html into out_dir
    (created if missing); returns the text table and both paths.
    today / first_data_utc: as for weekly_summary."""
    today = today_for(config) if today is None else today
    summaries = weekly_summary(rows, config, today, first_data_utc)
    unplaced = unplaced_count(rows)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create report folder {out}: {exc.strerror or exc}") from None
    stem = f"walkcoach-report-{today.isoformat()}"
    png_path = render_png(summaries, config, wearer, out / f"{stem}.png")
    html_path = render_html(
        summaries, config, wearer, out / f"{stem}.html", generated=today, unplaced_minutes=unplaced
    )
    text = render_text(summaries, config, wearer, unplaced_minutes=unplaced)
    return ReportFiles(text, png_path, html_path)


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None

