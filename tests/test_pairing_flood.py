"""Floods of pairing and login attempts: at most one SD-card commit a second, counts exact."""

from __future__ import annotations

import json
import os
import re

from device.clock import DeviceClock
from device.config import WearerConfig
from device.store import Store
from device.sync.agent import META_SECRET, WRITE_INTERVAL_S, SyncSession
from device.sync.pairing import PairingGuard
from device.sync.protocol import PROTOCOL_VERSION, Frame, FrameDecoder, MsgType
from tests.sync_harness import DEVICE_ID, LABEL, MONO_NOW, make_rows


def ask(s: SyncSession, msg_type: int, body: dict, rid: int) -> dict:
    (reply,) = FrameDecoder().feed(s.handle(Frame(PROTOCOL_VERSION, msg_type, rid,
                                                  json.dumps(body).encode())))
    return reply.json()


def test_a_flood_of_pairing_and_login_attempts_is_written_at_most_once_a_second(tmp_path):
    data = tmp_path / "data"
    store = Store.in_dir(data)
    store.set_config(WearerConfig(wearer_label=LABEL))
    store.set_meta(META_SECRET, (b"k" * 32).hex())
    clock = DeviceClock(store, monotonic=lambda: MONO_NOW, boot_id="boot-flood")
    sampler = Store.in_dir(data)  # the firmware loop's own connection, writing its minutes
    now = [1000.0]
    s = SyncSession(store, clock, DEVICE_ID, data, now=lambda: now[0],
                    guard=PairingGuard(lambda: now[0], store.get_meta, store.set_meta))
    commits = [0]
    store._db.set_trace_callback(  # count every COMMIT on the agent's connection
        lambda sql: commits.__setitem__(0, commits[0] + (sql.strip().upper() == "COMMIT")))
    replies: dict[str, int] = {}
    minutes = 0
    step = 0.004  # 250 requests a second, 20 simulated seconds
    for i in range(5000):
        now[0] += step
        kind = i % 4
        if kind == 0:
            r = ask(s, MsgType.PAIR_BEGIN, {}, i)
        elif kind == 1:
            r = ask(s, MsgType.PAIR_CONFIRM, {"host_msg": "41" + "00" * 32,
                                              "proof": os.urandom(32).hex()}, i)
        elif kind == 2:
            r = ask(s, MsgType.AUTH_BEGIN, {}, i)
        else:
            r = ask(s, MsgType.AUTH_FINISH, {"host_nonce": os.urandom(32).hex(),
                                             "proof": os.urandom(32).hex()}, i)
        code = r.get("code", "ok")
        replies[code] = replies.get(code, 0) + 1
        if i % 250 == 0:  # a minute closes now and then: it is stored whatever the flood does
            sampler.add_minutes(make_rows(1, first=minutes))
            minutes += 1
        s.tick()
    seconds = 5000 * step
    print(f"flood: 5000 requests over {seconds:.0f} s made {commits[0]} commits")
    assert commits[0] <= seconds / WRITE_INTERVAL_S + 1, (commits[0], seconds)
    s.flush_notes(force=True)
    # the counts are exact: every wrong code is in the persisted counter, every refusal logged
    wrong = replies.get("wrong_code", 0)
    assert wrong >= 3 and replies.get("locked", 0) > 100 and replies["auth_failed"] == 1250
    assert store.get_meta("pair_failures") == str(wrong) == str(s.guard.failures)
    logged: dict[str, int] = {}
    for _seq, _t, _kind, detail in store.events(5000):
        for part in detail.split("; "):
            m = re.fullmatch(r"(.+?)(?: x(\d+))?", part)
            assert m is not None
            logged[m.group(1)] = logged.get(m.group(1), 0) + int(m.group(2) or 1)
    assert logged["authentication refused"] == 1250
    assert logged["wrong pairing code"] == wrong
    assert logged["pairing code shown"] == replies["ok"] - 1250  # PAIR_BEGIN + AUTH_BEGIN ok
    assert sampler.minute_count() == minutes == 20
    sampler.close()
    store.close()
