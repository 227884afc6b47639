"""Store epochs: a re-flashed or cloned card is a new history, never mixed with the old one.

Real device stores and agents on pty bridges, the real host database and pull.
"""

from __future__ import annotations

import collections
import shutil
import sqlite3
import time

import pytest

from device.app import make_device_id
from device.store import MinuteRow, Store
from device.sync import identity
from hostsync.cli import main as hostsync_main
from hostsync.db import SCHEMA_VERSION, HostDB
from hostsync.link import DeviceError
from hostsync.pull import sync_device
from tests.sync_harness import DEVICE_ID, T0, authed, connect, make_rows, pair, start_device

BOARD_A = "00000000a1b2c3d4"
BOARD_B = "00000000e5f60718"


def seqd(rows: list[MinuteRow], seqs: list[int]) -> list[MinuteRow]:
    return [MinuteRow(**{**r.__dict__, "seq": s}) for r, s in zip(rows, seqs, strict=True)]


def daily_steps(rows: list[MinuteRow]) -> dict[int, int]:
    days: dict[int, int] = collections.Counter()
    for r in rows:
        days[r.start_utc // 86400] += r.steps
    return dict(days)


def pull_all(dev, db: HostDB, secret: bytes, when: float) -> None:
    session = authed(dev, secret)
    try:
        sync_device(session, db, timezone="UTC", page_size=64, now=lambda: when,
                    confirm_clock=lambda _host, _device: True)  # these tests jump in time
    finally:
        session.link.close()


@pytest.mark.parametrize("second_rows", [100, 900], ids=["fewer", "more"])
def test_a_reflashed_card_is_a_new_history_and_no_minute_is_lost_or_doubled(tmp_path, capsys,
                                                                            second_rows):
    db = HostDB(tmp_path / "host.sqlite3")
    first_dir = tmp_path / "first"
    first_dir.mkdir()
    dev = start_device(first_dir)
    rows_a = make_rows(400)  # days 0..
    seqs = dev.store.add_minutes(rows_a)
    rows_a = seqd(rows_a, seqs)
    secret = pair(dev)
    db.save_pairing(DEVICE_ID, secret)
    pull_all(dev, db, secret, T0 + 3 * 86400)
    store_a = identity.store_id(dev.store)
    dev.close()

    # the card is re-imaged: same board (same device id), a new empty store, seqs from 1 again
    second_dir = tmp_path / "second"
    second_dir.mkdir()
    dev = start_device(second_dir)
    try:
        later = make_rows(second_rows, first=5000)  # later days
        rows_b = seqd(later, dev.store.add_minutes(later))
        store_b = identity.store_id(dev.store)
        assert store_b != store_a and rows_b[0].seq == 1
        # the old pairing does not open the new store: it must be paired again
        session = connect(dev)
        with pytest.raises(DeviceError):
            session.authenticate(secret)
        session.link.close()
        secret = pair(dev)
        db.save_pairing(DEVICE_ID, secret)
        assert hostsync_main(["--port", dev.bridge.host_path, "--db", str(db.path),
                              "status"]) == 0
        status = capsys.readouterr().out
        assert f"Not yet pulled: {second_rows}" in " ".join(status.split())
        pull_all(dev, db, secret, T0 + 30 * 86400)
        assert dev.store.acknowledged_seq() == second_rows
    finally:
        dev.close()

    assert db.rows(DEVICE_ID, store_a) == rows_a
    assert db.rows(DEVICE_ID, store_b) == rows_b
    host = db.rows(DEVICE_ID)
    assert len(host) == 400 + second_rows  # every minute of both stores, exactly once
    keys = [(r.boot_id, r.start_utc) for r in host]
    assert len(set(keys)) == len(keys)
    assert daily_steps(host) == daily_steps(rows_a + rows_b)
    assert [s.store_id for s in db.stores(DEVICE_ID)] == [store_a, store_b]
    assert db.device(DEVICE_ID).store_id == store_b
    db.close()


def test_a_cloned_card_in_another_board_is_refused_until_paired_and_never_mixed(tmp_path):
    db = HostDB(tmp_path / "host.sqlite3")
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a_dir.mkdir()
    dev_a = start_device(a_dir, board_serial=BOARD_A)
    rows = make_rows(300)
    rows = seqd(rows, dev_a.store.add_minutes(rows))
    secret_a = pair(dev_a)
    db.save_pairing(dev_a.device_id, secret_a)
    pull_all(dev_a, db, secret_a, T0 + 2 * 86400)
    id_a = dev_a.device_id
    dev_a.close()

    shutil.copytree(a_dir / "data", b_dir / "data")  # the card, copied byte for byte
    dev_a = start_device(a_dir, board_serial=BOARD_A)  # the original, back in its own board
    dev_b = start_device(b_dir, board_serial=BOARD_B)  # the clone, in a second Pi
    try:
        assert dev_a.device_id == id_a and dev_b.device_id != id_a
        assert identity.store_id(dev_b.store) != identity.store_id(dev_a.store)
        assert dev_b.store.get_meta(identity.META_SECRET) is None
        assert dev_b.store.acknowledged_seq() == 0  # nothing pruned before its new host has it
        # refused: the clone holds no pairing, so neither the old secret nor hostsync gets in
        session = connect(dev_b)
        with pytest.raises(DeviceError) as exc:
            session.authenticate(secret_a)
        session.link.close()
        assert exc.value.code == "not_paired"
        rc = hostsync_main(["--port", dev_b.bridge.host_path, "--db", str(db.path), "pull",
                            "--timezone", "UTC"])
        assert rc == 1
        assert db.device(dev_b.device_id) is None or db.row_count(dev_b.device_id) == 0
        # paired: the clone is a device of its own
        secret_b = pair(dev_b)
        db.save_pairing(dev_b.device_id, secret_b)
        dev_b.store.add_minutes(make_rows(10, first=9000))
        pull_all(dev_b, db, secret_b, T0 + 40 * 86400)
        # the original still works with its own pairing and history
        dev_a.store.add_minutes(make_rows(5, first=8000))
        pull_all(dev_a, db, secret_a, T0 + 41 * 86400)
        assert db.row_count(id_a) == 305 and db.rows(id_a)[:300] == rows
        assert db.row_count(dev_b.device_id) == 310
        assert len(db.stores(id_a)) == 1 and len(db.stores(dev_b.device_id)) == 1
    finally:
        dev_a.close()
        dev_b.close()
        db.close()


def test_make_device_id_keeps_its_board_and_renews_on_another(tmp_path):
    with Store.in_dir(tmp_path) as store:
        first = make_device_id(store, BOARD_A)
        sid = identity.store_id(store)
        assert first == "WC-A1B2C3D4" and make_device_id(store, BOARD_A) == first
        assert identity.store_id(store) == sid
        store.set_meta(identity.META_SECRET, "ab" * 32)
        assert make_device_id(store, "") == first  # an unreadable serial is not a move
        assert store.get_meta(identity.META_SECRET) == "ab" * 32
        moved = make_device_id(store, BOARD_B)
        assert moved == "WC-E5F60718" and identity.store_id(store) != sid
        assert store.get_meta(identity.META_SECRET) is None


# the host schema as it was before versioning (hostsync/db.py at the first release)
OLD_SCHEMA = """
CREATE TABLE devices (device_id TEXT PRIMARY KEY, label TEXT NOT NULL DEFAULT '', secret TEXT,
    cursor INTEGER NOT NULL DEFAULT 0, last_sync REAL, paired_at REAL);
CREATE TABLE minutes (device_id TEXT NOT NULL REFERENCES devices(device_id),
    seq INTEGER NOT NULL, start_utc INTEGER NOT NULL, steps INTEGER NOT NULL,
    cadence_spm REAL NOT NULL, moderate INTEGER NOT NULL, chip_steps INTEGER,
    clock_trusted INTEGER NOT NULL, boot_id TEXT NOT NULL, mono_start REAL NOT NULL,
    UNIQUE (device_id, seq));
CREATE INDEX minutes_by_time ON minutes (device_id, start_utc);
CREATE TABLE configs (device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
    json TEXT NOT NULL, updated REAL NOT NULL);
"""


def old_host_db(path, secret: bytes, rows: list[MinuteRow]) -> None:
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    con.execute("INSERT INTO devices VALUES (?, 'Zelda', ?, ?, ?, ?)",
                (DEVICE_ID, secret.hex(), rows[-1].seq, time.time(), time.time()))
    con.executemany("INSERT INTO minutes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(DEVICE_ID, r.seq, r.start_utc, r.steps, r.cadence_spm, int(r.moderate),
                      r.chip_steps, int(r.clock_trusted), r.boot_id, r.mono_start)
                     for r in rows])
    con.commit()
    con.close()


