"""The caregiver's database: paired devices, their stores, minute rows and last known config.

One SQLite file (default in the user data directory). Minute rows are keyed by
(device_id, store_id, seq): a page pulled twice (after a cut cable) is stored once, and a
re-flashed card (a new store, its seqs restarting at 1) is a new history beside the old one. A
page and that store's cursor move in ONE transaction, and only then is the page acknowledged to
the device. The schema is versioned (PRAGMA user_version) and migrated in place.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from device.config import WearerConfig
from device.store import MinuteRow
from hostsync.dbfile import HostDBError, describe, open_connection

DB_FILENAME = "hostsync.sqlite3"

# Versioned migrations, applied in order, one transaction each; PRAGMA user_version is the
# number applied. 1 is the original schema (CREATE IF NOT EXISTS, so databases made before
# versioning pass through it unchanged); 2 adds store epochs.
_M1_ORIGINAL = [
    """CREATE TABLE IF NOT EXISTS devices (
        device_id TEXT PRIMARY KEY,
        label TEXT NOT NULL DEFAULT '',
        secret TEXT,
        cursor INTEGER NOT NULL DEFAULT 0,
        last_sync REAL,
        paired_at REAL
    )""",
    """CREATE TABLE IF NOT EXISTS minutes (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        seq INTEGER NOT NULL,
        start_utc INTEGER NOT NULL,
        steps INTEGER NOT NULL,
        cadence_spm REAL NOT NULL,
        moderate INTEGER NOT NULL,
        chip_steps INTEGER,
        clock_trusted INTEGER NOT NULL,
        boot_id TEXT NOT NULL,
        mono_start REAL NOT NULL,
        UNIQUE (device_id, seq)
    )""",
    "CREATE INDEX IF NOT EXISTS minutes_by_time ON minutes (device_id, start_utc)",
    """CREATE TABLE IF NOT EXISTS configs (
        device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
        json TEXT NOT NULL,
        updated REAL NOT NULL
    )""",
]
# Rows keyed by (device, store, seq): a re-flashed card is a new history. Rows pulled before
# this version keep store_id '' (the "legacy" store) until the device's store claims them.
_M2_STORE_EPOCHS = [
    """CREATE TABLE stores (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        store_id TEXT NOT NULL,
        cursor INTEGER NOT NULL DEFAULT 0,
        first_seen REAL NOT NULL,
        last_sync REAL,
        PRIMARY KEY (device_id, store_id)
    )""",
    """INSERT INTO stores (device_id, store_id, cursor, first_seen, last_sync)
        SELECT device_id, '', cursor, COALESCE(paired_at, last_sync, 0), last_sync FROM devices
        WHERE cursor > 0 OR device_id IN (SELECT device_id FROM minutes)""",
    """CREATE TABLE minutes_v2 (
        device_id TEXT NOT NULL REFERENCES devices(device_id),
        store_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        start_utc INTEGER NOT NULL,
        steps INTEGER NOT NULL,
        cadence_spm REAL NOT NULL,
        moderate INTEGER NOT NULL,
        chip_steps INTEGER,
        clock_trusted INTEGER NOT NULL,
        boot_id TEXT NOT NULL,
        mono_start REAL NOT NULL,
        UNIQUE (device_id, store_id, seq)
    )""",
    """INSERT INTO minutes_v2 SELECT device_id, '', seq, start_utc, steps, cadence_spm, moderate,
        chip_steps, clock_trusted, boot_id, mono_start FROM minutes""",
    "DROP TABLE minutes",
    "ALTER TABLE minutes_v2 RENAME TO minutes",
    "CREATE INDEX minutes_by_time ON minutes (device_id, start_utc)",
    "ALTER TABLE devices ADD COLUMN store_id TEXT",  # the store it holds now (last HELLO)
    "UPDATE devices SET store_id = '' WHERE device_id IN (SELECT device_id FROM stores)",
]
# The fuel gauge's charge at each minute (null from devices without one).
_M3_BATTERY = ["ALTER TABLE minutes ADD COLUMN battery_percent REAL"]
# Each minute's wear evidence (issue 13; null from older firmware): device/core/wear.py.
_M4_WEAR = ["ALTER TABLE minutes ADD COLUMN wear_active_s INTEGER",
            "ALTER TABLE minutes ADD COLUMN wear_turned INTEGER",
            "ALTER TABLE minutes ADD COLUMN temp_c REAL"]
MIGRATIONS = (_M1_ORIGINAL, _M2_STORE_EPOCHS, _M3_BATTERY, _M4_WEAR)
SCHEMA_VERSION = len(MIGRATIONS)
#: The highest seq the host accepts (JavaScript-safe; a device writing a minute a millisecond
#: would need 285,000 years to reach it), so a broken or hostile device cannot park the cursor
#: at 2**62.
MAX_SEQ = 2**53


def default_db_path() -> Path:
    """HOSTSYNC_DB, else the platform's user data directory (platformdirs if installed)."""
    env = os.environ.get("HOSTSYNC_DB")
    if env:
        return Path(env)
    try:
        import platformdirs

        base = Path(platformdirs.user_data_dir("hostsync", appauthor=False))
    except ImportError:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
        base = base / "hostsync"
    return base / DB_FILENAME


