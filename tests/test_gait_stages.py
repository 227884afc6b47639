"""The detector's stages one by one, and the daily-life behaviour they exist for.

Signals are built here from simple physics: one vertical pulse per step (its strength per step,
so a turn's or a bout end's gentle steps can be gentler), on tilted gravity, with an optional
gyroscope turning about gravity. Each test states what it feeds and what a wearer would expect.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.core import contacts
from device.core.detector import StepDetector
from device.core.gait_sequence import GaitSequence, SignalHistory, step_similarity
from device.core.params import DetectorParams
from device.core.peaks import Candidate, PeakPicker
from device.core.pipeline import StepPipeline
from device.core.sampler import Sampler
from device.core.step_signal import StepSignal, axis_energy

G = 9.81
UP = np.array([0.3, 0.0, 0.954])
UP = UP / np.linalg.norm(UP)


def hip(step_t: np.ndarray, amps: np.ndarray, duration: float, rate_hz: float = 100.0,
        yaw: tuple[float, float, float] | None = None, seed: int = 0, sway: float = 0.0):
    """(t, acc, gyro or None): a pulse per step at step_t with the given strengths.

    yaw=(start, end, deg/s): the wearer turns about gravity at that rate between start and end.
    sway: the hip's horizontal acceleration per step, as a share of the vertical pulse (walking
    moves the hip forwards each step and sideways each stride; a car's bounce does not).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, duration, 1.0 / rate_hz)
    vertical = np.zeros_like(t)
    interval = float(np.median(np.diff(step_t))) if len(step_t) > 1 else 0.6
    for s, a in zip(step_t, amps, strict=True):
        vertical += a * np.exp(-0.5 * ((t - s) / (0.12 * interval)) ** 2)
        vertical -= 0.5 * a * np.exp(-0.5 * ((t - s - 0.45 * interval) / (0.2 * interval)) ** 2)
    acc = (G + vertical)[:, None] * UP[None, :] + 0.03 * rng.standard_normal((t.size, 3))
    if sway:
        forward = np.cross(UP, [0.0, 1.0, 0.0])
        forward /= np.linalg.norm(forward)
        side = np.cross(UP, forward)
        phase = 2 * np.pi * np.interp(t, step_t, np.arange(len(step_t)), left=0, right=0)
        live = (t > step_t[0] - 0.3 * interval) & (t < step_t[-1] + 0.3 * interval)
        level = sway * float(np.median(amps)) * live
        acc += (level * np.sin(phase))[:, None] * forward + (
            0.7 * level * np.sin(phase / 2))[:, None] * side
    gyro = None
    if yaw is not None:
        start, end, rate = yaw
        gyro = np.outer(np.where((t >= start) & (t < end), rate, 0.0), UP)
        gyro += 2.0 * rng.standard_normal(gyro.shape)
    return t, acc, gyro


def detect(t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None = None,
           chunk_s: float = 1.0) -> np.ndarray:
    pipe = StepPipeline()
    steps = []
    n = max(1, round(chunk_s * 100))
    for i in range(0, t.size, n):
        g = gyro[i : i + n] if gyro is not None else None
        steps.append(pipe.feed(t[i : i + n], acc[i : i + n], g).step_times_s)
    steps.append(pipe.finish().step_times_s)
    return np.concatenate(steps)


def rhythm(start: float, n: int, spm: float) -> np.ndarray:
    return start + np.arange(n) * 60.0 / spm


# -- stage 1: step signal ------------------------------------------------------------------------
def test_step_signal_is_the_same_whatever_the_chunking() -> None:
    t, acc, gyro = hip(rhythm(2.0, 20, 100), np.full(20, 2.0), 16.0, yaw=(5.0, 8.0, 90.0))

    def run(n: int) -> tuple[np.ndarray, np.ndarray]:
        sampler, signal = Sampler(), StepSignal(50.0, DetectorParams())
        values, yaw = [], []
        runs = []
        for i in range(0, t.size, n):
            runs += sampler.push(t[i : i + n], acc[i : i + n], gyro[i : i + n])
        runs += sampler.flush()
        for r in runs:
            for c in signal.update(r).chunks_:
                values.append(c.values)
                yaw.append(c.yaw_dps)
        for c in signal.finish().chunks_:
            values.append(c.values)
            yaw.append(c.yaw_dps)
        return np.concatenate(values), np.concatenate(yaw)

    v1, y1 = run(37)
    v2, y2 = run(t.size)
    np.testing.assert_allclose(v1, v2, atol=1e-9)
    np.testing.assert_allclose(y1, y2, atol=1e-9)
    assert v1.size == pytest.approx(16.0 * 50, abs=2)  # one value per grid cell, none invented
    # The yaw about gravity is what the gyro turns at, while turning, and ~0 otherwise.
    assert np.median(y1[300:380]) == pytest.approx(90.0, abs=3.0)
    assert abs(np.median(y1[:200])) < 3.0


# -- stage 2: peaks ------------------------------------------------------------------------------
def test_one_candidate_per_step_and_none_from_sensor_noise() -> None:
    steps = rhythm(2.0, 12, 110)
    t, acc, _ = hip(steps, np.full(12, 2.0), 12.0)
    sampler, signal = Sampler(), StepSignal(50.0, DetectorParams())
    picker = PeakPicker(50.0, DetectorParams())
    found: list[Candidate] = []
    for r in sampler.push(t, acc) + sampler.flush():
        for c in signal.update(r).chunks_:
            found += picker.update(c).candidates_
    for c in signal.finish().chunks_:
        found += picker.update(c).candidates_
    strong = [c for c in found if c.height > 1.0]
    assert len(strong) == 12
    times = np.array([(c.index + 0.5) / 50.0 for c in strong])
    assert np.max(np.abs(times - steps)) < 0.05
    # Still before and after the walk: nothing above the floor but the walk's own edges.
    assert all(1.5 < (c.index / 50.0) < 10.5 for c in found)


