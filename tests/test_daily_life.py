"""Daily life spliced from real steps: the regression guard for the first-priority issue.

Three seeded 15-minute days from tests/bench/daylife_splice.py, built only from the real
recordings in tests/data/real (so the suite needs nothing outside the repository): bouts of 4-40
real steps with gentle first and last steps, pauses of 0.5-5 s, turns, slower and hesitating
steps, sitting down and still stretches between. The bounds are guards with a margin below what
the detector measures (README: accuracy tables); the benchmark reports the exact figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from device.replay import replay
from device.scoring import match_steps
from tests.bench import daylife_splice

SEEDS = (21, 22, 23)


@pytest.fixture(scope="module")
def days() -> list[daylife_splice.Day]:
    sources = daylife_splice.default_sources(None)  # tests/data/real only
    return [daylife_splice.make_day(seed, sources, 15.0, rate)
            for seed, rate in zip(SEEDS, (50.0, 100.0, 50.0), strict=True)]


@pytest.fixture(scope="module")
def results(days: list[daylife_splice.Day]) -> list[np.ndarray]:
    return [replay(day.trace).step_times_s for day in days]


def test_the_set_is_a_real_daily_life_sample(days: list[daylife_splice.Day]) -> None:
    assert sum(d.trace.duration_s for d in days) >= 30 * 60
    assert sum(d.steps.size for d in days) >= 2000
    lengths = np.concatenate([d.bout_len for d in days])
    assert lengths.min() >= 4 and lengths.max() <= 40
    assert np.mean(lengths <= 9) > 0.15  # short bouts are common


def test_daily_life_step_count(days: list[daylife_splice.Day], results: list[np.ndarray]) -> None:
    truth = sum(d.steps.size for d in days)
    found = sum(r.size for r in results)
    assert abs(found - truth) / truth < 0.05


def test_short_bouts_keep_their_steps(days: list[daylife_splice.Day],
                                      results: list[np.ndarray]) -> None:
    found = total = 0
    for day, det in zip(days, results, strict=True):
        m = match_steps(det, day.steps)
        matched = np.zeros(day.steps.size, dtype=bool)
        matched[m.matched_truth] = True
        short = day.bout_len <= 9
        found += int(matched[short].sum())
        total += int(short.sum())
    assert found / total > 0.85


def test_steps_are_where_the_steps_are(days: list[daylife_splice.Day],
                                       results: list[np.ndarray]) -> None:
    for day, det in zip(days, results, strict=True):
        assert match_steps(det, day.steps).f1 > 0.95
        for seg in day.segments:
            if seg.kind in ("sit", "still"):
                inside = (det > seg.t0 + 1.0) & (det < seg.t1 - 1.0)
                assert not inside.any(), f"steps while {seg.kind}: {det[inside]}"
