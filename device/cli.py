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
        help="run recorded IMU traces through the device's step pipeline",
        description=(
            "Replay recorded traces (CSV or .csv.gz: t,ax,ay,az[,gx,gy,gz]) through the same "
            "sampler, step detector and minute aggregator the device runs, in the same "
            "one-second batches, and print steps, cadence and moderate minutes. One file: a "
            "summary (or --json). Several files or folders: one row per trace, scored against "
            "NAME.steps.csv beside it when there is one, and a summary."
        ),
    )
    p.add_argument("traces", type=Path, nargs="+", metavar="TRACE",
                   help="trace file (.csv or .csv.gz) or a folder of them")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true",
                     help="one trace: print one JSON object (see DESIGN.md)")
    out.add_argument("--jsonl", action="store_true",
                     help="one JSON object per trace and line, with the trace's path in 'trace'")
    p.add_argument("--truth", type=Path, metavar="STEPS.csv",
                   help="one trace: ground-truth step times; also print matched, extra and "
                        "missed steps, F1 and moderate-minute agreement (stderr with --json)")
    p.add_argument("--threshold", type=_threshold, default=DEFAULT_THRESHOLD_SPM, metavar="SPM",
                   help="moderate-cadence threshold in steps/min (default %(default)g)")
    p.add_argument("--plot", type=Path, metavar="OUT.png",
                   help="one trace: draw the signal, detected and true steps, bouts and minutes "
                        "(needs matplotlib: walkcoach[dev])")
    p.add_argument("--from", dest="plot_from", type=_seconds, metavar="S",
                   help="plot from this many seconds after the first sample")
    p.add_argument("--to", dest="plot_to", type=_seconds, metavar="S",
                   help="plot up to this many seconds after the first sample")
    p.set_defaults(func=cmd_replay)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0.0 <= value < 1e9:
        raise argparse.ArgumentTypeError("seconds must be 0 or more")
    return value


def _progress_reporter(label: str) -> Callable[[float], None] | None:
    """Progress on stderr for a person watching a terminal; nothing in pipes and logs."""
    if not sys.stderr.isatty():
        return None

    def report(fraction: float) -> None:
        print(f"\r{label} {100 * fraction:3.0f} %", end="", file=sys.stderr, flush=True)

    return report


def cmd_replay(args: argparse.Namespace) -> int:
    from device.replay import find_traces
    from device.trace import TraceError

    try:
        paths = find_traces(args.traces)
    except TraceError as exc:
        raise UserError(str(exc)) from None
    if not paths:
        named = ", ".join(map(str, args.traces))
        raise UserError(f"no traces (NAME.csv or NAME.csv.gz) in {named}")
    if len(args.traces) == 1 and not args.traces[0].is_dir():
        return _replay_one(args, paths[0])
    for flag, given in (("--json", args.json), ("--truth", args.truth), ("--plot", args.plot)):
        if given:
            raise UserError(f"{flag} takes one trace file; with several, NAME.steps.csv beside "
                            "each trace is its truth (use --jsonl for JSON)")
    return _replay_many(args, paths)


def _replay_one(args: argparse.Namespace, path: Path) -> int:
    from device.replay import format_summary, replay_file, score_against_truth, trace_name
    from device.trace import TraceError, read_truth

    if (args.plot_from is not None or args.plot_to is not None) and args.plot is None:
        raise UserError("--from and --to choose the span of --plot OUT.png")
    if args.plot is not None:
        from device.replay_plot import PlotUnavailable, check_plot_support

        try:
            check_plot_support(args.plot)
        except PlotUnavailable as exc:
            raise UserError(str(exc)) from None
    report = _progress_reporter(f"replaying {path.name}")
    try:
        truth = read_truth(args.truth) if args.truth else None
        result = replay_file(path, threshold_spm=args.threshold, progress=report)
    except TraceError as exc:
        raise UserError(str(exc)) from None
    finally:
        if report is not None:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
    score = score_against_truth(result, truth) if truth is not None else None
    if args.plot is not None:
        _plot(args, path, result, truth)
    if args.json or args.jsonl:
        obj = result.to_json()
        if args.jsonl:
            obj = {"trace": str(path), **obj}
        print(json.dumps(obj))  # exactly the contract's object on stdout
        if score is not None:
            from device.replay import format_truth

            print("\n".join(line.strip() for line in format_truth(score)), file=sys.stderr)
        return 0
    print(format_summary(trace_name(path), result, score))
    return 0


