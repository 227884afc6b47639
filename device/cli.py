"""`pedometer`: the device-side command (run on the Pi, simulate anywhere, replay traces).

Every subcommand turns bad input into one plain line on stderr and exit status 2, never a
traceback: a developer or caregiver should see what is wrong, not where in our code it broke.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from device import __version__
from device.core.aggregator import DEFAULT_THRESHOLD_SPM

EXIT_USAGE = 2


class UserError(Exception):
    """A problem the user can fix (bad file, bad option); printed as one line, exit 2."""


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 30.0 <= value <= 250.0:
        raise argparse.ArgumentTypeError("threshold must be between 30 and 250 steps/min")
    return value


# -- replay --------------------------------------------------------------------------------
def _add_replay(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "replay",
        help="run a recorded IMU trace through the device's step pipeline",
        description=(
            "Replay a recorded trace (CSV or .csv.gz: t,ax,ay,az[,gx,gy,gz]) through the same "
            "sampler, step detector and minute aggregator the device runs, in the same "
            "one-second batches, and print steps, cadence and moderate minutes."
        ),
    )
    p.add_argument("trace", type=Path, help="trace file (.csv or .csv.gz)")
    p.add_argument("--json", action="store_true", help="print one JSON object (see DESIGN.md)")
    p.add_argument("--truth", type=Path, metavar="STEPS.csv",
                   help="ground-truth step times: also print our error against them")
    p.add_argument("--threshold", type=_threshold, default=DEFAULT_THRESHOLD_SPM, metavar="SPM",
                   help="moderate-cadence threshold in steps/min (default %(default)g)")
    p.set_defaults(func=cmd_replay)


def cmd_replay(args: argparse.Namespace) -> int:
    from device.replay import replay
    from device.trace import TraceError, read_trace, read_truth

    try:
        trace = read_trace(args.trace)
        truth = read_truth(args.truth) if args.truth else None
    except TraceError as exc:
        raise UserError(str(exc)) from None
    result = replay(trace, threshold_spm=args.threshold)
    if args.json:
        print(json.dumps(result.to_json()))  # exactly the contract's object on stdout
        if truth is not None:
            err = _error_pct(result.steps, truth.size)
            print(f"truth {truth.size} steps, ours {result.steps}, error "
                  f"{'n/a' if err is None else f'{err:+.2f} %'}", file=sys.stderr)
        return 0
    print(format_summary(args.trace, result, truth))
    return 0


def _error_pct(ours: int, truth: int) -> float | None:
    return round(100.0 * (ours - truth) / truth, 2) if truth else None


def format_summary(path: Path, result, truth=None) -> str:
    """A short human summary of a replay."""
    minutes = result.minutes
    walking = [m for m in minutes if m.steps > 0]
    lines = [
        f"{path.name}: {result.duration_s / 60:.1f} min of data",
        f"  steps            {result.steps}",
    ]
    if walking:
        best = max(m.cadence_spm for m in walking)
        lines.append(f"  walking minutes  {len(walking)} (busiest: {best:.0f} steps/min)")
    lines.append(
        f"  moderate minutes {result.moderate_minutes} "
        f"(minutes with at least {result.threshold_spm:g} steps)"
    )
    if truth is not None:
        err = _error_pct(result.steps, truth.size)
        err_text = f"{err:+.2f} %" if err is not None else "n/a (no true steps)"
        lines.append(f"  ground truth     {truth.size} steps, error {err_text}")
    return "\n".join(lines)


# -- run ---------------------------------------------------------------------------------------
def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the device (on the Pi), or simulate it on any computer with --simulate",
        description=(
            "Run the firmware: read the IMU, count steps, store one row per minute, show weekly "
            "progress on the OLED and serve USB sync. With --simulate TRACE the IMU is a recorded "
            "trace played at --speed times real time, the display is emulated, and --serial "
            "exposes the sync agent on any serial path, so the whole product runs on one computer."
        ),
    )
    p.add_argument("--simulate", type=Path, metavar="TRACE",
                   help="play this trace instead of reading the IMU")
    p.add_argument("--speed", type=float, default=1.0, metavar="N",
                   help="simulation speed, times real time; 0 = as fast as possible (default 1)")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="where the minute store lives (default: /var/lib/walkcoach on the Pi, "
                        "~/.local/share/walkcoach-sim when simulating)")
    p.add_argument("--display", choices=["auto", "none", "terminal", "gif", "ssd1306", "sh1106"],
                   default="auto",
                   help="auto: the configured OLED on the Pi; the terminal when simulating on a "
                        "terminal, else none")
    p.add_argument("--gif", type=Path, metavar="FILE",
                   help="record the screens as an animated GIF (implies --display gif)")
    p.add_argument("--serial", metavar="PATH",
                   help="serve USB sync on this serial port (default on the Pi: from --config)")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="hardware config TOML (see hardware/device.toml)")
    p.add_argument("--start", metavar="ISO",
                   help="simulated wall-clock time of the trace's first sample "
                        "(default: so that the trace ends now)")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    import logging

    from device.app import RunOptions, default_data_dir, run_device
    from device.store import StoreError
    from device.trace import TraceError

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    hardware = _hardware_config(args.config)
    simulating = args.simulate is not None
    display = args.display
    if args.gif:
        display = "gif"
    elif display == "auto":
        if simulating:
            display = "terminal" if sys.stdout.isatty() else "none"
        else:
            display = hardware.display_driver
    start = None
    if args.start:
        try:
            start = _parse_start(args.start)
        except ValueError as exc:
            raise UserError(f"--start: {exc}") from None
    if args.speed < 0:
        raise UserError("--speed must be 0 (as fast as possible) or positive")
    data_dir = args.data_dir or (default_data_dir() if simulating else DEFAULT_DATA_DIR)
    serial_port = args.serial or (None if simulating else hardware.sync_port)
    opts = RunOptions(data_dir=data_dir, simulate=args.simulate, speed=args.speed,
                      display=display, gif_path=args.gif, serial_port=serial_port,
                      start_utc=start, hardware=hardware)
    try:
        return run_device(opts)
    except TraceError as exc:
        raise UserError(str(exc)) from None
    except StoreError as exc:
        raise UserError(f"storage: {exc}") from None


DEFAULT_DATA_DIR = Path("/var/lib/walkcoach")


def _hardware_config(path: Path | None):
    """The Pi's hardware TOML (defaults when no file is named); a bad file is a user error."""
    from device.app import HardwareConfig

    try:
        return HardwareConfig.load(path)
    except ValueError as exc:
        raise UserError(str(exc)) from None


