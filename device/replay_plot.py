"""`pedometer replay TRACE --plot out.png`: what the detector saw and what it made of it.

A developer debugging the detector wants to look, not read: the acceleration magnitude |a| (the
signal the detector's grid is built from), detected and true steps (missed and extra marked, as
`device.scoring` matches them within ±0.25 s), walking bouts (runs of detected steps), and every
minute's steps with its moderate flag. Only the replay's public result and the trace file are
used, never the detector's internals. matplotlib (the dev extra) draws it; the trace is streamed
again, so a day-long trace costs the memory of the plotted points, not of the day.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from device.replay import ReplayResult, trace_name
from device.scoring import match_steps
from device.trace import TraceReader

MAX_POINTS = 6000        # beyond this the signal is drawn as a min/max envelope per time bin
BOUT_GAP_S = 2.0         # detected steps closer than this belong to one bout
SUFFIXES = (".png", ".svg", ".pdf")


class PlotUnavailable(RuntimeError):
    """--plot cannot work here (matplotlib missing, or an output name it cannot write)."""


def check_plot_support(out: Path) -> None:
    """Fail early, in one line, before a long replay: matplotlib present, a known format."""
    if importlib.util.find_spec("matplotlib") is None:
        raise PlotUnavailable("--plot needs matplotlib, which is in the dev extra: "
                              "pip install -e '.[dev]'")
    if out.suffix.lower() not in SUFFIXES:
        raise PlotUnavailable(f"--plot {out}: name a .png, .svg or .pdf file")
    if not out.parent.is_dir():
        raise PlotUnavailable(f"--plot {out}: folder {out.parent} does not exist")


def bouts(step_times_s: np.ndarray, gap_s: float = BOUT_GAP_S) -> list[tuple[float, float]]:
    """(start, end) of each run of steps with no pause longer than gap_s."""
    t = np.asarray(step_times_s, dtype=np.float64)
    if t.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(t) > gap_s)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [t.size - 1]))
    return [(float(t[a]), float(t[b])) for a, b in zip(starts, ends, strict=True)]


def magnitude_envelope(
    path: str | Path, t0: float, start_s: float, end_s: float, max_points: int = MAX_POINTS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|a| between start_s and end_s (seconds from the first sample): (t, low, high).

    With more samples than max_points, each of max_points/2 time bins keeps its minimum and
    maximum, so peaks survive; else low == high == the samples.
    """
    nbins = max(1, max_points // 2)
    width = max(end_s - start_s, 1e-9) / nbins
    low = np.full(nbins, np.inf)
    high = np.full(nbins, -np.inf)
    kept_t: list[np.ndarray] = []
    kept_a: list[np.ndarray] = []
    kept = 0
    with TraceReader(path) as reader:
        for chunk in reader.chunks():
            t = chunk.t - t0
            if t[0] > end_s:
                break
            sel = (t >= start_s) & (t <= end_s)
            if not sel.any():
                continue
            ts = t[sel]
            mag = np.sqrt(np.einsum("ij,ij->i", chunk.acc[sel], chunk.acc[sel]))
            idx = np.minimum(((ts - start_s) / width).astype(np.int64), nbins - 1)
            np.minimum.at(low, idx, mag)
            np.maximum.at(high, idx, mag)
            if kept <= max_points:
                kept_t.append(ts)
                kept_a.append(mag)
                kept += ts.size
    if kept <= max_points:
        if not kept_t:
            return np.empty(0), np.empty(0), np.empty(0)
        t, a = np.concatenate(kept_t), np.concatenate(kept_a)
        return t, a, a
    filled = np.isfinite(low)
    centres = start_s + (np.arange(nbins) + 0.5) * width
    return centres[filled], low[filled], high[filled]


def plot_replay(
    trace_path: str | Path,
    result: ReplayResult,
    out: str | Path,
    truth_s: np.ndarray | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> Path:
    """Draw the replay of ``trace_path`` (times from its first sample) to ``out``."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    out = Path(out)
    lo = 0.0 if start_s is None else float(start_s)
    hi = result.duration_s if end_s is None else float(end_s)
    if hi <= lo:
        raise ValueError(f"--from {lo:g} s must come before --to {hi:g} s "
                         f"(the trace lasts {result.duration_s:.1f} s)")
    scale, unit = (1.0, "s") if hi - lo <= 900 else (60.0, "min") if hi - lo <= 6 * 3600 \
        else (3600.0, "h")
    t, low, high = magnitude_envelope(trace_path, result.t0, lo, hi)
    detected = result.step_times_s
    truth = None if truth_s is None else np.asarray(truth_s, dtype=np.float64) - result.t0

    fig = Figure(figsize=(12, 6.5), dpi=100, layout="constrained")
    ax, mx = fig.subplots(2, 1, sharex=True, height_ratios=[2.2, 1])
    for b0, b1 in bouts(detected):
        if b1 >= lo and b0 <= hi:
            ax.axvspan(b0 / scale, b1 / scale, color="#dbe9f6", lw=0, zorder=0)
    if t.size and np.array_equal(low, high):
        ax.plot(t / scale, low, color="#555555", lw=0.7, label="|a| (m/s²)")
    elif t.size:
        ax.fill_between(t / scale, low, high, color="#777777", lw=0, label="|a| min-max (m/s²)")
    top = float(np.max(high)) if t.size else 12.0
    bottom = float(np.min(low)) if t.size else 8.0
    span = max(top - bottom, 1.0)
    row_det, row_true = top + 0.12 * span, top + 0.28 * span

    def visible(x: np.ndarray) -> np.ndarray:
        return x[(x >= lo) & (x <= hi)] / scale

    title = f"{trace_name(Path(trace_path))}: {result.steps} steps detected"
    if truth is None:
        ax.plot(visible(detected), np.full(visible(detected).size, row_det), "|", ms=10,
                color="#1f77b4", label="detected step")
    else:
        m = match_steps(detected, truth)
        hit = detected[m.matched_detected]
        extra, missed = detected[m.extra], truth[m.missed]
        ax.plot(visible(hit), np.full(visible(hit).size, row_det), "|", ms=10,
                color="#2ca02c", label="detected, matched (±0.25 s)")
        ax.plot(visible(extra), np.full(visible(extra).size, row_det), "x", ms=8, mew=2,
                color="#d62728", label=f"extra ({extra.size})")
        ax.plot(visible(truth), np.full(visible(truth).size, row_true), "|", ms=10,
                color="#333333", label="true step")
        ax.plot(visible(missed), np.full(visible(missed).size, row_true), "o", ms=7, mfc="none",
                mew=2, color="#ff7f0e", label=f"missed ({missed.size})")
        title += (f", {m.n_truth} true: {m.matched} matched, {extra.size} extra, "
                  f"{missed.size} missed, F1 {m.f1:.3f}")
    ax.axvspan(np.nan, np.nan, color="#dbe9f6", label="walking bout (detected)")
    ax.set_ylim(bottom - 0.05 * span, top + 0.42 * span)
    ax.set_ylabel("|a|  (m/s²)")
    fig.suptitle(title, fontsize=11, x=0.01, ha="left")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), fontsize=8, ncols=6, frameon=False)

    mins = [m for m in result.minutes if m.start_s + 60 >= lo and m.start_s <= hi]
    starts = np.array([m.start_s for m in mins]) / scale
    cadence = np.array([m.cadence_spm for m in mins])
    colours = ["#2ca02c" if m.moderate else "#9ecae1" for m in mins]
    mx.bar(starts, cadence, width=60 / scale, align="edge", color=colours, edgecolor="white")
    mx.axhline(result.threshold_spm, color="#d62728", lw=1, ls="--")
    mx.text(hi / scale, result.threshold_spm, f"moderate: ≥ {result.threshold_spm:g} steps/min ",
            va="bottom", ha="right", fontsize=8, color="#d62728")
    if truth is not None and mins:
        counts = np.histogram(truth, bins=np.append(starts * scale, starts[-1] * scale + 60))[0]
        mx.plot(starts + 30 / scale, counts, "_", ms=14, mew=2, color="#333333",
                label="true steps in the minute")
        mx.legend(loc="lower left", fontsize=8, framealpha=0.9)
    mx.set_ylabel("steps / minute")
    mx.set_xlabel(f"time from the first sample ({unit}); green bars: moderate minutes")
    mx.set_xlim(lo / scale, hi / scale)
    fig.savefig(out)
    return out
