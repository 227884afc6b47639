"""The LSM6DS adapter on the real adafruit_lsm6ds driver, against the emulated chip."""

from __future__ import annotations

import errno
import logging

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from device.lsm6ds import ImuUnavailable, Lsm6dsSource, SampleTimer
from tests.fakes.lsm6ds_chip import (
    GRAVITY,
    ChipTrace,
    EmulatedLsm6ds,
    FakeClock,
    FakeI2CBus,
    make_bus,
    patch_driver_sleep,
)

MODELS = ["LSM6DSOX", "LSM6DS3TR-C", "ISM330DHCX"]
LSB_4G = 0.122e-3 * GRAVITY  # m/s² per LSB at ±4 g


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock(sleep_jitter_s=0.004, seed=1)
    patch_driver_sleep(monkeypatch, clock)
    return clock


def _source(bus: FakeI2CBus, clock: FakeClock, address: int | str = "auto") -> Lsm6dsSource:
    return Lsm6dsSource(bus, address, clock=clock, sleep=clock.sleep)


def _read(source: Lsm6dsSource, n: int) -> tuple[np.ndarray, np.ndarray, list]:
    batches = [source.read() for _ in range(n)]
    return (
        np.concatenate([b.t for b in batches]),
        np.concatenate([b.acc for b in batches]),
        batches,
    )


def _true_times(chip: EmulatedLsm6ds, n_read: int) -> np.ndarray:
    """Sample instants of the last ``n_read`` samples the host drained (no loss assumed)."""
    last = chip.accel_samples_produced - chip.samples_in_fifo()
    return chip.accel_sample_time(np.arange(last - n_read + 1, last + 1))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("address", [0x6A, 0x6B])
def test_detects_each_chip_at_each_address(clock, model, address):
    bus, _ = make_bus([(address, model)], clock=clock)
    source = _source(bus, clock)
    assert (source.chip.name, source.chip.address) == (model, address)
    assert type(source._driver).__module__.startswith("adafruit_lsm6ds.")


def test_an_explicit_address_with_no_chip_is_refused(clock):
    bus, _ = make_bus([(0x6B, "LSM6DSOX")], clock=clock)
    with pytest.raises(ImuUnavailable, match=r"no IMU answers .* at 0x6A: check its wiring"):
        _source(bus, clock, 0x6A)


def test_no_chip_raises_a_clear_error(clock):
    with pytest.raises(ImuUnavailable) as info:
        _source(FakeI2CBus(clock), clock)
    assert str(info.value) == (
        "no IMU answers on the I2C bus at 0x6A or 0x6B: check its wiring (SDA, SCL, 3V3, GND)"
    )


def test_unknown_who_am_i_is_named(clock):
    bus, chips = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    chips[0x6A].user[0x0F] = 0x69  # an LSM6DS33
    with pytest.raises(ImuUnavailable, match="answers WHO_AM_I 0x69, which is not a supported"):
        _source(bus, clock)


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("model", MODELS)
def test_configuration_registers(clock, model, gyro):
    bus, chips = make_bus([(0x6A, model)], clock=clock)
    Lsm6dsSource(bus, clock=clock, sleep=clock.sleep, gyro=gyro)
    chip = chips[0x6A]
    assert chip.register(0x10) == 0x48  # CTRL1_XL: ODR 104 Hz, FS ±4 g
    if gyro:
        assert chip.register(0x11) == 0x48  # CTRL2_G: ODR 104 Hz, FS ±1000 deg/s
        assert (chip.gyro_odr_hz, chip.gyro_sensitivity_mdps) == (104.0, 35.0)
    else:
        assert chip.register(0x11) >> 4 == 0  # CTRL2_G: gyro powered down
    assert chip.register(0x12) & 0x44 == 0x44  # CTRL3_C: BDU and IF_INC
    assert (chip.accel_odr_hz, chip.accel_full_scale_g) == (104.0, 4)
    if chip.model.tagged_fifo:
        # FIFO_CTRL3: BDR_GY and BDR_XL both 104 Hz, or the accelerometer only
        assert chip.register(0x09) == (0x44 if gyro else 0x04)
        assert chip.register(0x0A) & 0x07 == 0x06  # FIFO_CTRL4: continuous
        assert chip.register(0x04, "embedded") & 0x08  # EMB_FUNC_EN_A: PEDO_EN
        assert chip.register(0x01) == 0  # back in the user bank
    else:
        # FIFO_CTRL3: gyro and accelerometer in the FIFO without decimation, or accel only
        assert chip.register(0x08) == (0x09 if gyro else 0x01)
        assert chip.register(0x0A) == 0x26  # FIFO_CTRL5: 104 Hz, continuous
        assert chip.register(0x19) & 0x16 == 0x14  # CTRL10_C: FUNC_EN, PEDO_EN, reset released
    assert chip.pedometer_enabled


