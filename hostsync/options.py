"""Checks for what the caregiver types on the hostsync command line.

Each returns the clean value or raises ValueError with one plain sentence (the CLI prints it and
exits 2). They exist because Python's own parsers accept more than a person means: float("nan")
is a number (a NaN timeout waits forever), "²".isdigit() is True but int("²") fails, and a date
in 9999 overflows as soon as a week is added to it.
"""

from __future__ import annotations

import datetime as dt
import re

TIMEOUT_MIN_S, TIMEOUT_MAX_S = 0.1, 600.0
FIRST_PLAN_DAY = dt.date(2000, 1, 1)
LAST_PLAN_DAY = dt.date(2199, 12, 31)

_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def whole_number(text: str, what: str, lo: int, hi: int) -> int:
    """ASCII digits only (no sign, no '²', no '1e3'), within lo..hi."""
    t = text.strip()
    if not _WHOLE.fullmatch(t) or len(t) > 9 or not lo <= int(t) <= hi:
        raise ValueError(f"{what} must be a whole number from {lo} to {hi}, not {text!r}"[:160])
    return int(t)


def seconds(text: str, what: str = "--timeout") -> float:
    """A finite number of seconds within TIMEOUT_MIN_S..TIMEOUT_MAX_S (no nan, inf, -1)."""
    t = text.strip()
    if not _DECIMAL.fullmatch(t) or not TIMEOUT_MIN_S <= float(t) <= TIMEOUT_MAX_S:
        raise ValueError(f"{what} must be a number of seconds from {TIMEOUT_MIN_S:g} to "
                         f"{TIMEOUT_MAX_S:g}, not {text!r}"[:160])
    return float(t)


def plan_date(text: str, what: str) -> dt.date:
    """An ISO date YYYY-MM-DD (ASCII digits) from FIRST_PLAN_DAY to LAST_PLAN_DAY."""
    t = text.strip()
    try:
        if not _ISO_DATE.fullmatch(t):
            raise ValueError(t)
        day = dt.date.fromisoformat(t)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not a date like 2026-11-30."[:160]) from None
    if not FIRST_PLAN_DAY <= day <= LAST_PLAN_DAY:
        raise ValueError(f"{what} {t} is out of range: give a date from "
                         f"{FIRST_PLAN_DAY.year} to {LAST_PLAN_DAY.year}.")
    return day


def path_text(text: str, what: str) -> str:
    """A file or port path: not empty, no NUL byte (the OS cannot take one)."""
    if not text or "\x00" in text:
        raise ValueError(f"{what} must be a path (no empty text, no NUL character)")
    return text


def device_id(text: str, what: str = "--device") -> str:
    """A device id as `hostsync devices` shows it: printable text, at most 64 characters."""
    if not text or len(text) > 64 or not text.isprintable():
        raise ValueError(f"{what} must be a device id such as WC-1234ABCD")
    return text
