"""DeviceClock: no RTC, so trust comes from the host and lasts for the boot it was given in."""

from __future__ import annotations

import math

import pytest

from device.clock import META_CLOCK, DeviceClock, read_boot_id
from device.config import ConfigError
from device.store import MinuteRow, Store

HOST_UTC = 1_772_409_600.25  # 2026-03-02 00:00:00.25 UTC


class FakeTime:
    """A monotonic and a wall clock the test moves by hand."""

    def __init__(self, mono: float = 50.0, wall: float = 86_400.0) -> None:
        self.mono = mono
        self.wall = wall

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def advance(self, s: float) -> None:
        self.mono += s
        self.wall += s


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "dev.sqlite3")
    yield s
    s.close()


def clock(store, t: FakeTime, boot: str = "boot-1") -> DeviceClock:
    return DeviceClock(store, monotonic=t.monotonic, wall=t.time, boot_id=boot)


def untrusted_row(mono: float, boot: str = "boot-1") -> MinuteRow:
    return MinuteRow(
        start_utc=60,
        steps=120,
        cadence_spm=120.0,
        moderate=True,
        chip_steps=None,
        clock_trusted=False,
        boot_id=boot,
        mono_start=mono,
    )


def test_fresh_boot_is_untrusted_and_uses_the_system_guess(store):
    t = FakeTime()
    c = clock(store, t)
    assert not c.trusted()
    assert c.utc_now() == t.wall and c.monotonic() == t.mono
    assert c.stamp(t.mono - 30) == (86_400 - 60, False)


def test_set_time_makes_it_trusted_and_time_follows_the_monotonic_clock(store):
    t = FakeTime()
    c = clock(store, t)
    c.set_time(HOST_UTC, "Europe/London")
    assert c.trusted()
    t.mono += 125.5  # the system wall clock is not consulted any more
    assert c.utc_now() == pytest.approx(HOST_UTC + 125.5)
    assert c.stamp(t.mono - 10) == (math.floor((HOST_UTC + 115.5) / 60) * 60, True)
    assert store.get_config().timezone == "Europe/London"


def test_service_restart_in_the_same_boot_stays_trusted(store):
    t = FakeTime()
    clock(store, t).set_time(HOST_UTC, "UTC")
    t.advance(600)
    again = clock(store, t)
    assert again.trusted()
    assert again.utc_now() == pytest.approx(HOST_UTC + 600)


def test_a_new_boot_is_untrusted_until_the_host_sets_the_time(store):
    t = FakeTime()
    clock(store, t, boot="boot-1").set_time(HOST_UTC, "UTC")
    rebooted = FakeTime(mono=3.0, wall=1_000.0)
    c = clock(store, rebooted, boot="boot-2")
    assert not c.trusted()
    assert c.utc_now() == 1_000.0
    c.set_time(HOST_UTC + 7200, "UTC")
    assert c.trusted() and c.utc_now() == pytest.approx(HOST_UTC + 7200)


def test_set_time_reanchors_this_boots_untrusted_rows_only(store):
    t = FakeTime(mono=1000.0)
    c = clock(store, t, boot="boot-1")
    store.add_minutes([untrusted_row(400.0), untrusted_row(880.0), untrusted_row(5.0, "boot-0")])
    c.set_time(HOST_UTC, "UTC")
    a, b, other = store.minutes_after(0)
    assert a.clock_trusted and a.start_utc == math.floor((HOST_UTC - 600) / 60) * 60
    assert b.clock_trusted and b.start_utc == math.floor((HOST_UTC - 120) / 60) * 60
    assert not other.clock_trusted and other.start_utc == 60


@pytest.mark.parametrize(
    ("utc", "tz", "error"),
    [
        (HOST_UTC, "Atlantis/Capital", ConfigError),
        (HOST_UTC, "", ConfigError),
        (float("nan"), "UTC", ValueError),
        (0.0, "UTC", ValueError),
        ("2026-03-02", "UTC", ValueError),
    ],
)
def test_bad_host_time_or_zone_changes_nothing(store, utc, tz, error):
    t = FakeTime()
    c = clock(store, t)
    store.add_minutes([untrusted_row(10.0)])
    with pytest.raises(error):
        c.set_time(utc, tz)
    assert not c.trusted()
    assert store.get_meta(META_CLOCK) is None
    assert store.get_config().timezone == "UTC"
    assert not store.minutes_after(0)[0].clock_trusted


def test_clock_can_open_its_own_store_in_a_data_dir(tmp_path):
    t = FakeTime()
    c = DeviceClock(tmp_path / "data", monotonic=t.monotonic, wall=t.time, boot_id="b")
    c.set_time(HOST_UTC, "UTC")
    c.close()
    c2 = DeviceClock(tmp_path / "data", monotonic=t.monotonic, wall=t.time, boot_id="b")
    assert c2.trusted()
    c2.close()


def test_boot_id_comes_from_the_kernel_file_or_a_unique_stand_in(tmp_path):
    f = tmp_path / "boot_id"
    f.write_text("3f1c-aa\n")
    assert read_boot_id(f) == "3f1c-aa"
    missing = tmp_path / "nope"
    a, b = read_boot_id(missing), read_boot_id(missing)
    assert a != b and a.startswith("process-")
    assert read_boot_id()  # the real one (or a stand-in) is never empty
