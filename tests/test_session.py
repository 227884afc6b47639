"""The encrypted session after login, attacked over real pyserial on the pty bridge.

Each attack counts what it got: wearer bytes in any reply it could read, and mutations the
device accepted (acknowledged rows, config, clock). Both must be 0.
"""

from __future__ import annotations

import os
import time

import pytest
import serial

from device.sync.agent import IDLE_LOGOUT_S, SyncSession
from device.sync.channel import ChannelError, SecureChannel, session_keys
from device.sync.protocol import Frame, FrameDecoder, MsgType, encode_frame
from hostsync.cli import main as hostsync_main
from hostsync.db import HostDB
from hostsync.link import DeviceError, DeviceLink, HostSession, LinkError
from tests.sync_harness import (
    BOOT,
    DEVICE_ID,
    LABEL,
    T0,
    Device,
    authed,
    connect,
    make_rows,
    pair,
    raw_exchange,
    start_device,
)

MUTATIONS = [
    (MsgType.ACK, {"seq": 10}),
    (MsgType.SET_CONFIG, {"config": {"wearer_label": "Mallory"}}),
    (MsgType.SET_CLOCK, {"utc": 7_000_000_000, "tz": "UTC"}),
    (MsgType.SET_CLOCK, {"utc": T0 + 86400 * 400, "tz": "UTC"}),
]
READS = [(MsgType.STATUS, {}), (MsgType.PULL, {"after": 0, "limit": 100}),
         (MsgType.GET_CONFIG, {}), (MsgType.LIST_TRACES, {})]


@pytest.fixture
def paired(tmp_path):
    dev = start_device(tmp_path)
    dev.store.add_minutes(make_rows(12))
    secret = pair(dev)
    db = HostDB(tmp_path / "host.sqlite3")
    db.save_pairing(DEVICE_ID, secret)
    yield dev, secret, db
    db.close()
    dev.close()


