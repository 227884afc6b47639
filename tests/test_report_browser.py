"""The report page in a real browser: headless Chromium (the OS package) renders it to a PNG.

The screenshot of a four-week wearer is docs/report.png, shown in the README; regenerate it with
    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/test_report_browser.py
and look at it before committing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from device.config import PlanWeek, WearerConfig
from hostsync.report import write_report
from tests.test_report import local_ts, walk

CHROMIUM = Path("/usr/bin/chromium")
DOCS_PNG = Path(__file__).resolve().parents[1] / "docs" / "report.png"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
ZONE = "Europe/London"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="headless Chromium is not installed (/usr/bin/chromium; apt-get install chromium)",
)


def four_weeks() -> tuple[list, WearerConfig, dt.date]:
    """A wearer on a progressive plan: steady walks on most days, pottering every day."""
    start = dt.date(2026, 3, 2)
    goals = (60, 90, 90, 105, 120, 130)
    plan = tuple(PlanWeek(start + dt.timedelta(days=7 * k), g) for k, g in enumerate(goals))
    cfg = WearerConfig(timezone=ZONE, wearer_label="Zoë Παπαδοπούλου", plan=plan)
    rng = random.Random(7)
    rows = []
    for d in range(25):
        day = start + dt.timedelta(days=d)
        if rng.random() < 0.75:
            rows += walk(local_ts(ZONE, day.year, day.month, day.day, 10), rng.choice((12, 20, 25)),
                         steps=rng.choice((104, 112, 118, 133)))
        for hour in (8, 13, 16, 19):
            rows += walk(local_ts(ZONE, day.year, day.month, day.day, hour), rng.randint(3, 15),
                         steps=rng.choice((20, 45, 70, 92)))
    # the fuel gauge's charge with each minute: full at 7:00, 5 % an hour down through the day
    rows = [dataclasses.replace(r, battery_percent=round(100 - 5 * ((r.start_utc / 3600) % 24 - 7),
                                                          1)) for r in rows]
    return rows, cfg, start + dt.timedelta(days=24)


def screenshot(html: Path, png: Path, tmp_path: Path, height: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", f"--user-data-dir={tmp_path / 'chromium-profile'}",
         "--hide-scrollbars", f"--window-size=1000,{height}", f"--screenshot={png}",
         html.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_chromium_renders_the_report_page(tmp_path: Path) -> None:
    rows, cfg, today = four_weeks()
    files = write_report(rows, cfg, None, tmp_path / "report", today=today, device_id="WC-DEMO01",
                         last_sync_utc=dt.datetime(2026, 3, 26, 20, 35, tzinfo=dt.UTC).timestamp())
    png = tmp_path / "page.png"
    proc = screenshot(files.html_path, png, tmp_path, 3200)
    assert proc.returncode == 0 and png.exists(), proc.stderr[-2000:]
    with Image.open(png) as img:
        assert img.size == (1000, 3200)
        rgb = img.convert("RGB")
        colours = {c for _, c in rgb.getcolors(maxcolors=1 << 22)}
        # The embedded charts were decoded and drawn: their bar colours are on the page.
        assert (0x2E, 0x7D, 0x32) in colours and (0xE6, 0x51, 0x00) in colours
        # Text was drawn (many grey levels from anti-aliasing), not a blank or error page.
        assert len(colours) > 200
        # The page is taller than the top of the window: something is drawn in its lower half.
        lower = rgb.crop((0, 1600, 1000, 3200)).convert("L")
        assert lower.getextrema()[0] < 64
        if UPDATE:
            DOCS_PNG.parent.mkdir(exist_ok=True)
            # trim the white below the page's end
            bbox = Image.eval(rgb.convert("L"), lambda v: 255 - v).getbbox()
            shown = rgb.crop((0, 0, 1000, min(3200, (bbox[3] if bbox else 3200) + 24)))
            shown.save(DOCS_PNG, optimize=True)

