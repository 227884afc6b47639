"""Short real walks from the IPOL lower-back trials: real gait initiation, real termination.

A test-data generator for the accuracy benchmark (not firmware). Daily walking is mostly short
bouts, and a short bout is mostly its ends: a walk of five steps has one first step out of a
standstill and a termination that fades over its last two steps. The spliced days
(daylife_splice.py) fade a cut from the middle of a walk in and out, which is not how a body
starts and stops; the IPOL trials (stand, walk 10 m, turn, walk back, stop) hold the real thing
at both ends. So a short walk here is

    the trial from its start to the middle between true steps k-1 and k   (k = 2..4 steps)
  + the trial from the middle between true steps n-m-1 and n-m to its end (m = 2..4 steps)

joined with a 0.1 s cross-fade of the two recordings at the cut, where both are in the same
phase of the same foot's stride (n - m - k even; the left/right pattern goes on unbroken) and
neither half holds the turn. The true steps move with the halves, so every one is a real step
with its real foot-contact time. The bout has k + m = 4..8 steps.

It also replays a trial as another walker would make it (``variant``: VARIANTS and LIMPS):
gentler, slower, seen from the side of the hip, limping; and as a 15 Hz recorder would store it
(LOW_RATES). Every recording we have is of healthy
adults walking briskly; our wearers have a painful back and clip the device at the hip. The
variants are models of that, meant to show which rules break, not to be tuned to.

The recordings stay in ../shared (their licence): this module reads them there, for the
benchmark only, and nothing it makes is written into the repository.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from device.trace import Trace

FADE_S = 0.1          # cross-fade at the cut
SIDES = (2, 3, 4)     # steps kept from the start (k) and from the end (m)
NOISE_RMS = 0.02      # m/s², the sensor's own noise put back after scaling


def plans(truth: np.ndarray, turn: tuple[float, float]) -> Iterator[tuple[int, int]]:
    """(k, m) pairs whose halves leave the turn out and keep the stride pattern unbroken.

    truth: true step times on the trace's clock; turn: (start, end) of the turn on that clock.
    """
    n = len(truth)
    for k in SIDES:
        for m in SIDES:
            if n < k + m + 2 or (n - m - k) % 2:
                continue
            if truth[k] >= turn[0] or truth[n - m - 1] <= turn[1]:
                continue
            yield k, m


def short_walk(trace: Trace, truth: np.ndarray, k: int, m: int) -> tuple[Trace, np.ndarray]:
    """The first k and last m true steps of a trial as one walk (see the module docstring).

    trace must be evenly sampled (IPOL: 100 Hz); truth on the trace's clock. Returns the walk,
    starting at the trial's first sample, and its k + m true steps on the walk's clock.
    """
    n = len(truth)
    t = trace.t
    dt = float(np.median(np.diff(t)))
    ia = int(np.searchsorted(t, (truth[k - 1] + truth[k]) / 2))
    ib = int(np.searchsorted(t, (truth[n - m - 1] + truth[n - m]) / 2))
    half = max(1, round(FADE_S / 2 / dt))
    w = np.linspace(0.0, 1.0, 2 * half)[:, None]

    def join(x: np.ndarray) -> np.ndarray:
        mid = (1.0 - w) * x[ia - half : ia + half] + w * x[ib - half : ib + half]
        return np.concatenate([x[: ia - half], mid, x[ib + half :]])

    acc = join(trace.acc)
    gyro = join(trace.gyro) if trace.gyro is not None else None
    walk = Trace(t=t[0] + dt * np.arange(len(acc)), acc=acc, gyro=gyro)
    shift = t[ib] - t[ia]
    steps = np.concatenate([truth[:k], truth[n - m :] - shift])
    return walk, steps


def after_walk(trial: Trace, walk: Trace, gap_s: float = 20.0) -> tuple[Trace, float]:
    """The walk as the same wearer makes it later: the whole trial first, then ``gap_s`` with no
    samples (a new segment), then the walk. A device worn all day has seen its wearer walk before
    a short walk, and the detector keeps what it learnt then (how the wearer stands when walking).

    Returns the joined trace and the shift added to the walk's clock (subtract it from a step
    time later than ``trial.t[-1] + gap_s / 2`` to put it on the walk's clock).
    """
    shift = float(trial.t[-1] + gap_s - walk.t[0])
    gyro = None
    if trial.gyro is not None and walk.gyro is not None:
        gyro = np.concatenate([trial.gyro, walk.gyro])
    joined = Trace(t=np.concatenate([trial.t, walk.t + shift]),
                   acc=np.concatenate([trial.acc, walk.acc]), gyro=gyro)
    return joined, shift


def _gravity(trace: Trace) -> np.ndarray:
    """Gravity under each sample: the acceleration's 2-s moving mean (edges held)."""
    dt = float(np.median(np.diff(trace.t)))
    half = max(1, round(1.0 / dt))
    padded = np.pad(trace.acc, ((half, half), (0, 0)), mode="edge")
    csum = np.concatenate((np.zeros((1, 3)), np.cumsum(padded, axis=0)))
    return (csum[2 * half + 1 :] - csum[: -2 * half - 1]) / (2 * half + 1)


