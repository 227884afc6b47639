"""The USB sync wire format, shared by the device agent and hostsync (see PROTOCOL.md).

A frame is::

    magic "WC" | version u8 | type u8 | request_id u32 | length u32 | header_crc u16
    | payload (length bytes, compact UTF-8 JSON object) | crc32 u32 (header + payload)

all big-endian. The 16-bit header check lets the decoder reject a false "WC" inside garbage
at once instead of waiting for a bogus length's worth of bytes; the CRC-32 covers everything.
The decoder is streaming and resynchronising: feed it any bytes, get back frames and
reports of what it skipped; it never raises.
"""

from __future__ import annotations

import enum
import json
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Any

MAGIC = b"WC"
PROTOCOL_VERSION = 2
SUPPORTED_VERSIONS = (2,)
_HEADER = struct.Struct(">2sBBII")  # magic, version, type, request_id, length
_HEADER_CHECK = struct.Struct(">H")
_CRC = struct.Struct(">I")
HEADER_LEN = _HEADER.size + _HEADER_CHECK.size  # 14
TRAILER_LEN = _CRC.size  # 4
MAX_FRAME = 64 * 1024
MAX_PAYLOAD = MAX_FRAME - HEADER_LEN - TRAILER_LEN
REPLY_BIT = 0x80
MAX_JSON_DEPTH = 8  # the deepest payload any message needs is 4 (rows in a list in an object)


class MsgType(enum.IntEnum):
    """Request types; a reply carries ``request | REPLY_BIT`` and the same request id."""

    HELLO = 0x01
    PAIR_BEGIN = 0x02
    PAIR_CONFIRM = 0x03
    AUTH_BEGIN = 0x04
    AUTH_FINISH = 0x05
    SET_CLOCK = 0x10
    STATUS = 0x11
    PULL = 0x12
    ACK = 0x13
    GET_CONFIG = 0x14
    SET_CONFIG = 0x15
    LIST_TRACES = 0x16
    FETCH_TRACE = 0x17
    SEALED = 0x20  # an encrypted request of the logged-in session (device/sync/channel.py)
    ERROR = 0xFF


#: Requests answered before authentication; everything else gets "not_authenticated".
OPEN_TYPES = frozenset(
    {MsgType.HELLO, MsgType.PAIR_BEGIN, MsgType.PAIR_CONFIRM, MsgType.AUTH_BEGIN,
     MsgType.AUTH_FINISH}
)


class ErrorCode(enum.StrEnum):
    """The ``code`` of an ERROR reply; ``message`` carries the plain-words detail."""

    VERSION = "version"
    UNKNOWN_TYPE = "unknown_type"
    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    CORRUPT_FRAME = "corrupt_frame"
    TOO_LARGE = "too_large"
    NOT_AUTHENTICATED = "not_authenticated"
    NOT_PAIRED = "not_paired"
    AUTH_FAILED = "auth_failed"
    NO_PAIRING = "no_pairing"
    WRONG_CODE = "wrong_code"
    LOCKED = "locked"
    INVALID_CONFIG = "invalid_config"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"


