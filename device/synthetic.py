"""Synthetic hip-worn IMU signals with known steps: daily living that a step counter must survive.

Pure numpy, seeded, no file I/O. Everything is built as *physics in a body frame, then sensed*:

* the heading frame H has z up (world vertical) and x along the wearer's heading; walking,
  car and posture motions are linear accelerations ``a_H(t)`` (gravity excluded) in that frame;
* the wearer's posture P(t) (pelvis/thigh pitch when sitting, small tilts when shifting in a
  chair) and the clip's orientation C(t) on the body (fixed at any angle, or turning while worn)
  rotate the device relative to H; the heading ψ(t) only shows in the gyro;
* an accelerometer measures specific force ``f = Cᵀ Pᵀ (a_H + g·ẑ)`` in its own frame, plus a
  small per-axis bias and white noise; the gyro measures the angular rate of Yaw(ψ)·P·C.

Every motion is an analytic function of time (Gaussians, raised cosines, sums of sinusoids), so it
is evaluated at the exact, jittered sample instants: no resampling artefacts and any rate 25-400 Hz.
Axes: x forward, y left, z up. Units: s, m/s², deg/s. Step truth = heel-strike instants.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

GRAVITY = 9.80665  # m/s², standard gravity
REFERENCE_CADENCE = 110.0  # steps/min at which a hip sees DEFAULT_AMPLITUDE
DEFAULT_AMPLITUDE = 3.0  # m/s² vertical peak-to-peak at REFERENCE_CADENCE (hip, level ground)
MIN_BOUT_STEPS = 4  # fewer consecutive steps are weight shifts (fidgets): truth 0

Array = np.ndarray
AccelFn = Callable[[Array], Array]  # t (N,) -> acceleration in the heading frame (N, 3)


@dataclass(frozen=True)
class Scenario:
    """A synthetic recording: samples, ground truth and the metadata written into the trace.

    t: (N,) seconds, strictly increasing. acc: (N, 3) m/s² with gravity, device frame.
    steps: true step (heel-strike) times on the same clock. gyro: (N, 3) deg/s or None.
    meta: ``# key: value`` lines for the trace file (scenario, seed, rate_hz, description, ...).
    """

    t: Array
    acc: Array
    steps: Array
    meta: dict[str, str]
    gyro: Array | None = None


# ---------------------------------------------------------------------------------------------
# Rotations
# ---------------------------------------------------------------------------------------------


def axis_angle_matrix(axis: Sequence[float] | Array, angle_rad: float | Array) -> Array:
    """Rotation matrix (3, 3), or (N, 3, 3) for an array of angles, by Rodrigues' formula."""
    k = np.asarray(axis, dtype=float)
    norm = np.linalg.norm(k)
    if norm == 0:
        raise ValueError("rotation axis must be non-zero")
    k = k / norm
    kx = np.array([[0.0, -k[2], k[1]], [k[2], 0.0, -k[0]], [-k[1], k[0], 0.0]])
    ang = np.asarray(angle_rad, dtype=float)
    s = np.sin(ang)[..., None, None]
    c = np.cos(ang)[..., None, None]
    return np.eye(3) + s * kx + (1.0 - c) * (kx @ kx)


def euler_matrix(roll_deg: float, pitch_deg: float, yaw_deg: float) -> Array:
    """Device-to-parent rotation from roll (x), pitch (y), yaw (z) in degrees, applied x, y, z."""
    rx = axis_angle_matrix((1, 0, 0), np.radians(roll_deg))
    ry = axis_angle_matrix((0, 1, 0), np.radians(pitch_deg))
    rz = axis_angle_matrix((0, 0, 1), np.radians(yaw_deg))
    return rz @ ry @ rx


def quaternion_matrix(q: Sequence[float]) -> Array:
    """Rotation matrix from a quaternion (w, x, y, z); the quaternion need not be normalised."""
    w, x, y, z = np.asarray(q, dtype=float) / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def random_rotation(rng: np.random.Generator) -> Array:
    """A rotation drawn uniformly over SO(3) (normalised Gaussian quaternion)."""
    return quaternion_matrix(rng.normal(size=4))


