"""The caregiver's database: paired devices, their minute rows and last known config.

One SQLite file (default in the user data directory). Minute rows are keyed by
(device_id, seq), so a page pulled twice (after a cut cable) is stored once; a page and the
device's cursor move in ONE transaction, and only then is the page acknowledged to the device.
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

DB_FILENAME = "hostsync.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY,
    label TEXT NOT NULL DEFAULT '',
    secret TEXT,
    cursor INTEGER NOT NULL DEFAULT 0,
    last_sync REAL,
    paired_at REAL
);
CREATE TABLE IF NOT EXISTS minutes (
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
);
CREATE INDEX IF NOT EXISTS minutes_by_time ON minutes (device_id, start_utc);
CREATE TABLE IF NOT EXISTS configs (
    device_id TEXT PRIMARY KEY REFERENCES devices(device_id),
    json TEXT NOT NULL,
    updated REAL NOT NULL
);
"""


class HostDBError(Exception):
    """The host database cannot be used; the message names the file."""


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
    device_id: str
    label: str
    secret: bytes | None
    cursor: int
    last_sync: float | None


class HostDB:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as e:
            raise HostDBError(f"Cannot use the database {self.path}: {e}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HostDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- devices ------------------------------------------------------------------------------

    def device(self, device_id: str) -> DeviceRecord | None:
        r = self._db.execute(
            "SELECT device_id, label, secret, cursor, last_sync FROM devices WHERE device_id = ?",
            (device_id,),
        ).fetchone()
        if r is None:
            return None
        return DeviceRecord(r[0], r[1], bytes.fromhex(r[2]) if r[2] else None, r[3], r[4])

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

    def set_label(self, device_id: str, label: str) -> None:
        self._db.execute("UPDATE devices SET label = ? WHERE device_id = ?", (label, device_id))

    def mark_synced(self, device_id: str, when: float | None = None) -> None:
        self._db.execute("UPDATE devices SET last_sync = ? WHERE device_id = ?",
                         (time.time() if when is None else when, device_id))

    # -- minutes ------------------------------------------------------------------------------

    def commit_page(self, device_id: str, rows: Sequence[MinuteRow]) -> int:
        """Insert a page (duplicates ignored) and move the cursor, in one transaction.
        Returns the new cursor."""
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO minutes (device_id, seq, start_utc, steps, cadence_spm, "
                "moderate, chip_steps, clock_trusted, boot_id, mono_start) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(device_id, r.seq, r.start_utc, r.steps, r.cadence_spm, int(r.moderate),
                  r.chip_steps, int(r.clock_trusted), r.boot_id, r.mono_start) for r in rows],
            )
            top = max((r.seq for r in rows), default=0)
            db.execute("UPDATE devices SET cursor = MAX(cursor, ?) WHERE device_id = ?",
                       (top, device_id))
            cursor = db.execute("SELECT cursor FROM devices WHERE device_id = ?",
                                (device_id,)).fetchone()[0]
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return int(cursor)

    def rows(self, device_id: str) -> list[MinuteRow]:
        return [
            MinuteRow(start_utc=r[1], steps=r[2], cadence_spm=r[3], moderate=bool(r[4]),
                      chip_steps=r[5], clock_trusted=bool(r[6]), boot_id=r[7], mono_start=r[8],
                      seq=r[0])
            for r in self._db.execute(
                "SELECT seq, start_utc, steps, cadence_spm, moderate, chip_steps, clock_trusted, "
                "boot_id, mono_start FROM minutes WHERE device_id = ? ORDER BY seq",
                (device_id,),
            )
        ]

    def row_count(self, device_id: str) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM minutes WHERE device_id = ?",
                                    (device_id,)).fetchone()[0])

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
