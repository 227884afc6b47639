"""Every hostsync option, given odd values: one plain line and exit 2 (or the ordinary answer),
never a traceback, a hang or an overflow. No device is plugged in: --port names a missing port,
so anything that gets past the checks ends in 'does not exist' (exit 1)."""

from __future__ import annotations

import argparse
import datetime as dt
import math
import signal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostsync import options
from hostsync.cli import build_parser, main, parse_plan

ODD_VALUES = ["nan", "inf", "-inf", "-1", "0", "1e400", "²", "٣", "１２", "", " ", "\x00",
              "a\x00b", "9999-12-27", "0001-01-01", "2026-02-30", "x" * 5000, "🙂", "\n",
              "--", "-0", "0x10", "1_000", "3.5", "99999999999999999999"]


def _commands() -> list[tuple[list[str], argparse.Action]]:
    """(command words, option action) for every option that takes a value, in every command."""
    found = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        for action in subs:
            for name, sub in action.choices.items():
                walk(sub, [*words, name])
        for action in parser._actions if words and not subs else ():
            if action.option_strings and action.nargs != 0:
                found.append((words, action))

    walk(build_parser(), [])
    return found


COMMANDS = _commands()


def test_the_walk_found_every_command_and_option():
    seen = {(" ".join(w), a.option_strings[-1]) for w, a in COMMANDS}
    for expected in [("pull", "--timeout"), ("pull", "--page-size"), ("plan set", "--goals"),
                     ("config set", "--week-start"), ("export", "--out"), ("pair", "--code"),
                     ("report", "--out"), ("traces", "--fetch")]:
        assert expected in seen


class _Alarm(Exception):
    pass


def _run(capsys, argv: list[str]) -> tuple[int, str, str]:
    def ring(*_: object) -> None:
        raise _Alarm(argv)

    old = signal.signal(signal.SIGALRM, ring)
    signal.alarm(20)  # a hang (the old --timeout nan) fails here instead of stalling the suite
    try:
        code = main(argv)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("words, action", COMMANDS,
                         ids=[f"{' '.join(w)} {a.option_strings[-1]}" for w, a in COMMANDS])
def test_odd_values_of_every_option_give_one_line(tmp_path, capsys, monkeypatch, words, action):
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115 - closed by pytest
    monkeypatch.chdir(tmp_path)  # --db=nan makes a database called 'nan': here, not in the repo
    base = ["--port", str(tmp_path / "ttyACM9"), "--db", str(tmp_path / "host.sqlite3")]
    option = action.option_strings[-1]
    for value in ODD_VALUES if not action.choices else [*ODD_VALUES, "MINUTES"]:
        argv = [*words, *base, f"{option}={value}"]
        if words == ["plan", "set"] and option == "--start":
            argv.append("--goals=60")
        elif words == ["plan", "set"] and option == "--goals":
            argv.append("--start=2026-11-30")
        code, _out, err = _run(capsys, argv)
        assert "Traceback" not in err, (argv, err)
        assert code in (0, 1, 2), (argv, code, err)
        lines = [line for line in err.splitlines() if line.startswith("hostsync:")]
        assert len(lines) == (code != 0), (argv, err)  # 0: an offline command that had its say
        assert "\x00" not in err


def test_the_reported_failures_are_one_line_exit_2(tmp_path, capsys):
    base = ["--port", str(tmp_path / "ttyACM9"), "--db", str(tmp_path / "host.sqlite3")]
    for argv, words in [
        (["--timeout", "nan", "status"], "--timeout: must be a number of seconds"),
        (["plan", "set", "--start", "2026-11-30", "--goals", "60,²"], "Goal '²'"),
        (["plan", "set", "2026-11-30=²"], "not a whole number"),
        (["config", "set", "--week-start", "²"], "day name"),
        (["plan", "set", "--start", "9999-12-27", "--goals", "60,70"], "out of range"),
        (["plan", "set", "--start", "2199-12-30", "--goals", "60,70"], "out of range"),
        (["plan", "set", "9999-12-27=60"], "out of range"),
    ]:
        code, _out, err = _run(capsys, [*base, *argv])
        assert code == 2 and words in err and err.count("\n") <= 3, (argv, err)


@given(st.text(max_size=30))
@settings(max_examples=300, deadline=None)
def test_whole_number_takes_ascii_digits_or_says_no(text):
    try:
        n = options.whole_number(text, "goal", 0, 10080)
    except ValueError as e:
        assert str(e).startswith("goal must be a whole number from 0 to 10080")
        return
    t = text.strip()
    assert t.isascii() and t.isdigit() and int(t) == n and 0 <= n <= 10080


@given(st.one_of(st.text(max_size=20), st.floats().map(repr), st.integers().map(str)))
@settings(max_examples=300, deadline=None)
def test_seconds_are_finite_and_bounded_or_refused(text):
    try:
        value = options.seconds(text)
    except ValueError:
        return
    assert math.isfinite(value) and options.TIMEOUT_MIN_S <= value <= options.TIMEOUT_MAX_S


@given(st.dates(), st.lists(st.integers(0, 10080), min_size=1, max_size=600))
@settings(max_examples=200, deadline=None)
def test_any_plan_start_and_length_is_a_plan_or_one_usage_error(start, goals):
    from hostsync.cli import UsageError

    try:
        plan = parse_plan(start.isoformat(), ",".join(map(str, goals)), [])
    except UsageError as e:
        assert "\n" not in str(e)
        return
    assert len(plan) == len(goals)
    assert plan[0].week_start >= options.FIRST_PLAN_DAY
    assert plan[-1].week_start <= options.LAST_PLAN_DAY
    assert plan[-1].week_start - plan[0].week_start == dt.timedelta(weeks=len(goals) - 1)
