"""The caregiver's weekly report: minute rows in, a text table, a PNG chart and one HTML page out.

The HTML page is what a physiotherapist reviews at a visit, in about two minutes: this week against
its goal; every day of the last four weeks (steps, brisk minutes, the longest continuous brisk
walk, walks of 10 minutes or more, as Omron counts them); time in the cadence bands of the
CADENCE-Adults studies; the plan ahead with the weeks met; a 12-week trend; the device's health.
Charts are drawn with matplotlib (the host extra) and embedded as PNG, so the page is one
self-contained file.

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
from typing import TYPE_CHECKING, Any, NamedTuple

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
CHART_SIZE = (1600, 700)  # the trend chart's pixels (8 x 3.5 in at 200 dpi)
MAX_CHART_WEEKS = 12  # the trend chart shows the latest 12 weeks; the table shows every week
DAY_WEEKS = 4  # the day-by-day table and the cadence chart cover the latest 4 weeks
PLAN_AHEAD_WEEKS = 4  # upcoming weeks shown in the plan table
LONG_WALK_MINUTES = 10  # Omron counts walks of 10 minutes or more
#: Cadence bands (steps a minute) of the CADENCE-Adults studies (Tudor-Locke et al.).
CADENCE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("under 60", 1, 59),
    ("60-99", 60, 99),
    ("100-129", 100, 129),
    ("130 and more", 130, None),
)
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class DayTotal:
    """One local calendar day of the wearer.

    active_minutes: minutes with at least one step; moderate_minutes: minutes flagged moderate.
    longest_brisk_minutes: the longest run of back-to-back moderate minutes (a continuous brisk
    walk); long_brisk_walks: how many such runs lasted LONG_WALK_MINUTES or more.
    """

    day: dt.date
    steps: int
    moderate_minutes: int
    active_minutes: int
    longest_brisk_minutes: int = 0
    long_brisk_walks: int = 0


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
    valid_days: int | None = None  # days with >= 10 h of wear; None: no wear evidence synced

    @property
    def judged(self) -> bool:
        """False for a finished week that missed its goal with fewer than 4 valid days (10 h of
        wear each): not enough wear to judge whether it was missed."""
        from hostsync.plan_suggest import MIN_VALID_DAYS

        return (self.in_progress or self.met_goal or self.valid_days is None
                or self.valid_days >= MIN_VALID_DAYS)


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
    brisk_starts: dict[dt.date, set[int]] = {}
    for row in rows:
        if not placed(row):
            continue
        day = local_start(row.start_utc, tz).date()
        steps[day] = steps.get(day, 0) + row.steps
        moderate[day] = moderate.get(day, 0) + (1 if row.moderate else 0)
        active[day] = active.get(day, 0) + (1 if row.steps > 0 else 0)
        if row.moderate:
            brisk_starts.setdefault(day, set()).add(int(row.start_utc))
    if not steps:
        return []
    first, last = min(steps), max(steps)
    out = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        runs = brisk_runs(brisk_starts.get(day, set()))
        out.append(
            DayTotal(
                day,
                steps.get(day, 0),
                moderate.get(day, 0),
                active.get(day, 0),
                longest_brisk_minutes=max(runs, default=0),
                long_brisk_walks=sum(1 for r in runs if r >= LONG_WALK_MINUTES),
            )
        )
    return out


def brisk_runs(minute_starts: Iterable[int]) -> list[int]:
    """Lengths (minutes) of the runs of back-to-back minutes among these minute starts."""
    runs: list[int] = []
    previous = None
    for start in sorted(set(minute_starts)):
        if previous is not None and start - previous == 60:
            runs[-1] += 1
        else:
            runs.append(1)
        previous = start
    return runs


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
    from hostsync.wear_summary import valid_days_by_week

    n_weeks = (last_week - first_week).days // 7 + 1
    valid = valid_days_by_week(rows, config,
                               [first_week + dt.timedelta(days=7 * k) for k in range(n_weeks)])
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
                valid_days=valid.get(week),
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


def _met_words(s: WeekSummary, short: bool = False) -> str:
    if not s.judged:
        return "unsure" if short else "not enough wear to judge"
    if s.in_progress:
        return "yes" if s.met_goal else "not yet"
    return "yes" if s.met_goal else "no"


def _wear_words(summaries: Sequence[WeekSummary], marker: str = "") -> str:
    """Which weeks had too little wear to judge (issue 13: fewer than 4 days of 10 h)."""
    unsure = [s for s in summaries if not s.judged]
    if not unsure:
        return ""
    named = f" (marked '{marker}')" if marker else ""
    return (f"{len(unsure)} week{'s' if len(unsure) != 1 else ''}{named} had fewer than 4 days "
            "with 10 hours of wear: not enough wear to judge whether the goal was missed.")


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
            f"{bar:<{_BAR_WIDTH}}  {_met_words(s, short=True):<7}  {s.steps:>9,}"
        )
    done = [s for s in summaries if not s.in_progress]
    lines.append("")
    if done:
        met = sum(1 for s in done if s.met_goal)
        lines.append(f"Goal met in {met} of {len(done)} completed weeks.")
    if summaries[-1].in_progress:
        lines.append("The last week is still in progress: its numbers are so far.")
    lines += textwrap.wrap(_wear_words(summaries, "unsure"), TEXT_WIDTH)
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
# More of the week, for the HTML page (pure)


def cadence_band_minutes(
    rows: Iterable[MinuteRow], config: WearerConfig, first_day: dt.date, last_day: dt.date
) -> list[int]:
    """Minutes (with at least one step) in each of CADENCE_BANDS, between two local days
    inclusive. A minute's cadence is its step count: steps per minute."""
    tz = wearer_tz(config)
    counts = [0] * len(CADENCE_BANDS)
    for row in rows:
        if not placed(row) or row.steps <= 0:
            continue
        if not first_day <= local_start(row.start_utc, tz).date() <= last_day:
            continue
        for i, (_name, lo, hi) in enumerate(CADENCE_BANDS):
            if row.steps >= lo and (hi is None or row.steps <= hi):
                counts[i] += 1
                break
    return counts


