"""One typed, checked request per message type: the agent's edge.

Why: handlers used to pick fields out of raw JSON, so a wrong type (a list for a name, 2**70 for
a row number, a number for a time zone) could reach SQLite or the file system and come back as
an "internal" error with a traceback in the log. Every request body is parsed here first; any
field of the wrong type or range raises ProtocolError(BAD_REQUEST) naming the field. Fields a
message does not define are ignored (a newer host may send more).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from device.sync.protocol import ErrorCode, MsgType, ProtocolError

MAX_SEQ = 2**53  # row numbers beyond this are refused on both sides
UTC_FLOOR = 1_704_067_200  # 2024-01-01: no Walk Coach clock can be earlier
UTC_CEIL = 4_102_444_800  # 2100-01-01
PULL_MAX_ROWS = 2000
TRACE_CHUNK_MAX = 32 * 1024
TRACE_OFFSET_MAX = 2**40
NAME_MAX = 255


def _bad(message: str) -> ProtocolError:
    return ProtocolError(ErrorCode.BAD_REQUEST, message[:200])


def _int(body: dict[str, Any], name: str, lo: int, hi: int) -> int:
    v = body.get(name)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise _bad(f"{name} must be an integer {lo}..{hi}")
    return v


def _hex(body: dict[str, Any], name: str, nbytes: int) -> bytes:
    v = body.get(name)
    if not isinstance(v, str) or len(v) != 2 * nbytes:
        raise _bad(f"{name} must be {nbytes} bytes of hex")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise _bad(f"{name} must be {nbytes} bytes of hex") from None


def _text(body: dict[str, Any], name: str, max_len: int, default: str | None = None) -> str:
    v = body.get(name, default)
    if not isinstance(v, str) or not 0 < len(v) <= max_len or "\x00" in v:
        raise _bad(f"{name} must be text of 1..{max_len} characters")
    return v


@dataclass(frozen=True)
class Empty:
    """STATUS, GET_CONFIG, LIST_TRACES, AUTH_BEGIN, PAIR_BEGIN: no fields."""

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Empty:
        return cls()


@dataclass(frozen=True)
class Hello:
    versions: tuple[int, ...]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Hello:
        v = body.get("versions")
        if v is None:
            return cls(())
        if not isinstance(v, list) or len(v) > 16:
            raise _bad("versions must be a list of up to 16 integers")
        return cls(tuple(x for x in v if isinstance(x, int) and not isinstance(x, bool)
                         and 0 <= x <= 255))


@dataclass(frozen=True)
class PairConfirm:
    host_msg: bytes
    proof: bytes

    @classmethod
    def parse(cls, body: dict[str, Any]) -> PairConfirm:
        from device.sync.pairing import SPAKE_MSG_BYTES

        return cls(_hex(body, "host_msg", SPAKE_MSG_BYTES), _hex(body, "proof", 32))


@dataclass(frozen=True)
class AuthFinish:
    host_nonce: bytes
    proof: bytes

    @classmethod
    def parse(cls, body: dict[str, Any]) -> AuthFinish:
        return cls(_hex(body, "host_nonce", 32), _hex(body, "proof", 32))


@dataclass(frozen=True)
class SetClock:
    utc: float
    tz: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SetClock:
        from device.config import ConfigError, check_timezone

        utc = body.get("utc")
        if (not isinstance(utc, int | float) or isinstance(utc, bool)
                or not math.isfinite(utc) or not UTC_FLOOR <= utc <= UTC_CEIL):
            raise _bad(f"utc {utc!r} is not a plausible time (2024 to 2100)"[:120])
        tz = _text(body, "tz", 64)
        try:
            check_timezone(tz)
        except (ConfigError, ValueError, OSError) as e:
            raise _bad(str(e)) from None
        return cls(float(utc), tz)


@dataclass(frozen=True)
class Pull:
    after: int
    limit: int

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Pull:
        return cls(_int(body, "after", 0, MAX_SEQ), _int(body, "limit", 1, PULL_MAX_ROWS))


@dataclass(frozen=True)
class Ack:
    seq: int

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Ack:
        return cls(_int(body, "seq", 0, MAX_SEQ))


@dataclass(frozen=True)
class SetConfig:
    """The config itself is checked by WearerConfig.from_json (invalid_config)."""

    config: Any

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SetConfig:
        if "config" not in body:
            raise _bad("config missing")
        return cls(body["config"])


@dataclass(frozen=True)
class FetchTrace:
    name: str
    offset: int
    length: int

    @classmethod
    def parse(cls, body: dict[str, Any]) -> FetchTrace:
        name = _text(body, "name", NAME_MAX)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise _bad("name must be a plain file name")
        return cls(name, _int(body, "offset", 0, TRACE_OFFSET_MAX),
                   _int(body, "length", 1, TRACE_CHUNK_MAX))


REQUESTS: dict[MsgType, Any] = {
    MsgType.HELLO: Hello,
    MsgType.PAIR_BEGIN: Empty,
    MsgType.PAIR_CONFIRM: PairConfirm,
    MsgType.AUTH_BEGIN: Empty,
    MsgType.AUTH_FINISH: AuthFinish,
    MsgType.SET_CLOCK: SetClock,
    MsgType.STATUS: Empty,
    MsgType.PULL: Pull,
    MsgType.ACK: Ack,
    MsgType.GET_CONFIG: Empty,
    MsgType.SET_CONFIG: SetConfig,
    MsgType.LIST_TRACES: Empty,
    MsgType.FETCH_TRACE: FetchTrace,
}


def parse_request(msg_type: MsgType, body: dict[str, Any]) -> Any:
    """The typed request for ``msg_type``; ProtocolError(BAD_REQUEST) if a field is wrong."""
    return REQUESTS[msg_type].parse(body)
