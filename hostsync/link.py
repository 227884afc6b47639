"""The host side of the USB link: request/reply over pyserial, and a session speaking the protocol.

DeviceLink sends one request frame and waits for the reply with the same request id (stale
replies from an earlier, cut-off request are dropped). HostSession wraps each message type in a
method and does the host half of pairing and authentication (see device/sync/PROTOCOL.md).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import serial

from device.config import WearerConfig
from device.store import MinuteRow
from device.sync import pairing
from device.sync.channel import SEALED_REPLY, ChannelError, SecureChannel, session_keys
from device.sync.protocol import (
    OPEN_TYPES,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    Frame,
    FrameDecoder,
    MsgType,
    ProtocolError,
    decode_rows,
    encode_frame,
    reply_type,
)

try:
    from termios import error as _TermiosError
except ImportError:  # pragma: no cover - not POSIX
    _TermiosError = OSError  # type: ignore[misc,assignment]

# What a vanished port raises: pyserial's own, the OS's, and termios (tcdrain), not an OSError.
IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TermiosError)


class LinkError(Exception):
    """The link failed (port busy or gone, timeout, garbled reply); the message is plain."""


class DeviceError(Exception):
    """The device answered with an ERROR reply."""

    def __init__(self, code: str, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.extra = extra or {}


class AuthError(Exception):
    """The device's own proof did not check out (not the device we paired with)."""


def open_port(path: str, timeout: float = 0.05) -> Any:
    """Open the serial port exclusively, with plain messages for the usual failures."""
    try:
        return serial.serial_for_url(path, timeout=timeout, write_timeout=5.0, exclusive=True)
    except serial.SerialException as e:
        text = str(e)
        if "exclusively lock" in text or "Device or resource busy" in text or "[Errno 16]" in text:
            raise LinkError(f"Serial port {path} is busy: another program is using it. "
                            "Close it and try again.") from None
        if "No such file" in text or "[Errno 2]" in text:
            raise LinkError(f"Serial port {path} does not exist. Is the Walk Coach plugged in?"
                            ) from None
        if "Permission denied" in text or "[Errno 13]" in text:
            raise LinkError(f"No permission to open {path}. Add yourself to the 'dialout' "
                            "group (then log out and in again).") from None
        raise LinkError(f"Cannot open serial port {path}: {text}") from None
    except (OSError, ValueError, _TermiosError) as e:
        raise LinkError(f"Cannot open serial port {path}: {e}") from None


class DeviceLink:
    """Request/reply over any pyserial-like port (read/write/in_waiting/close).

    While ``channel`` is set (after login) every request but HELLO/PAIR/AUTH is sent sealed and
    only a sealed reply in order is accepted; any failure drops the channel (login again).
    """

    def __init__(self, port: Any, timeout: float = 5.0) -> None:
        self.port = port
        self.timeout = timeout
        self.channel: SecureChannel | None = None
        self._decoder = FrameDecoder()
        self._next_id = secrets.randbits(32)  # stale replies to another run never match
        self.bytes_sent = 0
        self.bytes_received = 0

    @classmethod
    def open(cls, path: str, timeout: float = 5.0) -> DeviceLink:
        return cls(open_port(path), timeout)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.port.close()

    def __enter__(self) -> DeviceLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, msg_type: MsgType, payload: dict[str, Any] | None = None,
                timeout: float | None = None) -> dict[str, Any]:
        """Send one request; return the reply body or raise DeviceError / LinkError."""
        self._next_id = (self._next_id + 1) & 0xFFFFFFFF
        rid = self._next_id
        channel = None if msg_type in OPEN_TYPES else self.channel
        frame = (channel.seal(msg_type, rid, payload or {}) if channel is not None
                 else encode_frame(msg_type, rid, payload or {}))
        try:
            self.port.write(frame)
            self.port.flush()
        except IO_ERRORS as e:
            self.channel = None
            raise LinkError(f"The Walk Coach was disconnected ({e}).") from None
        self.bytes_sent += len(frame)
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        want = reply_type(msg_type)
        try:
            return self._await_reply(rid, want, channel, deadline)
        except (LinkError, ChannelError):
            self.channel = None  # a sealed conversation that lost a step cannot go on
            raise
        except DeviceError as e:
            if e.code == "not_authenticated":
                self.channel = None
            raise

    def _await_reply(self, rid: int, want: int, channel: SecureChannel | None,
                     deadline: float) -> dict[str, Any]:
        while True:
            try:
                data = self.port.read(max(1, self.port.in_waiting))
            except (*IO_ERRORS, TypeError) as e:
                raise LinkError(f"The Walk Coach was disconnected ({e}).") from None
            self.bytes_received += len(data)
            for ev in self._decoder.feed(data) if data else ():
                if not isinstance(ev, Frame):
                    if ev.request_id == rid:
                        raise LinkError("The reply from the Walk Coach was garbled; "
                                        "try again (check the cable).")
                    continue
                if ev.request_id != rid:
                    continue  # a late reply to an earlier request
                if ev.msg_type == SEALED_REPLY:
                    if channel is None:
                        raise LinkError("The Walk Coach sent an unexpected sealed reply.")
                    try:
                        ev = channel.open(ev)
                    except ChannelError:
                        raise LinkError("A reply from the Walk Coach failed its security "
                                        "check; run the command again.") from None
                elif channel is not None and ev.msg_type != MsgType.ERROR:
                    raise LinkError("The Walk Coach answered a sealed request in the clear.")
                return self._reply_body(ev, want)
            if time.monotonic() > deadline:
                self._decoder.reset()
                raise LinkError("The Walk Coach did not answer in time. Is the sync "
                                "running on it? Unplug it, plug it in again and retry.")

    @staticmethod
    def _reply_body(frame: Frame, want: int) -> dict[str, Any]:
        try:
            body = frame.json()
        except ProtocolError as e:
            raise LinkError(f"Unreadable reply from the Walk Coach: {e}") from None
        if frame.msg_type == MsgType.ERROR:
            code = str(body.get("code", "error"))
            message = str(body.get("message", "error"))
            extra = {k: v for k, v in body.items() if k not in ("code", "message")}
            raise DeviceError(code, message, extra)
        if frame.msg_type != want:
            raise LinkError(f"Unexpected reply type {frame.msg_type:#x} from the Walk Coach.")
        return body