@dataclass(frozen=True)
class DeviceRecord:
    """cursor: the host's cursor in the store the device held at its last HELLO (store_id)."""

    device_id: str
    label: str
    secret: bytes | None
    cursor: int
    last_sync: float | None
    store_id: str | None = None


@dataclass(frozen=True)
class StoreRecord:
    """One history of a device: the rows of one store (one card image), and its cursor."""

    device_id: str
    store_id: str
    cursor: int
    first_seen: float
    last_sync: float | None
    rows: int


class HostDB:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._db = open_connection(self.path)  # 0600 in a 0700 folder; faults in one line
        try:
            self._migrate()
        except (OSError, sqlite3.Error) as e:
            self._db.close()
            raise HostDBError(describe(e, self.path)) from None

    def _migrate(self) -> None:
        """Bring the schema up to SCHEMA_VERSION, one transaction per step."""
        db = self._db
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise HostDBError(f"The database {self.path} was written by a newer hostsync "
                              f"(schema {version}, this one knows {SCHEMA_VERSION}): update "
                              "hostsync.")
        for number in range(version + 1, SCHEMA_VERSION + 1):
            db.execute("BEGIN IMMEDIATE")
            try:
                for statement in MIGRATIONS[number - 1]:
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HostDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- devices ------------------------------------------------------------------------------

    def device(self, device_id: str) -> DeviceRecord | None:
        r = self._db.execute(
            "SELECT d.device_id, d.label, d.secret, COALESCE(s.cursor, 0), d.last_sync, "
            "d.store_id FROM devices d LEFT JOIN stores s "
            "ON s.device_id = d.device_id AND s.store_id = d.store_id WHERE d.device_id = ?",
            (device_id,),
        ).fetchone()
        if r is None:
            return None
        return DeviceRecord(r[0], r[1], bytes.fromhex(r[2]) if r[2] else None, r[3], r[4], r[5])

    def devices(self) -> list[DeviceRecord]:
        ids = [r[0] for r in self._db.execute("SELECT device_id FROM devices ORDER BY device_id")]
        return [d for i in ids if (d := self.device(i)) is not None]

    def save_pairing(self, device_id: str, secret: bytes) -> None:
        self._db.execute(
            "INSERT INTO devices (device_id, secret, paired_at) VALUES (?, ?, ?) "
            "ON CONFLICT(device_id) DO UPDATE SET secret = excluded.secret, "
            "paired_at = excluded.paired_at",
            (device_id, secret.hex(), time.time()),
        )

    def forget(self, device_id: str) -> int:
        """Delete a device: its pairing, stores, rows and config. Returns the rows deleted."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            n = db.execute("DELETE FROM minutes WHERE device_id = ?", (device_id,)).rowcount
            for table in ("stores", "configs", "devices"):
                db.execute(f"DELETE FROM {table} WHERE device_id = ?", (device_id,))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return int(n)

    # -- stores -------------------------------------------------------------------------------

    def open_store(self, device_id: str, store_id: str, *, adopt_legacy: bool = False,
                   when: float | None = None) -> StoreRecord:
        """The device now holds store ``store_id``: make it its current store (a new, empty
        history if unseen). ``adopt_legacy``: the device says this store predates store ids,
        so rows pulled from it before the upgrade (store '') become this store's."""
        db = self._db
        now = time.time() if when is None else when
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR IGNORE INTO devices (device_id) VALUES (?)", (device_id,))
            known = db.execute("SELECT 1 FROM stores WHERE device_id = ? AND store_id = ?",
                               (device_id, store_id)).fetchone()
            legacy = db.execute("SELECT cursor FROM stores WHERE device_id = ? AND store_id = ''",
                                (device_id,)).fetchone()
            if adopt_legacy and not known and legacy is not None and store_id:
                db.execute("UPDATE minutes SET store_id = ? WHERE device_id = ? AND store_id = ''",
                           (store_id, device_id))
                db.execute("UPDATE stores SET store_id = ? WHERE device_id = ? AND store_id = ''",
                           (store_id, device_id))
            else:
                db.execute("INSERT OR IGNORE INTO stores (device_id, store_id, first_seen) "
                           "VALUES (?, ?, ?)", (device_id, store_id, now))
            db.execute("UPDATE devices SET store_id = ? WHERE device_id = ?",
                       (store_id, device_id))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        rec = self.store(device_id, store_id)
        assert rec is not None
        return rec

    def store(self, device_id: str, store_id: str) -> StoreRecord | None:
        found = self.stores(device_id, store_id)
        return found[0] if found else None

    def stores(self, device_id: str, store_id: str | None = None) -> list[StoreRecord]:
        """The device's histories, oldest first (one, or only ``store_id``)."""
        sql = ("SELECT s.device_id, s.store_id, s.cursor, s.first_seen, s.last_sync, "
               "(SELECT COUNT(*) FROM minutes m WHERE m.device_id = s.device_id "
               "AND m.store_id = s.store_id) FROM stores s WHERE s.device_id = ?")
        args: tuple = (device_id,)
        if store_id is not None:
            sql += " AND s.store_id = ?"
            args += (store_id,)
        return [StoreRecord(*r) for r in
                self._db.execute(sql + " ORDER BY s.first_seen, s.store_id", args)]

    def set_label(self, device_id: str, label: str) -> None:
        self._db.execute("UPDATE devices SET label = ? WHERE device_id = ?", (label, device_id))

    def mark_synced(self, device_id: str, when: float | None = None,
                    store_id: str | None = None) -> None:
        when = time.time() if when is None else when
        self._db.execute("UPDATE devices SET last_sync = ? WHERE device_id = ?", (when, device_id))
        if store_id is not None:
            self._db.execute("UPDATE stores SET last_sync = ? WHERE device_id = ? AND "
                             "store_id = ?", (when, device_id, store_id))

    # -- minutes ------------------------------------------------------------------------------

    def commit_page(self, device_id: str, rows: Sequence[MinuteRow], store_id: str) -> int:
        """Insert a page of one store (duplicates ignored) and move that store's cursor, in one
        transaction. Returns the new cursor."""
        db = self._db
        top = max((r.seq for r in rows), default=0)
        if not 0 <= top <= MAX_SEQ:
            raise HostDBError(f"Refusing row number {top} from {device_id}: out of range.")
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT OR IGNORE INTO devices (device_id) VALUES (?)", (device_id,))
            db.execute("INSERT OR IGNORE INTO stores (device_id, store_id, first_seen) "
                       "VALUES (?, ?, ?)", (device_id, store_id, time.time()))
            db.executemany(
                "INSERT OR IGNORE INTO minutes (device_id, store_id, seq, start_utc, steps, "
                "cadence_spm, moderate, chip_steps, clock_trusted, boot_id, mono_start, "
                "battery_percent, wear_active_s, wear_turned, temp_c) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(device_id, store_id, r.seq, r.start_utc, r.steps, r.cadence_spm,
                  int(r.moderate), r.chip_steps, int(r.clock_trusted), r.boot_id, r.mono_start,
                  getattr(r, "battery_percent", None), getattr(r, "wear_active_s", None),
                  None if getattr(r, "wear_turned", None) is None else int(r.wear_turned),
                  getattr(r, "temp_c", None))
                 for r in rows],
            )
            db.execute("UPDATE stores SET cursor = MAX(cursor, ?) WHERE device_id = ? AND "
                       "store_id = ?", (top, device_id, store_id))
            cursor = db.execute("SELECT cursor FROM stores WHERE device_id = ? AND store_id = ?",
                                (device_id, store_id)).fetchone()[0]
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLITE_FULL may have rolled it back already
                db.execute("ROLLBACK")
            raise
        return int(cursor)

    def rows(self, device_id: str, store_id: str | None = None) -> list[MinuteRow]:
        """The device's rows: every store's (oldest store first, each in seq order), or one's."""
        where, args = "m.device_id = ?", (device_id,)
        if store_id is not None:
            where, args = where + " AND m.store_id = ?", (device_id, store_id)
        return [
            MinuteRow(start_utc=r[1], steps=r[2], cadence_spm=r[3], moderate=bool(r[4]),
                      chip_steps=r[5], clock_trusted=bool(r[6]), boot_id=r[7], mono_start=r[8],
                      seq=r[0], battery_percent=r[9], wear_active_s=r[10],
                      wear_turned=None if r[11] is None else bool(r[11]), temp_c=r[12])
            for r in self._db.execute(
                "SELECT m.seq, m.start_utc, m.steps, m.cadence_spm, m.moderate, m.chip_steps, "
                "m.clock_trusted, m.boot_id, m.mono_start, m.battery_percent, "
                "m.wear_active_s, m.wear_turned, m.temp_c "
                "FROM minutes m LEFT JOIN stores s "
                "ON s.device_id = m.device_id AND s.store_id = m.store_id "
                f"WHERE {where} ORDER BY s.first_seen, m.store_id, m.seq",
                args,
            )
        ]

    def row_count(self, device_id: str, store_id: str | None = None) -> int:
        if store_id is None:
            sql, args = "SELECT COUNT(*) FROM minutes WHERE device_id = ?", (device_id,)
        else:
            sql = "SELECT COUNT(*) FROM minutes WHERE device_id = ? AND store_id = ?"
            args = (device_id, store_id)
        return int(self._db.execute(sql, args).fetchone()[0])

    # -- config -------------------------------------------------------------------------------

    def save_config(self, device_id: str, cfg: WearerConfig) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO configs (device_id, json, updated) VALUES (?, ?, ?)",
            (device_id, json.dumps(cfg.to_json(), sort_keys=True), time.time()),
        )
        if cfg.wearer_label:
            self.set_label(device_id, cfg.wearer_label)

    def config(self, device_id: str) -> WearerConfig | None:
        r = self._db.execute("SELECT json FROM configs WHERE device_id = ?",
                             (device_id,)).fetchone()
        if r is None:
            return None
        try:
            return WearerConfig.from_json(json.loads(r[0]))
        except ValueError:
            return None