def test_the_dynamic_acceleration_is_split_along_and_across_gravity() -> None:
    t = np.arange(0.0, 10.0, 0.01)
    wave = 1.0 * np.sin(2 * np.pi * 1.7 * t)
    across = np.cross(UP, [0.0, 1.0, 0.0])
    across /= np.linalg.norm(across)

    def energies(acc: np.ndarray) -> np.ndarray:
        sampler, signal = Sampler(), StepSignal(50.0, DetectorParams())
        chunks = [c for r in sampler.push(t, acc) + sampler.flush()
                  for c in signal.update(r).chunks_]
        a = np.concatenate([c.acc for c in chunks])[100:-100]
        g = np.concatenate([c.gravity for c in chunks])[100:-100]
        return np.array(axis_energy(a, g))

    bounce = energies((G + wave)[:, None] * UP[None, :])
    sideways = energies(G * UP[None, :] + wave[:, None] * across[None, :])
    assert bounce[1] < 0.01 * bounce[0]      # a car's bounce: along gravity only
    assert sideways[0] < 0.01 * sideways[1]  # a body shifting: across it only
    np.testing.assert_allclose(bounce.sum(), sideways.sum(), rtol=0.02)


def test_the_history_holds_the_same_energies_whatever_the_chunking() -> None:
    steps = rhythm(2.0, 20, 100)
    t, acc, _ = hip(steps, np.full(20, 1.0), 16.0, sway=0.8)

    def run(n: int) -> StepDetector:
        d, sampler = StepDetector(), Sampler()
        for i in range(0, t.size, n):
            for r in sampler.push(t[i : i + n], acc[i : i + n]):
                d.update(r)
        for r in sampler.flush():
            d.update(r)
        return d

    one, chunked = run(t.size), run(37)
    lo, hi = 300, 500  # grid cells 6-10 s: inside the walk, within the history
    np.testing.assert_allclose(chunked.history.axes(lo, hi), one.history.axes(lo, hi),
                               rtol=1e-9)
    vertical, horizontal = one.history.axes(lo, hi)
    assert 0.2 * vertical < horizontal < 5 * vertical  # the sway shows across gravity


# -- stage 3: gait sequence ----------------------------------------------------------------------
def assert_a_walk_only_when_the_hip_sways(steps: np.ndarray, amps: np.ndarray) -> None:
    """A run with less proof than four clear, regular steps: found step for step when the hip
    sways like walking, not at all when the same rhythm only bounces up and down."""
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0, sway=0.9)
    found = detect(t, acc)
    assert found.size == steps.size
    assert np.max(np.abs(found - steps)) < 0.1
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0)
    assert detect(t, acc).size == 0


def test_a_faint_short_walk_starts_a_bout_when_the_hip_sways_like_walking() -> None:
    # Five gentle steps (peaks below weak_ms2, a slow walker): walking moves the hip forwards
    # and sideways too, so four steps are proof enough; the same rhythm straight up and down
    # (a car's bounce) needs weak_bout_steps and is not counted.
    assert_a_walk_only_when_the_hip_sways(rhythm(3.0, 5, 80), np.full(5, 0.45))


def test_step_similarity_tells_a_repeating_waveform_from_unlike_bumps() -> None:
    k = np.arange(300)
    steady = np.sin(2 * np.pi * k / 27.0)
    assert step_similarity(steady, 27) > 0.95
    assert step_similarity(steady, 29) > 0.95  # a hesitation: the best lag near the rhythm
    rng = np.random.default_rng(0)
    assert step_similarity(rng.standard_normal(300), 27) < 0.25


def test_a_pause_shorter_than_three_seconds_does_not_end_the_walk() -> None:
    # 20 steps, 2 s standing, 3 more steps: the 3 are steps of the same walk (not a fidget).
    first = rhythm(3.0, 20, 100)
    second = rhythm(first[-1] + 2.6, 3, 100)
    steps = np.concatenate((first, second))
    t, acc, _ = hip(steps, np.full(steps.size, 2.0), second[-1] + 4.0)
    assert detect(t, acc).size == steps.size


def test_after_a_long_pause_three_steps_are_a_fidget() -> None:
    first = rhythm(3.0, 20, 100)
    second = rhythm(first[-1] + 6.0, 3, 100)
    steps = np.concatenate((first, second))
    t, acc, _ = hip(steps, np.full(steps.size, 2.0), second[-1] + 4.0)
    assert detect(t, acc).size == 20


def test_walking_on_at_another_pace_after_a_pause_counts_every_step() -> None:
    first = rhythm(3.0, 16, 80)
    second = rhythm(first[-1] + 1.8, 10, 125)
    steps = np.concatenate((first, second))
    amps = np.concatenate((np.full(16, 1.6), np.full(10, 2.6)))
    t, acc, _ = hip(steps, amps, second[-1] + 4.0)
    assert detect(t, acc).size == steps.size


def test_gentle_turning_steps_inside_a_walk_count() -> None:
    # Walking, then three steps at a quarter of the strength while turning, then walking on.
    steps = rhythm(3.0, 30, 105)
    amps = np.full(30, 2.0)
    amps[14:17] = 0.5
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0)
    assert detect(t, acc).size == 30


def test_the_gyroscope_finds_the_faintest_turning_steps() -> None:
    steps = rhythm(3.0, 30, 105)
    amps = np.full(30, 2.0)
    amps[12:18] = 0.3   # six faint steps while turning 180 degrees in 3.4 s
    turn = (steps[12] - 0.3, steps[17] + 0.3, 53.0)
    t, acc, gyro = hip(steps, amps, steps[-1] + 4.0, yaw=turn)
    with_gyro = detect(t, acc, gyro)
    without = detect(t, acc)
    assert with_gyro.size == 30
    assert without.size < with_gyro.size
    np.testing.assert_allclose(detect(t, acc, gyro, chunk_s=7.3), with_gyro, atol=1e-9)


