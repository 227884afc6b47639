"""Commands that need an optional extra say which one, in one line, when it is not installed."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from device.cli import main


class _Hide:
    """A meta-path finder that makes packages look uninstalled, as in a venv without the extra."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _uninstall(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for mod in list(sys.modules):
        if mod.split(".")[0] in names:
            monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setattr(sys, "meta_path", [_Hide(*names), *sys.meta_path])


@pytest.mark.parametrize(
    ("argv", "hidden", "expected"),
    [
        (["screens", "--out", "{tmp}"], ("luma",),
         "pedometer screens needs luma, from the sim extra: pip install 'walkcoach[sim]'"),
        (["demo", "--out", "{tmp}/d"], ("luma", "serial"),
         "pedometer demo needs luma, serial, from the sim,host extra: "
         "pip install 'walkcoach[sim,host]'"),
        (["demo", "--out", "{tmp}/d"], ("platformdirs",),
         "pedometer demo needs platformdirs, from the sim,host extra"),
    ],
)
def test_a_missing_extra_is_named_in_one_line(
    tmp_path: Path, capsys, monkeypatch, argv, hidden, expected
) -> None:
    _uninstall(monkeypatch, *hidden)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"pedometer: error: {expected}") and err.count("\n") == 1
    assert not (tmp_path / "d").exists()  # refused before anything was written