def _scaled(trace: Trace, factor: np.ndarray | float, seed: int) -> Trace:
    """The dynamic acceleration (acc minus gravity) x ``factor`` (per sample or one number),
    with white sensor noise of NOISE_RMS added back (scaling shrank the recording's own). The
    timing, the posture and the gyroscope (the turn) are left as they were."""
    gravity = _gravity(trace)
    scale = np.asarray(factor, dtype=float)
    scale = scale[:, None] if scale.ndim else scale
    noise = np.random.default_rng(seed).normal(0.0, NOISE_RMS, trace.acc.shape)
    return Trace(t=trace.t, acc=gravity + scale * (trace.acc - gravity) + noise, gyro=trace.gyro)


def gentler(trace: Trace, factor: float, seed: int = 0) -> Trace:
    """The same walk by a gentler walker: every step's acceleration x ``factor``. Our wearers,
    with low back pain, often walk slowly and guard the trunk, so their hip rises and falls less
    than the healthy adults' of the IPOL trials (step peaks of about 2.5 m/s² at the lower back).
    """
    return _scaled(trace, factor, seed)


def one_leg_weaker(trace: Trace, truth: np.ndarray, factor: float, seed: int = 0) -> Trace:
    """The same walk seen from the side of the hip: every other step's acceleration x
    ``factor`` (the far leg's heel strike reaches a side clip weaker than the near leg's; at
    the lower back and in the Oxford pockets the two legs' peaks are within 0.7-1 x of each
    other). The factor switches between the mid-points of true steps (truth on the trace's
    clock) over 0.1 s, so each step keeps its own waveform, only weaker."""
    mids = (truth[1:] + truth[:-1]) / 2
    far = (np.searchsorted(mids, trace.t) % 2).astype(float)
    dt = float(np.median(np.diff(trace.t)))
    width = max(1, round(0.1 / dt))
    far = np.convolve(np.pad(far, (width // 2, width - 1 - width // 2), mode="edge"),
                      np.ones(width) / width, mode="valid")
    return _scaled(trace, 1.0 - (1.0 - factor) * far, seed)


def limping(trace: Trace, truth: np.ndarray, ratio: float) -> tuple[Trace, np.ndarray]:
    """The same walk with a limp: one leg's steps take ``ratio`` x as long as the other's, each
    stride as long as before (an antalgic gait shortens the painful leg's stance). Time is
    warped piecewise-linearly between true steps and the recording resampled on its own clock
    (linear interpolation); the accelerations are not rescaled. Returns the walk and its true
    steps on the new clock."""
    iv = np.diff(truth)
    long, short = 2 * ratio / (1 + ratio), 2 / (1 + ratio)
    new = truth[0] + np.concatenate(([0.0], np.cumsum(iv * np.where(np.arange(iv.size) % 2,
                                                                     short, long))))
    # new clock -> recording's clock: steps map to steps, shifted outside the walk
    knots_new = np.concatenate(([trace.t[0]], new, [trace.t[-1] + new[-1] - truth[-1]]))
    knots_old = np.concatenate(([trace.t[0]], truth, [trace.t[-1]]))
    dt = float(np.median(np.diff(trace.t)))
    t = np.arange(trace.t[0], knots_new[-1], dt)
    source = np.interp(t, knots_new, knots_old)

    def resample(x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.interp(source, trace.t, x[:, i]) for i in range(3)])

    gyro = resample(trace.gyro) if trace.gyro is not None else None
    return Trace(t=t, acc=resample(trace.acc), gyro=gyro), new


def slower(trace: Trace, factor: float, seed: int = 0) -> Trace:
    """The same walk ``factor`` x slower, as a slow walker makes it: the clock stretched about
    the first sample (the same samples, at a lower rate), the dynamic acceleration / factor²
    (a slowed motion's), the gyroscope / factor (the turn takes longer), sensor noise put back.
    """
    stretched = Trace(t=trace.t[0] + (trace.t - trace.t[0]) * factor, acc=trace.acc,
                      gyro=None if trace.gyro is None else trace.gyro / factor)
    return _scaled(stretched, 1.0 / factor**2, seed)


def sampled(trace: Trace, rate_hz: float) -> Trace:
    """The same walk as a recorder sampling at ``rate_hz`` gives it: every axis (and the gyro)
    read at evenly spaced instants, with no anti-alias filter before (as many 15-25 Hz hip
    recorders and activity loggers store it). The heel strike's content above rate_hz / 2
    folds into the stepping band, so the peaks differ from step to step more than at 100 Hz.
    """
    t = np.arange(trace.t[0], trace.t[-1], 1.0 / rate_hz)

    def at(x: np.ndarray) -> np.ndarray:
        return np.column_stack([np.interp(t, trace.t, x[:, i]) for i in range(3)])

    return Trace(t=t, acc=at(trace.acc), gyro=at(trace.gyro) if trace.gyro is not None else None)


def parse_variant(name: str) -> tuple[str, float]:
    """("gentler", 0.35) from "gentler x0.35": a variant's kind and factor."""
    kind, factor = name.rsplit(" x", 1)
    return kind, float(factor)


def time_scale(name: str) -> float:
    """How much a variant stretches the clock about the trace's first sample (1: not at all,
    or "" as recorded; a limp's warp is not uniform and has no single scale)."""
    kind, factor = parse_variant(name) if name else ("", 1.0)
    return factor if kind == "slower" else 1.0


VARIANTS = ("gentler x0.5", "gentler x0.35", "gentler x0.25", "slower x1.3", "slower x1.6",
            "one leg x0.5", "one leg x0.4")
LIMPS = ("limp x1.4", "limp x1.7")  # these warp the clock unevenly (the turn moves): short walks
LOW_RATES = ("sampled x15",)  # a 15 Hz recorder: short walks only


def variant(trace: Trace, truth: np.ndarray, name: str,
            seed: int = 0) -> tuple[Trace, np.ndarray]:
    """The walk as one of VARIANTS, LIMPS or LOW_RATES would make it ("gentler xF": gentler();
    "slower xF": slower(); "one leg xF": one_leg_weaker(); "limp xR": limping(); "sampled xR":
    sampled() at R Hz), and its true steps; truth on the trace's clock."""
    kind, factor = parse_variant(name)
    if kind == "gentler":
        return gentler(trace, factor, seed), truth
    if kind == "slower":
        return slower(trace, factor, seed), trace.t[0] + (truth - trace.t[0]) * factor
    if kind == "one leg":
        return one_leg_weaker(trace, truth, factor, seed), truth
    if kind == "limp":
        return limping(trace, truth, factor)
    if kind == "sampled":
        return sampled(trace, factor), truth
    raise ValueError(f"unknown variant {name!r}")
