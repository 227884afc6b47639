"""The one push button: a gpiozero Button turned into short-press and long-press events.

A press released before `hold_time` is a short press (reported on release); a press held for
`hold_time` is a long press (reported once, while still held; its release is then ignored).
Contact bounce shows up as presses of a few milliseconds: presses shorter than `min_press_s`
are ignored, instead of relying on the pin factory's edge filter, which can drop the release
edge and leave gpiozero believing the button is still down.

gpiozero calls back from its own threads; the callbacks given here should be thread-safe
(DisplayController.short_press / long_press only queue the event).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_HOLD_TIME_S = 2.0
DEFAULT_MIN_PRESS_S = 0.03


class ButtonUnavailable(RuntimeError):
    """The button's GPIO pin could not be opened; the message says why in plain words."""


class PressButton:
    """gpiozero.Button on BCM `pin` (wired to ground, internal pull-up) -> on_short / on_long."""

    def __init__(
        self,
        pin: int | str,
        *,
        on_short: Callable[[], None],
        on_long: Callable[[], None],
        hold_time: float = DEFAULT_HOLD_TIME_S,
        min_press_s: float = DEFAULT_MIN_PRESS_S,
        pin_factory: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        try:
            from gpiozero import Button
        except ImportError as exc:
            raise ButtonUnavailable("the button needs gpiozero (pip install gpiozero)") from exc
        if not hold_time > 0:
            raise ValueError(f"hold time must be a positive number of seconds, not {hold_time!r}")
        self._on_short = on_short
        self._on_long = on_long
        self._min_press_s = min_press_s
        self._clock = clock
        self._lock = threading.Lock()
        self._pressed_at: float | None = None
        self._held = False
        try:
            self._button = Button(pin, pull_up=True, hold_time=hold_time, pin_factory=pin_factory)
        except Exception as exc:  # gpiozero: BadPinFactory, PinInvalidPin, GPIOPinInUse, ...
            raise ButtonUnavailable(f"cannot use GPIO {pin} for the button: {exc}") from exc
        self._button.when_pressed = self._pressed
        self._button.when_held = self._held_down
        self._button.when_released = self._released

    @property
    def button(self) -> Any:
        """The underlying gpiozero.Button."""
        return self._button

    def _pressed(self) -> None:
        with self._lock:
            self._pressed_at = self._clock()
            self._held = False

    def _held_down(self) -> None:
        with self._lock:
            if self._held or self._pressed_at is None:
                return
            self._held = True
        self._on_long()

    def _released(self) -> None:
        with self._lock:
            pressed_at, held = self._pressed_at, self._held
            self._pressed_at = None
            self._held = False
        if held or pressed_at is None:
            return
        if self._clock() - pressed_at >= self._min_press_s:
            self._on_short()

    @property
    def is_pressed(self) -> bool:
        """The button's state now (a self-test checks it reads released)."""
        return bool(self._button.is_pressed)

    def close(self) -> None:
        """Release the GPIO pin."""
        self._button.close()

    def __enter__(self) -> PressButton:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_button(
    controller: Any,
    pin: int | str,
    *,
    hold_time: float = DEFAULT_HOLD_TIME_S,
    min_press_s: float = DEFAULT_MIN_PRESS_S,
    pin_factory: Any = None,
) -> PressButton:
    """A PressButton whose presses go to `controller` (a DisplayController)."""
    return PressButton(
        pin,
        on_short=controller.short_press,
        on_long=controller.long_press,
        hold_time=hold_time,
        min_press_s=min_press_s,
        pin_factory=pin_factory,
    )
