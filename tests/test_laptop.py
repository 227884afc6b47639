"""The caregiver's laptop: its time zone, shown and confirmed at a device's first pull."""

from __future__ import annotations

import io
import sys

import pytest

from device.config import check_timezone
from hostsync.tz import laptop_timezone
from tests.sync_harness import make_rows
from tests.test_hostsync_cli import CodeFromScreen, cli, device, paired_cli  # noqa: F401


@pytest.mark.parametrize("tz, expected", [("Europe/Paris", "Europe/Paris"),
                                          (":America/New_York", "America/New_York"),
                                          ("Asia/Kolkata", "Asia/Kolkata")])
def test_the_laptop_zone_comes_from_the_system(monkeypatch, tz, expected):
    monkeypatch.setenv("TZ", tz)
    assert laptop_timezone() == expected


@pytest.mark.parametrize("tz", ["Nowhere/Land", "EST5EDT,M3.2.0,M11.1.0", "../../etc/passwd"])
def test_a_zone_that_is_not_iana_falls_back_to_a_valid_one(monkeypatch, tz):
    monkeypatch.setenv("TZ", tz)
    check_timezone(laptop_timezone())  # raises if not a known IANA name


class Terminal(io.StringIO):
    """stdin on a terminal: the caregiver types these lines."""

    def isatty(self) -> bool:
        return True


def test_first_pull_without_a_terminal_says_the_zone_in_one_clear_line(
        paired_cli, device, monkeypatch):  # noqa: F811 - the fixtures imported above
    monkeypatch.setenv("TZ", "Europe/Madrid")
    device.store.add_minutes(make_rows(30))
    code, out, err = paired_cli("pull", "-q")
    assert code == 0 and "(Europe/Madrid)" in out
    lines = [line for line in err.splitlines() if line.startswith("Time zone:")]
    assert len(lines) == 1 and "Europe/Madrid (this computer's)" in lines[0]
    assert "hostsync config set --timezone" in lines[0]
    assert device.store.get_config().timezone == "Europe/Madrid"
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # the laptop travels: the wearer's zone stays
    code, out, err = paired_cli("pull", "-q")
    assert code == 0 and "Time zone:" not in err
    assert device.store.get_config().timezone == "Europe/Madrid"


def test_first_pull_on_a_terminal_asks_and_takes_the_typed_zone(
        paired_cli, device, monkeypatch):  # noqa: F811 - the fixtures imported above
    monkeypatch.setenv("TZ", "Europe/Madrid")
    monkeypatch.setattr(sys, "stdin", Terminal("Mars/Olympus\nAmerica/Chicago\n"))
    code, _out, err = paired_cli("pull", "-q")
    assert code == 0, err
    assert "Europe/Madrid (this computer's). Press Enter" in err
    assert "not a known IANA time zone" in err
    assert device.store.get_config().timezone == "America/Chicago"


def test_first_pull_on_a_terminal_enter_takes_the_laptop_zone(
        paired_cli, device, monkeypatch):  # noqa: F811 - the fixtures imported above
    monkeypatch.setenv("TZ", "Europe/Madrid")
    monkeypatch.setattr(sys, "stdin", Terminal("\n"))
    assert paired_cli("pull", "-q")[0] == 0
    assert device.store.get_config().timezone == "Europe/Madrid"


def test_first_pull_on_a_terminal_that_closes_is_one_line(
        paired_cli, device, monkeypatch):  # noqa: F811 - the fixtures imported above
    monkeypatch.setattr(sys, "stdin", Terminal(""))
    code, _out, err = paired_cli("pull", "-q")
    assert code == 2 and err.splitlines()[-1].startswith("hostsync: No time zone confirmed")
