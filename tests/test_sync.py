"""The sync agent and the host session over real pyserial on a bridged pseudo-terminal pair."""

from __future__ import annotations

import base64
import random
import threading
import time

import pytest
import serial
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.config import WearerConfig
from device.store import MinuteRow
from device.sync import pairing
from device.sync.agent import META_SECRET, SyncSession
from device.sync.protocol import (
    HEADER_LEN,
    PROTOCOL_VERSION,
    Frame,
    FrameDecoder,
    MsgType,
    encode_frame,
    encode_json,
    reply_type,
)
from hostsync.db import HostDB
from hostsync.link import DeviceError, LinkError
from hostsync.pull import sync_device
from tests.sync_harness import (
    DEVICE_ID,
    LABEL,
    MONO_NOW,
    T0,
    authed,
    connect,
    make_rows,
    pair,
    raw_exchange,
    session_store,
    start_device,
    wait_meta,
)


@pytest.fixture
def device(tmp_path):
    dev = start_device(tmp_path)
    yield dev
    dev.close()


@pytest.fixture
def paired(device, tmp_path):
    secret = pair(device)
    db = HostDB(tmp_path / "host.sqlite3")
    db.save_pairing(DEVICE_ID, secret)
    yield device, secret, db
    db.close()


# -- pairing and authentication -----------------------------------------------------------


def test_pairing_stores_the_same_secret_on_both_sides_and_hides_the_code(device):
    secret = pair(device)
    assert bytes.fromhex(device.store.get_meta(META_SECRET)) == secret
    assert device.codes[-1] is None  # the screen stopped showing the code
    session = authed(device, secret)
    assert session.status()["wearer_label"] == LABEL
    session.link.close()


def test_wrong_codes_back_off_and_the_count_survives(device):
    session = connect(device)
    pending = session.pair_begin()
    code = device.wait_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(2):
        with pytest.raises(DeviceError) as exc:
            session.pair_confirm(pending, wrong)
        assert exc.value.code == "wrong_code" and exc.value.extra["retry_after"] == 0
    with pytest.raises(DeviceError) as exc:
        session.pair_confirm(pending, wrong)
    assert exc.value.extra["retry_after"] == 2
    with pytest.raises(DeviceError) as exc:  # even the right code waits out the back-off
        session.pair_confirm(pending, code)
    assert exc.value.code == "locked"
    wait_meta(device.store, "pair_failures", "3")  # written within a second (coalesced)
    assert device.store.get_meta(META_SECRET) is None
    session.link.close()


def test_nothing_about_the_wearer_leaves_before_authentication(device):
    device.store.add_minutes(make_rows(20, trusted=False))
    (device.data_dir / "traces").mkdir()
    (device.data_dir / "traces" / "walk.csv").write_text("t,ax,ay,az\n")
    session = connect(device)
    assert LABEL not in repr(session.hello_info)
    requests = [
        (MsgType.STATUS, {}), (MsgType.PULL, {"after": 0, "limit": 10}),
        (MsgType.ACK, {"seq": 20}), (MsgType.GET_CONFIG, {}),
        (MsgType.SET_CONFIG, {"config": {"wearer_label": "Mallory"}}),
        (MsgType.SET_CLOCK, {"utc": T0 + 1e6, "tz": "UTC"}), (MsgType.LIST_TRACES, {}),
        (MsgType.FETCH_TRACE, {"name": "walk.csv", "offset": 0, "length": 100}),
    ]
    for msg_type, body in requests:
        with pytest.raises(DeviceError) as exc:
            session.link.request(msg_type, body)
        assert exc.value.code == "not_authenticated", msg_type
    assert device.store.acknowledged_seq() == 0
    assert device.store.get_config().wearer_label == LABEL
    assert not device.clock.trusted()
    assert session.link.bytes_received < 3000  # error replies only, no rows
    session.link.close()


