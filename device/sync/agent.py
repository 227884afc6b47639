"""The device side of USB sync: a thread that serves the framed protocol on the gadget serial port.

SyncSession turns decoded frames into reply bytes (no port, testable on its own); SyncAgent
owns the port and the thread. The agent reads through its own Store connection (same file,
WAL) so it never holds the sampling loop's connection for long; only SET_CLOCK goes through
the runtime's DeviceClock (a few short transactions). A vanished port (cable pulled, EIO, the
pty master closed) closes the session and the port is re-opened with back-off, forever.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import serial

from device import __version__ as FIRMWARE_VERSION
from device.battery import battery_summary
from device.clock import DeviceClock
from device.config import ConfigError, WearerConfig
from device.store import STORE_FILENAME, Store, StoreError
from device.sync import identity, messages, pairing
from device.sync.channel import OVERHEAD, ChannelError, SecureChannel, session_keys
from device.sync.protocol import (
    MAX_PAYLOAD,
    OPEN_TYPES,
    PROTOCOL_VERSION,
    SUPPORTED_VERSIONS,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameError,
    FrameTooLarge,
    MsgType,
    ProtocolError,
    encode_error,
    encode_frame,
    encode_json,
    encode_rows,
    reply_type,
)

try:
    from termios import error as _TermiosError
except ImportError:  # pragma: no cover - not POSIX
    _TermiosError = OSError  # type: ignore[misc,assignment]

log = logging.getLogger(__name__)
# What a vanished port raises: pyserial's own, the OS's, and termios (not an OSError).
_IO_ERRORS: tuple[type[BaseException], ...] = (serial.SerialException, OSError, _TermiosError)

META_SECRET = identity.META_SECRET
META_LAST_SYNC = "last_sync_utc"
PAIRING_TTL_S = 300.0
AUTH_CHALLENGE_TTL_S = 30.0
IDLE_LOGOUT_S = 30.0  # a session with no valid sealed request for this long ends
WRITE_INTERVAL_S = 1.0  # refusals (wrong codes, failed logins) reach the SD card at most this often
PULL_MAX_ROWS = messages.PULL_MAX_ROWS
TRACE_CHUNK_MAX = messages.TRACE_CHUNK_MAX
TRACES_DIR = "traces"

_KNOWN_TYPES = {int(t) for t in MsgType} - {int(MsgType.ERROR), int(MsgType.SEALED)}


def version_mismatch(version: int) -> str:
    """The plain line for a peer speaking another protocol version: who must update."""
    if version < PROTOCOL_VERSION:
        return (f"protocol version {version} is not supported; this Walk Coach speaks version "
                f"{PROTOCOL_VERSION}: update hostsync")
    return (f"protocol version {version} is not supported; this Walk Coach speaks version "
            f"{PROTOCOL_VERSION}: update the Walk Coach's software")


class _Refused(Exception):
    """An error reply with extra fields (retry_after...)."""

    def __init__(self, code: ErrorCode, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.extra = code, extra


class SyncSession:
    """One host conversation: authentication state, pairing in progress, request handlers.

    handle() never raises: every problem becomes an ERROR reply. Only HELLO, PAIR_*, AUTH_* are
    answered in the clear; everything else is answered only inside the encrypted session that
    AUTH_FINISH starts (SEALED frames, device/sync/channel.py), so nothing about the wearer
    leaves the device in the clear and nobody but the logged-in host can ask for a change. The
    session ends on HELLO, a new login, IDLE_LOGOUT_S without a valid sealed request, or the
    first sealed frame that does not open.
    """

    def __init__(
        self,
        store: Store,
        clock: DeviceClock,
        device_id: str,
        data_dir: Path,
        *,
        show_pairing_code: Callable[[str | None], None] = lambda _c: None,
        on_config_changed: Callable[[WearerConfig], None] = lambda _c: None,
        firmware_version: str = FIRMWARE_VERSION,
        now: Callable[[], float] = time.monotonic,
        guard: pairing.PairingGuard | None = None,
        health: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        self.store = store
        self._health = health
        self.clock = clock
        self.device_id = device_id
        self.data_dir = Path(data_dir)
        self.firmware_version = firmware_version
        self._show_code = show_pairing_code
        self._on_config = on_config_changed
        self._now = now
        self.guard = guard or pairing.PairingGuard(now, store.get_meta, store.set_meta)
        self._channel: SecureChannel | None = None
        self._session_activity = 0.0
        self._sent_high = 0  # highest seq this session showed the host (ACK may not exceed it)
        self._auth_nonce: tuple[bytes, float] | None = None
        self._seen_host_nonces: collections.deque[bytes] = collections.deque(maxlen=256)
        self._pairing: dict[str, Any] | None = None
        self._store_id = identity.store_id(store)
        self._notes: collections.Counter[str] = collections.Counter()
        self._last_write = float("-inf")

    @property
    def authenticated(self) -> bool:
        return self._channel is not None

    @property
    def store_id(self) -> str:
        return self._store_id

    def end_session(self, why: str = "") -> None:
        """Forget the session keys: every later request needs a new login."""
        if self._channel is not None and why:
            log.info("sync session ended: %s", why)
        self._channel = None

    # -- entry points ---------------------------------------------------------------------------

    def handle(self, event: Frame | FrameError) -> bytes | None:
        """Reply bytes for one decoder event (None: nothing to say, e.g. line noise)."""
        if isinstance(event, FrameError):
            if event.request_id is None:
                return None
            code = ErrorCode.TOO_LARGE if event.kind == "oversized" else ErrorCode.CORRUPT_FRAME
            return encode_error(event.request_id, code, f"frame refused: {event.kind}"
                                f"{': ' + event.detail if event.detail else ''}")
        rid = event.request_id
        if event.msg_type == MsgType.SEALED and event.version in SUPPORTED_VERSIONS:
            return self._handle_sealed(event)
        reply_t, body = self._answer(event, sealed=False)
        return encode_frame(reply_t, rid, body)

    def _handle_sealed(self, frame: Frame) -> bytes:
        rid = frame.request_id
        channel = self._channel
        if channel is None:
            return encode_error(rid, ErrorCode.NOT_AUTHENTICATED,
                                "no session: authenticate first")
        try:
            inner = channel.open(frame)
        except ChannelError as e:
            self.end_session(str(e))
            return encode_error(rid, ErrorCode.NOT_AUTHENTICATED,
                                "session ended: a frame failed its check; authenticate again")
        self._session_activity = self._now()
        reply_t, body = self._answer(inner, sealed=True)
        try:
            return channel.seal(reply_t, rid, body)
        except FrameTooLarge:
            return channel.seal(MsgType.ERROR, rid, {"code": ErrorCode.INTERNAL.value,
                                                     "message": "reply too large"})

    def _answer(self, frame: Frame, sealed: bool) -> tuple[int, dict[str, Any] | bytes]:
        """(reply type, reply body) for one request; every failure is an ERROR body."""
        try:
            return reply_type(frame.msg_type), self._dispatch(frame, sealed)
        except _Refused as r:
            code, message, extra = r.code, str(r), r.extra
        except ProtocolError as e:
            code, message, extra = e.code, str(e), {}
        except ConfigError as e:
            code, message, extra = ErrorCode.INVALID_CONFIG, str(e), {}
        except (StoreError, FrameTooLarge) as e:
            code, message, extra = ErrorCode.INTERNAL, f"device problem: {e}"[:300], {}
        except Exception as e:  # never let one request kill the agent
            log.exception("sync request %#x failed", frame.msg_type)
            code, message, extra = ErrorCode.INTERNAL, f"device problem: {type(e).__name__}", {}
        return MsgType.ERROR, {"code": code.value, "message": message, **extra}

    def tick(self) -> None:
        """Called when the line is idle: expire a pairing code and an idle login."""
        now = self._now()
        if self._pairing and now > self._pairing["expires"]:
            self.cancel_pairing()
        if self._channel is not None and now - self._session_activity > IDLE_LOGOUT_S:
            self.end_session("idle")
        self.flush_notes()

    def _note(self, what: str) -> None:
        """Count an event an attacker can repeat at will (codes shown, wrong codes, refused
        logins); written with the others by flush_notes(), at most once a second."""
        self._notes[what] += 1
        self.flush_notes()

    def flush_notes(self, force: bool = False) -> None:
        """At most one commit per WRITE_INTERVAL_S: the failure counter first (it guards the
        back-off across reboots), then the counted events as one log line. ``force`` (session
        end) writes both."""
        now = self._now()
        if not force and now - self._last_write < WRITE_INTERVAL_S:
            return
        wrote = self.guard.flush()
        if self._notes and (force or not wrote):
            self.store.log_event("sync", "; ".join(
                what if n == 1 else f"{what} x{n}" for what, n in self._notes.items()))
            self._notes.clear()
            wrote = True
        if wrote:
            self._last_write = now

    def cancel_pairing(self) -> None:
        if self._pairing is not None:
            self._pairing = None
            self._safe_show(None)

    # -- dispatch -------------------------------------------------------------------------------

    def _dispatch(self, frame: Frame, sealed: bool) -> dict[str, Any] | bytes:
        if frame.version not in SUPPORTED_VERSIONS:
            raise ProtocolError(ErrorCode.VERSION, version_mismatch(frame.version))
        if frame.msg_type not in _KNOWN_TYPES:
            raise ProtocolError(ErrorCode.UNKNOWN_TYPE, f"unknown message type {frame.msg_type:#x}")
        msg_type = MsgType(frame.msg_type)
        if msg_type in OPEN_TYPES and sealed:
            raise ProtocolError(ErrorCode.BAD_REQUEST, f"{msg_type.name} is sent in the clear")
        if msg_type not in OPEN_TYPES and not sealed:
            raise ProtocolError(ErrorCode.NOT_AUTHENTICATED,
                                "not authenticated: pair or authenticate first")
        request = messages.parse_request(msg_type, frame.json())  # typed and checked
        handler = getattr(self, "_on_" + msg_type.name.lower())
        return handler(request)

    # -- open requests --------------------------------------------------------------------------

    def _paired_secret(self) -> bytes | None:
        raw = self.store.get_meta(META_SECRET)
        try:
            return bytes.fromhex(raw) if raw else None
        except ValueError:
            return None

    def _on_hello(self, req: messages.Hello) -> dict[str, Any]:
        """Starts a session: any earlier login or pairing on this port is dropped."""
        self.end_session("HELLO")
        self.cancel_pairing()
        self._auth_nonce = None
        versions = req.versions or (PROTOCOL_VERSION,)
        if not any(v in SUPPORTED_VERSIONS for v in versions):
            raise ProtocolError(ErrorCode.VERSION, version_mismatch(max(versions)))
        return {"versions": list(SUPPORTED_VERSIONS), "version": PROTOCOL_VERSION,
                "device_id": self.device_id, "store_id": self.store_id,
                "store_legacy": identity.store_is_legacy(self.store),
                "firmware": self.firmware_version,
                "paired": self._paired_secret() is not None, "session_idle_s": IDLE_LOGOUT_S}

    def _check_lock(self) -> None:
        wait = self.guard.wait_remaining()
        if wait > 0:
            raise _Refused(ErrorCode.LOCKED,
                           f"too many wrong codes: try again in {math.ceil(wait)} s",
                           retry_after=math.ceil(wait))

    def _on_pair_begin(self, req: messages.Empty) -> dict[str, Any]:
        """Show a new code and start the device's half of SPAKE2 with it."""
        self._check_lock()
        code = pairing.new_code()
        pake = pairing.DevicePake(code, self.device_id)
        self._pairing = {"code": code, "nonce": pairing.new_nonce(), "pake": pake,
                         "expires": self._now() + PAIRING_TTL_S}
        self._safe_show(code)
        self._note("pairing code shown")
        return {"device_id": self.device_id, "pair_nonce": self._pairing["nonce"].hex(),
                "device_msg": pake.message.hex(), "code_digits": pairing.CODE_DIGITS,
                "expires_s": PAIRING_TTL_S}

    def _on_pair_confirm(self, req: messages.PairConfirm) -> dict[str, Any]:
        host_msg, proof = req.host_msg, req.proof
        p = self._pairing
        if p is None or self._now() > p["expires"]:
            self.cancel_pairing()
            raise _Refused(ErrorCode.NO_PAIRING, "no pairing in progress: start pairing again")
        self._check_lock()
        pake: pairing.DevicePake = p["pake"]
        # a SPAKE2 run is single use: whatever happens, the next try uses a fresh one
        p["pake"] = pairing.DevicePake(p["code"], self.device_id)
        transcript = pairing.pairing_transcript(self.device_id, p["nonce"], pake.message,
                                                host_msg)
        try:
            key = pake.key(host_msg)
            ok = pairing.same(proof, pairing.pair_host_proof(key, transcript))
        except ValueError:
            ok = False
        if not ok:
            self.guard.record_failure()
            self._note("wrong pairing code")
            raise _Refused(ErrorCode.WRONG_CODE, "wrong code",
                           retry_after=math.ceil(self.guard.delay()),
                           device_msg=p["pake"].message.hex())
        secret = pairing.derive_secret(key, transcript)
        self.store.set_meta(META_SECRET, secret.hex())
        self.guard.record_success()
        self.cancel_pairing()
        self.store.log_event("sync", "paired with a host")
        return {"device_id": self.device_id,
                "device_proof": pairing.pair_device_proof(secret, transcript).hex()}

    def _on_auth_begin(self, req: messages.Empty) -> dict[str, Any]:
        if self._paired_secret() is None:
            raise ProtocolError(ErrorCode.NOT_PAIRED, "this device is not paired: pair first")
        nonce = pairing.new_nonce()
        self._auth_nonce = (nonce, self._now())
        return {"device_nonce": nonce.hex(), "device_id": self.device_id}

    def _on_auth_finish(self, req: messages.AuthFinish) -> dict[str, Any]:
        pending, self._auth_nonce = self._auth_nonce, None  # single use, whatever happens
        self.end_session("new login")
        host_nonce, proof = req.host_nonce, req.proof
        secret = self._paired_secret()
        if secret is None:
            raise ProtocolError(ErrorCode.NOT_PAIRED, "this device is not paired: pair first")
        if pending is None or self._now() - pending[1] > AUTH_CHALLENGE_TTL_S:
            raise ProtocolError(ErrorCode.AUTH_FAILED, "no fresh challenge: authenticate again")
        if host_nonce in self._seen_host_nonces:
            raise ProtocolError(ErrorCode.AUTH_FAILED, "host nonce reused")
        self._seen_host_nonces.append(host_nonce)
        who = pairing.identity(self.device_id, self.store_id)
        expected = pairing.auth_host_proof(secret, pending[0], host_nonce, who)
        if not pairing.same(proof, expected):
            self._note("authentication refused")
            raise ProtocolError(ErrorCode.AUTH_FAILED, "authentication failed")
        self._channel = SecureChannel(
            session_keys(secret, pending[0], host_nonce, self.device_id, self.store_id), "device")
        self._session_activity = self._now()
        self._sent_high = 0
        return {"device_proof": pairing.auth_device_proof(secret, pending[0], host_nonce,
                                                          who).hex()}

    # -- authenticated requests -----------------------------------------------------------------

    def _on_status(self, req: messages.Empty) -> dict[str, Any]:
        cfg = self.store.get_config()
        last = self.store.last_seq()
        acked = self.store.acknowledged_seq()
        return {"device_id": self.device_id, "firmware": self.firmware_version,
                "last_seq": last, "acked_seq": acked, "unacked_rows": max(0, last - acked),
                "rows_stored": self.store.minute_count(), "clock_trusted": self.clock.trusted(),
                "utc_now": self.clock.utc_now(), "wearer_label": cfg.wearer_label,
                "timezone": cfg.timezone, "last_sync_utc": self.store.get_meta(META_LAST_SYNC),
                "battery": battery_summary(self.store, self.clock.utc_now()),
                "health": self._health()}

    def _on_set_clock(self, req: messages.SetClock) -> dict[str, Any]:
        utc, tz = req.utc, req.tz
        before = self.store.get_config()
        # Re-anchor through our own connection first so we can report the count; set_time
        # then records the anchor (and re-anchors anything written in between).
        reanchored = self.store.reanchor(self.clock.boot_id, self.clock.monotonic(), float(utc))
        self.clock.set_time(float(utc), tz)
        self.store.set_meta(META_LAST_SYNC, repr(float(utc)))
        after = self.store.get_config()
        if after != before:
            self._safe_config_changed(after)
        return {"reanchored": reanchored, "clock_trusted": self.clock.trusted()}

    def _on_pull(self, req: messages.Pull) -> bytes:
        """The page as encoded JSON (encoded once: it is also how its size is checked)."""
        after, limit = req.after, req.limit
        rows = self.store.minutes_after(after, limit)
        last = self.store.last_seq()
        acked = self.store.acknowledged_seq()
        while True:
            raw = encode_json({**encode_rows(rows), "last_seq": last, "acked_seq": acked,
                               "more": bool(rows) and rows[-1].seq < last})
            if len(raw) + OVERHEAD <= MAX_PAYLOAD or len(rows) <= 1:
                break
            rows = rows[: max(1, len(rows) // 2)]
        # the host may acknowledge what it holds: what it asked after, and what it was sent
        self._sent_high = max(self._sent_high, min(after, last), rows[-1].seq if rows else 0)
        return raw

    def _on_ack(self, req: messages.Ack) -> dict[str, Any]:
        seq = req.seq
        if seq > max(self._sent_high, self.store.acknowledged_seq()):
            raise ProtocolError(ErrorCode.BAD_REQUEST,
                                f"ACK {seq} is beyond the rows sent in this session")
        try:
            self.store.acknowledge(seq)
        except StoreError as e:
            raise ProtocolError(ErrorCode.BAD_REQUEST, str(e)) from None
        return {"acked_seq": self.store.acknowledged_seq()}

    def _on_get_config(self, req: messages.Empty) -> dict[str, Any]:
        return {"config": self.store.get_config().to_json()}

    def _on_set_config(self, req: messages.SetConfig) -> dict[str, Any]:
        cfg = WearerConfig.from_json(req.config)  # ConfigError -> INVALID_CONFIG, intact
        self.store.set_config(cfg)
        self.store.log_event("sync", "config changed by host")
        self._safe_config_changed(cfg)
        return {"config": cfg.to_json()}

    def _traces_dir(self) -> Path:
        return self.data_dir / TRACES_DIR

    def _on_list_traces(self, req: messages.Empty) -> dict[str, Any]:
        d = self._traces_dir()
        out = []
        try:
            entries = sorted(d.iterdir()) if d.is_dir() else []
        except OSError:
            entries = []
        for p in entries:
            try:
                if p.is_file() and not p.is_symlink():
                    st = p.stat()
                    out.append({"name": p.name, "size": st.st_size, "mtime": st.st_mtime})
            except OSError:
                continue
        return {"traces": out}

    def _on_fetch_trace(self, req: messages.FetchTrace) -> dict[str, Any]:
        name, offset, length = req.name, req.offset, req.length
        path = self._traces_dir() / name
        try:
            if path.is_symlink() or not path.is_file():
                raise FileNotFoundError(name)
            with path.open("rb") as f:
                size = f.seek(0, 2)
                f.seek(min(offset, size))
                data = f.read(length)
            eof = offset + len(data) >= size
            reply: dict[str, Any] = {
                "name": name, "offset": offset, "size": size, "eof": eof,
                "data": base64.b64encode(data).decode("ascii"),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            if eof:
                h = hashlib.sha256()
                with path.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 16), b""):
                        h.update(block)
                reply["file_sha256"] = h.hexdigest()
            return reply
        except OSError:
            raise ProtocolError(ErrorCode.NOT_FOUND, f"no trace named {name!r}"[:120]) from None

    # -- callbacks ------------------------------------------------------------------------------

    def _safe_show(self, code: str | None) -> None:
        try:
            self._show_code(code)
        except Exception:
            log.exception("show_pairing_code callback failed")

    def _safe_config_changed(self, cfg: WearerConfig) -> None:
        try:
            self._on_config(cfg)
        except Exception:
            log.exception("on_config_changed callback failed")


class SyncAgent:
    """Serves the sync protocol on a serial port in a daemon thread; survives cable pulls.

    port: a device path ("/dev/ttyGS0") or any pyserial URL ("loop://", "socket://...").
    data_dir: the firmware's data directory (its traces/ folder is offered to the host).
    clock: the runtime's DeviceClock (SET_CLOCK calls its set_time).
    store_path: the store file (default data_dir/walkcoach.sqlite3); the agent opens its own
    connection to it inside its thread.
    show_pairing_code(code | None): the screens show / hide the pairing code.
    on_config_changed(cfg): the host pushed a new WearerConfig (already stored).
    """

    def __init__(
        self,
        port: str,
        data_dir: Path,
        clock: DeviceClock,
        device_id: str,
        *,
        show_pairing_code: Callable[[str | None], None] = lambda _c: None,
        on_config_changed: Callable[[WearerConfig], None] = lambda _c: None,
        store_path: Path | None = None,
        health: Callable[[], dict[str, Any]] = dict,
        firmware_version: str = FIRMWARE_VERSION,
        read_timeout: float = 0.05,
        max_backoff: float = 2.0,
    ) -> None:
        self.port = port
        self.data_dir = Path(data_dir)
        self.store_path = Path(store_path) if store_path else self.data_dir / STORE_FILENAME
        self.clock = clock
        self.device_id = device_id
        self.firmware_version = firmware_version
        self._show_code = show_pairing_code
        self._on_config = on_config_changed
        self._health = health
        self.read_timeout = read_timeout
        self.max_backoff = max_backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._serial: Any = None
        self._guard: pairing.PairingGuard | None = None
        self.connections = 0  # how many times the port was opened (for status / tests)
        self.connected = threading.Event()

    def start(self) -> None:
        """Start the agent thread (idempotent)."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sync-agent", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close the port."""
        self._stop.set()
        with self._lock:
            ser = self._serial
        if ser is not None:
            with contextlib.suppress(Exception):
                ser.cancel_read()
        if self._thread:
            self._thread.join(timeout)
        self._thread = None

    # -- thread ---------------------------------------------------------------------------------

    def _run(self) -> None:
        store: Store | None = None
        backoff = 0.05
        while not self._stop.is_set():
            try:
                if store is None:
                    store = Store(self.store_path)
                    self._guard = pairing.PairingGuard(time.monotonic, store.get_meta,
                                                       store.set_meta)
                ser = serial.serial_for_url(self.port, timeout=self.read_timeout,
                                            write_timeout=5.0)
            except (*_IO_ERRORS, ValueError, StoreError) as e:
                log.debug("sync port %s not available: %s", self.port, e)
                self._stop.wait(backoff)
                backoff = min(self.max_backoff, backoff * 2)
                continue
            backoff = 0.05
            with self._lock:
                self._serial = ser
            self.connections += 1
            self.connected.set()
            try:
                self._serve(ser, store)
            except Exception:  # the agent must never die
                log.exception("sync session crashed; reopening the port")
            finally:
                self.connected.clear()
                with self._lock:
                    self._serial = None
                with contextlib.suppress(Exception):
                    ser.close()
        if store is not None:
            store.close()

    def _serve(self, ser: Any, store: Store) -> None:
        session = SyncSession(
            store, self.clock, self.device_id, self.data_dir,
            show_pairing_code=self._show_code, on_config_changed=self._on_config,
            firmware_version=self.firmware_version, guard=self._guard, health=self._health,
        )
        decoder = FrameDecoder()
        try:
            while not self._stop.is_set():
                try:
                    data = ser.read(max(1, ser.in_waiting))
                except (*_IO_ERRORS, TypeError) as e:
                    log.info("sync port %s lost: %s", self.port, e)
                    return
                if not data:
                    session.tick()
                    continue
                for event in decoder.feed(data):
                    reply = session.handle(event)
                    if reply:
                        try:
                            ser.write(reply)
                        except _IO_ERRORS as e:
                            log.info("sync port %s lost while writing: %s", self.port, e)
                            return
        finally:
            session.cancel_pairing()
            with contextlib.suppress(StoreError):
                session.flush_notes(force=True)


__all__ = ["SyncAgent", "SyncSession"]
