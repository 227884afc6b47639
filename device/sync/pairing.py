"""Pairing and authentication maths: codes, the shared secret, HMAC proofs, back-off.

Pairing is a Diffie-Hellman exchange (RFC 3526 group 14, plain Python ``pow``) confirmed by
the short code shown on the device screen: both sides derive the 32-byte per-device secret,
which therefore never crosses the cable, so a passive observer of one pairing learns nothing
they can reuse. Every later session is an HMAC-SHA256 challenge-response with fresh
single-use nonces from both sides. No I/O here except the optional meta callbacks of
PairingGuard (the lock-out counter survives reboots).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

# RFC 3526, 2048-bit MODP group 14, generator 2.
DH_PRIME = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
    16,
)
DH_GENERATOR = 2
DH_BYTES = 256
SECRET_BYTES = 32
NONCE_BYTES = 32
CODE_DIGITS = 6


def new_code() -> str:
    """A short code for the screen: six digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(text: str) -> str:
    """What the caregiver typed, without spaces or dashes."""
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


def dh_keypair() -> tuple[int, bytes]:
    """(private exponent, public value as 256 big-endian bytes)."""
    private = secrets.randbits(256) | (1 << 255)
    return private, pow(DH_GENERATOR, private, DH_PRIME).to_bytes(DH_BYTES, "big")


def dh_shared(private: int, peer_public: bytes) -> bytes:
    """The shared value; ValueError for a degenerate or malformed peer value."""
    if len(peer_public) != DH_BYTES:
        raise ValueError("public value must be 256 bytes")
    peer = int.from_bytes(peer_public, "big")
    if not 1 < peer < DH_PRIME - 1:
        raise ValueError("public value out of range")
    return pow(peer, private, DH_PRIME).to_bytes(DH_BYTES, "big")


def pairing_transcript(device_id: str, pair_nonce: bytes, host_public: bytes,
                       device_public: bytes) -> bytes:
    """Everything both sides saw, bound into the proofs and the derived secret."""
    return b"|".join([b"walkcoach-pair-v1", device_id.encode(), pair_nonce, host_public,
                      device_public])


def derive_secret(shared: bytes, transcript: bytes) -> bytes:
    return hmac.new(shared, b"secret|" + transcript, hashlib.sha256).digest()


def pair_host_proof(code: str, transcript: bytes) -> bytes:
    """The host shows it knows the on-screen code."""
    return hmac.new(code.encode(), b"pair-host|" + transcript, hashlib.sha256).digest()


def pair_device_proof(secret: bytes, transcript: bytes) -> bytes:
    """The device shows it derived the same secret."""
    return hmac.new(secret, b"pair-device|" + transcript, hashlib.sha256).digest()


def identity(device_id: str, store_id: str) -> str:
    """What a login proves it talks to: the device, and which store (history) it holds."""
    return f"{device_id}|{store_id}" if store_id else device_id


def auth_host_proof(secret: bytes, device_nonce: bytes, host_nonce: bytes,
                    device_id: str) -> bytes:
    """HMAC(secret, "host" || device_nonce || host_nonce || device_id)."""
    msg = b"auth-host|" + device_nonce + host_nonce + device_id.encode()
    return hmac.new(secret, msg, hashlib.sha256).digest()


def auth_device_proof(secret: bytes, device_nonce: bytes, host_nonce: bytes,
                      device_id: str) -> bytes:
    """The device's answer; a different label so a host proof can never be reflected."""
    msg = b"auth-device|" + host_nonce + device_nonce + device_id.encode()
    return hmac.new(secret, msg, hashlib.sha256).digest()


def same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)


class PairingGuard:
    """Exponential back-off on wrong pairing codes.

    The first FREE_TRIES wrong codes cost nothing; after that each further attempt must
    wait 2, 4, 8 ... seconds (capped at MAX_DELAY) from the last failure. The failure count
    is persisted through ``load``/``save`` (the store's meta), so a reboot does not reset it;
    after a reboot the wait is counted from start-up. A correct code clears it.
    """

    FREE_TRIES = 2
    MAX_DELAY = 900.0
    META_KEY = "pair_failures"

    def __init__(self, now: Callable[[], float],
                 load: Callable[[str], str | None] = lambda _k: None,
                 save: Callable[[str, str | None], None] = lambda _k, _v: None) -> None:
        self._now = now
        self._save = save
        try:
            self.failures = max(0, int(load(self.META_KEY) or 0))
        except ValueError:
            self.failures = 0
        self._last_failure = now() if self.failures else float("-inf")

    def delay(self) -> float:
        """Seconds the next attempt must wait after the last failure."""
        extra = self.failures - self.FREE_TRIES
        return 0.0 if extra <= 0 else min(self.MAX_DELAY, 2.0**extra)

    def wait_remaining(self) -> float:
        """0 when an attempt is allowed now, else seconds still to wait."""
        return max(0.0, self._last_failure + self.delay() - self._now())

    def record_failure(self) -> None:
        self.failures += 1
        self._last_failure = self._now()
        self._save(self.META_KEY, str(self.failures))

    def record_success(self) -> None:
        self.failures = 0
        self._last_failure = float("-inf")
        self._save(self.META_KEY, None)
