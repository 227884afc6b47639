"""`pedometer record` and the IMU self-test, on the real driver against the emulated chip."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from device.lsm6ds import Lsm6dsSource
from device.record import record_trace, selftest_imu
from device.sources import ImuBatch
from device.trace import read_trace
from tests.fakes.lsm6ds_chip import ChipTrace, FakeClock, FakeI2CBus, make_bus, patch_driver_sleep


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(sleep_jitter_s=0.003, seed=2)
    patch_driver_sleep(monkeypatch, clock)
    return clock


@pytest.mark.parametrize("name", ["walk.csv", "walk.csv.gz"])
def test_record_trace_writes_a_file_that_reads_back(tmp_path, clock, name):
    trace = ChipTrace.walking(clock(), 60.0)
    bus, _ = make_bus([(0x6B, "LSM6DS3TR-C")], clock=clock, trace=trace)
    source = Lsm6dsSource(bus, clock=clock, sleep=clock.sleep)
    rows = record_trace(source, tmp_path / name, duration_s=5.0)
    back = read_trace(tmp_path / name)
    assert len(back) == rows
    assert rows == pytest.approx(5 * 104, abs=3)
    assert back.meta["chip"] == "LSM6DS3TR-C"
    assert back.meta["rate"] == "104 Hz"
    assert {"device", "start_time"} <= set(back.meta)
    assert np.all(np.diff(back.t) > 0)
    assert back.duration_s < 5.0
    magnitude = np.linalg.norm(back.acc, axis=1)
    assert 7 < magnitude.mean() < 12
    # gx,gy,gz from the chip's FIFO: the emulated walk's sway, to the file's 5 decimals
    assert back.gyro is not None and back.gyro.shape == back.acc.shape
    _, expected = trace.sample(back.t)
    assert np.abs(back.gyro - expected).max() < 0.5  # deg/s: quantisation + timestamp error
    assert np.ptp(back.gyro[:, 0]) > 20


def test_record_stays_bounded_in_memory(tmp_path, monkeypatch):
    """Memory held after 240 one-second batches is what it was after 40: nothing is kept per
    batch (a day is 86,400 of them), so a day's recording runs in the memory of one batch."""
    import gc
    import tracemalloc

    monkeypatch.setattr("device.record.os.fsync", lambda fd: None)  # speed only; not memory
    held: list[int] = []

    class Endless:
        def __init__(self, seconds: int) -> None:
            self.left, self.t0 = seconds, 0.0

        def read(self) -> ImuBatch | None:
            if self.left in (200, 0):  # after 40 batches, and after the last one
                gc.collect()
                held.append(tracemalloc.get_traced_memory()[0])
            if self.left == 0:
                return None
            self.left -= 1
            batch = _batch(self.t0, n=104)
            self.t0 += 1.0
            return batch

        def close(self) -> None:
            pass

    tracemalloc.start()
    try:
        rows = record_trace(Endless(240), tmp_path / "day.csv.gz")
    finally:
        tracemalloc.stop()
    assert rows == 240 * 104
    early, late = held
    assert late - early < 10_000  # bytes: under 50 per batch


class _ListSource:
    def __init__(self, batches: list[ImuBatch], on_read=None) -> None:
        self.batches = list(batches)
        self.on_read = on_read
        self.reads = 0

    def read(self) -> ImuBatch | None:
        if self.on_read:
            self.on_read(self.reads)
        self.reads += 1
        return self.batches.pop(0) if self.batches else None

    def close(self) -> None:
        pass


def _batch(t0: float, n: int = 10, gyro: bool = True) -> ImuBatch:
    t = t0 + np.arange(n) * 0.01
    acc = np.tile([0.0, 0.0, 9.81], (n, 1))
    return ImuBatch(t, acc, np.ones((n, 3)) if gyro else None, chip_steps=3)


def test_record_writes_gyro_columns_and_stops_when_asked(tmp_path):
    source = _ListSource([_batch(0.0), _batch(0.1, 0), _batch(0.1), _batch(0.2)])
    rows = record_trace(source, tmp_path / "g.csv", stop=lambda: source.reads >= 3)
    back = read_trace(tmp_path / "g.csv")
    assert rows == len(back) == 20  # two batches with samples before stop() said so
    assert back.gyro is not None and np.all(back.gyro == 1.0)
    assert (tmp_path / "g.csv").read_text().splitlines()[4] == "t,ax,ay,az,gx,gy,gz"


@pytest.mark.parametrize("name", ["cut.csv", "cut.csv.gz"])
def test_a_power_cut_keeps_every_finished_batch(tmp_path, name):
    """Copy the file as it is on disk while the 4th batch is being read: the copy is a valid
    trace with the three batches before it."""
    path = tmp_path / name
    snapshot: dict[str, bytes] = {}

    def on_read(i: int) -> None:
        if i == 3:
            snapshot["bytes"] = path.read_bytes()

    source = _ListSource([_batch(k * 0.1) for k in range(5)], on_read)
    record_trace(source, path)
    data = snapshot["bytes"]
    if name.endswith(".gz"):
        data = zlib.decompressobj(wbits=31).decompress(data)  # no gzip trailer yet
    cut = tmp_path / "cut_copy.csv"
    cut.write_bytes(data)
    back = read_trace(cut)
    assert len(back) == 30
    assert back.t[-1] == pytest.approx(0.29)


def test_selftest_reports_a_missing_bus():
    results = selftest_imu(None, bus_number=97)
    assert len(results) == 1
    assert not results[0].ok
    assert "/dev/i2c-97 does not exist" in results[0].detail
    assert "raspi-config" in results[0].detail


def test_selftest_reports_no_chip(clock):
    results = selftest_imu(FakeI2CBus(clock), clock=clock, sleep=clock.sleep)
    assert [(r.name, r.ok) for r in results] == [("I2C bus", True), ("IMU chip", False)]
    assert "no IMU answers on the I2C bus at 0x6A or 0x6B" in results[1].detail


def test_selftest_reports_an_unknown_chip(clock):
    bus, chips = make_bus([(0x6B, "LSM6DSOX")], clock=clock)
    chips[0x6B].user[0x0F] = 0x47
    results = selftest_imu(bus, clock=clock, sleep=clock.sleep)
    assert not results[-1].ok
    assert "0x6B answers WHO_AM_I 0x47" in results[-1].detail


def test_selftest_passes_on_a_chip_at_rest(clock):
    bus, _ = make_bus([(0x6A, "ISM330DHCX")], clock=clock)
    results = selftest_imu(bus, clock=clock, sleep=clock.sleep)
    assert all(r.ok for r in results), results
    assert results[1].detail == "ISM330DHCX found at 0x6A"
    assert "mean acceleration 9.81 m/s²" in results[2].detail


def test_selftest_flags_an_implausible_magnitude(clock):
    start = clock()
    trace = ChipTrace(np.array([start, start + 10]), np.zeros((2, 3)))  # free fall
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock, trace=trace)
    results = selftest_imu(bus, clock=clock, sleep=clock.sleep)
    assert not results[-1].ok
    assert "mean acceleration 0.00 m/s²" in results[-1].detail


def test_selftest_reports_a_chip_that_vanishes_without_traceback(clock):
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    bus.fail_next(1000, skip=1)  # answers WHO_AM_I, then nothing works
    results = selftest_imu(bus, clock=clock, sleep=clock.sleep)
    assert not results[-1].ok
    assert results[-1].detail.startswith("no IMU answers on the I2C bus at 0x6A")
