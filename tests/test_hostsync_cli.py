"""hostsync's command line against a real agent over the pty bridge: messages and exit codes."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys

import pytest
import serial
from serial.tools.list_ports_common import ListPortInfo

from device.config import PlanWeek
from hostsync.cli import NOT_PAIRED, main, parse_plan
from hostsync.db import HostDB
from hostsync.discover import NOT_FOUND_MESSAGE, DiscoveryError, choose_port, find_devices
from tests.sync_harness import DEVICE_ID, LABEL, Device, PtyBridge, make_rows, start_device


@pytest.fixture
def device(tmp_path):
    dev = start_device(tmp_path)
    yield dev
    dev.close()


class CodeFromScreen(io.TextIOBase):
    """stdin for `hostsync pair`: the caregiver types what the device screen shows."""

    def __init__(self, dev: Device, wrong_first: int = 0) -> None:
        self.dev, self.wrong_first = dev, wrong_first

    def readline(self, size: int = -1) -> str:
        code = self.dev.wait_code() if not hasattr(self, "code") else self.code
        self.code = code
        if self.wrong_first:
            self.wrong_first -= 1
            return f"{(int(code) + 1) % 10**6:06d}\n"
        return code + "\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def cli(device, tmp_path, capsys):
    """run(*args) with --port and --db already given."""
    db = str(tmp_path / "host" / "hostsync.sqlite3")

    def go(*argv: str) -> tuple[int, str, str]:
        return run(capsys, "--port", device.bridge.host_path, "--db", db, *argv)

    go.db = db  # type: ignore[attr-defined]
    return go


@pytest.fixture
def paired_cli(cli, device, monkeypatch):
    monkeypatch.setattr(sys, "stdin", CodeFromScreen(device))
    code, out, _err = cli("pair")
    assert code == 0 and f"Paired with {DEVICE_ID}" in out
    return cli


def test_no_device_on_usb_is_one_plain_line(capsys, tmp_path):
    code, _out, err = run(capsys, "--db", str(tmp_path / "h.db"), "status")
    assert code == 1
    assert err.strip() == f"hostsync: {NOT_FOUND_MESSAGE}"


def test_a_missing_port_path_is_one_plain_line(capsys, tmp_path):
    code, _out, err = run(capsys, "--port", str(tmp_path / "ttyACM9"), "--db",
                          str(tmp_path / "h.db"), "pull")
    assert code == 1 and "does not exist" in err and err.count("\n") == 1


def test_a_busy_port_is_one_plain_line(capsys, tmp_path):
    bridge = PtyBridge(tmp_path)
    try:
        with serial.Serial(bridge.host_path, exclusive=True):
            code, _out, err = run(capsys, "--port", bridge.host_path, "--db",
                                  str(tmp_path / "h.db"), "status")
    finally:
        bridge.close()
    assert code == 1 and "is busy" in err and err.count("\n") == 1


def test_a_silent_device_times_out_plainly(capsys, tmp_path):
    bridge = PtyBridge(tmp_path)  # nothing serves the device side
    try:
        code, _out, err = run(capsys, "--port", bridge.host_path, "--db",
                              str(tmp_path / "h.db"), "--timeout", "0.3", "status")
    finally:
        bridge.close()
    assert code == 1 and "did not answer in time" in err


def test_an_unpaired_device_says_run_pair(cli):
    for cmd in (["pull"], ["status"], ["plan", "show"], ["config", "set", "--label", "X"]):
        code, out, err = cli(*cmd)
        assert (code, out) == (1, "")
        assert err.strip() == f"hostsync: {NOT_PAIRED}"


def test_pair_with_a_wrong_code_first_then_pull_status_and_settings(cli, device, monkeypatch):
    device.store.add_minutes(make_rows(1500, trusted=False))
    monkeypatch.setattr(sys, "stdin", CodeFromScreen(device, wrong_first=1))
    code, out, err = cli("pair")
    assert code == 0 and "Wrong code." in err and f"Paired with {DEVICE_ID}" in out

    code, out, err = cli("pull", "--page-size", "400")
    assert code == 0
    assert "1500 new minute rows" in out and "1500/1500" in err
    with HostDB(cli.db) as db:
        assert db.rows(DEVICE_ID) == device.store.minutes_after(0, 5000)
    assert device.store.acknowledged_seq() == 1500 and device.clock.trusted()

    code, out, _ = cli("status")
    assert code == 0 and LABEL in out and DEVICE_ID in out and "Not yet pulled: 0" in out

    code, out, _ = cli("config", "set", "--label", "Ann", "--threshold", "110",
                       "--week-start", "sunday", "--timezone", "Europe/London")
    assert code == 0 and "Ann" in out
    cfg = device.store.get_config()
    assert (cfg.wearer_label, cfg.threshold_spm, cfg.week_start_day, cfg.timezone) == (
        "Ann", 110.0, 6, "Europe/London")
    assert device.configs[-1] == cfg

    code, out, _ = cli("plan", "set", "--start", "2026-11-30", "--goals", "60,70,80")
    assert code == 0 and "2026-12-14      80" in out
    assert [(w.week_start.isoformat(), w.goal_minutes) for w in device.store.get_config().plan] \
        == [("2026-11-30", 60), ("2026-12-07", 70), ("2026-12-14", 80)]
    code, out, _ = cli("plan", "show")
    assert code == 0 and "2026-12-07      70" in out


def test_wrong_code_given_on_the_command_line_exits_2(cli, device):
    for typed in ("12345", "１２３４５６", "12345x", "٠١٢٣٤٥"):  # refused before asking
        code, _out, err = cli("pair", "--code", typed)
        assert code == 2 and "6 digits" in err
    assert device.codes == []
    code, _out, err = cli("pair", "--code", "999999")
    if device.codes[-1] != "999999":  # one chance in a million that the screen showed it
        assert code == 2
        assert err.splitlines()[-1] == "hostsync: Wrong code. Run hostsync pair again."


@pytest.mark.parametrize("argv, words", [
    (["config", "set"], "Nothing to set"),
    (["config", "set", "--threshold", "500"], "--threshold must be"),
    (["config", "set", "--week-start", "someday"], "day name"),
    (["config", "set", "--timezone", "Mars/Olympus"], "time zone"),
    (["plan", "set", "2026-11-30=lots"], "not a whole number"),
    (["plan", "set", "--start", "30/11/2026", "--goals", "60"], "not a date"),
    (["plan", "set", "--start", "2026-11-30"], "together"),
    (["plan", "set", "--start", "2026-11-30", "--goals", "60,99999"], "goal_minutes"),
    (["pull", "--page-size", "0"], "page size"),
    (["frobnicate"], "invalid choice"),
])
def test_input_mistakes_exit_2_before_touching_the_device(paired_cli, device, argv, words):
    before = device.store.get_config()
    code, _out, err = paired_cli(*argv)
    assert code == 2 and words in err
    assert device.store.get_config() == before


def test_report_and_export_from_the_host_database(paired_cli, device, tmp_path):
    device.store.add_minutes(make_rows(3 * 1440, trusted=True))
    assert paired_cli("pull", "-q")[0] == 0
    out_csv = tmp_path / "minutes.csv"
    code, _out, err = paired_cli("export", "--out", str(out_csv))
    assert code == 0 and "Exported" in err
    with out_csv.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == 3 * 1440
    code, out, err = paired_cli("report", "--out", str(tmp_path / "rep"))
    assert code == 0 and "Report written" in err
    assert list((tmp_path / "rep").glob("*.png")) and list((tmp_path / "rep").glob("*.html"))
    assert out.strip()


def test_every_command_has_help(capsys):
    for argv in (["pair"], ["pull"], ["status"], ["report"], ["export"], ["plan", "show"],
                 ["plan", "set"], ["config", "set"], ["traces"]):
        assert main([*argv, "--help"]) == 0
        out = capsys.readouterr().out
        assert "--port" in out and len(out) > 200, argv


def test_discovery_picks_the_walk_coach_by_usb_identity():
    def port(dev, vid=0x1D6B, pid=0x0104, product="Walk Coach Pedometer", sn="WC-1234abcd"):
        p = ListPortInfo(dev, skip_link_detection=True)
        p.vid, p.pid, p.product, p.serial_number = vid, pid, product, sn
        return p

    other = [port("/dev/ttyACM0", vid=0x2341), port("/dev/ttyUSB0", product="Gadget"),
             port("/dev/ttyACM3", sn="XX-1")]
    ours = port("/dev/ttyACM1")
    assert find_devices([*other, ours]) == [ours]
    assert choose_port(None, [*other, ours]) == "/dev/ttyACM1"
    assert choose_port("/dev/custom", []) == "/dev/custom"
    with pytest.raises(DiscoveryError, match="No Walk Coach found"):
        choose_port(None, other)
    with pytest.raises(DiscoveryError, match="--port"):
        choose_port(None, [ours, port("/dev/ttyACM2", sn="WC-99999999")])


def test_parse_plan_forms_agree():
    a = parse_plan("2026-11-30", "60, 70", [])
    b = parse_plan(None, None, ["2026-12-07=70", "2026-11-30=60"])
    assert set(a) == set(b) == {PlanWeek(dt.date(2026, 11, 30), 60),
                                PlanWeek(dt.date(2026, 12, 7), 70)}
