"""The minute store on a real SQLite file: schema, durability, disk full, corruption, cursor."""

from __future__ import annotations

import datetime as dt
import os
import random
import sqlite3
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path

import numpy as np
import pytest

import device.store as store_mod
from device.config import ConfigError, PlanWeek, WearerConfig
from device.core.progress import week_progress, week_start_for
from device.store import MIGRATIONS, SCHEMA_VERSION, MinuteRow, Store, StoreError, StoreFull
from tests.damage import overwrite_pages, sha

REPO = Path(__file__).resolve().parents[1]
T0 = 1_772_409_600  # 2026-03-02 00:00 UTC, a Monday


def row(i: int, *, boot: str = "boot-a", trusted: bool = True, steps: int = 110, **kw) -> MinuteRow:
    fields = dict(
        start_utc=T0 + 60 * i,
        steps=steps,
        cadence_spm=float(steps),
        moderate=steps >= 100,
        chip_steps=steps + 1,
        clock_trusted=trusted,
        boot_id=boot,
        mono_start=1000.0 + 60 * i,
    )
    fields.update(kw)
    return MinuteRow(**fields)


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "dev.sqlite3")
    yield s
    s.close()


# -- schema ------------------------------------------------------------------------------------


def test_new_file_is_migrated_to_latest_schema_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "dev.sqlite3"
    with Store(path) as s:
        q = s._query
        assert q("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert q("PRAGMA journal_mode") == [("wal",)]
        assert q("PRAGMA synchronous") == [(2,)]  # FULL
        tables = {r[0] for r in q("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"minutes", "config", "meta", "events"} <= tables
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)  # persistent
    raw.close()


def test_empty_existing_file_is_a_new_store(tmp_path):
    path = tmp_path / "dev.sqlite3"
    path.touch()
    with Store(path) as s:
        assert s.last_seq() == 0 and s.get_config() == WearerConfig()


def test_version_1_file_is_migrated_keeping_its_rows(tmp_path):
    path = tmp_path / "v1.sqlite3"
    raw = sqlite3.connect(path, isolation_level=None)
    MIGRATIONS[0](raw)
    raw.execute("PRAGMA user_version=1")
    raw.execute(
        "INSERT INTO minutes (start_utc, steps, cadence_spm, moderate, chip_steps, clock_trusted,"
        " boot_id, mono_start) VALUES (?, 104, 104.0, 1, NULL, 1, 'old', 5.0)",
        (T0,),
    )
    raw.execute("INSERT INTO meta (key, value) VALUES ('acknowledged_seq', '0')")
    raw.close()
    with Store(path) as s:
        assert s._query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        (old,) = s.minutes_after(0)
        assert (old.seq, old.steps, old.moderate, old.chip_steps, old.boot_id) == (
            1,
            104,
            True,
            None,
            "old",
        )
        s.log_event("migrated", "from 1")
        assert s.events()[-1][2:] == ("migrated", "from 1")
        assert s.add_minutes([row(1)]) == [2]
        indexes = {r[0] for r in s._query("SELECT name FROM sqlite_master WHERE type='index'")}
        assert "minutes_by_time" in indexes


def test_a_failing_migration_rolls_back_and_leaves_the_file_usable(tmp_path, monkeypatch):
    path = tmp_path / "dev.sqlite3"
    Store(path).close()

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        db.execute("THIS IS NOT SQL")

    monkeypatch.setattr(store_mod, "MIGRATIONS", (*MIGRATIONS, broken))
    monkeypatch.setattr(store_mod, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match=str(path)):
        Store(path)
    monkeypatch.undo()
    with Store(path) as s:
        assert s._query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert s._query("SELECT name FROM sqlite_master WHERE name = 'half_done'") == []


# -- corrupt or foreign files --------------------------------------------------------------------


def test_non_sqlite_file_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "dev.sqlite3"
    path.write_bytes(b"these are my holiday notes, not a database\n" * 50)
    before = sha(path)
    with pytest.raises(StoreError, match=r"not an SQLite database") as err:
        Store(path)
    assert str(path) in str(err.value)
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dev.sqlite3"]


def test_corrupt_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "dev.sqlite3"
    with Store(path) as s:
        s.add_minutes([row(i) for i in range(3000)])
    overwrite_pages(path, 3, 2)
    before = sha(path)
    with pytest.raises(StoreError) as err:
        Store(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert sha(path) == before


def test_newer_schema_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "dev.sqlite3"
    Store(path).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    raw.close()
    before = sha(path)
    with pytest.raises(StoreError, match="newer than this firmware"):
        Store(path)
    assert sha(path) == before


# -- minutes -----------------------------------------------------------------------------------


def test_add_minutes_assigns_increasing_seqs_and_reads_back_exactly(store):
    rows = [row(0), row(1, chip_steps=None, steps=3), row(2, trusted=False)]
    assert store.add_minutes(rows) == [1, 2, 3]
    assert store.add_minutes([]) == []
    got = store.minutes_after(0)
    assert got == [
        r.__class__(**{**r.__dict__, "seq": s}) for r, s in zip(rows, [1, 2, 3], strict=True)
    ]
    assert [r.seq for r in store.minutes_after(1, limit=1)] == [2]
    assert store.last_seq() == 3
    between = store.minutes_between(T0 + 60, T0 + 180)
    assert [r.seq for r in between] == [2, 3]


def test_an_invalid_row_refuses_the_whole_batch(store):
    with pytest.raises(StoreError, match="row 1: start_utc"):
        store.add_minutes([row(0), row(1, start_utc=T0 + 61)])
    with pytest.raises(StoreError, match="row 0: steps"):
        store.add_minutes([row(0, steps=-1)])
    with pytest.raises(StoreError, match="cadence_spm"):
        store.add_minutes([row(0, cadence_spm=float("nan"))])
    assert store.minute_count() == 0 and store.last_seq() == 0


def test_acknowledge_and_prune_never_delete_unacknowledged_rows(store):
    store.add_minutes([row(i) for i in range(10)])  # seqs 1..10, all at T0 + i minutes
    later = T0 + 200 * 86400
    assert store.prune(keep_days=120, now_utc=later) == 0  # nothing acknowledged yet
    with pytest.raises(StoreError, match="last stored seq is 10"):
        store.acknowledge(11)
    store.acknowledge(6)
    store.acknowledge(3)  # never moves backwards
    assert store.acknowledged_seq() == 6
    assert store.prune(keep_days=120, now_utc=T0 + 60 * 86400) == 0  # not old enough
    assert store.prune(keep_days=120, now_utc=later) == 6
    assert [r.seq for r in store.minutes_after(0)] == [7, 8, 9, 10]
    store.acknowledge(10)
    assert store.prune(keep_days=120, now_utc=later) == 4
    assert store.last_seq() == 10  # the cursor survives an empty table
    assert store.add_minutes([row(11)]) == [11]  # seqs are never reused
    assert store.first_data_utc() == T0  # pinned before the first rows were pruned


def test_reanchor_fixes_only_untrusted_rows_of_that_boot(store):
    seqs = store.add_minutes(
        [
            row(0, trusted=False, boot="b1", mono_start=100.0, start_utc=0),
            row(1, trusted=False, boot="b1", mono_start=160.5, start_utc=60),
            row(2, trusted=False, boot="b0", mono_start=100.0, start_utc=0),
            row(3, trusted=True, boot="b1", mono_start=220.0),
        ]
    )
    utc_now = T0 + 3600.7
    assert store.reanchor("b1", mono_now=400.0, utc_now=utc_now) == 2
    got = {r.seq: r for r in store.minutes_after(0)}
    for seq, mono in ((seqs[0], 100.0), (seqs[1], 160.5)):
        expected = int((utc_now - (400.0 - mono)) // 60) * 60
        assert got[seq].start_utc == expected and got[seq].clock_trusted
    assert got[seqs[2]].start_utc == 0 and not got[seqs[2]].clock_trusted
    assert got[seqs[3]].start_utc == T0 + 180
    assert store.reanchor("b1", mono_now=400.0, utc_now=utc_now) == 0


# -- config, meta, events ----------------------------------------------------------------------


def test_config_is_stored_and_a_refused_config_leaves_the_old_one(tmp_path):
    path = tmp_path / "dev.sqlite3"
    good = WearerConfig(
        threshold_spm=95, plan=(PlanWeek(dt.date(2026, 3, 2), 70),), timezone="Europe/London"
    )
    with Store(path) as s:
        assert s.get_config() == WearerConfig()
        s.set_config(good)
        with pytest.raises(ConfigError, match="threshold_spm"):
            s.set_config_json({**good.to_json(), "threshold_spm": 500})
        with pytest.raises(ConfigError, match="timezone"):
            s.set_config_json({**good.to_json(), "timezone": "Nowhere/Atlantis"})
        assert s.get_config() == good
    with Store(path) as s:
        assert s.get_config() == good
        assert s.set_config_json({"wearer_label": "Bo"}) == WearerConfig(wearer_label="Bo")


def test_meta_and_events(store):
    assert store.get_meta("secret") is None
    store.set_meta("secret", "abc")
    assert store.get_meta("secret") == "abc"
    store.set_meta("secret", None)
    assert store.get_meta("secret") is None
    for i in range(5):
        store.log_event("sync", f"n={i}")
    ev = store.events(limit=3)
    assert [e[3] for e in ev] == ["n=2", "n=3", "n=4"]
    assert ev[0][0] < ev[1][0] < ev[2][0] and abs(ev[-1][1] - time.time()) < 60


# -- disk full ---------------------------------------------------------------------------------


def test_disk_full_rolls_back_and_buffered_rows_are_written_exactly_once(tmp_path):
    path = tmp_path / "dev.sqlite3"
    s = Store(path, max_page_count=24)
    n = 0
    with pytest.raises(StoreFull):
        while True:
            s.add_minutes([row(n + k) for k in range(40)])
            n += 40
    stored = s.minute_count()
    assert stored == n  # the failing batch left nothing behind
    assert s.integrity_ok()
    assert len(s.minutes_after(0, limit=10_000)) == n  # still readable
    # The caller keeps the failed batch plus the minutes that arrive while still full.
    pending = [row(n + k) for k in range(40)]
    for extra in range(3):
        batch = [row(n + 40 + extra)]
        with pytest.raises(StoreFull):
            s.add_minutes([*pending, *batch])
        pending += batch
    assert s.minute_count() == stored
    s.log_event("full", "dropped quietly, never raises")
    s.close()
    # Space comes back (bigger card / no limit): the buffer is written, once.
    with Store(path) as s:
        seqs = s.add_minutes(pending)
        assert seqs == list(range(stored + 1, stored + 1 + len(pending)))
        rows = s.minutes_after(0, limit=100_000)
        monos = [r.mono_start for r in rows]
        assert len(monos) == len(set(monos)) == stored + len(pending)
        assert s.integrity_ok()


def test_pruning_acknowledged_rows_frees_space_in_the_same_store(tmp_path):
    s = Store(tmp_path / "dev.sqlite3", max_page_count=24)
    n = 0
    with pytest.raises(StoreFull):
        while True:
            s.add_minutes([row(n + k) for k in range(40)])
            n += 40
    s.acknowledge(s.last_seq())
    assert s.prune(keep_days=1, now_utc=T0 + 400 * 86400) == n
    assert s.add_minutes([row(n + k) for k in range(40)])[0] == n + 1
    s.close()


# -- kill -9 while writing ---------------------------------------------------------------------

WRITER = r"""
import sys
from pathlib import Path
from device.store import MinuteRow, Store
store = Store(Path(sys.argv[1]))
boot = sys.argv[2]
print("ready", flush=True)
i = 0
while True:
    rows = [MinuteRow(start_utc=1772409600 + 60 * (i + k), steps=100 + k, cadence_spm=100.0,
                      moderate=True, chip_steps=None, clock_trusted=False, boot_id=boot,
                      mono_start=float(i + k)) for k in range(3)]
    seqs = store.add_minutes(rows)
    sys.stdout.write(" ".join(map(str, seqs)) + "\n")
    sys.stdout.flush()
    i += 3
"""


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_committed_row(tmp_path):
    path = tmp_path / "dev.sqlite3"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(1234)
    committed: set[int] = set()
    prev_max = 0
    kills = 0
    started = time.monotonic()
    for k in range(60):
        p = subprocess.Popen(
            [sys.executable, str(script), str(path), f"boot-{k}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        if k % 6 == 0:  # sometimes kill while it opens / migrates the file
            time.sleep(rng.uniform(0.0, 0.12))
        else:
            assert p.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.0, 0.04))
        p.kill()
        out = p.stdout.read()
        p.wait()
        kills += 1
        seqs = [
            int(x) for line in out.split(b"\n") if line and line != b"ready" for x in line.split()
        ]
        if seqs:
            assert min(seqs) > prev_max  # the next writer carried on with higher seqs
        committed.update(seqs)
        raw = sqlite3.connect(path)
        version = raw.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0:  # killed before the first migration committed: nothing half-made
            assert "minutes" not in tables and not seqs
            present: set[int] = set()
        else:
            present = {r[0] for r in raw.execute("SELECT seq FROM minutes")}
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        raw.close()
        assert committed <= present
        assert len(present) % 3 == 0  # a batch is all or nothing
        prev_max = max(present, default=0)
    print(f"{kills} kills, {len(committed)} committed rows all present, last seq {prev_max}")
    assert kills >= 50
    assert len(committed) > 100
    with Store(path) as s:
        assert s.add_minutes([row(0)]) == [prev_max + 1]
    assert time.monotonic() - started < 30


# -- the store feeds progress ------------------------------------------------------------------


def test_week_totals_from_the_store_equal_the_sum_of_its_minute_rows(store):
    cfg = WearerConfig(timezone="Europe/London", week_start_day=0)
    tz = zoneinfo.ZoneInfo(cfg.timezone)
    rng = np.random.default_rng(7)
    start = 1_774_137_600  # 2026-03-22 00:00 UTC: the window spans the London spring change
    minutes = np.sort(rng.choice(21 * 1440, size=6000, replace=False))
    steps = rng.integers(0, 140, size=minutes.size)
    rows = [
        row(0, start_utc=int(start + 60 * m), steps=int(s), mono_start=float(m))
        for m, s in zip(minutes, steps, strict=True)
    ]
    store.add_minutes(rows)
    now = start + 10 * 86400 + 3600 * 13  # Wednesday 1 April 2026, 14:00 BST
    week = week_start_for(dt.datetime.fromtimestamp(now, tz).date(), 0)
    lo = int(dt.datetime.combine(week, dt.time(0), tzinfo=tz).timestamp())
    hi = int(dt.datetime.combine(week + dt.timedelta(days=7), dt.time(0), tzinfo=tz).timestamp())
    p = week_progress(store.minutes_between(lo - 6 * 7 * 86400, hi), cfg, now)
    in_week = [r for r in rows if lo <= r.start_utc < hi]
    assert p.week_start == week == dt.date(2026, 3, 30)
    assert p.moderate_minutes == sum(r.moderate for r in in_week) == sum(p.day_minutes)
    today = dt.datetime.fromtimestamp(now, tz).date()
    today_rows = [r for r in in_week if dt.datetime.fromtimestamp(r.start_utc, tz).date() == today]
    assert p.today_steps == sum(r.steps for r in today_rows)
    assert p.today_moderate_minutes == sum(r.moderate for r in today_rows)
