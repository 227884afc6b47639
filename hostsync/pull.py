"""One sync of one device: set its clock, pull new rows page by page, commit, then acknowledge.

The order is what makes a cut cable harmless: a page is committed to the host database (rows and
cursor in one transaction) before the device hears ACK, so the device never forgets a row the
host lacks, and the next pull resumes after the host's cursor (duplicates are ignored by key).
"""

from __future__ import annotations

import contextlib
import os
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hostsync.db import HostDB
from hostsync.link import HostSession


class DeviceReset(Exception):
    """The device's store holds fewer rows than this computer already has of that same store."""


@dataclass(frozen=True)
class PullSummary:
    device_id: str
    new_rows: int
    cursor: int
    device_last_seq: int
    reanchored: int
    timezone: str
    pages: int


def local_timezone() -> str:
    """This computer's IANA zone name (TZ, /etc/localtime, /etc/timezone), else UTC."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    with contextlib.suppress(OSError):
        candidates.append(Path("/etc/timezone").read_text().strip())
    for name in candidates:
        if name and not name.startswith("/"):
            try:
                zoneinfo.ZoneInfo(name)
                return name
            except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
                continue
    return "UTC"


def sync_device(
    session: HostSession,
    db: HostDB,
    *,
    timezone: str,
    page_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], float] = time.time,
) -> PullSummary:
    """Set the clock, then pull and acknowledge every row after the host's cursor."""
    device_id = session.device_id
    assert device_id is not None
    store_id = session.store_id  # a new store (re-flashed card) is a new history from seq 1
    record = db.open_store(device_id, store_id,
                           adopt_legacy=bool(session.hello_info.get("store_legacy")))
    cursor = record.cursor
    reanchored = session.set_clock(now(), timezone)
    first = session.pull(cursor, page_size)
    if first.last_seq < cursor:
        raise DeviceReset(
            f"The Walk Coach {device_id} holds rows only up to {first.last_seq} of its store, "
            f"but this computer already has rows up to {cursor} of that same store. Nothing "
            "was changed; run 'hostsync devices' and report this."
        )
    total = max(0, first.last_seq - cursor)
    done = 0
    pages = 0
    page = first
    while page.rows:
        cursor = db.commit_page(device_id, page.rows, store_id)  # committed before the ACK
        done += len(page.rows)
        session.ack(cursor)
        pages += 1
        if progress:
            progress(done, total)
        if not page.more:
            break
        page = session.pull(cursor, page_size)
        total = max(total, done + page.last_seq - cursor)
    if cursor > first.acked_seq and not pages:
        session.ack(cursor)  # an earlier run committed but was cut before its ACK
    db.save_config(device_id, session.get_config())
    db.mark_synced(device_id, now(), store_id)
    return PullSummary(device_id, done, cursor, page.last_seq, reanchored, timezone, pages)
