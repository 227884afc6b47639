"""GaitSequence: is this walking? Bouts from candidate steps, through daily-life pauses and turns.

The stage the Mobilise-D pipeline calls gait-sequence detection, done on candidates as they come:

* **Start.** Candidates are held back until ``min_bout_steps`` in a row look like walking; then
  they are counted retroactively, with the gentle step before them (``contacts.lead_in``), so
  rejecting a car's bumps or a sit-to-stand does not cost the first steps of every bout.
  Walking means: intervals within 0.3-1.6 s and alike (strides more so than steps, since left
  and right may differ; a limp's steps may differ 2 x if one stride looks like the next), peak
  heights alike (a bump's ringing decays; at the side of the hip one leg's steps may peak far
  lower than the other's, and with more proof a guarded or limping step may too,
  ``_heights_alike``), one step's waveform like the next
  (autocorrelation at the step lag), gravity turning less than ``max_turn_deg`` (a device
  handled, a wearer sitting down). A run with less proof must move the hip across
  gravity about as much as along it, as walking does (a car's bounce is up and down, a body
  shifting is sideways), and repeat more closely (``_walking_like``): a faint run (else it needs
  twice as many steps), a run whose first stride is slower (the first step out of a
  standstill), and a short walk's end, which shows fewer clear steps because termination fades
  over the last two (``min_bout_steps - 1`` clear steps and a gentle one in their rhythm).
  A walk of only ``short_walk_steps`` clear steps, with nothing after them, counts too when the
  wearer stands as they do when walking (gravity within ``short_walk_tilt`` of where it pointed
  during their last bout), at a pace a walk out of a standstill keeps (``_short_walk``).
  What is faint is relative to the wearer once they have walked 10 steps in a bout: a slow or
  guarded walker's steps are fainter than a brisk one's (``_faint``). Stepping about a room or
  a kitchen keeps no rhythm at all: once the wearer has walked, four clear heel strikes at any
  intervals start a bout too, when the wearer stands as when walking (``_stepping_tail``).
  With a gyroscope, the peaks while the wearer turned just before a bout's first step are held
  too: a turn's gentle steps, chained back from it (``contacts.turn_lead_in``).
* **Inside.** Each candidate whose interval fits the bout's rhythm counts (an early, small bump
  is the second bump of a slow step, not a step). A break in rhythm does not end the bout: after
  a pause or a turn shorter than ``pause_s``, two clear steps in rhythm carry it on, and the gentle
  turning steps held meanwhile fill the gap (``contacts.fill_gap``). With a gyroscope, the peaks
  while the wearer turns are held until the first clear step out of the turn, and the chain of
  them closest to an even rhythm are the turn's steps (``contacts.turn_steps``). In a bout that
  started at no rhythm (stepping about), every clear step counts whenever it comes
  (``_stepping``).
* **End.** No clear step for ``pause_s``, or gravity turning away (sat down, took it off), ends
  the bout; a gentle last step that keeps the rhythm still counts (``contacts.trailing``).

Action method :meth:`update` takes the candidates in order; results in ``*_`` attributes. A bout
ends at the same candidate whatever the chunking (the time-out is judged on grid indices), so the
steps do not depend on how the stream was cut.
"""

from __future__ import annotations

from statistics import median  # numpy's imports numpy.ma on first use: 14 ms on a hot path

import numpy as np

from device.core import contacts
from device.core.params import DetectorParams
from device.core.peaks import Candidate
from device.core.step_signal import axis_energy


