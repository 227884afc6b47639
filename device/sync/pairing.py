"""Pairing and authentication maths: codes, the PAKE, the shared secret, HMAC proofs, back-off.

Pairing is SPAKE2 (the ``spake2`` package, Ed25519 group, as magic-wormhole uses for its short
codes) keyed by the 6-digit code shown on the device screen. Why a PAKE: with a plain
Diffie-Hellman exchange confirmed by HMAC(code, ...), whoever sat in the middle saw that proof
and could try all 10**6 codes offline in a second. With SPAKE2 a man-in-the-middle gets exactly
one guess per attempt, checked online by the device (and its back-off), and nothing to test
offline. Both sides derive the 32-byte per-device secret from the SPAKE2 key; it never crosses
the cable. Every later session is an HMAC-SHA256 challenge-response with fresh single-use
nonces from both sides (then device/sync/channel.py). No I/O here except the meta callbacks of
PairingGuard (the lock-out counter survives reboots).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

from spake2 import SPAKE2_A, SPAKE2_B

SECRET_BYTES = 32
NONCE_BYTES = 32
CODE_DIGITS = 6
SPAKE_MSG_BYTES = 33  # a side byte and an Ed25519 group element
HOST_SIDE = b"walkcoach-host"


def new_code() -> str:
    """A short code for the screen: six digits, leading zeros kept."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def normalise_code(text: str) -> str:
    """What the caregiver typed, without spaces or dashes."""
    return "".join(ch for ch in text if not ch.isspace() and ch != "-")


def new_nonce() -> bytes:
    return secrets.token_bytes(NONCE_BYTES)


class DevicePake:
    """The device's half of one SPAKE2 run for ``code``: ``message`` goes to the host; a run is
    single use, so after a failed confirmation the device starts a new one (new message)."""

    def __init__(self, code: str, device_id: str) -> None:
        self._spake = SPAKE2_B(code.encode(), idA=HOST_SIDE, idB=device_id.encode())
        self.message = self._spake.start()

    def key(self, host_message: bytes) -> bytes:
        """The shared key; ValueError if the host's message is not a valid SPAKE2 message."""
        try:
            return self._spake.finish(host_message)
        except Exception as e:  # spake2 raises its own errors and ValueError for bad points
            raise ValueError(f"bad SPAKE2 message: {e}") from None


def host_pake(code: str, device_id: str, device_message: bytes) -> tuple[bytes, bytes]:
    """(host message, shared key) of the host's half; ValueError for a bad device message."""
    spake = SPAKE2_A(code.encode(), idA=HOST_SIDE, idB=device_id.encode())
    message = spake.start()
    try:
        return message, spake.finish(device_message)
    except Exception as e:
        raise ValueError(f"bad SPAKE2 message from the device: {e}") from None


def pairing_transcript(device_id: str, pair_nonce: bytes, device_message: bytes,
                       host_message: bytes) -> bytes:
    """Everything both sides saw, bound into the proofs and the derived secret."""
    return b"|".join([b"walkcoach-pair-v2", device_id.encode(), pair_nonce, device_message,
                      host_message])


def derive_secret(key: bytes, transcript: bytes) -> bytes:
    return hmac.new(key, b"secret|" + transcript, hashlib.sha256).digest()


def pair_host_proof(key: bytes, transcript: bytes) -> bytes:
    """The host shows it derived the same SPAKE2 key (so it typed the right code)."""
    return hmac.new(key, b"pair-host|" + transcript, hashlib.sha256).digest()


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
    after a reboot the wait is counted from start-up. A correct code clears it. Failures are
    counted in memory at once but written by ``flush()``, which the agent calls at most once a
    second, so a flood of wrong codes cannot make a commit per attempt on the SD card.
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
        self._dirty = False

    def delay(self) -> float:
        """Seconds the next attempt must wait after the last failure (never overflows: the
        exponent is capped long before 2.0**1024)."""
        extra = self.failures - self.FREE_TRIES
        return 0.0 if extra <= 0 else min(self.MAX_DELAY, 2.0 ** min(extra, 30))

    def wait_remaining(self) -> float:
        """0 when an attempt is allowed now, else seconds still to wait."""
        return max(0.0, self._last_failure + self.delay() - self._now())

    def record_failure(self) -> None:
        self.failures += 1
        self._last_failure = self._now()
        self._dirty = True

    def flush(self) -> bool:
        """Persist the count if it changed since the last flush; True if it wrote."""
        if not self._dirty:
            return False
        self._dirty = False
        self._save(self.META_KEY, str(self.failures))
        return True

    def record_success(self) -> None:
        self.failures = 0
        self._last_failure = float("-inf")
        self._dirty = False
        self._save(self.META_KEY, None)