LSB_1000DPS = 35e-3  # deg/s per LSB at ±1000 deg/s


@pytest.mark.parametrize("gyro", [True, False])
@pytest.mark.parametrize("model", MODELS)
def test_samples_equal_the_trace_within_quantisation(clock, model, gyro):
    trace = ChipTrace.walking(clock(), 60.0)
    bus, chips = make_bus([(0x6A, model)], clock=clock, trace=trace, byte_time_s=22.5e-6)
    source = Lsm6dsSource(bus, clock=clock, sleep=clock.sleep, gyro=gyro)
    t, acc, batches = _read(source, 20)
    assert 95 <= len(batches[5]) <= 113  # about one second per batch
    expected, expected_gyro = trace.sample(_true_times(chips[0x6A], len(t)))
    assert np.abs(acc - expected).max() <= LSB_4G / 2 + 1e-9
    assert len(t) == pytest.approx(20 * 104, abs=110)
    if gyro:
        assert all(b.gyro is not None and b.gyro.shape == b.acc.shape for b in batches)
        measured = np.concatenate([b.gyro for b in batches])
        assert np.abs(measured - expected_gyro).max() <= LSB_1000DPS / 2 + 1e-9
        assert np.ptp(measured[:, 0]) > 30  # the walking sway, not zeros
    else:
        assert all(b.gyro is None for b in batches)


def test_values_clip_at_full_scale(clock):
    start = clock()
    times = np.array([start, start + 100])
    trace = ChipTrace(times, np.array([[60.0, -60.0, GRAVITY]] * 2))
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock, trace=trace)
    _, acc, _ = _read(_source(bus, clock), 2)
    assert np.allclose(acc[:, 0], 32767 * LSB_4G)
    assert np.allclose(acc[:, 1], -32768 * LSB_4G)


def test_timestamps_do_not_drift_over_ten_minutes(clock):
    """Chip oscillator 2 % fast, reads up to 4 ms late: timestamps stay on the true instants."""
    trace = ChipTrace.at_rest(clock(), 700.0)
    bus, chips = make_bus([(0x6A, "LSM6DSOX")], clock=clock, trace=trace, odr_error=0.02)
    t, _, _ = _read(_source(bus, clock), 600)
    error = t - _true_times(chips[0x6A], len(t))
    dt = np.diff(t)
    true_period = 1 / (104 * 1.02)
    assert np.all(dt > 0)
    assert np.abs(error[len(t) // 10 :]).max() < 0.008  # after the first minute
    assert np.abs(error[-104 * 60 :]).max() < 0.008  # the last minute: no drift
    assert np.abs(dt[104 * 30 :] / true_period - 1).max() < 0.01  # steady intervals


@settings(max_examples=25, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 300), min_size=1, max_size=60),
    jitter=st.floats(0, 0.02),
    odr_error=st.floats(-0.04, 0.04),
)
# Found by hypothesis: one sample after a long batch on a fast chip pulled time backwards.
@example(sizes=[1, 295, 1], jitter=0.0, odr_error=0.0390625)
def test_sample_timer_is_strictly_increasing(sizes, jitter, odr_error):
    rng = np.random.default_rng(0)
    timer = SampleTimer(104.0)
    period = 1 / (104 * (1 + odr_error))
    produced, last = 0, None
    for n in sizes:
        produced += n
        read_time = produced * period + rng.uniform(0, jitter)
        t = timer.stamp(n, read_time)
        assert len(t) == n
        if n:
            assert np.all(np.diff(t) > 0)
            assert last is None or t[0] > last
            last = t[-1]


