"""`hostsync status` shows the device's health (sensor, storage) as the device reports it."""

from __future__ import annotations

import pytest

from device.runtime import DeviceRuntime
from tests.sync_harness import start_device
from tests.test_hostsync_cli import cli, paired_cli  # noqa: F401 (fixtures)
from tests.test_runtime import _simulated

HEALTH = {"sensor": "No IMU answered at 0x6A or 0x6B", "storage": "ok", "unwritten_minutes": 3}


@pytest.fixture
def device(tmp_path):
    dev = start_device(tmp_path, health=lambda: dict(HEALTH))
    yield dev
    dev.close()


def test_status_prints_the_sensor_and_storage_the_device_reports(paired_cli) -> None:  # noqa: F811
    code, out, _ = paired_cli("status")
    assert code == 0
    lines = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    assert lines["Sensor"].strip() == HEALTH["sensor"]
    assert lines["Storage"].strip() == "ok"
    assert lines["Unwritten"].strip() == "3 minute(s) waiting for storage"


def test_runtime_health_names_its_problems(tmp_path) -> None:
    _sim, store, clock = _simulated(tmp_path)
    runtime = DeviceRuntime(store, clock)
    assert runtime.health() == {"sensor": "ok", "storage": "ok", "unwritten_minutes": 0}
    runtime.set_sensor_problem("Sensor: no IMU answered")
    assert runtime.health()["sensor"] == "Sensor: no IMU answered"