class ProtocolError(ValueError):
    """A frame or payload that cannot be used; ``code`` is the ErrorCode to reply with."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class FrameTooLarge(ValueError):
    """Raised by encode_frame when a payload would not fit in one frame (page it instead)."""


def reply_type(request_type: int) -> int:
    return (request_type | REPLY_BIT) & 0xFF


def _header_check(header: bytes) -> bytes:
    return _HEADER_CHECK.pack(zlib.crc32(header) & 0xFFFF)


def encode_json(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, the only payload encoding."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def frame_header(version: int, msg_type: int, request_id: int, length: int) -> bytes:
    """The first 12 header bytes (before the header check); sealed frames authenticate them."""
    return _HEADER.pack(MAGIC, version & 0xFF, msg_type & 0xFF, request_id & 0xFFFFFFFF, length)


def frame_from_header(header: bytes, body: bytes) -> bytes:
    """A complete frame from frame_header() and a payload of the length it names."""
    head = header + _header_check(header)
    return head + bytes(body) + _CRC.pack(zlib.crc32(body, zlib.crc32(head)))


def encode_frame(msg_type: int, request_id: int, payload: dict[str, Any] | bytes,
                 version: int = PROTOCOL_VERSION) -> bytes:
    """One complete frame; ``payload`` is a JSON object (or already-encoded bytes)."""
    body = payload if isinstance(payload, bytes | bytearray) else encode_json(payload)
    if len(body) > MAX_PAYLOAD:
        raise FrameTooLarge(f"payload of {len(body)} bytes exceeds {MAX_PAYLOAD}")
    return frame_from_header(frame_header(version, msg_type, request_id, len(body)), body)


_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def json_depth_ok(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """No more than ``limit`` nested arrays/objects, checked before parsing (a deeply nested
    payload would otherwise cost a RecursionError inside json.loads)."""
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    depth = 0
    for ch in brackets:
        depth += 1 if ch in (0x5B, 0x7B) else -1
        if depth > limit:
            return False
    return True


def encode_error(request_id: int, code: ErrorCode, message: str,
                 **extra: Any) -> bytes:
    return encode_frame(MsgType.ERROR, request_id,
                        {"code": code.value, "message": message, **extra})


@dataclass(frozen=True)
class Frame:
    """A frame whose header and CRC checked out; the payload is not yet parsed."""

    version: int
    msg_type: int
    request_id: int
    payload: bytes

    def json(self) -> dict[str, Any]:
        """The payload as a JSON object, or ProtocolError(BAD_JSON)."""
        if not json_depth_ok(self.payload):
            raise ProtocolError(ErrorCode.BAD_JSON,
                                f"payload nested deeper than {MAX_JSON_DEPTH} levels")
        try:
            obj = json.loads(self.payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProtocolError(ErrorCode.BAD_JSON, f"payload is not UTF-8 JSON: {exc}") from None
        if not isinstance(obj, dict):
            raise ProtocolError(ErrorCode.BAD_JSON, "payload must be a JSON object")
        return obj


@dataclass(frozen=True)
class FrameError:
    """Bytes the decoder skipped, and why.

    kind: "garbage" (no frame start), "bad_header", "oversized", "corrupt" (CRC mismatch),
    "truncated" (a frame cut short by a later complete frame, or dropped by reset()).
    request_id: set when the header was intact, so the peer can be told which request failed.
    """

    kind: str
    skipped: int
    request_id: int | None = None
    detail: str = ""


class FrameDecoder:
    """Streaming, resynchronising frame decoder: ``feed(bytes) -> [Frame | FrameError]``.

    Never raises on any input. A corrupt or truncated frame costs only itself: after a
    failure the search restarts one byte after the bad frame's start, so a good frame
    that began inside the damaged span is still found.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buf = bytearray()
        self._pos = 0  # start of unconsumed bytes in _buf
        self._look = 0  # look-ahead scan position for complete frames behind an incomplete one

    def reset(self) -> list[FrameError]:
        """Drop buffered bytes (after a timeout or reconnect); reports them as truncated."""
        pending = len(self._buf) - self._pos
        self._buf.clear()
        self._pos = self._look = 0
        return [FrameError("truncated", pending, None, "dropped on reset")] if pending else []

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        out: list[Frame | FrameError] = []
        try:
            self._buf += data
            self._decode(out)
        except Exception as exc:  # pragma: no cover - defensive: the decoder must never raise
            out.append(FrameError("garbage", self.buffered, None, f"decoder fault: {exc!r}"))
            self.reset()
        self._compact()
        return out

    def _compact(self) -> None:
        if self._pos and (self._pos > 65536 or self._pos == len(self._buf)):
            del self._buf[: self._pos]
            self._look = max(0, self._look - self._pos)
            self._pos = 0

    def _skip(self, n: int) -> None:
        self._pos += n
        self._look = max(self._look, self._pos)

    def _header_at(self, i: int) -> tuple[int, int, int, int] | str | None:
        """(version, type, request_id, length) of a valid header at i; None if not enough
        bytes yet; a reason string if the bytes there are not a header."""
        buf = self._buf
        if len(buf) - i < HEADER_LEN:
            return None
        header = bytes(buf[i : i + _HEADER.size])
        if buf[i + _HEADER.size : i + HEADER_LEN] != _header_check(header):
            return "header check mismatch"
        _magic, version, msg_type, request_id, length = _HEADER.unpack(header)
        return version, msg_type, request_id, length

    def _complete_at(self, i: int) -> bool | None:
        """Is there a complete, CRC-valid frame at i? None = cannot tell yet."""
        hdr = self._header_at(i)
        if hdr is None:
            return None
        if isinstance(hdr, str) or hdr[3] > self.max_payload:
            return False
        end = i + HEADER_LEN + hdr[3] + TRAILER_LEN
        if len(self._buf) < end:
            return None
        return self._crc_ok(i, end)

    def _crc_ok(self, i: int, end: int) -> bool:
        mv = memoryview(self._buf)
        try:
            (crc,) = _CRC.unpack(mv[end - TRAILER_LEN : end])
            return zlib.crc32(mv[i : end - TRAILER_LEN]) == crc
        finally:
            mv.release()

    def _later_frame(self, start: int) -> int | None:
        """Index of a complete valid frame after ``start`` (used while waiting on a frame
        that may have been cut short). Each byte is scanned once across calls."""
        j = max(start, self._look)
        buf = self._buf
        while True:
            j = buf.find(MAGIC, j)
            if j < 0:
                self._look = max(start, len(buf) - 1)
                return None
            ok = self._complete_at(j)
            if ok is None:
                self._look = j
                return None
            if ok:
                return j
            j += 1
            self._look = j

    def _decode(self, out: list[Frame | FrameError]) -> None:
        buf = self._buf
        while self._pos < len(buf):
            i = buf.find(MAGIC, self._pos)
            if i < 0:
                # keep a trailing first magic byte: it may start the next frame
                keep = 1 if buf[-1] == MAGIC[0] else 0
                n = len(buf) - self._pos - keep
                if n > 0:
                    out.append(FrameError("garbage", n))
                    self._skip(n)
                return
            if i > self._pos:
                out.append(FrameError("garbage", i - self._pos))
                self._skip(i - self._pos)
            hdr = self._header_at(i)
            if hdr is None:
                return
            if isinstance(hdr, str):
                out.append(FrameError("bad_header", 1, None, hdr))
                self._skip(1)
                continue
            version, msg_type, request_id, length = hdr
            if length > self.max_payload:
                out.append(FrameError("oversized", 1, request_id,
                                      f"length {length} exceeds {self.max_payload}"))
                self._skip(1)
                continue
            end = i + HEADER_LEN + length + TRAILER_LEN
            if len(buf) < end:
                later = self._later_frame(i + 1)
                if later is None:
                    return
                out.append(FrameError("truncated", later - i, request_id,
                                      "frame cut short by a later frame"))
                self._skip(later - i)
                continue
            if not self._crc_ok(i, end):
                out.append(FrameError("corrupt", 1, request_id, "CRC-32 mismatch"))
                self._skip(1)
                continue
            payload = bytes(buf[i + HEADER_LEN : end - TRAILER_LEN])
            out.append(Frame(version, msg_type, request_id, payload))
            self._skip(end - i)


