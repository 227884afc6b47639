"""The minute store: one SQLite file on the SD card holding minute rows, config, meta and events.

Why these settings:
- WAL journal + ``synchronous=FULL``: every commit fsyncs the WAL, so a power cut loses at most the
  minute still being counted in memory, and WAL never leaves a half-written database (a torn WAL
  tail is ignored on recovery). With NORMAL a power cut could roll back every commit since the last
  checkpoint (hours of minutes); one fsync a minute costs nothing on an SD card.
- One transaction per :meth:`Store.add_minutes` call (the service calls it once a minute), nothing
  per sample.
- ``seq INTEGER PRIMARY KEY AUTOINCREMENT``: seqs are never reused, even after prune, so the host's
  cursor stays valid forever.
- Rows are deleted only by :meth:`Store.prune`, and only when the host acknowledged them.
- SQLITE_FULL rolls the transaction back and raises :class:`StoreFull`; the database stays intact
  and the caller keeps its rows in memory to retry.
- A file that is not an SQLite database (or fails the integrity check) is refused with
  :class:`StoreError` naming the path and is never touched.
"""

from __future__ import annotations

import json
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.config import ConfigError, WearerConfig

log = logging.getLogger(__name__)

STORE_FILENAME = "walkcoach.sqlite3"
EVENTS_KEEP = 2000  # the events table is a ring: older events are dropped beyond this many
BUSY_TIMEOUT_MS = 5000

META_ACKNOWLEDGED = "acknowledged_seq"
META_FIRST_DATA = "first_data_utc"


class StoreError(Exception):
    """The store cannot be used (not a database, corrupt, newer schema, bad argument...)."""


class StoreFull(StoreError):
    """SQLITE_FULL (disk or page limit): nothing of the call was written; keep rows and retry."""


@dataclass(frozen=True)
class MinuteRow:
    """One wall-clock minute as recorded. See /work/notes/store_api.md for the field meanings."""

    start_utc: int
    steps: int
    cadence_spm: float
    moderate: bool
    chip_steps: int | None
    clock_trusted: bool
    boot_id: str
    mono_start: float
    seq: int = 0
    battery_percent: float | None = None  # the fuel gauge at the minute's end; None: no gauge
    # Wear evidence (device/core/wear.py WearMinute; None: not measured, e.g. older firmware):
    wear_active_s: int | None = None  # seconds that moved above the sensor's noise (0-60)
    wear_turned: bool | None = None   # a still minute turned from the previous still one
    temp_c: float | None = None       # the IMU's mean die temperature (°C)


def _m1_minutes_config_meta(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE minutes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            start_utc INTEGER NOT NULL,
            steps INTEGER NOT NULL,
            cadence_spm REAL NOT NULL,
            moderate INTEGER NOT NULL,
            chip_steps INTEGER,
            clock_trusted INTEGER NOT NULL,
            boot_id TEXT NOT NULL,
            mono_start REAL NOT NULL)"""
    )
    db.execute("CREATE TABLE config (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _m2_events_and_indexes(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            time REAL NOT NULL,
            kind TEXT NOT NULL,
            detail TEXT NOT NULL)"""
    )
    db.execute("CREATE INDEX minutes_by_time ON minutes (start_utc)")
    db.execute("CREATE INDEX minutes_untrusted ON minutes (boot_id) WHERE clock_trusted = 0")