def test_while_turning_the_steps_are_the_peaks_in_rhythm_not_the_strongest() -> None:
    # Eight clear steps 30 cells apart, then a turn (the gyro says 60 deg/s): faint turning
    # steps 33 cells apart and, 24 cells after each, a stronger bump of the pivoting body; then
    # clear steps again. Counted as they came, the first peak far enough from the last step
    # would be a bump, and the next step too close to it; held until walking goes on out of
    # the turn, the chain in rhythm is the steps.
    def turning(index: float, height: float) -> Candidate:
        return Candidate(index=index, height=height, yaw_dps=60.0)

    walk = [cand(100.0 + 30.0 * i, 2.0) for i in range(8)]
    turn_steps = [turning(310.0 + 33.0 * i, 0.3) for i in range(1, 4)]
    bumps = [turning(c.index + 24.0, 0.8) for c in turn_steps]
    after = [cand(310.0 + 33.0 * 4 + 30.0 * i, 2.0) for i in range(4)]
    seq = GaitSequence(50.0, P, SignalHistory(800))
    held = sorted([*turn_steps, *bumps], key=lambda c: c.index)
    found = seq.update([*walk, *held, *after], 900, None).steps_
    found += seq.update([], 900, None, final=True).steps_
    assert [c.index for c in found] == [c.index for c in [*walk, *turn_steps, *after]]


def test_the_gentle_steps_of_a_turn_before_a_walk_count_with_a_gyroscope() -> None:
    # Daily life: the wearer turns about (three gentle steps while the gyro says 70 deg/s) and
    # walks off. The bout starts only once four clear steps show, after the turn; the turn's
    # own steps are chained back to its first step in rhythm. Without a gyro, nothing says the
    # gentle peaks before the walk were a turn, and they are left out.
    steps = rhythm(3.0, 10, 100)
    amps = np.array([0.4, 0.35, 0.4] + [2.0] * 7)
    t, acc, gyro = hip(steps, amps, steps[-1] + 4.0, yaw=(2.7, 4.6, 70.0), sway=0.9)
    found = detect(t, acc, gyro)
    assert found.size == 10
    assert np.max(np.abs(found - steps)) < 0.1
    for chunk_s in (0.3, 4.0, 30.0):
        assert np.array_equal(detect(t, acc, gyro, chunk_s=chunk_s), found)
    assert detect(t, acc).size == 7


def test_walking_a_curve_counts_every_step_as_it_goes() -> None:
    # Round a room or a slalom: turning all the time (the gyro never drops below the turning
    # rate). The held peaks are counted every turn_hold_s, not at the end, and none is lost.
    steps = rhythm(3.0, 40, 100)
    amps = np.full(40, 2.0)
    amps[10:30] = 1.2
    t, acc, gyro = hip(steps, amps, steps[-1] + 4.0, yaw=(steps[8], steps[-1] + 1.0, 40.0))
    pipe = StepPipeline()
    found, latest = [], []
    for i in range(0, t.size, 100):
        found.append(pipe.feed(t[i : i + 100], acc[i : i + 100], gyro[i : i + 100]).step_times_s)
        if t[i] > steps[25]:
            latest.append(max((float(f.max()) for f in found if f.size), default=0.0))
    found.append(pipe.finish().step_times_s)
    everything = np.concatenate(found)
    assert everything.size == 40
    assert np.max(np.abs(everything - steps)) < 0.1
    # While still turning, the counted steps keep up with the walk (the pipeline works on
    # 5 s of samples at a time, and a turn is held at most turn_hold_s).
    assert latest[0] > steps[25] - 8.0


def test_turn_steps_keep_the_chain_closest_to_an_even_rhythm() -> None:
    before, after = cand(0.0, 2.0), cand(99.0, 2.0)          # rhythm 33 cells (1.1 x 30)
    held = [cand(21.0, 0.9), cand(33.0, 0.2), cand(52.0, 0.8), cand(66.0, 0.2)]
    assert [c.index for c in contacts.turn_steps(held, before, after, 33.0, P)] == [33.0, 66.0]
    # No room for a step between the two: none.
    assert contacts.turn_steps([cand(20.0, 0.9)], before, cand(40.0, 2.0), 33.0, P) == []
    # A gap 1.45 x the rhythm is one long pivoting step more likely than two short ones: the
    # bump in its middle is not a step (an interval x 1.45 costs less than two x 0.725).
    assert contacts.turn_steps([cand(24.0, 0.9)], before, cand(48.0, 2.0), 33.0, P) == []
    assert contacts.turn_steps([cand(33.0, 0.9)], before, cand(66.0, 2.0), 33.0, P) != []
    # Counted as they come, the first far enough from the last step wins.
    assert [c.index for c in contacts.in_rhythm(held, before, 30.0, P)] == [21.0, 52.0]


def test_gentle_first_and_last_steps_of_a_bout_count() -> None:
    steps = rhythm(3.0, 8, 100)
    amps = np.full(8, 2.0)
    amps[0] = amps[-1] = 0.9
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0)
    found = detect(t, acc)
    assert found.size == 8
    assert abs(found[0] - steps[0]) < 0.1 and abs(found[-1] - steps[-1]) < 0.1


def test_a_five_step_walk_counts_although_its_end_fades() -> None:
    # A real short walk: three clear steps, then termination fades over two steps (the hip
    # barely rises for the closing step). Only three clear steps: the gentle fourth in their
    # rhythm ends the walk, and the faint fifth after it closes it.
    steps = rhythm(3.0, 5, 100)
    amps = np.array([2.0, 2.2, 2.1, 0.5, 0.12])
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0, sway=0.9)
    found = detect(t, acc)
    assert found.size == 5
    assert np.max(np.abs(found - steps)) < 0.1
    np.testing.assert_allclose(detect(t, acc, chunk_s=0.37), found, atol=1e-9)


