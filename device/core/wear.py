"""Wear detection: was the clip on the wearer this minute, or lying somewhere?

A week of 20 brisk minutes means one thing if the device was worn every day and another if it
sat on the kitchen table for four days. Research devices answer it first (ActiGraph with Choi's
rule, GGIR's non-wear detection) and count a day as valid only with >= 10 h of wear
(:data:`VALID_DAY_HOURS`). Two stages, each a streaming class with its results in ``*_``
attributes, pure numpy, no I/O:

1. :class:`WearFeatures` turns the IMU batches the runtime already has (and, when the chip has
   one, its temperature) into one :class:`WearMinute` per wall-clock minute: how many seconds
   moved above the sensor's noise, and the mean temperature. A second *moved* when the spread of
   |a| within it exceeds ``noise_k`` x the sensor's own noise floor (at least ``motion_min``), or
   when the mean acceleration vector turned by more than ``tilt_min`` since the previous second
   (a slow roll in bed barely shakes |a| but turns gravity). The noise floor is learned from the
   data: per minute, the lower quartile of its seconds' spread; the estimate follows a quieter
   minute at once and rises only slowly (``noise_growth_per_min``), so one loud hour cannot
   raise it and a noisier chip (0.005 m/s² for an LSM6DSOX, ~0.05 for SisFall's ADXL345) finds
   its own floor in minutes. A minute is *moving* with at least ``min_active_s`` such seconds.

2. :class:`WearDetector` applies a Choi-style rule to the minutes: *not worn* is a stretch of
   still minutes long enough, in which at most ``bump_max_min`` moving minutes in a row are
   tolerated (a knock on the table, a door) when ``bump_window_min`` still minutes lie on both
   sides of them. How long is long enough is where the temperature comes in:

   =========================================================  ==========  ====================
   what the temperature says about the still stretch           stretch     parameter
   =========================================================  ==========  ====================
   it warmed by >= ``rise_c`` (clipped on, or under covers)      240 min     ``warm_min``
   it fell by >= ``drop_c`` within the stretch, or lies          20 min      ``cool_min``
   ``drop_c`` below the moving minutes worn in the hour before
   (taken off: the clip cools from body warmth to the room)
   it stayed as warm as the clip was while worn (lying still    240 min     ``warm_min``
   in bed, sitting), and worn is known to be >= 3 °C warmer
   than off on this clip (``min_contrast_c``: the level of the
   last not-worn minutes, at most 48 h old)
   no temperature, no recent worn minutes to compare with, or    90 min      ``choi_min``
   no proof that this clip's worn and off temperatures differ
   =========================================================  ==========  ====================

   A bump must leave the clip where it was: a still minute whose gravity direction turned by
   more than ``turn_deg`` from the previous still minute's (``WearMinute.turned``: a roll in
   bed, a hand moving it) ends the stretch, whatever its length. The flag goes back to the
   stretch's first still minute, so a device taken off at 10:00 is not worn from 10:00 even
   though that is only known at 10:20. Non-wear ends at the first minute of a movement that is
   not a tolerated bump, or, after a bump, when the clip warms by ``rise_c`` (clipped back on,
   then sat still).

Lying still in bed while wearing it must not become "not worn" easily: sleepers turn and shift
every 10-60 minutes and a roll turns gravity (never tolerated as a bump), a moving minute needs
only 2 seconds above a threshold a few times the sensor's own noise, and under the covers the
clip stays at body temperature, so a warm still stretch needs 4 hours (once the clip has been
seen off the body, charging on the bedside table say, so that warm is known to mean worn). Without a
temperature it is Choi's 90 minutes, whose known weakness (a very still sleeper) the benchmark
shows (tests/bench/bench_wear.py). Known limits: a clip left on a radiator or in a warm pocket
cools little and needs the 4 hours; a clip on a desk someone types on moves and counts as worn;
a still sleeper who throws the covers off may cool the clip by ``drop_c`` and be called not
worn after 20 minutes.
The die temperature also carries the Pi's own warmth, so ``drop_c`` is a change, never an
absolute level.

How late a flag may be decided: a minute's flag is final when its stretch either ends or reaches
the length needed; so at most ``warm_min`` + ``bump_window_min`` + ``bump_max_min`` minutes
(272 min) after the minute (:attr:`WearDetector.max_lag_min`), and memory is that many minute
records. The minutes themselves (:class:`WearMinute`) are final when they close, so a store keeps
those and any reader (the host's report) reruns :func:`wear_flags` on them; the device's own
live guess is :attr:`WearDetector.worn_now_`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

VALID_DAY_HOURS = 10.0  # a day counts (is "valid") with at least this much wear
GRAVITY = 9.80665


@dataclass(frozen=True)
class WearParams:
    """Every number of the wear rule (see the module docstring for why each is what it is)."""

    # -- WearFeatures: did a second move? ------------------------------------------------------
    min_samples: int = 5               # a second with fewer samples has no data
    noise_init: float = 0.02           # m/s², noise floor assumed before any data
    noise_min: float = 0.002           # m/s², the floor estimate never goes below this
    noise_growth_per_min: float = 1.02  # the floor estimate rises at most 2 % a minute
    noise_k: float = 3.0               # a second moved when std(|a|) > noise_k x floor ...
    motion_min: float = 0.015          # ... and > this (m/s², 1.5 mg)
    tilt_min: float = 0.15             # or the mean vector moved this much (m/s², ~0.9 deg)
    min_active_s: int = 2              # a minute with fewer moving seconds is still
    turn_deg: float = 10.0             # a still minute turned this much from the previous
                                       # still minute: moved (a roll in bed, picked up)
    # -- WearDetector: Choi-style stretches ----------------------------------------------------
    choi_min: int = 90                 # still minutes for "not worn" without a temperature
    warm_min: int = 240                # ... when the clip stayed warm
    cool_min: int = 20                 # ... when it cooled by drop_c
    drop_c: float = 2.0                # cooling that says "taken off" (°C)
    rise_c: float = 2.0                # warming after a bump that says "put back on" (°C)
    ref_minutes: int = 5               # worn reference temperature: last moving minutes
    ref_max_age_min: int = 60          # ... worn within this many minutes of the stretch
    min_contrast_c: float = 3.0        # "warm" counts only if worn is this much warmer than
    off_max_age_h: float = 48.0        # ... the clip was when last not worn (this recent)
    bump_max_min: int = 2              # moving minutes in a row tolerated inside a stretch ...
    bump_window_min: int = 30          # ... with this many still minutes on both sides
    max_fill_min: int = 60             # a longer hole between minutes restarts the detector


@dataclass(frozen=True)
class WearMinute:
    """One wall-clock minute's wear evidence, final when it closes.

    start_s: the minute's start on the wall clock (a multiple of 60, like MinuteSummary).
    active_s: seconds in which the device moved above the sensor's noise (0..60).
    seconds: seconds with data (0 when the IMU gave nothing this minute).
    temp_c: mean chip temperature (°C), None when not measured.
    noise: the noise-floor estimate (m/s², std of |a| within a second) at the minute's end.
    turned: a still minute whose gravity direction differs by more than ``turn_deg`` from the
    previous still minute's (the clip was turned: a body rolled, or a hand moved it).
    """

    start_s: float
    active_s: int
    seconds: int
    temp_c: float | None
    noise: float
    turned: bool = False

    def moving(self, params: WearParams | None = None) -> bool:
        return self.active_s >= (params or WearParams()).min_active_s


class WearFeatures:
    """IMU batches (and temperatures) in, one :class:`WearMinute` per wall-clock minute out.

    ``offset_s`` maps the source clock to the wall clock (wall = t + offset), as in the
    MinuteAggregator, so the minutes line up with the step minutes. State between calls is the
    open second's sums and the open minute's counters: bounded, and batch size does not matter.
    """

    def __init__(self, params: WearParams | None = None, offset_s: float = 0.0) -> None:
        self.params = params or WearParams()
        self.offset_s = float(offset_s)
        self.noise_ = self.params.noise_init
        self.minutes_: list[WearMinute] = []
        self._sec: int | None = None        # the open second (wall clock, s)
        self._sums = np.zeros(6)            # n, sum(m - g), sum((m - g)^2), sum ax, ay, az
        self._prev_mean: np.ndarray | None = None
        self._prev_sec: int | None = None
        self._minute: int | None = None     # the open minute (wall seconds // 60)
        self._active = 0
        self._seconds = 0
        self._stds: list[float] = []
        self._temp_sum = 0.0
        self._temp_n = 0
        self._vec_sum = np.zeros(3)
        self._still_dir: np.ndarray | None = None  # gravity direction of the last still minute
        self._last_closed: int | None = None  # a second at or before it is not counted again

    def update(
        self, t: np.ndarray, acc: np.ndarray, temp_c: float | None = None
    ) -> WearFeatures:
        """Add a batch (t s on the source clock, acc (N, 3) m/s²) and, when read, the chip
        temperature at that time. Closed minutes are in ``minutes_``."""
        self.minutes_ = []
        t = np.asarray(t, dtype=np.float64)
        if t.size == 0:
            return self
        acc = np.asarray(acc, dtype=np.float64).reshape(-1, 3)
        sec = np.floor(t + self.offset_s).astype(np.int64)
        mag = np.sqrt(np.einsum("ij,ij->i", acc, acc)) - GRAVITY
        starts = np.flatnonzero(np.r_[True, sec[1:] != sec[:-1]])
        cols = np.column_stack((np.ones_like(mag), mag, mag * mag, acc))
        sums = np.add.reduceat(cols, starts, axis=0)
        secs = sec[starts]
        for k in range(len(secs)):
            s = int(secs[k])
            if self._sec is not None and s != self._sec:
                self._close_second()
            if self._sec != s:
                self._sec = s
                self._sums = np.zeros(6)
            self._sums += sums[k]
        if temp_c is not None and math.isfinite(temp_c):
            self._open_minute_for(int(secs[-1]))
            self._temp_sum += float(temp_c)
            self._temp_n += 1
        return self

    def finish(self) -> list[WearMinute]:
        """End of stream: close the open second and minute."""
        self.minutes_ = []
        if self._sec is not None:
            self._close_second()
        if self._minute is not None:
            self._close_minute()
        return self.minutes_

    def rebase(self, offset_s: float) -> None:
        """The wall clock was set (a host synced): the open second and minute move with the
        clock, as the MinuteAggregator's do, so both keep naming the same minutes."""
        shift = float(offset_s) - self.offset_s
        self.offset_s = float(offset_s)
        if self._sec is not None:
            self._sec = math.floor(self._sec + shift)
        if self._minute is not None:
            self._minute = math.floor((self._minute * 60.0 + shift) / 60.0)
        self._prev_sec = None
        self._last_closed = None

    # -- internals --------------------------------------------------------------------------
    def _open_minute_for(self, sec: int) -> None:
        minute = sec // 60
        if self._minute is not None and minute != self._minute:
            self._close_minute()
        if self._minute is None:
            self._minute = minute

    def _close_second(self) -> None:
        p = self.params
        s = int(self._sec)  # type: ignore[arg-type]
        n, s1, s2 = self._sums[0], self._sums[1], self._sums[2]
        self._sec = None
        if self._last_closed is not None and s <= self._last_closed:
            return  # the source's clock stepped back: this second was counted already
        self._last_closed = s
        self._open_minute_for(s)
        if n < p.min_samples:
            self._prev_mean = None
            return
        std = math.sqrt(max(0.0, s2 / n - (s1 / n) ** 2))
        mean = self._sums[3:] / n
        threshold = max(p.motion_min, p.noise_k * self.noise_)
        moved = std > threshold
        if self._prev_mean is not None and self._prev_sec == s - 1:
            moved = moved or float(np.linalg.norm(mean - self._prev_mean)) > p.tilt_min
        self._prev_mean, self._prev_sec = mean, s
        self._active += int(moved)
        self._seconds += 1
        self._stds.append(std)
        self._vec_sum += mean

    def _close_minute(self) -> None:
        p = self.params
        if self._stds:
            quiet = float(np.percentile(self._stds, 25))
            self.noise_ = max(p.noise_min, min(quiet, self.noise_ * p.noise_growth_per_min))
        temp = self._temp_sum / self._temp_n if self._temp_n else None
        turned = False
        norm = float(np.linalg.norm(self._vec_sum))
        if self._seconds and self._active < p.min_active_s and norm > 0:
            direction = self._vec_sum / norm
            if self._still_dir is not None:
                cos = float(np.clip(direction @ self._still_dir, -1.0, 1.0))
                turned = math.degrees(math.acos(cos)) > p.turn_deg
            self._still_dir = direction
        self.minutes_.append(WearMinute(
            start_s=float(self._minute) * 60.0,  # type: ignore[arg-type]
            active_s=min(self._active, 60),
            seconds=min(self._seconds, 60),
            temp_c=temp,
            noise=self.noise_,
            turned=turned,
        ))
        self._minute = None
        self._active = self._seconds = 0
        self._stds = []
        self._temp_sum, self._temp_n = 0.0, 0
        self._vec_sum = np.zeros(3)


