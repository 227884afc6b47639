"""Accuracy benchmark: our detector against ground truth beside a textbook baseline, by table.

    .venv/bin/python tests/bench/bench_accuracy.py
        [--only oxford,rates,ipol,ipolshort,sisfall,tests,daylife] [--shared DIR] [--workers N]
        [--detail]

Every trace is replayed through the device pipeline (`device.replay.replay`, one-second batches,
exactly like the device). The baseline is what a textbook would do: |a| on a 50 Hz grid,
band-passed 0.5-3.5 Hz (4th-order Butterworth, zero-phase) and `scipy.signal.find_peaks` with a
fixed height (1 m/s²) and a 0.3 s minimum distance; its peaks are its step times. Both are scored
the same way (`device.scoring.match_steps`: one-to-one matching within 0.25 s of a true step).

Words used in the tables:
  error %    (counted - true) / true for one trace; MAE = mean |error| over a group's traces,
             bias = mean signed error; "total bias" = (all counted - all true) / all true.
  F1         2 x matched / (detected + true), pooled over the group's traces; recall = matched /
             true, the share of true steps found.

Tables (the shared ones read ../shared/traces, never copied into the repository):
  oxford   oxford-step-counter: phones in pockets, hand, bag, armband; steady walks. Per placement.
  rates    the same recordings resampled to 15/25/50/100 Hz (linear interpolation, sample jitter)
           and turned to a random fixed angle (seeded per rate and trace). No anti-alias filter:
           at 15 Hz a heel strike's sharp peak folds into the stepping band, as it does in a
           sensor sampled that slowly without one.
  ipol     ipol-lowback-uturn: lower back, stand, walk 10 m, turn 180°, walk back, stop (one walk
           per trial). Per-trial MAE, total bias, F1; "turn steps found" = true steps inside
           turn_start_s..turn_end_s (INDEX.csv) that were matched; "first/last steps found" = the
           first two and last two true steps of each walk that were matched. In 10 trials the
           truth goes on after the lower-back sensor came to rest (tests/bench/truth_check.py):
           the table scores every trial, then repeats MAE, turn and first/last over the others,
           and over all trials with the gyro left out (many devices and recordings have none).
           Two rows score every candidate of the peak stage instead of our steps: the most any
           rule choosing among those candidates could find in the turn and at the ends.
  ipolshort  short real walks made from the IPOL trials (tests/bench/ipol_short.py): the first
           2-4 and the last 2-4 true steps of a trial joined mid-walk, so each 4-8-step walk has
           a real gait initiation and a real termination. Per walk length: error % pooled,
           recall, walks missed entirely, first and last step found; and error and walks missed
           when the walk comes after its whole trial (ipol_short.after_walk: the detector has
           seen the wearer walk, as a device worn all day has). Trials whose truth goes on
           after the sensor came to rest are left out (their last steps are not in the signal).
           More rows replay every walk and its trial as another walker would make them
           (ipol_short.VARIANTS): a gentler one (the trunk's acceleration x 0.5, 0.35 and 0.25,
           as when walking guarded with a painful back), a slower one (the same walk 1.3 and
           1.6 x as slow: accelerations / 1.7 and / 2.6, the turn slower), one seen from the side
           of the hip (every other step's acceleration x 0.5 and 0.4), and, for the short
           walks only, a limp (one leg's steps 1.4 and 1.7 x as long as the other's, strides
           as before) and a 15 Hz recorder (ipol_short.LOW_RATES: every axis point-sampled
           with no anti-alias filter); the ipol table ends with the first two kinds.
  sisfall  sisfall-waist-adl: belt, sit/stand, lying, bending, car; no true steps, so every
           detected step is false. False steps per hour of sampled time (the 5-s gaps joining
           trials hold no samples and are not counted as time). "After a walk": the same trial
           after 20 synthetic steps at 100 steps/min standing as that subject stands
           (after_a_walk), as a worn device meets it.
  tests    tests/data: synthetic scenarios (device/synthetic.py) by kind, and the real copies.
  daylife  days spliced from real steps (tests/bench/daylife_splice.py: bouts of 4-40 steps,
           0.5-5 s pauses, turns, slower and uneven steps, sitting, still stretches; 4 seeded
           days, 60 min). Per bout length: error % = (steps counted in or near those bouts -
           true) / true, where a detected step belongs to the bout of the true step it matched,
           or else of the nearest true step within 1 s; recall and F1 per group likewise.
           "all" shows the mean |per-day error|; the last row counts detected steps more than
           1 s from every true step (during sitting, still stretches and long pauses).

A shared table whose folder is missing is named in one "skipped" line; daylife then splices
tests/data/real only and says so. The last line checks issue 9's done-when targets on the tables
that ran (IPOL MAE <= 2 %, turn and first/last steps >= 95 %; SisFall <= 10 false steps/h, 0 for
chairs D07-D11, lying D12-D14, bending D15-D16; Oxford MAE <= 1.3 %, pockets <= 0.9 %, 25 Hz
random angle <= 1.5 %; daily life per-day MAE <= 3 %, 4-9-step bouts |error| <= 5 %).
"""

from __future__ import annotations

import argparse
import csv
import functools
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.signal import butter, filtfilt, find_peaks

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from device.core.detector import StepDetector  # noqa: E402
from device.core.sampler import Sampler  # noqa: E402
from device.replay import replay  # noqa: E402
from device.scoring import StepMatch, match_steps, minute_agreement  # noqa: E402
from device.synthetic import Timeline, random_rotation  # noqa: E402
from device.trace import Trace, TraceError, read_trace, read_truth  # noqa: E402
from tests.bench import daylife_splice, ipol_short, truth_check  # noqa: E402