def device_state(dev: Device) -> tuple:
    return (dev.store.acknowledged_seq(), dev.store.get_config(), dev.clock.trusted(),
            dev.clock.utc_now() // 3600)


def wearer_bytes(frames: list[Frame]) -> int:
    """Bytes of readable replies that carry anything about the wearer."""
    leaked = 0
    for f in frames:
        text = f.payload.decode("utf-8", "replace")
        if LABEL in text or BOOT in text or '"rows"' in text or '"config"' in text:
            leaked += len(f.payload)
    return leaked


def second_program(dev: Device) -> serial.Serial:
    """Another program opening the host end of the cable (root ignores TIOCEXCL, so this works
    even while hostsync holds it open)."""
    return serial.serial_for_url(dev.bridge.host_path, timeout=0.05)


def attack(port, requests, key_guess: bytes = b"\x00" * 32) -> tuple[list[Frame], int]:
    """Send each request in the clear and sealed under guessed keys; (replies, accepted)."""
    frames: list[Frame] = []
    forged = SecureChannel((key_guess, key_guess), "host")
    for i, (msg_type, body) in enumerate(requests):
        for raw in (encode_frame(msg_type, 9000 + i, body), forged.seal(msg_type, 9500 + i, body)):
            frames += raw_exchange(port, raw, 1)
    accepted = sum(f.msg_type != MsgType.ERROR for f in frames)
    return frames, accepted


def test_session_riding_after_hostsync_pull_exits_gets_nothing(paired, capsys):
    dev, _secret, db = paired
    db_path = db.path
    db.close()
    rc = hostsync_main(["--port", dev.bridge.host_path, "--db", str(db_path), "pull",
                        "--timezone", "UTC"])
    assert rc == 0, capsys.readouterr().err
    before = device_state(dev)
    assert before[0] == 12
    dev.store.add_minutes(make_rows(5, first=12))  # minutes the host has not seen yet
    with second_program(dev) as port:
        frames, accepted = attack(port, READS + MUTATIONS)
    assert len(frames) == 2 * len(READS + MUTATIONS)  # every request answered...
    assert accepted == 0 and wearer_bytes(frames) == 0  # ...with a refusal only
    assert {f.json()["code"] for f in frames} == {"not_authenticated"}
    assert device_state(dev) == before
    assert dev.store.last_seq() == 17 and dev.store.acknowledged_seq() == 12


def test_a_second_program_during_a_live_session_gets_nothing_and_the_host_goes_on(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    before = device_state(dev)
    with second_program(dev) as port:
        frames, accepted = attack(port, READS + MUTATIONS)
    assert accepted == 0 and wearer_bytes(frames) == 0
    assert device_state(dev) == before
    # the forged sealed frames ended the host's session; it logs in again by itself
    assert session.status()["wearer_label"] == LABEL
    session.link.close()


def test_injected_frame_ends_the_session_and_changes_nothing(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    channel = session.link.channel
    assert channel is not None
    before = device_state(dev)
    # a frame with the right counter but made without the key (random tag), then a plain one
    fake = bytearray(channel.seal(MsgType.ACK, 77, {"seq": 12}))
    channel.sent -= 1  # only the attacker "sent" it
    fake[-10] ^= 0x55  # a byte of its tag; the frame CRC is made again so it reaches the device
    injected = encode_frame(MsgType.SEALED, 77, bytes(fake[14:-4]))
    (reply,) = raw_exchange(session.link.port, injected, 1)
    assert reply.msg_type == MsgType.ERROR and reply.json()["code"] == "not_authenticated"
    assert device_state(dev) == before
    # the genuine host's next sealed frame is refused too: the session is over
    with pytest.raises(DeviceError) as exc:
        session.link.request(MsgType.STATUS)
    assert exc.value.code == "not_authenticated"
    session.link.close()


def test_reordered_frames_end_the_session(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    channel = session.link.channel
    assert channel is not None
    first = channel.seal(MsgType.SET_CONFIG, 1, {"config": {"wearer_label": "First"}})
    second = channel.seal(MsgType.ACK, 2, {"seq": 5})
    before = device_state(dev)
    replies = raw_exchange(session.link.port, second + first, 2)
    assert [f.msg_type for f in replies] == [MsgType.ERROR, MsgType.ERROR]
    assert {f.json()["code"] for f in replies} == {"not_authenticated"}
    assert device_state(dev) == before
    session.link.close()


def test_captured_post_login_frames_cannot_be_replayed(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    sent: list[bytes] = []
    port = session.link.port
    real_write = port.write

    def spy(data: bytes) -> int | None:
        sent.append(bytes(data))
        return real_write(data)

    port.write = spy
    session.pull(0, 6)
    session.ack(6)
    session.set_clock(T0 + 86400.0, "UTC")
    port.write = real_write
    assert len(sent) == 3 and all(f[3] == MsgType.SEALED for f in sent)
    before = device_state(dev)
    dev.store.add_minutes(make_rows(3, first=12))
    # 1. inside the same session: an old counter is refused and ends the session
    replies = raw_exchange(port, sent[1], 1)
    assert replies[0].json()["code"] == "not_authenticated"
    # 2. in a new session (another login): keys differ, nothing opens
    session.authenticate(secret)
    for raw in sent:
        (reply,) = raw_exchange(port, raw, 1)
        assert reply.msg_type == MsgType.ERROR and reply.json()["code"] == "not_authenticated"
    # 3. a second program replaying them with no login at all
    with second_program(dev) as other:
        frames = [f for raw in sent for f in raw_exchange(other, raw, 1)]
    assert wearer_bytes(frames) == 0 and all(f.msg_type == MsgType.ERROR for f in frames)
    assert device_state(dev) == before
    session.link.close()


def test_a_usb_sniffer_sees_no_wearer_data(paired):
    dev, secret, db = paired
    dev.bridge.tap = bytearray()
    session = authed(dev, secret)
    from hostsync.pull import sync_device

    sync_device(session, db, timezone="UTC", now=lambda: T0 + 86400.0)
    session.get_config()
    session.link.close()
    wire = bytes(dev.bridge.tap)
    assert len(wire) > 1000
    for secret_text in (LABEL, BOOT, '"rows"', '"steps"', "wearer_label"):
        assert secret_text.encode() not in wire
    assert db.row_count(DEVICE_ID) == 12


def test_ack_beyond_what_was_sent_is_refused(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    page = session.pull(0, 4)
    assert [r.seq for r in page.rows] == [1, 2, 3, 4]
    with pytest.raises(DeviceError) as exc:
        session.ack(10)
    assert exc.value.code == "bad_request"
    assert dev.store.acknowledged_seq() == 0
    assert session.ack(4) == 4
    session.link.close()


def test_the_session_ends_when_idle_and_on_hello(tmp_path):
    now = [1000.0]
    dev = start_device(tmp_path)
    try:
        secret = pair(dev)
        dev.agent.stop()  # drive a SyncSession directly with a controllable clock
        s = SyncSession(dev.store, dev.clock, DEVICE_ID, dev.data_dir, now=lambda: now[0])
        host = _login(s, secret)
        assert _sealed(s, host, MsgType.STATUS)["device_id"] == DEVICE_ID
        now[0] += IDLE_LOGOUT_S - 1
        s.tick()
        assert _sealed(s, host, MsgType.STATUS)["device_id"] == DEVICE_ID  # activity renews it
        now[0] += IDLE_LOGOUT_S + 1
        s.tick()
        assert not s.authenticated
        assert _sealed(s, host, MsgType.STATUS)["code"] == "not_authenticated"
        host = _login(s, secret)
        (hello,) = FrameDecoder().feed(s.handle(Frame(2, MsgType.HELLO, 5, b"{}")))
        assert hello.msg_type == 0x81 and not s.authenticated
        assert _sealed(s, host, MsgType.STATUS)["code"] == "not_authenticated"
    finally:
        dev.close()


def _login(s: SyncSession, secret: bytes) -> SecureChannel:
    from device.sync import pairing
    from device.sync.protocol import encode_json

    (begin,) = FrameDecoder().feed(s.handle(Frame(2, MsgType.AUTH_BEGIN, 1, b"{}")))
    dn = bytes.fromhex(begin.json()["device_nonce"])
    hn = os.urandom(32)
    proof = pairing.auth_host_proof(secret, dn, hn, pairing.identity(DEVICE_ID, s.store_id))
    body = encode_json({"host_nonce": hn.hex(), "proof": proof.hex()})
    (fin,) = FrameDecoder().feed(s.handle(Frame(2, MsgType.AUTH_FINISH, 2, body)))
    assert "device_proof" in fin.json()
    return SecureChannel(session_keys(secret, dn, hn, DEVICE_ID, s.store_id), "host")


def _sealed(s: SyncSession, host: SecureChannel, msg_type: int) -> dict:
    (frame,) = FrameDecoder().feed(s.handle(
        next(e for e in FrameDecoder().feed(host.seal(msg_type, 3, {})) if isinstance(e, Frame))))
    if frame.msg_type == MsgType.ERROR:
        host.sent -= 1
        return frame.json()
    try:
        return host.open(frame).json()
    except ChannelError:  # pragma: no cover - would mean a broken channel
        raise


def test_the_host_logs_in_again_after_a_quiet_spell(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    session._last_sealed = time.monotonic() - 60  # as if the caregiver paused at a prompt
    logins = dev.store.events(1000)
    assert session.status()["device_id"] == DEVICE_ID
    assert dev.store.events(1000) == logins  # no failure logged: a clean new login
    session.link.close()


def test_a_device_that_answers_in_the_clear_is_not_believed(paired):
    dev, secret, _db = paired
    session = authed(dev, secret)
    link: DeviceLink = session.link
    assert isinstance(session, HostSession) and link.channel is not None
    dev.agent.stop()
    # the "device" end now answers a sealed STATUS with a plain reply carrying made-up data
    with serial.serial_for_url(dev.bridge.device_path, timeout=0.05) as fake_device:
        fake_device.write(encode_frame(0x91, link._next_id + 1, {"device_id": "forged"}))
        time.sleep(0.1)
        with pytest.raises(LinkError):
            link.request(MsgType.STATUS)
    assert link.channel is None
    link.close()


def test_connect_helper_still_refuses_everything_before_login(paired):
    dev, _secret, _db = paired
    session = connect(dev)
    for msg_type, body in READS + MUTATIONS:
        with pytest.raises(DeviceError) as exc:
            session.link.request(msg_type, body)
        assert exc.value.code == "not_authenticated"
    session.link.close()


def test_an_old_hostsync_is_told_to_update(tmp_path):
    dev = start_device(tmp_path)
    try:
        with serial.serial_for_url(dev.bridge.host_path, timeout=0.05) as port:
            old_hello = encode_frame(MsgType.HELLO, 7, {"versions": [1], "host": "hostsync"},
                                     version=1)
            (reply,) = raw_exchange(port, old_hello, 1)
        assert reply.msg_type == MsgType.ERROR
        body = reply.json()
        assert body["code"] == "version" and body["message"].endswith("update hostsync")
    finally:
        dev.close()


def test_an_old_walk_coach_is_a_clear_line_on_the_host(tmp_path, monkeypatch):
    import device.sync.agent as agent_module

    class OldDevice(SyncSession):
        def handle(self, event):  # a version-1 device refuses every version-2 frame
            return agent_module.encode_error(
                event.request_id, agent_module.ErrorCode.VERSION,
                "protocol version 2 is not supported; this device speaks version 1")

    monkeypatch.setattr(agent_module, "SyncSession", OldDevice)
    dev = start_device(tmp_path)
    try:
        with pytest.raises(LinkError, match="Update hostsync or the Walk Coach"):
            connect(dev)
    finally:
        dev.close()
