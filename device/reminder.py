"""A gentle reminder when the week is behind its plan: a vibration motor or an LED on a GPIO.

Optional hardware (hardware/README.md: a small coin motor behind an NPN transistor with a
flyback diode, or an LED and resistor), driven through gpiozero so it is tested on its
MockFactory. The caregiver sets the time of day; the reminder comes then (or within
``window_min`` after it, if the device was busy or off at that moment) and only when:

* the week is behind its plan (coaching state "behind" or "out_of_reach"; "on plan" and "goal
  met" never buzz),
* it is not quiet hours (default 21:00-08:00, may wrap midnight; a reminder time inside them
  never fires),
* it has not fired yet that local day (at most once a day).

The decision (:func:`reminder_due`) is pure; :class:`Reminder` adds the output device and
remembers the day it last fired.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Literal

log = logging.getLogger(__name__)

Kind = Literal["motor", "led"]
BEHIND_STATES = ("behind", "out_of_reach")


@dataclass(frozen=True)
class ReminderPlan:
    """The caregiver's settings: at (local time of day, None = no reminder), quiet hours."""

    at: dt.time | None = None
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    window_min: int = 120


_DEFAULT_QUIET = "21:00-08:00"


def parse_time_of_day(text: str) -> dt.time:
    """'HH:MM' (24 h) as a time; ValueError with one plain sentence otherwise."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":" or not (
            text[:2].isascii() and text[:2].isdigit() and text[3:].isascii()
            and text[3:].isdigit()):
        raise ValueError(f"{str(text)[:20]!r} is not a time of day written HH:MM (24 h)")
    hours, minutes = int(text[:2]), int(text[3:])
    if hours > 23 or minutes > 59:
        raise ValueError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return dt.time(hours, minutes)


def parse_quiet_hours(text: str) -> tuple[dt.time, dt.time]:
    """'HH:MM-HH:MM' (may wrap midnight; equal ends: no quiet hours) as (start, end)."""
    if not isinstance(text, str) or len(text) != 11 or text[5] != "-":
        raise ValueError(f"{str(text)[:20]!r} is not quiet hours written HH:MM-HH:MM")
    return parse_time_of_day(text[:5]), parse_time_of_day(text[6:])


def plan_from_config(config: Any) -> ReminderPlan:
    """The ReminderPlan a wearer's config asks for (its ``reminder_time``: 'HH:MM', or 'off' or
    '' for none, ``quiet_hours``: 'HH:MM-HH:MM'); a config without them, or with a value that
    does not parse, has no reminder."""
    try:
        at_text = getattr(config, "reminder_time", "")
        at = parse_time_of_day(at_text) if at_text not in ("", "off") else None
        start, end = parse_quiet_hours(getattr(config, "quiet_hours", _DEFAULT_QUIET))
    except ValueError:
        return ReminderPlan()
    return ReminderPlan(at=at, quiet_start=start, quiet_end=end)


def in_quiet_hours(t: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether the local time t lies in [start, end), which may wrap midnight; start == end
    means no quiet hours."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def reminder_due(now_local: dt.datetime, plan: ReminderPlan, behind: bool,
                 last_fired: dt.date | None) -> bool:
    """Whether the reminder should fire at now_local (a local, wall-clock time)."""
    if plan.at is None or not behind:
        return False
    today = now_local.date()
    if last_fired is not None and last_fired >= today:
        return False
    if in_quiet_hours(now_local.time(), plan.quiet_start, plan.quiet_end):
        return False
    at = dt.datetime.combine(today, plan.at, tzinfo=now_local.tzinfo)
    return at <= now_local < at + dt.timedelta(minutes=plan.window_min)


class Reminder:
    """The reminder on an output device: a gpiozero PWMOutputDevice (motor: soft pulses) or
    DigitalOutputDevice / LED (blinks). ``fired`` lists the local times it went off."""

    def __init__(self, output: Any, plan: ReminderPlan, kind: Kind = "motor",
                 pulses: int = 3, pulse_s: float = 0.4) -> None:
        self.output = output
        self.plan = plan
        self.kind = kind
        self.pulses = pulses
        self.pulse_s = pulse_s
        self.last_fired: dt.date | None = None
        self.fired: list[dt.datetime] = []

    @classmethod
    def on_gpio(cls, gpio: int, kind: Kind, plan: ReminderPlan, pin_factory: Any = None,
                **kw: Any) -> Reminder:
        """The motor (PWM, so it can ramp softly) or the LED on BCM pin ``gpio``."""
        from gpiozero import DigitalOutputDevice, PWMOutputDevice

        if kind == "motor":
            output = PWMOutputDevice(gpio, initial_value=0, pin_factory=pin_factory)
        else:
            output = DigitalOutputDevice(gpio, initial_value=False, pin_factory=pin_factory)
        return cls(output, plan, kind, **kw)

    def tick(self, now_local: dt.datetime, coaching_state: str) -> bool:
        """Fire if due now; True when it did."""
        if not reminder_due(now_local, self.plan, coaching_state in BEHIND_STATES,
                            self.last_fired):
            return False
        self.last_fired = now_local.date()
        self.fired.append(now_local)
        try:
            if self.kind == "motor" and hasattr(self.output, "pulse"):
                half = self.pulse_s / 2
                self.output.pulse(fade_in_time=half, fade_out_time=half, n=self.pulses,
                                  background=True)
            else:
                self.output.blink(on_time=self.pulse_s, off_time=self.pulse_s, n=self.pulses,
                                  background=True)
        except Exception as exc:  # a GPIO fault must not stop the firmware loop
            log.warning("reminder output failed: %s", exc)
        return True

    def close(self) -> None:
        try:
            self.output.close()
        except Exception as exc:  # pragma: no cover - closing a broken pin
            log.info("reminder output close: %s", exc)