@dataclass(frozen=True)
class DeviceHealth:
    """What the host can tell about the device from what it pulled.

    last_minute: the latest recorded minute (local time), None without data.
    untrusted_minutes: minutes recorded before a host set the clock (re-timed at sync when
    possible); unplaced_minutes: of those, minutes that could not be placed in time.
    silent_days: days of the last 14 (before today) with no minute recorded at all: the device
    was off, flat or not counting.
    battery_percent / battery_low_percent: the latest charge and the lowest of the last 7 days,
    from minutes that carry a fuel-gauge reading (None when none do).
    """

    last_minute: dt.datetime | None
    last_sync: dt.datetime | None
    minutes_stored: int
    untrusted_minutes: int
    unplaced_minutes: int
    silent_days: tuple[dt.date, ...]
    battery_percent: float | None
    battery_low_percent: float | None


def device_health(
    rows: Sequence[MinuteRow],
    config: WearerConfig,
    today: dt.date,
    last_sync_utc: float | None = None,
) -> DeviceHealth:
    tz = wearer_tz(config)
    placed_rows = [r for r in rows if placed(r)]
    last = max((r.start_utc for r in placed_rows), default=None)
    recorded = {local_start(r.start_utc, tz).date() for r in placed_rows}
    first = min(recorded, default=today)
    silent = tuple(
        d
        for d in (today - dt.timedelta(days=k) for k in range(14, 0, -1))
        if d >= first and d not in recorded
    )
    with_battery = [
        (r.start_utc, float(b))
        for r in placed_rows
        if (b := getattr(r, "battery_percent", None)) is not None
    ]
    battery = low = None
    if with_battery:
        with_battery.sort()
        battery = with_battery[-1][1]
        week_ago = with_battery[-1][0] - 7 * 86400
        low = min(b for t, b in with_battery if t >= week_ago)
    return DeviceHealth(
        last_minute=None if last is None else local_start(last, tz),
        last_sync=None
        if last_sync_utc is None
        else dt.datetime.fromtimestamp(last_sync_utc, dt.UTC).astimezone(tz),
        minutes_stored=len(rows),
        untrusted_minutes=sum(1 for r in rows if not r.clock_trusted),
        unplaced_minutes=len(rows) - len(placed_rows),
        silent_days=silent,
        battery_percent=battery,
        battery_low_percent=low,
    )