def smoothstep(u: Array) -> Array:
    """Minimum-jerk progress 0→1 for u in [0, 1] (clamped outside): how limbs and clips move."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10.0 - 15.0 * u + 6.0 * u**2)


def _smoothstep_dd(u: Array) -> Array:
    """Second derivative of :func:`smoothstep` with respect to u (zero outside [0, 1])."""
    inside = (u >= 0.0) & (u <= 1.0)
    return np.where(inside, 60.0 * u - 180.0 * u**2 + 120.0 * u**3, 0.0)


@dataclass(frozen=True)
class RotationEvent:
    """A smooth (minimum-jerk) rotation by angle about a fixed axis of the parent frame."""

    t0: float
    duration: float
    axis: tuple[float, float, float]
    angle_deg: float

    def matrices(self, t: Array) -> Array:
        u = (t - self.t0) / max(self.duration, 1e-6)
        return axis_angle_matrix(self.axis, np.radians(self.angle_deg) * smoothstep(u))


def orientation_track(t: Array, base: Array, events: Sequence[RotationEvent]) -> Array:
    """Orientation (N, 3, 3) at times t: base, then each event applied in order in the parent frame.

    Fixed at any angle (no events), slowly turning (long duration) or sudden (short duration).
    """
    rot = np.broadcast_to(np.asarray(base, dtype=float), (t.shape[0], 3, 3)).copy()
    for ev in events:
        rot = ev.matrices(t) @ rot
    return rot


def rotation_ramp(t: Array, axis: Sequence[float], angle_deg: float, t0: float, duration: float
                  ) -> Array:
    """(N, 3, 3) rotation turning smoothly by angle_deg about axis between t0 and t0 + duration."""
    return RotationEvent(t0, duration, tuple(axis), angle_deg).matrices(np.asarray(t, float))


# ---------------------------------------------------------------------------------------------
# Sampling clock and sensor
# ---------------------------------------------------------------------------------------------


def sample_times(
    t_start: float,
    t_end: float,
    rate_hz: float,
    rng: np.random.Generator,
    *,
    jitter_s: float = 0.0,
    drop_prob: float = 0.0,
    gaps: Sequence[tuple[float, float]] = (),
) -> Array:
    """Sample instants of a real sensor: nominal grid + timing jitter, random drops and gaps.

    Jitter is Gaussian, clipped to ±0.45 of a period so timestamps stay strictly increasing.
    Each sample is lost with probability drop_prob; no sample lies inside a gap [g0, g1).
    """
    if not 1.0 <= rate_hz <= 5000.0:
        raise ValueError(f"rate_hz must be in 1..5000, got {rate_hz}")
    if t_end <= t_start:
        raise ValueError("t_end must be after t_start")
    period = 1.0 / rate_hz
    n = int(np.floor((t_end - t_start) * rate_hz)) + 1
    t = t_start + np.arange(n) * period
    if jitter_s > 0:
        t = t + np.clip(rng.normal(0.0, jitter_s, n), -0.45 * period, 0.45 * period)
    keep = np.ones(n, dtype=bool)
    if drop_prob > 0:
        keep &= rng.random(n) >= drop_prob
        keep[0] = keep[-1] = True
    for g0, g1 in gaps:
        keep &= ~((t >= g0) & (t < g1))
    return t[keep]


def sense(
    t: Array,
    acc_heading: Array,
    device_to_heading: Array,
    rng: np.random.Generator,
    *,
    noise_rms: float = 0.03,
    bias: Sequence[float] | Array = (0.0, 0.0, 0.0),
) -> Array:
    """Accelerometer reading: specific force in the device frame, plus bias and white noise.

    acc_heading: (N, 3) linear acceleration in the heading frame (no gravity).
    device_to_heading: (N, 3, 3) or (3, 3) rotation taking device vectors into the heading frame.
    """
    f_heading = acc_heading + np.array([0.0, 0.0, GRAVITY])
    f_dev = np.einsum("nji,nj->ni", np.broadcast_to(device_to_heading, (t.shape[0], 3, 3)),
                      f_heading)
    return f_dev + np.asarray(bias, dtype=float) + rng.normal(0.0, noise_rms, f_dev.shape)


def angular_rate_deg(t: Array, orientation_at: Callable[[Array], Array], h: float = 1e-3) -> Array:
    """Gyro reading (N, 3) deg/s in the device frame of a device-to-world orientation R(t).

    ω× = Rᵀ dR/dt, by a central difference (every orientation here is analytic in t).
    """
    r = orientation_at(t)
    dr = (orientation_at(t + h) - orientation_at(t - h)) / (2.0 * h)
    omega = np.einsum("nji,njk->nik", r, dr)
    w = np.stack([omega[:, 2, 1], omega[:, 0, 2], omega[:, 1, 0]], axis=1)
    return np.degrees(w)


# ---------------------------------------------------------------------------------------------
# Walking
# ---------------------------------------------------------------------------------------------


def gait_amplitude(cadence_spm: float, scale: float = 1.0) -> float:
    """Vertical hip peak-to-peak (m/s²) at a cadence: rises ~ cadence² (inverted pendulum: the
    vertical excursion shrinks with shorter, slower steps), 3 m/s² at 110 spm, 0.9 at 60 spm."""
    return float(scale * DEFAULT_AMPLITUDE * (cadence_spm / REFERENCE_CADENCE) ** 2)


def walking_speed(cadence_spm: float) -> float:
    """Forward speed (m/s): step length grows with cadence (0.45 m at 60 spm, 0.7 m at 110)."""
    step_length = float(np.clip(0.45 + 0.25 * (cadence_spm - 60.0) / 50.0, 0.3, 0.85))
    return step_length * cadence_spm / 60.0


def step_times(
    t_first: float,
    n_steps: int,
    cadence_spm: float,
    rng: np.random.Generator,
    *,
    cv: float = 0.03,
    lr_interval_asymmetry: float = 0.02,
) -> Array:
    """Heel-strike instants of a bout: mean interval 60/cadence, per-step CV, left/right
    difference, and the first and last intervals ~10 % longer (gait initiation/termination)."""
    if n_steps < 1:
        raise ValueError("a bout needs at least one step")
    if not 20.0 <= cadence_spm <= 200.0:
        raise ValueError(f"cadence must be 20..200 steps/min, got {cadence_spm}")
    base = 60.0 / cadence_spm
    k = np.arange(max(n_steps - 1, 0))
    side = np.where(k % 2 == 0, 1.0, -1.0)
    intervals = base * (1.0 + side * lr_interval_asymmetry / 2.0) * (
        1.0 + cv * np.clip(rng.normal(size=k.shape), -3, 3))
    if intervals.size >= 2:
        intervals[0] *= 1.1
        intervals[-1] *= 1.1
    return t_first + np.concatenate([[0.0], np.cumsum(intervals)])


@dataclass(frozen=True)
class GaitStyle:
    """How a bout looks at the hip. amplitude: vertical p-p (m/s²) of a steady step."""

    cadence_spm: float
    amplitude: float
    lr_asymmetry: float = 0.08  # left/right amplitude difference (fraction)
    heel_strike_sigma_s: float = 0.045  # impact width, roughly cadence independent
    mid_stance_ratio: float = 0.4  # mid-stance bump relative to the heel-strike peak
    ml_ratio: float = 0.35  # mediolateral sway p-p / vertical p-p (at stride frequency)
    ap_ratio: float = 0.45  # forward (braking/propulsion) p-p / vertical p-p
    climb_speed: float = 0.0  # m/s vertical (stairs: + up, - down): start/stop accelerations


def _vertical_template(tau: Array, period: float, style: GaitStyle) -> Array:
    """One step's vertical shape (unnormalised): heel-strike peak + a smaller mid-stance bump
    riding on a raised-cosine trough (the hip vaulting over the stance leg) whose area cancels
    the peaks, so each step integrates to zero (no vertical velocity drift) and the step
    frequency dominates the spectrum."""
    sig = style.heel_strike_sigma_s * np.sqrt(max(period / 0.55, 1.0))  # softer when slow
    hs = np.exp(-0.5 * (tau / sig) ** 2)
    ms_sig = 0.07 * period
    mid = style.mid_stance_ratio * np.exp(-0.5 * ((tau - 0.5 * period) / ms_sig) ** 2)
    area = np.sqrt(2 * np.pi) * (sig + style.mid_stance_ratio * ms_sig)
    inside = (tau >= 0) & (tau < period)
    comp = np.where(inside, -(area / period) * (1.0 - np.cos(2 * np.pi * tau / period)), 0.0)
    return hs + mid + comp


def _hann_pulse(t: Array, t0: float, t1: float, area: float) -> Array:
    """A raised-cosine pulse on [t0, t1] whose integral is area (a smooth velocity change)."""
    d = max(t1 - t0, 1e-6)
    u = (t - t0) / d
    inside = (u >= 0) & (u <= 1)
    return np.where(inside, (area / d) * (1.0 - np.cos(2 * np.pi * u)), 0.0)


def gait_acceleration(t: Array, steps: Array, style: GaitStyle, rng: np.random.Generator) -> Array:
    """Heading-frame hip acceleration (N, 3) of one bout whose heel strikes are ``steps``.

    Vertical: per-step template scaled to style.amplitude, L/R asymmetry, first/last steps weaker
    (ramp up/down), 5 % step-to-step amplitude scatter. Mediolateral: sway at stride frequency
    (half the step frequency). Forward: braking at heel strike, propulsion later, plus the speed
    gained in the first two steps and lost in the last two. Stairs: a vertical start/stop too.
    """
    steps = np.asarray(steps, dtype=float)
    n = steps.size
    out = np.zeros((t.shape[0], 3))
    if n == 0:
        return out
    base = 60.0 / style.cadence_spm
    periods = np.diff(steps, append=steps[-1] + (steps[-1] - steps[-2] if n > 1 else base))
    grid = np.linspace(-0.2, base, 400)
    tmpl = _vertical_template(grid, base, style)
    norm = 1.0 / (tmpl.max() - tmpl.min())
    gain = 1.0 + 0.05 * np.clip(rng.normal(size=n), -2.5, 2.5)
    half = style.lr_asymmetry / 2
    gain *= np.where(np.arange(n) % 2 == 0, 1.0 + half, 1.0 - half)
    ramp = np.ones(n)
    if n >= 2:
        ramp[0], ramp[-1] = 0.55, 0.6
    if n >= 4:
        ramp[1], ramp[-2] = 0.85, 0.85
    gain *= ramp * style.amplitude * norm
    ml_amp = style.ml_ratio * style.amplitude / 2.0
    ap_amp = style.ap_ratio * style.amplitude / 2.0
    lo = np.searchsorted(t, steps - 4 * style.heel_strike_sigma_s)
    hi = np.searchsorted(t, steps + periods)
    for k in range(n):
        sl = slice(lo[k], hi[k])
        tau = t[sl] - steps[k]
        period = periods[k]
        out[sl, 2] += gain[k] * _vertical_template(tau, period, style)
        inside = (tau >= 0) & (tau < period)
        phase = np.where(inside, tau / period, 0.0)
        g = gain[k] / (style.amplitude * norm)  # this step's relative strength
        out[sl, 0] += np.where(inside, -ap_amp * g * np.sin(2 * np.pi * phase), 0.0)
        out[sl, 1] += np.where(inside, ml_amp * g * np.sin(np.pi * (k + phase)), 0.0)
    speed = walking_speed(style.cadence_spm)
    if n >= 2:
        t_start, t_end = steps[0] - 0.3, steps[min(2, n - 1)]
        out[:, 0] += _hann_pulse(t, t_start, t_end, speed)
        out[:, 0] += _hann_pulse(t, steps[max(n - 3, 0)], steps[-1] + 0.3, -speed)
        if style.climb_speed:
            out[:, 2] += _hann_pulse(t, t_start, t_end, style.climb_speed)
            out[:, 2] += _hann_pulse(t, steps[max(n - 3, 0)], steps[-1] + 0.3, -style.climb_speed)
    return out


# ---------------------------------------------------------------------------------------------
# Non-walking motions (heading-frame accelerations)
# ---------------------------------------------------------------------------------------------


def _random_sines(rng: np.random.Generator, n: int, f_lo: float, f_hi: float, rms: float
                  ) -> tuple[Array, Array, float]:
    """Frequencies, phases and per-sine amplitude of a band-limited random signal of given rms."""
    freqs = rng.uniform(f_lo, f_hi, n)
    phases = rng.uniform(0, 2 * np.pi, n)
    return freqs, phases, rms * np.sqrt(2.0 / n)


def _eval_sines(t: Array, freqs: Array, phases: Array, amp: float | Array) -> Array:
    out = np.zeros(t.shape[0])
    amps = np.broadcast_to(np.asarray(amp, dtype=float), freqs.shape)
    for f, p, a in zip(freqs, phases, amps, strict=True):
        out += a * np.sin(2 * np.pi * f * t + p)
    return out


def body_sway(t: Array, rng: np.random.Generator, rms_horizontal: float, rms_vertical: float
              ) -> Array:
    """Postural sway of a standing or sitting person: slow (0.1-0.8 Hz), a few cm/s²."""
    out = np.zeros((t.shape[0], 3))
    for axis, rms in ((0, rms_horizontal), (1, rms_horizontal), (2, rms_vertical)):
        f, p, a = _random_sines(rng, 6, 0.1, 0.8, rms)
        out[:, axis] = _eval_sines(t, f, p, a)
    return out


def jolt(t: Array, t0: float, peak: float, sigma: float) -> Array:
    """A zero-net-velocity bump: a sharp pulse of height peak at t0 followed by a broader
    opposite lobe of equal area (the body or desk comes back to rest)."""
    s2 = 3.0 * sigma
    return peak * (np.exp(-0.5 * ((t - t0) / sigma) ** 2)
                   - (sigma / s2) * np.exp(-0.5 * ((t - t0 - s2) / s2) ** 2))


def damped_ring(t: Array, t0: float, amp: float, freq: float, decay_s: float) -> Array:
    """A struck-and-ringing response (desk under a keystroke, car suspension after a bump)."""
    tau = t - t0
    on = tau >= 0
    tau = np.where(on, tau, 0.0)
    return np.where(on, amp * np.exp(-tau / decay_s) * np.sin(2 * np.pi * freq * tau), 0.0)


def sit_stand_acceleration(t: Array, t0: float, duration: float, peak: float, standing_up: bool
                           ) -> Array:
    """Heading-frame acceleration of rising from (or lowering onto) a chair over duration.

    The hip rises/falls ~0.4 m on a minimum-jerk path (vertical ±~1 m/s²), the trunk leans
    forward and back (forward ±~1 m/s²), and seat-off (standing up) or landing on the seat
    (sitting down) adds a jolt so the vertical bump reaches ``peak`` (2-4 m/s²).
    """
    u = (t - t0) / duration
    sign = 1.0 if standing_up else -1.0
    out = np.zeros((t.shape[0], 3))
    out[:, 2] = sign * 0.4 / duration**2 * _smoothstep_dd(u)
    out[:, 0] = 0.3 / duration**2 * _smoothstep_dd(np.clip(2 * u, -1, 2)) - \
        0.3 / duration**2 * _smoothstep_dd(np.clip(2 * u - 1, -1, 2))
    hip_peak = 5.77 * 0.4 / duration**2
    extra = max(peak - hip_peak, 0.5)
    if standing_up:
        out[:, 2] += jolt(t, t0 + 0.3 * duration, extra, 0.1)
    else:
        out[:, 2] += jolt(t, t0 + 0.85 * duration, extra, 0.05)
    return out


# ---------------------------------------------------------------------------------------------
# Timeline: a person's activities in order, rendered through a sensor
# ---------------------------------------------------------------------------------------------


@dataclass
class _Part:
    t0: float
    t1: float
    fn: AccelFn


@dataclass
class Timeline:
    """Activities appended in order on one clock; ``render`` samples them through a sensor.

    clip: device-to-body rotation of the clip (any angle); sit_pitch_deg: how far the hip/thigh
    pitches back when seated (60-90°). The wearer starts standing at time 0.
    """

    seed: int
    clip: Array = field(default_factory=lambda: np.eye(3))
    sit_pitch_deg: float = 75.0
    now: float = 0.0
    seated: bool = False
    parts: list[_Part] = field(default_factory=list)
    posture_events: list[RotationEvent] = field(default_factory=list)
    clip_events: list[RotationEvent] = field(default_factory=list)
    heading_events: list[RotationEvent] = field(default_factory=list)
    steps: list[float] = field(default_factory=list)
    fidget_steps: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rng = np.random.default_rng(self.seed)

    def _child_rng(self) -> np.random.Generator:
        return np.random.default_rng(self.rng.integers(0, 2**63))

    def _add(self, t0: float, t1: float, fn: AccelFn) -> None:
        self.parts.append(_Part(t0, t1, fn))

    # -- still activities -------------------------------------------------------------------
    def rest(self, duration: float) -> Timeline:
        """Nothing moves (device on a table, or hung up): the sensor sees noise only."""
        self.now += duration
        return self

    def stand(self, duration: float) -> Timeline:
        """Quiet standing: postural sway of a few cm/s²."""
        if self.seated:
            raise ValueError("stand() while seated: call stand_up() first")
        rng, t0 = self._child_rng(), self.now
        self._add(t0, t0 + duration, _windowed(t0, t0 + duration,
                                               lambda t: body_sway(t, rng, 0.03, 0.01)))
        self.now += duration
        return self

    def sit(self, duration: float) -> Timeline:
        """Sitting still: sway of about 1 cm/s²."""
        if not self.seated:
            raise ValueError("sit() while standing: call sit_down() first")
        rng, t0 = self._child_rng(), self.now
        self._add(t0, t0 + duration, _windowed(t0, t0 + duration,
                                               lambda t: body_sway(t, rng, 0.01, 0.005)))
        self.now += duration
        return self

    # -- posture changes --------------------------------------------------------------------
    def _posture(self, standing_up: bool, duration: float | None, peak: float | None) -> Timeline:
        d = duration if duration is not None else float(self.rng.uniform(1.2, 2.0))
        p = peak if peak is not None else float(self.rng.uniform(2.0, 4.0))
        t0 = self.now
        angle = -self.sit_pitch_deg if standing_up else self.sit_pitch_deg
        self.posture_events.append(RotationEvent(t0, d, (0.0, 1.0, 0.0), angle))
        self._add(t0 - 1.0, t0 + d + 1.0,
                  lambda t: sit_stand_acceleration(t, t0, d, p, standing_up))
        self.seated = not standing_up
        self.now += d
        return self

    def sit_down(self, duration: float | None = None, peak: float | None = None) -> Timeline:
        """Stand-to-sit: the hip pitches back by sit_pitch_deg over 1.2-2 s, landing jolt."""
        if self.seated:
            raise ValueError("already seated")
        return self._posture(False, duration, peak)

    def stand_up(self, duration: float | None = None, peak: float | None = None) -> Timeline:
        """Sit-to-stand: the hip pitches forward back to upright, the body rises, seat-off jolt."""
        if not self.seated:
            raise ValueError("already standing")
        return self._posture(True, duration, peak)

    def shift_in_chair(self, duration: float) -> Timeline:
        """Seated fidgeting: every 2-15 s a small tilt (3-15°, 0.3-1 s) and a 0.3-1.5 m/s² bump."""
        if not self.seated:
            raise ValueError("shift_in_chair() while standing: call sit_down() first")
        t_end = self.now + duration
        self.sit(duration)
        t = t_end - duration + float(self.rng.uniform(1.0, 4.0))
        tilt = np.zeros(2)  # current extra pitch, roll (deg)
        while t < t_end - 1.5:
            d = float(self.rng.uniform(0.3, 1.0))
            target = self.rng.uniform(-12.0, 12.0, 2)
            for axis, delta in (((0.0, 1.0, 0.0), target[0] - tilt[0]),
                                ((1.0, 0.0, 0.0), target[1] - tilt[1])):
                self.posture_events.append(RotationEvent(t, d, axis, float(delta)))
            tilt = target
            peak = float(self.rng.uniform(0.3, 1.5)) * self.rng.choice([-1.0, 1.0])
            direction = self.rng.normal(size=3)
            direction[2] += 1.5
            direction /= np.linalg.norm(direction)
            tc = t + d * float(self.rng.uniform(0.2, 0.8))
            self._add(tc - 0.5, tc + 1.5,
                      lambda tt, tc=tc, p=peak, dv=direction: jolt(tt, tc, p, 0.08)[:, None] * dv)
            t += d + float(self.rng.uniform(2.0, 15.0))
        for axis, delta in (((0.0, 1.0, 0.0), -tilt[0]), ((1.0, 0.0, 0.0), -tilt[1])):
            self.posture_events.append(RotationEvent(t_end - 1.2, 0.8, axis, float(delta)))
        return self

    # -- walking ----------------------------------------------------------------------------
    def walk(
        self,
        n_steps: int,
        cadence_spm: float = 110.0,
        *,
        amplitude_scale: float = 1.0,
        cv: float = 0.03,
        turns: Sequence[tuple[int, float, float]] = (),
        stairs: str | None = None,
        count: bool = True,
    ) -> Timeline:
        """A bout of n_steps from standing to standing.

        turns: (at_step, angle_deg, duration_s) heading changes (left positive) with the
        centripetal acceleration v·ψ̇; stairs: "up" or "down" (cadence ~90-100, larger
        amplitude, vertical start/stop). count=False records the steps as fidget steps (truth 0).
        """
        if self.seated:
            raise ValueError("walk() while seated: call stand_up() first")
        rng = self._child_rng()
        t_first = self.now + 0.3  # weight shift before the first heel strike
        st = step_times(t_first, n_steps, cadence_spm, rng, cv=cv)
        amp = gait_amplitude(cadence_spm, amplitude_scale)
        climb = 0.0
        ap_ratio = 0.45
        if stairs == "up":
            amp, climb, ap_ratio = amp * 1.4, 0.3, 0.25
        elif stairs == "down":
            amp, climb, ap_ratio = amp * 1.7, -0.35, 0.25
        elif stairs is not None:
            raise ValueError(f"stairs must be 'up', 'down' or None, got {stairs!r}")
        style = GaitStyle(cadence_spm, amp, ap_ratio=ap_ratio, climb_speed=climb,
                          heel_strike_sigma_s=0.035 if stairs == "down" else 0.045)
        end = float(st[-1] + 0.6 * 60.0 / cadence_spm)
        self._add(st[0] - 1.0, end + 1.0, lambda t: gait_acceleration(t, st, style, rng))
        speed = walking_speed(cadence_spm) if stairs is None else 0.5
        for at_step, angle, dur in turns:
            t0 = float(st[min(max(at_step, 0), n_steps - 1)])
            ev = RotationEvent(t0, dur, (0.0, 0.0, 1.0), angle)
            self.heading_events.append(ev)
            self._add(t0, t0 + dur, lambda t, ev=ev, v=speed: _centripetal(t, ev, v))
        (self.steps if count else self.fidget_steps).extend(st.tolist())
        self.now = end
        return self

    def fidget(self, n_steps: int) -> Timeline:
        """1-3 slow, weak steps (shifting weight, stepping aside): not a bout, truth 0."""
        if not 1 <= n_steps < MIN_BOUT_STEPS:
            raise ValueError(f"a fidget has 1..{MIN_BOUT_STEPS - 1} steps")
        return self.walk(n_steps, float(self.rng.uniform(60, 90)),
                         amplitude_scale=float(self.rng.uniform(0.5, 0.9)), count=False)

    def turn(self, angle_deg: float, duration: float) -> Timeline:
        """Turn on the spot while standing (heading only: the gyro sees yaw)."""
        self.heading_events.append(RotationEvent(self.now, duration, (0.0, 0.0, 1.0), angle_deg))
        return self.stand(duration)

    def turn_clip(self, angle_deg: float, axis: Sequence[float], duration: float,
                  at: float | None = None) -> Timeline:
        """The clip rotates on the body by angle about a body axis (slow or sudden); no time
        passes, so call it before or during (``at``) another activity."""
        t0 = self.now if at is None else at
        self.clip_events.append(RotationEvent(t0, duration, tuple(float(a) for a in axis),
                                              angle_deg))
        return self

    # -- vehicles and desks -----------------------------------------------------------------
    def car(self, duration: float, *, city: bool = True) -> Timeline:
        """A seated car ride (call sit_down first): see :func:`car_acceleration`."""
        if not self.seated:
            raise ValueError("car() while standing: call sit_down() first")
        t0 = self.now
        rng = self._child_rng()
        ride = CarRide.plan(t0, duration, rng, city=city)
        self.heading_events.extend(ride.turns)
        self.sit(duration)
        self._add(t0, t0 + duration, ride.acceleration)
        self.notes.append(f"car {t0:.0f}-{t0 + duration:.0f} s")
        return self

    def typing(self, duration: float, *, coupling: float = 1.0) -> Timeline:
        """Keystrokes at irregular 3-8 Hz in bursts of 2-12 s with pauses. coupling scales the
        taps (1 = device lying on the desk, ~0.2 = on the hip of someone typing)."""
        t0 = self.now
        rng = self._child_rng()
        taps = typing_taps(t0, t0 + duration, rng)
        self._add(t0, t0 + duration + 0.5,
                  lambda t: coupling * typing_acceleration(t, taps))
        self.now += duration
        return self

    # -- rendering --------------------------------------------------------------------------
    def device_to_heading(self, t: Array) -> Array:
        """(N, 3, 3) rotation of device vectors into the heading frame: P(t) · C(t)."""
        clip = orientation_track(t, self.clip, self.clip_events)
        posture = orientation_track(t, np.eye(3), self.posture_events)
        return posture @ clip

    def device_to_world(self, t: Array) -> Array:
        """(N, 3, 3) device-to-world rotation Yaw(ψ) · P · C (what the gyro integrates)."""
        return orientation_track(t, np.eye(3), self.heading_events) @ self.device_to_heading(t)

    def linear_acceleration(self, t: Array) -> Array:
        """(N, 3) heading-frame linear acceleration summed over every activity."""
        out = np.zeros((t.shape[0], 3))
        for part in self.parts:
            lo, hi = np.searchsorted(t, [part.t0, part.t1])
            if hi > lo:
                out[lo:hi] += part.fn(t[lo:hi])
        return out

    def render(
        self,
        rate_hz: float,
        *,
        name: str = "custom",
        description: str = "",
        jitter_s: float = 0.0,
        drop_prob: float = 0.0,
        gaps: Sequence[tuple[float, float]] = (),
        noise_rms: float = 0.03,
        bias_rms: float = 0.02,
        with_gyro: bool = False,
        gyro_noise_rms: float = 0.1,
        gyro_bias_rms: float = 0.5,
    ) -> Scenario:
        """Sample the timeline from 0 to ``now``; truth = counted steps with a sample around them
        (steps inside a gap are dropped from truth: the device could not have seen them)."""
        rng = self._child_rng()
        t = sample_times(0.0, self.now, rate_hz, rng, jitter_s=jitter_s, drop_prob=drop_prob,
                         gaps=gaps)
        bias = rng.normal(0.0, bias_rms, 3)
        acc = sense(t, self.linear_acceleration(t), self.device_to_heading(t), rng,
                    noise_rms=noise_rms, bias=bias)
        gyro = None
        if with_gyro:
            gyro = angular_rate_deg(t, self.device_to_world)
            gyro += rng.normal(0.0, gyro_bias_rms, 3) + rng.normal(0.0, gyro_noise_rms, gyro.shape)
        steps = np.asarray(sorted(self.steps), dtype=float)
        keep = (steps >= t[0]) & (steps <= t[-1])
        for g0, g1 in gaps:
            keep &= ~((steps >= g0) & (steps < g1))
        meta = {
            "scenario": name,
            "seed": str(self.seed),
            "rate_hz": f"{rate_hz:g}",
            "description": description,
            "steps": str(int(keep.sum())),
            "fidget_steps": str(len(self.fidget_steps)),
            "noise_rms": f"{noise_rms:g}",
        }
        if jitter_s:
            meta["jitter_s"] = f"{jitter_s:g}"
        if drop_prob:
            meta["drop_prob"] = f"{drop_prob:g}"
        if gaps:
            meta["gaps"] = " ".join(f"{g0:g}-{g1:g}" for g0, g1 in gaps)
        return Scenario(t, acc, steps[keep], meta, gyro)


def _windowed(t0: float, t1: float, fn: AccelFn) -> AccelFn:
    """Fade a motion in and out over 0.5 s so activities join without jumps."""
    def windowed(t: Array) -> Array:
        w = np.clip(np.minimum(t - t0, t1 - t) / 0.5, 0.0, 1.0)
        return fn(t) * w[:, None]
    return windowed


def _centripetal(t: Array, ev: RotationEvent, speed: float) -> Array:
    """Lateral acceleration v·ψ̇ while the heading turns (toward the inside of the turn)."""
    u = (t - ev.t0) / ev.duration
    inside = (u >= 0) & (u <= 1)
    uc = np.clip(u, 0, 1)
    rate = np.radians(ev.angle_deg) / ev.duration * 30.0 * uc**2 * (1 - uc) ** 2
    out = np.zeros((t.shape[0], 3))
    out[:, 1] = np.where(inside, speed * rate, 0.0)
    return out


# ---------------------------------------------------------------------------------------------
# Car and desk
# ---------------------------------------------------------------------------------------------


@dataclass
class CarRide:
    """A planned drive: speed changes (accelerate, cruise, brake, stop), turns, speed bumps.

    Acceleration = forward dv/dt + lateral v·ψ̇ + engine vibration (20-40 Hz, rising with
    speed, idling at stops) + road roughness (1-15 Hz, with the suspension's ~1.2 Hz body
    bounce; scales with speed) + speed bumps (front then rear axle jolt, ringing at 1.3 Hz)
    + occasional potholes.
    """

    t0: float
    t1: float
    accel_pulses: list[tuple[float, float, float]]  # (start, end, delta_v)
    turns: list[RotationEvent]
    bumps: list[tuple[float, float]]  # (time, peak)
    seed: int

    @staticmethod
    def plan(t0: float, duration: float, rng: np.random.Generator, city: bool = True
             ) -> CarRide:
        pulses, turns, bumps = [], [], []
        t, v = t0 + float(rng.uniform(5, 15)), 0.0  # start stopped, engine idling
        t_end = t0 + duration
        while t < t_end - 25:
            target = float(rng.uniform(8, 14) if city else rng.uniform(20, 30))
            acc = float(rng.uniform(1.0, 2.0))  # mean; the raised-cosine peak is 4/3 of it
            d = (target - v) / acc * 1.5
            pulses.append((t, t + d, target - v))
            t, v = t + d, target
            cruise = float(rng.uniform(15, 60))
            t_c_end = min(t + cruise, t_end - 15)
            tc = t + 3
            while tc < t_c_end - 10:  # cruise: small speed corrections, turns, bumps
                r = rng.random()
                if r < 0.3:
                    ang = float(rng.choice([-90.0, 90.0]))
                    # lateral v·ψ̇ peaks at 1.9·v·(π/2)/d: keep it under ~3 m/s²
                    dt_turn = max(float(rng.uniform(4, 8)), 1.0 * v)
                    turns.append(RotationEvent(tc, dt_turn, (0.0, 0.0, 1.0), ang))
                    tc += dt_turn
                elif r < 0.5:
                    dv = float(np.clip(rng.uniform(-3, 3), 5.0 - v, 20.0 - v))
                    pulses.append((tc, tc + 4, dv))
                    v += dv
                    tc += 4
                elif r < 0.65:
                    dv = -(v - 4.0)  # slow down for a speed bump, then speed up again
                    d_slow, d_fast = max(3.0, abs(dv)), max(4.0, 1.2 * abs(dv))
                    pulses.append((tc, tc + d_slow, dv))
                    tb = tc + d_slow + 0.5
                    bumps.append((tb, float(rng.uniform(2.5, 4.0))))  # front axle...
                    bumps.append((tb + 2.7 / 4.0, float(rng.uniform(2.0, 3.5))))  # ...rear axle
                    pulses.append((tb + 1.5, tb + 1.5 + d_fast, -dv))
                    tc = tb + 1.5 + d_fast
                else:
                    bumps.append((tc, float(rng.uniform(0.4, 1.5))))
                tc += float(rng.uniform(3, 10))
            t = max(t_c_end, tc)
            if t > t_end - 12:
                break
            brake = float(rng.uniform(1.2, 2.4))
            d = v / brake * 1.5
            pulses.append((t, t + d, -v))
            t, v = t + d, 0.0
            t += float(rng.uniform(5, 30))  # stopped at lights
        if v > 0:
            d = min(v / 2.0 * 1.5, max(t_end - t - 1, 1.0))
            pulses.append((t, t + d, -v))
        return CarRide(t0, t_end, pulses, turns, bumps, int(rng.integers(0, 2**31)))

    def speed(self, t: Array) -> Array:
        """Forward speed (m/s): integral of the raised-cosine acceleration pulses."""
        v = np.zeros(t.shape[0])
        for s, e, dv in self.accel_pulses:
            u = np.clip((t - s) / (e - s), 0, 1)
            v += dv * (u - np.sin(2 * np.pi * u) / (2 * np.pi))
        return np.maximum(v, 0.0)

    def acceleration(self, t: Array) -> Array:
        rng = np.random.default_rng(self.seed)
        out = np.zeros((t.shape[0], 3))
        for s, e, dv in self.accel_pulses:
            out[:, 0] += _hann_pulse(t, s, e, dv)
        v = self.speed(t)
        for ev in self.turns:
            out += _centripetal(t, ev, 1.0) * v[:, None]
        moving = np.clip(v / 10.0, 0.0, 1.5)
        # engine: idles at ~22 Hz, rises with speed (gear changes keep it within 20-40 Hz)
        f_engine = 22.0 + 12.0 * (np.clip(v, 0, 30) % 10.0) / 10.0 + 4.0 * (v > 0.5)
        fine = np.arange(self.t0 - 1.0, self.t1 + 1.0, 1e-3)
        f_fine = np.interp(fine, t, f_engine) if t.size > 1 else np.full(fine.shape, 22.0)
        phase = np.interp(t, fine, 2 * np.pi * np.cumsum(f_fine) * 1e-3)
        engine_amp = 0.06 + 0.06 * np.clip(v / 15.0, 0, 1)
        for axis, share in ((0, 0.5), (1, 0.4), (2, 1.0)):
            out[:, axis] += share * engine_amp * np.sin(phase + axis)
            out[:, axis] += 0.3 * share * engine_amp * np.sin(2 * phase + 2 * axis)
        # road roughness: broadband 1-15 Hz plus the 1.0-1.5 Hz body bounce, scaled by speed
        f, p, a = _random_sines(rng, 30, 1.0, 15.0, 0.25)
        bounce_f, bounce_p, bounce_a = _random_sines(rng, 5, 1.0, 1.5, 0.2)
        out[:, 2] += moving * (_eval_sines(t, f, p, a) + _eval_sines(t, bounce_f, bounce_p,
                                                                     bounce_a))
        f, p, a = _random_sines(rng, 20, 0.3, 8.0, 0.12)
        out[:, 1] += moving * _eval_sines(t, f, p, a)
        f, p, a = _random_sines(rng, 20, 0.3, 8.0, 0.1)
        out[:, 0] += moving * _eval_sines(t, f, p, a)
        for tb, peak in self.bumps:
            lo, hi = np.searchsorted(t, [tb - 0.5, tb + 4.0])
            tt = t[lo:hi]
            out[lo:hi, 2] += jolt(tt, tb, peak, 0.05) + damped_ring(tt, tb + 0.1, 0.4 * peak,
                                                                    1.3, 0.6)
            out[lo:hi, 0] += 0.2 * jolt(tt, tb, -peak, 0.05)
        return out


def typing_taps(t0: float, t1: float, rng: np.random.Generator) -> list[tuple[float, float, float]]:
    """Keystrokes as (time, amplitude m/s², desk ring frequency Hz): bursts of 2-12 s at an
    irregular 3-8 keys/s, pauses of 1-20 s, and now and then a harder thump (hand, mug)."""
    taps: list[tuple[float, float, float]] = []
    t = t0 + float(rng.uniform(0.5, 3.0))
    while t < t1 - 1.0:
        burst_end = min(t + float(rng.uniform(2.0, 12.0)), t1 - 0.5)
        rate = float(rng.uniform(3.0, 8.0))
        while t < burst_end:
            taps.append((t, float(rng.uniform(0.03, 0.25)), float(rng.uniform(15.0, 30.0))))
            t += float(rng.gamma(4.0, 1.0 / (4.0 * rate)))
        if rng.random() < 0.3:
            taps.append((t + 0.3, float(rng.uniform(0.3, 0.8)), float(rng.uniform(8.0, 15.0))))
        t += float(rng.uniform(1.0, 20.0))
    return taps


def typing_acceleration(t: Array, taps: Sequence[tuple[float, float, float]]) -> Array:
    """Desk vibration from keystrokes: each a damped ring (~30 ms), mostly vertical."""
    out = np.zeros((t.shape[0], 3))
    for tk, amp, freq in taps:
        lo, hi = np.searchsorted(t, [tk, tk + 0.25])
        ring = damped_ring(t[lo:hi], tk, amp, freq, 0.03)
        out[lo:hi, 2] += ring
        out[lo:hi, 0] += 0.3 * ring
        out[lo:hi, 1] += 0.2 * ring
    return out


# ---------------------------------------------------------------------------------------------
# Transforms on real (or synthetic) recordings
# ---------------------------------------------------------------------------------------------


def moving_average(t: Array, x: Array, window_s: float) -> Array:
    """Centred moving average over a time window (irregular sampling allowed), per column."""
    t = np.asarray(t, dtype=float)
    x2 = np.asarray(x, dtype=float).reshape(t.shape[0], -1)
    csum = np.vstack([np.zeros((1, x2.shape[1])), np.cumsum(x2, axis=0)])
    half = window_s / 2 + 1e-9  # tolerance: a regular grid gives a symmetric window
    lo = np.searchsorted(t, t - half, side="left")
    hi = np.searchsorted(t, t + half, side="right")
    avg = (csum[hi] - csum[lo]) / (hi - lo)[:, None]
    return avg.reshape(np.asarray(x).shape)


def slow_down(t: Array, acc: Array, steps: Array, factor: float, *,
              gravity_window_s: float = 2.0, min_scale: float = 0.3) -> tuple[Array, Array, Array]:
    """Time-stretch a recording by factor (>1 = slower walker), as if the same motion were
    replayed more slowly: t and step times stretch by factor, the dynamic acceleration (acc minus
    a moving-average gravity estimate) scales by 1/factor², never below min_scale (a real slow
    walker still shows a visible step; 1/factor² alone would make a 1.6x slowdown 0.39x).

    Approximated: gravity = a 2 s moving average, so orientation changes faster than that are
    treated as motion and scaled too; sensor noise is scaled with the motion (add noise back if
    the level matters); impacts are stretched in time though a real heel strike stays ~50 ms;
    the sample rate becomes rate/factor (resample afterwards for a device rate).
    """
    if not 0.2 <= factor <= 5.0:
        raise ValueError(f"slow-down factor must be in 0.2..5, got {factor}")
    t = np.asarray(t, dtype=float)
    acc = np.asarray(acc, dtype=float)
    gravity = moving_average(t, acc, gravity_window_s)
    scale = max(1.0 / factor**2, min_scale)
    t0 = t[0]
    new_acc = gravity + (acc - gravity) * scale
    return t0 + (t - t0) * factor, new_acc, t0 + (np.asarray(steps, float) - t0) * factor


def rotate(acc: Array, rotation: Array) -> Array:
    """Readings of a sensor mounted rotated: a' = R·a per sample (R (3, 3) fixed or (N, 3, 3)).

    Approximation for time-varying R: the sensor turns about its own centre, so no tangential
    or centripetal acceleration is added (small for a clip turning over seconds).
    """
    acc = np.asarray(acc, dtype=float)
    rot = np.asarray(rotation, dtype=float)
    if rot.shape == (3, 3):
        return acc @ rot.T
    if rot.shape != (acc.shape[0], 3, 3):
        raise ValueError(f"rotation must be (3, 3) or ({acc.shape[0]}, 3, 3), got {rot.shape}")
    return np.einsum("nij,nj->ni", rot, acc)


def resample(t: Array, acc: Array, rate_hz: float, rng: np.random.Generator, *,
             jitter_s: float = 0.0) -> tuple[Array, Array]:
    """Linear interpolation onto a new (optionally jittered) grid spanning the same time.

    When the rate goes down, a moving average over one new period is applied first as a crude
    anti-alias filter (a real IMU filters before decimating).
    """
    t = np.asarray(t, dtype=float)
    acc = np.asarray(acc, dtype=float)
    new_t = sample_times(t[0], t[-1], rate_hz, rng, jitter_s=jitter_s)
    new_t = new_t[(new_t >= t[0]) & (new_t <= t[-1])]
    src_rate = (t.size - 1) / (t[-1] - t[0])
    src = moving_average(t, acc, 1.0 / rate_hz) if rate_hz < src_rate else acc
    cols = [np.interp(new_t, t, src[:, i]) for i in range(src.shape[1])]
    return new_t, np.stack(cols, axis=1)


def splice(segments: Sequence[tuple[Array, Array, Array]], gap_s: float | None = None
           ) -> tuple[Array, Array, Array]:
    """Concatenate (t, acc, steps) segments on one clock: each starts one sample period (or gap_s)
    after the previous ends; its steps shift with it. Seams are abrupt: bridge different
    orientations with a still segment whose gravity matches (see :func:`still_like`)."""
    if not segments:
        raise ValueError("splice needs at least one segment")
    ts, accs, steps = [], [], []
    offset = None
    for t, acc, st in segments:
        t = np.asarray(t, dtype=float)
        if t.size == 0:
            continue
        dt = float(np.median(np.diff(t))) if t.size > 1 else 0.01
        shift = -t[0] if offset is None else offset + (gap_s if gap_s is not None else dt) - t[0]
        ts.append(t + shift)
        accs.append(np.asarray(acc, dtype=float))
        steps.append(np.asarray(st, dtype=float) + shift)
        offset = ts[-1][-1]
    return np.concatenate(ts), np.concatenate(accs), np.concatenate(steps)


def still_like(gravity: Array, duration: float, rate_hz: float, rng: np.random.Generator,
               noise_rms: float = 0.03, sway_rms: float = 0.02) -> tuple[Array, Array, Array]:
    """A standing-still segment (t, acc, no steps) whose gravity vector is given, e.g. the mean of
    the first second of a real trace, so a splice has no orientation jump."""
    g = np.asarray(gravity, dtype=float)
    t = sample_times(0.0, duration, rate_hz, rng)
    acc = np.broadcast_to(g, (t.size, 3)) + body_sway(t, rng, sway_rms, sway_rms / 3)
    acc = acc + rng.normal(0.0, noise_rms, acc.shape)
    return t, acc, np.zeros(0)


# ---------------------------------------------------------------------------------------------
# Named scenarios
# ---------------------------------------------------------------------------------------------

# Clip orientations used by the scenarios: none is axis-aligned, so nothing may assume one.
HIP_CLIP = euler_matrix(-80.0, 10.0, 95.0)  # upright on the belt, screen outwards, a bit askew
FLAT_ON_SIDE = euler_matrix(91.0, 1.5, 30.0)  # lying on its side on a table


def _still_table(seed: int) -> Scenario:
    tl = Timeline(seed, clip=FLAT_ON_SIDE).rest(600.0)
    return tl.render(50.0, name="still_table", description=(
        "device on its side on a table for 10 min: gravity, white noise, bias; no motion"))


def _car_ride(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5).sit_down().sit(8).car(575).sit(3).stand_up()
    tl.stand(600.0 - tl.now)
    return tl.render(100.0, name="car_ride", description=(
        "seated 10 min city drive: engine 20-40 Hz, road roughness and 1-1.5 Hz body bounce, "
        "accelerate/brake, stops, 90-degree turns, speed bumps; hip clip, no steps"))


def _desk_typing(seed: int) -> Scenario:
    tl = Timeline(seed, clip=euler_matrix(2.0, -1.0, 120.0)).typing(300.0)
    return tl.render(50.0, name="desk_typing", description=(
        "device flat on a desk for 5 min beside a keyboard: bursts of 3-8 Hz irregular "
        "keystroke taps (damped 15-30 Hz rings) and occasional thumps"))


def _sit_stand(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP, sit_pitch_deg=float(np.random.default_rng(seed).uniform(
        65, 85)))
    tl.stand(10)
    for _ in range(10):
        tl.sit_down().sit(float(tl.rng.uniform(15, 30))).stand_up().stand(
            float(tl.rng.uniform(10, 20)))
    return tl.render(50.0, name="sit_stand", description=(
        "10 stand-to-sit/sit-to-stand cycles (1.2-2 s each: hip pitches 65-85 degrees, "
        "2-4 m/s2 vertical bump) with sitting and standing still between; no steps"))


def _chair_shifting(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5).sit_down().shift_in_chair(290).stand_up().stand(3)
    return tl.render(50.0, name="chair_shifting", description=(
        "5 min seated fidgeting: tilts of 3-15 degrees and 0.3-1.5 m/s2 bumps every 2-15 s; "
        "no steps"))


def _short_bouts(seed: int) -> Scenario:
    tl = Timeline(seed, clip=euler_matrix(-100.0, -20.0, 70.0))
    tl.stand(10)
    sizes = [4, 12, 5, 7, 4, 9, 6, 11, 4, 8, 5, 10, 6, 4, 7]
    for i, n in enumerate(sizes):
        tl.walk(n, float(tl.rng.uniform(80, 115)))
        pause = float(tl.rng.uniform(20, 60))
        if i % 3 == 1:
            tl.stand(3).sit_down().sit(pause).stand_up().stand(2)
        elif i % 3 == 2:
            tl.stand(pause / 2).fidget(1 + (i // 3) % 3).stand(pause / 2)
        else:
            tl.stand(pause)
    return tl.render(50.0, name="short_bouts", description=(
        "15 bouts of 4-12 steps at 80-115 spm separated by 20-60 s standing, sitting (with "
        "sit/stand transitions) or standing with 1-3 fidget steps (not counted)"))


def _slow_gait(cadence: float) -> Callable[[int], Scenario]:
    def build(seed: int) -> Scenario:
        tl = Timeline(seed, clip=HIP_CLIP)
        tl.stand(5).walk(int(cadence * 3), cadence).stand(5)
        return tl.render(50.0, name=f"slow_gait_{cadence:.0f}", description=(
            f"3 min walk at {cadence:.0f} spm, hip amplitude "
            f"{gait_amplitude(cadence):.1f} m/s2 p-p (rises with cadence), 3 % interval CV"))
    return build


def _shuffling(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5).walk(210, 70.0, amplitude_scale=0.5, cv=0.05).stand(5)
    return tl.render(50.0, name="shuffling", description=(
        "3 min shuffling at 70 spm: half the normal amplitude for the cadence "
        f"({gait_amplitude(70.0, 0.5):.2f} m/s2 p-p), 5 % interval CV"))


def _rotation_mid_walk(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5)
    tl.turn_clip(90.0, (1.0, 0.0, 0.0), 2.0, at=40.0)  # the clip twists 90 degrees over 2 s
    tl.turn_clip(180.0, (0.0, 1.0, 0.0), 0.5, at=80.0)  # knocked upside down...
    tl.turn_clip(-180.0, (0.0, 1.0, 0.0), 0.8, at=110.0)  # ...and put right
    tl.walk(240, 110.0, turns=[(30, 90.0, 2.5), (120, -180.0, 3.0), (200, 90.0, 2.0)])
    tl.stand(5)
    return tl.render(50.0, name="rotation_mid_walk", with_gyro=True, description=(
        "2.2 min walk at 110 spm; clip twists 90 degrees over 2 s at 40 s, flips upside down "
        "at 80 s and back at 110 s; the walker turns 90/-180/90 degrees; gyro included"))


def _stairs(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5)
    for _ in range(2):
        tl.walk(12, 105.0).walk(16, 95.0, stairs="up", turns=[(8, 180.0, 1.5)]).stand(8)
        tl.walk(16, 100.0, stairs="down", turns=[(8, 180.0, 1.5)]).walk(10, 105.0).stand(8)
    return tl.render(50.0, name="stairs", with_gyro=True, description=(
        "2 x (12 level steps, 16 up at 95 spm with a 180-degree landing turn, pause, 16 down "
        "at 100 spm, 10 level): stairs 1.4-1.7x amplitude, vertical start/stop; gyro included"))


def _daily_mix(seed: int) -> Scenario:
    tl = Timeline(seed, clip=euler_matrix(-75.0, 25.0, -80.0))
    tl.stand(20).walk(150, 105.0).stand(15).fidget(2).stand(15)
    tl.sit_down().typing(240.0, coupling=0.2).stand_up().walk(8, 90.0).stand(20)
    tl.walk(60, 95.0, turns=[(30, 90.0, 2.0)]).stand(10).sit_down().sit(10).car(420.0).sit(5)
    tl.stand_up().walk(300, 115.0, turns=[(100, -90.0, 2.0), (220, 90.0, 2.5)]).stand(15)
    tl.walk(5, 85.0).stand(10).sit_down().shift_in_chair(200.0).stand_up().fidget(3)
    tl.stand(5).walk(40, 80.0)
    tl.stand(1800.0 - tl.now)
    return tl.render(50.0, name="daily_mix", description=(
        "30 min: walks of 150/8/60/300/5/40 steps at 80-115 spm, standing with fidget steps, "
        "seated typing, a 7 min car ride, chair shifting, sit/stand transitions"))


def _low_rate(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(5).walk(300, 100.0).stand(5)
    return tl.render(25.0, name="low_rate_25hz", jitter_s=0.001, description=(
        "3 min walk at 100 spm sampled at 25 Hz with 1 ms timing jitter"))


def _high_rate(seed: int) -> Scenario:
    tl = Timeline(seed, clip=HIP_CLIP)
    tl.stand(3).walk(80, 112.0).stand(3)
    return tl.render(400.0, name="high_rate_400hz", jitter_s=0.0004, drop_prob=0.01,
                     gaps=[(25.0, 28.0)], description=(
        "45 s walk at 112 spm sampled at 400 Hz with 0.4 ms jitter, 1 % dropped samples and a "
        "3 s gap (25-28 s) whose steps are not in the truth"))


SCENARIOS: dict[str, tuple[str, Callable[[int], Scenario]]] = {
    "still_table": ("non_walking", _still_table),
    "car_ride": ("non_walking", _car_ride),
    "desk_typing": ("non_walking", _desk_typing),
    "sit_stand": ("non_walking", _sit_stand),
    "chair_shifting": ("non_walking", _chair_shifting),
    "short_bouts": ("mixed", _short_bouts),
    "slow_gait_60": ("walking", _slow_gait(60.0)),
    "slow_gait_75": ("walking", _slow_gait(75.0)),
    "slow_gait_90": ("walking", _slow_gait(90.0)),
    "shuffling": ("walking", _shuffling),
    "rotation_mid_walk": ("walking", _rotation_mid_walk),
    "stairs": ("mixed", _stairs),
    "daily_mix": ("mixed", _daily_mix),
    "low_rate_25hz": ("walking", _low_rate),
    "high_rate_400hz": ("walking", _high_rate),
}
"""Synthetic scenarios: name -> (kind: walking | non_walking | mixed, builder(seed))."""


def build_scenario(name: str, seed: int = 0) -> Scenario:
    """Build a named synthetic scenario (see SCENARIOS); same name and seed, same arrays."""
    try:
        kind, builder = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}") from None
    sc = builder(seed)
    sc.meta["kind"] = kind
    return sc


def real_cadence(steps: Array) -> float:
    """Mean cadence (steps/min) of a steady recording's truth."""
    steps = np.asarray(steps, dtype=float)
    return float(60.0 * (steps.size - 1) / (steps[-1] - steps[0]))


