"""`pedometer replay`: a recorded trace through the device's own pipeline, faster than real time.

The trace is cut into the same one-second batches the device reads from its IMU and fed to the
same :class:`~device.core.pipeline.StepPipeline`; the result follows the JSON contract of
DESIGN.md, with times in seconds from the trace's first sample. :func:`replay_file` streams the
file block by block (:class:`~device.trace.TraceReader`), so memory does not grow with its
length; :func:`replay` does the same for a trace already in memory.
"""

from __future__ import annotations

import contextlib
import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from device.core.aggregator import DEFAULT_THRESHOLD_SPM, MinuteSummary
from device.core.detector import DetectorParams
from device.core.pipeline import StepPipeline
from device.scoring import MinuteAgreement, StepMatch, match_steps, minute_agreement
from device.trace import NotATraceHeader, Trace, TraceChunk, TraceError, TraceReader

DEVICE_BATCH_S = 1.0


@dataclass
class ReplayResult:
    duration_s: float
    step_times_s: np.ndarray
    minutes: list[MinuteSummary]
    threshold_spm: float
    t0: float = 0.0  # the trace's first timestamp: result times count from it

    @property
    def steps(self) -> int:
        return int(self.step_times_s.size)

    @property
    def moderate_minutes(self) -> int:
        return sum(1 for m in self.minutes if m.moderate)

    def to_json(self) -> dict:
        """The replay contract of DESIGN.md."""
        return {
            "duration_s": round(self.duration_s, 6),
            "steps": self.steps,
            "step_times_s": [round(float(t), 4) for t in self.step_times_s],
            "minutes": [
                {"start_s": m.start_s, "steps": m.steps, "cadence_spm": m.cadence_spm,
                 "moderate": m.moderate}
                for m in self.minutes
            ],
            "moderate_minutes": self.moderate_minutes,
            "threshold_spm": self.threshold_spm,
        }


def batches(t: np.ndarray, batch_s: float = DEVICE_BATCH_S) -> Iterator[slice]:
    """Slices of consecutive samples, one per `batch_s` of the clock (batch k holds
    k*batch_s <= t < (k+1)*batch_s; t counts from the trace's first sample)."""
    if len(t) == 0:
        return
    ids = np.floor(np.asarray(t) / batch_s)
    cuts = np.flatnonzero(np.diff(ids)) + 1
    lo = 0
    for hi in [*cuts.tolist(), len(t)]:
        yield slice(lo, hi)
        lo = hi


