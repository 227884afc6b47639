"""`pedometer selftest`: find every part of the device and say, in plain words, what is wrong.

Each check returns a :class:`~device.record.CheckResult`; nothing here raises, because a
technician with a half-built device needs the whole list, not the first traceback.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import warnings
from pathlib import Path

from device.app import HardwareConfig
from device.record import CheckResult, selftest_imu


def check_display(hw: HardwareConfig) -> CheckResult:
    try:
        from device.display.devices import DisplayUnavailable, make_display
    except ImportError as exc:
        return CheckResult("display", False, f"display libraries missing ({exc}); "
                                             "install with: pip install 'walkcoach[pi]'")
    try:
        device = make_display(hw.display_driver, port=hw.i2c_bus, address=hw.display_address,
                              rotate=hw.display_rotate)
    except DisplayUnavailable as exc:
        return CheckResult("display", False, str(exc))
    except Exception as exc:  # a self-test reports, it never crashes
        return CheckResult("display", False, f"unexpected problem: {exc}")
    with contextlib.suppress(Exception):  # blanking is a courtesy, not a check
        device.hide()
    return CheckResult("display", True,
                       f"{hw.display_driver.upper()} answers at 0x{hw.display_address:02X}")


def check_button(hw: HardwareConfig) -> CheckResult:
    try:
        from device.display.button import ButtonUnavailable, PressButton
    except ImportError as exc:
        return CheckResult("button", False, f"gpiozero missing ({exc})")
    try:
        with warnings.catch_warnings():  # gpiozero warns per pin library it cannot load
            warnings.simplefilter("ignore")
            button = PressButton(hw.button_gpio, on_short=lambda: None, on_long=lambda: None)
    except ButtonUnavailable as exc:
        return CheckResult("button", False, f"{exc} (is this a Raspberry Pi?)")
    except Exception as exc:
        return CheckResult("button", False, f"unexpected problem: {exc}")
    pressed = button.is_pressed
    button.close()
    if pressed:
        return CheckResult("button", False, f"GPIO {hw.button_gpio} reads pressed while nobody "
                                            "presses it: check the button wiring (pin to GND)")
    return CheckResult("button", True, f"GPIO {hw.button_gpio} ready (released)")


def check_battery(hw: HardwareConfig, gauge: object | None = None) -> CheckResult:
    """The MAX17048 fuel gauge at 0x36 (`gauge`: a FuelGauge to use instead of the Pi's bus)."""
    try:
        from device.battery import BatteryUnavailable, FuelGauge
    except ImportError as exc:  # pragma: no cover - device.battery has no third-party imports
        return CheckResult("battery gauge", False, f"cannot load the gauge code ({exc})")
    try:
        source = gauge if gauge is not None else FuelGauge.on_pi(hw.i2c_bus)
        reading = source.read()  # type: ignore[attr-defined]
    except BatteryUnavailable as exc:
        return CheckResult("battery gauge", False, str(exc))
    except Exception as exc:  # a self-test reports, it never crashes
        return CheckResult("battery gauge", False, f"unexpected problem: {exc}")
    state = "charging" if reading.charging else "on battery"
    return CheckResult("battery gauge", True,
                       f"MAX17048 at 0x36: {reading.percent:.0f} %, {reading.volts:.2f} V, {state}")


def check_sync_port(hw: HardwareConfig) -> CheckResult:
    port = Path(hw.sync_port)
    if not port.exists():
        return CheckResult("USB sync port", False,
                           f"{port} does not exist: is the USB gadget set up "
                           "(hardware/usb-gadget.sh) and the cable in the USB (not PWR) socket?")
    if not os.access(port, os.R_OK | os.W_OK):
        return CheckResult("USB sync port", False,
                           f"no permission to open {port}: add the user to the dialout group")
    return CheckResult("USB sync port", True, f"{port} present")


def check_storage(data_dir: Path) -> CheckResult:
    from device.store import STORE_FILENAME

    path = data_dir / STORE_FILENAME
    if not data_dir.exists():
        return CheckResult("storage", False, f"{data_dir} does not exist (created on first run)")
    if not os.access(data_dir, os.W_OK):
        return CheckResult("storage", False, f"cannot write to {data_dir}")
    if not path.exists():
        return CheckResult("storage", True, f"{data_dir} writable; no data yet")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            rows = db.execute("SELECT COUNT(*) FROM minutes").fetchone()[0]
    except sqlite3.Error as exc:
        return CheckResult("storage", False, f"{path} cannot be read: {exc}")
    if result != "ok":
        return CheckResult("storage", False, f"{path} is damaged: {result}")
    stat = os.statvfs(data_dir)
    free_mb = stat.f_bavail * stat.f_frsize / 1e6
    return CheckResult("storage", True, f"{rows} minute rows, {free_mb:,.0f} MB free")


def run_selftest(hw: HardwareConfig, data_dir: Path) -> list[CheckResult]:
    address: int | str = hw.imu_address if hw.imu_address == "auto" else int(hw.imu_address, 0)
    checks = selftest_imu(address=address, bus_number=hw.i2c_bus)  # type: ignore[arg-type]
    checks += [check_display(hw), check_button(hw), check_battery(hw), check_sync_port(hw),
               check_storage(data_dir)]
    return checks


def format_checks(checks: list[CheckResult]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'OK     ' if c.ok else 'PROBLEM'}  {c.name:<{width}}  {c.detail}" for c in checks]
    bad = sum(not c.ok for c in checks)
    lines.append("all parts found" if not bad else f"{bad} problem(s) found")
    return "\n".join(lines)