def test_replayed_and_forged_authentication_are_refused(paired):
    device, secret, _db = paired
    session = connect(device)
    link = session.link
    nonce = bytes.fromhex(link.request(MsgType.AUTH_BEGIN)["device_nonce"])
    host_nonce = pairing.new_nonce()
    finish = {"host_nonce": host_nonce.hex(),
              "proof": pairing.auth_host_proof(
                  secret, nonce, host_nonce, pairing.identity(DEVICE_ID, session.store_id)).hex()}
    assert "device_proof" in link.request(MsgType.AUTH_FINISH, finish)
    # the same answer again (nonce already used), then against a fresh challenge
    with pytest.raises(DeviceError) as exc:
        link.request(MsgType.AUTH_FINISH, finish)
    assert exc.value.code == "auth_failed"
    session.hello()  # a new session
    link.request(MsgType.AUTH_BEGIN)
    with pytest.raises(DeviceError) as exc:
        link.request(MsgType.AUTH_FINISH, finish)
    assert exc.value.code == "auth_failed"
    with pytest.raises(DeviceError) as exc:
        link.request(MsgType.STATUS)
    assert exc.value.code == "not_authenticated"
    # a forged proof and a wrong secret
    for proof in (bytes(32), pairing.auth_host_proof(b"k" * 32, b"n" * 32, b"h" * 32, DEVICE_ID)):
        link.request(MsgType.AUTH_BEGIN)
        forged = {"host_nonce": pairing.new_nonce().hex(), "proof": proof.hex()}
        with pytest.raises(DeviceError) as exc:
            link.request(MsgType.AUTH_FINISH, forged)
        assert exc.value.code == "auth_failed"
    with pytest.raises(DeviceError):
        session.authenticate(b"\x01" * 32)
    session.authenticate(secret)  # the genuine host still gets in
    assert session.status()["device_id"] == DEVICE_ID
    link.close()


# -- bad frames ---------------------------------------------------------------------------


def test_corrupt_oversized_unknown_and_bad_frames_get_errors_and_the_link_survives(paired):
    device, secret, _db = paired
    session = authed(device, secret)
    port = session.link.port
    corrupt = bytearray(encode_frame(MsgType.STATUS, 501, {"x": 1}))
    corrupt[HEADER_LEN + 2] ^= 0xFF
    import struct
    import zlib
    header = struct.pack(">2sBBII", b"WC", PROTOCOL_VERSION, MsgType.PULL, 502, 1 << 30)
    oversized = header + struct.pack(">H", zlib.crc32(header) & 0xFFFF)
    channel = session.link.channel
    assert channel is not None
    cases = [  # plain-frame problems are answered in the clear, sealed ones sealed
        (bytes(corrupt), 501, "corrupt_frame", False),
        (oversized + b"\x00" * 64, 502, "too_large", False),
        (encode_frame(0x42, 503, {}), 503, "unknown_type", False),
        (encode_frame(MsgType.STATUS, 505, {}, version=9), 505, "version", False),
        (encode_frame(MsgType.STATUS, 506, {}), 506, "not_authenticated", False),
        (channel.seal(0x42, 513, {}), 513, "unknown_type", True),
        (channel.seal(MsgType.STATUS, 514, b"{not json"), 514, "bad_json", True),
        (channel.seal(MsgType.PULL, 516, {"after": -1, "limit": 5}), 516, "bad_request", True),
        (channel.seal(MsgType.ACK, 517, {"seq": 10**9}), 517, "bad_request", True),
    ]
    for raw, rid, code, sealed in cases:
        (reply,) = raw_exchange(port, b"garbage\x00" + raw, 1)
        if sealed:
            reply = channel.open(reply)
        assert reply.msg_type == MsgType.ERROR and reply.request_id == rid
        body = reply.json()
        assert body["code"] == code, body
        if code == "version":
            assert "9" in body["message"] and str(PROTOCOL_VERSION) in body["message"]
            assert "update the Walk Coach" in body["message"]
    (ok,) = raw_exchange(port, channel.seal(MsgType.STATUS, 600, {}), 1)
    ok = channel.open(ok)
    assert ok.msg_type == reply_type(MsgType.STATUS) and ok.json()["device_id"] == DEVICE_ID
    assert device.agent._thread is not None and device.agent._thread.is_alive()
    session.link.close()


# -- pulling ------------------------------------------------------------------------------


