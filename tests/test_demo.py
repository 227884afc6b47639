"""The README's main command end to end: simulated wearer -> device -> hostsync -> report.

The whole four-week demo runs once (about half a minute), in a time zone far from UTC, so a clock
or zone mix-up between the simulated device and the host would put walks on different days.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import sqlite3
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from PIL import Image

from device.cli import main
from device.display.screens import ALL_SCREENS
from tests.test_report import report_days

ZONE = "Pacific/Auckland"  # UTC+12/+13: a 9-hour slip could not hide here


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", ZONE)  # this computer's zone, for the demo and the hostsync it runs
    captured = subprocess.run(  # its own process: TZ is read at start-up
        [sys.executable, "-m", "device.cli", "demo", "--out", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    mp.undo()
    assert captured.returncode == 0, captured.stdout[-3000:] + captured.stderr[-3000:]
    return out, captured.stdout


def test_demo_runs_the_whole_product_on_one_computer(demo: tuple[Path, str]) -> None:
    out, text = demo
    assert "Paired with WC-" in text
    assert "Walk Coach weekly report" in text
    rows_sql = "SELECT seq, start_utc, steps FROM minutes ORDER BY seq"
    with sqlite3.connect(out / "device" / "walkcoach.sqlite3") as dev:
        device_rows = dev.execute(rows_sql).fetchall()
        acked = dev.execute("SELECT value FROM meta WHERE key = 'acknowledged_seq'").fetchone()
    with sqlite3.connect(out / "host.sqlite3") as host:
        host_rows = host.execute(rows_sql).fetchall()
    # the host pulled up to the seq it acknowledged; the device goes on adding (empty) minutes
    assert acked is not None
    pulled = [r for r in device_rows if r[0] <= int(acked[0])]
    assert pulled and host_rows == pulled
    assert sum(r[2] for r in host_rows) > 20_000
    reports = list((out / "report").iterdir())
    assert {p.suffix for p in reports} == {".png", ".html"}
    assert all(p.name.startswith("walkcoach-report-sam-demo-WC-") for p in reports)


def test_four_weeks_of_a_progressive_plan_some_met_some_not(demo: tuple[Path, str]) -> None:
    _out, text = demo
    assert "Goal met in 2 of 3 completed weeks." in text
    assert "Goals follow the plan set by the caregiver." in text


def test_commands_are_printed_shell_quoted(demo: tuple[Path, str]) -> None:
    _out, text = demo
    commands = [line[2:] for line in text.splitlines() if line.startswith("$ hostsync ")]
    assert [shlex.split(c)[5] for c in commands] == ["pair", "pull", "status", "plan", "report"]
    assert all(shlex.join(shlex.split(c)) == c for c in commands)


def test_the_gif_cycles_through_every_screen_including_walk_mode(demo: tuple[Path, str]) -> None:
    out, _text = demo
    seen = json.loads((out / "device-screens.json").read_text())
    assert set(seen["screens"]) == set(ALL_SCREENS)
    with Image.open(out / "screens.gif") as gif:
        assert gif.n_frames == len(seen["screens"]) and gif.size == (256, 128)


def test_each_day_on_the_device_screen_is_the_same_day_with_the_same_numbers_in_the_report(
    demo: tuple[Path, str],
) -> None:
    out, _text = demo
    device_days = {
        dt.date.fromisoformat(day): tuple(v)
        for day, v in json.loads((out / "device-screens.json").read_text())["days"].items()
    }
    html = next((out / "report").glob("*.html")).read_text(encoding="utf-8")
    report = report_days(html)  # {day: (steps, brisk minutes, longest brisk walk)}
    assert len(report) >= 22  # three full weeks and today's
    # The device's 7-day screen showed every day of the report's four weeks...
    assert set(report) <= set(device_days)
    for day, (steps, minutes, _longest) in report.items():
        assert device_days[day] == (minutes, steps), day  # ...with the same numbers
    # The days with a walk on them are the same days on both.
    walk_days = {d for d, (minutes, _steps) in device_days.items() if minutes and d in report}
    assert walk_days == {d for d, (_s, minutes, _l) in report.items() if minutes}
    assert len(walk_days) >= 10


def test_host_days_in_the_wearers_zone_equal_the_device_store(demo: tuple[Path, str]) -> None:
    """Per local day, the host's rows add up to the device store's rows (same zone, no slip)."""
    import zoneinfo

    out, _text = demo
    tz = zoneinfo.ZoneInfo(ZONE)

    def per_day(db: Path) -> dict[dt.date, list[int]]:
        days: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
        with sqlite3.connect(db) as con:
            for start, steps, moderate in con.execute(
                "SELECT start_utc, steps, moderate FROM minutes WHERE steps > 0"
            ):
                day = dt.datetime.fromtimestamp(start, tz).date()
                days[day][0] += steps
                days[day][1] += moderate
        return dict(days)

    assert per_day(out / "host.sqlite3") == per_day(out / "device" / "walkcoach.sqlite3")


def test_a_second_demo_into_the_same_folder_is_refused(demo: tuple[Path, str]) -> None:
    out, _text = demo
    assert main(["demo", "--out", str(out)]) == 2