@dataclass
class _Pending:
    start_s: float
    moving: bool
    temp: float | None
    turned: bool = False


class WearDetector:
    """Per-minute moving/still and temperature in, final worn / not-worn flags out.

    Feed minutes in time order with :meth:`update`; each call sets ``decided_start_s_`` and
    ``decided_worn_`` to the minutes whose flag became final (oldest first, at most
    :attr:`max_lag_min` minutes after the minute itself). Holes of up to ``max_fill_min``
    between minutes are filled with still, unmeasured minutes (also reported); a longer hole or
    a clock going backwards ends the stretch as if the stream had ended.
    """

    def __init__(self, params: WearParams | None = None) -> None:
        self.params = params or WearParams()
        p = self.params
        self.max_lag_min = max(p.warm_min, p.choi_min, p.cool_min) + p.bump_window_min \
            + p.bump_max_min
        self.decided_start_s_ = np.empty(0)
        self.decided_worn_ = np.empty(0, dtype=bool)
        self.worn_now_ = True
        self._out_s: list[float] = []
        self._out_worn: list[bool] = []
        self._last_s: float | None = None
        # (start_s, temp) of the last moving minutes while worn: the body-warm reference
        self._ref: deque[tuple[float, float]] = deque(maxlen=p.ref_minutes)
        self._off_level: tuple[float, float] | None = None  # (start_s, temp) when last off
        self._off = False
        self._reset_run()

    @property
    def undecided_minutes(self) -> int:
        return len(self._pending)

    def update(
        self,
        start_s: Sequence[float] | np.ndarray,
        active_s: Sequence[int] | np.ndarray,
        temp_c: Sequence[float | None] | np.ndarray | None = None,
        turned: Sequence[bool] | np.ndarray | None = None,
    ) -> WearDetector:
        """Minutes in order: start (wall s), moving seconds, mean temperature (NaN/None: none),
        turned (see WearMinute)."""
        self._out_s, self._out_worn = [], []
        starts = np.asarray(start_s, dtype=np.float64)
        active = np.asarray(active_s, dtype=np.int64)
        temps = (np.full(starts.shape, np.nan) if temp_c is None
                 else np.array([np.nan if v is None else v for v in temp_c], dtype=np.float64))
        turns = (np.zeros(starts.shape, dtype=bool) if turned is None
                 else np.asarray(turned, dtype=bool))
        for s, a, tc, tu in zip(starts.tolist(), active.tolist(), temps.tolist(), turns.tolist(),
                                strict=True):
            self._minute(_Pending(s, a >= self.params.min_active_s,
                                  tc if math.isfinite(tc) else None, bool(tu)))
        self._publish()
        return self

    def update_minutes(self, minutes: Iterable[WearMinute]) -> WearDetector:
        ms = list(minutes)
        return self.update([m.start_s for m in ms], [m.active_s for m in ms],
                           [m.temp_c for m in ms], [m.turned for m in ms])

    def finish(self) -> WearDetector:
        """End of stream: decide what is pending (a stretch shorter than needed was worn)."""
        self._out_s, self._out_worn = [], []
        self._flush()
        self._publish()
        return self

    # -- the rule -----------------------------------------------------------------------------
    def _minute(self, m: _Pending) -> None:
        if self._last_s is not None:
            gap = round((m.start_s - self._last_s) / 60.0)
            if gap <= 0 or gap - 1 > self.params.max_fill_min:
                self._flush()
            else:
                for k in range(1, gap):
                    self._step(_Pending(self._last_s + 60.0 * k, False, None))
        self._last_s = m.start_s
        self._step(m)

    def _step(self, m: _Pending) -> None:
        p = self.params
        if m.moving:
            if self._bump_at is None:
                if not self._pending and not self._off:
                    self._emit_worn([m])
                    return
                if self._still_streak < p.bump_window_min:
                    self._break(m)
                    return
                self._bump_at = len(self._pending)
                self._temp_before_bump = self._last_temp
                self._moving_streak = 1
                self._pending.append(m)
                return
            if self._after_bump == 0 and self._moving_streak < p.bump_max_min:
                self._moving_streak += 1
                self._pending.append(m)
                return
            self._break(m)
            return
        if m.turned and (self._pending or self._off):
            self._break(m)  # turned since the last still minute: moved, never a bump
            return
        # a still minute
        self._pending.append(m)
        if m.temp is not None:
            self._last_temp = m.temp
            if self._run_max_temp is None or m.temp > self._run_max_temp:
                self._run_max_temp, self._fall = m.temp, 0.0
            self._fall = max(self._fall, self._run_max_temp - m.temp)
            self._run_min_temp = m.temp if self._run_min_temp is None \
                else min(self._run_min_temp, m.temp)
            self._rise = max(self._rise, m.temp - self._run_min_temp)
        if self._bump_at is not None:
            self._after_bump += 1
            if (self._off and m.temp is not None and self._temp_before_bump is not None
                    and m.temp >= self._temp_before_bump + p.rise_c):
                self._break(None)  # clipped back on and sat still: it warms up
                return
            if self._after_bump >= p.bump_window_min:  # a tolerated bump
                self._bump_at = None
                self._still_streak = self._after_bump
                self._moving_streak = self._after_bump = 0
        else:
            self._still_streak += 1
        if self._off:
            if self._bump_at is None:
                self._emit(self._pending, False)
                self._pending = []
            return
        length = len(self._pending) if self._bump_at is None else self._bump_at
        if length >= self._needed():
            self._emit(self._pending[:length], False)
            self._pending = self._pending[length:]
            if self._bump_at is not None:
                self._bump_at = 0
            self._off = True

    def _needed(self) -> int:
        """Still minutes that make this stretch 'not worn' (the temperature's say)."""
        p = self.params
        if self._run_min_temp is None:
            return p.choi_min
        if self._rise >= p.rise_c:
            return p.warm_min  # it warmed while still: a body (clipped on, or under covers)
        if self._fall >= p.drop_c:
            return p.cool_min  # it cooled during the stretch: taken off
        since = self._pending[0].start_s - 60.0 * p.ref_max_age_min if self._pending else -np.inf
        recent = [temp for start, temp in self._ref if start >= since]
        if not recent:
            return p.choi_min
        worn_temp = sum(recent) / len(recent)
        if self._run_min_temp <= worn_temp - p.drop_c:
            return p.cool_min  # colder than the clip was while worn
        if (self._off_level is None or self._pending[0].start_s - self._off_level[0]
                > 3600.0 * p.off_max_age_h or worn_temp - self._off_level[1] < p.min_contrast_c):
            return p.choi_min  # warm, but warm is not known to differ from off on this clip
        return p.warm_min

    def _break(self, m: _Pending | None) -> None:
        """A real movement (or a warm-up) ends the stretch: what is pending was worn."""
        pending = self._pending + ([m] if m is not None else [])
        was_off = self._off
        self._off = False
        self._reset_run()
        self._emit(pending, True)
        if not was_off:  # minutes that end a non-wear stretch are not a body-warm reference
            self._note_reference(pending)

    def _emit_worn(self, minutes: list[_Pending]) -> None:
        self._emit(minutes, True)
        self._note_reference(minutes)
        self._still_streak = 0

    def _note_reference(self, minutes: list[_Pending]) -> None:
        for x in minutes:
            if x.moving and x.temp is not None:
                self._ref.append((x.start_s, x.temp))

    def _flush(self) -> None:
        if self._pending:
            if self._off:
                self._emit(self._pending, self._bump_at is not None)
            else:
                length = len(self._pending) if self._bump_at is None else self._bump_at
                off = length >= self._needed()
                self._emit(self._pending[:length], not off)
                self._emit(self._pending[length:], True)
        self._off = False
        self._reset_run()
        self._last_s = None

    def _reset_run(self) -> None:
        self._pending: list[_Pending] = []
        self._bump_at: int | None = None
        self._moving_streak = 0
        self._after_bump = 0
        self._still_streak = 0
        self._run_min_temp: float | None = None
        self._run_max_temp: float | None = None
        self._fall = 0.0
        self._rise = 0.0
        self._last_temp: float | None = None
        self._temp_before_bump: float | None = None

    def _emit(self, minutes: list[_Pending], worn: bool) -> None:
        for x in minutes:
            self._out_s.append(x.start_s)
            self._out_worn.append(worn)
            if not worn and not x.moving and x.temp is not None:
                old = x.temp if self._off_level is None else self._off_level[1]
                self._off_level = (x.start_s, old + 0.1 * (x.temp - old))

    def _publish(self) -> None:
        self.decided_start_s_ = np.asarray(self._out_s, dtype=np.float64)
        self.decided_worn_ = np.asarray(self._out_worn, dtype=bool)
        self.worn_now_ = not self._off