def test_a_short_walk_whose_first_step_is_slower_counts() -> None:
    # Four steps; the first out of a standstill takes a third longer than the rest, so the
    # strides differ by 17 %: a walk if the hip sways like walking, not if it only bounces.
    steps = 3.0 + np.concatenate([[0.0], 0.8 + 0.6 * np.arange(3)])
    assert_a_walk_only_when_the_hip_sways(steps, np.full(4, 2.0))


def test_a_walks_closing_step_counts_though_it_comes_early() -> None:
    # Eight clear steps 30 cells apart (0.6 s), then a gentle peak: 2/3 of the rhythm later it
    # is the walk's closing step (the feet come together sooner than a full step); at 0.45 of
    # the rhythm it is the second bump of a slow step.
    def steps_with(last_gap: float) -> list[float]:
        seq = GaitSequence(50.0, P, SignalHistory(800))
        walk = [cand(100.0 + 30.0 * i, 2.0) for i in range(8)]
        closing = cand(walk[-1].index + last_gap, 0.5)
        seq.update([*walk, closing], 600, None)
        found = list(seq.steps_)
        return [c.index for c in found + seq.update([], 600, None, final=True).steps_]

    assert steps_with(20.0)[-1] == 310.0 + 20.0
    assert len(steps_with(20.0)) == 9
    assert len(steps_with(13.5)) == 8


