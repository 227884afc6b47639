"""The synthetic IMU generator: physics, bookkeeping, and the committed test traces."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device import synthetic as syn

DATA = Path(__file__).parent / "data"
SCENARIO_DIR = DATA / "scenarios"
REAL_DIR = DATA / "real"
TRACES = sorted(SCENARIO_DIR.glob("*.csv.gz")) + sorted(REAL_DIR.glob("*.csv.gz"))


def _load_make_scenarios():
    spec = importlib.util.spec_from_file_location("make_scenarios", DATA / "make_scenarios.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- tiny local parser


def parse_trace(path: Path) -> tuple[dict[str, str], list[str], np.ndarray]:
    """Parse a trace strictly by DESIGN.md's format: (metadata, columns, rows)."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="ascii") as f:
        lines = f.read().splitlines()
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        key, sep, value = lines[i][1:].partition(":")
        assert sep and key.strip(), f"{path}:{i + 1}: metadata is not '# key: value'"
        meta[key.strip()] = value.strip()
        i += 1
    columns = lines[i].split(",")
    assert columns in (["t", "ax", "ay", "az"], ["t", "ax", "ay", "az", "gx", "gy", "gz"]), \
        f"{path}: bad header {lines[i]!r}"
    rows = []
    for n, line in enumerate(lines[i + 1:], start=i + 2):
        fields = line.split(",")
        assert len(fields) == len(columns), f"{path}:{n}: {len(fields)} fields"
        rows.append([float(x) for x in fields])
    data = np.array(rows)
    assert np.all(np.isfinite(data)), f"{path}: non-finite value"
    assert np.all(np.diff(data[:, 0]) > 0), f"{path}: time not strictly increasing"
    return meta, columns, data


def parse_steps(path: Path) -> np.ndarray:
    with open(path, encoding="ascii") as f:
        lines = f.read().splitlines()
    assert lines[0] == "t", f"{path}: header must be 't'"
    steps = np.array([float(x) for x in lines[1:]])
    assert np.all(np.isfinite(steps)) and np.all(np.diff(steps) > 0)
    return steps


def _read_index(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- committed files


def test_there_are_scenarios_and_real_traces() -> None:
    assert len(list(SCENARIO_DIR.glob("*.csv.gz"))) == len(syn.SCENARIOS) + 2
    assert len(list(REAL_DIR.glob("*.csv.gz"))) == 4


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.name)
def test_committed_trace_parses_and_truth_fits(path: Path) -> None:
    meta, _, data = parse_trace(path)
    steps = parse_steps(path.with_name(path.name.replace(".csv.gz", ".steps.csv")))
    t = data[:, 0]
    if steps.size:
        assert t[0] <= steps[0] and steps[-1] <= t[-1]
    assert int(meta["steps"]) == steps.size
    if path.parent == SCENARIO_DIR:
        for key in ("scenario", "seed", "rate_hz", "description"):
            assert meta[key], key
        assert meta["scenario"] == path.name.removesuffix(".csv.gz")
        rate = float(meta["rate_hz"])
        assert np.median(np.diff(t)) == pytest.approx(1.0 / rate, rel=0.02)
        acc = np.linalg.norm(data[:, 1:4], axis=1)
        assert 9.0 < np.median(acc) < 10.6  # m/s² with gravity
    else:
        assert "CC BY 4.0" in meta["source"]


def test_scenario_index_matches_the_files() -> None:
    rows = _read_index(SCENARIO_DIR / "INDEX.csv")
    assert [r["trace"] for r in rows] == [*syn.SCENARIOS, "real_slowed_70spm", "real_rotated"]
    for row in rows:
        _, _, data = parse_trace(SCENARIO_DIR / f"{row['trace']}.csv.gz")
        steps = parse_steps(SCENARIO_DIR / f"{row['trace']}.steps.csv")
        assert int(row["steps"]) == steps.size
        assert row["scenario_kind"] in ("walking", "non_walking", "mixed")
        assert (steps.size == 0) == (row["scenario_kind"] == "non_walking")
        assert float(row["duration_s"]) == pytest.approx(data[-1, 0] - data[0, 0], abs=0.1)


