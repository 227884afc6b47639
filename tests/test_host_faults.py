"""Faults of the caregiver's computer: a full disk, a locked, read-only or damaged host database.

Each ends in one plain line (exit 1), never an SQLite traceback ('cannot rollback', 'malformed'),
the file is left as it was, and the cursor is never ahead of the rows stored: a pull cut by a
full disk resumes exactly once the space is back.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

import hostsync.db
import hostsync.dbfile
from hostsync.cli import main
from hostsync.db import HostDB, HostDBError
from hostsync.dbfile import describe
from tests.damage import overwrite_pages, sha
from tests.sync_harness import DEVICE_ID, make_rows
from tests.test_hostsync_cli import cli, device, paired_cli  # noqa: F401 - fixtures
from tests.unprivileged import as_unprivileged

REPO = Path(__file__).resolve().parents[1]


def one_line(err: str) -> str:
    assert "Traceback" not in err and "cannot rollback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def rows(n: int, first: int = 0) -> list:
    """Minute rows numbered first+1 .. first+n, as a device sends them."""
    return [replace(r, seq=first + i + 1) for i, r in enumerate(make_rows(n, first=first))]


def host_db_with_rows(path: Path, n: int = 3000) -> None:
    with HostDB(path) as db:
        db.save_pairing(DEVICE_ID, b"k" * 32)
        for first in range(0, n, 500):
            db.commit_page(DEVICE_ID, rows(min(500, n - first), first), "store-a")


def assert_cursor_not_ahead(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        stores = raw.execute("SELECT device_id, store_id, cursor FROM stores").fetchall()
        for device_id, store_id, cursor in stores:
            seqs = [r[0] for r in raw.execute(
                "SELECT seq FROM minutes WHERE device_id = ? AND store_id = ? ORDER BY seq",
                (device_id, store_id))]
            assert seqs == list(range(1, cursor + 1)), (cursor, len(seqs))
    raw.close()
    return sum(s[2] for s in stores)


# -- damaged --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["export"], ["report"], ["devices"], ["pull"], ["status"]])
def test_a_file_that_is_not_a_database_is_one_line_and_untouched(tmp_path, capsys, command):
    db = tmp_path / "hostsync.sqlite3"
    db.write_bytes(b"my tax return, not a database\n" * 100)
    before = sha(db)
    code = main(["--db", str(db), "--port", str(tmp_path / "ttyACM9"), *command,
                 *(["--out", str(tmp_path / "r")] if command == ["report"] else [])])
    out, err = capsys.readouterr()
    line = one_line(err)
    assert code == 1 and out == ""
    if command[0] in ("export", "report", "devices"):  # pull/status stop at the missing port
        assert "is damaged" in line and str(db) in line
    assert sha(db) == before and sorted(p.name for p in tmp_path.iterdir()) == [db.name]


def test_damaged_pages_are_one_line_and_untouched(tmp_path, capsys):
    db = tmp_path / "hostsync.sqlite3"
    host_db_with_rows(db)
    overwrite_pages(db, 4, 5)
    before = sha(db)
    for command in (["export"], ["report", "--out", str(tmp_path / "r")], ["devices"]):
        code = main(["--db", str(db), *command])
        _out, err = capsys.readouterr()
        assert code == 1 and "is damaged" in one_line(err), err
    assert sha(db) == before


# -- locked ---------------------------------------------------------------------------------------


def test_a_database_locked_by_another_program_is_one_line(tmp_path, capsys, monkeypatch):
    db = tmp_path / "hostsync.sqlite3"
    host_db_with_rows(db, 500)
    monkeypatch.setattr(hostsync.dbfile, "BUSY_TIMEOUT_S", 0.2)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("PRAGMA locking_mode=EXCLUSIVE")
    other.execute("BEGIN EXCLUSIVE")
    try:
        for command in (["export"], ["devices"]):
            code = main(["--db", str(db), *command])
            _out, err = capsys.readouterr()
            assert code == 1 and "in use by another program" in one_line(err), err
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert main(["--db", str(db), "export", "--out", str(tmp_path / "m.csv")]) == 0
    assert len((tmp_path / "m.csv").read_text().splitlines()) == 501


# -- read-only ------------------------------------------------------------------------------------


def test_a_read_only_database_error_is_one_line():
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "hostsync.sqlite3"
        host_db_with_rows(path, 500)
        ro = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        with pytest.raises(sqlite3.OperationalError) as err:
            ro.execute("DELETE FROM minutes")
        ro.close()
    text = describe(err.value, path)
    assert "read-only" in text and "\n" not in text


def test_a_database_this_user_may_only_read_is_one_line_or_works(tmp_path):
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        folder = Path(d) / "host"
        folder.mkdir()
        path = folder / "hostsync.sqlite3"
        host_db_with_rows(path, 500)
        os.chmod(folder, 0o555)
        os.chmod(path, 0o444)
        if os.geteuid() != 0:
            pytest.skip("the owner of the file: read-only is tested through describe()")
        before = sha(path)
        for command in (["devices"], ["export"], ["report", "--out", f"{d}/r"]):
            cmd = as_unprivileged([sys.executable, "-m", "hostsync.cli", "--db", str(path),
                                    *command])
            if cmd is None:
                pytest.skip("root without setpriv")
            proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60,
                                  env={**os.environ, "PYTHONPATH": str(REPO), "HOME": d})
            assert proc.returncode == 1, proc.stderr
            line = one_line(proc.stderr)
            assert "read-only" in line or "Cannot open" in line, line
        assert sha(path) == before


# -- disk full ------------------------------------------------------------------------------------


def test_a_disk_full_during_a_pull_keeps_whole_pages_and_the_next_pull_resumes(
        paired_cli, device, monkeypatch):  # noqa: F811 - the fixtures imported above
    device.store.add_minutes(make_rows(4000, trusted=True))
    real_open = hostsync.db.open_connection

    def small_disk(path, *args, **kw):  # the real SQLite, given a disk that fills up
        db = real_open(path, *args, **kw)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages + 40}")
        return db

    monkeypatch.setattr(hostsync.db, "open_connection", small_disk)
    code, out, err = paired_cli("pull", "-q", "--page-size", "250", "--timezone", "UTC")
    assert code == 1 and out == ""
    line = one_line(err)
    assert "is full" in line and "run the same command again" in line
    stored = assert_cursor_not_ahead(Path(paired_cli.db))
    assert 0 < stored < 4000
    assert device.store.acknowledged_seq() <= stored  # the device never forgets an unsaved row

    monkeypatch.setattr(hostsync.db, "open_connection", real_open)
    code, out, err = paired_cli("pull", "-q")
    assert code == 0, err
    assert assert_cursor_not_ahead(Path(paired_cli.db)) == 4000
    with HostDB(Path(paired_cli.db)) as db:
        assert db.rows(DEVICE_ID) == device.store.minutes_after(0, 5000)


def test_commit_page_on_a_full_disk_says_full_not_cannot_rollback(tmp_path):
    path = tmp_path / "hostsync.sqlite3"
    host_db_with_rows(path, 500)
    db = HostDB(path)
    pages = db._db.execute("PRAGMA page_count").fetchone()[0]
    db._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(sqlite3.Error) as err:
        db.commit_page(DEVICE_ID, rows(2000, first=500), "store-a")
    assert "cannot rollback" not in str(err.value)
    assert "is full" in describe(err.value, path)
    assert db.stores(DEVICE_ID)[0].cursor == 500
    db.close()
    assert assert_cursor_not_ahead(path) == 500


# -- the caregiver's laptop: private files -------------------------------------------------


def test_the_database_is_0600_in_a_0700_folder(tmp_path):
    path = tmp_path / "new" / "deeper" / "hostsync.sqlite3"
    host_db_with_rows(path, 500)
    with HostDB(path):  # while open: -wal and -shm exist
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    assert set(modes) >= {"hostsync.sqlite3"}
    assert all(mode == 0o600 for mode in modes.values()), modes
    for folder in (path.parent, path.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_an_older_world_readable_database_is_narrowed_to_0600(tmp_path):
    path = tmp_path / "hostsync.sqlite3"
    host_db_with_rows(path, 10)
    os.chmod(path, 0o644)
    os.chmod(tmp_path, 0o755)
    with HostDB(path) as db:
        assert db.row_count(DEVICE_ID) == 10
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755  # a folder we did not make: left


def test_a_directory_where_the_database_should_be_is_one_line(tmp_path):
    (tmp_path / "x.sqlite3").mkdir()
    with pytest.raises(HostDBError, match="not a file"):
        HostDB(tmp_path / "x.sqlite3")


@pytest.mark.skipif(sys.platform != "linux", reason="XDG_DATA_HOME places the default on Linux")
def test_the_default_folder_is_made_or_narrowed_to_0700(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HOSTSYNC_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert main(["devices"]) == 0
    folder = tmp_path / "data" / "hostsync"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "hostsync.sqlite3").stat().st_mode) == 0o600
    os.chmod(folder, 0o755)  # as an older hostsync left it
    assert main(["devices"]) == 0
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "No devices yet" in capsys.readouterr().out
