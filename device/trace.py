"""Recorded IMU traces: read and write the trace format of DESIGN.md.

A trace is CSV, optionally gzip-compressed: leading ``# key: value`` metadata lines, a header
``t,ax,ay,az[,gx,gy,gz]`` and one row per sample. Timestamps may be irregular and have gaps; they
must not go backwards. Every malformed input is refused with a :class:`TraceError` whose message
names the file, the line and the reason, so a caregiver or developer can fix the file.

:class:`TraceReader` streams a trace in blocks of about 1 MB, each parsed by a C parser
(pyarrow's multi-threaded CSV reader when it is installed, else numpy's ``loadtxt``), so a week of
100 Hz data replays in the memory of a few blocks. pyarrow reads an 8-hour file about three times
faster than ``loadtxt`` (0.8 s against 2.2 s here), which is why it is worth an optional
dependency; any block it does not take as plain numbers (comments, quotes, a bad row) goes to
``loadtxt``, the reference, and a block that fails there is re-read line by line in Python to name
the exact line and reason. Files that are not recordings are refused early and in one line: a
line longer than 4096 characters (``/dev/zero``, binary data), a span over 31 days (a broken
clock: every empty minute would be reported), more than 20,000 samples in one second (a stuck
clock, a gzip bomb of one repeated row). :func:`read_trace` collects the blocks into one
:class:`Trace` for small files and tests.
"""

from __future__ import annotations

import gzip
import io
import math
import os
import warnings
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np

ACC_COLUMNS = ("t", "ax", "ay", "az")
GYRO_COLUMNS = ("gx", "gy", "gz")

BLOCK_BYTES = 1 << 20          # parsed per call: ~30 k rows (bigger blocks: more RSS, no faster)
MAX_LINE_CHARS = 4096          # no line of a trace is anywhere near this long
MAX_METADATA_LINES = 1000
MAX_SPAN_S = 31 * 86400.0      # longer spans are gaps or a broken clock, not a recording
MAX_PER_SECOND = 20_000        # 50x the fastest supported sensor (400 Hz): a stuck clock
_READ_ERRORS = (OSError, EOFError, gzip.BadGzipFile, zlib.error)


class TraceError(ValueError):
    """A trace or ground-truth file that cannot be used; the message is one line for the user."""


class NotATraceHeader(TraceError):
    """The file reads fine but its header is not a trace's (another CSV in the same folder)."""


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


@dataclass(frozen=True)
class TraceChunk:
    """Consecutive rows of a trace: t (N,), acc (N, 3), gyro (N, 3) or None."""

    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None

    def __len__(self) -> int:
        return int(self.t.shape[0])


def _names(ncols: int) -> tuple[str, ...]:
    return ACC_COLUMNS + GYRO_COLUMNS if ncols == 7 else ACC_COLUMNS