def test_real_index_and_attribution() -> None:
    rows = _read_index(REAL_DIR / "INDEX.csv")
    placements = {r["placement"] for r in rows}
    assert {"frontpocket", "backpocket", "inhand"} <= placements and len(placements) == 4
    readme = (REAL_DIR / "README.md").read_text()
    assert "CC BY 4.0" in readme and "Changes made" in readme


def test_regenerating_gives_the_committed_bytes() -> None:
    files = _load_make_scenarios().all_files()
    assert set(files) == {p.name for p in SCENARIO_DIR.iterdir() if p.is_file()}
    for name, data in files.items():
        assert (SCENARIO_DIR / name).read_bytes() == data, name


def test_test_data_stays_small() -> None:
    total = sum(p.stat().st_size for p in DATA.rglob("*") if p.is_file())
    assert total < 4.5e6


# --------------------------------------------------------------------------- walking physics


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40), cadence=st.floats(60, 130), seed=st.integers(0, 10_000))
def test_truth_has_exactly_the_steps_asked(n: int, cadence: float, seed: int) -> None:
    tl = syn.Timeline(seed).stand(2).walk(n, cadence).stand(2)
    sc = tl.render(50.0)
    assert sc.steps.size == n
    assert np.all(np.diff(sc.steps) > 0.5 * 60 / cadence)


def test_fidget_steps_are_not_truth() -> None:
    tl = syn.Timeline(3).stand(2).fidget(3).stand(5).walk(4, 100).stand(2)
    sc = tl.render(50.0)
    assert sc.steps.size == 4 and sc.meta["fidget_steps"] == "3"
    with pytest.raises(ValueError):
        tl.fidget(4)


def test_step_intervals_have_cadence_and_a_few_percent_variability() -> None:
    steps = syn.step_times(0.0, 400, 90.0, np.random.default_rng(1))
    intervals = np.diff(steps)[1:-1]
    assert np.mean(intervals) == pytest.approx(60 / 90, rel=0.01)
    assert 0.02 < np.std(intervals) / np.mean(intervals) < 0.045


def _steady_walk(cadence: float, **kw) -> tuple[np.ndarray, np.ndarray, syn.Timeline]:
    tl = syn.Timeline(7).stand(2).walk(60, cadence, **kw).stand(2)
    t = np.arange(0.0, tl.now, 0.002)
    return t, tl.linear_acceleration(t), tl


def test_vertical_amplitude_realistic_and_rising_with_cadence() -> None:
    pp = {}
    for cadence in (60, 75, 90, 110, 120):
        t, a, tl = _steady_walk(cadence)
        mid = (t > tl.steps[20]) & (t < tl.steps[40])
        pp[cadence] = np.ptp(a[mid, 2])
    assert 1.5 <= pp[110] <= 4.0 and 1.5 <= pp[120] <= 4.5
    assert pp[60] < pp[75] < pp[90] < pp[110] < pp[120]
    assert pp[60] < 1.5


def test_heel_strike_is_the_peak_and_first_last_steps_are_weaker() -> None:
    t, a, tl = _steady_walk(100)
    steps = np.array(tl.steps)
    peaks = []
    for s in steps:
        win = (t > s - 0.15) & (t < s + 0.15)
        peaks.append(a[win, 2].max())
        assert abs(t[win][np.argmax(a[win, 2])] - s) < 0.03  # peak at heel strike
    peaks = np.array(peaks)
    middle = np.median(peaks[5:-5])
    assert peaks[0] < 0.75 * middle and peaks[-1] < 0.75 * middle


@pytest.mark.parametrize("cadence", [60.0, 120.0])
def test_sway_at_stride_frequency_vertical_at_step_frequency(cadence: float) -> None:
    t, a, tl = _steady_walk(cadence)
    f_step = cadence / 60.0
    mid = (t > tl.steps[5]) & (t < tl.steps[55])
    freqs = np.fft.rfftfreq(mid.sum(), 0.002)

    def dominant(x: np.ndarray) -> float:
        return float(freqs[np.argmax(np.abs(np.fft.rfft(x - x.mean())))])

    assert dominant(a[mid, 2]) == pytest.approx(f_step, abs=0.05)
    assert dominant(a[mid, 1]) == pytest.approx(f_step / 2, abs=0.05)  # stride frequency
    assert dominant(a[mid, 0]) == pytest.approx(f_step, abs=0.05)
    vertical = np.ptp(a[mid, 2])
    assert np.ptp(a[mid, 0]) > 0.25 * vertical and np.ptp(a[mid, 1]) > 0.25 * vertical