class SignalHistory:
    """The last few seconds of the step signal (and the acceleration and gravity beside it), by
    grid index: what a run in question is judged on (self-similarity, energy by axis)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = int(capacity)
        self.reset()

    def reset(self) -> None:
        """A new segment: its indices do not continue the old one's."""
        self._values = np.empty(0)
        self._acc: np.ndarray | None = None
        self._gravity = np.zeros((0, 3))
        self._next = 0

    def push(self, start: int, values: np.ndarray, gravity: np.ndarray | None = None,
             acc: np.ndarray | None = None) -> None:
        keep = self.capacity
        self._values = np.concatenate((self._values, values))[-keep:]
        if acc is not None and gravity is not None:
            old = self._acc if self._acc is not None else np.zeros((0, 3))
            self._acc = np.concatenate((old, acc))[-keep:]
            self._gravity = np.concatenate((self._gravity, gravity))[-keep:]
        self._next = start + len(values)

    def _span(self, lo: int, hi: int) -> slice:
        first = self._next - len(self._values)
        return slice(max(lo - first, 0), max(hi - first, 0))

    def window(self, lo: int, hi: int) -> np.ndarray:
        """Values at grid indices lo..hi-1 that are still held."""
        return self._values[self._span(lo, hi)]

    def axes(self, lo: int, hi: int) -> tuple[float, float] | None:
        """(vertical, horizontal) energy of the dynamic acceleration at lo..hi-1, or None when
        the acceleration is not held."""
        if self._acc is None or len(self._acc) != len(self._values):
            return None
        span = self._span(lo, hi)
        return axis_energy(self._acc[span], self._gravity[span])


