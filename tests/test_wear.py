"""Wear detection (device/core/wear.py) and the chip temperature it uses (device/temperature.py)."""

from __future__ import annotations

import datetime as dt
import errno
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.core.wear import (
    WearDetector,
    WearFeatures,
    WearParams,
    daily_wear,
    wear_flags,
)
from device.lsm6ds import Lsm6dsSource
from device.synthetic import FLAT_ON_SIDE, HIP_CLIP, Timeline
from device.temperature import ChipTemperature, read_temperature_c
from tests.bench.wear_scenarios import (
    desk_session,
    handling,
    lying_gravity,
    run,
    still,
    table,
)
from tests.fakes.lsm6ds_chip import ChipTrace, FakeClock, make_bus, patch_driver_sleep

T0 = 1_780_000_020.0  # a minute boundary
P = WearParams()


def _features(t: np.ndarray, acc: np.ndarray, batch_s: float = 1.0, temp: float | None = None,
              offset: float = T0) -> list:
    f = WearFeatures(offset_s=offset)
    out = []
    edges = np.arange(t[0], t[-1] + batch_s, batch_s)
    for lo, hi in itertools.pairwise(edges):
        sl = (t >= lo) & (t < hi)
        if sl.any():
            out += f.update(t[sl], acc[sl], temp).minutes_
    return out + f.finish()


# -- features ---------------------------------------------------------------------------------
def test_a_table_has_no_moving_seconds_and_a_walk_has_many():
    sc = Timeline(3, clip=FLAT_ON_SIDE).rest(600.0).render(50.0)
    minutes = _features(sc.t, sc.acc)
    assert len(minutes) >= 10
    assert all(m.active_s == 0 and not m.turned for m in minutes)
    assert all(abs(m.noise - 0.03 / np.sqrt(1)) < 0.02 for m in minutes[2:])
    walk = Timeline(4, clip=HIP_CLIP).stand(5).walk(150, 105).stand(5).render(50.0)
    moving = [m for m in _features(walk.t, walk.acc) if m.seconds >= 30]
    assert moving and all(m.active_s >= 30 for m in moving)


def test_a_slow_roll_in_bed_is_movement_even_below_the_noise_of_a():
    # 90 degrees over 40 s: |a| barely changes, but gravity turns (tilt) and the next still
    # minute points elsewhere (turned)
    rng = np.random.default_rng(5)
    t = np.arange(0, 300, 0.02)
    angle = np.clip((t - 120) / 40, 0, 1) * np.pi / 2
    acc = np.column_stack([9.80665 * np.sin(angle), np.zeros_like(t), 9.80665 * np.cos(angle)])
    acc += rng.normal(0, 0.03, acc.shape)
    minutes = _features(t, acc)
    assert minutes[0].active_s == 0
    assert any(m.active_s >= P.min_active_s for m in minutes[2:4])
    assert any(m.turned for m in minutes[3:])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(0.05, 9.0), min_size=1, max_size=40))
def test_features_do_not_depend_on_how_the_stream_is_cut(cuts):
    sc = Timeline(6, clip=HIP_CLIP).stand(30).walk(40, 100).stand(100).render(50.0)
    whole = WearFeatures(offset_s=T0)
    expected = whole.update(sc.t, sc.acc).minutes_ + whole.finish()
    f = WearFeatures(offset_s=T0)
    got = []
    edges = np.cumsum(cuts)
    pos = 0
    for e in [*edges, np.inf]:
        hi = int(np.searchsorted(sc.t, e))
        if hi > pos:
            got += f.update(sc.t[pos:hi], sc.acc[pos:hi]).minutes_
        pos = hi
    got += f.finish()
    assert got == expected


def test_minutes_line_up_with_the_wall_clock_and_follow_a_rebase():
    f = WearFeatures(offset_s=T0 + 30)  # data starts half-way into a minute
    t = np.arange(0, 100, 0.02)
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    before = f.update(t[t < 50], acc[t < 50]).minutes_
    f.rebase(T0 + 30 + 3600)  # the host set the clock an hour ahead
    out = f.update(t[t >= 50], acc[t >= 50]).minutes_ + f.finish()
    assert [m.start_s for m in before] == [T0]
    # the open minute moved with the clock, as the MinuteAggregator's does
    assert [m.start_s for m in out] == [T0 + 3660, T0 + 3720]


def test_bad_samples_do_not_crash_the_features():
    f = WearFeatures(offset_s=T0)
    assert f.update(np.empty(0), np.empty((0, 3))).minutes_ == []
    f.update(np.array([0.0, 0.01]), np.array([[0, 0, 9.8], [0, 0, 9.8]]), float("nan"))
    minutes = f.finish()
    assert minutes[0].seconds == 0 and minutes[0].temp_c is None


