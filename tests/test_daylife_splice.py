"""The spliced daily-life generator (tests/bench/daylife_splice.py) keeps its promises.

The accuracy benchmark's daily-life table is only as honest as this test data: same seed, same
day; every true step inside a walking piece and carried to where its real step moved; bouts of
4-40 steps with pauses between; no jumps at the joints; rotations that never change |a|.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.bench import daylife_splice as ds


@pytest.fixture(scope="module")
def sources() -> list[ds.Source]:
    """The real walks every clone has (tests/data/real pockets), without the shared folder."""
    found = ds.default_sources(shared=None)
    assert {s.name for s in found} == {"samsung_dario_hard_frontpocket_2",
                                       "samsung_dario_hard_backpocket_1"}
    return found


@pytest.fixture(scope="module")
def day(sources: list[ds.Source]) -> ds.Day:
    return ds.make_day(7, sources, minutes=6.0, rate_hz=50.0)


def test_same_seed_same_day_other_seed_other_day(sources: list[ds.Source], day: ds.Day) -> None:
    again = ds.make_day(7, sources, minutes=6.0, rate_hz=50.0)
    np.testing.assert_array_equal(again.trace.t, day.trace.t)
    np.testing.assert_array_equal(again.trace.acc, day.trace.acc)
    np.testing.assert_array_equal(again.steps, day.steps)
    np.testing.assert_array_equal(again.bout_len, day.bout_len)
    other = ds.make_day(8, sources, minutes=6.0, rate_hz=50.0)
    assert other.steps.size != day.steps.size or not np.allclose(other.steps, day.steps)


def test_clock_and_values_are_a_valid_trace(day: ds.Day) -> None:
    t, acc = day.trace.t, day.trace.acc
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert np.isfinite(acc).all() and acc.shape == (t.size, 3)
    assert np.median(np.diff(t)) == pytest.approx(1 / 50.0)
    assert day.trace.duration_s >= 6 * 60
    assert np.all(np.abs(acc) < 80.0)  # m/s²: a phone in a pocket, not a crash


def test_bouts_are_4_to_40_steps_and_lengths_are_recorded(day: ds.Day) -> None:
    assert day.steps.size == day.bout_len.size == day.bout_id.size
    counts = np.bincount(day.bout_id)
    assert np.all((counts >= 4) & (counts <= 40))
    np.testing.assert_array_equal(day.bout_len, counts[day.bout_id])
    assert np.all(np.diff(day.steps) > 0)
    assert len(day.walking_segments) == counts.size
    # short bouts dominate, as in daily life, but every length group is there
    assert np.sum(counts <= 9) > np.sum(counts >= 20) > 0


def test_every_true_step_is_inside_its_walking_piece(day: ds.Day) -> None:
    walks = day.walking_segments
    for bout, seg in enumerate(walks):
        inside = day.steps[day.bout_id == bout]
        assert np.all((inside > seg.t0) & (inside < seg.t1)), seg
    others = [s for s in day.segments if s.kind != "walk"]
    for seg in others:
        assert not np.any((day.steps >= seg.t0) & (day.steps <= seg.t1)), seg


def test_pauses_sits_and_still_stretches_are_present(day: ds.Day) -> None:
    kinds = [s.kind for s in day.segments]
    pauses = [s.t1 - s.t0 for s in day.segments if s.kind == "pause"]
    assert len(pauses) >= len(day.walking_segments)
    assert min(pauses) >= 0.5 - 0.02 and max(pauses) <= 5.0
    assert "sit" in kinds or "still" in kinds
    # bouts never touch: a pause (or more) between any two walking pieces
    for a, b in zip(day.segments, day.segments[1:], strict=False):
        assert not (a.kind == "walk" and b.kind == "walk")


def test_no_jump_where_pieces_join(day: ds.Day) -> None:
    t, acc = day.trace.t, day.trace.acc
    for seg in day.segments[1:]:
        i = int(np.searchsorted(t, seg.t0))
        assert np.linalg.norm(acc[i] - acc[i - 1]) < 0.6, seg


def test_bench_days_are_big_enough(sources: list[ds.Source]) -> None:
    days = ds.bench_days(sources)
    assert sum(d.trace.duration_s for d in days) >= 30 * 60
    assert sum(d.steps.size for d in days) >= 2000
    lengths = np.concatenate([d.bout_len for d in days])
    for lo, hi in ds.BOUT_GROUPS:
        assert np.sum((lengths >= lo) & (lengths <= hi)) >= 200


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rotations_preserve_magnitude(seed: int) -> None:
    rng = np.random.default_rng(seed)
    acc = rng.normal(0, 5, (500, 3))
    axis = rng.normal(size=3)
    turned = ds.rotate_about(acc, axis, rng.uniform(-np.pi, np.pi, 500))
    np.testing.assert_allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(acc, axis=1))
    a, b = rng.normal(size=3), rng.normal(size=3)
    rot = ds.align(a, b)
    np.testing.assert_allclose(rot @ ds.unit(a), ds.unit(b), atol=1e-12)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(ds.align(a, -a) @ ds.unit(a), -ds.unit(a), atol=1e-12)


def test_turning_a_bout_about_gravity_keeps_gravity_and_magnitude() -> None:
    rng = np.random.default_rng(3)
    u = ds.unit(rng.normal(size=3))
    acc = 9.8 * u + rng.normal(0, 2, (300, 3))
    turned = ds.rotate_about(acc, u, np.linspace(0, np.pi, 300))
    np.testing.assert_allclose(turned @ u, acc @ u, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(turned, axis=1), np.linalg.norm(acc, axis=1))


def spiky_source(rng: np.random.Generator) -> ds.Source:
    """A 'real walk' whose steps are sharp 8 m/s² spikes at the true step times, so the truth
    can be checked against the signal after cutting, warping, rotating and resampling."""
    steps = 1.0 + np.cumsum(rng.uniform(0.45, 0.6, 120))
    t = np.arange(0.0, steps[-1] + 1.0, 1 / 200.0)
    spikes = np.exp(-0.5 * ((t[:, None] - steps[None, :]) / 0.012) ** 2).sum(axis=1)
    acc = np.column_stack([np.zeros_like(t), np.zeros_like(t), 9.8 + 8.0 * spikes])
    return ds.Source("spiky", t, acc, steps)


@pytest.mark.parametrize("seed", range(12))
def test_truth_moves_with_the_steps(seed: int) -> None:
    rng = np.random.default_rng(seed)
    src = spiky_source(rng)
    u = ds.unit(rng.normal(size=3))
    n = int(rng.integers(4, 41))
    piece = ds.real_bout(src, n, u, 100.0, rng)
    assert piece is not None and piece.steps.size == n
    np.testing.assert_allclose(piece.g_start, 9.8 * u, rtol=0.02)
    along = piece.acc @ u
    for s in piece.steps:
        near = np.flatnonzero(np.abs(piece.t - s) < 0.1)
        peak = piece.t[near[np.argmax(along[near])]]
        assert abs(peak - s) <= 0.011, (n, s, peak)


def test_held_out_sets_are_refused(tmp_path: Path) -> None:
    for name in ("ipol-lowback-uturn", "sisfall-waist-adl"):
        with pytest.raises(ValueError, match="held out"):
            ds.load_sources([tmp_path / name])


def test_bad_arguments_are_refused(sources: list[ds.Source]) -> None:
    with pytest.raises(ValueError, match="no real walks"):
        ds.make_day(0, [], minutes=1.0)
    with pytest.raises(ValueError, match="rate_hz"):
        ds.make_day(0, sources, minutes=1.0, rate_hz=5.0)


def test_bench_charges_detections_to_bouts_by_length() -> None:
    """The daily-life table's arithmetic: matched steps count for their bout, an extra step
    within 1 s of a true step for that step's bout, anything further away for no bout."""
    from device.scoring import match_steps
    from tests.bench import bench_accuracy as bench

    short = np.array([1.0, 1.5, 2.0, 2.5])  # a 4-step bout
    long = 10.0 + 0.5 * np.arange(12)  # a 12-step bout
    truth = np.concatenate([short, long])
    bout_id = np.array([0] * 4 + [1] * 12)
    ours = np.concatenate([short[:3] + 0.05, long - 0.05, [16.3, 30.0]])
    base = truth.copy()
    job = bench.Job("daylife", "daylife", "day", "day", "", info=(("sources", "2"),))
    result = bench.Result(job, truth, ours, base, 0.0, 60.0, 60.0, match_steps(ours, truth),
                          match_steps(base, truth), bout_id=bout_id)
    scores, away = bench.bout_scores([result], "ours")
    assert (scores["4-9"].truth, scores["4-9"].matched, scores["4-9"].detected) == (4, 3, 3)
    assert scores["4-9"].error == pytest.approx(-25.0) and scores["4-9"].recall == 75.0
    mid = scores["10-19"]
    assert (mid.truth, mid.matched, mid.detected) == (12, 12, 13)
    assert scores["20-40"].truth == 0 and away == 1
    perfect, none_away = bench.bout_scores([result], "base")
    assert all(s.detected == s.truth == s.matched for s in perfect.values()) and none_away == 0
    table = bench.daylife_table([result])
    assert "| bouts of 4-9 steps | 1 | 4 | -25.00 | 75.0 |" in table