class GaitSequence:
    """Walking bouts from candidate steps. Action method: :meth:`update`.

    Results after each call:
      steps_: the candidates confirmed as steps by this call (ascending within each bout).
      walking_: a bout is under way.
      interval_s_: the bout's rhythm, its typical step interval (0 before the first bout).
      held_index_: the earliest candidate that may still become a step (None when none is held).
    """

    def __init__(self, rate_hz: float, params: DetectorParams, history: SignalHistory) -> None:
        self.rate_hz = float(rate_hz)
        self.params = params
        self.history = history
        self._min_step_cells = params.min_step_s * self.rate_hz
        self._cos_turn = float(np.cos(np.radians(params.max_turn_deg)))
        self._cos_tilt = float(np.cos(np.radians(params.short_walk_tilt)))
        self.steps_: list[Candidate] = []
        self._upright: np.ndarray | None = None  # gravity's direction in this wearer's last bout
        self._gait_height = 0.0  # the typical step of this wearer's strongest walk (m/s²)
        self.reset()

    def reset(self) -> None:
        """A new segment: no bout, nothing held."""
        self._pending: list[Candidate] = []   # not walking: candidates that may start a bout
        self._weak: list[Candidate] = []      # walking: candidates since the last step, held
        self._resume: Candidate | None = None  # a clear step after a pause, awaiting a second
        self._closing: Candidate | None = None  # an early, small peak that may close the bout
        self._turn: list[Candidate] = []      # peaks since the last step while turning (gyro)
        self._turn_before: list[Candidate] = []  # not walking: peaks while turning (gyro), the
                                                 # steps of a turn a bout may start after
        self._last: Candidate | None = None
        self._bout_first = 0.0                # the bout's first step (grid index)
        self._bout_steps = 0                  # and how many it has counted
        self.walking_ = False
        self.interval_s_ = 0.0
        self._height = 0.0
        self._rhythmless = False              # the bout started from steps at no rhythm

    @property
    def held_index_(self) -> float | None:
        held = [c.index for c in self._pending + self._weak + self._turn + self._turn_before]
        if self._closing is not None:
            held.append(self._closing.index)
        if self._resume is not None:
            held.append(self._resume.index)
        return min(held) if held else None

    def update(
        self, candidates: list[Candidate], processed_until: int, held_by_picker: float | None,
        final: bool = False,
    ) -> GaitSequence:
        """Take released candidates in order; close a bout that has timed out; ``final`` ends
        the segment (and the bout)."""
        out: list[Candidate] = []
        for cand in candidates:
            out += self._learn(self._accept(cand))
        # A bout with no step for pause_s is over: close it now rather than at the next peak
        # (the same steps either way; only sooner, so its minutes can close).
        if self.walking_ and self._last is not None and not final:
            limit = self._anchor() + self.params.pause_s * self.rate_hz
            if processed_until - 2 > limit and (held_by_picker is None or held_by_picker > limit):
                out += self._end_bout()
        if final:
            if self.walking_:
                out += self._end_bout()
            out += self._let_go()
        else:
            # Candidates that no later candidate can join in a run (nor lead into one) are let
            # go, so that a few bumps before a long standstill do not hold the minutes open.
            future = processed_until - 2
            if held_by_picker is not None:
                future = min(future, held_by_picker)
            if self._pending and future - self._pending[-1].index > self._reach():
                out += self._let_go()
            self._forget_turns(future)
        self.steps_ = out
        return self

    # -- bout logic -----------------------------------------------------------------------------
    def _accept(self, cand: Candidate) -> list[Candidate]:
        p = self.params
        steps: list[Candidate] = []
        if self._pending and cand.index - self._pending[-1].index > self._reach():
            steps += self._let_go()  # as update() does when the stream is cut between the two
        self._forget_turns(cand.index)
        if self.walking_ and self._last is not None:
            interval = (cand.index - self._last.index) / self.rate_hz
            if cand.index - self._anchor() > p.pause_s * self.rate_hz or self._turned(
                    self._last, cand):
                steps += self._end_bout()
            else:
                counted, held = self._inside(cand, interval)
                if counted or not held:
                    return counted
                # Not (yet) a step of this bout: it may start a bout of its own, at another pace
                # (after a pause the wearer may walk faster or slower than before).
                run = self._offer_pending(cand)
                if run is None:
                    return []
                return self._end_bout(before=run[0]) + self._start_bout(run)
        if self._is_turning(cand):
            self._turn_before = [c for c in self._turn_before
                                 if cand.index - c.index <= self._horizon()] + [cand]
        run = self._offer_pending(cand)
        return steps + (self._start_bout(run) if run is not None else [])

    def _learn(self, steps: list[Candidate]) -> list[Candidate]:
        """Count the bout's steps; once it has ``gait_steps`` it is a walk, and its typical
        step tells how strongly this wearer walks (:meth:`_faint`)."""
        if self.walking_ and self._bout_steps < self.params.gait_steps:
            self._bout_steps += sum(1 for c in steps if c.index >= self._bout_first)
            if self._bout_steps >= self.params.gait_steps:
                self._gait_height = max(self._gait_height, self._height)
        return steps

    def _offer_pending(self, cand: Candidate) -> list[Candidate] | None:
        """Hold a candidate that may start a bout; the run it completes, if it looks like one.
        A run returned starts a bout at once; whether it kept a rhythm is noted for that bout."""
        p = self.params
        rhythmless = False
        if cand.height <= max(p.rms_factor * cand.rms, p.floor_ms2):
            run = None if self.walking_ else self._ending_run(cand)
        else:
            self._pending.append(cand)
            # Forget candidates that can no longer be part of a bout with this one.
            self._pending = [c for c in self._pending
                             if cand.index - c.index <= self._horizon()]
            run = self._regular_tail()
            if run is None:
                run, rhythmless = self._stepping_tail(), True
        if run is not None:
            self._rhythmless = rhythmless
        return run

    def _horizon(self) -> float:
        """How far back (grid cells) a held candidate may still be part of a run."""
        p = self.params
        return p.max_step_s * self.rate_hz * (max(p.min_bout_steps, p.weak_bout_steps) - 1)

    def _forget_turns(self, now: float) -> None:
        """Forget the turning peaks held before a bout once the last is too long ago (more than
        the horizon before grid index ``now``) to lead into any bout."""
        if self._turn_before and now - self._turn_before[-1].index > self._horizon():
            self._turn_before = []

    def _reach(self) -> float:
        """How far (grid cells) a held candidate may lie from the next one of its run."""
        return max(self.params.max_step_s, self.params.lead_in_s) * self.rate_hz

    def _let_go(self) -> list[Candidate]:
        """Forget the held candidates, counting them when they were a whole short walk."""
        held, steps = self._pending, []
        self._pending = []
        if self.walking_:
            return steps
        for end in (len(held), len(held) - 1):  # the last may be the walk's fading end
            run = self._short_walk(held[:end])
            if run is None:
                continue
            cells = float(np.mean(np.diff([c.index for c in run])))  # its rhythm
            height = float(median(c.height for c in run))
            steps = contacts.lead_in(held[: end - len(run)], run[0], cells, height,
                                     self.rate_hz, self.params)
            after = held[end:]
            if after and after[0].height >= min(c.height for c in run):
                after = []  # not the walk's fading end: a jolt (sitting down, a door)
            steps += run + contacts.trailing(after, run[-1], cells, height, self.params)
            # A turn after the short walk may still lead into a bout; not one before its end.
            self._turn_before = [c for c in self._turn_before if c.index > steps[-1].index]
            return steps
        return steps

    def _short_walk(self, held: list[Candidate]) -> list[Candidate] | None:
        """The last ``short_walk_steps`` held candidates if they were a whole walk: clear, alike
        in height and rhythm (``end_regularity``), at most ``short_walk_spm`` (a walk of three
        steps out of a standstill is not brisk), moving and repeating like walking, gravity
        steady and where it was in this wearer's last bout (upright: not lying, not bent)."""
        p = self.params
        n = p.short_walk_steps
        if n <= 0 or len(held) < n or self._upright is None:
            return None
        run = held[-n:]
        rhythm = self._clear_rhythm(run)
        if rhythm is None or rhythm < 60.0 / p.short_walk_spm:
            return None
        if not self._stands_as_walking(run):
            return None
        return run if self._gravity_steady(run) and self._walking_like(run) else None

    def _stands_as_walking(self, run: list[Candidate]) -> bool:
        """Gravity at every step within ``short_walk_tilt`` of where it pointed in this
        wearer's last bout: upright as when walking (not lying, bent or seated). False before
        the wearer's first bout, when nothing says how they stand to walk."""
        if self._upright is None:
            return False
        return all(c.up is not None and float(c.up @ self._upright) >= self._cos_tilt
                   for c in run)

    def _start_bout(self, run: list[Candidate]) -> list[Candidate]:
        """A run that looks like walking starts a bout: count it and its gentle first step.
        Where gravity points meanwhile is how this wearer stands when walking."""
        ups = [c.up for c in run if c.up is not None]
        if ups:
            mean = np.mean(ups, axis=0)
            self._upright = mean / max(float(np.linalg.norm(mean)), 1e-9)
        intervals = np.diff([c.index for c in run]) / self.rate_hz
        self.walking_ = True
        self.interval_s_ = float(median(intervals.tolist()))
        self._last = run[-1]
        self._closing = None
        self._height = float(median(c.height for c in run))
        earlier = [c for c in self._pending if c.index < run[0].index]
        lead = contacts.lead_in(earlier, run[0], self._cells(), self._height, self.rate_hz,
                                self.params)
        first = (lead + run)[0]
        lead = contacts.turn_lead_in([c for c in self._turn_before if c.index < first.index],
                                     first, self._cells(), self._height, self.params) + lead
        self._turn_before = []
        self._pending = []
        self._weak = []
        self._resume = None
        self._bout_first, self._bout_steps = (lead + run)[0].index, 0
        return lead + run

    def _inside(self, cand: Candidate, interval: float) -> tuple[list[Candidate], bool]:
        """A candidate at most ``pause_s`` after the bout's last step: the steps it confirms,
        and whether it is held (it may still become a step) rather than dismissed as a bump."""
        p = self.params
        rhythm = self.interval_s_
        turning = self._is_turning(cand)
        clear = self._height >= self._faint(p.faint_bout_ms2)  # faint: no benefit of doubt
        if clear and (turning or self._turn):
            return self._turning(cand, turning), False
        if self._rhythmless and self._stepping(cand, interval):
            return self._counted([cand]), False
        if interval < p.rhythm_low * rhythm:
            return [], False  # a bump inside the rhythm (e.g. push-off after heel strike)
        if interval < p.early * rhythm and cand.height < p.early_height * self._height:
            # Early and small: the second bump of a slow step; or, not long before the next
            # step is due, a walk's closing step (it comes early): held, it may end the bout.
            if p.close_early < p.early and interval >= p.close_early * rhythm:
                self._closing = cand
                return [], True
            return [], False
        strong = self._strong(cand)
        if strong and interval <= min(p.rhythm_high * rhythm, p.max_step_s):
            self.interval_s_ = 0.75 * rhythm + 0.25 * interval
            self._height = 0.75 * self._height + 0.25 * cand.height
            self._last = cand
            self._closing = None
            self._weak = []
            self._pending = []
            return [cand], False
        if clear and strong and cand.height >= p.resume_height * self._height:
            # After a pause or a turn, walking goes on once two steps keep a rhythm again.
            prev, self._resume = self._resume, cand
            if prev is not None:
                gap = (cand.index - prev.index) / self.rate_hz
                if p.early * rhythm <= gap <= p.rhythm_high * rhythm:
                    weak = [c for c in self._weak if c.index < prev.index]
                    filled = contacts.fill_gap(weak, self._last, prev, self._cells(),
                                               self._height, p)
                    return self._counted([*filled, prev, cand]), False
                self._weak.append(prev)
            return [], True
        self._weak.append(cand)
        return [], True

    def _stepping(self, cand: Candidate, interval: float) -> bool:
        """In a bout that started at no rhythm (:meth:`_stepping_tail`), a clear step counts
        whenever it comes (at least ``min_bout_interval_s`` after the last, at least
        ``resume_height`` x the typical peak, the wearer standing as when walking): stepping
        about keeps no rhythm for the rhythm rules to follow."""
        p = self.params
        return (self._strong(cand) and interval >= p.min_bout_interval_s
                and cand.height >= p.resume_height * self._height
                and self._stands_as_walking([cand]))

    def _turning(self, cand: Candidate, turning: bool) -> list[Candidate]:
        """The gyro says the wearer turns (or did since the last step): while the body pivots
        the hip hardly rises and its peaks are no guide to where the feet land, so they are
        held; the first clear step out of the turn decides which were steps, by the rhythm
        (``contacts.turn_steps``, the rhythm ``turn_slower`` x longer). A turn held longer than
        ``turn_hold_s`` (walking a curve) is counted as it goes (``contacts.in_rhythm``)."""
        p = self.params
        assert self._last is not None
        cells = self._cells()
        strong = self._strong(cand)
        if not turning and strong and cand.height >= p.resume_height * self._height:
            steps = contacts.turn_steps(self._turn, self._last, cand, p.turn_slower * cells, p)
            self._turn = []
            return self._counted([*steps, cand])
        if cand.height >= p.fill_height * self._height:
            self._turn.append(cand)
        else:
            self._weak.append(cand)  # too faint for a turning step: maybe the walk's last
        if cand.index - self._last.index <= p.turn_hold_s * self.rate_hz:
            return []
        steps = contacts.in_rhythm([c for c in self._turn if self._is_turning(c)], self._last,
                                   cells, p)
        self._turn = [c for c in self._turn if steps and c.index > steps[-1].index]
        return self._counted(steps) if steps else []

    def _strong(self, cand: Candidate) -> bool:
        """Stands out of the recent signal as a step inside a bout does (``rms_factor_walking``
        x the RMS) and above the floor."""
        p = self.params
        return cand.height > max(p.rms_factor_walking * cand.rms, p.floor_ms2)

    def _is_turning(self, cand: Candidate) -> bool:
        return cand.yaw_dps is not None and abs(cand.yaw_dps) >= self.params.turn_yaw_dps

    def _counted(self, steps: list[Candidate]) -> list[Candidate]:
        """Steps counted after a break in rhythm: the last is where the bout goes on from, and
        nothing held before it can be a step any more."""
        self._last = steps[-1]
        self._closing = None
        self._weak = []
        self._resume = None
        self._pending = []
        return steps

    def _end_bout(self, before: Candidate | None = None) -> list[Candidate]:
        """Close the bout (where a new one starts at ``before``, if given): a gentle last step
        that keeps its rhythm is a step too. Held candidates after it may start the next bout."""
        held = sorted(self._weak + [c for c in (self._resume, self._closing) if c is not None],
                      key=lambda c: c.index)
        if before is not None:
            held = [c for c in held if c.index < before.index]
        steps: list[Candidate] = []
        if self._turn and self._last is not None:
            # The bout ends in or just after a turn: its turning steps as they keep the rhythm;
            # the gentle peaks after it may be its last step, as after any other.
            turn = [c for c in self._turn if before is None or c.index < before.index]
            steps = contacts.in_rhythm([c for c in turn if self._is_turning(c)], self._last,
                                       self._cells(), self.params)
            if steps:
                self._last = steps[-1]
            held = sorted([*held, *(c for c in turn if not self._is_turning(c))],
                          key=lambda c: c.index)
            held = [c for c in held if c.index > self._last.index]
        self._turn = []
        if self._last is not None and self._height >= self._faint(self.params.faint_bout_ms2):
            steps += contacts.trailing(held, self._last, self._cells(), self._height,
                                       self.params)
        if steps:
            self._pending = [c for c in self._pending if c.index > steps[-1].index]
        self.walking_ = False
        self._weak = []
        self._resume = None
        self._closing = None
        return steps

    def _anchor(self) -> float:
        """Where the current pause is measured from: the last step, a step resuming after it, or
        the last peak held while turning (a turn is no pause)."""
        assert self._last is not None
        if self._turn:
            return self._turn[-1].index
        return self._resume.index if self._resume is not None else self._last.index

    def _cells(self) -> float:
        return self.interval_s_ * self.rate_hz

    def _turned(self, a: Candidate, b: Candidate) -> bool:
        """Gravity turned more than max_turn_deg between two candidates: the device was
        handled (a phone into a pocket) or the wearer sat down, not a step."""
        if a.up is None or b.up is None:
            return False
        return float(a.up @ b.up) < self._cos_turn

    def _regular_tail(self) -> list[Candidate] | None:
        """The last min_bout_steps candidates if their rhythm is a walking rhythm."""
        p = self.params
        if len(self._pending) < p.min_bout_steps:
            return None
        run = self._pending[-p.min_bout_steps :]
        faint = median(c.height for c in run) < p.weak_ms2
        if faint and not self._walking_like(run):
            if len(self._pending) < p.weak_bout_steps:
                return None
            run = self._pending[-p.weak_bout_steps :]
        if not (self._regular(run, p.stride_regularity)
                # The first step out of a standstill is slower: strides less alike, then, if
                # the run moves and repeats like walking.
                or (self._regular(run, p.onset_stride_regularity) and self._walking_like(run))
                # A limp, or one leg's steps peaking later at the side of the hip: steps less
                # alike, strides as alike as ever, and one stride like the next.
                or (self._regular(run, p.stride_regularity, p.uneven_regularity)
                    and self._walking_like(run, stride=True))):
            return self._ending(run[:-1], run[-1])  # or a short walk's fading end
        iv = np.diff([c.index for c in run]) / self.rate_hz
        if float(median(iv.tolist())) < p.min_bout_interval_s:
            return None
        if not self._heights_alike(run):
            return self._ending(run[:-1], run[-1])  # a short walk's end: its last step fades
        if not self._gravity_steady(run):
            return None
        if self._step_similarity(run) < p.min_step_corr:
            return None
        return run

    def _stepping_tail(self) -> list[Candidate] | None:
        """The last ``min_bout_steps`` candidates if they are steps at no rhythm: daily life's
        stepping about (a kitchen, a desk), where one step comes 0.4 s after the last and the
        next 1.5 s later, which no rhythm check admits. Without a rhythm as proof, each step
        must be a clear heel strike (median peak at least ``irregular_ms2``) and the wearer must
        stand as when walking, gravity steady (a car's bounce is seated, a sit-to-stand turns
        gravity); peaks alike, and intervals within ``min_bout_interval_s``-``max_step_s``."""
        p = self.params
        if p.irregular_ms2 <= 0 or len(self._pending) < p.min_bout_steps:
            return None
        run = self._pending[-p.min_bout_steps :]
        iv = np.diff([c.index for c in run]) / self.rate_hz
        if iv.min() < p.min_bout_interval_s or iv.max() > p.max_step_s:
            return None
        if median(c.height for c in run) < p.irregular_ms2 or not self._heights_alike(
                run, rhythm=False):
            return None
        return run if self._stands_as_walking(run) and self._gravity_steady(run) else None

    def _ending_run(self, gentle: Candidate) -> list[Candidate] | None:
        """A short walk's end: ``min_bout_steps - 1`` clear steps and then a gentle one in
        their rhythm (gait termination fades over the last two steps, so a walk of five steps
        shows only three clear ones). Less proof than a full run, so it must also move and
        repeat the way walking does (:meth:`_walking_like`)."""
        p = self.params
        if len(self._pending) < p.min_bout_steps - 1:
            return None
        return self._ending(self._pending[-(p.min_bout_steps - 1):], gentle)

    def _ending(self, strong: list[Candidate], gentle: Candidate) -> list[Candidate] | None:
        """``strong`` and then ``gentle`` as a short walk's end (see :meth:`_ending_run`); once
        the wearer has walked, only standing as they do to walk (:meth:`_stands_as_walking`)."""
        p = self.params
        run = [*strong, gentle]
        heights = [c.height for c in strong]
        if p.end_height <= 0 or not (
                p.end_height * float(median(heights)) <= gentle.height < min(heights)):
            return None
        # A short walk's rhythm is its clear steps' (the first out of a standstill may be a
        # little slower); the fading step comes a little early or late. Its steps may be
        # uneven (a limp, a pocket's or a side clip's far leg): one stride like the next will do.
        rhythm = self._clear_rhythm(strong)
        last = (gentle.index - strong[-1].index) / self.rate_hz
        if rhythm is None or rhythm < p.min_bout_interval_s or not (
                p.end_early * rhythm <= last <= p.trail_gap * rhythm):
            return None
        if self._upright is not None and not self._stands_as_walking(run):
            return None  # seated or lying, as on a bed's edge: less proof, so upright as walking
        return run if self._gravity_steady(run) and self._walking_like(run, stride=True) else None

    def _clear_rhythm(self, steps: list[Candidate]) -> float | None:
        """The mean interval (s) of a few clear steps alike, the proof a short walk has: their
        median peak not faint (``weak_ms2``, :meth:`_faint`), heights within ``height_spread``,
        intervals in range and within ``end_regularity`` of each other. None when they are not."""
        p = self.params
        heights = [c.height for c in steps]
        if median(heights) < self._faint(p.weak_ms2) or not self._heights_alike(steps):
            return None
        iv = np.diff([c.index for c in steps]) / self.rate_hz
        if iv.min() < p.min_step_s or iv.max() > min(p.max_step_s, p.end_regularity * iv.min()):
            return None
        return float(iv.mean())

    def _heights_alike(self, run: list[Candidate], rhythm: bool = True) -> bool:
        """Peaks as steps' are, not as a bump's ringing (which decays): within
        ``height_spread`` of each other; or, when left and right steps differ (a clip at the
        side of the hip sees the near leg's heel strike more strongly), each leg's steps (every
        other peak) within ``side_alike`` of each other and all within ``side_spread``, if the
        run moves and repeats like walking (more proof: alternating bumps are no proof). A
        ringing whose every other peak keeps within side_alike decays too slowly to need it.
        A run in a walking ``rhythm`` with more proof may spread up to ``uneven_spread``: a
        limp's, a slow walker's or a side clip's steps, a guarded step or a step down a kerb
        differ more than a brisk walk's. The proof: the wearer stands as in their last bout
        (seated or lying, as in a car or on a bed, they do not), or the run moves and repeats
        like walking and its gentlest peak is not its first (the first step out of a standstill
        is gentle, and the lead-in's to judge: in the run, it would make the weight shift before
        it look like a first step). Steps at no rhythm have no rhythm as proof: never."""
        p = self.params
        heights = [c.height for c in run]
        low, high = min(heights), max(heights)
        if high <= p.height_spread * low:
            return True
        uneven = rhythm and high <= p.uneven_spread * low
        if uneven and self._stands_as_walking(run):
            return True
        one_leg = high <= p.side_spread * low and all(
            max(leg) <= p.side_alike * min(leg) for leg in (heights[0::2], heights[1::2]))
        if not (one_leg or (uneven and heights[0] > low)):
            return False
        return self._walking_like(run, stride=True)  # once, whichever asks for it

    def _faint(self, limit_ms2: float) -> float:
        """A peak height (m/s²) below which steps are faint, for this wearer: ``limit_ms2``, or
        less for a gentle walker, ``faint_of_wearer`` x the typical step of their strongest walk
        (a bout of ``gait_steps`` or more) when that is lower. A slow or guarded walker's steps
        are fainter than a brisk one's, and their walks should not be judged like a car's
        bounce. Their strongest walk, not their last, so that a faint false bout cannot lower
        it once they have walked."""
        p = self.params
        if self._gait_height <= 0.0 or p.faint_of_wearer <= 0.0:  # no walk yet, or off
            return limit_ms2
        return min(limit_ms2, p.faint_of_wearer * self._gait_height)

    def _gravity_steady(self, run: list[Candidate]) -> bool:
        """Gravity turns less than max_turn_deg from the run's first step to any other."""
        if run[0].up is None:
            return True
        return all(c.up is None or float(run[0].up @ c.up) >= self._cos_turn for c in run[1:])

    def _walking_like(self, run: list[Candidate], stride: bool = False) -> bool:
        """More proof for a run with less of it (faint, a slow first step, a fading end): it
        moves the hip the way walking does and its steps look alike (``proof_corr``), or, with
        ``stride`` (left and right steps differ), its strides do."""
        if not self._walking_axes(run):
            return False
        return self._step_similarity(run, stride) >= self.params.proof_corr

    def _walking_axes(self, run: list[Candidate]) -> bool:
        """The run moves the hip across gravity about as much as along it, as walking does
        (horizontal/vertical RMS within ``axes_ratio``): not a car's bounce (mostly vertical)
        nor a body shifting or turning over (mostly horizontal)."""
        energy = self.history.axes(int(run[0].index), int(run[-1].index) + 1)
        if energy is None or energy[0] <= 0.0:
            return False
        lo, hi = self.params.axes_ratio
        return lo * lo <= energy[1] / energy[0] <= hi * hi

    def _regular(self, run: list[Candidate], stride_regularity: float,
                 regularity: float | None = None) -> bool:
        """Intervals of a walking rhythm: in range, alike (max/min within ``regularity``, the
        params' by default), and strides (two steps) alike within ``stride_regularity``."""
        p = self.params
        iv = np.diff([c.index for c in run]) / self.rate_hz
        if iv.min() < p.min_step_s or iv.max() > p.max_step_s:
            return False
        if iv.max() > (regularity or p.regularity) * iv.min():
            return False
        strides = iv[1:] + iv[:-1]  # left/right steps may alternate; strides should not
        return bool(strides.max() <= stride_regularity * strides.min())

    def _step_similarity(self, run: list[Candidate], stride: bool = False) -> float:
        """:func:`step_similarity` over the run, from half a step before its first peak to the
        refractory time after its last (never later, so the answer does not depend on how the
        stream was cut); with ``stride``, the better of the step's and the stride's (two
        steps') lag."""
        lag = round(float(median(np.diff([c.index for c in run]).tolist())))
        lo = int(run[0].index - 0.5 * lag)
        hi = int(run[-1].index + min(0.5 * lag, self._min_step_cells)) + 1
        window = self.history.window(lo, hi)
        alike = step_similarity(window, lag)
        if not stride:
            return alike
        # Two mean steps, not two median ones: a limp's median step is one leg's.
        stride_lag = round(2 * (run[-1].index - run[0].index) / (len(run) - 1))
        return max(alike, step_similarity(window, stride_lag))


def step_similarity(signal: np.ndarray, lag: int) -> float:
    """Autocorrelation of the signal at the step lag: how much one step looks like the next.

    Walking repeats the same waveform step after step; a posture change or bumps that happen to
    peak at walking intervals do not. Steps are alike but not evenly spaced (a hesitation), so
    this is the best normalised autocorrelation within +-15 % of ``lag`` (in samples); 1.0 when
    the signal is too short to tell.
    """
    best = -1.0
    for k in range(max(1, round(0.85 * lag)), round(1.15 * lag) + 1):
        if len(signal) <= k + 2:
            break
        a, b = signal[:-k], signal[k:]
        den = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
        best = max(best, float(np.dot(a, b)) / den if den > 0 else 0.0)
    return best if best > -1.0 else 1.0
