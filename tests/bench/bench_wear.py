"""Wear detection benchmark: worn / not-worn minutes, with and without the chip temperature.

    .venv/bin/python tests/bench/bench_wear.py [--seed N]

Scenarios (tests/bench/wear_scenarios.py): a device on a table for hours (after being worn,
and from power-on), sitting at a desk, a car ride, taken off and put back mid-day, sleeping on
the back (real SisFall lying-down and rolling trials between still stretches) and a very still
sleeper, both after 30 minutes on the bedside charger (so the clip has been seen off the body),
and the clip in a bag on a car seat (not worn but moving, a known limit). The SisFall
recordings are read from ../shared and never copied; without them the benchmark says so and
runs the synthetic scenarios only. Each scenario runs through the
device's own WearFeatures (one-second batches) and WearDetector; the truth per minute is
what most of its seconds were. Transitions: for every true worn<->not-worn change, the distance
(minutes) to the nearest detected change of the same direction (none within 30 min: missed).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from device.core.wear import WearParams, wear_flags
from tests.bench.wear_scenarios import have_sisfall, iter_scenarios, run

MISSED_AFTER_MIN = 30  # a detected change further away than this is not that transition


def transitions(flags: np.ndarray) -> list[tuple[int, bool]]:
    """(index, now worn) of every change."""
    idx = np.flatnonzero(flags[1:] != flags[:-1]) + 1
    return [(int(i), bool(flags[i])) for i in idx]


def transition_errors(truth: np.ndarray, detected: np.ndarray) -> list[float]:
    found = transitions(detected)
    errors = []
    for i, to_worn in transitions(truth):
        same = [abs(j - i) for j, w in found if w == to_worn]
        near = [d for d in same if d <= MISSED_AFTER_MIN]
        errors.append(float(min(near)) if near else float("inf"))
    return errors


CONTRASTS = (7.0, 4.0, 2.5, 1.5)
CONTRAST_SCENARIOS = ("off twice for 25 min (a coffee break)", "off and on mid-day",
                      "off the charger, then a very still sleeper (2.5 h without moving)")


def contrast_table(seed: int, sisfall: bool, params: WearParams
                   ) -> list[tuple[float, float, float, float]]:
    """Worn found %, not worn found %, transitions within 5 min % per worn-off contrast."""
    chosen = [(k, name, pieces) for k, (name, pieces) in enumerate(iter_scenarios(sisfall))
              if name in CONTRAST_SCENARIOS]
    out = []
    for contrast in CONTRASTS:
        c = np.zeros(4, dtype=int)
        errors: list[float] = []
        for k, _name, pieces in chosen:
            r = run(pieces, seed + 100 * k, temperature=True, params=params, contrast=contrast)
            flags = wear_flags([m.start_s for m in r.minutes], [m.active_s for m in r.minutes],
                               [m.temp_c for m in r.minutes], params,
                               [m.turned for m in r.minutes])
            truth = r.truth_worn
            c += [np.sum(truth & flags), np.sum(truth & ~flags), np.sum(~truth & flags),
                  np.sum(~truth & ~flags)]
            errors += transition_errors(truth, flags)
        e = np.array(errors)
        out.append((contrast, c[0] / max(1, c[0] + c[1]) * 100,
                    c[3] / max(1, c[2] + c[3]) * 100, float(np.mean(e <= 5) * 100)))
    return out


def feature_speed() -> tuple[float, float]:
    """Seconds for 24 h of 104 Hz through WearFeatures (1-s batches, timed on 1 h) and for one
    day of minutes through WearDetector."""
    from device.core.wear import WearDetector, WearFeatures

    rng = np.random.default_rng(0)
    t = np.arange(3600 * 104) / 104.0
    acc = np.array([0.0, 0.0, 9.81]) + rng.normal(0.0, 0.01, (t.size, 3))
    feats = WearFeatures(offset_s=1.78e9)
    t0 = time.perf_counter()
    for s in range(3600):
        feats.update(t[s * 104:(s + 1) * 104], acc[s * 104:(s + 1) * 104], 30.0)
    per_day = (time.perf_counter() - t0) * 24
    det = WearDetector()
    active = np.where(np.arange(1440) % 97 == 0, 30, 0)
    t0 = time.perf_counter()
    det.update(1.78e9 + 60.0 * np.arange(1440), active, np.full(1440, 30.0))
    det.finish()
    return per_day, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    sisfall = have_sisfall()
    if not sisfall:
        print("(../shared/traces/sisfall-waist-adl not found: SisFall scenarios skipped)")
    params = WearParams()
    rows = []
    totals = {m: np.zeros(4, dtype=int) for m in ("temp", "accel")}
    all_errors: dict[str, list[float]] = {"temp": [], "accel": []}
    t0 = time.perf_counter()
    for k, (name, pieces) in enumerate(iter_scenarios(sisfall)):
        r = run(pieces, args.seed + 100 * k, temperature=True, params=params)
        starts = np.array([m.start_s for m in r.minutes])
        active = np.array([m.active_s for m in r.minutes])
        temps = [m.temp_c for m in r.minutes]
        turned = [m.turned for m in r.minutes]
        for mode in ("temp", "accel"):
            flags = wear_flags(starts, active, temps if mode == "temp" else None, params, turned)
            truth = r.truth_worn
            c = np.array([np.sum(truth & flags), np.sum(truth & ~flags),
                          np.sum(~truth & flags), np.sum(~truth & ~flags)])
            totals[mode] += c
            errs = transition_errors(truth, flags)
            all_errors[mode] += errs
            rows.append((name, mode, c, errs))
    contrast_rows = contrast_table(args.seed, sisfall, params)
    elapsed = time.perf_counter() - t0
    speed = feature_speed()
    mode_name = {"temp": "accel + temperature", "accel": "accelerometer only"}
    print("| scenario | cues | worn min: called worn | worn min: called not worn "
          "| not-worn min: called worn | not-worn min: called not worn | transitions: "
          "minutes off (each) |")
    print("|---|---|---|---|---|---|---|")
    for name, mode, c, errs in rows:
        err = ", ".join("missed" if not np.isfinite(e) else f"{e:.0f}" for e in errs) or "none"
        print(f"| {name} | {mode_name[mode]} | {c[0]:,} | {c[1]:,} | {c[2]:,} | {c[3]:,} "
              f"| {err} |")
    for mode in ("temp", "accel"):
        c = totals[mode]
        worn_ok = c[0] / max(1, c[0] + c[1]) * 100
        off_ok = c[3] / max(1, c[2] + c[3]) * 100
        errs = np.array(all_errors[mode])
        within = np.mean(errs <= 5) * 100 if errs.size else 100.0
        print(f"| **all** | {mode_name[mode]} | {c[0]:,} | {c[1]:,} | {c[2]:,} | {c[3]:,} "
              f"| worn found {worn_ok:.1f} %, not worn found {off_ok:.1f} %, "
              f"transitions within 5 min {within:.0f} % |")
    print("\nHow much the temperature cue needs: the same scenarios with a smaller difference "
          "between the clip worn and on a table (the Pi's own warmth, a clip over thick "
          "clothes).\n")
    print("| worn minus off (°C) | worn min: called worn | not-worn min: called not worn "
          "| transitions within 5 min |")
    print("|---|---|---|---|")
    for contrast, worn_pct, off_pct, within in contrast_rows:
        print(f"| {contrast:g} | {worn_pct:.1f} % | {off_pct:.1f} % | {within:.0f} % |")
    print(f"\n({elapsed:.0f} s; {sum(int(c.sum()) for c in totals.values()) // 2:,} minutes "
          f"per cue set. Cost on this machine: WearFeatures {speed[0]:.2f} s per 24 h of 104 Hz "
          f"in one-second batches ({speed[0] / 864:.4f} % of a core), WearDetector "
          f"{speed[1] * 1000:.1f} ms per day of minutes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
