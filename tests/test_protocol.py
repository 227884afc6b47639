"""The sync frame format and its resynchronising decoder (device/sync/protocol.py)."""

from __future__ import annotations

import itertools
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.store import MinuteRow
from device.sync import pairing
from device.sync.protocol import (
    HEADER_LEN,
    MAX_PAYLOAD,
    PROTOCOL_VERSION,
    ErrorCode,
    Frame,
    FrameDecoder,
    FrameError,
    FrameTooLarge,
    MsgType,
    ProtocolError,
    decode_rows,
    encode_frame,
    encode_rows,
    reply_type,
)


def frames_of(events):
    return [e for e in events if isinstance(e, Frame)]


def errors_of(events):
    return [e for e in events if isinstance(e, FrameError)]


def oversized_header(request_id: int, length: int) -> bytes:
    """A header whose own check is valid but whose length exceeds the maximum."""
    header = struct.pack(">2sBBII", b"WC", 1, MsgType.PULL, request_id, length)
    return header + struct.pack(">H", zlib.crc32(header) & 0xFFFF)


def test_round_trip_fields_and_json():
    raw = encode_frame(MsgType.PULL, 77, {"after": 5, "limit": 10, "note": "é"})
    (frame,) = FrameDecoder().feed(raw)
    assert isinstance(frame, Frame)
    assert (frame.version, frame.msg_type, frame.request_id) == (PROTOCOL_VERSION, MsgType.PULL, 77)
    assert frame.json() == {"after": 5, "limit": 10, "note": "é"}
    assert reply_type(MsgType.PULL) == 0x92


def test_frames_fed_byte_by_byte_come_out_once_each():
    raws = [encode_frame(MsgType.STATUS, i, {"i": i}) for i in range(5)]
    dec = FrameDecoder()
    out = []
    for b in b"".join(raws):
        out += dec.feed(bytes([b]))
    assert [f.request_id for f in frames_of(out)] == [0, 1, 2, 3, 4]
    assert errors_of(out) == []
    assert dec.buffered == 0


def test_garbage_is_skipped_and_reported():
    raw = encode_frame(MsgType.HELLO, 1, {})
    out = FrameDecoder().feed(b"\x00noise W" + raw + b"more junk" + raw)
    assert len(frames_of(out)) == 2
    assert sum(e.skipped for e in errors_of(out) if e.kind == "garbage") >= len("\x00noise ")


def test_corrupt_crc_is_reported_with_its_request_id_and_the_next_frame_survives():
    bad = bytearray(encode_frame(MsgType.PULL, 9, {"after": 1, "limit": 2}))
    bad[HEADER_LEN + 3] ^= 0x40
    good = encode_frame(MsgType.STATUS, 10, {})
    out = FrameDecoder().feed(bytes(bad) + good)
    assert [f.request_id for f in frames_of(out)] == [10]
    assert any(e.kind == "corrupt" and e.request_id == 9 for e in errors_of(out))


def test_oversized_frame_is_refused_without_waiting_for_its_length():
    good = encode_frame(MsgType.STATUS, 2, {})
    out = FrameDecoder().feed(oversized_header(1, 10_000_000) + b"x" * 100 + good)
    assert [f.request_id for f in frames_of(out)] == [2]
    assert any(e.kind == "oversized" and e.request_id == 1 for e in errors_of(out))


def test_truncated_frame_is_dropped_as_soon_as_a_later_frame_is_complete():
    cut = encode_frame(MsgType.PULL, 5, {"pad": "x" * 200})[:-50]
    good = encode_frame(MsgType.STATUS, 6, {})
    dec = FrameDecoder()
    out = dec.feed(cut + good)  # no more bytes will come: the good frame must not wait
    assert [f.request_id for f in frames_of(out)] == [6]
    assert any(e.kind == "truncated" and e.request_id == 5 for e in errors_of(out))


def test_reset_drops_a_partial_frame():
    dec = FrameDecoder()
    assert dec.feed(encode_frame(MsgType.STATUS, 1, {})[:-3]) == []
    (err,) = dec.reset()
    assert err.kind == "truncated" and dec.buffered == 0


def test_encode_refuses_payload_over_the_maximum():
    with pytest.raises(FrameTooLarge):
        encode_frame(MsgType.PULL, 1, b"x" * (MAX_PAYLOAD + 1))
    assert len(encode_frame(MsgType.PULL, 1, b"x" * MAX_PAYLOAD)) == 64 * 1024


@pytest.mark.parametrize("payload", [b"{nope", b"\xff\xfe", b"[1, 2]", b"42"])
def test_bad_json_payload_raises_protocol_error(payload):
    (frame,) = FrameDecoder().feed(encode_frame(MsgType.STATUS, 1, payload))
    with pytest.raises(ProtocolError) as exc:
        frame.json()
    assert exc.value.code is ErrorCode.BAD_JSON