def test_left_right_asymmetry() -> None:
    t, a, tl = _steady_walk(100)
    steps = np.array(tl.steps)[4:-4]
    peaks = np.array([a[(t > s - 0.1) & (t < s + 0.1), 2].max() for s in steps])
    assert np.mean(peaks[0::2]) != pytest.approx(np.mean(peaks[1::2]), rel=0.03)


def test_stairs_are_stronger_than_level_walking() -> None:
    _, level, _ = _steady_walk(95)
    _, up, _ = _steady_walk(95, stairs="up")
    assert np.ptp(up[:, 2]) > 1.25 * np.ptp(level[:, 2])


# --------------------------------------------------------------------------- sensor and rotation


@pytest.mark.parametrize("noise", [0.02, 0.05])
def test_still_device_reads_gravity_with_the_noise_asked(noise: float) -> None:
    sc = syn.Timeline(11, clip=syn.random_rotation(np.random.default_rng(4))).rest(120).render(
        50.0, noise_rms=noise, bias_rms=0.01)
    mag = np.linalg.norm(sc.acc, axis=1)
    assert mag.mean() == pytest.approx(syn.GRAVITY, abs=0.05)
    assert mag.std() == pytest.approx(noise, rel=0.1)
    assert sc.acc.std(axis=0) == pytest.approx([noise] * 3, rel=0.1)


@settings(max_examples=30, deadline=None)
@given(q=st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(
    lambda q: np.linalg.norm(q) > 0.1))
def test_orientation_does_not_change_the_magnitude(q: list[float]) -> None:
    rng = np.random.default_rng(0)
    t = np.linspace(0, 5, 300)
    lin = rng.normal(0, 2, (300, 3))
    rot = syn.quaternion_matrix(q)
    upright = syn.sense(t, lin, np.eye(3), rng, noise_rms=0.0)
    turned = syn.sense(t, lin, rot, rng, noise_rms=0.0)
    np.testing.assert_allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(upright, axis=1))


def test_clip_turning_mid_walk_keeps_magnitude_and_moves_gravity() -> None:
    def build(turning: bool) -> syn.Scenario:
        tl = syn.Timeline(5, clip=syn.HIP_CLIP).stand(2)
        if turning:
            tl.turn_clip(90.0, (1, 0, 0), 2.0, at=10.0).turn_clip(180.0, (0, 1, 0), 0.5, at=20.0)
        return tl.walk(40, 110).stand(2).render(100.0, noise_rms=0.0, bias_rms=0.0,
                                                 with_gyro=True, gyro_bias_rms=0.0)

    still, turned = build(False), build(True)
    np.testing.assert_allclose(np.linalg.norm(turned.acc, axis=1),
                               np.linalg.norm(still.acc, axis=1), atol=1e-9)
    g_before = turned.acc[turned.t < 2].mean(axis=0)
    g_after = turned.acc[(turned.t > 12.5) & (turned.t < 13)].mean(axis=0)
    angle = np.degrees(np.arccos(g_before @ g_after / np.linalg.norm(g_before)
                                 / np.linalg.norm(g_after)))
    assert angle == pytest.approx(90.0, abs=15.0)  # the hip's own motion blurs the mean
    win = (turned.t > 9.9) & (turned.t < 12.1)
    turned_deg = np.trapezoid(np.linalg.norm(turned.gyro[win], axis=1), turned.t[win])
    assert turned_deg == pytest.approx(90.0, abs=3.0)


def test_walker_turning_shows_as_yaw_and_barely_changes_magnitude() -> None:
    def build(turn: bool) -> syn.Scenario:
        tl = syn.Timeline(8).stand(2).walk(30, 110, turns=[(10, 90.0, 2.0)] if turn else [])
        return tl.stand(2).render(100.0, noise_rms=0.0, bias_rms=0.0, with_gyro=True,
                                  gyro_noise_rms=0.0, gyro_bias_rms=0.0)

    straight, turned = build(False), build(True)
    yaw = np.trapezoid(turned.gyro[:, 2], turned.t)  # identity clip: device z is up
    assert yaw == pytest.approx(90.0, abs=1.0)
    assert np.abs(straight.gyro).max() < 1e-6
    diff = np.abs(np.linalg.norm(turned.acc, axis=1) - np.linalg.norm(straight.acc, axis=1))
    # only the centripetal v·ψ̇ (peak ~1.9 m/s², at right angles to gravity) adds: under 3 %
    assert diff.max() < 0.3


