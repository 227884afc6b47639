"""The host never trusts the device: a rogue or broken device on a real pty cable.

The "device" here is the real SyncAgent serving a SyncSession whose handlers were made to lie.
Each lie must end in one clear error on the host, with nothing wrong stored.
"""

from __future__ import annotations

import json
import time

import pytest

import device.sync.agent as agent_module
import hostsync.pull as pull_module
from device.sync.agent import SyncSession
from device.sync.protocol import MsgType, encode_frame, encode_rows
from hostsync.cli import main as hostsync_main
from hostsync.db import HostDB
from hostsync.link import LinkError
from hostsync.pull import ClockJump, sync_device
from tests.sync_harness import DEVICE_ID, T0, authed, connect, make_rows, pair, start_device


def rogue(monkeypatch, **handlers) -> None:
    """Make the agent serve a SyncSession with some handlers replaced."""
    cls = type("RogueSession", (SyncSession,), handlers)
    monkeypatch.setattr(agent_module, "SyncSession", cls)


@pytest.fixture
def host_db(tmp_path):
    db = HostDB(tmp_path / "host.sqlite3")
    yield db
    db.close()


def start_paired(tmp_path, db, **kw):
    dev = start_device(tmp_path, **kw)
    secret = pair(dev)
    db.save_pairing(DEVICE_ID, secret)
    return dev, secret


def test_a_deeply_nested_hello_is_a_clear_error_not_a_recursion_error(tmp_path, monkeypatch):
    nested = b'{"device_id":' + b"[" * 100_00 + b"]" * 100_00 + b"}"

    def handle(self, event):
        if getattr(event, "msg_type", None) == MsgType.HELLO:
            return encode_frame(0x81, event.request_id, nested)
        return SyncSession.handle(self, event)

    rogue(monkeypatch, handle=handle)
    dev = start_device(tmp_path)
    try:
        with pytest.raises(LinkError, match="nested deeper"):
            connect(dev)
    finally:
        dev.close()


@pytest.mark.parametrize("lie", ["repeats", "invents", "trickles"])
def test_a_device_that_always_says_more_cannot_keep_the_pull_going(tmp_path, monkeypatch,
                                                                   host_db, lie):
    def on_pull(self, req):
        if lie == "repeats":  # the same rows again and again
            reply = json.loads(SyncSession._on_pull(self, type(req)(max(0, req.after - 10),
                                                                    req.limit)))
        else:  # ever new rows; its announced end always further on
            n = 1 if lie == "trickles" else req.limit
            rows = [r.__class__(**{**r.__dict__, "seq": req.after + 1 + i})
                    for i, r in enumerate(make_rows(n, first=req.after))]
            reply = {**encode_rows(rows), "acked_seq": 0,
                     "last_seq": (10**9 if lie == "trickles" else 120) + req.after}
        reply["more"] = True
        return reply

    def on_ack(self, req):  # and it says yes to any ACK
        return {"acked_seq": req.seq}

    rogue(monkeypatch, _on_pull=on_pull, _on_ack=on_ack)
    monkeypatch.setattr(pull_module, "MAX_PAGES", 40)  # 10,000 in use; 40 keeps the test short
    dev, secret = start_paired(tmp_path, host_db)
    try:
        dev.store.add_minutes(make_rows(120))
        session = authed(dev, secret)
        t = time.monotonic()
        if lie == "invents":  # the pull stops at the end it announced first
            summary = sync_device(session, host_db, timezone="UTC", page_size=50,
                                  now=lambda: T0 + 86400)
            assert summary.new_rows == 150 and summary.pages == 3  # 3 pages reach 120
        else:
            with pytest.raises(LinkError):
                sync_device(session, host_db, timezone="UTC", page_size=50,
                            now=lambda: T0 + 86400)
        assert time.monotonic() - t < 10
        session.link.close()
        # what came is stored once; the cursor is no further than the rows stored
        rows = host_db.rows(DEVICE_ID)
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert host_db.device(DEVICE_ID).cursor == len(rows)
        assert len(rows) == {"repeats": 50, "invents": 150, "trickles": 40}[lie]
    finally:
        dev.close()


def test_an_absurd_row_number_is_refused_and_not_stored(tmp_path, monkeypatch, host_db):
    def on_pull(self, req):
        reply = json.loads(SyncSession._on_pull(self, req))
        if reply["rows"]:
            reply["rows"][-1][0] = 2**62
            reply["last_seq"] = 2**62
        return reply

    rogue(monkeypatch, _on_pull=on_pull)
    dev, secret = start_paired(tmp_path, host_db)
    try:
        dev.store.add_minutes(make_rows(10))
        session = authed(dev, secret)
        with pytest.raises(LinkError):
            sync_device(session, host_db, timezone="UTC", now=lambda: T0 + 86400)
        session.link.close()
        assert host_db.row_count(DEVICE_ID) == 0 and host_db.device(DEVICE_ID).cursor == 0
        assert dev.store.acknowledged_seq() == 0
    finally:
        dev.close()


def test_rows_with_impossible_times_are_kept_but_not_trusted(tmp_path, host_db):
    dev, secret = start_paired(tmp_path, host_db)
    try:
        rows = make_rows(6)
        future = [r.__class__(**{**r.__dict__, "start_utc": T0 + 400 * 86400 + 60 * i})
                  for i, r in enumerate(rows[:3])]
        dev.store.add_minutes(rows[3:] + future)
        session = authed(dev, secret)
        summary = sync_device(session, host_db, timezone="UTC", now=lambda: T0 + 86400)
        session.link.close()
        assert summary.implausible_times == 3 and summary.new_rows == 6
        stored = host_db.rows(DEVICE_ID)
        assert [r.clock_trusted for r in stored] == [True] * 3 + [False] * 3
    finally:
        dev.close()


def test_a_host_clock_far_ahead_of_the_device_asks_first(tmp_path, host_db, capsys):
    three_days = 3 * 86400
    dev, secret = start_paired(tmp_path, host_db, wall=lambda: time.time() - three_days)
    try:
        dev.store.add_minutes(make_rows(5, trusted=False))
        session = authed(dev, secret)
        with pytest.raises(ClockJump, match="days ahead"):
            sync_device(session, host_db, timezone="UTC")
        assert not dev.clock.trusted() and host_db.row_count(DEVICE_ID) == 0
        asked = []
        sync_device(session, host_db, timezone="UTC",
                    confirm_clock=lambda h, d: asked.append(h - d) or True)
        session.link.close()
        assert asked and asked[0] > 2.9 * 86400 and dev.clock.trusted()
        assert host_db.row_count(DEVICE_ID) == 5
        # the command line: no terminal and no --yes -> one line, exit 2; --yes -> done
        dev.clock._offset = None  # forget the time again, as after a reboot
        argv = ["--port", dev.bridge.host_path, "--db", str(host_db.path), "pull",
                "--timezone", "UTC"]
        assert hostsync_main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "--yes" in err and "days ahead" in err
        assert hostsync_main([*argv, "--yes"]) == 0
    finally:
        dev.close()