def test_an_existing_host_database_upgrades_in_place_and_keeps_its_history(tmp_path):
    """A caregiver's database from before store ids, and a device upgraded from before them:
    the old rows become the device store's, the pull resumes after them, nothing twice."""
    dev = start_device(tmp_path)
    try:
        rows = make_rows(250)
        rows = seqd(rows, dev.store.add_minutes(rows))
        dev.store.set_meta(identity.META_STORE_ID, None)  # as a store made before store ids
        secret = pair(dev)
        path = tmp_path / "old.sqlite3"
        old_host_db(path, secret, rows[:180])  # it had pulled 180 rows
        dev.agent.stop()
        dev.agent.start()  # the upgraded firmware starts: the store gets its id now
        assert dev.agent.connected.wait(5)
        db = HostDB(path)
        assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == \
            SCHEMA_VERSION
        assert db.rows(DEVICE_ID) == rows[:180] and db.device(DEVICE_ID).secret == secret
        assert [(s.store_id, s.cursor) for s in db.stores(DEVICE_ID)] == [("", 180)]
        pull_all(dev, db, secret, T0 + 5 * 86400)
        sid = identity.store_id(dev.store)
        assert identity.store_is_legacy(dev.store)
        assert db.rows(DEVICE_ID) == rows and db.rows(DEVICE_ID, sid) == rows
        assert [(s.store_id, s.cursor) for s in db.stores(DEVICE_ID)] == [(sid, 250)]
        db.close()
        HostDB(path).close()  # opening an up-to-date database again changes nothing
    finally:
        dev.close()


def test_devices_and_forget_commands(tmp_path, capsys):
    db_path = tmp_path / "host.sqlite3"
    dev = start_device(tmp_path)
    try:
        dev.store.add_minutes(make_rows(30))
        secret = pair(dev)
        with HostDB(db_path) as db:
            db.save_pairing(DEVICE_ID, secret)
            pull_all(dev, db, secret, T0 + 86400)
    finally:
        dev.close()
    assert hostsync_main(["--db", str(db_path), "devices"]) == 0
    out = capsys.readouterr().out
    assert DEVICE_ID in out and "30 rows" in out and "paired" in out
    assert hostsync_main(["--db", str(db_path), "forget", DEVICE_ID]) == 2  # not a terminal
    assert "--yes" in capsys.readouterr().err
    assert hostsync_main(["--db", str(db_path), "forget", "WC-NOPE"]) == 2
    assert hostsync_main(["--db", str(db_path), "forget", DEVICE_ID, "--yes"]) == 0
    assert "30 minute rows deleted" in capsys.readouterr().out
    with HostDB(db_path) as db:
        assert db.devices() == [] and db.row_count(DEVICE_ID) == 0