# Applied in order, one transaction each; the schema version (PRAGMA user_version) is the number
# of migrations applied. Never edit a released migration: append a new one.
def _m3_battery_per_minute(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE minutes ADD COLUMN battery_percent REAL")


def _m4_wear_per_minute(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE minutes ADD COLUMN wear_active_s INTEGER")
    db.execute("ALTER TABLE minutes ADD COLUMN wear_turned INTEGER")
    db.execute("ALTER TABLE minutes ADD COLUMN temp_c REAL")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (
    _m1_minutes_config_meta,
    _m2_events_and_indexes,
    _m3_battery_per_minute,
    _m4_wear_per_minute,
)
SCHEMA_VERSION = len(MIGRATIONS)

_COLUMNS = (
    "seq, start_utc, steps, cadence_spm, moderate, chip_steps, clock_trusted, boot_id, mono_start, "
    "CASE WHEN typeof(battery_percent) IN ('real', 'integer') THEN battery_percent END, "
    "CASE WHEN typeof(wear_active_s) = 'integer' AND wear_active_s BETWEEN 0 AND 60 "
    "THEN wear_active_s END, "
    "CASE WHEN typeof(wear_turned) = 'integer' THEN wear_turned END, "
    "CASE WHEN typeof(temp_c) IN ('real', 'integer') THEN temp_c END"
)


# A minute row every reader can use. SQLite keeps whatever it is given (a hand edit, a broken
# tool), so 'abc' can sit in `steps`; such rows are skipped by every read (and reported once by
# damaged_minute_seqs()) instead of crashing the firmware loop or the sync. They stay in the file.
_READABLE = (
    "typeof(start_utc) = 'integer' AND typeof(steps) = 'integer' AND steps >= 0 "
    "AND typeof(cadence_spm) IN ('real', 'integer') AND typeof(moderate) = 'integer' "
    "AND (chip_steps IS NULL OR typeof(chip_steps) = 'integer') "
    "AND typeof(clock_trusted) = 'integer' AND typeof(boot_id) = 'text' "
    "AND typeof(mono_start) IN ('real', 'integer')"
)


def _row(r: tuple) -> MinuteRow:
    return MinuteRow(
        seq=r[0],
        start_utc=r[1],
        steps=r[2],
        cadence_spm=r[3],
        moderate=bool(r[4]),
        chip_steps=r[5],
        clock_trusted=bool(r[6]),
        boot_id=r[7],
        mono_start=r[8],
        battery_percent=r[9] if len(r) > 9 else None,
        wear_active_s=r[10] if len(r) > 10 else None,
        wear_turned=None if len(r) <= 11 or r[11] is None else bool(r[11]),
        temp_c=r[12] if len(r) > 12 else None,
    )


def _is_full(e: sqlite3.Error) -> bool:
    return getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "is full" in str(e)


def _whole_number(text: object, default: int | None) -> int | None:
    """A meta value read as a whole number; `default` when it is missing or not one."""
    try:
        return int(str(text), 10) if text is not None else default
    except ValueError:
        return default


def _check_int(name: str, v: object, lo: int | None = None) -> None:
    if not isinstance(v, int) or isinstance(v, bool) or (lo is not None and v < lo):
        raise StoreError(f"{name} must be a whole number" + (f" >= {lo}" if lo is not None else ""))


def _check_row(i: int, r: MinuteRow) -> tuple:
    if not isinstance(r, MinuteRow):
        raise StoreError(f"row {i}: not a MinuteRow")
    _check_int(f"row {i}: start_utc", r.start_utc)
    if r.start_utc % 60:
        raise StoreError(f"row {i}: start_utc {r.start_utc} is not the start of a minute")
    _check_int(f"row {i}: steps", r.steps, 0)
    if r.chip_steps is not None:
        _check_int(f"row {i}: chip_steps", r.chip_steps, 0)
    for name in ("cadence_spm", "mono_start"):
        v = getattr(r, name)
        if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
            raise StoreError(f"row {i}: {name} must be a finite number")
    if not isinstance(r.boot_id, str):
        raise StoreError(f"row {i}: boot_id must be text")
    return (
        r.start_utc,
        r.steps,
        float(r.cadence_spm),
        int(bool(r.moderate)),
        r.chip_steps,
        int(bool(r.clock_trusted)),
        r.boot_id,
        float(r.mono_start),
        _battery(i, getattr(r, "battery_percent", None)),
        *_wear(i, r),
    )


def _wear(i: int, r: MinuteRow) -> tuple[int | None, int | None, float | None]:
    active, turned, temp = r.wear_active_s, r.wear_turned, r.temp_c
    if active is not None:
        _check_int(f"row {i}: wear_active_s", active, 0)
        if active > 60:
            raise StoreError(f"row {i}: wear_active_s must be 0 to 60 seconds")
    if turned is not None and not isinstance(turned, bool):
        raise StoreError(f"row {i}: wear_turned must be True, False or None")
    if temp is not None and (not isinstance(temp, int | float) or isinstance(temp, bool)
                             or not math.isfinite(temp)):
        raise StoreError(f"row {i}: temp_c must be a finite number or None")
    return active, None if turned is None else int(turned), None if temp is None else float(temp)


def _battery(i: int, v: object) -> float | None:
    if v is None:
        return None
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        raise StoreError(f"row {i}: battery_percent must be a finite number or None")
    return float(v)


class Store:
    """The device's SQLite store. Thread-safe (one lock); other processes may open the same file."""

    def __init__(self, path: Path, *, max_page_count: int | None = None) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._config_warned = False
        self._skip_damaged = False  # True once damaged minute rows were seen (see _READABLE)
        self._db = self._open(max_page_count)

    @classmethod
    def in_dir(cls, data_dir: Path, *, max_page_count: int | None = None) -> Store:
        """The store at data_dir/STORE_FILENAME (the directory is created if missing)."""
        return cls(Path(data_dir) / STORE_FILENAME, max_page_count=max_page_count)

    # -- opening -------------------------------------------------------------------------------

    def _open(self, max_page_count: int | None) -> sqlite3.Connection:
        p = self.path
        # Never open() the database file ourselves, not even to peek at its header: closing such
        # a descriptor drops every POSIX lock this process holds on the file (also those of our
        # other connections), and another process closing the store would then delete the live
        # -wal (SQLite's "How To Corrupt", section 2.2). SQLite itself says "not a database".
        try:
            if p.exists():
                if not p.is_file():
                    raise StoreError(f"store {p}: not a regular file")
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"store {p}: cannot open: {e.strerror or e}") from None
        try:
            db = sqlite3.connect(
                str(p), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1e3
            )
        except sqlite3.Error as e:
            raise StoreError(f"store {p}: cannot open: {e}") from None
        try:
            # Check before writing anything (setting WAL on a rollback-mode file writes its header).
            version = db.execute("PRAGMA user_version").fetchone()[0]
            check = db.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise StoreError(f"store {p}: database is corrupt ({check[0][0]}); left untouched")
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"store {p}: schema version {version} is newer than this firmware's "
                    f"{SCHEMA_VERSION}; left untouched"
                )
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise StoreError(f"store {p}: cannot switch to WAL journal (got {mode})")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            db.execute("PRAGMA journal_size_limit=4194304")
            if max_page_count is not None:
                _check_int("max_page_count", max_page_count, 1)
                db.execute(f"PRAGMA max_page_count={int(max_page_count)}")
            self._migrate(db)
        except StoreError:
            db.close()
            raise
        except sqlite3.Error as e:
            db.close()
            if isinstance(e, sqlite3.OperationalError) and _is_full(e):
                raise StoreFull(f"store {p}: storage full while opening") from None
            if getattr(e, "sqlite_errorcode", None) == sqlite3.SQLITE_NOTADB:
                raise StoreError(f"store {p}: not an SQLite database; left untouched") from None
            raise StoreError(f"store {p}: unusable SQLite file ({e}); left untouched") from None
        return db

    def _migrate(self, db: sqlite3.Connection) -> None:
        while True:
            db.execute("BEGIN IMMEDIATE")
            try:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version >= SCHEMA_VERSION:
                    db.execute("COMMIT")
                    return
                MIGRATIONS[version](db)
                db.execute(f"PRAGMA user_version={version + 1}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- plumbing ------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction; SQLITE_FULL -> rollback + StoreFull."""
        with self._lock:
            db = self._db
            if db is None:
                raise StoreError(f"store {self.path}: closed")
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.Error as e:
                if _is_full(e):
                    raise StoreFull(f"store {self.path}: storage full; rows kept in memory") from e
                raise StoreError(f"store {self.path}: {e}") from e

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            if self._db is None:
                raise StoreError(f"store {self.path}: closed")
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as e:
                raise StoreError(f"store {self.path}: {e}") from e

    # -- minutes -------------------------------------------------------------------------------

    def add_minutes(self, rows: Sequence[MinuteRow]) -> list[int]:
        """Write rows in ONE transaction and return their seqs (in order). Raises StoreError on
        an invalid row (nothing written) and StoreFull when storage is full (nothing written).
        """
        values = [_check_row(i, r) for i, r in enumerate(rows)]
        if not values:
            return []
        seqs: list[int] = []
        with self._tx() as db:
            for v in values:
                cur = db.execute(
                    "INSERT INTO minutes (start_utc, steps, cadence_spm, moderate, chip_steps, "
                    "clock_trusted, boot_id, mono_start, battery_percent, wear_active_s, "
                    "wear_turned, temp_c) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    v,
                )
                seqs.append(int(cur.lastrowid))
        return seqs

    def minutes_after(self, seq: int, limit: int = 500) -> list[MinuteRow]:
        """Rows with seq > `seq`, ordered by seq, at most `limit` (for sync)."""
        _check_int("seq", seq)
        _check_int("limit", limit, 0)
        rows = self._query(
            f"SELECT {_COLUMNS} FROM minutes WHERE seq > ? AND {_READABLE} ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [_row(r) for r in rows]

    def minutes_between(self, start_utc: int, end_utc: int) -> list[MinuteRow]:
        """Rows with start_utc <= row.start_utc < end_utc, ordered by start_utc then seq."""
        rows = self._query(
            f"SELECT {_COLUMNS} FROM minutes WHERE start_utc >= ? AND start_utc < ? "
            f"AND {_READABLE} ORDER BY start_utc, seq",
            (math.floor(start_utc), math.ceil(end_utc)),
        )
        return [_row(r) for r in rows]

    def minute_arrays_between(
        self, start_utc: int, end_utc: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start_utc, steps, moderate) arrays of the rows in [start_utc, end_utc) that hold
        steps: the lean read the screens' progress needs once a minute (minutes without steps
        add nothing to any total, and are most of a day)."""
        # This runs once a minute over weeks of rows: the per-row type check (a third of the
        # query's time) only once damaged rows are known to exist.
        check = f" AND {_READABLE}" if self._skip_damaged else ""
        rows = self._query(
            "SELECT start_utc, steps, moderate FROM minutes "
            f"WHERE start_utc >= ? AND start_utc < ? AND steps > 0{check}",
            (math.floor(start_utc), math.ceil(end_utc)),
        )
        try:
            data = np.asarray(rows, dtype=np.int64).reshape(-1, 3)
        except (ValueError, TypeError, OverflowError):
            if self._skip_damaged:
                raise StoreError(f"store {self.path}: unreadable minute rows") from None
            self._skip_damaged = True  # damaged since we looked: skip them from now on
            return self.minute_arrays_between(start_utc, end_utc)
        return data[:, 0], data[:, 1], data[:, 2].astype(bool)

    def damaged_minute_seqs(self, limit: int = 20) -> tuple[int, list[int]]:
        """(how many, the first `limit` seqs) of minute rows holding values of the wrong type
        (text in a number column...). Every read skips them; they are left as they are."""
        _check_int("limit", limit, 0)
        where = f"NOT ({_READABLE})"
        seqs = [int(r[0]) for r in self._query(
            f"SELECT seq FROM minutes WHERE {where} ORDER BY seq LIMIT ?", (limit + 1,))]
        self._skip_damaged = self._skip_damaged or bool(seqs)
        if len(seqs) <= limit:  # the usual case: one scan, nothing found
            return len(seqs), seqs
        return int(self._query(f"SELECT COUNT(*) FROM minutes WHERE {where}")[0][0]), seqs[:limit]

    def minute_count(self) -> int:
        """How many minute rows are stored."""
        return int(self._query("SELECT COUNT(*) FROM minutes")[0][0])

    def last_seq(self) -> int:
        """The highest seq ever assigned (0 for a new store); unchanged by prune."""
        r = self._query("SELECT seq FROM sqlite_sequence WHERE name = 'minutes'")
        return int(r[0][0]) if r else 0

    def acknowledge(self, seq: int) -> None:
        """The host has committed every row with seq <= `seq`. Never moves backwards; refuses a
        seq beyond last_seq() (that would let prune delete rows the host has not seen).
        """
        _check_int("acknowledged seq", seq, 0)
        with self._tx() as db:
            last = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'minutes'").fetchone()
            last_seq = int(last[0]) if last else 0
            if seq > last_seq:
                raise StoreError(f"cannot acknowledge seq {seq}: the last stored seq is {last_seq}")
            cur = db.execute("SELECT value FROM meta WHERE key = ?", (META_ACKNOWLEDGED,))
            old = cur.fetchone()
            if old is None or _whole_number(old[0], -1) < seq:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    (META_ACKNOWLEDGED, str(seq)),
                )

    def acknowledged_seq(self) -> int:
        """The highest seq the host has acknowledged (0 if none)."""
        return max(0, _whole_number(self.get_meta(META_ACKNOWLEDGED), 0))

    def first_data_utc(self) -> int | None:
        """start_utc of the wearer's first trusted minute ever (pinned in meta so that prune does
        not move it); None before any trusted minute exists. Feeds the default plan's week 1.
        """
        with self._lock:
            raw = self.get_meta(META_FIRST_DATA)
            pinned = _whole_number(raw, None)  # a damaged pin is recomputed from the rows
            r = self._query(
                f"SELECT MIN(start_utc) FROM minutes WHERE clock_trusted = 1 AND {_READABLE}"
            )[0][0]
            candidates = [int(x) for x in (pinned, r) if x is not None]
            if not candidates:
                return None
            first = min(candidates)
            if pinned is None or pinned != first:
                # On StoreFull: recomputed next time; prune pins it before deleting anything.
                with suppress(StoreFull):
                    self.set_meta(META_FIRST_DATA, str(first))
            return first

    def prune(self, keep_days: int = 120, now_utc: float | None = None) -> int:
        """Delete rows that the host acknowledged AND that started more than keep_days before
        now_utc (default: the system clock). Returns how many rows were deleted.
        """
        _check_int("keep_days", keep_days, 0)
        now = time.time() if now_utc is None else float(now_utc)
        with self._lock:
            self.first_data_utc()
            with self._tx() as db:
                cur = db.execute(
                    "DELETE FROM minutes WHERE seq <= ? AND start_utc < ?",
                    (self.acknowledged_seq(), int(now - keep_days * 86400)),
                )
                return int(cur.rowcount)

    def reanchor(self, boot_id: str, mono_now: float, utc_now: float) -> int:
        """The host set the clock: rows of `boot_id` not yet trusted get
        start_utc = minute floor of (utc_now - (mono_now - mono_start)) and become trusted.
        Rows of other boots keep their flag (their monotonic clock is unrelated). Returns count.
        """
        for name, v in (("mono_now", mono_now), ("utc_now", utc_now)):
            if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
                raise StoreError(f"reanchor: {name} must be a finite number")
        with self._tx() as db:
            rows = db.execute(
                "SELECT seq, mono_start FROM minutes WHERE boot_id = ? AND clock_trusted = 0 "
                f"AND {_READABLE}",
                (boot_id,),
            ).fetchall()
            updates = [
                (math.floor((utc_now - (mono_now - mono)) / 60.0) * 60, seq) for seq, mono in rows
            ]
            db.executemany(
                "UPDATE minutes SET start_utc = ?, clock_trusted = 1 WHERE seq = ?", updates
            )
        return len(updates)

    # -- config, meta, events ------------------------------------------------------------------

    def get_config(self) -> WearerConfig:
        """The stored config, or the defaults when none was ever set.

        A stored config that cannot be read (only a hand edit or a broken tool makes one) also
        gives the defaults, with one logged line, so the device keeps counting; the text stays
        in the file until a host sets a new config.
        """
        r = self._query("SELECT json FROM config WHERE id = 1")
        if not r:
            return WearerConfig()
        try:
            return WearerConfig.from_json(json.loads(r[0][0]))
        except (ValueError, TypeError, RecursionError) as e:
            reason = f"{type(e).__name__}: {e}" if isinstance(e, RecursionError) else str(e)
            if not self._config_warned:
                self._config_warned = True
                log.warning("store %s: stored config unreadable (%s); using the defaults",
                            self.path, reason[:200])
            return WearerConfig()

    def set_config(self, cfg: WearerConfig) -> None:
        """Replace the stored config (one transaction; the old one stays on any failure)."""
        if not isinstance(cfg, WearerConfig):
            raise ConfigError("config must be a WearerConfig")
        text = json.dumps(cfg.to_json(), sort_keys=True)
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO config (id, json) VALUES (1, ?)", (text,))

    def set_config_json(self, obj: object) -> WearerConfig:
        """Validate a host's JSON config and store it; ConfigError leaves the old one in place."""
        cfg = WearerConfig.from_json(obj)
        self.set_config(cfg)
        return cfg

    def get_meta(self, key: str) -> str | None:
        """A small meta value (pairing secret, last sync, clock anchor...), None if unset."""
        r = self._query("SELECT value FROM meta WHERE key = ?", (str(key),))
        return r[0][0] if r else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set a meta value; None deletes the key."""
        with self._tx() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (str(key),))
            else:
                db.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (str(key), str(value))
                )

    def set_meta_once(self, key: str, value: str) -> str:
        """Set a meta value unless it is set already; returns the stored value. One transaction,
        so two connections racing to create an id (the store id) agree on one."""
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
                       (str(key), str(value)))
            return str(db.execute("SELECT value FROM meta WHERE key = ?", (str(key),))
                       .fetchone()[0])

    def battery_between(self, start_utc: int, end_utc: int) -> list[tuple[int, float]]:
        """(start_utc, battery percent) of the minutes in [start_utc, end_utc) that carry a
        fuel-gauge reading, in time order: the battery history."""
        rows = self._query(
            "SELECT start_utc, battery_percent FROM minutes WHERE start_utc >= ? "
            "AND start_utc < ? AND typeof(battery_percent) IN ('real', 'integer') "
            "ORDER BY start_utc, seq",
            (math.floor(start_utc), math.ceil(end_utc)),
        )
        return [(int(t), float(b)) for t, b in rows if isinstance(t, int)]

    def mark_clean(self, reason: str) -> None:
        """A clean stop (empty battery): the WAL is folded into the database file and the
        reason and time noted, so the next start knows the last minute was written."""
        self.set_meta("clean_shutdown", json.dumps({"utc": time.time(), "reason": str(reason)}))
        with self._lock:
            if self._db is not None:
                with suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def log_event(self, kind: str, detail: str = "") -> None:
        """Append to the event log (keeps the last EVENTS_KEEP). Best effort: dropped when full."""
        with suppress(StoreFull), self._tx() as db:
            cur = db.execute(
                "INSERT INTO events (time, kind, detail) VALUES (?, ?, ?)",
                (time.time(), str(kind), str(detail)),
            )
            db.execute("DELETE FROM events WHERE seq <= ?", (cur.lastrowid - EVENTS_KEEP,))

    def events(self, limit: int = 100) -> list[tuple[int, float, str, str]]:
        """The latest `limit` events as (seq, time, kind, detail), oldest first."""
        _check_int("limit", limit, 0)
        rows = self._query(
            "SELECT seq, time, kind, detail FROM events ORDER BY seq DESC LIMIT ?", (limit,)
        )
        return [(int(s), float(t), k, d) for s, t, k, d in reversed(rows)]

    def integrity_ok(self) -> bool:
        """PRAGMA integrity_check says ok (for selftest)."""
        return self._query("PRAGMA integrity_check") == [("ok",)]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
