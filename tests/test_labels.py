"""Wearer labels: every label the host accepts renders on the device's screen, else a clear no."""

from __future__ import annotations

from pathlib import Path

import pytest

from hostsync.cli import main


@pytest.mark.parametrize("label", ["陳大文", "Ann 🙂", "नमस्ते"])
def test_host_refuses_a_label_the_screen_cannot_show(tmp_path: Path, capsys, label: str) -> None:
    db = tmp_path / "host.sqlite3"
    code = main(["--db", str(db), "--port", str(tmp_path / "no-port"), "config", "set",
                 "--label", label])
    err = capsys.readouterr().err
    assert code == 2
    assert "--label: the device's screen cannot show" in err and "U+" in err
    assert err.count("\n") == 1  # one plain line


@pytest.mark.parametrize("label", ["Zoë", "Ελένη", "Юлия", "Łukasz"])
def test_accented_labels_pass_the_check_and_go_on_to_the_device(
    tmp_path: Path, capsys, label: str
) -> None:
    code = main(["--db", str(tmp_path / "host.sqlite3"), "--port", str(tmp_path / "no-port"),
                 "config", "set", "--label", label])
    err = capsys.readouterr().err
    assert "cannot show" not in err
    assert code != 0  # no device on that port: the next step (connecting) says so
