"""The device's health and sync state, as the Status screen and `pedometer selftest` report it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from device.history import DayRecord

LOW_BATTERY_PERCENT = 15.0  # the screens warn from here down
SHUTDOWN_BATTERY_PERCENT = 3.0  # the firmware writes its minute and stops (before the LiPo cuts)


@dataclass(frozen=True)
class DeviceStatus:
    """Plain facts about the device; every field has a safe default for a fresh device.

    live_cadence_spm: cadence of the last few seconds of walking (0 when not walking).
    threshold_spm: the wearer's moderate-cadence threshold.
    wearer_label: a short name set by the caregiver ('' when unset).
    paired: a host holds this device's secret.
    pairing_code: the code to show while pairing is open, else None.
    last_sync: when a host last synced (UTC), or None.
    clock_trusted: a host has set the clock since boot.
    storage_problem / sensor_problem: a plain-words problem, or None.
    pending_rows: minute rows counted but not yet written to storage (disk full).
    battery_percent: the fuel gauge's state of charge, None without a gauge.
    battery_charging: the charge is rising (charger plugged in).
    battery_problem: the gauge cannot be read (plain words), or None.
    history: the last days (today last), for the 7-day screen.
    coaching_line: what gets the week back on plan ("12 brisk min today"), '' when on plan.
    """

    live_cadence_spm: float = 0.0
    threshold_spm: float = 100.0
    wearer_label: str = ""
    paired: bool = False
    pairing_code: str | None = None
    last_sync: dt.datetime | None = None
    clock_trusted: bool = False
    storage_problem: str | None = None
    sensor_problem: str | None = None
    pending_rows: int = 0
    battery_percent: float | None = None
    battery_charging: bool = False
    battery_problem: str | None = None
    history: tuple[DayRecord, ...] = ()
    coaching_line: str = ""