@pytest.mark.parametrize("model", MODELS)
def test_chip_step_counter_is_cumulative(clock, model):
    trace = ChipTrace.walking(clock(), 100.0, cadence_spm=120)
    bus, chips = make_bus([(0x6A, model)], clock=clock, trace=trace)
    source = _source(bus, clock)
    start = clock()
    _, _, batches = _read(source, 10)
    counted = np.count_nonzero((trace.step_times > start) & (trace.step_times <= clock()))
    assert batches[-1].chip_steps == counted == chips[0x6A].step_count
    assert [b.chip_steps for b in batches] == sorted(b.chip_steps for b in batches)


def test_chip_step_counter_unwraps_16_bits(clock):
    trace = ChipTrace.walking(clock(), 100.0, cadence_spm=120)
    bus, chips = make_bus([(0x6A, "LSM6DS3TR-C")], clock=clock, trace=trace)
    source = _source(bus, clock)
    chips[0x6A]._steps = 65530
    first = source.read().chip_steps
    _, _, batches = _read(source, 5)
    assert first >= 65530
    assert batches[-1].chip_steps == first + 10  # 2 steps/s, counter wrapped through 0


def test_transient_i2c_errors_lose_nothing(clock, caplog):
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    source = _source(bus, clock)
    source.read()
    bus.fail_next(2, errno.EIO)
    with caplog.at_level(logging.WARNING, "device.lsm6ds"):
        t, _, _ = _read(source, 3)
    assert "IMU I2C error (1/3)" in caplog.text
    assert np.diff(t).max() < 1.5 / 104  # no gap: the samples waited in the FIFO
    assert source.reinitialisations == 0


def test_a_lost_burst_shows_as_a_time_gap(clock):
    bus, chips = make_bus([(0x6A, "LSM6DS3TR-C")], clock=clock)
    source = _source(bus, clock)
    chip = chips[0x6A]
    not_batched = chip.accel_samples_produced  # before the FIFO was switched on
    before = source.read()
    # Next read: CTRL1_XL check, FIFO level, then the first 32-sample burst, which the chip
    # hands out but which is lost on the wire.
    bus.fail_next(1, errno.EREMOTEIO, after_device=True, skip=2)
    after = source.read()
    more = source.read()
    t = np.concatenate([before.t, after.t, more.t])
    assert np.all(np.diff(t) > 0)
    assert np.diff(t).max() == pytest.approx(33 / 104, abs=2 / 104)  # 32 samples missing
    received = len(before) + len(after) + len(more)
    produced = chip.accel_samples_produced - not_batched - chip.samples_in_fifo()
    assert received == produced - 32
    assert source.reinitialisations == 0


def test_persistent_errors_reinitialise_and_leave_a_gap(clock, caplog):
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    source = _source(bus, clock)
    first = source.read()
    bus.fail_next(4, errno.EREMOTEIO)  # more than the 3 retries
    with caplog.at_level(logging.WARNING, "device.lsm6ds"):
        second = source.read()
        third = source.read()
    assert source.reinitialisations == 1
    assert "IMU re-initialised after: 4 I2C errors in a row" in caplog.text
    t = np.concatenate([first.t, second.t, third.t])
    assert np.all(np.diff(t) > 0)
    assert np.diff(t).max() > 0.5  # the samples of the first second after the errors are gone
    assert third.chip_steps is not None