def test_rows_round_trip_with_boot_ids_listed_once():
    rows = [MinuteRow(start_utc=60 * i, steps=i, cadence_spm=i + 0.5, moderate=i % 2 == 0,
                      chip_steps=None if i % 3 else i, clock_trusted=bool(i % 2),
                      boot_id=f"boot-{i % 2}", mono_start=10.25 * i, seq=i + 1)
            for i in range(6)]
    body = encode_rows(rows)
    assert body["boots"] == ["boot-0", "boot-1"]
    assert decode_rows(body) == rows


def test_malformed_rows_are_a_protocol_error():
    body = encode_rows([MinuteRow(60, 1, 1.0, False, None, True, "b", 1.0, 1)])
    body["rows"][0][0] = "one"
    with pytest.raises(ProtocolError):
        decode_rows(body)


def test_pairing_guard_backs_off_exponentially_and_persists():
    now = [1000.0]
    meta: dict[str, str | None] = {}
    guard = pairing.PairingGuard(lambda: now[0], meta.get, meta.__setitem__)
    for _ in range(2):
        guard.record_failure()
        assert guard.wait_remaining() == 0
    waits = []
    for _ in range(4):
        guard.record_failure()
        waits.append(guard.wait_remaining())
    assert waits == [2.0, 4.0, 8.0, 16.0]
    now[0] += 10
    assert guard.wait_remaining() == 6.0
    assert pairing.PairingGuard.META_KEY not in meta  # counted in memory, written by flush()
    assert guard.flush() and not guard.flush()  # one write for six failures
    again = pairing.PairingGuard(lambda: now[0], meta.get, meta.__setitem__)  # a reboot
    assert again.failures == 6 and again.wait_remaining() == 16.0
    again.record_success()
    assert meta[pairing.PairingGuard.META_KEY] is None and again.wait_remaining() == 0


def test_spake2_pairing_agrees_only_on_the_same_code():
    device = pairing.DevicePake("123456", "WC-1")
    host_msg, host_key = pairing.host_pake("123456", "WC-1", device.message)
    assert device.key(host_msg) == host_key and len(host_msg) == pairing.SPAKE_MSG_BYTES
    device = pairing.DevicePake("123456", "WC-1")
    host_msg, host_key = pairing.host_pake("123457", "WC-1", device.message)
    assert device.key(host_msg) != host_key
    with pytest.raises(ValueError):
        pairing.DevicePake("123456", "WC-1").key(b"A" + bytes(32))  # not a group element
    with pytest.raises(ValueError):
        pairing.host_pake("123456", "WC-1", b"junk")


def test_the_back_off_never_overflows():
    guard = pairing.PairingGuard(lambda: 0.0)
    guard.failures = 5000  # the old code computed 2.0**4998 here: OverflowError
    assert guard.delay() == pairing.PairingGuard.MAX_DELAY
    guard.record_failure()
    assert guard.wait_remaining() == pairing.PairingGuard.MAX_DELAY


# -- fuzzing --------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=20)
json_values = scalars | st.lists(scalars, max_size=4)
payloads = st.dictionaries(st.text(max_size=10), json_values, max_size=4)
frame_specs = st.tuples(st.integers(0, 255), st.integers(0, 2**32 - 1), payloads)
garbage = st.binary(max_size=40).map(lambda b: b.replace(b"W", b"w"))


def chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000), st.lists(st.integers(0, 10_000), max_size=20))
def test_decoder_never_raises_on_arbitrary_bytes(data, cuts):
    dec = FrameDecoder()
    for part in chunked(data, cuts):
        for ev in dec.feed(part):
            assert isinstance(ev, Frame | FrameError)
    dec.reset()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(frame_specs, garbage,
                  st.sampled_from(["ok", "ok", "ok", "flip", "truncate", "insert"]),
                  st.integers(0, 10**6), st.integers(1, 255)),
        min_size=1, max_size=8),
    st.lists(st.integers(0, 100_000), max_size=30),
)
def test_intact_frames_are_always_recovered(specs, cuts):
    stream = bytearray()
    expected = []
    for (msg_type, rid, payload), junk, damage, where, xor in specs:
        raw = bytearray(encode_frame(msg_type, rid, payload))
        if damage == "ok":
            expected.append((msg_type, rid, payload))
        elif damage == "flip":
            raw[where % len(raw)] ^= xor
        elif damage == "truncate":
            raw = raw[: where % len(raw)]
        else:
            i = 1 + where % (len(raw) - 1)  # inside the frame, not in front of it
            raw[i:i] = bytes([xor])
        stream += junk + raw
    dec = FrameDecoder()
    got = []
    for part in chunked(bytes(stream), cuts):
        got += frames_of(dec.feed(part))
    assert [(f.msg_type, f.request_id, f.json()) for f in got] == expected
