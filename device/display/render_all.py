"""`pedometer screens --out DIR`: every screen rendered to PNG (4x, nearest neighbour)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from luma.core.device import device as LumaDevice
from luma.core.render import canvas
from PIL import Image

from device.core.progress import WeekProgress
from device.display.devices import make_display
from device.display.screens import ALL_SCREENS, draw_view, make_view
from device.history import DayRecord
from device.status import DeviceStatus

SCALE = 4
SAMPLE_WALL = dt.datetime(2026, 3, 12, 15, 30, tzinfo=dt.UTC)  # a Thursday


def sample_progress() -> WeekProgress:
    """A typical mid-week: 47 of 130 minutes, today Thursday."""
    return WeekProgress(
        week_start=dt.date(2026, 3, 9),
        goal_minutes=130,
        moderate_minutes=47,
        day_minutes=(12, 0, 21, 14, 0, 0, 0),
        today_index=3,
        today_steps=6543,
        today_moderate_minutes=14,
        next_goal_minutes=140,
        streak_weeks=3,
    )


def sample_status() -> DeviceStatus:
    """A paired device synced two hours ago, walking briskly right now."""
    return DeviceStatus(
        live_cadence_spm=108.4,
        threshold_spm=100.0,
        wearer_label="Maria",
        paired=True,
        pairing_code=None,
        last_sync=SAMPLE_WALL - dt.timedelta(hours=2, minutes=5),
        clock_trusted=True,
        battery_percent=82.0,
        history=sample_history(),
    )


def sample_history() -> tuple[DayRecord, ...]:
    """The seven days up to the sample Thursday (the week of sample_progress, and the days
    before it)."""
    minutes = (25, 31, 0, 12, 0, 21, 14)
    steps = (7120, 8433, 2210, 6904, 3051, 9876, 6543)
    first = SAMPLE_WALL.date() - dt.timedelta(days=6)
    return tuple(
        DayRecord(first + dt.timedelta(days=i), steps[i], minutes[i]) for i in range(7)
    )


def render_screen(
    device: LumaDevice,
    screen: str,
    progress: WeekProgress | None,
    status: DeviceStatus | None,
    wall: dt.datetime | None = None,
) -> None:
    """Draw one screen onto `device` through a luma canvas (one frame)."""
    with canvas(device) as draw:
        draw_view(draw, make_view(screen, progress, status, wall))


def screen_image(
    screen: str,
    progress: WeekProgress | None,
    status: DeviceStatus | None,
    wall: dt.datetime | None = None,
) -> Image.Image:
    """The 128x64 1-bit image of one screen, as the OLED would show it."""
    device = make_display("dummy")
    render_screen(device, screen, progress, status, wall)
    return device.image


def render_all(
    out_dir: Path | str,
    progress: WeekProgress | None = None,
    status: DeviceStatus | None = None,
    wall: dt.datetime | None = None,
) -> list[Path]:
    """Write DIR/<screen>.png for every screen, scaled 4x; sample data where None."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if progress is None:
        progress = sample_progress()
    if status is None:
        status = sample_status()
    if wall is None:
        wall = SAMPLE_WALL
    if status.pairing_code is None:  # show the code on the pairing screen of the sample
        pairing_status = DeviceStatus(**{**status.__dict__, "pairing_code": "482913"})
    else:
        pairing_status = status
    paths = []
    for screen in ALL_SCREENS:
        shown = pairing_status if screen == "pairing" else status
        image = screen_image(screen, progress, shown, wall)
        path = out / f"{screen}.png"
        image.resize((image.width * SCALE, image.height * SCALE), Image.Resampling.NEAREST).save(
            path
        )
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """`pedometer screens --out DIR` (sample data)."""
    parser = argparse.ArgumentParser(
        prog="pedometer screens", description="Render every OLED screen to PNG (4x) for review."
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for <screen>.png")
    args = parser.parse_args(argv)
    try:
        paths = render_all(args.out)
    except OSError as exc:
        print(
            f"pedometer screens: cannot write to {args.out}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