# -- the rule ---------------------------------------------------------------------------------
def _stream(still_min: int, temps: np.ndarray | None = None, before_moving: int = 10,
            after_moving: int = 10, bumps: dict[int, int] | None = None, turned_at: int = -1):
    """before_moving moving minutes, still_min still ones (bumps: index -> moving), then
    after_moving moving; returns start, active, temp, turned, truth (still = off)."""
    n = before_moving + still_min + after_moving
    start = T0 + 60.0 * np.arange(n)
    active = np.zeros(n, dtype=int)
    active[:before_moving] = 30
    active[before_moving + still_min:] = 30
    for i, a in (bumps or {}).items():
        active[before_moving + i] = a
    turned = np.zeros(n, dtype=bool)
    if turned_at >= 0:
        turned[before_moving + turned_at] = True
    return start, active, temps, turned


def _cooling(n_before: int, n_still: int, n_after: int, body: float = 31.0,
             room: float = 23.0, tau_min: float = 6.0) -> np.ndarray:
    k = np.arange(n_still)
    still = room + (body - room) * np.exp(-k / tau_min)
    return np.concatenate([np.full(n_before, body), still, np.full(n_after, body)])


def test_taken_off_cools_and_is_not_worn_from_the_first_still_minute():
    start, active, _, turned = _stream(60)
    temps = _cooling(10, 60, 10)
    flags = wear_flags(start, active, temps, P, turned)
    assert flags[:10].all() and not flags[10:70].any() and flags[70:].all()
    # the accelerometer alone needs Choi's 90 minutes: 60 still minutes stay "worn"
    assert wear_flags(start, active, None, P, turned).all()


def _after_charging(still_min: int, worn_c: float = 31.0, off_c: float = 24.0):
    """60 minutes on the bedside table (cooled, so not worn), clipped on and moving for 10,
    then still_min still minutes at worn_c, then 10 moving."""
    n_off = 60
    start, active, _, turned = _stream(still_min)
    start = np.r_[T0 - 60.0 * np.arange(n_off, 0, -1), start]
    active = np.r_[np.zeros(n_off, dtype=int), active]
    off = off_c + (worn_c - off_c) * np.exp(-np.arange(n_off) / 6.0)
    temps = np.r_[off, np.full(start.size - n_off, worn_c)]
    return start, active, temps, np.r_[np.zeros(n_off, dtype=bool), turned], n_off


def test_lying_still_and_warm_stays_worn_for_four_hours_choi_gives_up_at_90_minutes():
    start, active, warm, turned, n_off = _after_charging(200)
    warm = warm + np.random.default_rng(1).normal(0, 0.05, start.size)
    flags = wear_flags(start, active, warm, P, turned)
    assert not flags[:n_off].any() and flags[n_off:].all()
    flags = wear_flags(start, active, None, P, turned)
    assert not flags[n_off + 10:n_off + 210].any()  # no temperature: 200 still min: not worn
    start, active, warm, turned, n_off = _after_charging(300)
    assert not wear_flags(start, active, warm, P, turned)[n_off + 10:n_off + 310].any()


def test_warm_means_worn_only_when_this_clip_shows_it():
    # never seen off the body: warm proves nothing yet, so Choi's 90 minutes
    start, active, _, turned = _stream(200)
    assert not wear_flags(start, active, np.full(start.size, 31.0), P, turned)[10:210].any()
    # worn only 2 °C warmer than off (a thick coat, the Pi's own warmth): Choi's 90 minutes
    start, active, warm, turned, n_off = _after_charging(200, worn_c=26.0)
    flags = wear_flags(start, active, warm, P, turned)
    assert not flags[n_off + 10:n_off + 210].any()


def test_a_bump_is_tolerated_but_a_turn_or_a_longer_movement_ends_the_stretch():
    start, active, _, turned = _stream(121, bumps={60: 20})
    assert not wear_flags(start, active, None, P, turned)[10:131].any()
    start, active, _, turned = _stream(121, bumps={60: 20, 61: 20, 62: 20})
    assert wear_flags(start, active, None, P, turned).all()  # 3 minutes: a real movement
    start, active, _, turned = _stream(121, bumps={60: 20}, turned_at=61)
    assert wear_flags(start, active, None, P, turned).all()  # a roll in bed: never a bump
    start, active, _, turned = _stream(101, bumps={20: 20})
    assert wear_flags(start, active, None, P, turned).all()  # only 20 still minutes before it
    start, active, _, turned = _stream(121, bumps={20: 20})  # ... but 100 after it
    assert wear_flags(start, active, None, P, turned)[:31].all()
    assert not wear_flags(start, active, None, P, turned)[31:131].any()