def _concat(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return b if a is None else a
    return np.concatenate((a, b)) if len(a) else b


class _Replayer:
    """Feeds chunks of a stream to the pipeline in device batches, holding back the last
    (perhaps unfinished) batch of each chunk until the next chunk or the end."""

    def __init__(self, threshold_spm: float, batch_s: float,
                 params: DetectorParams | None) -> None:
        self.pipe = StepPipeline(threshold_spm, params=params)
        self.batch_s = batch_s
        self.threshold_spm = float(threshold_spm)
        self.t0: float | None = None
        self.last_t = 0.0
        self.steps: list[np.ndarray] = []
        self.minutes: list[MinuteSummary] = []
        self._held: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None

    def add(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> None:
        if len(t) == 0:
            return
        if self.t0 is None:
            self.t0 = float(t[0])
        self.last_t = float(t[-1])
        t = t - self.t0
        if self._held is not None:
            ht, ha, hg = self._held
            t, acc, gyro = np.concatenate((ht, t)), np.concatenate((ha, acc)), _concat(hg, gyro)
        slices = list(batches(t, self.batch_s))
        for sl in slices[:-1]:
            self._feed(t[sl], acc[sl], None if gyro is None else gyro[sl])
        last = slices[-1]
        self._held = (t[last], acc[last], None if gyro is None else gyro[last])

    def _feed(self, t: np.ndarray, acc: np.ndarray, gyro: np.ndarray | None) -> None:
        out = self.pipe.feed(t, acc, gyro)
        if out.step_times_s.size:
            self.steps.append(out.step_times_s)
        self.minutes += out.minutes

    def finish(self) -> ReplayResult:
        if self._held is not None:
            self._feed(*self._held)
            self._held = None
        out = self.pipe.finish()
        self.steps.append(out.step_times_s)
        self.minutes += out.minutes
        return ReplayResult(
            duration_s=self.last_t - self.t0 if self.t0 is not None else 0.0,
            step_times_s=np.concatenate(self.steps),
            minutes=self.minutes,
            threshold_spm=self.threshold_spm,
            t0=self.t0 if self.t0 is not None else 0.0,
        )


def replay_chunks(
    chunks: Iterable[TraceChunk],
    threshold_spm: float = DEFAULT_THRESHOLD_SPM,
    batch_s: float = DEVICE_BATCH_S,
    params: DetectorParams | None = None,
) -> ReplayResult:
    """Run the device pipeline over a stream of chunks (any sizes) in device-sized batches."""
    r = _Replayer(threshold_spm, batch_s, params)
    for chunk in chunks:
        r.add(chunk.t, chunk.acc, chunk.gyro)
    return r.finish()


def replay(
    trace: Trace,
    threshold_spm: float = DEFAULT_THRESHOLD_SPM,
    batch_s: float = DEVICE_BATCH_S,
    params: DetectorParams | None = None,
) -> ReplayResult:
    """Run the device pipeline over a whole trace in memory, in device-sized batches."""
    chunk = TraceChunk(t=trace.t, acc=trace.acc, gyro=trace.gyro)
    return replay_chunks([chunk], threshold_spm, batch_s, params)


def replay_file(
    path: str | Path,
    threshold_spm: float = DEFAULT_THRESHOLD_SPM,
    batch_s: float = DEVICE_BATCH_S,
    params: DetectorParams | None = None,
    progress: Callable[[float], None] | None = None,
) -> ReplayResult:
    """Stream a trace file through the pipeline; TraceError (file, line, reason) on bad input.

    ``progress`` is called after every block with the share of the file read so far.
    """
    with TraceReader(path) as reader:
        ahead = read_ahead(reader.chunks())
        chunks: Iterable[TraceChunk] = ahead
        if progress is not None:
            chunks = _reporting(ahead, lambda: progress(reader.fraction_read()))
        try:
            return replay_chunks(chunks, threshold_spm, batch_s, params)
        finally:
            ahead.close()  # stop the reader thread before the file closes


def read_ahead(chunks: Iterator[TraceChunk], depth: int = 2) -> Iterator[TraceChunk]:
    """The same chunks, read by a helper thread up to ``depth`` blocks ahead.

    pyarrow parses without the GIL, so on a second core the next block is read while the
    pipeline works on this one. At most ``depth`` blocks wait, so memory stays bounded; an
    error in the reader is raised here, at the point of the stream where it happened.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put(chunk, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put(end)
        except BaseException as exc:  # handed to the consumer, raised there
            ready.put(exc)

    worker = threading.Thread(target=produce, name="trace-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is end:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting to put, then let it finish
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.1)
        worker.join()


def _reporting(chunks: Iterable[TraceChunk], report: Callable[[], None]) -> Iterator[TraceChunk]:
    for chunk in chunks:
        yield chunk
        report()


# -- against ground truth -----------------------------------------------------------------------
@dataclass(frozen=True)
class TruthScore:
    """A replay scored against true step times: step-level matches and the moderate flag."""

    match: StepMatch
    minutes: MinuteAgreement


def score_against_truth(result: ReplayResult, truth_s: np.ndarray) -> TruthScore:
    """Match our steps to the truth's (same clock as the trace) within ±0.25 s, and compare the
    moderate flag minute by minute on the replay's own minutes."""
    truth = np.asarray(truth_s, dtype=np.float64) - result.t0
    return TruthScore(
        match=match_steps(result.step_times_s, truth),
        minutes=minute_agreement(result.step_times_s, truth, result.duration_s,
                                 result.threshold_spm),
    )


def format_truth(score: TruthScore) -> list[str]:
    """Lines for a person: count error, matched/extra/missed steps, F1, moderate agreement."""
    m, a = score.match, score.minutes
    err = m.count_error_pct
    err_text = "n/a (no true steps)" if math.isnan(err) else f"{err:+.2f} %"
    return [
        f"  ground truth     {m.n_truth} steps, count error {err_text}",
        f"  step matching    {m.matched} matched, {m.extra.size} extra, {m.missed.size} missed "
        f"(within ±0.25 s): precision {m.precision:.3f}, recall {m.recall:.3f}, F1 {m.f1:.3f}",
        f"  moderate flag    agrees with the truth in {a.agree} of {a.minutes} minutes "
        f"(true moderate {a.true_moderate}, ours {a.detected_moderate})",
    ]


def format_summary(name: str, result: ReplayResult, score: TruthScore | None = None) -> str:
    """A short human summary of one replay."""
    walking = [m for m in result.minutes if m.steps > 0]
    lines = [
        f"{name}: {result.duration_s / 60:.1f} min of data",
        f"  steps            {result.steps}",
    ]
    if walking:
        best = max(m.cadence_spm for m in walking)
        lines.append(f"  walking minutes  {len(walking)} (busiest: {best:.0f} steps/min)")
    lines.append(
        f"  moderate minutes {result.moderate_minutes} "
        f"(minutes with at least {result.threshold_spm:g} steps)"
    )
    if score is not None:
        lines += format_truth(score)
    return "\n".join(lines)


# -- many traces ----------------------------------------------------------------------------------
TRACE_SUFFIXES = (".csv", ".csv.gz")
TRUTH_SUFFIX = ".steps.csv"


def trace_name(path: Path) -> str:
    """NAME of NAME.csv or NAME.csv.gz."""
    name = path.name
    for suffix in (".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def truth_beside(path: Path) -> Path | None:
    """NAME.steps.csv in the trace's folder, when there is one."""
    candidate = path.with_name(trace_name(path) + TRUTH_SUFFIX)
    return candidate if candidate.is_file() else None


def find_traces(paths: Sequence[Path]) -> list[Path]:
    """The trace files named, and every NAME.csv[.gz] under the folders named (not the
    NAME.steps.csv truth files), in a stable order; TraceError for a path that does not exist."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*")
                            if p.is_file() and p.name.endswith(TRACE_SUFFIXES)
                            and not p.name.endswith(TRUTH_SUFFIX) and _looks_like_trace(p))
        elif path.exists():
            found.append(path)
        else:
            raise TraceError(f"{path}: no such file or folder")
    seen: set[Path] = set()
    unique = []
    for path in found:  # a file named and inside a folder named is replayed once
        if path.resolve() not in seen:
            seen.add(path.resolve())
            unique.append(path)
    return unique


def _looks_like_trace(path: Path) -> bool:
    """False for another kind of CSV in a folder of traces (an index, a table of results);
    a trace that cannot be read is still listed, so its problem is reported."""
    try:
        TraceReader(path).close()
    except NotATraceHeader:
        return False
    except TraceError:
        return True
    return True


@dataclass
class TraceRow:
    """One trace of a many-trace replay: its result and score, or the reason it failed."""

    path: Path
    result: ReplayResult | None = None
    score: TruthScore | None = None
    error: str | None = None


def format_table(rows: Sequence[TraceRow]) -> str:
    """One line per trace and a summary: count MAE and pooled step F1 over traces with truth."""
    width = max([5, *(len(trace_name(r.path)) for r in rows)])
    head = (f"{'trace':<{width}}  {'min':>6}  {'steps':>6}  {'truth':>6}  {'error':>8}  "
            f"{'F1':>5}  {'moderate agree':>14}")
    lines = [head, "-" * len(head)]
    for r in rows:
        name = f"{trace_name(r.path):<{width}}"
        if r.result is None:
            lines.append(f"{name}  error: {r.error}")
            continue
        cells = f"{name}  {r.result.duration_s / 60:>6.1f}  {r.result.steps:>6}"
        if r.score is None:
            lines.append(cells + f"  {'-':>6}  {'-':>8}  {'-':>5}  {'-':>14}")
            continue
        m, a = r.score.match, r.score.minutes
        err = "n/a" if math.isnan(m.count_error_pct) else f"{m.count_error_pct:+.2f} %"
        lines.append(cells + f"  {m.n_truth:>6}  {err:>8}  {m.f1:>5.3f}  "
                     f"{f'{a.agree}/{a.minutes}':>14}")
    lines.append(summarise(rows))
    return "\n".join(lines)


def summarise(rows: Sequence[TraceRow]) -> str:
    scored = [r.score for r in rows if r.score is not None]
    failed = sum(1 for r in rows if r.result is None)
    text = f"{len(rows)} traces"
    if failed:
        text += f" ({failed} could not be read)"
    if not scored:
        return text + ", none with NAME.steps.csv ground truth"
    errors = [abs(s.match.count_error_pct) for s in scored if s.match.n_truth]
    matched = sum(s.match.matched for s in scored)
    total = sum(s.match.n_detected + s.match.n_truth for s in scored)
    f1 = 2.0 * matched / total if total else 1.0
    agree = sum(s.minutes.agree for s in scored)
    minutes = sum(s.minutes.minutes for s in scored)
    mae = f"{np.mean(errors):.2f} %" if errors else "n/a"
    return (f"{text}, {len(scored)} with ground truth: count MAE {mae}, step F1 {f1:.3f} "
            f"(pooled, ±0.25 s), moderate flag agrees in {agree} of {minutes} minutes")
