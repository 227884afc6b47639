"""Step-level scores: detected steps matched one-to-one to true steps within a tolerance.

A count error hides as much as it shows: 8 extra and 7 missed steps read as +1. Gait research
(mobgap's initial-contact evaluation, Mobilise-D) matches each detected step to at most one true
step within a tolerance and reports precision, recall and F1. This module does that for step
times in seconds, and scores the moderate-minute flag per minute against the truth's own minutes.

Pure numpy, no I/O: `pedometer replay --truth`, the plots and the accuracy benchmark share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DEFAULT_TOLERANCE_S = 0.25


@dataclass(frozen=True)
class StepMatch:
    """Detected steps paired with true steps.

    matched_detected / matched_truth: indices into the two inputs, pairwise (same length).
    extra: indices of detected steps with no true step within the tolerance (false positives).
    missed: indices of true steps no detected step was paired with (false negatives).
    """

    n_detected: int
    n_truth: int
    matched_detected: np.ndarray = field(repr=False)
    matched_truth: np.ndarray = field(repr=False)
    extra: np.ndarray = field(repr=False)
    missed: np.ndarray = field(repr=False)

    @property
    def matched(self) -> int:
        return int(self.matched_detected.size)

    @property
    def precision(self) -> float:
        """Share of detected steps that are real (1.0 when nothing was detected)."""
        return self.matched / self.n_detected if self.n_detected else 1.0

    @property
    def recall(self) -> float:
        """Share of true steps found (1.0 when there were none)."""
        return self.matched / self.n_truth if self.n_truth else 1.0

    @property
    def f1(self) -> float:
        if self.n_detected + self.n_truth == 0:
            return 1.0
        return 2.0 * self.matched / (self.n_detected + self.n_truth)

    @property
    def count_error_pct(self) -> float:
        """(detected - true) / true in %, NaN when there are no true steps."""
        if not self.n_truth:
            return float("nan")
        return 100.0 * (self.n_detected - self.n_truth) / self.n_truth


def match_steps(
    detected_s: np.ndarray, truth_s: np.ndarray, tolerance_s: float = DEFAULT_TOLERANCE_S
) -> StepMatch:
    """Pair detected with true step times (s), one-to-one, closest pairs first.

    Every (detected, true) pair within ``tolerance_s`` is a candidate; candidates are taken in
    order of distance and each step is used at most once, so a double detection of one step
    leaves one of the two as an extra, and one detection between two true steps finds one.
    """
    det = np.asarray(detected_s, dtype=np.float64).ravel()
    tru = np.asarray(truth_s, dtype=np.float64).ravel()
    det_order = np.argsort(det, kind="stable")
    tru_order = np.argsort(tru, kind="stable")
    ds, ts = det[det_order], tru[tru_order]
    # Candidate pairs: for each detected step, the true steps within the tolerance.
    lo = np.searchsorted(ts, ds - tolerance_s, side="left")
    hi = np.searchsorted(ts, ds + tolerance_s, side="right")
    counts = hi - lo
    di = np.repeat(np.arange(ds.size), counts)
    ti = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
          + np.repeat(lo, counts))
    dist = np.abs(ds[di] - ts[ti])
    used_d = np.zeros(ds.size, dtype=bool)
    used_t = np.zeros(ts.size, dtype=bool)
    pairs_d: list[int] = []
    pairs_t: list[int] = []
    for k in np.argsort(dist, kind="stable").tolist():
        a, b = int(di[k]), int(ti[k])
        if not used_d[a] and not used_t[b]:
            used_d[a] = used_t[b] = True
            pairs_d.append(a)
            pairs_t.append(b)
    md = det_order[np.asarray(pairs_d, dtype=np.int64)]
    mt = tru_order[np.asarray(pairs_t, dtype=np.int64)]
    order = np.argsort(det[md], kind="stable")
    return StepMatch(
        n_detected=int(det.size),
        n_truth=int(tru.size),
        matched_detected=md[order],
        matched_truth=mt[order],
        extra=np.sort(det_order[~used_d]),
        missed=np.sort(tru_order[~used_t]),
    )


@dataclass(frozen=True)
class MinuteAgreement:
    """Per-minute agreement of the moderate flag with the truth's (same minute boundaries)."""

    minutes: int
    agree: int
    true_moderate: int
    detected_moderate: int

    @property
    def share(self) -> float:
        return self.agree / self.minutes if self.minutes else 1.0


def minute_agreement(
    detected_s: np.ndarray,
    truth_s: np.ndarray,
    duration_s: float,
    threshold_spm: float,
    minute_start_s: float = 0.0,
) -> MinuteAgreement:
    """Compare "steps in the minute >= threshold" for detected and true steps, minute by minute.

    Minutes start at ``minute_start_s`` (0 = the trace's first sample, as `pedometer replay`
    reports them) and cover the whole duration; a trailing partial minute counts like the others.
    """
    n = max(1, int(np.ceil((duration_s - minute_start_s) / 60.0)))
    edges = minute_start_s + 60.0 * np.arange(n + 1)
    det = np.histogram(np.asarray(detected_s, dtype=np.float64), bins=edges)[0] >= threshold_spm
    tru = np.histogram(np.asarray(truth_s, dtype=np.float64), bins=edges)[0] >= threshold_spm
    return MinuteAgreement(
        minutes=n,
        agree=int(np.sum(det == tru)),
        true_moderate=int(tru.sum()),
        detected_moderate=int(det.sum()),
    )