# -- record, selftest ---------------------------------------------------------------------------
def _add_record(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "record",
        help="record a raw IMU trace from the chip (on the Pi)",
        description="Record the IMU's raw samples to OUT in the trace format (CSV, .gz to "
                    "compress), so a field recording can be replayed with `pedometer replay`. "
                    "Stop the pedometer service first: it holds the I2C bus.",
    )
    p.add_argument("out", type=Path, metavar="OUT.csv", help="file to write (.csv or .csv.gz)")
    p.add_argument("--duration", type=float, metavar="S", help="seconds to record (default: "
                   "until Ctrl-C)")
    p.add_argument("--config", type=Path, metavar="FILE", help="hardware config TOML")
    p.set_defaults(func=cmd_record)


def cmd_record(args: argparse.Namespace) -> int:
    from device.lsm6ds import ImuUnavailable, Lsm6dsSource
    from device.record import record_trace

    hw = _hardware_config(args.config)
    address = hw.imu_address if hw.imu_address == "auto" else int(hw.imu_address, 0)
    try:
        source = Lsm6dsSource.on_pi(hw.i2c_bus, address)
    except ImuUnavailable as exc:
        print(f"pedometer record: {exc}", file=sys.stderr)
        return 1
    print(f"recording {source.chip.name} at {source.rate_hz:g} Hz to {args.out} "
          "(Ctrl-C to stop)", file=sys.stderr)
    try:
        rows = record_trace(source, args.out, duration_s=args.duration)
    except KeyboardInterrupt:
        rows = None
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    finally:
        source.close()
    print(f"wrote {args.out}" + (f" ({rows} samples)" if rows is not None else ""))
    return 0