def walk_then(later: np.ndarray, tilt_deg: float = 0.0, amp: float = 2.0,
              later_amp: float | np.ndarray | None = None,
              later_sway: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """(t, acc): a walk of ten steps of strength ``amp``, then 8 s standing, then steps at
    ``later`` (s after the walk's start; strength ``later_amp``, else ``amp``; the hip swaying
    ``later_sway``) with the hip turned ``tilt_deg`` away from how it stood walking."""
    first = rhythm(3.0, 10, 100)
    steps = np.concatenate((first, later))
    t, acc, _ = hip(first, np.full(first.size, amp), later[0] - 1.0, sway=0.9)
    strength = np.broadcast_to(amp if later_amp is None else later_amp, later.shape)
    t2, acc2, _ = hip(later - later[0] + 1.0, np.asarray(strength, dtype=float),
                      later[-1] - later[0] + 5.0, sway=later_sway, seed=1)
    a = np.radians(tilt_deg)
    turn = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    t = np.concatenate((t, t2 + later[0] - 1.0))
    assert np.all(np.diff(t) > 0) and steps.size == first.size + later.size
    return t, np.concatenate((acc, acc2 @ turn.T))


def test_three_steps_after_a_walk_are_a_walk_of_their_own() -> None:
    # A wearer who walked earlier gets up and takes three steps: a whole walk (a kettle, a
    # door), counted once nothing follows them, when the hip stands as it did while walking.
    later = rhythm(17.0, 3, 100)
    t, acc = walk_then(later)
    found = detect(t, acc)
    assert found.size == 13
    assert np.max(np.abs(found[-3:] - later)) < 0.1
    # The same three steps alone: nothing yet says how this wearer stands when walking.
    t, acc, _ = hip(later, np.full(3, 2.0), later[-1] + 4.0, sway=0.9)
    assert detect(t, acc).size == 0
    # Off: the short walk waits for a fourth step as every other bout does.
    t, acc = walk_then(later)
    pipe = StepPipeline(params=replace(P, short_walk_steps=0))
    assert pipe.feed(t, acc).step_times_s.size + pipe.finish().step_times_s.size == 10


def test_a_gentle_walkers_three_steps_are_a_walk_as_gentle_as_their_walking() -> None:
    # A wearer who walks gently (peaks of 0.6 m/s², below weak_ms2: slow, guarding a painful
    # back) takes three steps after their walk: as clear as their steps get, so a walk. The same
    # three steps after a brisk walk (2 m/s²) are too faint to be a walk on so little proof.
    later = rhythm(17.0, 3, 100)
    t, acc = walk_then(later, amp=0.6)
    found = detect(t, acc)
    assert found.size == 13
    assert np.max(np.abs(found[-3:] - later)) < 0.1
    t, acc = walk_then(later, amp=2.0, later_amp=0.6)
    assert detect(t, acc).size == 10
    # Off: a gentle wearer's short walk needs weak_ms2 as everyone's does.
    t, acc = walk_then(later, amp=0.6)
    pipe = StepPipeline(params=replace(P, faint_of_wearer=0.0))
    assert pipe.feed(t, acc).step_times_s.size + pipe.finish().step_times_s.size == 10


def test_stepping_about_at_no_rhythm_after_a_walk_counts() -> None:
    # Daily life between walks: a step, a long one, a quick one, ... (a kitchen, a desk). No
    # rhythm check admits it; clear heel strikes by a wearer standing as they walk do, and
    # once they have started a bout every clear step counts, whenever it comes.
    later = 17.0 + np.cumsum([0.0, 0.5, 1.2, 0.45, 1.4, 0.7, 0.45, 1.1])
    t, acc = walk_then(later)
    found = detect(t, acc)
    assert found.size == 10 + later.size
    assert np.max(np.abs(found[10:] - later)) < 0.1
    for chunk_s in (0.3, 4.0, 30.0):  # the same steps however the stream is cut
        assert np.array_equal(detect(t, acc, chunk_s=chunk_s), found)
    # Not when seated or bent (gravity 40 deg off how they stood walking), not cold (nothing
    # yet says how they stand to walk), not faint (below irregular_ms2), and not when off.
    t, acc = walk_then(later, tilt_deg=40.0)
    assert detect(t, acc).size == 10
    t, acc, _ = hip(later, np.full(later.size, 2.0), later[-1] + 4.0, sway=0.9)
    assert detect(t, acc).size == 0
    t, acc = walk_then(later, later_amp=0.8)
    assert detect(t, acc).size == 10
    t, acc = walk_then(later)
    pipe = StepPipeline(params=replace(P, irregular_ms2=0.0))
    assert pipe.feed(t, acc).step_times_s.size + pipe.finish().step_times_s.size == 10


def test_a_short_walk_with_one_far_gentler_step_counts_given_more_proof() -> None:
    # One step of six far gentler than the rest (a guarded step, a threshold): its peak is a
    # 3.6th of the others', beyond height_spread, and that leg's steps are unlike (no side
    # clip). With more proof the peaks may differ up to uneven_spread: every step counts.
    amps = np.array([2.0, 2.0, 0.7, 2.0, 2.0, 2.0])
    later = rhythm(17.0, amps.size, 100)
    # Proof one: the hip moves and repeats like walking (here with nothing seen before).
    t, acc, _ = hip(later, amps, later[-1] + 4.0, sway=0.6)
    found = detect(t, acc)
    assert found.size == amps.size
    assert np.max(np.abs(found - later)) < 0.1
    for chunk_s in (0.3, 4.0, 30.0):  # the same steps however the stream is cut
        assert np.array_equal(detect(t, acc, chunk_s=chunk_s), found)
    t, acc, _ = hip(later, amps, later[-1] + 4.0)  # straight up and down: no proof
    assert detect(t, acc).size == 0
    # Proof two: the wearer stands as in their last walk (the same steps straight up and
    # down); not seated or bent (40 deg off how they stood walking).
    t, acc = walk_then(later, later_amp=amps, later_sway=0.0)
    found = detect(t, acc)
    assert found.size == 10 + amps.size
    assert np.max(np.abs(found[10:] - later)) < 0.1
    for chunk_s in (0.3, 4.0, 30.0):
        assert np.array_equal(detect(t, acc, chunk_s=chunk_s), found)
    t, acc = walk_then(later, later_amp=amps, later_sway=0.0, tilt_deg=40.0)
    assert detect(t, acc).size == 10
    # Off (uneven_spread no wider than height_spread): fewer steps, with either proof.
    off = StepPipeline(params=replace(P, uneven_spread=P.height_spread))
    assert off.feed(t, acc).step_times_s.size + off.finish().step_times_s.size < 10 + amps.size
    t, acc, _ = hip(later, amps, later[-1] + 4.0, sway=0.6)
    off = StepPipeline(params=replace(P, uneven_spread=P.height_spread))
    assert off.feed(t, acc).step_times_s.size + off.finish().step_times_s.size < amps.size


def test_which_runs_may_spread_to_uneven_spread() -> None:
    seq = GaitSequence(50.0, P, SignalHistory(800))
    up = np.array([0.0, 0.0, 1.0])
    run = [Candidate(index=100.0 + 30.0 * i, height=h, up=up) for i, h in
           enumerate([2.0, 2.0, 0.55, 2.0])]  # 3.6 x
    first_gentlest = [run[2], *(replace(c, index=c.index + 30.0) for c in run[:2]),
                      replace(run[3], index=run[3].index)]
    assert not seq._heights_alike(run)  # no proof: no walk seen, no signal to judge
    seq._walking_like = lambda run, stride=False: True  # type: ignore[method-assign]
    assert seq._heights_alike(run)  # proof: moves and repeats like walking
    assert not seq._heights_alike(first_gentlest)  # ... but a gentle first step is the lead-in's
    del seq._walking_like
    seq._upright = up
    assert seq._heights_alike(run) and seq._heights_alike(first_gentlest)  # stands as walking
    assert not seq._heights_alike(run, rhythm=False)  # stepping about: no rhythm as proof
    wider = [replace(c, height=0.45) if c.height < 1.0 else c for c in run]  # 4.4 x
    assert not seq._heights_alike(wider)


def test_one_long_chunk_gives_the_steps_one_second_batches_give() -> None:
    # Faint steps are judged on the signal before them (how the hip sways, how alike they
    # look), which the detector keeps for about 15 s: a chunk longer than that must not push
    # the signal of its first steps out before they are judged (it did: two steps were lost).
    t, acc = walk_then(rhythm(17.0, 3, 100), amp=0.6)
    reference = detect(t, acc)
    assert np.max(np.abs(reference[:10] - rhythm(3.0, 10, 100))) < 0.1
    np.testing.assert_allclose(detect(t, acc, chunk_s=60.0), reference, atol=1e-9)


def test_how_faint_is_faint_is_learnt_from_the_wearers_strongest_walk() -> None:
    # Twelve regular steps are a walk; its typical step says how strongly this wearer walks.
    # A brisk walker (2 m/s²) keeps the absolute limits even after a faint false bout (a car's
    # bounce, 0.4 m/s²); a gentle walker's (0.6 m/s²) limits are 0.6 x their step. A bout too
    # short to be sure of (gait_steps) teaches nothing.
    def limits_after(*bouts: tuple[int, float]) -> tuple[float, float]:
        seq = GaitSequence(50.0, P, SignalHistory(800))
        start = 100.0
        for n, height in bouts:
            run = [cand(start + 30.0 * i, height) for i in range(n)]
            seq.update(run, int(run[-1].index) + 10, None)
            start = run[-1].index + 400.0  # 8 s later: a bout of its own
        return seq._faint(P.weak_ms2), seq._faint(P.faint_bout_ms2)

    assert limits_after((12, 2.0), (12, 0.4)) == (P.weak_ms2, P.faint_bout_ms2)
    gentle = limits_after((12, 0.6))
    assert gentle == pytest.approx((P.faint_of_wearer * 0.6,) * 2)
    assert limits_after((12, 0.6), (12, 0.4)) == pytest.approx(gentle)
    assert limits_after((P.gait_steps - 2, 0.6)) == (P.weak_ms2, P.faint_bout_ms2)


@pytest.mark.parametrize("n", [6, 8])
def test_a_walk_whose_left_and_right_steps_differ_counts(n: int) -> None:
    # A clip at the side of the hip feels the near leg's heel strike more strongly: every other
    # step here peaks at about a quarter of the others (beyond height_spread). Each leg's steps
    # are alike and the hip sways like walking, so the walk counts, every step of it.
    steps = rhythm(3.0, n, 100)
    amps = np.where(np.arange(n) % 2, 0.8, 2.0)
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0, sway=0.9)
    found = detect(t, acc)
    assert found.size == n
    assert np.max(np.abs(found - steps)) < 0.1
    # Off (side_spread and uneven_spread no wider than height_spread): too unlike.
    pipe = StepPipeline(params=replace(P, side_spread=P.height_spread,
                                       uneven_spread=P.height_spread))
    assert pipe.feed(t, acc).step_times_s.size + pipe.finish().step_times_s.size == 0
    # The same alternating bumps straight up and down (a bounce, not a walk): no proof.
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0)
    assert detect(t, acc).size == 0


