"""Data export: minutes, days and weeks as CSV or JSON, read back and compared with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import stat
import subprocess
import sys
import threading
import time
import zoneinfo
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.config import PlanWeek, WearerConfig
from device.store import MinuteRow
from hostsync.export import (
    DAY_FIELDS,
    MINUTE_FIELDS,
    WEEK_FIELDS,
    ExportError,
    export_records,
    export_rows,
)
from hostsync.report import weekly_summary

REPO = Path(__file__).resolve().parents[1]

LONDON = "Europe/London"
CFG = WearerConfig(timezone=LONDON, plan=(PlanWeek(dt.date(2026, 3, 16), 75),))
TODAY = dt.date(2026, 4, 1)


def utc_ts(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(dt.datetime(y, mo, d, h, mi, tzinfo=dt.UTC).timestamp())


def sample_rows() -> list[MinuteRow]:
    """Minutes around the March 2026 clock change, with a gap day, unknown chip counts and a
    minute recorded before the clock was trusted."""
    rows = []
    seq = 0
    for day, hour, count in ((20, 9, 30), (22, 23, 90), (29, 0, 120), (31, 17, 15)):
        for i in range(count):
            seq += 1
            steps = (i * 37) % 140
            rows.append(
                MinuteRow(
                    start_utc=utc_ts(2026, 3, day, hour) + 60 * i,
                    steps=steps,
                    cadence_spm=steps + 0.25,
                    moderate=steps >= 100,
                    chip_steps=None if i % 7 == 0 else steps + 1,
                    clock_trusted=i % 11 != 0,
                    boot_id="b1",
                    mono_start=float(i),
                    seq=seq,
                )
            )
    return rows


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def as_bool(cell: str) -> bool:
    assert cell in ("true", "false")
    return cell == "true"


def minute_from_csv(rec: dict[str, str]) -> dict[str, Any]:
    return {
        "seq": int(rec["seq"]),
        "start_utc": rec["start_utc"],
        "start_local": rec["start_local"],
        "steps": int(rec["steps"]),
        "cadence_spm": float(rec["cadence_spm"]) if rec["cadence_spm"] else None,
        "moderate": as_bool(rec["moderate"]),
        "chip_steps": int(rec["chip_steps"]) if rec["chip_steps"] else None,
        "clock_trusted": as_bool(rec["clock_trusted"]),
        "worn": as_bool(rec["worn"]) if rec["worn"] else None,
    }


def check_minutes_match_rows(recs: list[dict[str, Any]], rows: list[MinuteRow], tz: str) -> None:
    assert len(recs) == len(rows)
    zone = zoneinfo.ZoneInfo(tz)
    for rec, r in zip(recs, sorted(rows, key=lambda r: r.seq), strict=True):
        assert list(rec) == list(MINUTE_FIELDS)
        assert rec["seq"] == r.seq
        utc = dt.datetime.fromisoformat(rec["start_utc"])
        assert rec["start_utc"].endswith("Z") and utc.timestamp() == r.start_utc
        local = dt.datetime.fromisoformat(rec["start_local"])
        assert local.timestamp() == r.start_utc
        assert local.utcoffset() == dt.datetime.fromtimestamp(r.start_utc, zone).utcoffset()
        assert rec["steps"] == r.steps
        if math.isfinite(r.cadence_spm):
            assert rec["cadence_spm"] == r.cadence_spm
        else:
            assert rec["cadence_spm"] is None
        assert rec["moderate"] is r.moderate
        assert rec["chip_steps"] == r.chip_steps
        assert rec["clock_trusted"] is r.clock_trusted
        assert rec["worn"] is None  # these rows carry no wear evidence


def test_minutes_csv_round_trip_with_local_times_across_dst() -> None:
    rows = sample_rows()
    out = io.StringIO()
    assert export_rows(rows, CFG, "minutes", "csv", out) == len(rows)
    text = out.getvalue()
    assert text.splitlines()[0] == ",".join(MINUTE_FIELDS)
    recs = [minute_from_csv(r) for r in read_csv(text)]
    check_minutes_match_rows(recs, rows, LONDON)
    offsets = {dt.datetime.fromisoformat(r["start_local"]).utcoffset() for r in recs}
    assert offsets == {dt.timedelta(0), dt.timedelta(hours=1)}  # GMT and BST both present


def test_minutes_json_round_trip_keeps_types() -> None:
    rows = sample_rows()
    out = io.StringIO()
    export_rows(rows, CFG, "minutes", "json", out)
    recs = json.loads(out.getvalue())
    check_minutes_match_rows(recs, rows, LONDON)
    first = recs[0]
    assert type(first["seq"]) is int and type(first["steps"]) is int
    assert type(first["cadence_spm"]) is float
    assert first["chip_steps"] is None  # i == 0: unknown chip count is null
    assert any(type(r["chip_steps"]) is int for r in recs)


def test_days_totals_equal_the_minute_rows_and_gaps_are_zero() -> None:
    rows = sample_rows()
    for fmt in ("csv", "json"):
        out = io.StringIO()
        export_rows(rows, CFG, "days", fmt, out)
        if fmt == "csv":
            recs = [
                {"date": r["date"], **{k: int(r[k]) for k in DAY_FIELDS[1:4]},
                 **{k: r[k] or None for k in DAY_FIELDS[4:]}}
                for r in read_csv(out.getvalue())
            ]
        else:
            recs = json.loads(out.getvalue())
        assert all(list(r) == list(DAY_FIELDS) for r in recs)
        assert sum(r["steps"] for r in recs) == sum(r.steps for r in rows)
        assert sum(r["moderate_minutes"] for r in recs) == sum(r.moderate for r in rows)
        assert sum(r["active_minutes"] for r in recs) == sum(r.steps > 0 for r in rows)
        dates = [dt.date.fromisoformat(r["date"]) for r in recs]
        assert dates == [dates[0] + dt.timedelta(days=i) for i in range(len(dates))]
        by_date = {r["date"]: r for r in recs}
        assert by_date["2026-03-21"]["steps"] == 0  # a day without data
        # 22 Mar 23:00 UTC + 90 min crosses local midnight (GMT): 60 minutes then 30; only the
        # very first minute has 0 steps.
        assert by_date["2026-03-22"]["active_minutes"] == 59
        assert by_date["2026-03-23"]["active_minutes"] == 30


def test_days_follow_local_midnight() -> None:
    # 29 Mar 2026 00:00-02:00 UTC: 00:00-00:59 GMT, then 02:00-02:59 BST, all on Sunday 29 Mar.
    rows = [r for r in sample_rows() if utc_ts(2026, 3, 29) <= r.start_utc < utc_ts(2026, 3, 30)]
    recs = export_records(rows, CFG, "days")
    assert [r["date"] for r in recs] == ["2026-03-29"]
    recs = export_records(rows, WearerConfig(timezone="America/New_York"), "days")
    assert [r["date"] for r in recs] == ["2026-03-28"]  # still Saturday evening in New York


def test_weeks_totals_equal_the_minute_rows_and_match_the_report() -> None:
    rows = sample_rows()
    out = io.StringIO()
    export_rows(rows, CFG, "weeks", "csv", out, today=TODAY)
    recs = read_csv(out.getvalue())
    assert list(recs[0]) == list(WEEK_FIELDS)
    assert sum(int(r["moderate_minutes"]) for r in recs) == sum(r.moderate for r in rows)
    assert sum(int(r["steps"]) for r in recs) == sum(r.steps for r in rows)
    summaries = weekly_summary(rows, CFG, today=TODAY)
    assert [
        (
            r["week_start"],
            int(r["goal_minutes"]),
            int(r["moderate_minutes"]),
            as_bool(r["met_goal"]),
        )
        for r in recs
    ] == [
        (s.week_start.isoformat(), s.goal_minutes, s.moderate_minutes, s.met_goal)
        for s in summaries
    ]
    assert [int(r["goal_minutes"]) for r in recs] == [75, 75, 75]  # before/at/after the entry
    out = io.StringIO()
    export_rows(rows, CFG, "weeks", "json", out, today=TODAY)
    assert [w["met_goal"] for w in json.loads(out.getvalue())] == [s.met_goal for s in summaries]


def test_export_to_a_path_writes_the_whole_file(tmp_path: Path) -> None:
    rows = sample_rows()
    path = tmp_path / "minutes.json"
    path.write_text("old contents")
    assert export_rows(rows, CFG, "minutes", "json", path) == len(rows)
    assert len(json.loads(path.read_text(encoding="utf-8"))) == len(rows)
    assert [p.name for p in tmp_path.iterdir()] == ["minutes.json"]  # no temporary left over
    csv_path = tmp_path / "days.csv"
    export_rows(rows, CFG, "days", "csv", str(csv_path))
    assert csv_path.read_bytes().startswith(
        b"date,steps,moderate_minutes,active_minutes,worn_hours,valid_day\n")


def test_empty_rows_give_a_header_or_an_empty_array() -> None:
    for kind, fields in (("minutes", MINUTE_FIELDS), ("days", DAY_FIELDS), ("weeks", WEEK_FIELDS)):
        out = io.StringIO()
        assert export_rows([], CFG, kind, "csv", out) == 0
        assert out.getvalue() == ",".join(fields) + "\n"
        out = io.StringIO()
        export_rows([], CFG, kind, "json", out)
        assert json.loads(out.getvalue()) == []


@pytest.mark.parametrize(
    ("kind", "fmt", "message"),
    [
        ("hours", "csv", "unknown export kind 'hours'"),
        ("minutes", "xlsx", "unknown export format 'xlsx'"),
    ],
)
def test_bad_kind_or_format_is_a_one_line_error(kind: str, fmt: str, message: str) -> None:
    out = io.StringIO()
    with pytest.raises(ExportError, match=message) as err:
        export_rows(sample_rows(), CFG, kind, fmt, out)  # type: ignore[arg-type]
    assert "\n" not in str(err.value) and out.getvalue() == ""


def test_unwritable_path_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot write") as err:
        export_rows(sample_rows(), CFG, "days", "csv", tmp_path / "no" / "such" / "dir.csv")
    assert "\n" not in str(err.value)


def test_non_finite_cadence_is_exported_as_missing() -> None:
    bad = MinuteRow(utc_ts(2026, 3, 3, 9), 0, float("nan"), False, None, True, "b", 0.0, 1)
    out = io.StringIO()
    export_rows([bad], CFG, "minutes", "json", out)
    assert json.loads(out.getvalue())[0]["cadence_spm"] is None
    out = io.StringIO()
    export_rows([bad], CFG, "minutes", "csv", out)
    assert read_csv(out.getvalue())[0]["cadence_spm"] == ""


minute_rows = st.lists(
    st.builds(
        MinuteRow,
        start_utc=st.integers(utc_ts(2020, 1, 1), utc_ts(2030, 1, 1)).map(lambda t: t - t % 60),
        steps=st.integers(0, 250),
        cadence_spm=st.floats(0, 250, allow_nan=False),
        moderate=st.booleans(),
        chip_steps=st.none() | st.integers(0, 300),
        clock_trusted=st.booleans(),
        boot_id=st.just("boot"),
        mono_start=st.floats(0, 1e6),
        seq=st.integers(1, 10**9),
    ),
    max_size=30,
    unique_by=lambda r: r.seq,
)


@settings(max_examples=50, deadline=None)
@given(
    rows=minute_rows,
    tz=st.sampled_from(["UTC", LONDON, "Pacific/Chatham", "America/St_Johns"]),
    fmt=st.sampled_from(["csv", "json"]),
)
def test_minutes_round_trip_any_rows(rows: list[MinuteRow], tz: str, fmt: str) -> None:
    cfg = WearerConfig(timezone=tz)
    out = io.StringIO()
    export_rows(rows, cfg, "minutes", fmt, out)
    if fmt == "csv":
        recs = [minute_from_csv(r) for r in read_csv(out.getvalue())]
    else:
        recs = json.loads(out.getvalue())
    check_minutes_match_rows(recs, rows, tz)


# -- what --out names: only a regular file is replaced; anything else is written through or refused


def test_replacing_a_file_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "minutes.csv"
    path.write_text("old\n")
    os.chmod(path, 0o640)
    export_rows(sample_rows(), CFG, "days", "csv", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.read_text().startswith("date,")


def test_a_symlink_stays_a_link_and_its_target_gets_the_export(tmp_path: Path) -> None:
    target = tmp_path / "real" / "days.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "days.csv"
    link.symlink_to(target)
    export_rows(sample_rows(), CFG, "days", "csv", link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().startswith("date,")
    assert sorted(p.name for p in target.parent.iterdir()) == ["days.csv"]


def test_a_named_pipe_is_written_through_and_stays_a_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    deadline = time.monotonic() + 5
    while True:  # wait until the reader has the pipe open
        try:
            export_rows(sample_rows(), CFG, "days", "json", fifo)
            break
        except ExportError:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    reader.join(5)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(json.loads(got[0])) == len(export_records(sample_rows(), CFG, "days"))


def test_a_named_pipe_nobody_reads_is_one_line_and_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ExportError, match="no program is reading") as err:
        export_rows(sample_rows(), CFG, "days", "csv", fifo)
    assert "\n" not in str(err.value)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and sorted(tmp_path.iterdir()) == [fifo]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_a_device_is_written_through_and_a_full_one_is_an_error() -> None:
    export_rows(sample_rows(), CFG, "minutes", "csv", Path("/dev/null"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(ExportError, match="No space left") as err:
        export_rows(sample_rows(), CFG, "minutes", "csv", Path("/dev/full"))
    assert str(err.value) == "cannot write /dev/full: No space left on device"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is a folder"):
        export_rows(sample_rows(), CFG, "days", "csv", tmp_path)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
@pytest.mark.parametrize("to_stdout", [False, True])
def test_hostsync_export_to_a_full_device_reports_failure(tmp_path: Path, to_stdout: bool) -> None:
    from tests.test_host_faults import host_db_with_rows

    db = tmp_path / "h.sqlite3"
    host_db_with_rows(db, 300)
    argv = [sys.executable, "-m", "hostsync.cli", "--db", str(db), "export"]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(argv if to_stdout else [*argv, "--out", "/dev/full"],
                              stdout=full if to_stdout else subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                              timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "No space left on device" in proc.stderr
    assert "Exception" not in proc.stderr and "Exported" not in proc.stderr


def test_wear_is_exported_as_the_host_judges_it() -> None:
    """A day worn 11 h (moving) then left on a table for 2 h: minutes, days and weeks carry the
    same worn / not-worn judgement as the report (hostsync/wear_summary.py)."""
    from hostsync.wear_summary import worn_minutes

    start = utc_ts(2026, 3, 23, 7)  # Monday 07:00 in London (GMT)
    rows = []
    for i in range(13 * 60):
        worn = i < 11 * 60
        rows.append(MinuteRow(
            start_utc=start + 60 * i, steps=20 if worn else 0, cadence_spm=20.0 if worn else 0.0,
            moderate=False, chip_steps=None, clock_trusted=True, boot_id="b1",
            mono_start=float(i), seq=i + 1, wear_active_s=30 if worn else 0,
            wear_turned=False, temp_c=33.0 if worn else 21.0))
    minutes = export_records(rows, CFG, "minutes")
    _start, worn = worn_minutes(rows)
    assert [m["worn"] for m in minutes] == worn.tolist()
    assert minutes[0]["worn"] is True and minutes[-1]["worn"] is False
    (day,) = export_records(rows, CFG, "days")
    assert day["worn_hours"] == round(worn.sum() / 60.0, 2) and day["valid_day"] is True
    weeks = export_records(rows, CFG, "weeks", today=dt.date(2026, 3, 29))
    assert weeks[-1]["valid_days"] == 1
    assert export_records(sample_rows(), CFG, "weeks", today=TODAY)[0]["valid_days"] is None