class WearTracker:
    """Features and detector together, as the firmware loop needs them: feed every IMU batch,
    then take each closed minute's :class:`WearMinute` by its start when the step minute of the
    same start is stored. Holds at most ``keep_minutes`` unclaimed minutes."""

    def __init__(self, params: WearParams | None = None, offset_s: float = 0.0,
                 keep_minutes: int = 30) -> None:
        self.features = WearFeatures(params, offset_s)
        self.detector = WearDetector(params)
        self.keep_minutes = keep_minutes
        self._by_start: dict[float, WearMinute] = {}

    def update(self, t: np.ndarray, acc: np.ndarray, temp_c: float | None = None) -> None:
        self._add(self.features.update(t, acc, temp_c).minutes_)

    def finish(self) -> None:
        self._add(self.features.finish())

    def rebase(self, offset_s: float) -> None:
        self.features.rebase(offset_s)

    def take(self, start_s: float) -> WearMinute | None:
        """The closed minute starting at start_s (wall clock), once; None if there is none."""
        return self._by_start.pop(float(start_s), None)

    @property
    def worn_now(self) -> bool:
        """The live guess: False only once a not-worn stretch has been confirmed."""
        return self.detector.worn_now_

    def _add(self, minutes: list[WearMinute]) -> None:
        if not minutes:
            return
        for m in minutes:
            self._by_start[m.start_s] = m
        while len(self._by_start) > self.keep_minutes:
            self._by_start.pop(next(iter(self._by_start)))
        self.detector.update_minutes(minutes)