DEFAULT_SHARED = REPO.parent / "shared" / "traces"
TOLERANCE_S = 0.25
RATES_HZ = (15.0, 25.0, 50.0, 100.0)  # 15: some public pedometer datasets (Clemson's)
SHARED_FOLDERS = {
    "oxford": "oxford-step-counter",
    "rates": "oxford-step-counter",
    "ipol": "ipol-lowback-uturn",
    "ipolshort": "ipol-lowback-uturn",
    "sisfall": "sisfall-waist-adl",
}
TABLES = ("oxford", "rates", "ipol", "ipolshort", "sisfall", "tests", "daylife")
NEAR_BOUT_S = 1.0  # an unmatched detection this close to a true step is charged to its bout
POCKETS = ("frontpocket", "backpocket")
SISFALL_KINDS = {"chairs": ("D07", "D08", "D09", "D10", "D11"), "lying": ("D12", "D13", "D14"),
                 "bending": ("D15", "D16")}


# ---------------------------------------------------------------------------------------------
# The two detectors
# ---------------------------------------------------------------------------------------------


def baseline_step_times(t: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """Band-passed magnitude + find_peaks, the textbook pedometer: step times in seconds from
    the trace's first sample (the clock `replay` reports on)."""
    fs = 50.0
    grid = np.arange(t[0], t[-1], 1 / fs)
    if grid.size < 28:  # filtfilt pads 27 samples (3 x the 9 coefficients) on each side
        return np.empty(0)
    mag = np.interp(grid, t, np.linalg.norm(acc, axis=1))
    b, a = butter(4, [0.5, 3.5], btype="band", fs=fs)
    y = filtfilt(b, a, mag - mag.mean())
    peaks, _ = find_peaks(y, height=1.0, distance=int(0.3 * fs))
    return grid[peaks] - t[0]


def baseline_steps(t: np.ndarray, acc: np.ndarray) -> int:
    """The baseline's step count."""
    return int(baseline_step_times(t, acc).size)


# ---------------------------------------------------------------------------------------------
# Jobs: one trace each, run in worker processes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One trace to score. kind: 'file' (a trace on disk), 'resampled' (a file at another rate
    and angle, seeded by `seed`), 'ipolshort' (a short walk cut from an IPOL trial, seed = (k, m):
    see ipol_short.py) or 'daylife' (a spliced day: seed, minutes, rate; path = the shared folder
    its real walks come from, "" for tests/data/real only). info: extra columns the tables
    need. variant: an IPOL trial replayed as another walker would make it (ipol_short.variant).
    """

    kind: str
    table: str
    group: str
    name: str
    path: str
    rate_hz: float = 0.0
    seed: tuple[int, ...] = ()
    info: tuple[tuple[str, str], ...] = ()
    variant: str = ""  # ipol, ipolshort: one of ipol_short.VARIANTS, "" as recorded


@dataclass
class Result:
    """Step times in seconds from the trace's first sample, and both detectors' matches."""

    job: Job
    truth: np.ndarray
    ours: np.ndarray
    base: np.ndarray
    t0: float
    sampled_s: float
    duration_s: float
    m_ours: StepMatch = field(repr=False)
    m_base: StepMatch = field(repr=False)
    bout_id: np.ndarray | None = field(default=None, repr=False)  # daylife: per true step
    at_rest: np.ndarray | None = field(default=None, repr=False)  # ipol: per true step, the
    # sensor was at rest around it (truth_check.py)
    after: StepMatch | None = field(default=None, repr=False)  # ours, met after a walk:
    # ipolshort, the walk made after its whole trial; sisfall, the trial after_a_walk
    n_after: int = 0                                            # ... steps it counted
    nogyro: StepMatch | None = field(default=None, repr=False)  # ipol: ours, gyro left out
    reach: StepMatch | None = field(default=None, repr=False)  # ipol: every candidate of
    # the peak stage, chosen or not (candidate_times)

    @property
    def info(self) -> dict[str, str]:
        return dict(self.job.info)

    def match(self, who: str) -> StepMatch:
        """who: 'ours', 'base', 'nogyro' (ours on the same trace without its gyroscope),
        'after' (ours, met after a walk) or 'reach' (every candidate of our peak stage)."""
        if who in ("nogyro", "after", "reach"):
            found = {"nogyro": self.nogyro, "after": self.after, "reach": self.reach}[who]
            assert found is not None
            return found
        return self.m_ours if who == "ours" else self.m_base


def resampled(trace: Trace, rate: float, rng: np.random.Generator) -> Trace:
    """The recording as a slower (or faster) jittery sensor at a random angle would give it."""
    t = trace.t - trace.t[0]
    grid = np.arange(0.0, t[-1], 1.0 / rate)
    grid = np.sort(np.clip(grid + rng.uniform(0, 0.3 / rate, grid.size), 0, t[-1]))
    acc = np.column_stack([np.interp(grid, t, trace.acc[:, i]) for i in range(3)])
    return Trace(t=grid, acc=acc @ random_rotation(rng).T)


def load(job: Job) -> tuple[Trace, np.ndarray, Trace]:
    """The trace a job scores, its truth on the trace's clock (s from the first sample), and
    the recording it was made from (the same trace for a file job)."""
    stem = Path(job.path)
    trace = source = read_trace(stem.with_name(stem.name + ".csv.gz"))
    truth = read_truth(stem.with_name(stem.name + ".steps.csv")) - trace.t[0]
    if job.table == "ipol" and job.variant:  # the trial as another walker would make it
        trace, truth = ipol_short.variant(trace, truth + trace.t[0], job.variant)
        truth = truth - trace.t[0]
    if job.kind == "resampled":
        trace = resampled(trace, job.rate_hz, np.random.default_rng(list(job.seed)))
        truth = truth[truth <= trace.t[-1]]
    if job.kind == "ipolshort":
        k, m = job.seed
        source = Trace(t=trace.t - trace.t[0], acc=trace.acc, gyro=trace.gyro)
        if job.variant:  # the same wearer's whole trial and short walk, as another walker's
            source, truth = ipol_short.variant(source, truth, job.variant, seed=10 * k + m)
        trace, truth = ipol_short.short_walk(source, truth, k, m)
    return trace, truth, source


AFTER_WALK_STEPS = 20  # sisfall: the walk a worn device has seen before the activity, at
AFTER_WALK_SPM = 100.0  # a moderate pace (device/synthetic.py's walker: its steps peak at
                        # about 1 m/s² in the step signal, a brisk adult's at 2-2.5)


@functools.cache  # a subject's 11 activities read their D07 trial once
def standing_up(d07: Path) -> np.ndarray:
    """Where gravity points (device frame) while a SisFall subject stands: the first second of
    their D07 trial (the file ``d07``), which starts standing (some activities start seated or
    lying)."""
    trace = read_trace(d07)
    first = trace.acc[trace.t < trace.t[0] + 1.0].mean(axis=0)
    return first / np.linalg.norm(first)


def after_a_walk(trial: Trace, up: np.ndarray, seed: int) -> tuple[Trace, float]:
    """The trial as a worn device meets it: its wearer walked first (AFTER_WALK_STEPS steps of
    device/synthetic.py's walking model at AFTER_WALK_SPM, standing gravity along ``up``, as
    this clip sits on this subject), then 20 s without samples, then the trial. The detector
    keeps what it learnt from the walk (how the wearer stands to walk, how strongly they step),
    which the rules for a short walk or a few steps at no rhythm rely on. Returns the joined
    trace and the shift added to the trial's clock."""
    rng = np.random.default_rng(seed)
    walk = Timeline(seed, clip=daylife_splice.clip_for(up, rng))
    walk.stand(0.3).walk(AFTER_WALK_STEPS, AFTER_WALK_SPM).stand(0.3)
    rendered = walk.render(100.0)
    rebased = Trace(t=trial.t - trial.t[0], acc=trial.acc, gyro=trial.gyro)
    return ipol_short.after_walk(Trace(t=rendered.t - rendered.t[0], acc=rendered.acc), rebased)