# -- minute rows on the wire -----------------------------------------------------------------

ROW_COLUMNS = ("seq", "start_utc", "steps", "cadence_spm", "moderate", "chip_steps",
               "clock_trusted", "boot", "mono_start", "battery_percent", "wear_active_s",
               "wear_turned", "temp_c")
#: What firmware before the wear evidence sends (issue 13); still accepted.
ROW_COLUMNS_NO_WEAR = ROW_COLUMNS[:10]
#: What firmware before the battery gauge sends; still accepted.
ROW_COLUMNS_NO_BATTERY = ROW_COLUMNS[:9]


def encode_rows(rows: list[Any]) -> dict[str, Any]:
    """PULL reply body for MinuteRows: positional arrays, boot ids listed once per page."""
    boots: dict[str, int] = {}
    out = []
    for r in rows:
        b = boots.setdefault(r.boot_id, len(boots))
        battery = getattr(r, "battery_percent", None)
        turned = getattr(r, "wear_turned", None)
        temp = getattr(r, "temp_c", None)
        out.append([r.seq, r.start_utc, r.steps, round(float(r.cadence_spm), 3),
                    1 if r.moderate else 0, r.chip_steps, 1 if r.clock_trusted else 0, b,
                    round(float(r.mono_start), 3),
                    None if battery is None else round(float(battery), 1),
                    getattr(r, "wear_active_s", None),
                    None if turned is None else int(bool(turned)),
                    None if temp is None else round(float(temp), 2)])
    return {"columns": list(ROW_COLUMNS), "boots": list(boots), "rows": out}


