"""Render benchmark: milliseconds per frame for each OLED screen (target <= 20 ms on the Pi).

Run: .venv/bin/python tests/bench/bench_render.py [--repeat N]
Measures the whole frame path the firmware uses: make_view, then drawing through a luma
`canvas` onto luma's dummy device (mode "1", 128x64), plus the controller's viewport/hotspot
path when the view changes on every tick. Not a timed test: it only prints a table.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from device.display.controller import DisplayController
from device.display.devices import make_display
from device.display.render_all import (
    SAMPLE_WALL,
    render_screen,
    sample_progress,
    sample_status,
)
from device.display.screens import ALL_SCREENS, font

TARGET_MS = 20.0


def _timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    for size in range(8, 40):
        font(size)
    print(f"font load (all sizes, once per process): {(time.perf_counter() - t0) * 1000:.1f} ms")

    progress, status = (
        sample_progress(),
        dataclasses.replace(sample_status(), pairing_code="482913"),
    )
    device = make_display("dummy")
    print(
        f"{'screen':<10} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}  target <= {TARGET_MS:g} ms"
    )
    worst = 0.0
    for screen in ALL_SCREENS:
        render_screen(device, screen, progress, status, SAMPLE_WALL)  # warm-up
        times = _timed(
            lambda s=screen: render_screen(device, s, progress, status, SAMPLE_WALL), args.repeat
        )
        p95 = statistics.quantiles(times, n=20)[-1]
        worst = max(worst, p95)
        print(f"{screen:<10} {statistics.median(times):>10.2f} {p95:>8.2f} {max(times):>8.2f}")

    # Controller path: a new view every tick (today screen, cadence changing), one frame each.
    status = sample_status()  # no pairing code: a code would switch the controller to pairing
    controller = DisplayController(make_display("dummy"), idle_timeout_s=None)
    controller.open_screen("today")
    ticks = iter(range(10**9))

    def changing_tick() -> None:
        n = next(ticks)
        controller.update(progress, dataclasses.replace(status, live_cadence_spm=80 + n % 60))
        controller.tick(float(n), SAMPLE_WALL)

    times = _timed(changing_tick, args.repeat)
    assert controller.frames_sent == args.repeat, "every changing tick must send one frame"
    print(
        f"{'ctrl+frame':<10} {statistics.median(times):>10.2f} "
        f"{statistics.quantiles(times, n=20)[-1]:>8.2f} {max(times):>8.2f}"
    )

    def idle_tick() -> None:
        controller.tick(0.0, SAMPLE_WALL)

    controller.update(progress, status)
    idle_tick()
    times = _timed(idle_tick, args.repeat)
    print(
        f"{'ctrl idle':<10} {statistics.median(times):>10.2f} "
        f"{statistics.quantiles(times, n=20)[-1]:>8.2f} {max(times):>8.2f}  (no change: no frame)"
    )
    print("OK" if worst <= TARGET_MS else f"SLOW: worst p95 {worst:.2f} ms > {TARGET_MS:g} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