# ---------------------------------------------------------------------------------------------
# Charts (matplotlib, the host extra), drawn without pyplot so no global state or GUI backend

_INK = "#212121"
_GRID = "#d7d7d7"
_MET = "#2e7d32"  # dark green: prints dark in grey
_NOT_MET = "#b0bec5"  # light blue-grey: prints light in grey
_PLAN = "#e65100"  # orange
_TARGET = "#b71c1c"  # dark red
_BAND_COLOURS = ("#cfd8dc", "#90a4ae", "#2e7d32", "#1b5e20")
CHART_DPI = 200


def _figure(width_in: float, height_in: float) -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ReportError(
            "the report's charts need matplotlib: pip install 'walkcoach[host]'"
        ) from exc
    fig = Figure(figsize=(width_in, height_in), dpi=CHART_DPI, layout="constrained")
    fig.patch.set_facecolor("white")
    return fig



def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=CHART_DPI, facecolor="white")
    return buf.getvalue()


def _style(ax: Any) -> None:
    ax.grid(axis="y", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=_INK, labelsize=9)


def trend_chart(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None = None
) -> bytes:
    """The latest MAX_CHART_WEEKS weeks as a PNG of CHART_SIZE: bars = brisk (moderate) minutes,
    green where the week's goal was met; an orange step line = the goal plan; a dashed red line
    = the 130-minute target. An empty list draws a 'No data yet' chart."""
    fig = _figure(CHART_SIZE[0] / CHART_DPI, CHART_SIZE[1] / CHART_DPI)
    ax = fig.add_subplot()
    weeks = list(summaries[-MAX_CHART_WEEKS:])
    label = display_label(wearer, config)
    fig.suptitle(f"Brisk minutes per week: {label}", x=0.01, ha="left", fontsize=12, color=_INK)
    if not weeks:
        ax.text(0.5, 0.5, "No data yet: sync the device after the wearer has walked with it.",
                ha="center", va="center", transform=ax.transAxes, fontsize=11, color=_INK)
        ax.set_axis_off()
        return _png(fig)
    x = list(range(len(weeks)))
    heights = [s.moderate_minutes for s in weeks]
    colours = [_MET if s.met_goal else _NOT_MET for s in weeks]
    bars = ax.bar(x, heights, width=0.7, color=colours, edgecolor=_INK, linewidth=0.8)
    for bar, s in zip(bars, weeks, strict=True):
        if s.in_progress:
            bar.set_hatch("///")
            bar.set_linestyle("--")
        ax.annotate(str(s.moderate_minutes), (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    xytext=(0, 2), textcoords="offset points", ha="center", va="bottom",
                    fontsize=8, color=_INK)
    goals = [s.goal_minutes for s in weeks]
    ax.step([i - 0.5 for i in x] + [x[-1] + 0.5], [*goals, goals[-1]], where="post",
            color=_PLAN, linewidth=2.5, label="weekly goal (plan)")
    ax.axhline(TARGET_MINUTES, color=_TARGET, linestyle=(0, (5, 3)), linewidth=1.8,
               label=f"{TARGET_MINUTES}-minute target")
    ax.set_xticks(x, [_tick_label(s.week_start) for s in weeks], fontsize=8)
    ax.set_xlabel("week starting", fontsize=9, color=_INK)
    ax.set_ylabel("brisk minutes", fontsize=9, color=_INK)
    top = max(TARGET_MINUTES, *(max(s.moderate_minutes, s.goal_minutes) for s in weeks))
    ax.set_ylim(0, top * 1.15)
    ax.set_xlim(-0.6, len(weeks) - 0.4)
    from matplotlib.patches import Patch

    handles = [
        Patch(facecolor=_MET, edgecolor=_INK, label="goal met"),
        Patch(facecolor=_NOT_MET, edgecolor=_INK, label="goal not met"),
        *ax.get_legend_handles_labels()[0],
    ]
    if any(s.in_progress for s in weeks):
        handles.append(Patch(facecolor="white", edgecolor=_INK, hatch="///", linestyle="--",
                             label="this week so far"))
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, ncols=5,
              frameon=False)  # above the plot, never over a bar
    _style(ax)
    return _png(fig)


