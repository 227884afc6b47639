"""The battery's charge: a MAX17048 LiPo fuel gauge on the IMU's I2C bus, read through the real
``adafruit_max1704x`` driver (the same way device/lsm6ds.py reads the IMU).

The gauge is optional hardware: without it the screens show no battery and everything else runs.
A gauge that stops answering (a pulled wire) becomes a plain-words problem on the Status screen and
is retried at the next read, like the IMU. The firmware reads it once a minute (a few I2C bytes).

Note: the driver soft-resets the gauge when it connects (its ``__init__``); the MAX17048's
ModelGauge then re-estimates the charge from the cell voltage within about a second, so a service
restart costs no accuracy worth showing on a 128x64 screen.

`SimulatedBattery` is the simulation's battery (the demo): drained through the day, charged each
night.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from device.status import LOW_BATTERY_PERCENT, SHUTDOWN_BATTERY_PERCENT

GAUGE_ADDRESS = 0x36  # fixed on the MAX17048
CHARGING_RATE = 0.5  # %/h: above this the cell is charging
__all__ = [
    "GAUGE_ADDRESS",
    "LOW_BATTERY_PERCENT",
    "SHUTDOWN_BATTERY_PERCENT",
    "BatteryReading",
    "BatterySource",
    "BatteryUnavailable",
    "FuelGauge",
    "SimulatedBattery",
]


class BatteryUnavailable(RuntimeError):
    """The gauge cannot be read; the message says why in plain words."""


@dataclass(frozen=True)
class BatteryReading:
    """percent: state of charge 0-100; volts: cell voltage; rate: %/h (+ charging, - draining)."""

    percent: float
    volts: float
    rate: float = 0.0

    @property
    def charging(self) -> bool:
        return self.rate > CHARGING_RATE

    @property
    def low(self) -> bool:
        return self.percent <= LOW_BATTERY_PERCENT

    @property
    def empty(self) -> bool:
        """Time for a clean shutdown: at or below SHUTDOWN_BATTERY_PERCENT and not charging."""
        return self.percent <= SHUTDOWN_BATTERY_PERCENT and not self.charging


class BatterySource(Protocol):
    def read(self) -> BatteryReading: ...


class FuelGauge:
    """A MAX17048 at `address` on `i2c_bus` (a busio.I2C or anything with its methods).

    read() connects on first use and after any failure, so a gauge plugged in later (or back in)
    is found without a restart.
    """

    def __init__(self, i2c_bus: Any, address: int = GAUGE_ADDRESS) -> None:
        self.bus = i2c_bus
        self.address = address
        self._driver: Any = None

    @classmethod
    def on_pi(cls, bus_number: int = 1) -> FuelGauge:
        """The gauge on /dev/i2c-<bus_number> (BatteryUnavailable if the bus cannot be opened)."""
        from device.lsm6ds import I2CBusUnavailable, open_i2c_bus

        try:
            return cls(open_i2c_bus(bus_number))
        except I2CBusUnavailable as exc:
            raise BatteryUnavailable(str(exc)) from None

    def _connect(self) -> Any:
        try:
            import adafruit_max1704x
        except ImportError as exc:
            raise BatteryUnavailable(
                f"the fuel gauge driver is missing ({exc}); install walkcoach[pi]"
            ) from None
        try:
            return adafruit_max1704x.MAX17048(self.bus, self.address)
        except (OSError, ValueError) as exc:
            raise BatteryUnavailable(
                f"no battery gauge answers at 0x{self.address:02X}: check its wiring ({exc})"
            ) from None
        except RuntimeError as exc:  # wrong chip id, or the reset did not take
            raise BatteryUnavailable(
                f"the chip at 0x{self.address:02X} is not a working MAX17048 ({exc})"
            ) from None

    def read(self) -> BatteryReading:
        """The charge now; BatteryUnavailable (and a reconnect next time) on any I2C failure."""
        if self._driver is None:
            self._driver = self._connect()
        try:
            percent = float(self._driver.cell_percent)
            volts = float(self._driver.cell_voltage)
            rate = float(self._driver.charge_rate)
        except OSError as exc:
            self._driver = None
            raise BatteryUnavailable(f"the battery gauge stopped answering ({exc})") from None
        if not (math.isfinite(percent) and math.isfinite(volts)):
            raise BatteryUnavailable("the battery gauge gave no usable reading")
        # The gauge reports up to ~101 % just after a full charge (its model's overshoot).
        return BatteryReading(percent=min(max(percent, 0.0), 100.0), volts=volts, rate=rate)


class SimulatedBattery:
    """A battery for simulations: full at `charged_at` (local hour), draining `drain_per_hour` %
    an hour until `on_charger` (local hour), then charging back to full by `charged_at`.

    wall: UTC seconds now; tz: the wearer's zone (for the hour of the day).
    """

    def __init__(
        self,
        wall: Callable[[], float],
        tz: Callable[[], dt.tzinfo] | dt.tzinfo = dt.UTC,
        charged_at: float = 7.0,
        on_charger: float = 22.0,
        drain_per_hour: float = 5.0,
    ) -> None:
        self.wall = wall
        self.tz = tz
        self.charged_at = charged_at
        self.on_charger = on_charger
        self.drain_per_hour = drain_per_hour

    def read(self) -> BatteryReading:
        tz = self.tz() if callable(self.tz) else self.tz
        local = dt.datetime.fromtimestamp(self.wall(), tz)
        hours = (local.hour + local.minute / 60 - self.charged_at) % 24
        day_hours = (self.on_charger - self.charged_at) % 24
        lowest = 100.0 - self.drain_per_hour * day_hours
        if hours <= day_hours:
            percent, rate = 100.0 - self.drain_per_hour * hours, -self.drain_per_hour
        else:  # on the charger overnight
            rate = (100.0 - lowest) / (24 - day_hours)
            percent = lowest + rate * (hours - day_hours)
        volts = 3.5 + 0.7 * percent / 100
        return BatteryReading(percent=round(percent, 1), volts=round(volts, 3), rate=rate)


def battery_summary(store: Any, now_utc: float) -> dict[str, float] | None:
    """The last stored charge and the lowest of the last 24 h (for `hostsync status`), or None
    when no minute carries a reading."""
    day = store.battery_between(int(now_utc - 86400), int(now_utc) + 60)
    if not day:
        return None
    at, percent = day[-1]
    return {"percent": percent, "at_utc": float(at), "min_24h": min(b for _, b in day)}
