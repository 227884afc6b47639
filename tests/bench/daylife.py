"""A day of hip IMU data generated second by second, so benchmarks stream it in bounded memory.

Walking bouts (one |a| pulse per step on tilted gravity, 80-125 steps/min) alternate with
standing and sitting (sensor noise); the layout is fixed by a seed so runs compare.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

G = 9.81


def day_plan(seed: int = 0, seconds: int = 86400) -> np.ndarray:
    """Cadence (steps/min) for every second of the day, 0 where not walking."""
    rng = np.random.default_rng(seed)
    cadence = np.zeros(seconds)
    t = 0
    while t < seconds:
        t += int(rng.exponential(900))                       # rest
        length = int(rng.choice([10, 30, 120, 600, 1800]))   # short and long bouts
        cadence[t : t + length] = rng.uniform(80, 125)
        t += length
    return cadence


def day_chunks(rate_hz: float = 100.0, seed: int = 0, seconds: int = 86400,
               chunk_s: int = 1) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(t, acc) one chunk at a time: a whole day without holding it in memory."""
    rng = np.random.default_rng(seed + 1)
    cadence = day_plan(seed, seconds)
    up = np.array([0.3, 0.2, 0.93])
    up /= np.linalg.norm(up)
    n = int(rate_hz * chunk_s)
    phase = 0.0
    for s in range(0, seconds, chunk_s):
        t = s + np.arange(n) / rate_hz + rng.uniform(0, 0.2 / rate_hz, n)
        spm = cadence[s]
        vertical = np.zeros(n)
        if spm > 0:
            f = spm / 60.0
            ph = phase + 2 * np.pi * f * (t - s)
            vertical = 2.0 * np.maximum(np.sin(ph), 0) ** 3 - 0.6 * np.sin(ph) ** 2
            phase = float(ph[-1] + 2 * np.pi * f / rate_hz)
        acc = (G + vertical)[:, None] * up + 0.03 * rng.standard_normal((n, 3))
        yield t, acc
