"""The MAX17048 fuel gauge through the real adafruit_max1704x driver on an emulated chip, and what
the firmware does with it: charge on screen, battery history per minute, clean stop when empty."""

from __future__ import annotations

import dataclasses
import json
import time
import types
from pathlib import Path

import adafruit_max1704x
import pytest

from device.battery import BatteryUnavailable, FuelGauge, SimulatedBattery
from device.display.screens import problems_of
from device.runtime import DeviceRuntime
from tests.fakes.lsm6ds_chip import FakeI2CBus
from tests.fakes.max17048_chip import make_gauge_bus
from tests.test_hostsync_cli import cli, device, paired_cli  # noqa: F401 (fixtures)
from tests.test_runtime import DailyWalker, _drive, _simulated


@pytest.fixture(autouse=True)
def no_reset_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver waits 0.192 s after its reset; the emulated chip is ready at once."""
    monkeypatch.setattr(adafruit_max1704x, "time", types.SimpleNamespace(sleep=lambda s: None))


def test_reads_charge_voltage_and_rate_through_the_real_driver() -> None:
    bus, chip = make_gauge_bus(percent=63.5, rate_per_hour=-4.2)
    gauge = FuelGauge(bus)
    reading = gauge.read()
    assert type(gauge._driver).__module__ == "adafruit_max1704x"
    assert chip.resets == 1  # the driver soft-resets the chip once, when it connects
    assert reading.percent == pytest.approx(63.5, abs=1 / 256)
    assert reading.volts == pytest.approx(3.3 + 0.9 * 0.635, abs=1e-4)
    assert reading.rate == pytest.approx(-4.16, abs=0.21) and not reading.charging
    chip.percent, chip.rate_per_hour = 99.0, 12.0
    assert gauge.read().charging and chip.resets == 1  # no reconnect while it answers


def test_absent_gauge_is_a_plain_problem() -> None:
    with pytest.raises(BatteryUnavailable, match=r"^no battery gauge answers at 0x36: check"):
        FuelGauge(FakeI2CBus()).read()


def test_a_wrong_chip_at_the_address_is_named() -> None:
    bus, chip = make_gauge_bus()
    chip._words[0x08] = 0x0042  # not a MAX1704x version
    chip.power_on_reset = lambda: None  # keep the wrong version through the driver's reset
    with pytest.raises(BatteryUnavailable, match="not a working MAX17048"):
        FuelGauge(bus).read()


def test_pulled_gauge_is_reported_then_found_again() -> None:
    bus, chip = make_gauge_bus(percent=50.0)
    gauge = FuelGauge(bus)
    assert gauge.read().percent == pytest.approx(50.0, abs=0.01)
    bus.detach(0x36)
    with pytest.raises(BatteryUnavailable, match="stopped answering"):
        gauge.read()
    with pytest.raises(BatteryUnavailable, match="no battery gauge answers"):
        gauge.read()
    bus.attach(0x36, chip)
    chip.percent = 48.0
    assert gauge.read().percent == pytest.approx(48.0, abs=0.01)
    assert chip.resets == 2


def test_runtime_shows_the_charge_and_keeps_it_per_minute(tmp_path: Path) -> None:
    bus, _chip = make_gauge_bus(percent=72.0)
    sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock, battery=FuelGauge(bus))
    _drive(runtime, sim, DailyWalker(days=1))
    status = runtime.status()
    assert status.battery_percent == pytest.approx(72.0, abs=0.01)
    assert status.battery_problem is None
    history = store.battery_between(0, 2**40)
    assert history and all(b == pytest.approx(72.0, abs=0.01) for _, b in history)
    assert len(history) == store.minute_count()  # every stored minute carries the charge


def test_absent_gauge_shows_as_a_problem_and_counting_goes_on(tmp_path: Path) -> None:
    sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock, battery=FuelGauge(FakeI2CBus()))
    _drive(runtime, sim, DailyWalker(days=1))
    assert runtime.steps_total > 500 and store.minute_count() > 0
    status = runtime.status()
    assert status.battery_percent is None
    assert any(p.startswith("Battery gauge: no battery gauge answers") for p in problems_of(status))
    assert store.battery_between(0, 2**40) == []


def test_low_battery_warns_at_15_percent(tmp_path: Path) -> None:
    bus, _chip = make_gauge_bus(percent=15.0)
    _sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock, battery=FuelGauge(bus))
    runtime.poll_battery(force=True)
    assert problems_of(runtime.status())[0] == "Battery low (15 %): charge it soon"
    assert runtime.shutdown_reason is None


def test_empty_battery_writes_the_minute_marks_the_store_clean_and_stops(tmp_path: Path) -> None:
    bus, chip = make_gauge_bus(percent=40.0)
    sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock, battery=FuelGauge(bus))
    walker = DailyWalker(days=3)
    batches_before = len(walker.batches)

    def drain(batch) -> None:
        sim.now = float(batch.t[-1])
        if sim.now > 86400:  # the second day: the cell runs down
            chip.percent = 2.5

    from device.runtime import run_loop

    run_loop(runtime, walker, should_stop=lambda: False, on_batch=drain)
    assert (runtime.shutdown_reason or "").startswith("battery empty")
    assert walker._i < batches_before  # it stopped early, not at the end of the source
    rows = store.minutes_after(0, limit=10**6)
    assert sum(r.steps for r in rows) == runtime.steps_total  # nothing counted was lost
    clean = json.loads(store.get_meta("clean_shutdown") or "{}")
    assert clean.get("reason", "").startswith("battery empty")
    assert any(kind == "shutdown" for _, _, kind, _ in store.events())


def test_a_charging_battery_at_3_percent_does_not_shut_down(tmp_path: Path) -> None:
    bus, _chip = make_gauge_bus(percent=2.0, rate_per_hour=20.0)
    _sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock, battery=FuelGauge(bus))
    runtime.poll_battery(force=True)
    assert runtime.shutdown_reason is None and runtime.status().battery_charging


def test_simulated_battery_drains_by_day_and_charges_at_night() -> None:
    import datetime as dt

    day = dt.datetime(2026, 3, 2, tzinfo=dt.UTC).timestamp()
    battery = SimulatedBattery(lambda: now, dt.UTC)
    now = day + 7 * 3600
    assert battery.read().percent == 100.0 and not battery.read().charging
    now = day + 17 * 3600
    assert battery.read().percent == 50.0
    now = day + 22 * 3600
    assert battery.read().percent == 25.0
    now = day + 26.5 * 3600  # 02:30 on the charger
    assert battery.read().charging and battery.read().percent == 62.5


def test_hostsync_status_shows_the_battery(paired_cli, device) -> None:  # noqa: F811
    """The device keeps the charge per minute; `hostsync status` shows the latest and the low."""
    from tests.sync_harness import make_rows

    now = int(time.time()) // 60 * 60
    rows = make_rows(30, trusted=True)
    device.store.add_minutes([
        dataclasses.replace(r, start_utc=now - 60 * (30 - i), battery_percent=50.0 + abs(i - 20))
        for i, r in enumerate(rows)
    ])
    code, out, _ = paired_cli("status")
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("Battery:"))
    assert line.split(":", 1)[1].strip() == "59 % (lowest 50 % in the last 24 h)"


def test_selftest_finds_the_gauge_or_says_what_is_wrong() -> None:
    from device.app import HardwareConfig
    from device.selftest import check_battery

    bus, _chip = make_gauge_bus(percent=81.0, rate_per_hour=15.0)
    ok = check_battery(HardwareConfig(), FuelGauge(bus))
    assert ok.ok and ok.detail == "MAX17048 at 0x36: 81 %, 4.03 V, charging"
    missing = check_battery(HardwareConfig(), FuelGauge(FakeI2CBus()))
    assert not missing.ok and missing.detail.startswith("no battery gauge answers at 0x36")


def test_the_charge_goes_over_sync_into_the_report(paired_cli, device, tmp_path) -> None:  # noqa: F811
    """Each minute's charge travels with the minute (an optional column) to the host's report."""
    from hostsync.db import HostDB
    from tests.sync_harness import DEVICE_ID, make_rows

    now = int(time.time()) // 60 * 60
    rows = [dataclasses.replace(r, start_utc=now - 60 * (40 - i), clock_trusted=True,
                                battery_percent=None if i < 10 else 90.0 - i)
            for i, r in enumerate(make_rows(40))]
    device.store.add_minutes(rows)
    code, _out, _err = paired_cli("pull")
    assert code == 0
    with HostDB(paired_cli.db) as db:
        pulled = db.rows(DEVICE_ID)
    assert [r.battery_percent for r in pulled] == [r.battery_percent for r in rows]
    code, _out, _err = paired_cli("report", "--out", str(tmp_path / "rep"))
    assert code == 0
    page = next((tmp_path / "rep").glob("*.html")).read_text(encoding="utf-8")
    assert "Battery: 51 % at the last minute recorded, lowest 51 % in its last 7 days." in page


def test_rows_without_the_battery_column_are_still_accepted() -> None:
    from device.store import MinuteRow
    from device.sync.protocol import ROW_COLUMNS_NO_BATTERY, ProtocolError, decode_rows

    old = {"columns": list(ROW_COLUMNS_NO_BATTERY), "boots": ["b"],
           "rows": [[1, 1_700_000_040, 12, 12.0, 0, None, 1, 0, 5.0]]}
    assert decode_rows(old) == [MinuteRow(1_700_000_040, 12, 12.0, False, None, True, "b", 5.0, 1)]
    new = {**old, "columns": [*ROW_COLUMNS_NO_BATTERY, "battery_percent"]}
    for bad in ("x", 101, -1, True):
        new["rows"] = [[1, 1_700_000_040, 12, 12.0, 0, None, 1, 0, 5.0, bad]]
        with pytest.raises(ProtocolError, match="battery_percent"):
            decode_rows(new)
    new["rows"] = [[1, 1_700_000_040, 12, 12.0, 0, None, 1, 0, 5.0]]  # a value missing
    with pytest.raises(ProtocolError, match="9 values for 10 columns"):
        decode_rows(new)