@pytest.mark.parametrize("n", [8, 10])
def test_a_limping_walk_counts(n: int) -> None:
    # A limp: one leg's steps take 1.9 x as long as the other's (beyond regularity), every
    # stride as long as the next. Strides alike and one stride's waveform like the next, with
    # the hip moving like walking: a walk, every step of it.
    steps = 3.0 + np.concatenate([[0.0], np.cumsum(np.tile([0.42, 0.8], n)[: n - 1])])
    t, acc, _ = hip(steps, np.full(n, 2.0), steps[-1] + 4.0, sway=0.6)
    found = detect(t, acc)
    assert found.size == n
    assert np.max(np.abs(found - steps)) < 0.1
    # Off (uneven_regularity no wider than regularity): the steps are too unlike.
    pipe = StepPipeline(params=replace(P, uneven_regularity=P.regularity))
    assert pipe.feed(t, acc).step_times_s.size + pipe.finish().step_times_s.size == 0
    # The same rhythm straight up and down (no sway): no proof, no walk.
    t, acc, _ = hip(steps, np.full(n, 2.0), steps[-1] + 4.0)
    assert detect(t, acc).size == 0


def test_a_limps_strides_look_alike_though_its_steps_do_not() -> None:
    # One leg's step short and sharp, the other's long and broad: step to step the waveform
    # changes, stride to stride it repeats. The stride lag is two mean steps (a limp's median
    # step is one leg's).
    rate = 50.0
    steps = 1.0 + np.concatenate([[0.0], np.cumsum(np.tile([0.42, 0.8], 4))])
    t = np.arange(0.0, steps[-1] + 1.0, 1.0 / rate)
    signal = sum((1.0 if i % 2 else 0.6) * np.exp(-0.5 * ((t - s) / (0.05 if i % 2 else 0.12))
                                                 ** 2) for i, s in enumerate(steps))
    history = SignalHistory(2000)
    history.push(0, signal - signal.mean())
    seq = GaitSequence(rate, P, history)
    run = [cand(s * rate, 1.0) for s in steps[2:6]]
    assert seq._step_similarity(run) < P.proof_corr <= seq._step_similarity(run, stride=True)


def test_a_short_walks_three_clear_steps_may_start_slower() -> None:
    # Out of a standstill the first interval is longer: up to end_regularity (1.5) x the next.
    seq = GaitSequence(50.0, P, SignalHistory(800))
    slower_first = [cand(100.0, 2.0), cand(142.0, 2.0), cand(172.0, 2.0)]  # 0.84 s, 0.6 s
    assert seq._clear_rhythm(slower_first) == pytest.approx(0.72)
    hesitant = [cand(100.0, 2.0), cand(148.0, 2.0), cand(178.0, 2.0)]  # 0.96 s, 0.6 s: 1.6 x
    assert seq._clear_rhythm(hesitant) is None


def test_a_decaying_ringing_is_not_one_legs_steps() -> None:
    seq = GaitSequence(50.0, P, SignalHistory(800))
    ringing = [cand(100.0 + 30.0 * i, 2.0 * 0.6 ** i) for i in range(4)]  # 2.0 ... 0.43
    # 4.6 x from first to last, within side_spread; but every other peak decays 2.8 x, which
    # no leg's steps do: a ringing, whatever the signal looks like.
    assert not seq._heights_alike(ringing)


def test_a_short_walk_ending_in_a_jolt_counts_its_steps_but_not_the_jolt() -> None:
    # Three steps to a chair, then dropping into it: a jolt in the walk's rhythm, far stronger
    # than a step (4.2 x, beyond uneven_spread: no run of four even for a wearer standing as
    # they walk; a peak 2-4 x a step may be a step down a kerb). The three steps count; the
    # jolt is no closing step.
    later = rhythm(17.0, 4, 100)
    t, acc = walk_then(later[:3])
    jolt = 8.0 * np.exp(-0.5 * ((t - later[-1]) / 0.072) ** 2)
    acc += jolt[:, None] * UP[None, :]
    found = detect(t, acc)
    assert found.size == 13
    assert np.max(np.abs(found[-3:] - later[:3])) < 0.1


def test_a_fading_end_after_a_walk_counts_only_standing_as_when_walking() -> None:
    # Three clear steps and a gentle fourth in their rhythm: a short walk's fading end, once the
    # wearer has walked, when they stand as then; not seated or lying (a bed's edge, 45 deg off
    # how they stood walking), where bumps in a walking rhythm are no walk on so little proof.
    later = rhythm(17.0, 4, 100)
    fading = np.array([2.0, 2.0, 2.0, 0.5])
    t, acc = walk_then(later, later_amp=fading)
    assert detect(t, acc).size == 14
    t, acc = walk_then(later, tilt_deg=45.0, later_amp=fading)
    assert detect(t, acc).size == 10


