"""`pedometer replay --plot`: the picture a developer debugs the detector with."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from device.cli import main
from device.replay import replay_file
from device.replay_plot import bouts, magnitude_envelope, plot_replay
from device.trace import read_trace, read_truth, write_trace

REAL = Path(__file__).parent / "data" / "real"
BACK = REAL / "samsung_dario_hard_backpocket_1.csv.gz"
BACK_TRUTH = REAL / "samsung_dario_hard_backpocket_1.steps.csv"


def test_plot_with_truth_and_a_time_span(tmp_path: Path, capsys) -> None:
    out = tmp_path / "p.png"
    argv = ["replay", str(BACK), "--truth", str(BACK_TRUTH), "--plot", str(out),
            "--from", "10", "--to", "40"]
    assert main(argv) == 0
    assert "plot written to" in capsys.readouterr().err
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (1200, 650)
        colours = img.convert("RGB").getcolors(1 << 20)
    assert len(colours) > 50  # drawn, not blank


def test_plot_of_a_long_quiet_trace_without_truth(tmp_path: Path) -> None:
    t = np.arange(0, 7200, 0.05)  # two hours at 20 Hz: an envelope, minutes in the lower panel
    path = tmp_path / "quiet.csv"
    write_trace(path, t, np.tile([0.0, 0.0, 9.81], (t.size, 1)))
    out = plot_replay(path, replay_file(path), tmp_path / "q.svg")
    assert out.read_text().startswith("<?xml")


def test_envelope_keeps_every_peak_and_the_span() -> None:
    trace = read_trace(BACK)
    mag = np.linalg.norm(trace.acc, axis=1)
    t, low, high = magnitude_envelope(BACK, float(trace.t[0]), 0.0, trace.duration_s, 2000)
    assert t.size <= 1000 and high.max() == pytest.approx(mag.max())
    assert low.min() == pytest.approx(mag.min())
    t, low, high = magnitude_envelope(BACK, float(trace.t[0]), 20.0, 21.0, 2000)
    rel = trace.t - trace.t[0]
    inside = (rel >= 20.0) & (rel <= 21.0)
    np.testing.assert_array_equal(t, rel[inside])  # few samples: drawn as they are
    np.testing.assert_array_equal(low, high)


def test_bouts_are_runs_of_steps() -> None:
    assert bouts(np.array([1.0, 1.5, 2.0, 10.0, 10.6, 30.0])) == [(1.0, 2.0), (10.0, 10.6),
                                                                 (30.0, 30.0)]
    assert bouts(np.empty(0)) == []


def test_the_plot_marks_what_scoring_says(tmp_path: Path, monkeypatch) -> None:
    """The title counts the same matched/extra/missed steps as --truth prints."""
    seen: dict[str, str] = {}
    from matplotlib.figure import Figure

    original = Figure.suptitle

    def spy(self, text, **kw):
        seen["title"] = text
        return original(self, text, **kw)

    monkeypatch.setattr(Figure, "suptitle", spy)
    result = replay_file(BACK)
    plot_replay(BACK, result, tmp_path / "x.png", truth_s=read_truth(BACK_TRUTH))
    from device.scoring import match_steps

    m = match_steps(result.step_times_s, read_truth(BACK_TRUTH))
    assert (f"{m.matched} matched, {m.extra.size} extra, {m.missed.size} missed"
            in seen["title"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--plot", "out.txt"], "name a .png, .svg or .pdf file"),
        (["--plot", "/no/such/dir/p.png"], "does not exist"),
        (["--from", "5"], "--from and --to choose the span of --plot"),
        (["--plot", "{tmp}/p.png", "--from", "50", "--to", "20"], "must come before"),
        (["--plot", "{tmp}/p.png", "--from", "-3"], "seconds must be 0 or more"),
    ],
)
def test_bad_plot_options_are_one_line(tmp_path: Path, capsys, argv, expected) -> None:
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    with pytest.raises(SystemExit) if "-3" in argv else _nothing():
        code = main(["replay", str(BACK), *argv])
        assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_without_matplotlib_the_extra_is_named(tmp_path: Path, capsys, monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "matplotlib" else real(name, *a))
    assert main(["replay", str(BACK), "--plot", str(tmp_path / "p.png")]) == 2
    err = capsys.readouterr().err
    assert err == ("pedometer: error: --plot needs matplotlib, which is in the dev extra: "
                   "pip install -e '.[dev]'\n")
