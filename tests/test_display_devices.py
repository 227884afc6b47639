"""make_display: dummy, emulators (terminal without a TTY, GIF) and the real OLED's plain error."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image

from device.display.devices import DisplayUnavailable, make_display
from device.display.render_all import (
    SAMPLE_WALL,
    render_screen,
    sample_progress,
    sample_status,
)

REPO = Path(__file__).resolve().parents[1]


def test_dummy_is_a_monochrome_128x64_display() -> None:
    device = make_display("dummy")
    assert device.size == (128, 64) and device.mode == "1"
    render_screen(device, "week", sample_progress(), sample_status(), SAMPLE_WALL)
    assert device.image is not None and device.image.getbbox() is not None


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(DisplayUnavailable, match="unknown display kind 'lcd'; choose one of"):
        make_display("lcd")


@pytest.mark.parametrize("kind", ["ssd1306", "sh1106"])
def test_missing_oled_is_reported_in_plain_words(kind: str) -> None:
    if Path("/dev/i2c-7").exists():
        pytest.skip("this machine has an I2C bus 7")
    with pytest.raises(DisplayUnavailable, match=r"no OLED found at 0x3C on I2C bus 7"):
        make_display(kind, port=7)


def test_gif_display_writes_an_animation(tmp_path: Path) -> None:
    path = tmp_path / "screens.gif"
    device = make_display("gif", path=path, frame_duration_s=0.2)
    for screen in ("week", "today", "plan"):
        render_screen(device, screen, sample_progress(), sample_status(), SAMPLE_WALL)
    device.write_animation()
    with Image.open(path) as gif:
        assert gif.n_frames == 3 and gif.size == (256, 128)


def test_gif_display_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(DisplayUnavailable, match="does not exist"):
        make_display("gif", path=tmp_path / "missing" / "x.gif")
    with pytest.raises(DisplayUnavailable, match="needs path="):
        make_display("gif")


def test_terminal_display_works_without_a_tty() -> None:
    """luma.emulator's asciiblock asks the TTY for its size; piped stdout must still work."""
    script = textwrap.dedent(
        """
        from device.display.devices import make_display
        from device.display.render_all import SAMPLE_WALL, render_screen, sample_progress
        device = make_display("terminal")
        render_screen(device, "week", sample_progress(), None, SAMPLE_WALL)
        device.cleanup()
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "\u2584" in result.stdout  # half blocks drawn
    assert "pygame" not in result.stdout  # no banner mixed into the picture
    assert result.stderr == ""