def test_three_steps_lying_bent_or_brisk_are_no_short_walk() -> None:
    later = rhythm(17.0, 3, 100)
    for tilt in (45.0, 90.0):  # bent over, lying: not how this wearer walks
        t, acc = walk_then(later, tilt_deg=tilt)
        assert detect(t, acc).size == 10
    brisk = rhythm(17.0, 3, 140)  # faster than a walk out of a standstill
    t, acc = walk_then(brisk)
    assert detect(t, acc).size == 10


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 5), spm=st.floats(75.0, 145.0), tilt=st.sampled_from([0.0, 40.0]),
       amp=st.sampled_from([0.6, 2.0]), chunk_s=st.sampled_from([0.05, 0.3, 1.0, 4.0, 30.0]))
def test_a_few_steps_after_a_walk_are_the_same_whatever_the_chunking(
        n: int, spm: float, tilt: float, amp: float, chunk_s: float) -> None:
    # Whether a few steps were a whole walk is decided when they are let go: at the next
    # candidate or when the stream has moved on, whichever the chunking brings first; what
    # the walk before taught (how the wearer stands, how strongly they walk) is learnt at a
    # candidate, never at a chunk's edge.
    t, acc = walk_then(rhythm(17.0, n, spm), tilt_deg=tilt, amp=amp)
    np.testing.assert_allclose(detect(t, acc, chunk_s=chunk_s), detect(t, acc), atol=1e-9)


def test_three_bumps_and_a_gentle_one_straight_up_and_down_are_no_walk() -> None:
    # The same rhythm without the hip's sway (a bounce, not a walk) needs a full run.
    steps = rhythm(3.0, 5, 100)
    amps = np.array([2.0, 2.2, 2.1, 0.5, 0.12])
    t, acc, _ = hip(steps, amps, steps[-1] + 4.0)
    assert detect(t, acc).size == 0


def test_trailing_takes_a_faint_closing_step_after_a_fading_one_or_when_it_comes_early() -> None:
    last_strong, last_gentle = cand(0.0, 2.0), cand(0.0, 0.6)   # typical peak 2.0, rhythm 30
    late, early = cand(35.0, 0.08), cand(25.0, 0.08)           # 0.04 x the typical peak
    # After a clear step, a faint bump later than the rhythm is the walk settling, not a step;
    # the closing step comes early (the trailing foot only draws level), so that one counts.
    assert contacts.trailing([late], last_strong, 30.0, 2.0, P) == []
    assert contacts.trailing([early], last_strong, 30.0, 2.0, P) == [early]
    assert contacts.trailing([late], last_gentle, 30.0, 2.0, P) == [late]
    assert contacts.trailing([early], last_strong, 30.0, 2.0, replace(P, trail_close=0.0)) == []