def candidate_times(trace: Trace) -> np.ndarray:
    """Every candidate step our peak stage offers on a trace (s from its first sample), chosen
    or not: the steps that any rule choosing among candidates could find at most. A step with
    no candidate within the tolerance is one the step signal never showed, whatever the rules."""
    detector = StepDetector()
    sampler = Sampler(detector.rate_hz)
    found = []
    for run in sampler.push(trace.t - trace.t[0], trace.acc, trace.gyro) + sampler.flush():
        found += detector.update(run).candidates_
    found += detector.finish().candidates_
    return np.array([(c.index + 0.5) / detector.rate_hz for c in found], dtype=float)


def score(job: Job, trace: Trace, truth: np.ndarray) -> Result:
    """Run both detectors on a trace and match each to the truth."""
    ours = np.asarray(replay(trace).step_times_s, dtype=float)
    base = baseline_step_times(trace.t, trace.acc)
    dt = np.diff(trace.t)
    return Result(job, truth, ours, base, float(trace.t[0]), float(dt[dt <= 1.0].sum()),
                  float(trace.t[-1] - trace.t[0]),
                  match_steps(ours, truth, TOLERANCE_S), match_steps(base, truth, TOLERANCE_S))


_DAYLIFE_SOURCES: dict[str, list[daylife_splice.Source]] = {}


def daylife_sources(shared: str) -> list[daylife_splice.Source]:
    """The real walks a day is spliced from (loaded once per process)."""
    if shared not in _DAYLIFE_SOURCES:
        _DAYLIFE_SOURCES[shared] = daylife_splice.default_sources(Path(shared) if shared else None)
    return _DAYLIFE_SOURCES[shared]


def run_job(job: Job) -> Result:
    if job.kind == "daylife":
        seed, minutes, rate = job.seed[0], job.seed[1], job.rate_hz
        day = daylife_splice.make_day(seed, daylife_sources(job.path), minutes, rate)
        result = score(job, day.trace, day.steps)
        result.bout_id = day.bout_id
        return result
    trace, truth, trial = load(job)
    result = score(job, trace, truth)
    if job.table == "ipol" and not job.variant:
        result.at_rest = truth_check.steps_at_rest(trace, truth + trace.t[0])
        result.reach = match_steps(candidate_times(trace), truth, TOLERANCE_S)
        if trace.gyro is not None:
            alone = replay(Trace(t=trace.t, acc=trace.acc)).step_times_s
            result.nogyro = match_steps(np.asarray(alone, dtype=float), truth, TOLERANCE_S)
    if job.kind == "ipolshort":
        joined, shift = ipol_short.after_walk(trial, trace)
        steps = np.asarray(replay(joined).step_times_s, dtype=float)
        steps = steps[steps > trial.t[-1] + 10.0] - shift
        result.after, result.n_after = match_steps(steps, truth, TOLERANCE_S), steps.size
    if job.table == "sisfall":
        trial_path = Path(job.path)
        subject = trial_path.name.rsplit("_", 1)[0]
        up = standing_up(trial_path.with_name(f"{subject}_d07.csv.gz"))
        joined, shift = after_a_walk(trace, up, seed=sum(map(ord, job.name)))
        steps = np.asarray(replay(joined).step_times_s, dtype=float)
        steps = steps[steps > shift - 10.0] - shift  # the trial's own (the walk ends before)
        result.after, result.n_after = match_steps(steps, truth, TOLERANCE_S), steps.size
    return result


