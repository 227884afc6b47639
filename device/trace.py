"""Recorded IMU traces: read and write the trace format of DESIGN.md.

A trace is CSV, optionally gzip-compressed: leading ``# key: value`` metadata lines, a header
``t,ax,ay,az[,gx,gy,gz]`` and one row per sample. Timestamps may be irregular and have gaps; they
must not go backwards. Every malformed input is refused with a :class:`TraceError` whose message
names the file, the line and the reason, so a caregiver or developer can fix the file.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ACC_COLUMNS = ("t", "ax", "ay", "az")
GYRO_COLUMNS = ("gx", "gy", "gz")


class TraceError(ValueError):
    """A trace or ground-truth file that cannot be used; the message is one line for the user."""


@dataclass
class Trace:
    """A whole recording in memory.

    t: seconds, non-decreasing; acc: (N, 3) m/s² with gravity; gyro: (N, 3) deg/s or None.
    """

    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None = None
    meta: dict[str, str] = field(default_factory=dict)
    path: str = ""

    def __len__(self) -> int:
        return int(self.t.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self) else 0.0


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        raise TraceError(f"{path}: no such file")
    if path.is_dir():
        raise TraceError(f"{path}: is a directory, not a trace file")
    try:
        with _open_text(path) as f:
            return f.read().splitlines()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise TraceError(f"{path}: cannot read ({exc})") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not a text CSV file (bad UTF-8)") from None


def _split_header(path: Path, lines: list[str]) -> tuple[dict[str, str], int, list[str]]:
    """Metadata dict, index of the header line, and the header's column names."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, sep, value = stripped[1:].partition(":")
            if sep:
                meta[key.strip()] = value.strip()
            continue
        if not stripped:
            continue
        names = [c.strip().lower() for c in stripped.split(",")]
        return meta, i, names
    raise TraceError(f"{path}: empty trace (no header line 't,ax,ay,az')")


def _check_columns(path: Path, line_no: int, names: list[str]) -> bool:
    """True when the trace has gyro columns; raise on any other header."""
    if tuple(names) == ACC_COLUMNS:
        return False
    if tuple(names) == ACC_COLUMNS + GYRO_COLUMNS:
        return True
    raise TraceError(
        f"{path}:{line_no}: header must be 't,ax,ay,az' or 't,ax,ay,az,gx,gy,gz', "
        f"got {','.join(names)!r}"
    )


def _locate_bad_row(path: Path, lines: list[str], first: int, ncols: int) -> TraceError:
    """Slow path: find the first malformed row and say exactly what is wrong with it."""
    for i in range(first, len(lines)):
        line = lines[i].strip()
        if not line or line.startswith("#"):
            continue
        cells = line.split(",")
        if len(cells) != ncols:
            return TraceError(
                f"{path}:{i + 1}: expected {ncols} columns, found {len(cells)}"
            )
        for name, cell in zip(_names(ncols), cells, strict=True):
            try:
                value = float(cell)
            except ValueError:
                return TraceError(f"{path}:{i + 1}: {name} is not a number: {cell.strip()!r}")
            if not math.isfinite(value):
                return TraceError(f"{path}:{i + 1}: {name} is {cell.strip()} (not a finite number)")
    return TraceError(f"{path}: malformed rows")


def _names(ncols: int) -> tuple[str, ...]:
    return ACC_COLUMNS + GYRO_COLUMNS if ncols == 7 else ACC_COLUMNS


def read_trace(path: str | Path) -> Trace:
    """Read a whole trace file; raise TraceError (file, line, reason) on any malformed input."""
    path = Path(path)
    lines = _read_lines(path)
    meta, header_idx, names = _split_header(path, lines)
    has_gyro = _check_columns(path, header_idx + 1, names)
    ncols = len(names)
    body = [ln for ln in lines[header_idx + 1 :] if ln.strip() and not ln.lstrip().startswith("#")]
    if not body:
        raise TraceError(f"{path}: no samples after the header")
    try:
        data = np.loadtxt(body, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError:
        raise _locate_bad_row(path, lines, header_idx + 1, ncols) from None
    if data.shape[1] != ncols or not np.isfinite(data).all():
        raise _locate_bad_row(path, lines, header_idx + 1, ncols)
    t = data[:, 0]
    backwards = np.flatnonzero(np.diff(t) < 0)
    if backwards.size:
        row = int(backwards[0]) + 1  # index into body of the offending sample
        line_no = _body_line_number(lines, header_idx, row)
        raise TraceError(
            f"{path}:{line_no}: time goes backwards ({t[row]:.6f} s after {t[row - 1]:.6f} s)"
        )
    gyro = np.ascontiguousarray(data[:, 4:7]) if has_gyro else None
    return Trace(t=np.ascontiguousarray(t), acc=np.ascontiguousarray(data[:, 1:4]), gyro=gyro,
                 meta=meta, path=str(path))


def _body_line_number(lines: list[str], header_idx: int, body_row: int) -> int:
    seen = -1
    for i in range(header_idx + 1, len(lines)):
        s = lines[i].strip()
        if s and not s.startswith("#"):
            seen += 1
            if seen == body_row:
                return i + 1
    return len(lines)


def read_truth(path: str | Path) -> np.ndarray:
    """Ground-truth step times (NAME.steps.csv: header 't', one time per row)."""
    path = Path(path)
    lines = _read_lines(path)
    _, header_idx, names = _split_header(path, lines)
    if names != ["t"]:
        raise TraceError(f"{path}:{header_idx + 1}: a steps file has one column 't'")
    times: list[float] = []
    for i in range(header_idx + 1, len(lines)):
        s = lines[i].strip()
        if not s or s.startswith("#"):
            continue
        try:
            value = float(s)
        except ValueError:
            raise TraceError(f"{path}:{i + 1}: step time is not a number: {s!r}") from None
        if not math.isfinite(value):
            raise TraceError(f"{path}:{i + 1}: step time is {s}")
        times.append(value)
    return np.asarray(times, dtype=np.float64)


def write_trace(
    path: str | Path,
    t: np.ndarray,
    acc: np.ndarray,
    gyro: np.ndarray | None = None,
    meta: Mapping[str, object] | None = None,
) -> None:
    """Write a trace in the same format :func:`read_trace` reads (gzip when the name ends .gz)."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8", newline="") as f:
        f.write(format_header(meta or {}, gyro is not None))
        f.write(format_rows(t, acc, gyro))


def format_header(meta: Mapping[str, object], has_gyro: bool) -> str:
    lines = [f"# {k}: {v}\n" for k, v in meta.items()]
    cols = ACC_COLUMNS + (GYRO_COLUMNS if has_gyro else ())
    return "".join(lines) + ",".join(cols) + "\n"


def format_rows(t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None = None) -> str:
    """CSV rows, 6 decimals for time and 5 for sensor values (well below sensor noise)."""
    cols: Iterable[np.ndarray] = [np.asarray(t)[:, None], np.asarray(acc)]
    if gyro is not None:
        cols = [*cols, np.asarray(gyro)]
    data = np.hstack(list(cols))
    if data.size == 0:
        return ""
    buf = io.StringIO()
    fmt = ["%.6f"] + ["%.5f"] * (data.shape[1] - 1)
    np.savetxt(buf, data, fmt=fmt, delimiter=",")
    return buf.getvalue()