@dataclass
class PendingPairing:
    """The host half of a pairing exchange while the caregiver reads the code. device_msg is
    the device's current SPAKE2 message (a new one after each wrong code)."""

    device_id: str
    pair_nonce: bytes
    device_msg: bytes


@dataclass(frozen=True)
class PullPage:
    rows: list[MinuteRow]
    last_seq: int
    acked_seq: int
    more: bool


_ID = re.compile(r"[A-Za-z0-9-]{1,64}")  # device and store ids, as the device makes them

#: Log in again before a request when the session has been quiet this long (the device ends a
#: session after 30 s without a valid sealed request).
SESSION_REFRESH_S = 20.0


class HostSession:
    """One conversation with a device: hello, pair or authenticate, then sealed requests.

    After authenticate() the session logs in again by itself when it has been idle for
    SESSION_REFRESH_S or a failure dropped the channel (the device is checked again each time).
    """

    def __init__(self, link: DeviceLink) -> None:
        self.link = link
        self.device_id: str | None = None
        self.store_id: str = ""
        self.hello_info: dict[str, Any] = {}
        self._secret: bytes | None = None
        self._last_sealed = 0.0

    def hello(self) -> dict[str, Any]:
        self.link.channel = None
        self._secret = None
        try:
            body = self.link.request(MsgType.HELLO, {"versions": list(SUPPORTED_VERSIONS),
                                                     "host": "hostsync"})
        except DeviceError as e:
            if e.code == "version":
                raise LinkError(f"The Walk Coach speaks another protocol version ({e}). "
                                "Update hostsync or the Walk Coach so both match.") from None
            raise
        version = body.get("version")
        if version != PROTOCOL_VERSION or not isinstance(body.get("device_id"), str):
            who = ("update the Walk Coach's software" if isinstance(version, int)
                   and version < PROTOCOL_VERSION else "update hostsync")
            raise LinkError(f"The Walk Coach speaks protocol version {version!r}; this hostsync "
                            f"speaks {PROTOCOL_VERSION}: {who}.")
        store_id = body.get("store_id", "")
        if not isinstance(store_id, str) or not _ID.fullmatch(store_id or "-"):
            raise LinkError("The Walk Coach sent a malformed store id.")
        if not _ID.fullmatch(body["device_id"]):
            raise LinkError("The Walk Coach sent a malformed device id.")
        self.device_id = body["device_id"]
        self.store_id = store_id
        self.hello_info = body
        return body

    def request(self, msg_type: MsgType, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """A request inside the session (logging in again first when it went quiet)."""
        if self._secret is not None and (
            self.link.channel is None
            or time.monotonic() - self._last_sealed > SESSION_REFRESH_S
        ):
            self.authenticate(self._secret)
        try:
            body = self.link.request(msg_type, payload)
        except DeviceError as e:
            # the device ended the session (idle, or someone else's frame failed its check):
            # it did not act on the request, so log in again and ask once more
            if e.code != "not_authenticated" or self._secret is None:
                raise
            self.authenticate(self._secret)
            body = self.link.request(msg_type, payload)
        self._last_sealed = time.monotonic()
        return body

    def pair_begin(self) -> PendingPairing:
        body = self.link.request(MsgType.PAIR_BEGIN, {})
        try:
            pending = PendingPairing(str(body["device_id"]), bytes.fromhex(body["pair_nonce"]),
                                     bytes.fromhex(body["device_msg"]))
        except (KeyError, TypeError, ValueError) as e:
            raise LinkError(f"Malformed pairing reply from the device: {e}") from None
        if pending.device_id != self.device_id:
            raise LinkError("The pairing reply names another device.")
        return pending

    def pair_confirm(self, pending: PendingPairing, code: str) -> bytes:
        """Prove the code through SPAKE2; return the derived per-device secret (DeviceError
        wrong_code on a wrong code: ``pending`` then holds the device's next message)."""
        try:
            host_msg, key = pairing.host_pake(pairing.normalise_code(code), pending.device_id,
                                              pending.device_msg)
        except ValueError as e:
            raise LinkError(f"Malformed pairing message from the device: {e}") from None
        transcript = pairing.pairing_transcript(pending.device_id, pending.pair_nonce,
                                                pending.device_msg, host_msg)
        proof = pairing.pair_host_proof(key, transcript)
        try:
            body = self.link.request(MsgType.PAIR_CONFIRM,
                                     {"host_msg": host_msg.hex(), "proof": proof.hex()})
        except DeviceError as e:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                pending.device_msg = bytes.fromhex(e.extra["device_msg"])
            raise
        secret = pairing.derive_secret(key, transcript)
        try:
            device_proof = bytes.fromhex(body["device_proof"])
        except (KeyError, TypeError, ValueError):
            device_proof = b""
        if not pairing.same(device_proof, pairing.pair_device_proof(secret, transcript)):
            raise AuthError("The device's pairing answer did not check out.")
        return secret

    def authenticate(self, secret: bytes) -> None:
        if self.device_id is None:
            self.hello()
        assert self.device_id is not None
        body = self.link.request(MsgType.AUTH_BEGIN)
        try:
            device_nonce = bytes.fromhex(body["device_nonce"])
        except (KeyError, TypeError, ValueError):
            raise LinkError("Malformed authentication challenge from the device.") from None
        host_nonce = pairing.new_nonce()
        who = pairing.identity(self.device_id, self.store_id)
        self.link.channel = None
        proof = pairing.auth_host_proof(secret, device_nonce, host_nonce, who)
        reply = self.link.request(MsgType.AUTH_FINISH,
                                  {"host_nonce": host_nonce.hex(), "proof": proof.hex()})
        expected = pairing.auth_device_proof(secret, device_nonce, host_nonce, who)
        try:
            got = bytes.fromhex(reply["device_proof"])
        except (KeyError, TypeError, ValueError):
            got = b""
        if not pairing.same(got, expected):
            raise AuthError("The device could not prove it holds this computer's pairing.")
        self.link.channel = SecureChannel(
            session_keys(secret, device_nonce, host_nonce, self.device_id, self.store_id), "host")
        self._secret = secret
        self._last_sealed = time.monotonic()

    def status(self) -> dict[str, Any]:
        return self.request(MsgType.STATUS)

    def set_clock(self, utc: float, tz: str) -> int:
        """Set the device clock and zone; returns how many rows were re-anchored."""
        return int(self.request(MsgType.SET_CLOCK, {"utc": utc, "tz": tz})["reanchored"])

    def pull(self, after: int, limit: int) -> PullPage:
        body = self.request(MsgType.PULL, {"after": after, "limit": limit})
        try:
            rows = decode_rows(body)
            return PullPage(rows, int(body["last_seq"]), int(body["acked_seq"]),
                            bool(body["more"]))
        except (ProtocolError, KeyError, TypeError, ValueError) as e:
            raise LinkError(f"Malformed rows from the device: {e}") from None

    def ack(self, seq: int) -> int:
        return int(self.request(MsgType.ACK, {"seq": seq})["acked_seq"])

    def get_config(self) -> WearerConfig:
        return WearerConfig.from_json(self.request(MsgType.GET_CONFIG)["config"])

    def set_config(self, cfg: WearerConfig) -> WearerConfig:
        body = self.request(MsgType.SET_CONFIG, {"config": cfg.to_json()})
        return WearerConfig.from_json(body["config"])

    def set_config_json(self, obj: Any) -> dict[str, Any]:
        """Push raw JSON (the device validates it); for tests of the device's refusal."""
        return self.request(MsgType.SET_CONFIG, {"config": obj})

    def list_traces(self) -> list[dict[str, Any]]:
        return list(self.request(MsgType.LIST_TRACES)["traces"])

    def fetch_trace(self, name: str, chunk: int = 32 * 1024,
                    progress: Callable[[int, int], None] | None = None) -> bytes:
        """The whole trace file, chunk by chunk, each chunk and the whole checked by SHA-256."""
        parts: list[bytes] = []
        offset = 0
        while True:
            body = self.request(MsgType.FETCH_TRACE,
                                     {"name": name, "offset": offset, "length": chunk})
            data = base64.b64decode(body["data"])
            if hashlib.sha256(data).hexdigest() != body["sha256"]:
                raise LinkError(f"Trace {name}: chunk at {offset} failed its checksum.")
            parts.append(data)
            offset += len(data)
            if progress:
                progress(offset, int(body["size"]))
            if body["eof"] or not data:
                whole = b"".join(parts)
                if hashlib.sha256(whole).hexdigest() != body.get("file_sha256"):
                    raise LinkError(f"Trace {name}: the file checksum does not match.")
                return whole
