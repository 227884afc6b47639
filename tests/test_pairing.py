"""Pairing with SPAKE2 against a scripted man-in-the-middle on real pty cables.

host --(cable M)-- MITM --(cable D)-- device. The MITM relays every frame but swaps the SPAKE2
messages for its own, as an active attacker on the USB cable would. It must not end up paired
with either side, and what it saw must not let it test codes offline.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time

import pytest
import serial
from spake2 import SPAKE2_A, SPAKE2_B

from device.sync import pairing
from device.sync.agent import META_SECRET
from device.sync.protocol import Frame, FrameDecoder, MsgType, encode_frame, encode_json
from device.sync.virtual_cable import PtyBridge
from hostsync.link import AuthError, DeviceError, DeviceLink, HostSession
from tests.sync_harness import start_device, wait_meta


class Mitm:
    """Relays host <-> device frame by frame, replacing SPAKE2 messages with its own."""

    def __init__(self, host_side: str, device_side: str, guess: str, device_id: str) -> None:
        self.up = serial.serial_for_url(host_side, timeout=0.05)  # the host talks to this
        self.down = serial.serial_for_url(device_side, timeout=0.05)  # this talks to the device
        self.guess = guess
        self.device_id = device_id
        self.captured: dict[str, bytes] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.up.close()
        self.down.close()

    def _ask_device(self, frame: Frame, body: dict) -> Frame:
        self.down.write(encode_frame(frame.msg_type, frame.request_id, encode_json(body)))
        dec = FrameDecoder()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for ev in dec.feed(self.down.read(max(1, self.down.in_waiting))):
                if isinstance(ev, Frame) and ev.request_id == frame.request_id:
                    return ev
        raise AssertionError("device did not answer the MITM")

    def _run(self) -> None:
        dec = FrameDecoder()
        while not self._stop.is_set():
            for ev in dec.feed(self.up.read(max(1, self.up.in_waiting))):
                if isinstance(ev, Frame):
                    self.up.write(self._relay(ev))

    def _relay(self, frame: Frame) -> bytes:
        body = frame.json()
        if frame.msg_type == MsgType.PAIR_BEGIN:
            reply = self._ask_device(frame, body)
            r = reply.json()
            self.captured["device_msg"] = bytes.fromhex(r["device_msg"])
            self.captured["nonce"] = bytes.fromhex(r["pair_nonce"])
            # to the host, play the device with our own SPAKE2 run on a guessed code
            self._as_device = SPAKE2_B(self.guess.encode(), idA=pairing.HOST_SIDE,
                                       idB=self.device_id.encode())
            self.captured["fake_device_msg"] = self._as_device.start()
            r["device_msg"] = self.captured["fake_device_msg"].hex()
            return encode_frame(reply.msg_type, reply.request_id, r)
        if frame.msg_type == MsgType.PAIR_CONFIRM:
            host_msg = bytes.fromhex(body["host_msg"])
            self.captured["host_msg"] = host_msg
            self.captured["host_proof"] = bytes.fromhex(body["proof"])
            # to the device, play the host with our own run on the same guess
            as_host = SPAKE2_A(self.guess.encode(), idA=pairing.HOST_SIDE,
                               idB=self.device_id.encode())
            msg = as_host.start()
            key = as_host.finish(self.captured["device_msg"])
            t = pairing.pairing_transcript(self.device_id, self.captured["nonce"],
                                           self.captured["device_msg"], msg)
            reply = self._ask_device(frame, {"host_msg": msg.hex(),
                                             "proof": pairing.pair_host_proof(key, t).hex()})
            self.captured["device_reply"] = reply.payload
            if reply.msg_type != MsgType.ERROR:  # the guess was right: forge the host's success
                k2 = self._as_device.finish(host_msg)
                t2 = pairing.pairing_transcript(self.device_id, self.captured["nonce"],
                                                self.captured["fake_device_msg"], host_msg)
                s2 = pairing.derive_secret(k2, t2)
                return encode_frame(reply.msg_type, reply.request_id, {
                    "device_id": self.device_id,
                    "device_proof": pairing.pair_device_proof(s2, t2).hex()})
            return encode_frame(reply.msg_type, reply.request_id, reply.payload)
        return encode_frame(*self._passthrough(frame, body))

    def _passthrough(self, frame: Frame, body: dict) -> tuple[int, int, bytes]:
        reply = self._ask_device(frame, body)
        return reply.msg_type, reply.request_id, reply.payload


@pytest.fixture
def wired(tmp_path):
    dev = start_device(tmp_path)
    (tmp_path / "m").mkdir()
    host_cable = PtyBridge(tmp_path / "m")  # host <-> MITM
    mitm_guess = "000000"
    mitm = Mitm(host_cable.device_path, dev.bridge.host_path, mitm_guess, dev.device_id)
    yield dev, host_cable, mitm
    mitm.close()
    host_cable.close()
    dev.close()


def test_a_man_in_the_middle_cannot_pair_and_gets_no_offline_guess(wired):
    dev, host_cable, mitm = wired
    session = HostSession(DeviceLink.open(host_cable.host_path, timeout=5))
    session.hello()
    pending = session.pair_begin()
    code = dev.wait_code()
    if code == mitm.guess:  # pragma: no cover - one chance in a million
        pytest.skip("the MITM guessed the code")
    with pytest.raises((DeviceError, AuthError)) as exc:
        session.pair_confirm(pending, code)  # the caregiver types the right code
    session.link.close()
    assert getattr(exc.value, "code", "") == "wrong_code"
    # the device holds no pairing and counted the one online guess
    assert dev.store.get_meta(META_SECRET) is None
    wait_meta(dev.store, "pair_failures", "1")
    # Offline, the MITM knows the host's SPAKE2 message and proof. With the old scheme
    # (HMAC(code, transcript)) the true code was found by trying all codes. Now no code, not
    # even the true one, reproduces the proof: its run was bound to the MITM's own guess.
    host_msg, proof = mitm.captured["host_msg"], mitm.captured["host_proof"]
    t = pairing.pairing_transcript(dev.device_id, mitm.captured["nonce"],
                                   mitm.captured["fake_device_msg"], host_msg)
    matches = 0
    for candidate in [code, *(f"{i:06d}" for i in range(1, 100))]:
        spake = SPAKE2_B(candidate.encode(), idA=pairing.HOST_SIDE, idB=dev.device_id.encode())
        spake.start()
        key = spake.finish(host_msg)
        matches += hmac.compare_digest(pairing.pair_host_proof(key, t), proof)
        old_style = hmac.new(candidate.encode(), b"pair-host|" + t, hashlib.sha256).digest()
        matches += hmac.compare_digest(old_style, proof)
    assert matches == 0


def test_a_wrong_code_then_the_right_one_pairs(tmp_path):
    dev = start_device(tmp_path)
    try:
        session = HostSession(DeviceLink.open(dev.bridge.host_path, timeout=5))
        session.hello()
        pending = session.pair_begin()
        code = dev.wait_code()
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        with pytest.raises(DeviceError) as exc:
            session.pair_confirm(pending, wrong)
        assert exc.value.code == "wrong_code"
        secret = session.pair_confirm(pending, code)  # the next try uses the device's new run
        assert bytes.fromhex(dev.store.get_meta(META_SECRET)) == secret
        session.authenticate(secret)
        assert session.status()["device_id"] == dev.device_id
        session.link.close()
    finally:
        dev.close()
