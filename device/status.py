"""The device's health and sync state, as the Status screen and `pedometer selftest` report it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


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