def test_sit_to_stand_rotates_gravity_and_bumps() -> None:
    tl = syn.Timeline(2, sit_pitch_deg=75.0).stand(3).sit_down(1.5, 3.0).sit(5).stand_up(1.5, 3.0)
    sc = tl.stand(3).render(100.0, noise_rms=0.0, bias_rms=0.0)
    g_stand = sc.acc[sc.t < 2.5].mean(axis=0)
    g_sit = sc.acc[(sc.t > 6) & (sc.t < 9)].mean(axis=0)
    angle = np.degrees(np.arccos(g_stand @ g_sit / np.linalg.norm(g_stand) / np.linalg.norm(g_sit)))
    assert angle == pytest.approx(75.0, abs=2.0)
    dyn = np.abs(np.linalg.norm(sc.acc, axis=1) - syn.GRAVITY)
    assert 1.5 < dyn[(sc.t > 3) & (sc.t < 5)].max() < 4.5
    assert 1.5 < dyn[(sc.t > 9.5) & (sc.t < 12)].max() < 4.5
    assert sc.steps.size == 0


def test_walking_while_seated_is_refused() -> None:
    tl = syn.Timeline(0).sit_down()
    with pytest.raises(ValueError, match="seated"):
        tl.walk(5)


def test_car_ride_has_engine_vibration_and_no_steps() -> None:
    sc = syn.build_scenario("car_ride")
    assert sc.steps.size == 0
    dyn = np.linalg.norm(sc.acc, axis=1)
    seg = dyn[(sc.t > 100) & (sc.t < 400)]
    spec = np.abs(np.fft.rfft(seg - seg.mean()))
    freqs = np.fft.rfftfreq(seg.size, 0.01)
    engine = spec[(freqs > 20) & (freqs < 42)].sum()
    assert engine > spec[(freqs > 8) & (freqs < 18)].sum()
    assert 0.1 < np.std(dyn) < 1.0


def test_typing_taps_come_in_3_to_8_hz_bursts() -> None:
    taps = syn.typing_taps(0.0, 300.0, np.random.default_rng(3))
    times = np.array([tp[0] for tp in taps])
    gaps = np.diff(times)
    in_burst = gaps[gaps < 0.7]
    assert 3.0 < 1.0 / np.median(in_burst) < 8.0
    assert (gaps > 1.0).sum() >= 10  # pauses between bursts


# --------------------------------------------------------------------------- clock


def test_sample_times_rate_jitter_drops_and_gap() -> None:
    rng = np.random.default_rng(0)
    t = syn.sample_times(0.0, 60.0, 400.0, rng, jitter_s=0.0004, drop_prob=0.01,
                         gaps=[(25.0, 28.0)])
    assert np.all(np.diff(t) > 0)
    assert np.median(np.diff(t)) == pytest.approx(1 / 400, rel=0.05)
    assert not np.any((t >= 25.0) & (t < 28.0))
    assert t.size == pytest.approx(57 * 400 * 0.99, rel=0.01)
    regular = syn.sample_times(0.0, 60.0, 400.0, np.random.default_rng(0))
    offsets = t[t < 25] - np.round(t[t < 25] * 400) / 400
    assert np.std(offsets) == pytest.approx(0.0004, rel=0.15)
    assert np.all(np.diff(regular) == pytest.approx(1 / 400))


def test_high_rate_scenario_has_no_truth_inside_its_gap() -> None:
    sc = syn.build_scenario("high_rate_400hz")
    assert not np.any((sc.steps >= 25.0) & (sc.steps < 28.0))
    assert not np.any((sc.t >= 25.0) & (sc.t < 28.0))
    assert np.diff(sc.t).max() > 3.0
    assert 4 <= 80 - sc.steps.size <= 7  # 3 s at 112 spm: 5-6 steps the device cannot see