def test_one_moving_second_is_not_a_moving_minute():
    start, active, _, turned = _stream(100, bumps={k: 1 for k in range(0, 100, 3)})
    assert not wear_flags(start, active, None, P, turned)[10:110].any()


def test_clipped_back_on_and_sitting_still_ends_non_wear_when_it_warms():
    n = 10 + 100 + 1 + 40
    start = T0 + 60.0 * np.arange(n)
    active = np.zeros(n, dtype=int)
    active[:10] = 30
    active[110] = 20  # clipped on: one minute of handling, then sitting quite still
    temps = np.concatenate([np.full(10, 31.0), np.full(101, 23.0),
                            31.0 - 8.0 * np.exp(-np.arange(40) / 8.0)])
    flags = wear_flags(start, active, temps, P)
    assert not flags[10:110].any() and flags[110:].all()


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(1, 400)), min_size=1, max_size=12),
       st.booleans())
def test_streaming_decides_every_minute_once_in_order_within_the_lag(runs, with_temp):
    active = np.concatenate([np.full(n, 30 if moving else 0) for moving, n in runs])
    start = T0 + 60.0 * np.arange(active.size)
    temps = 31.0 - 6.0 * (active == 0) if with_temp else None
    det = WearDetector(P)
    decided_s, decided = [], []
    for i in range(active.size):
        det.update(start[i:i + 1], active[i:i + 1], None if temps is None else temps[i:i + 1])
        decided_s += det.decided_start_s_.tolist()
        decided += det.decided_worn_.tolist()
        assert det.undecided_minutes <= det.max_lag_min
        if decided_s:
            assert decided_s[-1] >= start[i] - 60.0 * det.max_lag_min
    det.finish()
    decided_s += det.decided_start_s_.tolist()
    decided += det.decided_worn_.tolist()
    assert decided_s == start.tolist()
    assert np.array_equal(decided, wear_flags(start, active, temps, P))


def test_holes_are_filled_and_long_holes_restart():
    start = T0 + 60.0 * np.r_[np.arange(50), np.arange(55, 150)]  # a 5-minute hole
    active = np.zeros(start.size, dtype=int)
    active[0] = 30
    flags = wear_flags(start, active, None, P)
    assert flags.size == start.size and flags[0] and not flags[1:].any()
    start = T0 + 60.0 * np.r_[np.arange(50), np.arange(5000, 5080)]  # 3 days off
    flags = wear_flags(start, np.zeros(start.size, dtype=int), None, P)
    assert flags.all()  # neither part alone reaches 90 minutes


def test_daily_wear_counts_valid_days_in_local_time():
    tz = dt.timezone(dt.timedelta(hours=2))
    day = dt.date(2026, 6, 1)
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp()
    start = midnight + 60.0 * np.arange(24 * 60)
    worn = np.zeros(start.size, dtype=bool)
    worn[7 * 60:17 * 60] = True  # 10 h
    days = daily_wear(start, worn, tz, [day, day + dt.timedelta(days=1)])
    assert days[0].worn_hours == 10.0 and days[0].valid and days[0].recorded_minutes == 1440
    worn[16 * 60] = False
    days = daily_wear(start, worn, tz, [day, day + dt.timedelta(days=1)])
    assert not days[0].valid and days[1].recorded_minutes == 0 and not days[1].valid


# -- scenarios through the device's own features -------------------------------------------------
def test_taken_off_and_put_back_mid_day_transitions_within_5_minutes():
    r = run([desk_session(20), handling(False), table(40), handling(True), desk_session(20)],
            seed=11, temperature=True)
    m = r.minutes
    flags = wear_flags([x.start_s for x in m], [x.active_s for x in m], [x.temp_c for x in m],
                       P, [x.turned for x in m])
    truth = r.truth_worn
    changes = lambda f: np.flatnonzero(f[1:] != f[:-1]) + 1  # noqa: E731
    assert len(changes(truth)) == 2 and len(changes(flags)) == 2
    assert np.all(np.abs(changes(flags) - changes(truth)) <= 5)
    assert np.mean(flags == truth) > 0.95


def test_lying_still_in_bed_for_an_hour_is_worn():
    g = lying_gravity()
    r = run([desk_session(10), still(70, True, gravity=g, in_bed=True, name="bed"),
             desk_session(10)], seed=12, temperature=True)
    m = r.minutes
    assert wear_flags([x.start_s for x in m], [x.active_s for x in m], [x.temp_c for x in m],
                      P, [x.turned for x in m]).all()
    assert r.truth_worn.all()


# -- the temperature through the real driver ------------------------------------------------------
@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    clock = FakeClock()
    patch_driver_sleep(monkeypatch, clock)
    return clock


