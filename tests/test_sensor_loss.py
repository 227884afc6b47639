"""A missing or vanishing IMU never stops the service: screens and storage carry on.

The real adafruit_lsm6ds driver talks to the emulated chip of tests/fakes on a fake I2C bus;
the chip is absent at start, plugged in, then pulled out mid-walk.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from device.app import ReconnectingImu
from device.clock import DeviceClock
from device.display.controller import DisplayController
from device.display.devices import make_display
from device.lsm6ds import ImuUnavailable, Lsm6dsSource
from device.runtime import DeviceRuntime, run_loop
from device.store import Store
from tests.fakes.lsm6ds_chip import (
    ChipTrace,
    EmulatedLsm6ds,
    FakeClock,
    FakeI2CBus,
    patch_driver_sleep,
)


def test_sensor_absent_then_present_then_pulled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    clock = FakeClock(start=1000.0)
    patch_driver_sleep(monkeypatch, clock)
    bus = FakeI2CBus(clock)
    chip = EmulatedLsm6ds("LSM6DSOX", clock, ChipTrace.walking(1000.0, 600.0, cadence_spm=110))
    store = Store(tmp_path / "walkcoach.sqlite3")
    device_clock = DeviceClock(store, monotonic=clock, wall=lambda: 1_772_409_600.0 + clock(),
                               boot_id="b")
    screen = DisplayController(make_display("dummy"), idle_timeout_s=None)
    runtime = DeviceRuntime(store, device_clock, display=screen)
    source = ReconnectingImu(
        lambda: Lsm6dsSource(bus, 0x6A, clock=clock, sleep=clock.sleep), (ImuUnavailable,))
    seen: list[str | None] = []
    iterations = 0

    def script() -> bool:
        nonlocal iterations
        iterations += 1
        seen.append(runtime.sensor_problem)
        if iterations == 5:
            bus.attach(0x6A, chip)       # the technician reseats the breakout
        if iterations == 200:
            bus.detach(0x6A)             # a wire comes loose mid-walk
        if iterations < 5 or iterations > 200:
            clock.advance(1.0)           # time passes while the loop waits to retry
        return iterations >= 210

    run_loop(runtime, source, should_stop=script, source_error=(ImuUnavailable,), retry_s=0.0)

    assert seen[1] is not None and "no IMU answers" in seen[1]      # absent: a plain message
    assert None in seen[10:190]                                      # found: problem cleared
    after = [s or "" for s in seen[200:]]
    assert any("stopped answering" in s for s in after)              # pulled: said at once,
    assert "no IMU answers" in after[-1]                             # and retried since
    assert runtime.steps_total > 200                                 # walked while present
    assert screen.frames_sent > 0 and runtime.status().sensor_problem == seen[-1]
    assert store.minute_count() >= 2 and store.integrity_ok()       # storage went on
    events = [e for e in store.events() if e[2] == "sensor"]
    assert len(events) >= 2