def test_a_chip_that_resets_is_reconfigured(clock, caplog):
    trace = ChipTrace.walking(clock(), 100.0, cadence_spm=120)
    bus, chips = make_bus([(0x6A, "ISM330DHCX")], clock=clock, trace=trace)
    source = _source(bus, clock)
    _, _, before = _read(source, 3)
    chips[0x6A].power_cycle()
    with caplog.at_level(logging.WARNING, "device.lsm6ds"):
        _, _, after = _read(source, 4)
    assert "lost its configuration" in caplog.text
    assert chips[0x6A].register(0x10) == 0x48
    assert len(after[-1]) > 90
    assert after[-1].chip_steps > before[-1].chip_steps  # cumulative across the reset


@pytest.mark.parametrize(("model", "gyro", "held"), [
    ("LSM6DSOX", False, 512), ("LSM6DSOX", True, 256),  # 512 tagged words, one or two a sample
    ("LSM6DS3TR-C", False, 682), ("LSM6DS3TR-C", True, 341),  # 2046 words, 3 or 6 a sample
])
def test_fifo_overrun_leaves_a_gap_not_fake_samples(clock, caplog, model, gyro, held):
    bus, _ = make_bus([(0x6A, model)], clock=clock)
    source = Lsm6dsSource(bus, clock=clock, sleep=clock.sleep, gyro=gyro)
    first = source.read()
    clock.advance(10.0)  # the host stalls far longer than the FIFO holds
    with caplog.at_level(logging.WARNING, "device.lsm6ds"):
        second = source.read()
    assert "FIFO overran" in caplog.text
    assert held - 1 <= len(second) <= held  # a sample cut in half by the overrun is dropped
    assert second.gyro is None if not gyro else len(second.gyro) == len(second)
    gap = second.t[0] - first.t[-1]
    assert gap == pytest.approx(10.0 - (len(second) - 1) / 104, abs=0.02)  # periods back


def _words(*slots: tuple[int, int, float]) -> bytes:
    """Tagged FIFO words (tag sensor, TAG_CNT slot, value on every axis)."""
    out = b""
    for sensor, slot, value in slots:
        head = sensor << 3 | slot << 1
        head |= bin(head).count("1") & 1
        out += bytes([head]) + np.full(3, value, dtype="<i2").tobytes()
    return out


def test_tagged_words_pair_by_time_slot(clock):
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    source = _source(bus, clock)
    g, a = 1, 2  # tags: gyro, accelerometer
    # An accelerometer word whose gyro partner was lost, two whole slots, half a slot.
    acc, gyro = source._decode_tagged(_words((a, 1, 9), (g, 2, 20), (a, 2, 2), (a, 3, 3),
                                             (g, 3, 30), (g, 0, 40)))
    assert acc[:, 0].tolist() == [2, 3] and gyro[:, 0].tolist() == [20, 30]
    acc, gyro = source._decode_tagged(_words((a, 0, 4), (g, 1, 50), (a, 1, 5)))
    assert acc[:, 0].tolist() == [4, 5] and gyro[:, 0].tolist() == [40, 50]


def test_a_chip_that_disappears_raises_imu_unavailable(clock):
    bus, _ = make_bus([(0x6B, "LSM6DSOX")], clock=clock)
    source = _source(bus, clock)
    source.read()
    bus.detach(0x6B)
    with pytest.raises(ImuUnavailable, match="LSM6DSOX at 0x6B stopped answering on the I2C bus"):
        source.read()


def test_close_powers_down_and_read_ends(clock):
    bus, chips = make_bus([(0x6A, "LSM6DSOX")], clock=clock)
    source = _source(bus, clock)
    source.close()
    assert chips[0x6A].accel_odr_hz == chips[0x6A].gyro_odr_hz == 0
    assert source.read() is None
