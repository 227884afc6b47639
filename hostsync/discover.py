"""Find the Walk Coach among the computer's serial ports by its USB identity."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

WALKCOACH_VID = 0x1D6B
WALKCOACH_PID = 0x0104
WALKCOACH_PRODUCT = "Walk Coach Pedometer"
SERIAL_PREFIX = "WC-"

NOT_FOUND_MESSAGE = ("No Walk Coach found on USB. Is it plugged in and switched on? "
                     "Use --port to name the serial port.")


class DiscoveryError(Exception):
    """No device, or several: the message says what to do."""


def is_walkcoach(port: Any) -> bool:
    """A ListPortInfo that carries the Walk Coach's USB identity."""
    return (
        getattr(port, "vid", None) == WALKCOACH_VID
        and getattr(port, "pid", None) == WALKCOACH_PID
        and (getattr(port, "product", None) or "") == WALKCOACH_PRODUCT
        and (getattr(port, "serial_number", None) or "").startswith(SERIAL_PREFIX)
    )


def find_devices(ports: Iterable[Any] | None = None) -> list[Any]:
    """Walk Coach ports among `ports` (default: serial.tools.list_ports.comports())."""
    if ports is None:
        from serial.tools import list_ports

        ports = list_ports.comports()
    return sorted((p for p in ports if is_walkcoach(p)), key=lambda p: p.device)


def choose_port(explicit: str | None, ports: Iterable[Any] | None = None) -> str:
    """The --port path if given, else the only Walk Coach plugged in."""
    if explicit:
        return explicit
    found = find_devices(ports)
    if not found:
        raise DiscoveryError(NOT_FOUND_MESSAGE)
    if len(found) > 1:
        names = ", ".join(f"{p.device} ({p.serial_number})" for p in found)
        raise DiscoveryError(f"Several Walk Coaches are plugged in: {names}. "
                             "Choose one with --port.")
    return str(found[0].device)