def wear_flags(
    start_s: Sequence[float] | np.ndarray,
    active_s: Sequence[int] | np.ndarray,
    temp_c: Sequence[float | None] | np.ndarray | None = None,
    params: WearParams | None = None,
    turned: Sequence[bool] | np.ndarray | None = None,
) -> np.ndarray:
    """Worn (True) / not worn per given minute, decided with the whole stream in hand (the host
    report, tests). Minutes are sorted by start first; the result is in the input's order."""
    starts = np.asarray(start_s, dtype=np.float64)
    order = np.argsort(starts, kind="stable")
    active = np.asarray(active_s, dtype=np.int64)[order]
    temps = None
    if temp_c is not None:
        temps = np.array([np.nan if v is None else v for v in temp_c], dtype=np.float64)[order]
    det = WearDetector(params)
    turns = None if turned is None else np.asarray(turned, dtype=bool)[order]
    det.update(starts[order], active, temps, turns)
    decided_s, decided = [det.decided_start_s_], [det.decided_worn_]
    det.finish()
    decided_s.append(det.decided_start_s_)
    decided.append(det.decided_worn_)
    flags = dict(zip(np.concatenate(decided_s).tolist(), np.concatenate(decided).tolist(),
                     strict=True))
    return np.array([flags.get(s, True) for s in starts.tolist()], dtype=bool)


@dataclass(frozen=True)
class DayWear:
    """One local day: minutes with data, minutes worn, and whether the day counts."""

    day: dt.date
    recorded_minutes: int
    worn_minutes: int

    @property
    def worn_hours(self) -> float:
        return self.worn_minutes / 60.0

    @property
    def valid(self) -> bool:
        return self.worn_hours >= VALID_DAY_HOURS


def daily_wear(
    start_utc: Sequence[float] | np.ndarray,
    worn: Sequence[bool] | np.ndarray,
    tz: dt.tzinfo,
    days: Sequence[dt.date],
) -> list[DayWear]:
    """Wear per local day for the given days (minutes outside them are ignored)."""
    start = np.asarray(start_utc, dtype=np.float64)
    flags = np.asarray(worn, dtype=bool)
    out = []
    for day in days:
        lo = dt.datetime.combine(day, dt.time(0), tzinfo=tz).timestamp()
        hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).timestamp()
        inside = (start >= lo) & (start < hi)
        out.append(DayWear(day, int(inside.sum()), int((inside & flags).sum())))
    return out
