"""DetectorParams: every tuning number of the step detector's stages, in one place.

One flat, frozen dataclass so a benchmark or a test can override any stage's number by name
(``DetectorParams(pause_s=2.0)``) and every stage reads the same object. Defaults are for a
hip or lower-back clip at any walking speed; they were chosen on the accuracy benchmark as a
whole (tests/bench/bench_accuracy.py), never on one trace.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DetectorParams:
    """Tuning of the step detector, grouped by the stage that reads it."""

    # -- step_signal: the band the steps live in ------------------------------------------------
    lowpass_hz: float = 3.0          # upper edge of the stepping band
    baseline_s: float = 2.0          # moving-average window removed (gravity, posture)

    # -- peaks: candidate steps -----------------------------------------------------------------
    floor_ms2: float = 0.25          # a peak that may start or resume a bout exceeds this (m/s²);
    weak_floor_ms2: float = 0.06     # a gentle step inside a bout (a turn, the last step) this
    rms_window_s: float = 2.5        # window of the adaptive threshold (RMS of the signal)
    min_step_s: float = 0.3          # no two candidates closer than this (200 steps/min)

    # -- gait_sequence: is this walking? ---------------------------------------------------------
    rms_factor: float = 0.6          # a candidate that may start a bout exceeds this x the RMS
    rms_factor_walking: float = 0.3  # ... or this, once a bout is under way
    max_step_s: float = 1.6          # a longer interval cannot be inside a confirming run
    min_bout_interval_s: float = 0.38  # a bout starts at most at 158 steps/min (median interval
                                       # of its run): faster is a shuffle or a vibration, or a
                                       # run, which a walking coach does not count
    min_bout_steps: int = 4          # steps in a row that make a bout ...
    weak_ms2: float = 0.7            # ... but when their median peak is below this (m/s²),
    axes_ratio: tuple[float, float] = (0.75, 1.75)  # ... unless their horizontal/vertical RMS
                                     # lies in this range (walking moves the hip both ways)
                                     # and they look alike (proof_corr)
    weak_bout_steps: int = 8         # this many: faint rhythms (a car's bounce) need more proof
    end_height: float = 0.1          # (0: off) a short walk's end: min_bout_steps - 1 clear
                                     # steps and a gentle one of at least this x their median
                                     # peak, in rhythm, moving the hip like walking (axes_ratio)
    end_regularity: float = 1.5      # ... the clear steps' intervals within this ratio, the
    end_early: float = 0.6           # gentle one's from this x their mean to trail_gap x
    proof_corr: float = 0.6          # a run confirmed on less proof (faint, or a walk's end)
                                     # must look alike at least this much (step similarity)
    short_walk_steps: int = 3        # (0: off) this many clear steps alike, moving like
                                     # walking, with nothing after them are a whole walk at
    short_walk_spm: float = 133.0    # most this pace (out of a standstill, not brisk), with
    short_walk_tilt: float = 20.0    # gravity within this (deg) of where it was in the last
                                     # bout (the wearer upright, as when walking)
    irregular_ms2: float = 1.2       # (0: off) once the wearer has walked, min_bout_steps at no
                                     # rhythm start a bout when this clear (median peak, m/s²),
                                     # upright as then (short_walk_tilt) and gravity steady:
                                     # stepping about a room
    regularity: float = 1.8          # max/min interval allowed when confirming a bout, or
    uneven_regularity: float = 2.0   # this when its strides are alike (stride_regularity) and
                                     # one stride's waveform like the next (a limp)
    stride_regularity: float = 1.15  # max/min of two-step (stride) times when confirming, or
    onset_stride_regularity: float = 1.25  # this for a run that moves and repeats like walking
                                           # (proof_corr): the first step out of a standstill
                                           # is slower
    height_spread: float = 3.0       # max/min peak height when confirming (a bump's ringing
                                     # decays; steps keep their strength), or
    uneven_spread: float = 4.0       # this for a run in rhythm with more proof: the wearer
                                     # stands as in their last bout (short_walk_tilt), or the
                                     # run moves and repeats like walking (proof_corr) and its
                                     # gentlest peak is not its first: a limp's, a slow
                                     # walker's or a side clip's steps differ more
    side_spread: float = 5.0         # ... or this, when every other peak (one leg's steps)
    side_alike: float = 2.0          # keeps within this (the near leg's steps are stronger)
    min_step_corr: float = 0.25      # autocorrelation of the signal at the step lag (best
                                     # within +-15 %) over a confirming run: one step's
                                     # waveform like the next
    max_turn_deg: float = 35.0       # gravity may turn this much over a confirming run or
                                     # within a bout: more is a device handled or a wearer
                                     # sitting down, not walking (a hip clip leans far less)
    faint_bout_ms2: float = 0.5      # a bout whose typical peak is below this (m/s²) gets no
                                     # benefit of the doubt (no turning, resumed or last steps)
    faint_of_wearer: float = 0.6     # (0: off) for a gentle walker, the faint limits above
                                     # (weak_ms2 of a short walk's clear steps, faint_bout_ms2)
                                     # are at most this x the typical step of their strongest
    gait_steps: int = 10             # walk: a bout that has counted this many steps
    rhythm_low: float = 0.4          # while walking: earlier than this x the rhythm is ignored
    early: float = 0.75              # ... earlier than this x the rhythm counts only if at least
    close_early: float = 0.65        # (>= early: off) ... unless from this x the rhythm: held,
                                     # it may still be the walk's closing step (trailing)
    early_height: float = 0.7        # this x the bout's typical peak (a push-off bump is smaller)
    rhythm_high: float = 1.7         # ... later than this x the rhythm is a break in rhythm;
    pause_s: float = 3.0             # a break shorter than this does not end the bout (a pause,
    resume_height: float = 0.35      # a turn): two steps of at least this x the typical peak in
                                     # rhythm again carry the bout on

    # -- contacts: every step inside a sequence --------------------------------------------------
    lead_in_steps: int = 1           # when a bout confirms, up to this many earlier candidates
    lead_in_s: float = 2.0           # (each within this of the next, and at least this x the
    lead_in_height: float = 0.2      # bout's typical peak) are its first steps
    lead_in_gap: float = 0.85        # ... and earlier than this x the rhythm before the next
    lead_in_early_height: float = 0.35  # only if at least this x the typical peak (a weight
                                        # shift precedes gait initiation by 0.7-0.85 x the
                                        # rhythm)
    fill_height: float = 0.07        # inside a bout, a gentler peak of at least this x the
    fill_spacing: float = 0.6        # typical one, this x the rhythm from its neighbours, is a
                                     # step where the rhythm left room for one (a turn)
    turn_yaw_dps: float = 25.0       # with a gyro: turning at least this fast about gravity,
                                     # the peaks are held until the first clear step out of
    turn_slower: float = 1.1         # the turn; those whose chain keeps closest to this x the
                                     # rhythm are its steps (turning steps are slower); a turn
    turn_hold_s: float = 2.5         # held longer than this (a curve) counts as it goes
    trail_steps: int = 1             # at most this many gentle steps trail a bout's end, each
    trail_gap: float = 1.25          # within this x the rhythm (gait termination) and at least
    trail_height: float = 0.1        # this x the typical peak, or when the step before it was
    trail_fade: float = 0.5          # gentler than this x the typical peak (termination fading)
    trail_fade_height: float = 0.03  # this x (0: off)
    trail_close: float = 0.9         # ... or when it comes early (within this x the rhythm:
                                     # the closing step is short, the feet only draw level)
