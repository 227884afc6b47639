"""hostsync: the caregiver's command-line tool for a Walk Coach plugged in over USB.

Every error is one plain line on stderr; exit status 2 for a usage or input mistake, 1 for a
device or connection problem, 0 for success. Never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from device.config import PLAN_MAX_WEEKS, ConfigError, PlanWeek, WearerConfig, check_timezone
from hostsync import options
from hostsync.db import DB_FILENAME, HostDB, HostDBError, default_db_path
from hostsync.dbfile import describe, keep_private
from hostsync.discover import DiscoveryError, choose_port
from hostsync.link import AuthError, DeviceError, DeviceLink, HostSession, LinkError
from hostsync.pull import ClockJump, DeviceReset, sync_device
from hostsync.tz import laptop_timezone

EXIT_OK, EXIT_DEVICE, EXIT_USAGE = 0, 1, 2
NOT_PAIRED = "This device is not paired with this computer. Run: hostsync pair"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WHOLE = re.compile(r"[0-9]+", re.ASCII)
_SIX_DIGITS = re.compile(r"[0-9]{6}", re.ASCII)
_LIST_OPTIONS = ("weeks", "fetch")


class UsageError(Exception):
    """A mistake in what the user typed (exit 2)."""


class DeviceProblem(Exception):
    """The device or link failed (exit 1)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one plain line, exit 2 (argparse prints usage too)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"hostsync: {message}\n")


# -- connecting -------------------------------------------------------------------------------


class Connection:
    """An open link to the device, said hello to, with the host database."""

    def __init__(self, args: argparse.Namespace) -> None:
        try:
            path = choose_port(args.port)
        except DiscoveryError as e:
            raise DeviceProblem(str(e)) from None
        self.db = open_db(args)
        try:
            self.link = DeviceLink.open(path, timeout=args.timeout)
        except LinkError:
            self.db.close()
            raise
        self.session = HostSession(self.link)
        try:
            self.session.hello()
        except BaseException:
            self.close()
            raise
        assert self.session.device_id is not None
        self.device_id: str = self.session.device_id

    def authenticate(self) -> None:
        record = self.db.device(self.device_id)
        if record is None or record.secret is None:
            raise DeviceProblem(NOT_PAIRED)
        try:
            self.session.authenticate(record.secret)
        except DeviceError as e:
            if e.code in ("auth_failed", "not_paired"):
                raise DeviceProblem(NOT_PAIRED) from None
            raise
        except AuthError:
            raise DeviceProblem(NOT_PAIRED) from None

    def close(self) -> None:
        self.link.close()
        self.db.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_db(args: argparse.Namespace) -> HostDB:
    path = Path(args.db) if args.db else default_db_path()
    if path.is_dir():
        path = path / DB_FILENAME
    if not args.db and not os.environ.get("HOSTSYNC_DB"):
        keep_private(path.parent)  # hostsync's own folder: 0700 even if an older one made it
    return HostDB(path)


def authed(args: argparse.Namespace) -> Connection:
    conn = Connection(args)
    try:
        conn.authenticate()
    except BaseException:
        conn.close()
        raise
    return conn


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# -- commands ---------------------------------------------------------------------------------


def cmd_pair(args: argparse.Namespace) -> int:
    with Connection(args) as conn:
        try:
            pending = conn.session.pair_begin()
        except DeviceError as e:
            if e.code == "locked":
                raise DeviceProblem(f"The Walk Coach refuses pairing for now: {e}.") from None
            raise
        say("The Walk Coach now shows a 6-digit code on its screen.")
        secret = None
        for attempt in range(3):
            code = args.code if args.code is not None else _read_code()
            if not _SIX_DIGITS.fullmatch(code):
                if args.code is not None:
                    raise UsageError("The code is the 6 digits shown on the Walk Coach screen.")
                say("The code is the 6 digits shown on the Walk Coach screen.")
                continue
            try:
                secret = conn.session.pair_confirm(pending, code)
                break
            except DeviceError as e:
                if e.code == "wrong_code":
                    wait = int(e.extra.get("retry_after", 0) or 0)
                    if args.code is not None or attempt == 2:
                        raise UsageError("Wrong code. Run hostsync pair again.") from None
                    if wait > 30:
                        raise UsageError(f"Wrong code. Too many tries: wait {wait} s, then "
                                         "run hostsync pair again.") from None
                    say("Wrong code." + (f" Waiting {wait} s before the next try." if wait
                                         else ""))
                    time.sleep(wait)
                    continue
                if e.code == "locked":
                    raise UsageError(f"Wrong code too often: {e}.") from None
                if e.code == "no_pairing":
                    raise DeviceProblem("The pairing code expired. Run hostsync pair again."
                                        ) from None
                raise
        if secret is None:
            raise UsageError("No valid code entered. Run hostsync pair again.")
        conn.db.save_pairing(conn.device_id, secret)
        conn.authenticate()
        print(f"Paired with {conn.device_id}. Next: hostsync pull")
    return EXIT_OK


