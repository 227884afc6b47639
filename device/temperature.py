"""The IMU's die temperature, through the adafruit_lsm6ds driver: the wear detector's second cue.

A clip on the body sits at skin warmth; on a table it cools to the room (plus the Pi's own
warmth). The LSM6DS family measures its die temperature beside the accelerometer: OUT_TEMP_L/H
(0x20/0x21), 256 LSB/°C around 25 °C, which the driver reads as its ``temperature`` property.
Reading it costs one 2-byte I2C transaction, so the runtime reads it once a minute at most.

This adapter never raises: a failed read (an I2C error, the chip being re-initialised, no chip)
is None, and the wear detector then decides from the accelerometer alone.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PLAUSIBLE_C = (-40.0, 85.0)  # the sensor's operating range (datasheet)


def read_temperature_c(driver: Any) -> float | None:
    """The chip's temperature (°C) via the driver's ``temperature`` property, or None when it
    cannot be read or is outside the chip's -40..85 °C range."""
    try:
        value = float(driver.temperature)
    except (OSError, ValueError, RuntimeError, AttributeError, TypeError) as exc:
        log.debug("IMU temperature not read: %s", exc)
        return None
    if not math.isfinite(value) or not PLAUSIBLE_C[0] <= value <= PLAUSIBLE_C[1]:
        return None
    return value


class ChipTemperature:
    """The temperature of the IMU an :class:`~device.lsm6ds.Lsm6dsSource` drives, read at most
    every ``every_s`` seconds (the last reading is reused in between).

    source: the Lsm6dsSource, or the firmware's ReconnectingImu around one (``_source``); the
    driver is looked up at every read, since the source re-creates it when it re-initialises
    the chip and the wrapper re-opens the source after a loss.
    """

    def __init__(self, source: Any, clock: Callable[[], float], every_s: float = 60.0) -> None:
        self.source = source
        self.clock = clock
        self.every_s = float(every_s)
        self._last_read = -math.inf
        self.last_c: float | None = None

    def read(self) -> float | None:
        now = self.clock()
        if now - self._last_read < self.every_s:
            return self.last_c
        self._last_read = now
        inner = getattr(self.source, "_source", None) or self.source
        driver = getattr(inner, "_driver", None)
        self.last_c = None if driver is None else read_temperature_c(driver)
        return self.last_c
