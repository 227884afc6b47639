"""The device's wall clock. The Pi Zero has no RTC: after a boot the system time is a guess until
a host sets it at sync.

Trust is tied to the boot: the host's time is kept as an offset from the monotonic clock
(CLOCK_MONOTONIC runs on across service restarts but restarts at each boot), stored in the store's
meta together with the boot id. A service restart in the same boot reloads it and stays trusted;
a new boot id means untrusted until the next sync. The time zone lives in the wearer config
(WearerConfig.timezone); set_time only forwards the host's zone into it.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from device.config import check_timezone
from device.store import Store

BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")
META_CLOCK = "clock_anchor"
# A host time outside this range is a host bug, not a time: refuse it (2020-01-01 .. 2200-01-01).
UTC_MIN = 1577836800.0
UTC_MAX = 7258118400.0


def read_boot_id(path: Path = BOOT_ID_PATH) -> str:
    """This boot's id from the kernel; a random stand-in per process if unavailable (so the
    clock is then never wrongly trusted after a restart)."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeError):
        text = ""
    return text or f"process-{uuid.uuid4()}"


class DeviceClock:
    """Monotonic time, UTC time and whether a host has set the clock during this boot."""

    def __init__(
        self,
        store: Store | Path,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        boot_id: str | None = None,
    ) -> None:
        self._owns_store = not isinstance(store, Store)
        self.store = Store.in_dir(Path(store)) if self._owns_store else store
        self._monotonic = monotonic
        self._wall = wall
        self.boot_id = boot_id if boot_id is not None else read_boot_id()
        self._offset: float | None = self._load_offset()

    def _load_offset(self) -> float | None:
        raw = self.store.get_meta(META_CLOCK)
        if raw is None:
            return None
        try:
            anchor = json.loads(raw)
            offset = float(anchor["offset"])
            same_boot = anchor["boot_id"] == self.boot_id
        except (ValueError, TypeError, KeyError):
            return None
        return offset if same_boot and math.isfinite(offset) else None

    def monotonic(self) -> float:
        """Seconds on this boot's monotonic clock."""
        return float(self._monotonic())

    def trusted(self) -> bool:
        """True once a host has set the time during this boot."""
        return self._offset is not None

    def utc_now(self) -> float:
        """UTC epoch seconds: host time carried on by the monotonic clock when trusted, else the
        system's own guess."""
        if self._offset is not None:
            return self.monotonic() + self._offset
        return float(self._wall())

    def stamp(self, mono_start: float) -> tuple[int, bool]:
        """(start_utc, clock_trusted) for a minute that began at mono_start on this boot:
        the UTC minute start (multiple of 60) and whether that time came from a host."""
        utc = self.utc_now() - (self.monotonic() - mono_start)
        return math.floor(utc / 60.0) * 60, self.trusted()

    def set_time(self, utc_now: float, tz: str) -> None:
        """The host's time and time zone at sync. Persists offset + boot id, writes tz into the
        wearer config if it changed, and re-anchors this boot's untrusted minute rows.
        Raises ValueError (ConfigError for the zone) and changes nothing on bad input.
        """
        if (
            not isinstance(utc_now, int | float)
            or isinstance(utc_now, bool)
            or not math.isfinite(utc_now)
            or not UTC_MIN <= utc_now <= UTC_MAX
        ):
            raise ValueError(f"set_time: {utc_now!r} is not a plausible UTC time")
        check_timezone(tz)
        mono = self.monotonic()
        offset = float(utc_now) - mono
        anchor = {"boot_id": self.boot_id, "offset": offset, "set_utc": float(utc_now), "tz": tz}
        self.store.set_meta(META_CLOCK, json.dumps(anchor))
        self._offset = offset
        cfg = self.store.get_config()
        if cfg.timezone != tz:
            self.store.set_config(replace(cfg, timezone=tz))
        self.store.reanchor(self.boot_id, mono, float(utc_now))

    def close(self) -> None:
        """Close the store if this clock opened it."""
        if self._owns_store:
            self.store.close()