def days_chart(days: Sequence[DayTotal], goals: dict[dt.date, int], week_start_day: int) -> bytes:
    """Brisk minutes of each day (bars) against the day's share of its week's goal (a tick)."""
    fig = _figure(8, 2.6)
    ax = fig.add_subplot()
    x = list(range(len(days)))
    ax.bar(x, [d.moderate_minutes for d in days], width=0.75, color=_MET, edgecolor=_INK,
           linewidth=0.5)
    share = [goals.get(week_start_for(d.day, week_start_day), 0) / 7 for d in days]
    ax.scatter(x, share, marker="_", s=160, color=_PLAN, linewidths=2.5,
               label="the day's share of the week's goal")
    ax.set_xticks(x, [f"{d.day:%a}"[0] + (f"\n{d.day.day}" if d.day.weekday() == week_start_day
                                          else "") for d in days], fontsize=7)
    ax.set_ylabel("brisk min", fontsize=9, color=_INK)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    ax.set_xlim(-0.6, len(days) - 0.4)
    ax.set_ylim(0, max([*(d.moderate_minutes for d in days), *share, 10]) * 1.2)
    _style(ax)
    return _png(fig)


def cadence_chart(weeks: Sequence[tuple[dt.date, list[int]]]) -> bytes:
    """Per week, the share of stepping minutes in each cadence band (stacked horizontal bars)."""
    fig = _figure(8, 0.5 + 0.45 * max(1, len(weeks)))
    ax = fig.add_subplot()
    labels = [f"week of {_tick_label(start)}" for start, _ in weeks]
    left = [0.0] * len(weeks)
    for b, (name, _lo, _hi) in enumerate(CADENCE_BANDS):
        widths = [100.0 * c[b] / max(1, sum(c)) for _, c in weeks]
        ax.barh(labels, widths, left=left, color=_BAND_COLOURS[b], edgecolor="white",
                label=f"{name} steps/min")
        for i, w in enumerate(widths):
            if w >= 8:
                ax.text(left[i] + w / 2, i, f"{w:.0f}%", ha="center", va="center", fontsize=7,
                        color="white" if b >= 2 else _INK)
        left = [a + w for a, w in zip(left, widths, strict=True)]
    ax.set_xlim(0, 100)
    ax.invert_yaxis()
    ax.set_xlabel("share of the minutes with steps (%)", fontsize=9, color=_INK)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize=7, frameon=False)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def _tick_label(day: dt.date) -> str:
    return f"{day.day} {day:%b}"


def png_bytes(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None = None
) -> bytes:
    """The 12-week trend chart as PNG bytes."""
    return trend_chart(summaries, config, wearer)


def render_png(
    summaries: Sequence[WeekSummary], config: WearerConfig, wearer: str | None, path: Path | str
) -> Path:
    """Save the trend chart as a PNG at path (written atomically); returns the path."""
    path = Path(path)
    _write_atomic(path, png_bytes(summaries, config, wearer))
    return path