@pytest.mark.parametrize("model", ["LSM6DSOX", "LSM6DS3TR-C", "ISM330DHCX"])
@pytest.mark.parametrize("celsius", [31.4, 21.0, -12.25, 25.0])
def test_temperature_is_read_through_the_adafruit_driver(clock, model, celsius):
    trace = ChipTrace.at_rest(clock(), 600.0)
    trace.temp_c = celsius
    bus, _chips = make_bus([(0x6A, model)], clock=clock, trace=trace)
    source = Lsm6dsSource(bus, "auto", clock=clock, sleep=clock.sleep)
    source.read()
    assert read_temperature_c(source._driver) == pytest.approx(celsius, abs=1 / 256)


def test_temperature_follows_the_trace_reads_once_a_minute_and_survives_bus_errors(clock):
    start = clock()
    trace = ChipTrace.at_rest(start, 600.0)
    trace.temp_c = np.array([31.0, 23.0])  # cools linearly over 10 min
    bus, _ = make_bus([(0x6A, "LSM6DSOX")], clock=clock, trace=trace)
    source = Lsm6dsSource(bus, "auto", clock=clock, sleep=clock.sleep)
    temp = ChipTemperature(source, clock)
    readings = []
    for _ in range(300):
        source.read()
        readings.append(temp.read())
    assert len(set(readings)) in (5, 6)  # one new reading a minute over ~5 min
    assert readings[-1] == pytest.approx(31.0 - 8.0 * (temp._last_read - start) / 600.0,
                                         abs=0.05)
    clock.advance(60)
    bus.fail_next(1, errno.EIO, address=0x6A)
    assert temp.read() is None  # one plain None, no exception; the next minute reads again
    clock.advance(60)
    assert temp.read() == pytest.approx(31.0 - 8.0 * (clock() - start) / 600.0, abs=0.2)


def test_an_implausible_temperature_is_none():
    class Driver:
        temperature = 200.0

    class Broken:
        @property
        def temperature(self) -> float:
            raise OSError(errno.EREMOTEIO, "no ACK")

    assert read_temperature_c(Driver()) is None
    assert read_temperature_c(Broken()) is None
    assert read_temperature_c(object()) is None


def test_the_tracker_hands_each_minute_over_once_and_follows_the_detector():
    from device.core.wear import WearTracker

    tracker = WearTracker(offset_s=T0, keep_minutes=5)
    rng = np.random.default_rng(2)
    for s in range(0, 30 * 60):
        t = s + np.arange(50) / 50.0
        acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0, 0.02, (50, 3))
        tracker.update(t, acc, 22.0)
    tracker.finish()
    assert tracker.take(T0) is None  # older than the 5 kept
    last = tracker.take(T0 + 29 * 60)
    assert last is not None and last.active_s == 0 and last.temp_c == 22.0
    assert tracker.take(T0 + 29 * 60) is None
    assert tracker.worn_now  # 30 still minutes without a worn reference: Choi needs 90


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 400), st.integers(-3, 70),
                          st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True))),
                max_size=60))
def test_any_minute_sequence_gets_one_flag_per_minute_without_crashing(minutes):
    start = T0 + 60.0 * np.array([m[0] for m in minutes], dtype=float)
    active = np.array([m[1] for m in minutes], dtype=int)
    temps = [m[2] for m in minutes]
    flags = wear_flags(start, active, temps, P)
    assert flags.shape == start.shape and flags.dtype == bool
    det = WearDetector(P).update(start, active, temps)
    assert det.undecided_minutes <= det.max_lag_min


def test_temperature_through_the_firmwares_reconnecting_source(clock):
    from device.app import ReconnectingImu
    from device.lsm6ds import ImuUnavailable

    trace = ChipTrace.at_rest(clock(), 600.0)
    trace.temp_c = 29.5
    bus, _ = make_bus([(0x6A, "LSM6DS3TR-C")], clock=clock, trace=trace)
    imu = ReconnectingImu(lambda: Lsm6dsSource(bus, "auto", clock=clock, sleep=clock.sleep),
                          (ImuUnavailable,))
    temp = ChipTemperature(imu, clock)
    assert temp.read() is None  # not opened yet: no chip to ask
    clock.advance(60)
    imu.read()
    assert temp.read() == pytest.approx(29.5, abs=1 / 256)


def test_a_clock_stepping_back_never_counts_a_minute_past_60_seconds():
    f = WearFeatures(offset_s=T0)
    rng = np.random.default_rng(9)
    out = []
    for k in range(200):  # walking, with the source clock jumping back 20 s every 50 batches
        t0 = k - 20 * (k // 50)
        t = t0 + np.arange(50) / 50.0
        acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0, 2.0, (50, 3))
        out += f.update(t, acc).minutes_
        if k % 50 == 49:
            f.rebase(T0 + 0.37 * k)
    out += f.finish()
    assert out and all(0 <= m.active_s <= m.seconds <= 60 for m in out)