def slowed_real(t: Array, acc: Array, steps: Array, target_spm: float, seed: int = 0,
                rate_hz: float = 50.0, source: str = "") -> Scenario:
    """A real walk slowed to target_spm (see :func:`slow_down`), fresh 0.03 m/s² noise added,
    resampled to rate_hz with jitter and framed by 10 s of standing whose gravity matches."""
    rng = np.random.default_rng(seed)
    factor = real_cadence(steps) / target_spm
    st, sa, ss = slow_down(t, acc, steps, factor)
    sa = sa + rng.normal(0.0, 0.03, sa.shape)
    rt, ra = resample(st, sa, rate_hz, rng, jitter_s=0.0005)
    ss = ss[(ss >= rt[0]) & (ss <= rt[-1])]
    edge = int(rate_hz)
    pre = still_like(ra[:edge].mean(axis=0), 10.0, rate_hz, rng)
    post = still_like(ra[-edge:].mean(axis=0), 10.0, rate_hz, rng)
    tt, aa, steps_out = splice([pre, (rt, ra, ss), post])
    meta = {"scenario": "real_slowed", "seed": str(seed), "rate_hz": f"{rate_hz:g}",
            "description": (f"real pocket walk {source} slowed x{factor:.2f} to "
                            f"{target_spm:.0f} spm (dynamic acc scaled by "
                            f"{max(1 / factor**2, 0.3):.2f}), 10 s standing either side"),
            "steps": str(steps_out.size), "kind": "walking"}
    return Scenario(tt, aa, steps_out, meta)