def test_full_sync_copies_every_row_sets_the_clock_and_reanchors(paired):
    device, secret, db = paired
    untrusted = make_rows(30, trusted=False)
    other_boot = make_rows(5, first=100, trusted=False, boot="boot-old")
    trusted = make_rows(200, first=200)
    device.store.add_minutes(untrusted + other_boot + trusted)
    session = authed(device, secret)
    host_utc = T0 + 90 * 86400.0
    summary = sync_device(session, db, timezone="Europe/London", page_size=37,
                          now=lambda: host_utc)
    session.link.close()
    device_rows = device.store.minutes_after(0, 10_000)
    assert db.rows(DEVICE_ID) == device_rows
    assert summary.new_rows == len(device_rows) == 235 and summary.reanchored == 30
    assert device.store.acknowledged_seq() == device.store.last_seq() == 235
    assert device.clock.trusted()
    assert device.store.get_config().timezone == "Europe/London"
    for r in device_rows[:30]:  # re-anchored from the monotonic clock
        expected = int((host_utc - (MONO_NOW - r.mono_start)) // 60 * 60)
        assert r.clock_trusted and r.start_utc == expected
    assert not any(r.clock_trusted for r in device_rows[30:35])  # another boot: unknowable
    # a second pull brings nothing new and changes nothing
    session = authed(device, secret)
    again = sync_device(session, db, timezone="Europe/London", now=lambda: host_utc)
    session.link.close()
    assert again.new_rows == 0 and db.rows(DEVICE_ID) == device_rows


def test_pull_cut_at_random_offsets_resumes_without_loss_or_duplicates(paired):
    device, secret, db = paired
    rng = random.Random(20261126)
    reference: list[MinuteRow] = []

    def add(n: int) -> None:
        rows = make_rows(n, first=len(reference))
        seqs = device.store.add_minutes(rows)
        reference.extend(MinuteRow(**{**r.__dict__, "seq": s}) for r, s in zip(rows, seqs,
                                                                               strict=True))

    def one_sync() -> bool:
        try:
            session = authed(device, secret, timeout=2.0)
        except LinkError:
            return False
        try:
            sync_device(session, db, timezone="UTC", page_size=20, now=lambda: T0 + 1e7)
            return True
        except LinkError:
            return False
        finally:
            session.link.close()

    def check_invariants() -> None:
        host = db.rows(DEVICE_ID)
        cursor = db.device(DEVICE_ID).cursor
        assert host == reference[:cursor]  # a prefix: nothing lost, nothing twice
        acked = device.store.acknowledged_seq()
        assert acked <= cursor  # the device only heard ACK for committed rows
        device.store.prune(keep_days=0, now_utc=T0 + 1e9)  # deletes acknowledged rows only
        assert device.store.minutes_after(acked, 10_000) == reference[acked:]

    add(60)
    start = device.bridge.forwarded
    assert one_sync()
    full_cycle = device.bridge.forwarded - start  # bytes of a 60-row sync incl. handshake
    cuts = rounds = 0
    while cuts < 110:
        rounds += 1
        assert rounds < 300, (rounds, cuts)  # bounds the loop; a loaded machine cuts less often
        add(60)
        for _ in range(6):
            device.bridge.plug_host()
            device.bridge.cut_after(rng.randrange(0, full_cycle))
            completed = one_sync()
            cuts += device.bridge.cut_done.is_set()
            device.bridge.cut_after(10**12)  # disarm
            check_invariants()
            if completed:
                break
        device.bridge.plug_host()
        assert one_sync()
        check_invariants()
        assert db.rows(DEVICE_ID) == reference
    assert cuts >= 100
    assert device.agent._thread is not None and device.agent._thread.is_alive()


def test_device_port_vanishing_mid_transfer_is_survived(paired):
    device, secret, db = paired
    device.store.add_minutes(make_rows(400))
    session = authed(device, secret, timeout=0.5)
    page = session.pull(0, 50)
    db.commit_page(DEVICE_ID, page.rows, session.store_id)
    before = device.agent.connections
    device.bridge.unplug_device()  # the gadget port disappears mid-conversation
    with pytest.raises(LinkError):
        session.pull(50, 50)
    session.link.close()
    time.sleep(0.2)  # the agent retries opening a port that is not there
    device.bridge.plug_device()
    deadline = time.monotonic() + 5
    while device.agent.connections == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert device.agent.connections > before
    device.bridge.plug_host()
    session = authed(device, secret)
    sync_device(session, db, timezone="UTC", page_size=100)
    session.link.close()
    assert db.rows(DEVICE_ID) == device.store.minutes_after(0, 10_000)
    assert len(db.rows(DEVICE_ID)) == 400


# -- configuration and traces -------------------------------------------------------------


def test_invalid_config_is_refused_and_the_stored_one_stays(paired):
    device, secret, _db = paired
    session = authed(device, secret)
    before = device.store.get_config()
    for bad in ({"threshold_spm": 500}, {"timezone": "Mars/Olympus"}, {"colour": "red"},
                {"plan": [{"week_start": "2026-13-01", "goal_minutes": 60}]}, "nonsense"):
        with pytest.raises(DeviceError) as exc:
            session.set_config_json(bad)
        assert exc.value.code == "invalid_config" and str(exc.value)
    assert device.store.get_config() == before and device.configs == []
    new = WearerConfig.from_json({**before.to_json(), "threshold_spm": 110, "week_start_day": 6})
    assert session.set_config(new) == new
    assert device.store.get_config() == new and device.configs == [new]
    assert session.get_config() == new
    session.link.close()


def test_traces_are_listed_and_fetched_in_checked_chunks(paired):
    device, secret, _db = paired
    traces = device.data_dir / "traces"
    traces.mkdir()
    blob = bytes(random.Random(1).randrange(256) for _ in range(70_000))
    (traces / "walk.csv.gz").write_bytes(blob)
    session = authed(device, secret)
    assert [t["name"] for t in session.list_traces()] == ["walk.csv.gz"]
    assert session.fetch_trace("walk.csv.gz", chunk=16_384) == blob
    for name in ("../walkcoach.sqlite3", "missing.csv"):
        with pytest.raises(DeviceError) as exc:
            session.link.request(MsgType.FETCH_TRACE, {"name": name, "offset": 0, "length": 10})
        assert exc.value.code in ("bad_request", "not_found")
    body = session.link.request(MsgType.FETCH_TRACE,
                                {"name": "walk.csv.gz", "offset": 69_990, "length": 100})
    assert base64.b64decode(body["data"]) == blob[69_990:] and body["eof"]
    session.link.close()


def test_agent_stop_is_prompt_and_the_port_is_released(device):
    t = time.monotonic()
    device.agent.stop()
    assert time.monotonic() - t < 2
    with serial.Serial(device.bridge.device_path, timeout=0.1, exclusive=True):
        pass


def test_sampling_writes_are_not_held_up_by_a_long_sync(paired):
    device, secret, db = paired
    device.store.add_minutes(make_rows(40_000))
    stop = threading.Event()
    latencies: list[float] = []

    def sampler() -> None:  # the runtime writing its minute rows through its own connection
        i = 0
        while not stop.is_set():
            t = time.perf_counter()
            device.store.add_minutes(make_rows(1, first=100_000 + i))
            latencies.append(time.perf_counter() - t)
            i += 1
            time.sleep(0.005)

    thread = threading.Thread(target=sampler)
    thread.start()
    session = authed(device, secret)
    t = time.perf_counter()
    try:
        sync_device(session, db, timezone="UTC", page_size=1000)
    finally:
        sync_seconds = time.perf_counter() - t
        stop.set()
        thread.join()
        session.link.close()
    assert len(latencies) > 20
    # Writes went on throughout the sync: none waited for a large part of it (a relative bound,
    # so a slow or busy CI disk does not make this flaky).
    assert max(latencies) < sync_seconds / 2, (max(latencies), sync_seconds)
    assert db.row_count(DEVICE_ID) >= 40_000


# -- the session state machine, fuzzed without a port --------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-(2**33), 2**33) | st.text(max_size=12) \
    | st.floats(allow_nan=False, allow_infinity=False)
bodies = st.dictionaries(
    st.sampled_from(["after", "limit", "seq", "utc", "tz", "config", "name", "offset", "length",
                     "proof", "host_nonce", "host_public", "versions", "x"]),
    json_scalars | st.lists(json_scalars, max_size=3), max_size=5)


@pytest.fixture(scope="module")
def session_parts(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz") / "data"
    store, clock = session_store(data, b"s" * 32)
    yield store, clock, data
    store.close()


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 255), st.sampled_from([2, 2, 2, 1, 3]), bodies),
                min_size=1, max_size=6))
def test_unauthenticated_session_answers_everything_and_leaks_nothing(session_parts, requests):
    store, clock, data = session_parts
    session = SyncSession(store, clock, DEVICE_ID, data)
    before = (store.get_config(), store.acknowledged_seq(), store.get_meta(META_SECRET))
    for i, (msg_type, version, body) in enumerate(requests):
        raw = session.handle(Frame(version, msg_type, i, encode_json(body)))
        (reply,) = FrameDecoder().feed(raw)
        assert isinstance(reply, Frame) and reply.request_id == i
        text = reply.payload.decode()
        assert LABEL not in text and "boot-this" not in text and "t.csv" not in text
        if msg_type not in (1, 2, 3, 4, 5) or version != PROTOCOL_VERSION:
            assert reply.msg_type == MsgType.ERROR
    assert not session.authenticated
    session.cancel_pairing()
    assert (store.get_config(), store.acknowledged_seq(), store.get_meta(META_SECRET)) == before