def test_daily_life_steps_are_the_same_whatever_the_chunking() -> None:
    first = rhythm(3.0, 16, 80)
    second = rhythm(first[-1] + 1.8, 10, 125)
    steps = np.concatenate((first, second))
    amps = np.concatenate((np.full(16, 1.6), np.full(10, 2.6)))
    amps[[0, 7, 8, 15]] = 0.6
    t, acc, gyro = hip(steps, amps, second[-1] + 4.0, yaw=(first[6], first[9], 60.0))
    reference = detect(t, acc, gyro, chunk_s=1.0)
    for chunk_s in (0.1, 2.7, 1e6):
        np.testing.assert_allclose(detect(t, acc, gyro, chunk_s=chunk_s), reference, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(
    gaps=st.lists(st.floats(0.4, 1.6), min_size=3, max_size=9),
    amps=st.lists(st.floats(0.3, 2.5), min_size=10, max_size=10),
    turn=st.booleans(),
    chunk_s=st.floats(0.05, 6.0),
)
def test_stepping_about_and_turns_give_the_same_steps_whatever_the_chunking(
        gaps: list[float], amps: list[float], turn: bool, chunk_s: float) -> None:
    # A walk, a pause, then steps at no rhythm (some clear, some gentle), maybe while turning:
    # the rules that hold peaks back (a turn before a bout, a rhythmless bout) must not depend
    # on where the stream was cut.
    walk = rhythm(3.0, 10, 100)
    later = walk[-1] + 5.0 + np.cumsum([0.0, *gaps])
    steps = np.concatenate((walk, later))
    strength = np.concatenate((np.full(walk.size, 2.0), np.resize(amps, later.size)))
    yaw = (later[0] - 0.3, later[min(3, later.size - 1)], 60.0) if turn else None
    t, acc, gyro = hip(steps, strength, later[-1] + 4.0, yaw=yaw, sway=0.9)
    reference = detect(t, acc, gyro, chunk_s=1.0)
    np.testing.assert_allclose(detect(t, acc, gyro, chunk_s=chunk_s), reference, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(4, 10),
    spm=st.floats(75.0, 125.0),
    strength=st.sampled_from([0.45, 1.0, 2.2]),
    fade=st.booleans(),
    slow_first=st.booleans(),
    sway=st.sampled_from([0.0, 0.6, 0.9]),
    gentle=st.sampled_from([1.0, 0.6]),
    gentle_at=st.integers(1, 8),
    chunk_s=st.floats(0.05, 4.0),
)
def test_short_walks_give_the_same_steps_whatever_the_chunking(
        n: int, spm: float, strength: float, fade: bool, slow_first: bool, sway: float,
        gentle: float, gentle_at: int, chunk_s: float) -> None:
    # Every rule for a short walk (faint runs judged by their sway, a fading end, a slower
    # first step, an early closing step, one far gentler step) looks at the signal history:
    # it must see the same history however the stream was cut.
    period = 60.0 / spm
    gaps = np.full(n - 1, period)
    if slow_first:
        gaps[0] *= 1.3
    if fade:
        gaps[-1] *= 0.7
    steps = 3.0 + np.concatenate([[0.0], np.cumsum(gaps)])
    amps = np.full(n, strength)
    amps[min(gentle_at, n - 1)] *= gentle
    if fade:
        amps[-2:] *= [0.3, 0.06]
    t, acc, _ = hip(steps, amps, steps[-1] + 5.0, sway=sway)
    np.testing.assert_allclose(detect(t, acc, chunk_s=chunk_s), detect(t, acc), atol=1e-9)


def test_detector_memory_is_bounded() -> None:
    d = StepDetector()
    t, acc, _ = hip(rhythm(1.0, 300, 100), np.full(300, 2.0), 185.0)
    s = Sampler()
    for i in range(0, t.size, 100):
        for r in s.push(t[i : i + 100], acc[i : i + 100]):
            d.update(r)
    assert d.history._values.size <= d.history.capacity
    assert len(d.sequence._pending) + len(d.sequence._weak) < 20


# -- stage 4: contacts ---------------------------------------------------------------------------
P = DetectorParams()


def cand(index: float, height: float) -> Candidate:
    return Candidate(index=index, height=height)


def test_lead_in_takes_a_gentle_step_in_reach_of_the_run() -> None:
    run_first = cand(100.0, 2.0)
    near = cand(70.0, 0.9)          # 0.6 s before, strong enough
    faint = cand(70.0, 0.3)         # below resume_height x the bout's peak
    far = cand(-10.0, 2.0)          # 2.2 s before: not the same walk's first step
    assert contacts.lead_in([near], run_first, 30.0, 2.0, 50.0, P) == [near]
    assert contacts.lead_in([faint], run_first, 30.0, 2.0, 50.0, P) == []
    assert contacts.lead_in([far], run_first, 30.0, 2.0, 50.0, P) == []


def test_lead_in_leaves_out_the_weight_shift_before_gait_initiation() -> None:
    # Rhythm 30 cells, typical peak 2.0. Before the first step the body shifts its weight onto
    # the stance leg: a gentle bump 0.7-0.85 x the rhythm before it, which is not a step.
    run_first = cand(100.0, 2.0)
    for at in (80.0, 75.5):            # 0.67 and 0.82 x the rhythm before, 0.25 x the peak
        shift = cand(at, 0.5)
        assert contacts.lead_in([shift], run_first, 30.0, 2.0, 50.0, P) == []
    step = cand(80.0, 0.9)             # as early, but a step's strength
    assert contacts.lead_in([step], run_first, 30.0, 2.0, 50.0, P) == [step]
    gentle = cand(70.0, 0.5)           # as gentle, but a whole rhythm before: the first step
    assert contacts.lead_in([gentle], run_first, 30.0, 2.0, 50.0, P) == [gentle]


def test_turn_lead_in_chains_the_turns_peaks_back_from_the_first_step() -> None:
    # Rhythm 30 cells, typical peak 2.0, turning steps 1.1 x as slow (33 cells). Back from the
    # first step: of the peaks in reach, the one whose interval keeps closest to 33 cells, then
    # on from it; a bump too close (under fill_spacing x the rhythm) or too faint is passed by,
    # and the chain ends at the first gap longer than rhythm_high x the rhythm.
    first = cand(200.0, 2.0)
    steps = [cand(134.0, 0.4), cand(167.0, 0.3)]
    bump = cand(185.0, 0.8)             # 15 cells before: inside the step, not one
    faint = cand(150.0, 0.05)           # under fill_height x the typical peak
    old = cand(60.0, 0.5)               # 74 cells before the chain's first: another turn
    held = sorted([*steps, bump, faint, old], key=lambda c: c.index)
    assert contacts.turn_lead_in(held, first, 30.0, 2.0, P) == steps
    assert contacts.turn_lead_in([], first, 30.0, 2.0, P) == []


def test_fill_gap_takes_as_many_steps_as_the_rhythm_leaves_room_for() -> None:
    before, after = cand(0.0, 2.0), cand(120.0, 2.0)   # 4 intervals of 30 cells: 3 missing
    weak = [cand(31.0, 0.5), cand(45.0, 0.6), cand(60.0, 0.4), cand(89.0, 0.3), cand(100.0, 0.1)]
    chosen = contacts.fill_gap(weak, before, after, 30.0, 2.0, P)
    # 45 (strongest) rules out 31 and 60 (too close); 89 fits; 100 is below fill_height.
    assert [c.index for c in chosen] == [45.0, 89.0]


def test_trailing_takes_one_gentle_last_step_in_rhythm() -> None:
    last = cand(0.0, 2.0)
    held = [cand(10.0, 0.5), cand(31.0, 0.3), cand(60.0, 0.3)]
    assert [c.index for c in contacts.trailing(held, last, 30.0, 2.0, P)] == [31.0]
    assert contacts.trailing([cand(45.0, 0.5)], last, 30.0, 2.0, P) == []  # 1.5 x the rhythm


def test_minutes_close_during_a_standstill_after_a_few_bumps() -> None:
    # Two step-like bumps, then ten still minutes: the bumps are no bout, and the minutes after
    # them must close as they pass (the device stores a row a minute), not wait for movement.
    t, acc, _ = hip(np.array([5.0, 5.6]), np.array([2.0, 2.0]), 600.0)
    pipe = StepPipeline()
    closed = []
    for i in range(0, t.size, 100):
        closed += pipe.feed(t[i : i + 100], acc[i : i + 100]).minutes
    assert len(closed) >= 8
    assert sum(m.steps for m in closed) == 0
