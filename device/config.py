"""The wearer's settings, as the caregiver's host pushes them over USB.

Pure dataclasses plus strict validation: whatever arrives from the host is checked field by field
and refused with a one-line :class:`ConfigError` naming the field, so a malformed push can never
replace a good stored config (the store only ever receives a valid :class:`WearerConfig`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

THRESHOLD_MIN_SPM = 40.0
THRESHOLD_MAX_SPM = 200.0
GOAL_MAX_MINUTES = 7 * 24 * 60  # every minute of a week
LABEL_MAX_CHARS = 32
PLAN_MAX_WEEKS = 520  # ten years of weekly goals; bounds what a host can make us store
TIMEZONE_MAX_CHARS = 64

_KEYS = ("threshold_spm", "plan", "wearer_label", "week_start_day", "timezone",
         "reminder_time", "quiet_hours")
DEFAULT_QUIET_HOURS = "21:00-08:00"
_PLAN_KEYS = ("week_start", "goal_minutes")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


class ConfigError(ValueError):
    """A config value was refused; the message is one plain line naming the field."""


@dataclass(frozen=True)
class PlanWeek:
    """One entry of the progressive plan: from week_start on, the weekly goal is goal_minutes."""

    week_start: dt.date
    goal_minutes: int

    def __post_init__(self) -> None:
        if type(self.week_start) is not dt.date:
            raise ConfigError("plan: week_start must be a date")
        if not _is_int(self.goal_minutes) or not 0 <= self.goal_minutes <= GOAL_MAX_MINUTES:
            raise ConfigError(
                f"plan: goal_minutes must be a whole number from 0 to {GOAL_MAX_MINUTES}"
            )


@dataclass(frozen=True)
class WearerConfig:
    """Per-wearer settings. An empty plan means the default progressive plan (DESIGN.md).

    The plan is kept sorted by week_start; two entries for the same week are refused.
    """

    threshold_spm: float = 100.0
    plan: tuple[PlanWeek, ...] = ()
    wearer_label: str = ""
    week_start_day: int = 0
    timezone: str = "UTC"
    reminder_time: str = ""  # the reminder's local time 'HH:MM', 'off', or '' (the device's own)
    quiet_hours: str = DEFAULT_QUIET_HOURS  # 'HH:MM-HH:MM': never a reminder then

    def __post_init__(self) -> None:
        t = self.threshold_spm
        try:
            t = float(t) if _is_number(t) else math.nan
        except OverflowError:
            t = math.nan
        if not THRESHOLD_MIN_SPM <= t <= THRESHOLD_MAX_SPM:  # NaN fails too
            raise ConfigError(
                f"threshold_spm must be a number from {THRESHOLD_MIN_SPM:g} "
                f"to {THRESHOLD_MAX_SPM:g} steps/min"
            )
        object.__setattr__(self, "threshold_spm", float(t))
        if not isinstance(self.plan, tuple | list) or not all(
            isinstance(p, PlanWeek) for p in self.plan
        ):
            raise ConfigError("plan must be a list of PlanWeek entries")
        if len(self.plan) > PLAN_MAX_WEEKS:
            raise ConfigError(f"plan has more than {PLAN_MAX_WEEKS} weeks")
        plan = tuple(sorted(self.plan, key=lambda p: p.week_start))
        for a, b in itertools.pairwise(plan):
            if a.week_start == b.week_start:
                raise ConfigError(f"plan: week {a.week_start.isoformat()} appears twice")
        object.__setattr__(self, "plan", plan)
        label = self.wearer_label
        if not isinstance(label, str) or len(label) > LABEL_MAX_CHARS or not label.isprintable():
            raise ConfigError(
                f"wearer_label must be text of at most {LABEL_MAX_CHARS} printable characters"
            )
        if not _is_int(self.week_start_day) or not 0 <= self.week_start_day <= 6:
            raise ConfigError("week_start_day must be a whole number 0 (Monday) to 6 (Sunday)")
        check_timezone(self.timezone)
        from device.reminder import parse_quiet_hours, parse_time_of_day

        try:
            if self.reminder_time not in ("", "off"):
                parse_time_of_day(self.reminder_time)
        except ValueError:
            raise ConfigError("reminder_time must be a time of day HH:MM (24 h), or off") \
                from None
        try:
            parse_quiet_hours(self.quiet_hours)
        except ValueError:
            raise ConfigError("quiet_hours must be written HH:MM-HH:MM (24 h)") from None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; from_json(to_json()) gives back an equal config."""
        return {
            "threshold_spm": self.threshold_spm,
            "plan": [
                {"week_start": p.week_start.isoformat(), "goal_minutes": p.goal_minutes}
                for p in self.plan
            ],
            "wearer_label": self.wearer_label,
            "week_start_day": self.week_start_day,
            "timezone": self.timezone,
            # the reminder's keys only when set, so older firmware still takes the rest
            **({"reminder_time": self.reminder_time} if self.reminder_time else {}),
            **({"quiet_hours": self.quiet_hours}
               if self.quiet_hours != DEFAULT_QUIET_HOURS else {}),
        }

    @classmethod
    def from_json(cls, obj: Any) -> WearerConfig:
        """Parse a dict as sent by the host. Missing keys take their defaults; anything else
        wrong (types, ranges, unknown keys, bad time zone, duplicate weeks) raises ConfigError.
        """
        if not isinstance(obj, dict):
            raise ConfigError("config must be a JSON object")
        unknown = sorted(str(k) for k in obj if k not in _KEYS)
        if unknown:
            raise ConfigError(f"unknown config key: {unknown[0]!r}"[:200])
        kwargs: dict[str, Any] = {k: obj[k] for k in _KEYS if k in obj}
        if "plan" in kwargs:
            kwargs["plan"] = _plan_from_json(kwargs["plan"])
        return cls(**kwargs)


def _plan_from_json(raw: Any) -> tuple[PlanWeek, ...]:
    if not isinstance(raw, list):
        raise ConfigError("plan must be a list of {week_start, goal_minutes} objects")
    if len(raw) > PLAN_MAX_WEEKS:
        raise ConfigError(f"plan has more than {PLAN_MAX_WEEKS} weeks")
    weeks = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or set(entry) != set(_PLAN_KEYS):
            raise ConfigError(f"plan[{i}] must be an object with week_start and goal_minutes")
        start = entry["week_start"]
        if not isinstance(start, str):
            raise ConfigError(f"plan[{i}].week_start must be a date string YYYY-MM-DD")
        try:
            if not _ISO_DATE.fullmatch(start):
                raise ValueError(start)
            day = dt.date.fromisoformat(start)
        except ValueError:
            raise ConfigError(f"plan[{i}].week_start must be a date YYYY-MM-DD") from None
        goal = entry["goal_minutes"]
        if not _is_int(goal) or not 0 <= goal <= GOAL_MAX_MINUTES:
            raise ConfigError(
                f"plan[{i}].goal_minutes must be a whole number from 0 to {GOAL_MAX_MINUTES}"
            )
        weeks.append(PlanWeek(day, goal))
    return tuple(weeks)


def check_timezone(name: Any) -> None:
    """Refuse (ConfigError) anything that is not a known IANA zone name."""
    msg = "timezone must be an IANA time zone name such as Europe/London"
    if not isinstance(name, str) or not name or len(name) > TIMEZONE_MAX_CHARS:
        raise ConfigError(msg)
    if not name.isprintable() or name.startswith("/") or ".." in name:
        raise ConfigError(msg)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError, UnicodeError):
        raise ConfigError(f"timezone {name!r} is not a known IANA time zone"[:200]) from None


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)
