"""Which screen is on the OLED, when it sleeps, and sending a frame only when the picture changes.

The screens are luma `hotspot`s side by side in a luma `viewport` (one 128 px column each);
showing a screen moves the viewport onto its column. Each hotspot keeps the view it last drew,
so luma redraws it only when its view (the exact data shown) changed, and the controller sends
no frame at all while the fingerprint (screen, view) equals the one last sent.

Time comes only from `tick(now, wall)`, so the controller runs the same in real time, in a
100x simulation, and in tests. Button presses (from gpiozero's thread) and data updates (from
the pipeline's thread) are queued under a lock and applied at the next tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable

from luma.core.device import device as LumaDevice
from luma.core.virtual import hotspot, viewport
from PIL import Image, ImageDraw

from device.core.progress import WeekProgress
from device.display.screens import (
    ALL_SCREENS,
    HEIGHT,
    PAIRING,
    SCREEN_ORDER,
    WALK,
    WIDTH,
    View,
    detail_pages,
    draw_view,
    font,
    make_view,
)
from device.status import DeviceStatus

log = logging.getLogger(__name__)

DEFAULT_IDLE_TIMEOUT_S = 20.0
#: Walk mode stays on this long after the press, and as long as the wearer keeps walking (up to
#: WALK_MAX_S), so a glance down at the hip needs no second press.
WALK_IDLE_TIMEOUT_S = 60.0
WALK_MAX_S = 600.0
HOME_SCREEN = "week"

_SHORT, _LONG, _OPEN = "short", "long", "open"


class ScreenHotspot(hotspot):
    """One screen as a luma hotspot: redraws only when its view differs from the one drawn."""

    def __init__(self, name: str) -> None:
        super().__init__(WIDTH, HEIGHT)
        self.name = name
        self.view: View | None = None
        self.drawn: View | None = None

    def should_redraw(self) -> bool:
        return self.view is not None and self.view != self.drawn

    def update(self, draw: ImageDraw.ImageDraw) -> None:
        if self.view is not None:
            draw_view(draw, self.view)
        self.drawn = self.view

    def paste_into(self, image: Image.Image, xy: tuple[int, int]) -> None:
        # luma runs this on its thread pool, whose worker dies (and whose wait never returns)
        # if it raises: never let a drawing bug freeze the display loop.
        try:
            super().paste_into(image, xy)
        except Exception:
            log.exception("drawing the %s screen failed", self.name)
            im = Image.new(image.mode, self.size)
            ImageDraw.Draw(im).text((0, 0), "Display error", font=font(12), fill="white")
            image.paste(im, xy)
            self.drawn = self.view


class DisplayController:
    """Drives one luma device: screen choice, sleep/wake, redraw-on-change.

    device: any luma device (OLED, emulator, dummy), 128x64.
    idle_timeout_s: seconds without a press before the display sleeps (None: never sleeps).
    on_long_press: called (from tick's thread) after a long press opened the pairing screen,
        e.g. so the sync agent can open pairing.
    wall_clock: gives the current aware datetime (local zone) when tick() is not given `wall`;
        without either, the last sync is shown as a date instead of "2 h ago".
    """

    def __init__(
        self,
        device: LumaDevice,
        *,
        idle_timeout_s: float | None = DEFAULT_IDLE_TIMEOUT_S,
        on_long_press: Callable[[], None] | None = None,
        wall_clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if idle_timeout_s is not None and not idle_timeout_s > 0:
            raise ValueError(
                f"idle timeout must be a positive number of seconds, not {idle_timeout_s!r}"
            )
        if device.size != (WIDTH, HEIGHT):
            raise ValueError(f"the screens are {WIDTH}x{HEIGHT}; this display is {device.size}")
        self.device = device
        self.idle_timeout_s = idle_timeout_s
        self.on_long_press = on_long_press
        self.wall_clock = wall_clock
        self._lock = threading.RLock()
        self._events: deque[tuple[str, str]] = deque()
        self.input_ready = threading.Event()
        self._progress: WeekProgress | None = None
        self._status = DeviceStatus()
        self._viewport = viewport(device, width=WIDTH * len(ALL_SCREENS), height=HEIGHT)
        self._hotspots = {name: ScreenHotspot(name) for name in ALL_SCREENS}
        for i, name in enumerate(ALL_SCREENS):
            self._viewport.add_hotspot(self._hotspots[name], (i * WIDTH, 0))
        self._screen = HOME_SCREEN
        self._page = 0  # the detail screen's problem
        self._walk_opened: float | None = None
        self._position_screen: str | None = None
        self._awake = True
        self._last_activity: float | None = None
        self._last_sent: tuple[str, View] | None = None
        self._seen_pairing_code: str | None = None
        self.frames_sent = 0
        #: When a list, every frame sent is appended as (monotonic now, screen, view): the demo
        #: builds its GIF and checks the days it showed from it.
        self.frame_log: list[tuple[float, str, View]] | None = None
        self._now = 0.0

    # -- inputs (any thread) ------------------------------------------------------------------

    def update(self, progress: WeekProgress | None, status: DeviceStatus | None) -> None:
        """New facts to show; drawn at the next tick if they change what is on screen."""
        with self._lock:
            self._progress = progress
            self._status = status or DeviceStatus()

    def short_press(self) -> None:
        """Wake the display, or when awake, go to the next screen (applied at the next tick)."""
        self._queue(_SHORT, "")

    def long_press(self) -> None:
        """Open the pairing/sync screen and call `on_long_press` (applied at the next tick)."""
        self._queue(_LONG, "")

    def open_screen(self, name: str) -> None:
        """Show `name` (waking the display) at the next tick."""
        if name not in ALL_SCREENS:
            raise ValueError(f"unknown screen {name!r}; known: {', '.join(ALL_SCREENS)}")
        self._queue(_OPEN, name)

    def wait_for_input(self, timeout: float | None) -> bool:
        """Block up to `timeout` s until a press is queued (lets a runtime loop react at once)."""
        return self.input_ready.wait(timeout)

    def _queue(self, kind: str, arg: str) -> None:
        with self._lock:
            self._events.append((kind, arg))
            self.input_ready.set()

    # -- state --------------------------------------------------------------------------------

    @property
    def screen(self) -> str:
        with self._lock:
            return self._screen

    @property
    def awake(self) -> bool:
        with self._lock:
            return self._awake

    # -- the clock ----------------------------------------------------------------------------

    def tick(self, now: float, wall: dt.datetime | None = None) -> bool:
        """Apply queued presses, sleep if idle, redraw if changed; True when a frame was sent.

        now: monotonic seconds (any origin) for the idle timer.
        wall: the current time as an aware datetime (local zone) for "synced 2 h ago".
        """
        hooks: list[Callable[[], None]] = []
        with self._lock:
            if self._last_activity is None or now < self._last_activity:
                self._last_activity = now  # first tick, or a clock that went backwards
            while self._events:
                kind, arg = self._events.popleft()
                self._apply(kind, arg, now, hooks)
            self.input_ready.clear()
        for hook in hooks:
            try:
                hook()
            except Exception:
                log.exception("on_long_press hook failed")
        with self._lock:
            self._follow_pairing(now)
            if self._awake and self._idle_expired(now):
                self.device.hide()
                self._awake = False
            if not self._awake:
                return False
            self._now = now
            if wall is None and self.wall_clock is not None:
                wall = self.wall_clock()
            return self._render(wall)

    def _walking(self) -> bool:
        cadence = self._status.live_cadence_spm
        return isinstance(cadence, int | float) and cadence > 0

    def _apply(self, kind: str, arg: str, now: float, hooks: list[Callable[[], None]]) -> None:
        self._last_activity = now
        if kind == _SHORT:
            if not self._awake:
                # A press while walking opens walk mode: cadence and the brisk cue at once.
                self._wake(WALK if self._walking() else HOME_SCREEN)
            elif self._screen == "detail" and self._page + 1 < detail_pages(self._status):
                self._page += 1
            elif self._screen in SCREEN_ORDER:
                i = SCREEN_ORDER.index(self._screen)
                self._screen = SCREEN_ORDER[(i + 1) % len(SCREEN_ORDER)]
            else:
                self._screen = HOME_SCREEN
            if self._screen == WALK:
                self._walk_opened = now
            if self._screen != "detail":
                self._page = 0
        elif kind == _LONG:
            self._wake(PAIRING)
            if self.on_long_press is not None:
                hooks.append(self.on_long_press)
        else:
            self._wake(arg)
            self._page = 0
            if arg == WALK:
                self._walk_opened = now

    def _wake(self, screen: str) -> None:
        self._screen = screen
        if not self._awake:
            self.device.show()
            self._awake = True

    def _follow_pairing(self, now: float) -> None:
        """A host opening pairing shows its code at once, and the display stays on meanwhile."""
        code = self._status.pairing_code
        if code and code != self._seen_pairing_code:
            self._wake(PAIRING)
            self._last_activity = now
        if code and self._screen == PAIRING:
            self._last_activity = now
        self._seen_pairing_code = code

    def _idle_expired(self, now: float) -> bool:
        assert self._last_activity is not None
        if self.idle_timeout_s is None:
            return False
        if self._screen == WALK and self._walk_opened is not None:
            if self._walking() and now - self._walk_opened < WALK_MAX_S:
                self._last_activity = max(self._last_activity, now)  # still walking: stay on
            timeout = max(self.idle_timeout_s, WALK_IDLE_TIMEOUT_S)
            return now - self._last_activity >= timeout
        return now - self._last_activity >= self.idle_timeout_s

    def _render(self, wall: dt.datetime | None) -> bool:
        view = make_view(self._screen, self._progress, self._status, wall, self._page)
        fingerprint = (self._screen, view)
        if fingerprint == self._last_sent:
            return False
        self._hotspots[self._screen].view = view
        if self._position_screen != self._screen:
            self._position_screen = self._screen
            self._viewport.set_position((ALL_SCREENS.index(self._screen) * WIDTH, 0))
        else:
            self._viewport.refresh()
        self._last_sent = fingerprint
        self.frames_sent += 1
        if self.frame_log is not None:
            self.frame_log.append((self._now, self._screen, view))
        return True
