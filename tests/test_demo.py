"""The README's main command end to end: simulated wearer -> device -> hostsync -> report."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from device.cli import main


def test_demo_runs_the_whole_product_on_one_computer(tmp_path: Path, capfd) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--days", "3"]) == 0
    text = capfd.readouterr().out  # hostsync runs as its own process, as on a laptop
    assert "Paired with WC-" in text
    assert "Walk Coach weekly report" in text
    rows_sql = "SELECT seq, start_utc, steps FROM minutes ORDER BY seq"
    with sqlite3.connect(out / "device" / "walkcoach.sqlite3") as dev:
        device_rows = dev.execute(rows_sql).fetchall()
        acked = dev.execute("SELECT value FROM meta WHERE key = 'acknowledged_seq'").fetchone()
    with sqlite3.connect(out / "host.sqlite3") as host:
        host_rows = host.execute(rows_sql).fetchall()
    assert device_rows and host_rows == device_rows  # re-anchored device rows == what the host has
    assert sum(r[2] for r in host_rows) > 1000
    assert acked is not None and int(acked[0]) == device_rows[-1][0]  # the host acknowledged all
    reports = list((out / "report").iterdir())
    assert {p.suffix for p in reports} == {".png", ".html"}
    assert (out / "screens.gif").stat().st_size > 1000
    # A second demo into the same folder is refused rather than mixing data.
    assert main(["demo", "--out", str(out)]) == 2