def _read_code() -> str:
    try:
        sys.stderr.write("Type the code: ")
        sys.stderr.flush()
        line = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        line = ""
    if not line:
        raise UsageError("No code entered. Run hostsync pair again.")
    return "".join(ch for ch in line if not ch.isspace() and ch != "-")


def _progress_printer(enabled: bool) -> Callable[[int, int], None] | None:
    """rows/total on stderr for pulls of more than one page: redrawn in place on a terminal,
    else a line per tenth."""
    if not enabled:
        return None
    tty = sys.stderr.isatty()
    state = {"shown": False, "tenth": -1}

    def show(done: int, total: int) -> None:
        if total <= 0 or (not state["shown"] and done >= total):
            return  # everything came in one page: the summary says it all
        state["shown"] = True
        if tty:
            end = "\n" if done >= total else ""
            sys.stderr.write(f"\rPulling rows: {done}/{total}{end}")
        elif (tenth := 10 * done // total) != state["tenth"]:
            state["tenth"] = tenth
            sys.stderr.write(f"Pulling rows: {done}/{total}\n")
        sys.stderr.flush()

    return show


def _first_pull_zone() -> str:
    """The wearer's zone at a device's first pull here: this laptop's, shown, and on a terminal
    confirmed or replaced by typing a zone name. Without a terminal (a script) it is used and
    said in one clear line, with how to change it."""
    laptop = laptop_timezone()
    if not sys.stdin.isatty():
        say(f"Time zone: {laptop} (this computer's), used for the wearer's days. If the wearer "
            "lives elsewhere: hostsync config set --timezone ZONE (or pull --timezone ZONE).")
        return laptop
    for _ in range(3):
        sys.stderr.write(f"The wearer's time zone: {laptop} (this computer's). Press Enter to "
                         "use it, or type the wearer's zone (e.g. Europe/London): ")
        sys.stderr.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stderr.write("\n")
            raise UsageError("No time zone confirmed. Run hostsync pull --timezone ZONE.")
        typed = line.strip()
        if not typed:
            return laptop
        try:
            check_timezone(typed)
            return typed
        except ConfigError as e:
            say(str(e))
    raise UsageError("No valid time zone entered. Run hostsync pull --timezone ZONE.")


def _clock_confirmer(yes: bool) -> Callable[[float, float], bool]:
    """--yes: go ahead; on a terminal: ask; in a script: refuse (ClockJump says how)."""

    def confirm(host_utc: float, device_utc: float) -> bool:
        if yes:
            return True
        if not sys.stdin.isatty():
            return False
        days = (host_utc - device_utc) / 86400
        sys.stderr.write(f"This computer's clock is {days:,.1f} days ahead of the Walk Coach's "
                         f"({dt.datetime.fromtimestamp(host_utc):%Y-%m-%d %H:%M} here). Is this "
                         "computer's date right? Type yes to set the Walk Coach to it: ")
        sys.stderr.flush()
        try:
            return sys.stdin.readline().strip().lower() == "yes"
        except (OSError, KeyboardInterrupt):
            return False

    return confirm


def cmd_pull(args: argparse.Namespace) -> int:
    if args.timezone:
        _check_zone(args.timezone)
    with authed(args) as conn:
        known = conn.db.config(conn.device_id)
        tz = args.timezone or (known.timezone if known else _first_pull_zone())
        try:
            summary = sync_device(conn.session, conn.db, timezone=tz, page_size=args.page_size,
                                  progress=_progress_printer(not args.quiet),
                                  confirm_clock=_clock_confirmer(args.yes))
        except DeviceReset as e:
            raise DeviceProblem(str(e)) from None
        except ClockJump as e:
            raise UsageError(str(e)) from None
        if summary.implausible_times:
            say(f"{summary.implausible_times} rows carried impossible times (before 2024 or in "
                "the future); they are kept, marked as not clock-checked.")
        label = conn.db.device(conn.device_id)
        name = f"{conn.device_id}" + (f" ({label.label})" if label and label.label else "")
        print(f"Synced {name}: {summary.new_rows} new minute rows, "
              f"{conn.db.row_count(conn.device_id)} on this computer; clock set "
              f"({summary.timezone})" + (f", {summary.reanchored} rows re-timed"
                                         if summary.reanchored else "") + ".")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    with authed(args) as conn:
        st = conn.session.status()
        rec = conn.db.device(conn.device_id)
        here = conn.db.store(conn.device_id, conn.session.store_id)  # the card it holds now
        last = (dt.datetime.fromtimestamp(rec.last_sync).strftime("%Y-%m-%d %H:%M")
                if rec and rec.last_sync else "never")
        lines = [
            ("Device", st.get("device_id")),
            ("Wearer", st.get("wearer_label") or "(no name set)"),
            ("Firmware", st.get("firmware")),
            ("Clock", "set by a host" if st.get("clock_trusted") else "not set since start-up"),
            ("Time zone", st.get("timezone")),
            ("Rows on device", st.get("rows_stored")),
            ("Not yet pulled", max(0, int(st.get("last_seq", 0)) - (here.cursor if here else 0))),
            ("Rows here", conn.db.row_count(conn.device_id)),
            ("Last pull here", last),
            ("Battery", _battery_words(st.get("battery"))),
            *_health_lines(st.get("health")),
        ]
        for key, value in lines:
            print(f"{key + ':':<16}{value}")
    return EXIT_OK


def _health_lines(health: Any) -> list[tuple[str, Any]]:
    """Sensor and storage as the device reports them (older firmware sends nothing)."""
    if not isinstance(health, dict):
        return [("Sensor", "not reported by this firmware")]
    lines: list[tuple[str, Any]] = [("Sensor", str(health.get("sensor", "?"))[:200]),
                                    ("Storage", str(health.get("storage", "?"))[:200])]
    unwritten = health.get("unwritten_minutes")
    if isinstance(unwritten, int) and unwritten > 0:
        lines.append(("Unwritten", f"{unwritten} minute(s) waiting for storage"))
    return lines


def _battery_words(battery: Any) -> str:
    """'72 % (lowest 41 % in the last 24 h)', from the STATUS reply's battery summary."""
    if not isinstance(battery, dict):
        return "no reading (no fuel gauge, or none stored yet)"
    try:
        percent, lowest = float(battery["percent"]), float(battery["min_24h"])
    except (KeyError, TypeError, ValueError):
        return "unreadable reply"
    return f"{percent:.0f} % (lowest {lowest:.0f} % in the last 24 h)"


def _offline_device(args: argparse.Namespace, db: HostDB) -> str:
    devices = db.devices()
    if args.device:
        if db.device(args.device) is None:
            raise UsageError(f"No device {args.device} in {db.path}.")
        return str(args.device)
    if not devices:
        raise UsageError("No data yet: run hostsync pair, then hostsync pull.")
    if len(devices) > 1:
        names = ", ".join(d.device_id + (f" ({d.label})" if d.label else "") for d in devices)
        raise UsageError(f"Several devices here: {names}. Choose one with --device.")
    return devices[0].device_id


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from hostsync.report import ReportError, write_report
    except ImportError:
        raise DeviceProblem("Reports are not available yet in this hostsync.") from None
    with open_db(args) as db:
        device_id = _offline_device(args, db)
        cfg = db.config(device_id) or WearerConfig()
        rec = db.device(device_id)
        wearer = cfg.wearer_label or (rec.label if rec else "") or None
        try:
            files = write_report(db.rows(device_id), cfg, wearer, Path(args.out),
                                 device_id=device_id, last_sync_utc=rec.last_sync if rec else None)
        except ReportError as e:
            raise UsageError(str(e)) from None
        print(files.text)
        say(f"Report written: {files.png_path} and {files.html_path}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    try:
        from hostsync.export import ExportError, export_rows
    except ImportError:
        raise DeviceProblem("Export is not available yet in this hostsync.") from None
    fmt = args.format or ("json" if args.out and args.out.endswith(".json") else "csv")
    with open_db(args) as db:
        device_id = _offline_device(args, db)
        cfg = db.config(device_id) or WearerConfig()
        out: Any = Path(args.out) if args.out else sys.stdout
        try:
            n = export_rows(db.rows(device_id), cfg, args.kind, fmt, out)
            if out is sys.stdout:
                sys.stdout.flush()  # a full disk behind `> file` shows here, not at exit
        except BrokenPipeError:
            raise
        except (ExportError, OSError) as e:
            if out is sys.stdout:
                _drop_stdout()
                raise UsageError(f"cannot write the export to standard output: "
                                 f"{getattr(e, 'strerror', None) or e}") from None
            raise UsageError(str(e)) from None
        if args.out:
            say(f"Exported {n} {args.kind} to {args.out}")
    return EXIT_OK


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the unwritable rest is not retried (and reported in a
    traceback-like 'Exception ignored' block) when Python exits."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _print_plan(cfg: WearerConfig) -> None:
    if not cfg.plan:
        print("Default plan: start at the first full week of data (60 minutes if none), "
              "add 10 minutes per week, up to 130.")
        return
    print("Week starting   Goal (moderate minutes)")
    for week in cfg.plan:
        print(f"{week.week_start.isoformat()}      {week.goal_minutes}")


def cmd_plan_show(args: argparse.Namespace) -> int:
    with authed(args) as conn:
        cfg = conn.session.get_config()
        conn.db.save_config(conn.device_id, cfg)
        _print_plan(cfg)
    return EXIT_OK


def parse_plan(start: str | None, goals: str | None, pairs: Sequence[str]) -> tuple[PlanWeek, ...]:
    """The plan from --start/--goals (one goal per week) or WEEK=MIN pairs; UsageError if bad."""
    if bool(start) != bool(goals):
        raise UsageError("Give --start and --goals together (or WEEK=MIN pairs).")
    if start and pairs:
        raise UsageError("Give either --start/--goals or WEEK=MIN pairs, not both.")
    entries: list[tuple[str, str]] = []
    if start and goals:
        first = _parse_date(start, "--start")
        parts = [g.strip() for g in goals.split(",")]
        if len(parts) > PLAN_MAX_WEEKS:
            raise UsageError(f"--goals: at most {PLAN_MAX_WEEKS} weeks.")
        _parse_date((first + dt.timedelta(weeks=len(parts) - 1)).isoformat(), "the plan's end")
        entries = [((first + dt.timedelta(weeks=i)).isoformat(), g) for i, g in enumerate(parts)]
    else:
        for pair in pairs:
            week, sep, minutes = pair.partition("=")
            if not sep:
                raise UsageError(f"{_quoted(pair)} is not WEEK=MIN (for example 2026-11-30=60).")
            entries.append((week.strip(), minutes.strip()))
    if not entries:
        raise UsageError("No plan given: use --start DATE --goals 60,70,... or WEEK=MIN pairs.")
    plan = []
    for week, minutes in entries:
        day = _parse_date(week, "week")
        if not _WHOLE.fullmatch(minutes):  # ASCII only: '²'.isdigit() but int('²') fails
            raise UsageError(f"Goal {_quoted(minutes)} for week {week} is not a whole number "
                             "of minutes.")
        try:
            plan.append(PlanWeek(day, int(minutes)))
        except ConfigError as e:
            raise UsageError(f"Week {week}: {e}") from None
    return tuple(plan)


def _quoted(text: str) -> str:
    """The user's text in quotes, escaped when it holds control characters (one line)."""
    return f"'{text[:40]}'" if text.isprintable() else repr(text[:40])


def _parse_date(text: str, what: str) -> dt.date:
    try:
        return options.plan_date(text, what)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _push(conn: Connection, cfg: WearerConfig) -> WearerConfig:
    try:
        stored = conn.session.set_config(cfg)
    except DeviceError as e:
        if e.code == "invalid_config":
            raise UsageError(f"The Walk Coach refused the settings: {e}") from None
        raise
    conn.db.save_config(conn.device_id, stored)
    return stored


def cmd_plan_set(args: argparse.Namespace) -> int:
    plan = parse_plan(args.start, args.goals, args.weeks)
    with authed(args) as conn:
        cfg = conn.session.get_config()
        try:
            new = replace(cfg, plan=plan)
        except ConfigError as e:
            raise UsageError(str(e)) from None
        _print_plan(_push(conn, new))
    return EXIT_OK


def _plan_suggestion(rows: Sequence[Any], cfg: WearerConfig) -> tuple[Any, list[Any]]:
    """(the suggestion for the week after this one, the weeks it was judged from)."""
    from device.core.progress import week_start_for
    from hostsync.plan_suggest import suggest_next_goal
    from hostsync.report import today_for, weekly_summary

    today = today_for(cfg)
    weeks = weekly_summary(rows, cfg, today)
    next_week = week_start_for(today, cfg.week_start_day) + dt.timedelta(days=7)
    valid = {w.week_start: w.valid_days for w in weeks if w.valid_days is not None}
    return suggest_next_goal(weeks, next_week, valid), weeks


def cmd_plan_suggest(args: argparse.Namespace) -> int:
    from hostsync.plan_suggest import accept

    if not args.accept:
        with open_db(args) as db:
            device_id = _offline_device(args, db)
            cfg = db.config(device_id) or WearerConfig()
            suggestion, _ = _plan_suggestion(db.rows(device_id), cfg)
        print(f"Suggested goal for the week of {suggestion.week_start.isoformat()}: "
              f"{suggestion.goal_minutes} min ({suggestion.reason}).")
        say("Accept it with: hostsync plan suggest --accept")
        return EXIT_OK
    with authed(args) as conn:
        cfg = conn.session.get_config()
        suggestion, weeks = _plan_suggestion(conn.db.rows(conn.device_id), cfg)
        print(f"Suggested goal for the week of {suggestion.week_start.isoformat()}: "
              f"{suggestion.goal_minutes} min ({suggestion.reason}).")
        try:
            new = replace(cfg, plan=accept(cfg.plan, suggestion, weeks))
        except ConfigError as e:
            raise UsageError(str(e)) from None
        _print_plan(_push(conn, new))
        say(f"Accepted: {suggestion.goal_minutes} min from the week of "
            f"{suggestion.week_start.isoformat()}.")
    return EXIT_OK


def _week_day(text: str) -> int:
    t = text.strip().lower()
    if _WHOLE.fullmatch(t) and 0 <= int(t) <= 6:
        return int(t)
    matches = [i for i, d in enumerate(DAYS) if len(t) >= 2 and d.startswith(t)]
    if len(matches) != 1:
        raise UsageError(f"Week start {_quoted(text)} is not a day name such as monday or sunday.")
    return matches[0]


def _check_zone(name: str) -> None:
    try:
        check_timezone(name)
    except ConfigError as e:
        raise UsageError(str(e)) from None


_OPTION_OF = {"threshold_spm": "--threshold", "wearer_label": "--label",
              "week_start_day": "--week-start", "timezone": "--timezone",
              "reminder_time": "--reminder", "quiet_hours": "--quiet-hours"}


def _check_label_renders(label: str) -> None:
    """The device's screen font draws every letter of the label, or the label is refused."""
    try:
        from device.display.screens import missing_glyphs
    except ImportError:  # a host without Pillow cannot check; the device shows '?' instead
        return
    missing = missing_glyphs(label)
    if missing:
        shown = ", ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in missing[:5])
        raise UsageError(f"--label: the device's screen cannot show {shown}; use Latin, Greek "
                         "or Cyrillic letters, digits and punctuation.")


def cmd_config_set(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if args.threshold is not None:
        changes["threshold_spm"] = args.threshold
    if args.label is not None:
        _check_label_renders(args.label)
        changes["wearer_label"] = args.label
    if args.week_start is not None:
        changes["week_start_day"] = _week_day(args.week_start)
    if args.timezone is not None:
        _check_zone(args.timezone)
        changes["timezone"] = args.timezone
    if args.reminder is not None:
        off = args.reminder.strip().lower() == "off"
        changes["reminder_time"] = "off" if off else args.reminder
    if args.quiet_hours is not None:
        changes["quiet_hours"] = args.quiet_hours
    if not changes:
        raise UsageError("Nothing to set: give --threshold, --label, --week-start, --timezone, "
                         "--reminder or --quiet-hours.")
    try:
        WearerConfig(**changes)  # check the values before touching the device
    except ConfigError as e:
        text = str(e)
        for field_name, option in _OPTION_OF.items():
            text = text.replace(field_name, option)
        raise UsageError(text) from None
    with authed(args) as conn:
        cfg = conn.session.get_config()
        stored = _push(conn, replace(cfg, **changes))
        _print_config(stored)
    return EXIT_OK


def _print_config(cfg: WearerConfig) -> None:
    print(f"Wearer:          {cfg.wearer_label or '(no name set)'}")
    print(f"Threshold:       {cfg.threshold_spm:g} steps/min")
    print(f"Week starts on:  {DAYS[cfg.week_start_day].capitalize()}")
    print(f"Time zone:       {cfg.timezone}")
    if cfg.reminder_time == "off":
        print("Reminder:        off")
    elif cfg.reminder_time:
        print(f"Reminder:        {cfg.reminder_time} when behind plan (quiet {cfg.quiet_hours})")


def cmd_config_show(args: argparse.Namespace) -> int:
    with authed(args) as conn:
        cfg = conn.session.get_config()
        conn.db.save_config(conn.device_id, cfg)
        _print_config(cfg)
        _print_plan(cfg)
    return EXIT_OK


def cmd_traces(args: argparse.Namespace) -> int:
    with authed(args) as conn:
        if not args.fetch:
            traces = conn.session.list_traces()
            if not traces:
                print("No recorded traces on the device.")
            for t in traces:
                print(f"{t['name']}  {t['size']} bytes")
            return EXIT_OK
        out_dir = Path(args.out or ".")
        for name in args.fetch:
            try:
                data = conn.session.fetch_trace(name)
            except DeviceError as e:
                if e.code == "not_found":
                    raise UsageError(f"No trace named {name} on the device.") from None
                raise
            try:
                out_dir.mkdir(parents=True, exist_ok=True)
                (out_dir / Path(name).name).write_bytes(data)
            except OSError as e:
                raise UsageError(f"Cannot write {out_dir / name}: {e.strerror or e}") from None
            say(f"Fetched {name} ({len(data)} bytes) into {out_dir}")
    return EXIT_OK


def _when(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M") if ts else "never"


def cmd_devices(args: argparse.Namespace) -> int:
    """Every device this computer knows, with each store (card image) it pulled from."""
    with open_db(args) as db:
        devices = db.devices()
        if not devices:
            print("No devices yet: run hostsync pair, then hostsync pull.")
        for d in devices:
            paired = "paired" if d.secret else "not paired"
            print(f"{d.device_id}  {d.label or '(no name set)'}  {paired}  "
                  f"last pull {_when(d.last_sync)}")
            for s in db.stores(d.device_id):
                name = s.store_id[:12] or "(before store ids)"
                now = "  <- on the device now" if s.store_id == d.store_id else ""
                print(f"  store {name:<18} {s.rows:>7} rows  up to #{s.cursor:<7} "
                      f"first {_when(s.first_seen)}  last pull {_when(s.last_sync)}{now}")
    return EXIT_OK


def cmd_forget(args: argparse.Namespace) -> int:
    """Delete a device that is gone: its pairing and every row of it on this computer."""
    with open_db(args) as db:
        rec = db.device(args.device)
        if rec is None:
            raise UsageError(f"No device {args.device} in {db.path} (see hostsync devices).")
        n = db.row_count(args.device)
        what = f"{args.device} ({rec.label or 'no name'}): its pairing and {n} minute rows"
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"This deletes {what} from this computer. Add --yes to do it.")
            sys.stderr.write(f"Forget {what}? Type yes to confirm: ")
            sys.stderr.flush()
            if sys.stdin.readline().strip().lower() != "yes":
                raise UsageError("Nothing was deleted.")
        deleted = db.forget(args.device)
        print(f"Forgot {args.device}: {deleted} minute rows deleted.")
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------------


def _page_size(text: str) -> int:
    try:
        return options.whole_number(text, "page size", 1, 2000)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _checked(check: Callable[..., Any], *what: Any) -> Callable[[str], Any]:
    """An argparse type from an options check: its one-line ValueError becomes the message."""
    def parse(text: str) -> Any:
        try:
            return check(text, *what)
        except ValueError as e:  # argparse already says "argument --x:"; not twice
            raise argparse.ArgumentTypeError(str(e).removeprefix(f"{what[0]} ") if what
                                             else str(e)) from None
    return parse


def _code(text: str) -> str:
    if not _SIX_DIGITS.fullmatch(text):
        raise ValueError("The code is the 6 digits shown on the Walk Coach screen.")
    return text


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--port", metavar="PATH", default=argparse.SUPPRESS,
                        type=_checked(options.path_text, "--port"),
                        help="serial port of the Walk Coach (default: find it by its USB identity)")
    common.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS,
                        type=_checked(options.path_text, "--db"),
                        help=f"host database file (default: {default_db_path()})")
    common.add_argument("--timeout", type=_checked(options.seconds, "--timeout"),
                        default=argparse.SUPPRESS,
                        help="seconds to wait for each answer from the device (default 5)")

    p = _Parser(prog="hostsync", parents=[common],
                description="Pair with, pull from and configure a Walk Coach over USB.",
                epilog="Start with 'hostsync pair', then 'hostsync pull' at every visit.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def add(name: str, help_: str, desc: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help_, description=desc, **kw)

    s = add("pair", "pair this computer with a Walk Coach",
            "Pair this computer with the Walk Coach: it shows a 6-digit code on its screen; "
            "type it here. Needed once per device (pairing again replaces the old pairing).")
    s.add_argument("--code", type=_checked(_code),
                   help="the code shown on the screen (else you are asked for it)")
    s.set_defaults(func=cmd_pair)

    s = add("pull", "set the device clock and pull new minutes",
            "Set the device's clock and time zone, then copy every new minute row into the "
            "host database and tell the device what is safely stored. Safe to interrupt: the "
            "next pull resumes where this one stopped.")
    s.add_argument("--page-size", type=_page_size, default=500, metavar="N",
                   help="rows per request (1-2000, default 500)")
    s.add_argument("--timezone", help="time zone to set on the device (default: the wearer's, "
                   "else this computer's)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    s.add_argument("--yes", action="store_true", help="set the device's clock even when this "
                   "computer's is more than a day ahead of it (else you are asked)")
    s.set_defaults(func=cmd_pull)

    s = add("devices", "list the devices known here, their stores and last pulls",
            "List every device this computer has paired or pulled from, each store (card "
            "image) it pulled and when. Needs no device plugged in.")
    s.set_defaults(func=cmd_devices)

    s = add("forget", "delete a device that is gone, with its rows",
            "Delete a device from this computer: its pairing and every minute row pulled "
            "from it. Asks first (or give --yes).")
    s.add_argument("device", metavar="DEVICE", help="device id, as hostsync devices shows it")
    s.add_argument("--yes", action="store_true", help="do not ask")
    s.set_defaults(func=cmd_forget)

    s = add("status", "show the device's state", "Show the device, wearer, clock and how many "
            "rows are waiting to be pulled.")
    s.set_defaults(func=cmd_status)

    s = add("report", "write a weekly progress report (PNG + HTML)",
            "Summarise the pulled data week by week (moderate minutes against the plan) and "
            "write a PNG chart and an HTML page. Works offline from the host database.")
    s.add_argument("--out", default=".", type=_checked(options.path_text, "--out"),
                   help="folder for the report files (default: here)")
    s.add_argument("--device", type=_checked(options.device_id, "--device"),
                   help="device id, when this computer holds several")
    s.set_defaults(func=cmd_report)

    s = add("export", "export minutes, days or weeks as CSV or JSON",
            "Export the pulled data from the host database for a spreadsheet or another program.")
    s.add_argument("--kind", choices=("minutes", "days", "weeks"), default="minutes",
                   help="what one record is (default: minutes)")
    s.add_argument("--format", choices=("csv", "json"), help="default: from --out, else csv")
    s.add_argument("--out", type=_checked(options.path_text, "--out"),
                   help="file to write (default: standard output)")
    s.add_argument("--device", type=_checked(options.device_id, "--device"),
                   help="device id, when this computer holds several")
    s.set_defaults(func=cmd_export)

    plan = add("plan", "show or set the weekly goal plan",
               "The progressive plan: a goal of moderate minutes for each week.")
    plan_sub = plan.add_subparsers(dest="plan_command", metavar="ACTION", parser_class=_Parser)
    s = plan_sub.add_parser("show", parents=[common], help="show the plan on the device",
                            description="Show the weekly goals stored on the device.")
    s.set_defaults(func=cmd_plan_show)
    s = plan_sub.add_parser(
        "set", parents=[common], help="replace the plan on the device",
        description="Replace the weekly goals on the device, either with --start DATE "
        "--goals 60,70,80 (one goal per week from DATE) or with WEEK=MIN pairs such as "
        "2026-11-30=60 2026-12-07=70.")
    s.add_argument("weeks", nargs="*", metavar="WEEK=MIN", help="week start date and goal")
    s.add_argument("--start", metavar="DATE", help="first week's start date, YYYY-MM-DD")
    s.add_argument("--goals", metavar="LIST", help="comma-separated weekly goals in minutes")
    s.set_defaults(func=cmd_plan_set)
    s = plan_sub.add_parser(
        "suggest", parents=[common], help="suggest next week's goal (and --accept it)",
        description="Suggest next week's goal from the pulled weeks: +10 min when the last "
        "week met its goal, the same goal when it was missed, at most 130 (the design's "
        "progressive plan). Works offline from the host database; --accept writes it into the "
        "plan on the device.")
    s.add_argument("--accept", action="store_true",
                   help="put the suggested goal into the device's plan")
    s.add_argument("--device", type=_checked(options.device_id, "--device"),
                   help="device id, when this computer holds several (without --accept)")
    s.set_defaults(func=cmd_plan_suggest)
    plan.set_defaults(func=None, sub_parser=plan)

    conf = add("config", "show or change the wearer's settings",
               "The wearer's settings on the device: cadence threshold, name, week start, zone.")
    conf_sub = conf.add_subparsers(dest="config_command", metavar="ACTION", parser_class=_Parser)
    s = conf_sub.add_parser(
        "set", parents=[common], help="change settings on the device",
        description="Change one or more settings on the device; the others stay as they are.")
    s.add_argument("--threshold", type=float, metavar="SPM",
                   help="moderate-walking cadence threshold in steps/min (40-200, usually 100)")
    s.add_argument("--label", help="the wearer's name as shown on the device (max 32 characters)")
    s.add_argument("--week-start", metavar="DAY", help="first day of the week, e.g. monday")
    s.add_argument("--timezone", metavar="ZONE", help="IANA time zone, e.g. Europe/London")
    s.add_argument("--reminder", metavar="HH:MM",
                   help="time of day for the reminder when behind plan (needs the motor or "
                   "LED, hardware/README.md), or 'off'")
    s.add_argument("--quiet-hours", metavar="HH:MM-HH:MM",
                   help="never a reminder between these times (default 21:00-08:00)")
    s.set_defaults(func=cmd_config_set)
    s = conf_sub.add_parser("show", parents=[common], help="show the settings on the device",
                            description="Show the wearer's settings and plan on the device.")
    s.set_defaults(func=cmd_config_show)
    conf.set_defaults(func=None, sub_parser=conf)

    s = add("traces", "list or fetch IMU traces recorded on the device",
            "List the IMU traces recorded on the device, or fetch them with --fetch NAME.")
    s.add_argument("--fetch", nargs="+", metavar="NAME", type=_checked(options.path_text, "NAME"),
                   help="trace file names to copy here")
    s.add_argument("--out", type=_checked(options.path_text, "--out"),
                   help="folder for fetched traces (default: here)")
    s.set_defaults(func=cmd_traces)
    p.set_defaults(func=None, sub_parser=p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2, already printed)
        return int(e.code or 0) if not isinstance(e.code, str) else EXIT_USAGE
    # --port/--db/--timeout may come before or after the command (shared Action objects, so
    # their defaults are filled in here rather than with set_defaults)
    for name, default in (("port", None), ("db", None), ("timeout", 5.0)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.func is None:
        args.sub_parser.print_help(sys.stderr)
        return EXIT_USAGE
    for name, value in vars(args).items():  # argparse turns "--opt=--" into [] unchecked
        if isinstance(value, list) and name not in _LIST_OPTIONS:
            say(f"hostsync: --{name.replace('_', '-')} needs a value.")
            return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as e:
        say(f"hostsync: {e}")
        return EXIT_USAGE
    except (DeviceProblem, LinkError, HostDBError, AuthError) as e:
        say(f"hostsync: {e}")
        return EXIT_DEVICE
    except DeviceError as e:
        if e.code == "not_authenticated":
            say(f"hostsync: {NOT_PAIRED}")
        else:
            say(f"hostsync: The Walk Coach said: {e}")
        return EXIT_DEVICE
    except KeyboardInterrupt:
        say("hostsync: interrupted; run the same command again to resume.")
        return EXIT_DEVICE
    except BrokenPipeError:
        return EXIT_DEVICE
    except (sqlite3.Error, OSError) as e:  # a host fault: full disk, locked or damaged file...
        if isinstance(e, OSError):
            _drop_stdout()
        say(f"hostsync: {_host_fault(e, args)}")
        return EXIT_DEVICE


def _host_fault(e: BaseException, args: argparse.Namespace) -> str:
    """One line for an error of this computer (database, disk, file) that no check caught."""
    chain: list[BaseException] = []
    cur: BaseException | None = e
    while cur is not None and cur not in chain:
        chain.append(cur)
        cur = cur.__cause__ or cur.__context__
    if any(isinstance(err, sqlite3.Error) for err in chain):
        path = Path(str(args.db)) if args.db else default_db_path()
        return describe(e, path)
    name = getattr(e, "filename", None)
    where = f" ({str(name)[:120]})" if name else ""
    return f"{getattr(e, 'strerror', None) or e}{where}."


if __name__ == "__main__":
    sys.exit(main())