def rotated_real(t: Array, acc: Array, steps: Array, seed: int = 0, rate_hz: float = 50.0,
                 source: str = "") -> Scenario:
    """A real walk seen by a sensor mounted at a random fixed angle that also twists 90° over 2 s
    at one third and is upside down for 20 s at two thirds; resampled to rate_hz."""
    rng = np.random.default_rng(seed)
    rt, ra = resample(t, acc, rate_hz, rng, jitter_s=0.0005)
    span = rt[-1] - rt[0]
    rot = orientation_track(rt, random_rotation(rng), [
        RotationEvent(rt[0] + span / 3, 2.0, (0.0, 0.0, 1.0), 90.0),
        RotationEvent(rt[0] + 2 * span / 3, 0.5, (1.0, 0.0, 0.0), 180.0),
        RotationEvent(rt[0] + 2 * span / 3 + 20.0, 0.8, (1.0, 0.0, 0.0), -180.0),
    ])
    st = np.asarray(steps, dtype=float)
    st = st[(st >= rt[0]) & (st <= rt[-1])]
    meta = {"scenario": "real_rotated", "seed": str(seed), "rate_hz": f"{rate_hz:g}",
            "description": (f"real walk {source} at a random fixed mounting angle, twisted 90 "
                            "degrees over 2 s at 1/3, upside down for 20 s at 2/3"),
            "steps": str(st.size), "kind": "walking"}
    return Scenario(rt, rotate(ra, rot), st, meta)
