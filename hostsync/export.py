"""Export the wearer's data for a spreadsheet or another program: minutes, days or weeks,
as CSV (with a header) or JSON (an array of objects). Numbers stay numbers, booleans stay
booleans in JSON ('true'/'false' in CSV), and a missing value is null in JSON, empty in CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from hostsync.files import write_atomic
from hostsync.report import daily_totals, local_start, wearer_tz, weekly_summary
from hostsync.wear_summary import valid_days_by_week, wear_by_day, worn_minutes

if TYPE_CHECKING:
    from device.config import WearerConfig
    from device.store import MinuteRow

Kind = Literal["minutes", "days", "weeks"]
Format = Literal["csv", "json"]

MINUTE_FIELDS = (
    "seq",
    "start_utc",
    "start_local",
    "steps",
    "cadence_spm",
    "moderate",
    "chip_steps",
    "clock_trusted",
    "worn",
)
# Wear (issue 13) is null where the rows carry no wear evidence (firmware before it).
DAY_FIELDS = ("date", "steps", "moderate_minutes", "active_minutes", "worn_hours", "valid_day")
WEEK_FIELDS = ("week_start", "goal_minutes", "moderate_minutes", "met_goal", "steps", "active_days",
               "valid_days")
FIELDS: dict[str, tuple[str, ...]] = {
    "minutes": MINUTE_FIELDS,
    "days": DAY_FIELDS,
    "weeks": WEEK_FIELDS,
}


class ExportError(ValueError):
    """The export was refused (unknown kind or format, or the file could not be written)."""


def utc_iso(start_utc: int) -> str:
    """'2026-03-29T00:59:00Z': the minute's start in UTC, ISO 8601."""
    return dt.datetime.fromtimestamp(start_utc, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def export_records(
    rows: Sequence[MinuteRow], config: WearerConfig, kind: Kind, today: dt.date | None = None
) -> list[dict[str, Any]]:
    """The export as plain dicts (keys = FIELDS[kind], in order), before any formatting.

    minutes: one per row, in seq order (then time) so the export follows the device's log.
    days: every local day from the first to the last with data; active = minutes with steps.
    weeks: as in the weekly report (weekly_summary), up to the current week.
    """
    if kind == "minutes":
        tz = wearer_tz(config)
        ordered = sorted(rows, key=lambda r: (r.seq, r.start_utc))
        start, worn = worn_minutes(ordered)
        worn_at = dict(zip(start.tolist(), worn.tolist(), strict=True))
        return [
            {
                "seq": r.seq,
                "start_utc": utc_iso(r.start_utc),
                "start_local": local_start(r.start_utc, tz).isoformat(),
                "steps": r.steps,
                "cadence_spm": _finite_or_none(r.cadence_spm),
                "moderate": bool(r.moderate),
                "chip_steps": r.chip_steps,
                "clock_trusted": bool(r.clock_trusted),
                "worn": worn_at.get(r.start_utc) if getattr(r, "wear_active_s", None) is not None
                else None,
            }
            for r in ordered
        ]
    if kind == "days":
        days = daily_totals(rows, config)
        wear = wear_by_day(rows, config, [d.day for d in days])
        return [
            {
                "date": d.day.isoformat(),
                "steps": d.steps,
                "moderate_minutes": d.moderate_minutes,
                "active_minutes": d.active_minutes,
                "worn_hours": round(w.worn_hours, 2) if w.recorded_minutes else None,
                "valid_day": w.valid if w.recorded_minutes else None,
            }
            for d, w in zip(days, wear, strict=True)
        ]
    if kind == "weeks":
        summaries = weekly_summary(rows, config, today)
        valid = valid_days_by_week(rows, config, [s.week_start for s in summaries])
        return [
            {
                "week_start": s.week_start.isoformat(),
                "goal_minutes": s.goal_minutes,
                "moderate_minutes": s.moderate_minutes,
                "met_goal": s.met_goal,
                "steps": s.steps,
                "active_days": s.active_days,
                "valid_days": valid[s.week_start],
            }
            for s in summaries
        ]
    raise ExportError(f"unknown export kind {kind!r}: use minutes, days or weeks")


def export_rows(
    rows: Sequence[MinuteRow],
    config: WearerConfig,
    kind: Kind,
    fmt: Format,
    out: Path | str | TextIO,
    today: dt.date | None = None,
) -> int:
    """Write the export to out (a path, written atomically, or an open text stream); returns the
    number of records written. An empty row list gives a header-only CSV or '[]'."""
    if fmt not in ("csv", "json"):
        raise ExportError(f"unknown export format {fmt!r}: use csv or json")
    records = export_records(rows, config, kind, today)
    text = _to_csv(records, FIELDS[kind]) if fmt == "csv" else _to_json(records)
    if isinstance(out, str | os.PathLike):
        _write_atomic(Path(out), text)
    else:
        out.write(text)
    return len(records)


def _finite_or_none(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _to_csv(records: list[dict[str, Any]], fields: tuple[str, ...]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for rec in records:
        writer.writerow({k: _csv_cell(v) for k, v in rec.items()})
    return buf.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _to_json(records: list[dict[str, Any]]) -> str:
    """One object per line: readable, diff-able, and fast (the C encoder, unlike indent=)."""
    if not records:
        return "[]\n"
    lines = (json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records)
    return "[\n" + ",\n".join(lines) + "\n]\n"


def _write_atomic(path: Path, text: str) -> None:
    try:
        write_atomic(path, text.encode("utf-8"))
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None

