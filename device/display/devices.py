"""Creating the luma device the screens are drawn on: the real OLED, an emulator, or a dummy.

Every device is monochrome ("1" mode) and 128x64, like the OLED, so what the emulators and tests
show is pixel for pixel what the wearer sees. Hardware and emulator libraries are imported only
when asked for, and any failure to open the real display becomes one `DisplayUnavailable` with a
plain-words message for `pedometer selftest` and the runtime.
"""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path
from typing import Any

from luma.core.device import device as LumaDevice
from luma.core.device import dummy

WIDTH, HEIGHT = 128, 64
DISPLAY_KINDS = ("ssd1306", "sh1106", "terminal", "gif", "dummy")
DEFAULT_I2C_PORT = 1
DEFAULT_I2C_ADDRESS = 0x3C


class DisplayUnavailable(RuntimeError):
    """The display could not be opened; the message says why in plain words."""


def make_display(kind: str, **opts: Any) -> LumaDevice:
    """A luma device of `kind`: "ssd1306" | "sh1106" | "terminal" | "gif" | "dummy".

    Options: ssd1306/sh1106: port=1, address=0x3C, rotate=0; gif: path (required),
    frame_duration_s=0.5, scale=2; terminal: scale=2; all: rotate=0.
    """
    rotate = int(opts.get("rotate", 0))
    if kind in ("ssd1306", "sh1106"):
        return _make_oled(
            kind,
            port=int(opts.get("port", DEFAULT_I2C_PORT)),
            address=int(opts.get("address", DEFAULT_I2C_ADDRESS)),
            rotate=rotate,
        )
    if kind == "terminal":
        return _make_terminal(scale=int(opts.get("scale", 2)), rotate=rotate)
    if kind == "gif":
        path = opts.get("path")
        if not path:
            raise DisplayUnavailable("the gif display needs path=<file.gif>")
        return _make_gif(
            Path(path),
            frame_duration_s=float(opts.get("frame_duration_s", 0.5)),
            scale=int(opts.get("scale", 2)),
            rotate=rotate,
        )
    if kind == "dummy":
        return dummy(width=WIDTH, height=HEIGHT, rotate=rotate, mode="1")
    raise DisplayUnavailable(
        f"unknown display kind {kind!r}; choose one of: {', '.join(DISPLAY_KINDS)}"
    )


def _make_oled(kind: str, *, port: int, address: int, rotate: int) -> LumaDevice:
    where = f"0x{address:02X} on I2C bus {port}"
    try:
        from luma.core.error import DevicePermissionError
        from luma.core.interface.serial import i2c
        from luma.oled.device import sh1106, ssd1306
    except ImportError as exc:
        raise DisplayUnavailable(
            f"cannot drive the OLED: {exc.name or exc} is not installed (pip install luma.oled)"
        ) from exc
    driver = ssd1306 if kind == "ssd1306" else sh1106
    try:
        serial = i2c(port=port, address=address)
        # Construction sends the init sequence, so a missing or silent panel fails here.
        return driver(serial, width=WIDTH, height=HEIGHT, rotate=rotate)
    except DevicePermissionError as exc:
        raise DisplayUnavailable(
            f"no permission to open I2C bus {port} for the OLED at {where}: "
            f"add this user to the 'i2c' group ({exc})"
        ) from exc
    except Exception as exc:  # luma raises its own errors, OSError, or smbus2 errors
        raise DisplayUnavailable(
            f"no OLED found at {where} ({kind}): check wiring and that I2C is enabled "
            f"(raspi-config); {exc}"
        ) from exc


def _prepare_pygame_headless() -> None:
    """luma.emulator renders through pygame surfaces; no window is needed for terminal/GIF."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # pygame prints a banner on stdout
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")


def _make_terminal(*, scale: int, rotate: int) -> LumaDevice:
    _prepare_pygame_headless()
    try:
        from luma.emulator.device import asciiblock
    except ImportError as exc:
        raise DisplayUnavailable(
            "the terminal display needs luma.emulator and pygame (pip install 'walkcoach[sim]')"
        ) from exc
    except RuntimeError as exc:
        raise DisplayUnavailable(f"the terminal display cannot start: {exc}") from exc

    class TerminalDisplay(asciiblock):
        """asciiblock that also works when stdout is not a TTY (pipe, log file, CI).

        luma.emulator asks the TTY for its size with an ioctl, which fails with ENOTTY
        ("Inappropriate ioctl for device") when stdout is redirected; fall back to the
        terminal size from the environment, or 128 columns.
        """

        def _terminal_size(self) -> tuple[int, int, int, int]:
            try:
                rows, cols, xpix, ypix = super()._terminal_size()
                if cols > 0:
                    return rows, cols, xpix, ypix
            except (OSError, ValueError, struct.error):
                pass
            size = shutil.get_terminal_size(fallback=(WIDTH, HEIGHT // 2))
            return size.lines, size.columns, 0, 0

    try:
        return TerminalDisplay(
            width=WIDTH,
            height=HEIGHT,
            rotate=rotate,
            mode="1",
            transform="scale2x" if scale == 2 else "identity",
            scale=scale,
        )
    except Exception as exc:  # pygame missing or unusable
        raise DisplayUnavailable(f"the terminal display cannot start: {exc}") from exc


def _make_gif(path: Path, *, frame_duration_s: float, scale: int, rotate: int) -> LumaDevice:
    _prepare_pygame_headless()
    if not path.parent.is_dir():
        raise DisplayUnavailable(f"cannot write the GIF: folder {path.parent} does not exist")
    try:
        from luma.emulator.device import gifanim
    except ImportError as exc:
        raise DisplayUnavailable(
            "the gif display needs luma.emulator and pygame (pip install 'walkcoach[sim]')"
        ) from exc
    try:
        # gifanim keeps frames in memory and writes the file at exit (or on write_animation()).
        return gifanim(
            width=WIDTH,
            height=HEIGHT,
            rotate=rotate,
            mode="1",
            transform="scale2x" if scale == 2 else "identity",
            scale=scale,
            filename=str(path),
            duration=frame_duration_s,
        )
    except Exception as exc:
        raise DisplayUnavailable(f"the gif display cannot start: {exc}") from exc