class TraceReader:
    """A trace file read block by block: memory bounded whatever the file's length.

    Opening reads the metadata and header (``meta``, ``has_gyro``); :meth:`chunks` yields the
    rows. Use as a context manager, or call :meth:`close`. ``fast=False`` parses with numpy only.
    """

    def __init__(self, path: str | Path, block_bytes: int = BLOCK_BYTES,
                 max_span_s: float = MAX_SPAN_S, fast: bool = True) -> None:
        self.path = Path(path)
        self.block_bytes = int(block_bytes)
        self.max_span_s = float(max_span_s)
        self.fast = fast and _arrow_csv() is not None
        self.meta: dict[str, str] = {}
        self.rows = 0
        self.first_t: float | None = None
        self.last_t: float | None = None
        self._recent_t = np.empty(0)  # the last MAX_PER_SECOND timestamps
        self._file = _open_binary(self.path)
        try:
            self._line = 0  # lines consumed so far
            names = self._read_header()
            self.has_gyro = _check_columns(self.path, self._line, names)
            self.ncols = len(names)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def fraction_read(self) -> float:
        """How far through the file (0-1) reading has got, for progress reports."""
        raw = getattr(self._file, "fileobj", self._file)  # a gzip file's compressed stream
        try:
            size = os.fstat(raw.fileno()).st_size
            return min(1.0, raw.tell() / size) if size else 1.0
        except (OSError, ValueError, AttributeError):
            return 0.0

    @property
    def duration_s(self) -> float:
        """Span of the rows read so far."""
        if self.first_t is None or self.last_t is None:
            return 0.0
        return self.last_t - self.first_t

    def _too_long(self, line_no: int) -> TraceError:
        return TraceError(f"{self.path}:{line_no}: line longer than {MAX_LINE_CHARS} "
                          "characters: not a trace file")

    def _read_header(self) -> list[str]:
        meta_lines = 0
        while True:
            raw = self._guard(lambda: self._file.readline(MAX_LINE_CHARS + 1))
            if len(raw) > MAX_LINE_CHARS:
                raise self._too_long(self._line + 1)
            if not raw:
                raise TraceError(f"{self.path}: empty trace (no header line 't,ax,ay,az')")
            self._line += 1
            stripped = self._decode(raw).strip()
            if stripped.startswith("#"):
                meta_lines += 1
                if meta_lines > MAX_METADATA_LINES:
                    raise TraceError(f"{self.path}:{self._line}: more than "
                                     f"{MAX_METADATA_LINES} metadata lines before the header")
                key, sep, value = stripped[1:].partition(":")
                if sep:
                    self.meta[key.strip()] = value.strip()
                continue
            if stripped:
                return [c.strip().lower() for c in stripped.split(",")]

    def _decode(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TraceError(f"{self.path}: not a text CSV file (bad UTF-8)") from None

    def _guard(self, read):
        try:
            return read()
        except _READ_ERRORS as exc:
            raise TraceError(f"{self.path}: cannot read ({_reason(exc)})") from None

    def _blocks(self) -> Iterator[tuple[bytes, int]]:
        """(whole lines, number of the first line), about block_bytes at a time."""
        rest = b""
        while True:
            data = self._guard(lambda: self._file.read(self.block_bytes))
            if not data:
                if rest:
                    yield rest, self._line + 1
                    self._line += rest.count(b"\n") + 1
                return
            data = rest + data
            cut = data.rfind(b"\n") + 1
            if len(data) - cut > MAX_LINE_CHARS:
                raise self._too_long(self._line + data.count(b"\n", 0, cut) + 1)
            rest = data[cut:]
            if cut:
                first = self._line + 1
                self._line += data.count(b"\n", 0, cut)
                yield data[:cut], first

    def chunks(self) -> Iterator[TraceChunk]:
        """The rows, block by block; TraceError (file, line, reason) at the first bad row."""
        for block, first_line in self._blocks():
            data = self._parse(block, first_line)
            if data.shape[0] == 0:
                continue
            t = data[:, 0]
            self._check_time(t, block, first_line)
            self.rows += int(t.size)
            if self.first_t is None:
                self.first_t = float(t[0])
            self.last_t = float(t[-1])
            yield TraceChunk(t=np.ascontiguousarray(t), acc=np.ascontiguousarray(data[:, 1:4]),
                             gyro=np.ascontiguousarray(data[:, 4:7]) if self.has_gyro else None)
        if self.rows == 0:
            raise TraceError(f"{self.path}: no samples after the header")

    def _parse(self, block: bytes, first_line: int) -> np.ndarray:
        data = _parse_arrow(block, self.ncols) if self.fast else None
        if data is not None and np.isfinite(data).all():
            return data
        text = self._decode(block)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "input contained no data": comments only
                data = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
        except ValueError:
            raise _locate_bad_row(self.path, text, first_line, self.ncols) from None
        if data.size == 0:
            return np.empty((0, self.ncols))
        if data.shape[1] != self.ncols or not np.isfinite(data).all():
            raise _locate_bad_row(self.path, text, first_line, self.ncols)
        return data

    def _check_time(self, t: np.ndarray, block: bytes, first_line: int) -> None:
        prev = self.last_t if self.last_t is not None else float(t[0])
        backwards = np.flatnonzero(np.diff(t, prepend=prev) < 0)
        if backwards.size:
            row = int(backwards[0])
            before = float(t[row - 1]) if row else prev
            raise TraceError(
                f"{self.path}:{_row_line(block, first_line, row)}: time goes backwards "
                f"({t[row]:.6f} s after {before:.6f} s)"
            )
        # Samples within one second: a replay batches by second, so a stuck clock (or a gzip
        # bomb of one repeated row) would otherwise make one batch of the whole file.
        recent = np.concatenate((self._recent_t, t))
        crowded = np.flatnonzero(recent[MAX_PER_SECOND:] - recent[:-MAX_PER_SECOND] < 1.0)
        if crowded.size:
            row = int(crowded[0]) + MAX_PER_SECOND - self._recent_t.size
            raise TraceError(
                f"{self.path}:{_row_line(block, first_line, row)}: more than {MAX_PER_SECOND} "
                "samples within one second: the clock is stuck, or this is not a recording"
            )
        self._recent_t = recent[-MAX_PER_SECOND:]
        first = self.first_t if self.first_t is not None else float(t[0])
        if float(t[-1]) - first > self.max_span_s:
            row = int(np.argmax(t - first > self.max_span_s))
            raise TraceError(
                f"{self.path}:{_row_line(block, first_line, row)}: time jumps to "
                f"{t[row] - first:.0f} s after the first sample; a trace may span at most "
                f"{self.max_span_s / 86400:g} days (split longer recordings)"
            )


_ARROW: list = []


def _arrow_csv():
    """pyarrow.csv when installed (optional: the dev extra), else None; imported once."""
    if not _ARROW:
        try:
            import pyarrow.csv as arrow_csv
        except ImportError:
            arrow_csv = None
        _ARROW.append(arrow_csv)
    return _ARROW[0]


def _parse_arrow(block: bytes, ncols: int) -> np.ndarray | None:
    """A block of plain numeric rows as an (N, ncols) array, or None for anything else."""
    if b"#" in block:
        return None
    pc = _arrow_csv()
    import pyarrow as pa

    names = list(_names(ncols))
    try:
        table = pc.read_csv(
            pa.py_buffer(block),
            read_options=pc.ReadOptions(column_names=names),
            parse_options=pc.ParseOptions(quote_char=False),
            convert_options=pc.ConvertOptions(column_types=dict.fromkeys(names, pa.float64()),
                                              strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_columns != ncols or any(col.null_count for col in table.columns):
        return None
    data = np.empty((table.num_rows, ncols))
    for i, col in enumerate(table.columns):
        row = 0
        for part in col.chunks:  # the value buffers as they are: to_numpy() costs 50 MB of RSS
            n = len(part)
            data[row : row + n, i] = np.frombuffer(part.buffers()[1], dtype=np.float64,
                                                   count=n, offset=part.offset * 8)
            row += n
    return data


def _reason(exc: BaseException) -> str:
    if isinstance(exc, zlib.error | EOFError):
        return f"corrupted gzip data: {exc}" if str(exc) else "corrupted or truncated gzip data"
    return str(exc)


def _open_binary(path: Path) -> BinaryIO:
    if not path.exists():
        raise TraceError(f"{path}: no such file")
    if path.is_dir():
        raise TraceError(f"{path}: is a directory, not a trace file")
    try:
        if path.suffix == ".gz":
            return gzip.open(path, "rb")  # type: ignore[return-value]
        return open(path, "rb")
    except OSError as exc:
        raise TraceError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(_open_binary(path), encoding="utf-8", newline="")
    _open_binary(path).close()
    return open(path, encoding="utf-8", newline="")


def _check_columns(path: Path, line_no: int, names: list[str]) -> bool:
    """True when the trace has gyro columns; raise on any other header."""
    if tuple(names) == ACC_COLUMNS:
        return False
    if tuple(names) == ACC_COLUMNS + GYRO_COLUMNS:
        return True
    raise NotATraceHeader(
        f"{path}:{line_no}: header must be 't,ax,ay,az' or 't,ax,ay,az,gx,gy,gz', "
        f"got {','.join(names)[:80]!r}"
    )


def _data_lines(block: str | bytes, first_line: int) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of the rows in a block, skipping blank and comment lines."""
    if isinstance(block, bytes):
        block = block.decode("utf-8", errors="replace")
    for i, raw in enumerate(block.split("\n")):
        line = raw.partition("#")[0].strip()
        if line:
            yield first_line + i, line


def _locate_bad_row(path: Path, block: str, first_line: int, ncols: int) -> TraceError:
    """Slow path: find the first malformed row of a block and say exactly what is wrong."""
    for line_no, line in _data_lines(block, first_line):
        cells = line.split(",")
        if len(cells) != ncols:
            return TraceError(f"{path}:{line_no}: expected {ncols} columns, found {len(cells)}")
        for name, cell in zip(_names(ncols), cells, strict=True):
            try:
                value = float(cell)
            except ValueError:
                return TraceError(f"{path}:{line_no}: {name} is not a number: "
                                  f"{cell.strip()[:40]!r}")
            if not math.isfinite(value):
                return TraceError(f"{path}:{line_no}: {name} is {cell.strip()} "
                                  "(not a finite number)")
    return TraceError(f"{path}:{first_line}: malformed rows from here on")


def _row_line(block: str | bytes, first_line: int, row: int) -> int:
    """Line number of the row-th data row of a block."""
    for k, (line_no, _) in enumerate(_data_lines(block, first_line)):
        if k == row:
            return line_no
    return first_line


def read_trace(path: str | Path) -> Trace:
    """Read a whole trace file; raise TraceError (file, line, reason) on any malformed input."""
    with TraceReader(path) as reader:
        parts = list(reader.chunks())
        meta, has_gyro = reader.meta, reader.has_gyro
    t = np.concatenate([c.t for c in parts])
    acc = np.concatenate([c.acc for c in parts])
    gyro = np.concatenate([c.gyro for c in parts]) if has_gyro else None  # type: ignore[misc]
    return Trace(t=t, acc=acc, gyro=gyro, meta=meta, path=str(path))


def read_truth(path: str | Path) -> np.ndarray:
    """Ground-truth step times (NAME.steps.csv: header 't', one time per row)."""
    path = Path(path)
    with _open_text(path) as f:
        try:
            lines = f.read().splitlines()
        except _READ_ERRORS as exc:
            raise TraceError(f"{path}: cannot read ({_reason(exc)})") from None
        except UnicodeDecodeError:
            raise TraceError(f"{path}: not a text CSV file (bad UTF-8)") from None
    header_idx = next((i for i, s in enumerate(lines)
                       if s.strip() and not s.strip().startswith("#")), None)
    if header_idx is None:
        raise TraceError(f"{path}: empty steps file (no header line 't')")
    if [c.strip().lower() for c in lines[header_idx].split(",")] != ["t"]:
        raise TraceError(f"{path}:{header_idx + 1}: a steps file has one column 't'")
    times: list[float] = []
    for i in range(header_idx + 1, len(lines)):
        s = lines[i].strip()
        if not s or s.startswith("#"):
            continue
        try:
            value = float(s)
        except ValueError:
            raise TraceError(f"{path}:{i + 1}: step time is not a number: {s[:40]!r}") from None
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