def decode_rows(body: dict[str, Any]) -> list[Any]:
    """MinuteRows from a PULL reply body; ProtocolError(BAD_REQUEST) if malformed."""
    from device.store import MinuteRow

    try:
        columns = list(body["columns"])
        if columns not in (list(ROW_COLUMNS), list(ROW_COLUMNS_NO_WEAR),
                           list(ROW_COLUMNS_NO_BATTERY)):
            raise ValueError(f"unexpected columns {body['columns']!r}")
        boots = [str(b) for b in body["boots"]]
        rows = []
        for values in body["rows"]:
            if len(values) != len(columns):
                raise ValueError(f"a row has {len(values)} values for {len(columns)} columns")
            seq, start, steps, cad, mod, chip, trusted, boot, mono = values[:9]
            battery = values[9] if len(values) > 9 else None
            if battery is not None and (
                not isinstance(battery, int | float) or isinstance(battery, bool)
                or not 0 <= battery <= 100
            ):
                raise ValueError("battery_percent must be a number from 0 to 100 or null")
            active, turned, temp = (values[10:13] if len(values) > 10 else (None, None, None))
            if active is not None and (not isinstance(active, int) or isinstance(active, bool)
                                       or not 0 <= active <= 60):
                raise ValueError("wear_active_s must be a whole number from 0 to 60 or null")
            if turned not in (None, 0, 1) or isinstance(turned, bool | float):
                raise ValueError("wear_turned must be 0, 1 or null")
            if temp is not None and (not isinstance(temp, int | float) or isinstance(temp, bool)
                                     or not -40 <= temp <= 125):
                raise ValueError("temp_c must be a number from -40 to 125 or null")
            for v in (seq, start, steps):
                if not isinstance(v, int) or isinstance(v, bool):
                    raise ValueError("seq, start_utc and steps must be integers")
            if chip is not None and (not isinstance(chip, int) or isinstance(chip, bool)):
                raise ValueError("chip_steps must be an integer or null")
            rows.append(MinuteRow(start_utc=start, steps=steps, cadence_spm=float(cad),
                                  moderate=bool(mod), chip_steps=chip,
                                  clock_trusted=bool(trusted), boot_id=boots[boot],
                                  mono_start=float(mono), seq=seq,
                                  battery_percent=None if battery is None else float(battery),
                                  wear_active_s=active,
                                  wear_turned=None if turned is None else bool(turned),
                                  temp_c=None if temp is None else float(temp)))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ProtocolError(ErrorCode.BAD_REQUEST, f"malformed rows: {exc}") from None
    return rows
