"""One sync of one device: set its clock, pull new rows page by page, commit, then acknowledge.

The order is what makes a cut cable harmless: a page is committed to the host database (rows and
cursor in one transaction) before the device hears ACK, so the device never forgets a row the
host lacks, and the next pull resumes after the host's cursor (duplicates are ignored by key).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from device.store import MinuteRow
from device.sync.messages import UTC_FLOOR
from hostsync.db import MAX_SEQ, HostDB
from hostsync.link import HostSession, LinkError, PullPage


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
    implausible_times: int = 0  # rows whose time could not be right, kept as untrusted


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


class ClockJump(Exception):
    """This computer's clock is more than a day ahead of the device's: not applied unasked."""


#: The host refuses to move a device's clock forward by more than this without a confirmation.
CLOCK_JUMP_S = 86400.0
#: Rows a device may add while a pull runs, beyond the last row it announced at the start.
GROWTH_ALLOWANCE = 1000
#: Pages in one pull at most (5 million rows at 500 a page); the next pull goes on from there.
MAX_PAGES = 10_000


def _device_time(status: dict) -> float | None:
    t = status.get("utc_now")
    if isinstance(t, int | float) and not isinstance(t, bool) and math.isfinite(t):
        return float(t)
    return None


def _plausible(rows: list[MinuteRow], host_now: float) -> tuple[list[MinuteRow], int]:
    """Rows whose time cannot be right (before 2024, or more than a day ahead of this
    computer's clock) are kept but marked clock_trusted = False; returns (rows, how many)."""
    out, flagged = [], 0
    for r in rows:
        if r.clock_trusted and not UTC_FLOOR <= r.start_utc <= host_now + CLOCK_JUMP_S:
            r = replace(r, clock_trusted=False)
            flagged += 1
        out.append(r)
    return out, flagged


def _check_page(page: PullPage, cursor: int, limit: int) -> None:
    """A page the host can trust to make progress: seqs rising, after the cursor, not past
    the device's announced end (plus what it may record meanwhile), never absurd."""
    last = cursor
    for r in page.rows:
        if not last < r.seq <= min(limit, MAX_SEQ):
            raise LinkError(f"The Walk Coach sent row number {r.seq} after {last} "
                            f"(allowed up to {min(limit, MAX_SEQ)}); the pull was stopped. "
                            "Nothing was lost; try again.")
        last = r.seq
    if not 0 <= page.last_seq <= MAX_SEQ or not 0 <= page.acked_seq <= MAX_SEQ:
        raise LinkError("The Walk Coach announced an impossible row number; pull stopped.")


def sync_device(
    session: HostSession,
    db: HostDB,
    *,
    timezone: str,
    page_size: int = 500,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], float] = time.time,
    confirm_clock: Callable[[float, float], bool] | None = None,
) -> PullSummary:
    """Set the clock, then pull and acknowledge every row after the host's cursor, up to the
    last row the device announced (a device that keeps saying "more" cannot keep it going).

    confirm_clock(host_utc, device_utc) is asked when this computer's clock is more than a day
    ahead of the device's; without it (or if it says no) ClockJump is raised, nothing changed.
    """
    device_id = session.device_id
    assert device_id is not None
    store_id = session.store_id  # a new store (re-flashed card) is a new history from seq 1
    host_now = now()
    device_now = _device_time(session.status())
    if device_now is not None and host_now - device_now > CLOCK_JUMP_S and (
            confirm_clock is None or not confirm_clock(host_now, device_now)):
        raise ClockJump(
            f"This computer's clock ({_day(host_now)}) is {(host_now - device_now) / 86400:,.1f} "
            f"days ahead of the Walk Coach's ({_day(device_now)}). Check this computer's date; "
            "if it is right, run hostsync pull --yes.")
    record = db.open_store(device_id, store_id,
                           adopt_legacy=bool(session.hello_info.get("store_legacy")))
    cursor = record.cursor
    reanchored = session.set_clock(host_now, timezone)
    first = session.pull(cursor, page_size)
    if first.last_seq < cursor:
        raise DeviceReset(
            f"The Walk Coach {device_id} holds rows only up to {first.last_seq} of its store, "
            f"but this computer already has rows up to {cursor} of that same store. Nothing "
            "was changed; run 'hostsync devices' and report this."
        )
    limit = first.last_seq + GROWTH_ALLOWANCE
    total = max(0, first.last_seq - cursor)
    # the device may halve pages to fit a frame; a trickle of tiny pages still ends
    max_pages = min(MAX_PAGES, 4 * math.ceil(total / page_size) + 4)
    done = pages = flagged = 0
    page = first
    while page.rows:
        _check_page(page, cursor, limit)
        rows, n = _plausible(page.rows, host_now)
        flagged += n
        cursor = db.commit_page(device_id, rows, store_id)  # committed before the ACK
        done += len(rows)
        session.ack(cursor)
        pages += 1
        if progress:
            progress(done, total)
        if not page.more or cursor >= first.last_seq:
            break  # rows recorded since the pull began wait for the next one
        if pages >= max_pages:
            raise LinkError(f"The Walk Coach kept sending pages ({pages} for {total} rows); "
                            "the pull was stopped. What came is stored; try again.")
        page = session.pull(cursor, page_size)
    if cursor > first.acked_seq and not pages:
        session.ack(cursor)  # an earlier run committed but was cut before its ACK
    db.save_config(device_id, session.get_config())
    db.mark_synced(device_id, now(), store_id)
    return PullSummary(device_id, done, cursor, page.last_seq, reanchored, timezone, pages,
                       flagged)


def _day(utc: float) -> str:
    try:
        return dt.datetime.fromtimestamp(utc, dt.UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return f"{utc:.0f} s"