def _plot(args: argparse.Namespace, path: Path, result, truth) -> None:
    from device.replay_plot import plot_replay
    from device.trace import TraceError

    try:
        written = plot_replay(path, result, args.plot, truth_s=truth, start_s=args.plot_from,
                              end_s=args.plot_to)
    except TraceError as exc:
        raise UserError(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot write {args.plot}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    print(f"plot written to {written}", file=sys.stderr)


def _replay_many(args: argparse.Namespace, paths: list[Path]) -> int:
    from device.replay import (
        TraceRow,
        format_table,
        replay_file,
        score_against_truth,
        truth_beside,
    )
    from device.trace import TraceError, read_truth

    rows: list[TraceRow] = []
    for i, path in enumerate(paths, 1):
        row = TraceRow(path)
        report = _progress_reporter(f"[{i}/{len(paths)}] {path.name}")
        try:
            truth_path = truth_beside(path)
            truth = read_truth(truth_path) if truth_path else None
            row.result = replay_file(path, threshold_spm=args.threshold, progress=report)
            row.score = score_against_truth(row.result, truth) if truth is not None else None
        except TraceError as exc:
            row.error = str(exc)
            print(f"pedometer: error: {exc}", file=sys.stderr)
        finally:
            if report is not None:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
        rows.append(row)
        if args.jsonl and row.result is not None:
            print(json.dumps({"trace": str(path), **row.result.to_json()}), flush=True)
    if not args.jsonl:
        print(format_table(rows))
    return EXIT_USAGE if any(r.error for r in rows) else 0


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
    try:
        source = Lsm6dsSource.on_pi(hw.i2c_bus, hw.imu_i2c_address)
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
    if args.data_dir.exists() and not args.data_dir.is_dir():
        raise UserError(f"--data-dir {args.data_dir}: a file, not the device's data folder")
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


def _require_extra(command: str, extra: str, modules: Sequence[str]) -> None:
    """One line naming the extra to install, instead of an ImportError traceback (or a demo
    that waits minutes for a subprocess that died of one)."""
    import importlib.util

    missing = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # the parent package of a dotted name is missing
            found = False
        if not found:
            missing.append(name.split(".")[0] if name.startswith("luma") else name)
    if missing:
        raise UserError(f"pedometer {command} needs {', '.join(dict.fromkeys(missing))}, from "
                        f"the {extra} extra: pip install 'walkcoach[{extra}]'")


SCREENS_MODULES = ("PIL", "luma.core")
DEMO_MODULES = ("PIL", "luma.core", "luma.emulator", "serial", "cryptography", "spake2",
                "platformdirs")


def cmd_screens(args: argparse.Namespace) -> int:
    _require_extra("screens", "sim", SCREENS_MODULES)
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
        description="A simulated wearer follows a walking plan for four weeks up to now (a real "
                    "recording played through the device pipeline); the device stores minutes "
                    "and its screens go into a GIF; the real hostsync command pairs over a "
                    "virtual USB cable (two pseudo-terminals), pulls the data and writes the "
                    "weekly report.",
    )
    p.add_argument("--out", type=Path, default=Path("walkcoach-demo"), metavar="DIR",
                   help="where the device data, host database, GIF and report go "
                        "(default: %(default)s)")
    p.add_argument("--days", type=int, default=None, metavar="N",
                   help="simulate only the last N days of the four weeks, 1-28 (default: all)")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    _require_extra("demo", "sim,host", DEMO_MODULES)
    from device.demo import run_demo

    if args.days is not None and not 1 <= args.days <= 28:
        raise UserError("--days must be between 1 and 28")
    if (args.out / "device").exists() or (args.out / "host.sqlite3").exists():
        raise UserError(f"{args.out} already holds a demo; remove it or pass --out NEWDIR")
    from device.app import prepare_data_dir
    from device.store import StoreError

    try:
        prepare_data_dir(args.out)
    except StoreError as exc:
        raise UserError(str(exc).replace("data dir", "--out", 1)) from None
    return run_demo(args.out, args.days)


def _parse_start(text: str) -> float:
    import datetime as dt

    when = dt.datetime.fromisoformat(text)
    if when.tzinfo is None:
        try:
            when = when.astimezone()  # local time, as a person would type it
        except (OverflowError, OSError):
            raise ValueError(f"{text!r} is outside the years the clock can hold") from None
    if not START_EARLIEST <= when.year <= START_LATEST:
        # Later, the trace's duration and the display's local dates would overflow datetime.
        raise ValueError(f"{text!r} is outside the years {START_EARLIEST}-{START_LATEST}")
    return when.timestamp()


START_EARLIEST, START_LATEST = 1970, 2999


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
