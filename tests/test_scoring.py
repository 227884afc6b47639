"""Step-level scores: one-to-one matching within a tolerance, and moderate-minute agreement."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from device.scoring import match_steps, minute_agreement


def test_exact_match_scores_one() -> None:
    t = np.arange(0.0, 10.0, 0.5)
    m = match_steps(t, t + 0.05)
    assert (m.matched, m.precision, m.recall, m.f1) == (20, 1.0, 1.0, 1.0)
    assert m.extra.size == 0 and m.missed.size == 0


def test_count_error_hides_what_matching_shows() -> None:
    truth = np.arange(0.0, 20.0, 0.5)                 # 40 steps
    detected = np.concatenate((truth[:-8], np.arange(30.0, 34.5, 0.5)))  # 8 missed, 9 extra
    m = match_steps(detected, truth)
    assert m.count_error_pct == 100.0 * (41 - 40) / 40
    assert (m.matched, m.extra.size, m.missed.size) == (32, 9, 8)
    assert m.recall == 32 / 40


def test_double_detection_leaves_one_extra() -> None:
    m = match_steps(np.array([1.0, 1.1]), np.array([1.05]))
    assert (m.matched, m.extra.size, m.missed.size) == (1, 1, 0)


def test_closest_pair_wins() -> None:
    # 1.2 is closer to 1.3 than 1.0 is; 1.0 then pairs with nothing within 0.25 s but 1.0 itself.
    m = match_steps(np.array([1.0, 1.2]), np.array([1.0, 1.3]))
    assert m.matched == 2
    assert m.matched_truth.tolist() == [0, 1]


def test_empty_inputs() -> None:
    m = match_steps(np.empty(0), np.empty(0))
    assert (m.f1, m.precision, m.recall) == (1.0, 1.0, 1.0)
    assert np.isnan(m.count_error_pct)
    assert match_steps(np.array([1.0]), np.empty(0)).precision == 0.0


@given(st.lists(st.floats(0, 100, allow_nan=False), max_size=40),
       st.lists(st.floats(0, 100, allow_nan=False), max_size=40))
def test_matching_is_one_to_one_and_within_tolerance(det: list[float], tru: list[float]) -> None:
    d, t = np.array(det), np.array(tru)
    m = match_steps(d, t)
    assert len(set(m.matched_detected.tolist())) == m.matched
    assert len(set(m.matched_truth.tolist())) == m.matched
    assert np.all(np.abs(d[m.matched_detected] - t[m.matched_truth]) <= 0.25 + 1e-12)
    assert m.matched + m.extra.size == d.size and m.matched + m.missed.size == t.size


def test_minute_agreement() -> None:
    truth = np.arange(0.0, 120.0, 0.5)               # 120 steps in each of two minutes
    detected = truth[truth < 60.0]                   # the second minute missed
    a = minute_agreement(detected, truth, duration_s=120.0, threshold_spm=100)
    assert (a.minutes, a.agree, a.true_moderate, a.detected_moderate) == (2, 1, 2, 1)
    assert a.share == 0.5