def _add_selftest(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "selftest",
        help="check the IMU, display, button, USB port and storage, in plain words",
        description="Look for every part of the device and say what is missing or wrong. "
                    "Exit status 0 when all parts are found, 1 otherwise.",
    )
    p.add_argument("--config", type=Path, metavar="FILE", help="hardware config TOML")
    p.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, metavar="DIR",
                   help="the device's data directory (default %(default)s)")
    p.set_defaults(func=cmd_selftest)


def cmd_selftest(args: argparse.Namespace) -> int:
    from device.selftest import format_checks, run_selftest

    hw = _hardware_config(args.config)
    checks = run_selftest(hw, args.data_dir)
    print(format_checks(checks))
    return 0 if all(c.ok for c in checks) else 1


# -- screens, demo -------------------------------------------------------------------------------
def _add_screens(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screens",
        help="render every OLED screen to PNG (4x) for people to look at",
        description="Render the Week, Today, Plan, Status and Pairing screens to DIR/<screen>.png "
                    "at 4x, from sample data, or from a device's stored data with --data-dir.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the PNGs")
    p.add_argument("--data-dir", type=Path, metavar="DIR",
                   help="render this device data directory's progress instead of sample data")
    p.set_defaults(func=cmd_screens)


def cmd_screens(args: argparse.Namespace) -> int:
    from device.display.render_all import render_all

    progress = status = wall = None
    if args.data_dir is not None:
        progress, status, wall = _stored_view(args.data_dir)
    try:
        paths = render_all(args.out, progress, status, wall)
    except OSError as exc:
        raise UserError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    for path in paths:
        print(path)
    return 0


def _stored_view(data_dir: Path):
    import datetime as dt

    from device.core.progress import wearer_zone, week_progress_arrays
    from device.status import DeviceStatus
    from device.store import STORE_FILENAME, Store, StoreError

    if not (data_dir / STORE_FILENAME).exists():
        raise UserError(f"{data_dir}: no device data here ({STORE_FILENAME} not found)")
    try:
        with Store.in_dir(data_dir) as store:
            cfg = store.get_config()
            last = store.minutes_after(max(0, store.last_seq() - 1), limit=1)
            now = float(last[-1].start_utc + 60) if last else dt.datetime.now(dt.UTC).timestamp()
            arrays = store.minute_arrays_between(int(now) - 42 * 86400, int(now) + 86400)
            progress = week_progress_arrays(*arrays, cfg, now, store.first_data_utc())
            status = DeviceStatus(threshold_spm=cfg.threshold_spm, wearer_label=cfg.wearer_label,
                                  paired=store.get_meta("sync_secret") is not None)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    wall = dt.datetime.fromtimestamp(now, dt.UTC).astimezone(wearer_zone(cfg))
    return progress, status, wall


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the whole product on one computer: a simulated wearer, the device, hostsync",
        description="A simulated wearer walks on several days (a real recording played through "
                    "the device pipeline); the device stores minutes and draws its screens to a "
                    "GIF; the real hostsync command pairs over a virtual USB cable (two "
                    "pseudo-terminals), pulls the data, sets a plan and writes the weekly report.",
    )
    p.add_argument("--out", type=Path, default=Path("walkcoach-demo"), metavar="DIR",
                   help="where the device data, host database, GIF and report go "
                        "(default: %(default)s)")
    p.add_argument("--days", type=int, default=5, metavar="N",
                   help="days of walking to simulate, 1-7 (default %(default)s)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from device.demo import run_demo

    if not 1 <= args.days <= 7:
        raise UserError("--days must be between 1 and 7")
    if (args.out / "device").exists() or (args.out / "host.sqlite3").exists():
        raise UserError(f"{args.out} already holds a demo; remove it or pass --out NEWDIR")
    return run_demo(args.out, args.days)


def _parse_start(text: str) -> float:
    import datetime as dt

    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.astimezone()  # local time, as a person would type it
    return when.timestamp()


# -- the command ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pedometer",
        description=(
            "Walk Coach firmware: counts steps from a hip-worn IMU, tracks moderate walking "
            "minutes against the weekly plan, shows progress on the OLED and syncs over USB."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


_SUBCOMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_demo, _add_run, _add_replay, _add_screens, _add_selftest, _add_record,
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"pedometer: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