# ---------------------------------------------------------------------------------------------
# HTML (one self-contained file)

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;
color:#212121;max-width:60rem;margin:1.2rem auto;padding:0 1rem;line-height:1.4}
h1{font-size:1.5rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:1.4rem 0 .4rem}
.meta{color:#555;margin:0 0 .8rem}
.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{flex:1 1 10rem;border:1px solid #ccc;border-radius:.4rem;padding:.5rem .7rem}
.card b{display:block;font-size:1.5rem}.card.met{border-color:#2e7d32;background:#f1f8e9}
img.chart{width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:.92rem}
th,td{padding:.22rem .5rem;border-bottom:1px solid #e0e0e0;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3}tr.week td{background:#fafafa;font-weight:600;border-top:2px solid #bbb}
td.met{color:#1b5e20;font-weight:600}td.notmet{color:#555}
tr.progress td,tr.ahead td{font-style:italic;color:#555}
.empty{font-size:1.2rem;padding:2rem;border:1px dashed #aaa;text-align:center}
ul.health li.problem{color:#b71c1c}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
"""


def _img(data: bytes, alt: str) -> str:
    b64 = base64.b64encode(data).decode("ascii")
    return f'<img class="chart" src="data:image/png;base64,{b64}" alt="{html.escape(alt)}">'


def _minutes_words(n: int) -> str:
    return f"{n} min" if n else "-"


def _current_week_cards(s: WeekSummary, days: Sequence[DayTotal], today: dt.date) -> list[str]:
    esc = html.escape
    in_week = [d for d in days if s.week_start <= d.day < s.week_start + dt.timedelta(days=7)]
    longest = max((d.longest_brisk_minutes for d in in_week), default=0)
    long_walks = sum(d.long_brisk_walks for d in in_week)
    left = (s.week_start + dt.timedelta(days=7) - today).days if s.in_progress else 0
    if s.met_goal:
        state = "goal met"
    elif s.in_progress:
        state = f"{s.goal_minutes - s.moderate_minutes} min to go, {left} days left"
    else:
        state = "goal not met"
    cls = "card met" if s.met_goal else "card"
    title = "This week" if s.in_progress else "Latest week"
    return [
        '<div class="cards">',
        f'<div class="{cls}">{title} (from {esc(_fmt_day(s.week_start))})'
        f"<b>{s.moderate_minutes} of {s.goal_minutes} brisk min</b>{esc(state)}</div>",
        f'<div class="card">Days with brisk walking<b>{s.active_days} of 7</b>'
        f"{s.steps:,} steps in all</div>",
        f'<div class="card">Longest continuous brisk walk<b>{longest} min</b>'
        f"{long_walks} walk{'s' if long_walks != 1 else ''} of {LONG_WALK_MINUTES} min or more"
        "</div>",
        "</div>",
    ]


def _days_table(
    summaries: Sequence[WeekSummary], days: Sequence[DayTotal], today: dt.date
) -> list[str]:
    esc = html.escape
    by_day = {d.day: d for d in days}
    parts = [
        "<table><thead><tr><th>Day</th><th>Steps</th><th>Brisk min</th>"
        "<th>Longest brisk walk</th><th>Walks of 10+ min</th></tr></thead><tbody>"
    ]
    for s in reversed(summaries[-DAY_WEEKS:]):
        met = _met_words(s)
        parts.append(
            f'<tr class="week"><td>Week of {esc(_fmt_day(s.week_start))}</td>'
            f"<td>{s.steps:,}</td><td>{s.moderate_minutes}</td>"
            f'<td colspan="2">goal {s.goal_minutes} min: {esc(met)}</td></tr>'
        )
        for i in range(6, -1, -1):
            day = s.week_start + dt.timedelta(days=i)
            if day > today:
                continue
            d = by_day.get(day) or DayTotal(day, 0, 0, 0)
            parts.append(
                f'<tr class="day" data-day="{day.isoformat()}"><td>{day:%a} {esc(_fmt_day(day))}'
                f"</td><td>{d.steps:,}</td><td>{d.moderate_minutes}</td>"
                f"<td>{_minutes_words(d.longest_brisk_minutes)}</td><td>{d.long_brisk_walks}</td>"
                "</tr>"
            )
    parts.append("</tbody></table>")
    return parts


def _plan_table(
    summaries: Sequence[WeekSummary], config: WearerConfig, week_one: dt.date | None
) -> list[str]:
    esc = html.escape
    parts = [
        "<table><thead><tr><th>Week starting</th><th>Goal (brisk min)</th>"
        "<th>Brisk minutes</th><th>Goal met</th></tr></thead><tbody>"
    ]
    for s in summaries[-MAX_CHART_WEEKS:]:
        cls = ' class="progress"' if s.in_progress else ""
        met_cls = "met" if s.met_goal else "notmet"
        parts.append(
            f"<tr{cls}><td>{esc(_fmt_day(s.week_start))}</td><td>{s.goal_minutes}</td>"
            f'<td>{s.moderate_minutes}</td><td class="{met_cls}">{esc(_met_words(s))}</td></tr>'
        )
    last = summaries[-1].week_start
    for k in range(1, PLAN_AHEAD_WEEKS + 1):
        week = last + dt.timedelta(days=7 * k)
        goal = goal_for_week(config.plan, week, week_one)
        parts.append(
            f'<tr class="ahead"><td>{esc(_fmt_day(week))}</td><td>{goal}</td>'
            "<td></td><td>ahead</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _health_items(h: DeviceHealth) -> list[str]:
    esc = html.escape
    items: list[tuple[bool, str]] = []
    if h.battery_percent is not None:
        low = h.battery_low_percent if h.battery_low_percent is not None else h.battery_percent
        items.append((low <= 15, f"Battery: {h.battery_percent:.0f} % at the last minute "
                                 f"recorded, lowest {low:.0f} % in its last 7 days."))
    else:
        items.append((False, "Battery: no charge readings in the pulled minutes (no fuel gauge "
                             "fitted, or firmware from before it)."))
    if h.silent_days:
        shown = ", ".join(f"{d:%a} {d.day} {d:%b}" for d in h.silent_days[-7:])
        items.append((True, f"Sensor and wear: no minute at all was recorded on "
                            f"{len(h.silent_days)} of the last 14 days ({shown}): the device was "
                            "off, flat, not worn or not counting."))
    else:
        items.append((False, "Sensor and wear: minutes were recorded on every day of the last "
                             "14 days."))
    items.append((False, f"Storage: {h.minutes_stored:,} minutes pulled from the device."
                         + (f" Last minute recorded: {h.last_minute:%a} {_fmt_day(h.last_minute)}"
                            f" {h.last_minute:%H:%M}." if h.last_minute else "")))
    clock = "Clock: set by this computer at every sync"
    if h.last_sync is not None:
        clock += f" (last sync {h.last_sync:%a} {_fmt_day(h.last_sync)} {h.last_sync:%H:%M})"
    clock += "."
    if h.untrusted_minutes:
        clock += (f" {h.untrusted_minutes:,} minutes were recorded before the clock was set"
                  + (f"; {h.unplaced_minutes:,} of them could not be placed in time and are left"
                     " out." if h.unplaced_minutes else "; all were placed in time at sync."))
    items.append((h.unplaced_minutes > 0, clock))
    return [
        f'<li class="{"problem" if bad else "ok"}">{esc(text)}</li>' for bad, text in items
    ]


def html_document(
    summaries: Sequence[WeekSummary],
    config: WearerConfig,
    wearer: str | None,
    generated: dt.date,
    *,
    unplaced_minutes: int = 0,
    days: Sequence[DayTotal] = (),
    cadence: Sequence[tuple[dt.date, list[int]]] = (),
    health: DeviceHealth | None = None,
    week_one: dt.date | None = None,
) -> str:
    """The report as one HTML string: inline CSS, charts as data: URIs, no external links."""
    label = html.escape(display_label(wearer, config))
    esc = html.escape
    thr = esc(threshold_words(config))
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
        f" {esc(config.timezone)}. A brisk (moderate) minute has at least {thr}.</p>",
    ]
    if not summaries:
        parts.append(
            '<p class="empty">No data yet: sync the device after the wearer has walked with it.</p>'
        )
    else:
        shown_days = [
            d for d in days if d.day >= summaries[-min(DAY_WEEKS, len(summaries))].week_start
        ]
        goals = {s.week_start: s.goal_minutes for s in summaries}
        parts += _current_week_cards(summaries[-1], days, generated)
        shown = len(summaries[-MAX_CHART_WEEKS:])
        parts.append(f"<h2>Trend, last {shown} week{'s' if shown != 1 else ''}</h2>")
        alt = (
            f"Bar chart of brisk walking minutes per week for {display_label(wearer, config)}"
            f", {date_range(summaries[-MAX_CHART_WEEKS:])}, with the weekly goal and the "
            f"{TARGET_MINUTES}-minute target."
        )
        parts.append(_img(png_bytes(summaries, config, wearer), alt))
        done = [s for s in summaries if not s.in_progress]
        met = sum(1 for s in done if s.met_goal)
        parts.append("<h2>The plan</h2>")
        parts.append(
            f'<p class="meta">Goal met in {met} of {len(done)} completed weeks. '
            f"{esc(_plan_words(config))} {esc(_wear_words(summaries))}</p>"
        )
        parts += _plan_table(summaries, config, week_one)
        parts.append(f"<h2>Day by day, last {min(DAY_WEEKS, len(summaries))} weeks</h2>")
        if shown_days:
            parts.append(_img(days_chart(shown_days, goals, config.week_start_day),
                              "Brisk minutes of each day with the day's share of the goal"))
        parts += _days_table(summaries, days, generated)
        if cadence:
            parts.append("<h2>Time in cadence bands</h2>")
            parts.append(_img(cadence_chart(cadence), "Share of minutes with steps in each "
                              "cadence band, per week"))
            parts.append(
                '<p class="meta">Bands of the CADENCE-Adults studies: 100-129 steps a minute is '
                "moderate, 130 and more vigorous walking; under 60 is pottering about.</p>"
            )
    if health is not None:
        parts.append("<h2>Device health</h2>")
        parts.append('<ul class="health">' + "".join(_health_items(health)) + "</ul>")
    parts += [
        "<h2>What the numbers mean</h2><ul>",
        f"<li>A <strong>brisk (moderate) minute</strong> is a minute with at least {thr}: a "
        "purposeful walk rather than a stroll.</li>",
        f"<li>The programme builds up to at least <strong>{TARGET_MINUTES} moderate minutes a "
        "week</strong>. Each week has its own goal on the way there.</li>",
        "<li>The <strong>longest brisk walk</strong> is the longest run of back-to-back brisk "
        "minutes in a day; <strong>walks of 10+ min</strong> count such runs of "
        f"{LONG_WALK_MINUTES} minutes or more (as Omron pedometers count walks).</li>",
        "<li>A week still in progress is shown in italics; its numbers are so far.</li>",
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
    **sections: Any,
) -> Path:
    """Save the self-contained HTML report at path (atomically); returns the path."""
    path = Path(path)
    generated = today_for(config) if generated is None else generated
    doc = html_document(summaries, config, wearer, generated, unplaced_minutes=unplaced_minutes,
                        **sections)
    _write_atomic(path, doc.encode("utf-8"))
    return path


# ---------------------------------------------------------------------------------------------


def report_stem(wearer_label: str, device_id: str | None, today: dt.date) -> str:
    """'walkcoach-report-zoe-WC-1A2B-2026-03-25': per wearer and device, so two wearers (even two
    with the same name, on two devices) never overwrite each other's report."""
    ascii_name = (
        unicodedata.normalize("NFKD", wearer_label).encode("ascii", "ignore").decode("ascii")
    )
    slug = "-".join("".join(c if c.isalnum() else " " for c in ascii_name.lower()).split())[:32]
    device = "".join(c for c in (device_id or "") if c.isalnum() or c == "-")[:40]
    parts = ["walkcoach-report", slug or "wearer", *([device] if device else []),
             today.isoformat()]
    return "-".join(parts)


def write_report(
    rows: Sequence[MinuteRow],
    config: WearerConfig,
    wearer: str | None,
    out_dir: Path | str,
    today: dt.date | None = None,
    first_data_utc: int | None = None,
    *,
    device_id: str | None = None,
    last_sync_utc: float | None = None,
) -> ReportFiles:
    """Summarise the rows and write <report_stem>.png (the trend) and .html into out_dir
    (created if missing); returns the text table and both paths.
    today / first_data_utc: as for weekly_summary; device_id: names the files (with the wearer);
    last_sync_utc: when this computer last synced the device (device health)."""
    today = today_for(config) if today is None else today
    summaries = weekly_summary(rows, config, today, first_data_utc)
    unplaced = unplaced_count(rows)
    days = daily_totals(rows, config)
    if first_data_utc is None and not config.plan:
        first_data_utc = first_data_utc_of(rows)
    week_one = first_data_week_for(first_data_utc, config)
    cadence = [
        (s.week_start,
         cadence_band_minutes(rows, config, s.week_start, s.week_start + dt.timedelta(days=6)))
        for s in summaries[-DAY_WEEKS:]
    ]
    health = device_health(rows, config, today, last_sync_utc)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"cannot create report folder {out}: {exc.strerror or exc}") from None
    stem = report_stem(display_label(wearer, config), device_id, today)
    png_path = render_png(summaries, config, wearer, out / f"{stem}.png")
    html_path = render_html(
        summaries, config, wearer, out / f"{stem}.html", generated=today,
        unplaced_minutes=unplaced, days=days, cadence=cadence, health=health, week_one=week_one,
    )
    text = render_text(summaries, config, wearer, unplaced_minutes=unplaced)
    return ReportFiles(text, png_path, html_path)


def _write_atomic(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise ReportError(f"cannot write {path}: {exc.strerror or exc}") from None
