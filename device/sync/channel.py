"""The encrypted session after login: keys from the pairing secret, sealed frames, strict counters.

Why: login proves who is at the other end at that moment; without this, any program that opens
the port afterwards (or anything on the cable) could read replies and send ACK/SET_CLOCK as if it
were the host. After AUTH_FINISH both sides derive two ChaCha20-Poly1305 keys (one per direction)
with HKDF-SHA256 from the pairing secret and both login nonces. Every later request and reply is
a SEALED frame whose payload is ``counter u64 | AEAD(inner type u8 | JSON body)``, with the
frame's 12-byte header as associated data. Each direction's counter must be exactly the next
one: an injected, reordered, replayed or altered frame fails, and the first failure ends the
session on both sides (ChannelError).
"""

from __future__ import annotations

import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from device.sync.protocol import (
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    Frame,
    FrameTooLarge,
    MsgType,
    encode_json,
    frame_from_header,
    frame_header,
    reply_type,
)

_COUNTER = struct.Struct(">Q")
TAG_LEN = 16
OVERHEAD = _COUNTER.size + 1 + TAG_LEN  # counter, inner type, tag
SEALED_REPLY = reply_type(MsgType.SEALED)


class ChannelError(Exception):
    """A sealed frame that does not open (bad tag, wrong counter, wrong shape): end the session."""


def session_keys(secret: bytes, device_nonce: bytes, host_nonce: bytes, device_id: str,
                 store_id: str) -> tuple[bytes, bytes]:
    """(host->device key, device->host key), fresh for every login."""
    okm = HKDF(
        algorithm=hashes.SHA256(), length=64, salt=device_nonce + host_nonce,
        info=b"walkcoach-session-v2|" + device_id.encode() + b"|" + store_id.encode(),
    ).derive(secret)
    return okm[:32], okm[32:]


class SecureChannel:
    """One side of a session: seals what it sends, opens what it receives, in strict order.

    side: "host" (sends requests with the host->device key) or "device".
    """

    def __init__(self, keys: tuple[bytes, bytes], side: str) -> None:
        to_device, to_host = (ChaCha20Poly1305(k) for k in keys)
        self._send, self._recv = (to_device, to_host) if side == "host" else (to_host, to_device)
        self._outer = MsgType.SEALED if side == "host" else SEALED_REPLY
        self._expect = SEALED_REPLY if side == "host" else MsgType.SEALED
        self.sent = 0
        self.received = 0

    def seal(self, inner_type: int, request_id: int, body: dict | bytes) -> bytes:
        """A complete SEALED frame carrying ``inner_type`` and ``body`` (FrameTooLarge if big)."""
        plain = bytes([inner_type & 0xFF]) + (body if isinstance(body, bytes)
                                                else encode_json(body))
        length = _COUNTER.size + len(plain) + TAG_LEN
        if length > MAX_PAYLOAD:
            raise FrameTooLarge(f"sealed payload of {length} bytes exceeds {MAX_PAYLOAD}")
        header = frame_header(PROTOCOL_VERSION, self._outer, request_id, length)
        counter = _COUNTER.pack(self.sent)
        sealed = self._send.encrypt(b"\x00" * 4 + counter, plain, header)
        self.sent += 1
        return frame_from_header(header, counter + sealed)

    def open(self, frame: Frame) -> Frame:
        """The inner frame (same version and request id) of a sealed frame; ChannelError if it
        was not sealed by the peer for exactly this place in the conversation."""
        if frame.msg_type != self._expect or len(frame.payload) < OVERHEAD:
            raise ChannelError("not a sealed frame of this session")
        (counter,) = _COUNTER.unpack_from(frame.payload)
        if counter != self.received:
            raise ChannelError(f"frame {counter} out of order (expected {self.received})")
        header = frame_header(frame.version, frame.msg_type, frame.request_id,
                              len(frame.payload))
        try:
            plain = self._recv.decrypt(b"\x00" * 4 + frame.payload[:_COUNTER.size],
                                       frame.payload[_COUNTER.size:], header)
        except InvalidTag:
            raise ChannelError("frame failed its authentication tag") from None
        self.received += 1
        return Frame(frame.version, plain[0], frame.request_id, plain[1:])