def run_all(jobs: Sequence[Job], workers: int) -> list[Result]:
    """Results in job order; `workers` processes (1 = in this process)."""
    if workers <= 1 or len(jobs) <= 1:
        return [run_job(j) for j in jobs]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        return pool.map(run_job, jobs, chunksize=max(1, len(jobs) // (8 * workers)))


def index_rows(index: Path) -> list[dict[str, str]]:
    with index.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def shared_jobs(table: str, folder: Path) -> list[Job]:
    rows = index_rows(folder / "INDEX.csv")
    if table == "oxford":
        return [Job("file", table, r["placement"], r["trace"], str(folder / r["trace"]))
                for r in rows]
    if table == "rates":
        return [Job("resampled", table, f"{rate:g} Hz", r["trace"], str(folder / r["trace"]),
                    rate_hz=rate, seed=(int(rate), i))
                for rate in RATES_HZ for i, r in enumerate(rows)]
    if table == "ipol":
        return [Job("file", table, variant or "lower back", r["trace"], str(folder / r["trace"]),
                    info=(("turn_start_s", r["turn_start_s"]), ("turn_end_s", r["turn_end_s"])),
                    variant=variant)
                for variant in ("", *ipol_short.VARIANTS) for r in rows]
    if table == "ipolshort":
        jobs = []
        for r in rows:
            stem = folder / r["trace"]
            truth = read_truth(stem.with_name(stem.name + ".steps.csv"))
            trace = read_trace(stem.with_name(stem.name + ".csv.gz"))
            if truth_check.steps_at_rest(trace, truth).any():
                continue  # its truth at the end is not what the sensor saw (truth_check.py)
            t0 = trace.t[0]
            turn = (float(r["turn_start_s"]), float(r["turn_end_s"]))
            jobs += [Job("ipolshort", table, variant or f"{k + m} steps",
                         f"{r['trace']} {k}+{m} {variant}", str(stem), seed=(k, m),
                         variant=variant)
                     for variant in ("", *ipol_short.VARIANTS, *ipol_short.LIMPS,
                                     *ipol_short.LOW_RATES)
                     for k, m in ipol_short.plans(truth - t0, turn)]
        return jobs
    if table == "sisfall":
        return [Job("file", table, r["activity_code"], r["trace"], str(folder / r["trace"]),
                    info=(("activity", r["activity"]),)) for r in rows]
    raise ValueError(table)


def daylife_jobs(shared: Path) -> list[Job]:
    folder = str(shared) if (shared / daylife_splice.OXFORD_FOLDER / "INDEX.csv").is_file() else ""
    n = len(daylife_sources(folder))
    return [Job("daylife", "daylife", f"day {seed}", f"daylife seed {seed} ({minutes:g} min)",
                folder, rate_hz=rate, seed=(seed, int(minutes)), info=(("sources", str(n)),))
            for seed, minutes, rate in daylife_splice.BENCH_DAYS]


def test_data_jobs() -> list[Job]:
    jobs = []
    for index in (REPO / "tests/data/scenarios/INDEX.csv", REPO / "tests/data/real/INDEX.csv"):
        if index.exists():
            for r in index_rows(index):
                kind = r.get("scenario_kind") or "real copy"
                jobs.append(Job("file", "tests", kind, r["trace"], str(index.parent / r["trace"])))
    return jobs


# ---------------------------------------------------------------------------------------------
# Scores over groups of results
# ---------------------------------------------------------------------------------------------


def count_error(detected: int, truth: int) -> float:
    return 100.0 * (detected - truth) / truth if truth else float("nan")


def errors(results: Iterable[Result], who: str) -> np.ndarray:
    return np.array([count_error(r.match(who).n_detected, r.truth.size)
                     for r in results if r.truth.size])


def mae(results: Sequence[Result], who: str) -> float:
    e = errors(results, who)
    return float(np.mean(np.abs(e))) if e.size else float("nan")


def bias(results: Sequence[Result], who: str) -> float:
    e = errors(results, who)
    return float(np.mean(e)) if e.size else float("nan")


def total_bias(results: Sequence[Result], who: str) -> float:
    return count_error(sum(r.match(who).n_detected for r in results),
                       sum(r.truth.size for r in results))


def f1(results: Sequence[Result], who: str) -> float:
    matched = sum(r.match(who).matched for r in results)
    total = sum(r.match(who).n_detected + r.truth.size for r in results)
    return 2.0 * matched / total if total else 1.0


def found_share(results: Sequence[Result], who: str,
                pick: Callable[[Result], np.ndarray]) -> tuple[float, int]:
    """Share (%) of the true steps chosen by `pick` (indices into r.truth) that were matched."""
    found = total = 0
    for r in results:
        chosen = pick(r)
        found += int(np.isin(chosen, r.match(who).matched_truth).sum())
        total += chosen.size
    return (100.0 * found / total if total else float("nan")), total


def seen_share(results: Sequence[Result], pick: Callable[[Result], np.ndarray]) -> float:
    """Share (%) of the true steps chosen by `pick` that the sensor did not sleep through
    (truth_check): the most a detector reading that sensor could find of them, whatever it
    does. NaN when a result has no at-rest check."""
    seen = total = 0
    for r in results:
        if r.at_rest is None:
            return float("nan")
        chosen = pick(r)
        seen += int((~r.at_rest[chosen]).sum())
        total += chosen.size
    return 100.0 * seen / total if total else float("nan")


def turn_steps(r: Result) -> np.ndarray:
    scale = ipol_short.time_scale(r.job.variant)  # a slower walker's turn takes longer
    a = (float(r.info["turn_start_s"]) - r.t0) * scale
    b = (float(r.info["turn_end_s"]) - r.t0) * scale
    return np.flatnonzero((r.truth >= a) & (r.truth <= b))


def first_last_steps(r: Result) -> np.ndarray:
    order = np.argsort(r.truth, kind="stable")
    return np.unique(np.concatenate([order[:2], order[-2:]]))


def false_per_hour(results: Sequence[Result], who: str) -> tuple[int, float, float]:
    """(false steps, sampled hours, false steps per hour) for traces with no true steps."""
    n = sum(len(r.match(who).extra) for r in results)
    hours = sum(r.sampled_s for r in results) / 3600.0
    return n, hours, (n / hours if hours else float("nan"))


# ---------------------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------------------


def by_group(results: Iterable[Result]) -> dict[str, list[Result]]:
    groups: dict[str, list[Result]] = {}
    for r in results:
        groups.setdefault(r.job.group, []).append(r)
    return dict(sorted(groups.items()))


def count_row(label: str, group: Sequence[Result]) -> str:
    walking = [r for r in group if r.truth.size]
    if not walking:
        return (f"| {label} | {len(group)} | 0 | {sum(r.ours.size for r in group)} steps "
                f"counted | | | {sum(r.base.size for r in group)} steps counted | |")
    return (f"| {label} | {len(group)} | {sum(r.truth.size for r in walking):,} | "
            f"{mae(walking, 'ours'):.2f} | {bias(walking, 'ours'):+.2f} | "
            f"{f1(walking, 'ours'):.3f} | {mae(walking, 'base'):.2f} | "
            f"{f1(walking, 'base'):.3f} |")


COUNT_HEADER = ["| {first} | traces | true steps | ours: MAE % | ours: bias % | ours: F1 | "
                "baseline: MAE % | baseline: F1 |", "|---|---|---|---|---|---|---|---|"]


def count_table(first: str, groups: Sequence[tuple[str, Sequence[Result]]]) -> str:
    out = [COUNT_HEADER[0].format(first=first), COUNT_HEADER[1]]
    out += [count_row(label, group) for label, group in groups if group]
    return "\n".join(out)


def oxford_table(results: Sequence[Result]) -> str:
    pockets = [r for r in results if r.job.group in POCKETS]
    return count_table("oxford-step-counter placement", [
        *by_group(results).items(), ("front+back pocket", pockets), ("all placements", results)])


def rates_table(results: Sequence[Result]) -> str:
    out = ["| oxford-step-counter resampled to | traces | ours: MAE % | ours: F1 | "
           "baseline: MAE % | baseline: F1 |", "|---|---|---|---|---|---|"]
    for rate in RATES_HZ:
        group = [r for r in results if r.job.rate_hz == rate]
        if group:
            out.append(f"| {rate:g} Hz, random angle | {len(group)} | {mae(group, 'ours'):.2f} | "
                       f"{f1(group, 'ours'):.3f} | {mae(group, 'base'):.2f} | "
                       f"{f1(group, 'base'):.3f} |")
    return "\n".join(out)


def ipol_metrics(results: Sequence[Result], who: str) -> dict[str, float]:
    turn, _ = found_share(results, who, turn_steps)
    ends, _ = found_share(results, who, first_last_steps)
    return {"mae": mae(results, who), "bias": total_bias(results, who), "f1": f1(results, who),
            "turn": turn, "ends": ends}


def as_recorded(results: Sequence[Result]) -> list[Result]:
    return [r for r in results if not r.job.variant]


def variant_label(variant: str) -> str:
    """How a table names one of ipol_short.VARIANTS."""
    kind, factor = ipol_short.parse_variant(variant)
    if kind == "gentler":
        return f"a gentler walker (steps x {factor:g})"
    if kind == "slower":
        return f"a slower walker ({factor:g} x as slow, steps x {1 / factor ** 2:.2f})"
    if kind == "limp":
        return f"a limp (one leg's steps {factor:g} x as long as the other's)"
    if kind == "sampled":
        return f"a {factor:g} Hz recorder (point-sampled, no anti-alias filter)"
    return f"one leg's steps x {factor:g} (a clip at the side of the hip)"


def ipol_table(all_results: Sequence[Result]) -> str:
    results = as_recorded(all_results)
    ours, base = ipol_metrics(results, "ours"), ipol_metrics(results, "base")
    n_turn = found_share(results, "ours", turn_steps)[1]
    n_ends = found_share(results, "ours", first_last_steps)[1]
    steps = sum(r.truth.size for r in results)
    rows = [
        ("per-trial MAE %", "mae", "{:.2f}", "≤ 2"),
        ("total bias %", "bias", "{:+.2f}", ""),
        ("F1", "f1", "{:.3f}", ""),
        (f"steps inside the turn found % ({n_turn} steps)", "turn", "{:.1f}", "≥ 95"),
        (f"first 2 + last 2 steps of each walk found % ({n_ends} steps)", "ends", "{:.1f}",
         "≥ 95"),
    ]
    out = [f"| ipol-lowback-uturn ({len(results)} trials, {steps:,} steps) | ours | baseline | "
           "target |", "|---|---|---|---|"]
    out += [f"| {label} | {fmt.format(ours[key])} | {fmt.format(base[key])} | {target} |"
            for label, key, fmt, target in rows]

    def again(over: str, ours_m: dict[str, float], base_m: dict[str, float]) -> list[str]:
        """The MAE, turn and first/last rows again, over other trials or other walkers."""
        return [f"| … {over}: {label.split(' (')[0]} | {fmt.format(ours_m[key])} | "
                f"{fmt.format(base_m[key])} | |"
                for label, key, fmt, _ in rows if key in ("mae", "turn", "ends")]

    # What the rules choose from: a true step with no candidate near it cannot be found.
    if results and all(r.reach is not None for r in results):
        reach = ipol_metrics(results, "reach")
        out += [f"| … all {len(results)} trials, every candidate of the peak stage, chosen or not "
                f"(the most any rule could find): {label.split(' (')[0]} | "
                f"{fmt.format(reach[key])} | | |"
                for label, key, fmt, _ in rows if key in ("turn", "ends")]
    # The same, over the trials whose truth the lower-back sensor saw throughout (truth_check).
    off = [r for r in results if r.at_rest is not None and r.at_rest.any()]
    seen = [r for r in results if r not in off]
    if off and seen:
        n_rest = sum(int(r.at_rest.sum()) for r in off)
        out.append(f"| true steps while the sensor was at rest (no step at the lower back) | "
                   f"{n_rest} in {len(off)} trials | | |")
        # Every true step of the turns was seen; not every first or last one.
        out.append(f"| … all {len(results)} trials, the first 2 + last 2 steps the sensor saw "
                   f"(the most a detector at the lower back could find) % | "
                   f"{seen_share(results, first_last_steps):.1f} | | |")
        out += again(f"the other {len(seen)} trials", ipol_metrics(seen, "ours"),
                     ipol_metrics(seen, "base"))
    # Many devices and recordings have no gyroscope: the same trials with it left out.
    if results and all(r.nogyro is not None for r in results):
        out += again(f"all {len(results)} trials without the gyro",
                     ipol_metrics(results, "nogyro"), base)
    # Our wearers often walk slowly and guarded, and wear the clip at the side of the hip: the
    # same trials as such a walker would make them.
    for variant in ipol_short.VARIANTS:
        group = [r for r in all_results if r.job.variant == variant]
        if group:
            out += again(f"all {len(group)} trials, {variant_label(variant)}",
                         ipol_metrics(group, "ours"), ipol_metrics(group, "base"))
    return "\n".join(out)


def ipolshort_table(results: Sequence[Result]) -> str:
    """Per walk length: pooled error, recall, walks missed, first and last step found."""
    def row(label: str, group: Sequence[Result]) -> str:
        true = sum(r.truth.size for r in group)
        cells = [label, str(len(group)), f"{true:,}"]
        for who in ("ours", "base"):
            counted = sum(getattr(r, who).size for r in group)
            found = sum(r.match(who).matched for r in group)
            missed = sum(r.match(who).matched == 0 for r in group)
            first = np.mean([0 in r.match(who).matched_truth for r in group])
            last = np.mean([r.truth.size - 1 in r.match(who).matched_truth for r in group])
            cells += [f"{count_error(counted, true):+.1f}", f"{100 * found / true:.1f}"]
            if who == "ours":
                cells += [str(missed), f"{100 * first:.0f} / {100 * last:.0f}"]
                after = [r for r in group if r.after is not None]
                cells += [f"{count_error(sum(r.n_after for r in after), true):+.1f}",
                          str(sum(r.after.matched == 0 for r in after))] if after else ["", ""]
        return "| " + " | ".join(cells) + " |"

    plain = as_recorded(results)
    out = ["| ipol short walks (real start and stop) | walks | true steps | ours: error % | "
           "ours: recall % | ours: walks missed | ours: first / last step found % | "
           "ours after a walk: error % | ours after a walk: walks missed | "
           "baseline: error % | baseline: recall % |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    out += [row(f"walks of {name}", g) for name, g in
            sorted(by_group(plain).items(), key=lambda kv: int(kv[0].split()[0]))]
    out.append(row("all", plain))
    for variant in (*ipol_short.VARIANTS, *ipol_short.LIMPS, *ipol_short.LOW_RATES):
        group = [r for r in results if r.job.variant == variant]
        if group:
            out.append(row(f"all, {variant_label(variant)}", group))
    return "\n".join(out)


def sisfall_table(results: Sequence[Result]) -> str:
    out = ["| sisfall-waist-adl activity (0 true steps) | traces | hours | ours: false steps | "
           "ours: per h | ours after a walk: false steps | per h | baseline: false steps | "
           "baseline: per h |", "|---|---|---|---|---|---|---|---|---|"]

    def row(label: str, group: Sequence[Result]) -> str:
        n1, hours, h1 = false_per_hour(group, "ours")
        n3, _, h3 = false_per_hour(group, "after")
        n2, _, h2 = false_per_hour(group, "base")
        return (f"| {label} | {len(group)} | {hours:.2f} | {n1} | {h1:.1f} | {n3} | {h3:.1f} | "
                f"{n2} | {h2:.1f} |")

    for code, group in by_group(results).items():
        out.append(row(f"{code} {group[0].info['activity']}", group))
    for kind, codes in SISFALL_KINDS.items():
        out.append(row(f"{kind} ({codes[0]}-{codes[-1]})",
                       [r for r in results if r.job.group in codes]))
    out.append(row("all activities", results))
    return "\n".join(out)


@dataclass
class BoutScore:
    """Steps of a set of bouts: true, matched, and detected (matched + charged extras)."""

    bouts: int = 0
    truth: int = 0
    matched: int = 0
    detected: int = 0

    @property
    def error(self) -> float:
        return count_error(self.detected, self.truth)

    @property
    def recall(self) -> float:
        return 100.0 * self.matched / self.truth if self.truth else float("nan")

    @property
    def f1(self) -> float:
        return 2.0 * self.matched / (self.detected + self.truth) if self.truth else float("nan")


def bout_scores(results: Sequence[Result], who: str) -> tuple[dict[str, BoutScore], int]:
    """Per bout-length group (4-9, 10-19, 20-40) scores, and detections away from every bout.

    A matched detection belongs to its true step's bout; an extra one to the bout of the nearest
    true step when that is within NEAR_BOUT_S, else it is "away" (sitting, standing still)."""
    scores = {f"{lo}-{hi}": BoutScore() for lo, hi in daylife_splice.BOUT_GROUPS}
    away = 0
    for r in results:
        assert r.bout_id is not None, "daylife results carry each true step's bout"
        m = r.match(who)
        detected = r.ours if who == "ours" else r.base
        lengths = np.bincount(r.bout_id)
        matched = np.bincount(r.bout_id[m.matched_truth], minlength=lengths.size)
        charged = matched.copy()
        order = np.argsort(r.truth, kind="stable")
        sorted_truth = r.truth[order]
        for i in m.extra:
            j = int(np.searchsorted(sorted_truth, detected[i]))
            near = [k for k in (j - 1, j) if 0 <= k < order.size]
            if not near:
                away += 1
                continue
            k = min(near, key=lambda k: abs(sorted_truth[k] - detected[i]))
            if abs(sorted_truth[k] - detected[i]) <= NEAR_BOUT_S:
                charged[r.bout_id[order[k]]] += 1
            else:
                away += 1
        for (lo, hi), sc in zip(daylife_splice.BOUT_GROUPS, scores.values(), strict=True):
            sel = (lengths >= lo) & (lengths <= hi)
            sc.bouts += int(sel.sum())
            sc.truth += int(lengths[sel].sum())
            sc.matched += int(matched[sel].sum())
            sc.detected += int(charged[sel].sum())
    return scores, away


def daylife_table(results: Sequence[Result]) -> str:
    ours, away_ours = bout_scores(results, "ours")
    base, away_base = bout_scores(results, "base")
    minutes = sum(r.sampled_s for r in results) / 60.0
    steps = sum(r.truth.size for r in results)
    out = [f"| spliced daily life ({len(results)} days, {minutes:.0f} min, {steps:,} steps, "
           f"{results[0].info['sources']} real walks) | bouts | true steps | ours: error % | "
           "ours: recall % | ours: F1 | baseline: error % | baseline: recall % | baseline: F1 |",
           "|---|---|---|---|---|---|---|---|---|"]
    for label in ours:
        o, b = ours[label], base[label]
        out.append(f"| bouts of {label} steps | {o.bouts} | {o.truth:,} | {o.error:+.2f} | "
                   f"{o.recall:.1f} | {o.f1:.3f} | {b.error:+.2f} | {b.recall:.1f} | "
                   f"{b.f1:.3f} |")
    bouts = sum(s.bouts for s in ours.values())
    out.append(f"| all (error: mean of per-day abs. error) | {bouts} | {steps:,} | "
               f"{mae(results, 'ours'):.2f} | {100 * recall(results, 'ours'):.1f} | "
               f"{f1(results, 'ours'):.3f} | {mae(results, 'base'):.2f} | "
               f"{100 * recall(results, 'base'):.1f} | {f1(results, 'base'):.3f} |")
    out.append(f"| steps detected > {NEAR_BOUT_S:g} s from any true step | | | {away_ours} | | "
               f"| {away_base} | | |")
    return "\n".join(out)


MINUTE_SETS = (("oxford", "oxford-step-counter (steady walks)"),
               ("daylife", "spliced daily life"), ("tests", "tests/data"))


def minutes_table(results: dict[str, list[Result]]) -> str:
    """Per-minute agreement of the moderate flag (>= 100 steps/min) with the truth's minutes."""
    out = ["| moderate minutes (>= 100 steps in a minute from the trace's start) | minutes | "
           "truly moderate | ours: flag agrees % | baseline: flag agrees % |",
           "|---|---|---|---|---|"]
    for table, label in MINUTE_SETS:
        group = results.get(table, [])
        if not group:
            continue
        agree = {"ours": 0, "base": 0}
        n = moderate = 0
        for r in group:
            for who, times in (("ours", r.ours), ("base", r.base)):
                a = minute_agreement(times, r.truth, r.duration_s, 100.0)
                agree[who] += a.agree
            n += a.minutes
            moderate += a.true_moderate
        out.append(f"| {label} | {n:,} | {moderate:,} | {100 * agree['ours'] / n:.1f} | "
                   f"{100 * agree['base'] / n:.1f} |")
    return "\n".join(out) if len(out) > 2 else ""


def recall(results: Sequence[Result], who: str) -> float:
    matched = sum(r.match(who).matched for r in results)
    truth = sum(r.truth.size for r in results)
    return matched / truth if truth else 1.0


def tests_table(results: Sequence[Result]) -> str:
    groups = [(f"tests/{g}", rs) for g, rs in by_group(results).items()]
    return count_table("tests/data group", groups)


def detail_table(results: Sequence[Result]) -> str:
    out = ["| table | trace | group | truth | ours | error % | F1 | baseline | error % | F1 |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        n = r.truth.size
        e1 = f"{count_error(r.ours.size, n):+.1f}" if n else "-"
        e2 = f"{count_error(r.base.size, n):+.1f}" if n else "-"
        label = r.job.name + (f" @{r.job.rate_hz:g} Hz" if r.job.kind == "resampled" else "")
        out.append(f"| {r.job.table} | {label} | {r.job.group} | {n} | {r.ours.size} | {e1} | "
                   f"{r.m_ours.f1:.3f} | {r.base.size} | {e2} | {r.m_base.f1:.3f} |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Issue 9's done-when targets
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    label: str
    value: float
    limit: float
    at_least: bool = False

    @property
    def passed(self) -> bool:
        if np.isnan(self.value):
            return False
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def __str__(self) -> str:
        op = "≥" if self.at_least else "≤"
        verdict = "PASS" if self.passed else "FAIL"
        return f"{self.label} {self.value:.2f} {op} {self.limit:g} {verdict}"


def done_when(results: dict[str, list[Result]]) -> list[Check]:
    checks: list[Check] = []
    if results.get("ipol"):
        m = ipol_metrics(as_recorded(results["ipol"]), "ours")
        checks += [Check("IPOL per-trial MAE %", m["mae"], 2.0),
                   Check("IPOL turn steps found %", m["turn"], 95.0, at_least=True),
                   Check("IPOL first/last steps found %", m["ends"], 95.0, at_least=True)]
    if results.get("sisfall"):
        rs = results["sisfall"]
        checks.append(Check("SisFall false steps/h", false_per_hour(rs, "ours")[2], 10.0))
        for kind, codes in SISFALL_KINDS.items():
            n = false_per_hour([r for r in rs if r.job.group in codes], "ours")[0]
            checks.append(Check(f"SisFall {kind} false steps", n, 0.0))
    if results.get("oxford"):
        rs = results["oxford"]
        checks += [Check("Oxford all MAE %", mae(rs, "ours"), 1.3),
                   Check("Oxford pockets MAE %",
                         mae([r for r in rs if r.job.group in POCKETS], "ours"), 0.9)]
    if results.get("rates"):
        rs = [r for r in results["rates"] if r.job.rate_hz == 25.0]
        checks.append(Check("Oxford 25 Hz random angle MAE %", mae(rs, "ours"), 1.5))
    if results.get("daylife"):
        rs = results["daylife"]
        short = bout_scores(rs, "ours")[0]["4-9"]
        checks += [Check("daily life per-day MAE %", mae(rs, "ours"), 3.0),
                   Check("daily life 4-9-step bouts |error| %", abs(short.error), 5.0)]
    return checks


def done_when_line(checks: Sequence[Check], not_run: Sequence[str]) -> str:
    passed = sum(c.passed for c in checks)
    line = f"done-when (issue 9): {passed}/{len(checks)} PASS"
    if checks:
        line += ": " + "; ".join(str(c) for c in checks)
    if not_run:
        line += f" (not checked, table not run: {', '.join(not_run)})"
    return line


# ---------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------

PRINTERS: dict[str, Callable[[Sequence[Result]], str]] = {
    "oxford": oxford_table, "rates": rates_table, "ipol": ipol_table,
    "ipolshort": ipolshort_table, "sisfall": sisfall_table,
    "tests": tests_table, "daylife": daylife_table,
}
CHECKED = ("ipol", "sisfall", "oxford", "rates", "daylife")


def parse_only(text: str | None) -> list[str]:
    if not text:
        return list(TABLES)
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in TABLES]
    if unknown or not names:
        raise ValueError(f"bench_accuracy: --only takes a comma-separated subset of "
                         f"{','.join(TABLES)}; unknown: {','.join(unknown) or '(empty)'}")
    return [n for n in TABLES if n in names]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], epilog=__doc__.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", metavar="LIST",
                        help=f"comma-separated subset of {','.join(TABLES)} (default: all)")
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help="folder of shared recordings (default: %(default)s)")
    parser.add_argument("--workers", type=int, default=2,
                        help="processes to replay traces in (default: %(default)s)")
    parser.add_argument("--detail", action="store_true", help="also print every trace")
    args = parser.parse_args(argv)
    try:
        tables = parse_only(args.only)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.workers < 1:
        print("bench_accuracy: --workers must be at least 1", file=sys.stderr)
        return 2

    try:
        return run(args, tables)
    except (TraceError, OSError, KeyError, ValueError) as exc:
        what = f"missing column {exc}" if isinstance(exc, KeyError) else str(exc)
        print(f"bench_accuracy: cannot use the recordings: {what}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace, tables: Sequence[str]) -> int:
    """Build the jobs of the chosen tables, replay them and print the tables."""
    skipped: dict[str, str] = {}
    notes: list[str] = []
    jobs: list[Job] = []
    for table in tables:
        if table in SHARED_FOLDERS:
            folder = args.shared / SHARED_FOLDERS[table]
            if not (folder / "INDEX.csv").is_file():
                skipped[table] = str(folder)
                continue
            jobs += shared_jobs(table, folder)
        elif table == "daylife":
            jobs += daylife_jobs(args.shared)
            if not jobs[-1].path:
                notes.append(f"daylife spliced from tests/data/real only: no "
                             f"{args.shared / daylife_splice.OXFORD_FOLDER}/INDEX.csv, so its "
                             "numbers differ from a run with the shared recordings")
        else:
            jobs += test_data_jobs()
    if skipped:
        print(f"skipped tables {', '.join(skipped)}: no INDEX.csv in "
              f"{', '.join(sorted(set(skipped.values())))} (shared recordings missing; "
              "pass --shared DIR)")
    for note in notes:
        print(note)
    if skipped or notes:
        print()

    started = time.perf_counter()
    results: dict[str, list[Result]] = {}
    for r in run_all(jobs, args.workers):
        results.setdefault(r.job.table, []).append(r)
    for table in tables:
        if results.get(table):
            print(PRINTERS[table](results[table]))
            print()
    minutes = minutes_table(results)
    if minutes:
        print(minutes)
        print()
    if args.detail:
        print(detail_table([r for t in tables for r in results.get(t, [])]))
        print()
    not_run = [t for t in CHECKED if not results.get(t)]
    print(done_when_line(done_when(results), not_run))
    print(f"({len(jobs)} traces in {time.perf_counter() - started:.0f} s, "
          f"{args.workers} worker{'s' if args.workers > 1 else ''})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