@pytest.mark.parametrize("rate", [25.0, 50.0, 104.0, 400.0])
def test_any_rate_renders(rate: float) -> None:
    sc = syn.Timeline(1).stand(1).walk(10, 100).render(rate)
    assert np.median(np.diff(sc.t)) == pytest.approx(1 / rate)
    assert sc.steps.size == 10


def test_bad_parameters_give_clear_errors() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="rate_hz"):
        syn.sample_times(0, 1, 0.0, rng)
    with pytest.raises(ValueError, match="cadence"):
        syn.step_times(0, 10, 500.0, rng)
    with pytest.raises(ValueError, match="at least one step"):
        syn.step_times(0, 0, 100.0, rng)
    with pytest.raises(ValueError, match="unknown scenario"):
        syn.build_scenario("moonwalk")
    with pytest.raises(ValueError, match="axis"):
        syn.axis_angle_matrix((0, 0, 0), 1.0)


# --------------------------------------------------------------------------- transforms


def _sine_walk(rate: float = 100.0, f: float = 2.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = np.arange(0, 60, 1 / rate)
    g = np.array([1.0, 3.0, 9.2])
    acc = g + np.outer(np.sin(2 * np.pi * f * t), [0.3, 0.5, 2.0])
    steps = np.arange(1.0, 59.0, 1 / f)
    return t, acc, steps


def test_slow_down_stretches_time_and_scales_motion() -> None:
    t, acc, steps = _sine_walk()
    st_, sa, ss = syn.slow_down(t, acc, steps, 1.5)
    assert st_[-1] == pytest.approx(t[-1] * 1.5)
    np.testing.assert_allclose(ss, steps * 1.5)
    mid = (st_ > 10) & (st_ < 80)
    assert np.ptp(sa[mid, 2]) == pytest.approx(np.ptp(acc[:, 2]) / 1.5**2, rel=0.05)
    assert sa[mid].mean(axis=0) == pytest.approx([1.0, 3.0, 9.2], abs=0.02)
    _, floored, _ = syn.slow_down(t, acc, steps, 3.0)
    assert np.ptp(floored[(st_ > 10) & (st_ < 80), 2]) == pytest.approx(4.0 * 0.3, rel=0.05)
    with pytest.raises(ValueError):
        syn.slow_down(t, acc, steps, 10.0)


def test_rotate_fixed_and_time_varying_keeps_magnitude() -> None:
    t, acc, _ = _sine_walk()
    fixed = syn.rotate(acc, syn.euler_matrix(30, 60, -120))
    ramp = syn.rotate(acc, syn.rotation_ramp(t, (1, 1, 0), 135.0, 20.0, 2.0))
    for out in (fixed, ramp):
        np.testing.assert_allclose(np.linalg.norm(out, axis=1), np.linalg.norm(acc, axis=1))
    np.testing.assert_allclose(ramp[t < 20], acc[t < 20])
    assert not np.allclose(ramp[t > 22], acc[t > 22])
    with pytest.raises(ValueError):
        syn.rotate(acc, np.eye(3)[None].repeat(5, axis=0))


def test_resample_to_another_rate_with_jitter() -> None:
    t, acc, _ = _sine_walk(rate=200.0, f=1.0)
    nt, na = syn.resample(t, acc, 50.0, np.random.default_rng(0), jitter_s=0.001)
    assert np.median(np.diff(nt)) == pytest.approx(0.02, rel=0.05)
    assert nt[0] >= t[0] and nt[-1] <= t[-1] and np.all(np.diff(nt) > 0)
    truth = np.array([1.0, 3.0, 9.2]) + np.outer(np.sin(2 * np.pi * nt), [0.3, 0.5, 2.0])
    assert np.abs(na - truth)[10:-10].max() < 0.02  # a 1 Hz walk survives the anti-alias filter


def test_splice_puts_segments_on_one_clock() -> None:
    a = _sine_walk()
    b = syn.still_like([0.0, 0.0, 9.8], 10.0, 100.0, np.random.default_rng(0))
    t, acc, steps = syn.splice([a, b, a])
    assert np.all(np.diff(t) > 0) and acc.shape == (t.size, 3)
    assert steps.size == 2 * a[2].size
    np.testing.assert_allclose(steps[a[2].size:] - steps[: a[2].size], t[a[0].size + b[0].size]
                               - t[0])
    assert t[-1] == pytest.approx(a[0][-1] * 2 + 10.0 + 0.02, abs=0.02)


def test_real_slowed_scenario_reaches_the_target_cadence() -> None:
    mk = _load_make_scenarios()
    sc = mk.build_all()["real_slowed_70spm"]
    walk = sc.steps
    assert syn.real_cadence(walk) == pytest.approx(70.0, rel=0.02)
    lead_in = sc.acc[sc.t < 9.5]
    assert np.linalg.norm(lead_in, axis=1).std() < 0.1  # standing still, matching gravity


# --------------------------------------------------------------------------- scenarios


def test_scenarios_are_deterministic_per_seed() -> None:
    a, b = syn.build_scenario("short_bouts", 1), syn.build_scenario("short_bouts", 1)
    np.testing.assert_array_equal(a.acc, b.acc)
    np.testing.assert_array_equal(a.steps, b.steps)
    c = syn.build_scenario("short_bouts", 2)
    assert not np.array_equal(a.steps, c.steps)


def test_short_bouts_are_four_to_twelve_steps() -> None:
    sc = syn.build_scenario("short_bouts")
    bouts = np.split(sc.steps, np.nonzero(np.diff(sc.steps) > 5.0)[0] + 1)
    sizes = [b.size for b in bouts]
    assert len(sizes) == 15 and min(sizes) == 4 and max(sizes) == 12
    gaps = np.diff([b[0] for b in bouts])
    assert gaps.min() > 20.0


@pytest.mark.parametrize("name", ["slow_gait_60", "slow_gait_75", "slow_gait_90", "shuffling"])
def test_slow_gait_cadence(name: str) -> None:
    sc = syn.build_scenario(name)
    cadence = {"slow_gait_60": 60, "slow_gait_75": 75, "slow_gait_90": 90, "shuffling": 70}[name]
    assert syn.real_cadence(sc.steps) == pytest.approx(cadence, rel=0.03)
    assert sc.steps.size == pytest.approx(3 * cadence, abs=1)


@pytest.mark.parametrize("name", ["still_table", "car_ride", "desk_typing", "sit_stand",
                                  "chair_shifting"])
def test_non_walking_scenarios_have_no_steps(name: str) -> None:
    sc = syn.build_scenario(name)
    assert sc.steps.size == 0 and sc.meta["kind"] == "non_walking"
    assert not math.isnan(float(sc.meta["rate_hz"]))


_ACTIVITIES = st.lists(
    st.one_of(
        st.tuples(st.just("walk"), st.integers(4, 30), st.floats(60, 125)),
        st.tuples(st.just("fidget"), st.integers(1, 3), st.just(0.0)),
        st.tuples(st.just("stand"), st.integers(1, 20), st.just(0.0)),
        st.tuples(st.just("sit"), st.integers(2, 20), st.just(0.0)),
        st.tuples(st.just("typing"), st.integers(2, 20), st.just(0.0)),
        st.tuples(st.just("car"), st.integers(30, 60), st.just(0.0)),
    ),
    min_size=1, max_size=6)


@settings(max_examples=20, deadline=None)
@given(activities=_ACTIVITIES, rate=st.sampled_from([25.0, 50.0, 100.0]),
       seed=st.integers(0, 1000))
def test_any_day_renders_with_exactly_its_bout_steps(activities, rate: float, seed: int) -> None:
    tl = syn.Timeline(seed, clip=syn.random_rotation(np.random.default_rng(seed))).stand(1)
    expected = 0
    for kind, n, cadence in activities:
        if kind == "walk":
            tl.walk(n, cadence)
            expected += n
        elif kind == "fidget":
            tl.fidget(n)
        elif kind == "stand":
            tl.stand(n)
        elif kind == "sit":
            tl.sit_down().sit(n).stand_up()
        elif kind == "typing":
            tl.sit_down().typing(n, coupling=0.2).stand_up()
        else:
            tl.sit_down().car(n).stand_up()
    sc = tl.stand(1).render(rate)
    assert sc.steps.size == expected
    assert np.all(np.isfinite(sc.acc)) and np.all(np.diff(sc.t) > 0)
    assert 9.0 < np.median(np.linalg.norm(sc.acc, axis=1)) < 10.6
    assert np.linalg.norm(sc.acc, axis=1).max() < 40.0
