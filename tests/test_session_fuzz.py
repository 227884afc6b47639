"""Fuzzing every message type's fields inside a logged-in session: never "internal".

The device agent's edge (device/sync/messages.py) must turn every malformed request into
bad_request (or the message's own refusal: invalid_config, not_found, wrong_code...), never an
"internal" error and never a traceback in the log.
"""

from __future__ import annotations

import json
import logging
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.sync import pairing
from device.sync.agent import SyncSession
from device.sync.channel import SecureChannel, session_keys
from device.sync.messages import REQUESTS
from device.sync.protocol import OPEN_TYPES, PROTOCOL_VERSION, Frame, FrameDecoder, MsgType
from tests.sync_harness import DEVICE_ID, session_store

SECRET = b"s" * 32
FIELDS = ["versions", "host", "host_msg", "proof", "host_nonce", "utc", "tz", "after", "limit",
          "seq", "config", "name", "offset", "length", "x"]

scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=16)
           | st.sampled_from(["Europe/London", "UTC", "../x", "t.csv", "", "\x00", "2026-13-01"])
           | st.binary(min_size=32, max_size=33).map(bytes.hex)
           | st.integers(0, 2**62) | st.floats(1.7e9, 4.2e9))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                      | st.dictionaries(st.text(max_size=12), c, max_size=3), max_leaves=8)
config_like = st.fixed_dictionaries({}, optional={
    "wearer_label": values, "threshold_spm": values, "week_start_day": values,
    "timezone": values, "plan": st.lists(st.fixed_dictionaries(
        {}, optional={"week_start": values, "goal_minutes": values}), max_size=3) | values})
hex32, hex33 = (st.binary(min_size=n, max_size=n).map(bytes.hex) for n in (32, 33))
# a plausible value for each field; the fuzzer mixes them half and half with anything at all
PLAUSIBLE = {
    "versions": st.lists(st.integers(0, 4), max_size=3), "host_msg": hex33, "proof": hex32,
    "host_nonce": hex32, "utc": st.integers(1_600_000_000, 4_200_000_000) | st.floats(1.7e9, 2e9),
    "tz": st.sampled_from(["UTC", "Europe/London", "America/New_York", "Mars/Base"]),
    "after": st.integers(0, 60), "limit": st.integers(0, 2001), "seq": st.integers(0, 60),
    "config": config_like, "name": st.sampled_from(["t.csv", "missing.csv", "..", "a/b"]),
    "offset": st.integers(0, 100), "length": st.integers(0, 40_000),
}
TYPE_FIELDS = {
    MsgType.HELLO: ["versions"], MsgType.PAIR_CONFIRM: ["host_msg", "proof"],
    MsgType.AUTH_FINISH: ["host_nonce", "proof"], MsgType.SET_CLOCK: ["utc", "tz"],
    MsgType.PULL: ["after", "limit"], MsgType.ACK: ["seq"], MsgType.SET_CONFIG: ["config"],
    MsgType.FETCH_TRACE: ["name", "offset", "length"],
}


def body_for(msg_type: MsgType) -> st.SearchStrategy[dict]:
    fields = TYPE_FIELDS.get(msg_type, [])
    required = {f: PLAUSIBLE[f] | values for f in fields}
    optional = {f: values for f in FIELDS if f not in fields}
    return st.fixed_dictionaries(required, optional=optional)


requests = st.sampled_from(sorted(REQUESTS)).flatmap(
    lambda t: st.tuples(st.just(t), body_for(t) | st.dictionaries(st.sampled_from(FIELDS),
                                                                  values, max_size=4)))

class Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    data = tmp_path_factory.mktemp("fuzz") / "data"
    store, clock = session_store(data, SECRET)
    handler = Tracebacks()
    logging.getLogger("device").addHandler(handler)
    yield store, clock, data, handler
    logging.getLogger("device").removeHandler(handler)
    store.close()


def login(s: SyncSession) -> SecureChannel:
    (begin,) = FrameDecoder().feed(s.handle(Frame(PROTOCOL_VERSION, MsgType.AUTH_BEGIN, 1,
                                                  b"{}")))
    dn = bytes.fromhex(begin.json()["device_nonce"])
    hn = os.urandom(32)
    proof = pairing.auth_host_proof(SECRET, dn, hn, pairing.identity(DEVICE_ID, s.store_id))
    body = json.dumps({"host_nonce": hn.hex(), "proof": proof.hex()}).encode()
    s.handle(Frame(PROTOCOL_VERSION, MsgType.AUTH_FINISH, 2, body))
    assert s.authenticated
    return SecureChannel(session_keys(SECRET, dn, hn, DEVICE_ID, s.store_id), "host")


def raw_json(body: dict) -> bytes:
    """What a careless host could put on the wire (NaN and Infinity included)."""
    return json.dumps(body, allow_nan=True).encode()


@settings(max_examples=800, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(requests, min_size=1, max_size=5))
def test_no_request_field_ever_gets_an_internal_error(parts, batch):
    store, clock, data, tracebacks = parts
    s = SyncSession(store, clock, DEVICE_ID, data)
    host = login(s)
    for i, (msg_type, body) in enumerate(batch):
        raw = raw_json(body)
        if msg_type in OPEN_TYPES:  # sent in the clear, as the protocol says
            (reply,) = FrameDecoder().feed(s.handle(Frame(PROTOCOL_VERSION, msg_type, i, raw)))
            if not s.authenticated:
                host = login(s)
        else:
            sealed = next(e for e in FrameDecoder().feed(host.seal(msg_type, i, raw))
                          if isinstance(e, Frame))
            (out,) = FrameDecoder().feed(s.handle(sealed))
            reply = host.open(out)
        if reply.msg_type == MsgType.ERROR:
            err = reply.json()
            assert err["code"] != "internal", (msg_type, body, err)
    s.cancel_pairing()
    assert tracebacks.records == []
    store.set_meta("pair_failures", None)  # keep later examples out of the lock-out
    s.guard.failures = 0
