"""Opening the caregiver's database file, and saying in one line what is wrong with it.

The file holds a wearer's health data and the pairing secrets, so it is created 0600 (with its
-wal and -shm) in a folder created 0700; an older file with wider permissions is narrowed when
opened. A full disk, a file locked by another program, a read-only or a damaged file each become
one plain sentence (HostDBError) instead of an SQLite traceback.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

BUSY_TIMEOUT_S = 10.0  # how long to wait for another hostsync holding the file


class HostDBError(Exception):
    """The host database cannot be used; the message names the file."""


@contextlib.contextmanager
def _private_umask() -> Iterator[None]:
    """New files and folders readable by this user only (SQLite creates -wal/-shm itself)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _narrow(path: Path) -> None:
    """chmod 0600 the database and its side files if they are wider (files from older
    hostsync versions were made with the default umask, often world-readable)."""
    for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(FileNotFoundError):
            st = p.stat()
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
                os.chmod(p, stat.S_IMODE(st.st_mode) & 0o600)


def make_folder(folder: Path) -> None:
    """Create the folder (and missing parents) 0700; an existing folder is left as it is."""
    if folder.is_dir():
        return
    with _private_umask():
        folder.mkdir(parents=True, exist_ok=True)


def keep_private(folder: Path) -> None:
    """Narrow an existing folder of hostsync's own to 0700 (best effort: not ours to fail on)."""
    if not hasattr(os, "getuid"):  # Windows: the user's profile folder is private already
        return
    with contextlib.suppress(OSError):
        st = folder.stat()
        if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(folder, 0o700)


def open_connection(path: Path, busy_timeout_s: float | None = None) -> sqlite3.Connection:
    """A WAL, synchronous=FULL connection to `path`, checked readable; HostDBError if not.
    busy_timeout_s: how long to wait for a lock held by another program (BUSY_TIMEOUT_S)."""
    path = Path(path)
    busy_timeout_s = BUSY_TIMEOUT_S if busy_timeout_s is None else busy_timeout_s
    try:
        if path.exists() and not path.is_file():
            raise HostDBError(f"The database {path} is not a file.")
        make_folder(path.parent)
        with _private_umask():
            db = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_s)
            try:
                check = db.execute("PRAGMA quick_check").fetchall()
                if check != [("ok",)]:
                    raise HostDBError(damaged(path, str(check[0][0])))
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
            except BaseException:
                db.close()
                raise
        _narrow(path)
    except (OSError, sqlite3.Error) as e:
        raise HostDBError(describe(e, path)) from None
    return db


def damaged(path: Path, detail: str) -> str:
    return (f"The database {path} is damaged ({detail[:80]}): nothing was changed. Move it "
            "aside (or restore a backup), then run hostsync pair and hostsync pull: the Walk "
            "Coach still holds every minute it was not told is stored.")


_FULL, _BUSY, _LOCKED, _READONLY, _CORRUPT, _NOTADB, _CANTOPEN, _IOERR, _PERM = (
    sqlite3.SQLITE_FULL, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_PERM)


def _root_cause(e: BaseException) -> BaseException:
    """The error that started it: a failed ROLLBACK ('cannot rollback - no transaction is
    active') hides the SQLITE_FULL that rolled the transaction back already."""
    seen: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in seen:
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__
    for err in seen:
        code = getattr(err, "sqlite_errorcode", None)
        if code is not None and code & 0xFF not in (sqlite3.SQLITE_ERROR, sqlite3.SQLITE_MISUSE):
            return err
    for err in seen:
        if isinstance(err, OSError):
            return err
    return e


def describe(e: BaseException, path: Path) -> str:
    """One plain sentence for an SQLite or OS error on the database file at `path`."""
    cause = _root_cause(e)
    if isinstance(cause, HostDBError):
        return str(cause)
    if isinstance(cause, OSError):
        what = cause.strerror or str(cause)
        where = cause.filename or path
        return f"Cannot use the database {path}: {what} ({where})."
    code = (getattr(cause, "sqlite_errorcode", None) or 0) & 0xFF
    text = str(cause)
    if code == _FULL or "is full" in text:
        return (f"The disk holding {path} is full: every page stored so far is kept and the "
                "Walk Coach keeps the rest. Free some space, then run the same command again.")
    if code in (_BUSY, _LOCKED) or "locked" in text:
        return (f"The database {path} is in use by another program (locked). Close any other "
                "hostsync, then try again.")
    if code == _READONLY or "readonly" in text:
        return (f"The database {path} is read-only (file, folder or disk): nothing was "
                "stored. Make it writable, or name another file with --db.")
    if code in (_CORRUPT, _NOTADB) or "malformed" in text or "not a database" in text:
        return damaged(path, text)
    if code in (_CANTOPEN, _PERM):
        return (f"Cannot open the database {path}: check that its folder exists and that you "
                "may write there.")
    if code == _IOERR:
        return f"Cannot read or write the database {path} ({text[:80]}): is the disk failing?"
    return f"Cannot use the database {path}: {text[:120]}"
