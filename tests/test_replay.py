"""`pedometer replay`: streamed from disk, scored against truth, and over many traces at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from device.cli import main
from device.replay import replay, replay_file, score_against_truth
from device.scoring import match_steps, minute_agreement
from device.trace import read_trace, read_truth, write_trace

REAL = Path(__file__).parent / "data" / "real"
BACK = REAL / "samsung_dario_hard_backpocket_1.csv.gz"
BACK_TRUTH = REAL / "samsung_dario_hard_backpocket_1.steps.csv"
FRONT = REAL / "samsung_dario_hard_frontpocket_2.csv.gz"


def test_streaming_from_disk_gives_what_the_whole_trace_gives() -> None:
    streamed = replay_file(FRONT)
    whole = replay(read_trace(FRONT))
    np.testing.assert_array_equal(streamed.step_times_s, whole.step_times_s)
    assert streamed.minutes == whole.minutes and streamed.duration_s == whole.duration_s
    assert streamed.steps > 250


def test_times_count_from_the_first_sample_and_gyro_is_carried(tmp_path: Path) -> None:
    trace = read_trace(BACK)
    gyro = np.zeros_like(trace.acc)
    write_trace(tmp_path / "zero.csv", trace.t, trace.acc, gyro)
    write_trace(tmp_path / "shifted.csv", trace.t + 5000.0, trace.acc, gyro)
    a, b = replay_file(tmp_path / "shifted.csv"), replay_file(tmp_path / "zero.csv")
    assert a.t0 == pytest.approx(5000.0) and a.minutes[0].start_s == 0.0
    # Not bit-equal: (t + 5000) - 5000 moves samples that sit exactly on a 20 ms grid edge.
    assert match_steps(a.step_times_s, b.step_times_s, tolerance_s=0.05).f1 > 0.98
    truth = read_truth(BACK_TRUTH)
    assert score_against_truth(a, truth + 5000.0).match.matched == \
        score_against_truth(b, truth).match.matched > 150


def _score_numbers(path: Path, truth_path: Path):
    result = replay(read_trace(path))
    truth = read_truth(truth_path)
    m = match_steps(result.step_times_s, truth)
    a = minute_agreement(result.step_times_s, truth, result.duration_s, result.threshold_spm)
    return result, m, a


def test_truth_reports_matched_extra_missed_f1_and_moderate_agreement(capsys) -> None:
    assert main(["replay", str(BACK), "--truth", str(BACK_TRUTH)]) == 0
    out = capsys.readouterr().out
    _, m, a = _score_numbers(BACK, BACK_TRUTH)
    assert m.n_truth == 198 and 0 < m.matched <= 198
    assert (f"step matching    {m.matched} matched, {m.extra.size} extra, {m.missed.size} missed"
            in out)
    assert f"F1 {m.f1:.3f}" in out and f"precision {m.precision:.3f}" in out
    assert f"agrees with the truth in {a.agree} of {a.minutes} minutes" in out


def test_json_with_truth_keeps_stdout_exactly_the_contract(capsys) -> None:
    assert main(["replay", str(BACK), "--json", "--truth", str(BACK_TRUTH)]) == 0
    out, err = capsys.readouterr()
    result, m, _ = _score_numbers(BACK, BACK_TRUTH)
    assert json.loads(out) == json.loads(json.dumps(result.to_json()))
    assert out.count("\n") == 1
    assert f"F1 {m.f1:.3f}" in err and "moderate flag" in err


def _study(tmp_path: Path) -> Path:
    study = tmp_path / "study"
    (study / "day2").mkdir(parents=True)
    shutil.copy(BACK, study)
    shutil.copy(BACK_TRUTH, study)
    shutil.copy(FRONT, study / "day2")  # no truth beside this one
    shutil.copy(REAL / "INDEX.csv", study)  # another kind of CSV: not a trace, skipped
    return study


def test_many_traces_one_row_each_and_a_summary(tmp_path: Path, capsys) -> None:
    study = _study(tmp_path)
    assert main(["replay", str(study)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    _, m, a = _score_numbers(BACK, BACK_TRUTH)
    back = next(line for line in lines if line.startswith("samsung_dario_hard_backpocket_1 "))
    assert f"{m.n_truth}" in back and f"{m.f1:.3f}" in back and f"{a.agree}/{a.minutes}" in back
    front = next(line for line in lines if line.startswith("samsung_dario_hard_frontpocket_2"))
    assert front.rstrip().endswith("-")
    assert lines[-1] == (
        f"2 traces, 1 with ground truth: count MAE {abs(m.count_error_pct):.2f} %, "
        f"step F1 {m.f1:.3f} (pooled, ±0.25 s), moderate flag agrees in {a.agree} of "
        f"{a.minutes} minutes")
    assert err == ""  # no progress in a pipe


def test_many_traces_go_on_past_a_bad_one_and_exit_2(tmp_path: Path, capsys) -> None:
    study = _study(tmp_path)
    (study / "broken.csv").write_text("t,ax,ay,az\n0,1,2,3\n0.1,1,2\n")
    assert main(["replay", str(study / "broken.csv"), str(study)]) == 2
    out, err = capsys.readouterr()
    assert err == f"pedometer: error: {study / 'broken.csv'}:3: expected 4 columns, found 3\n"
    broken = next(line for line in out.splitlines() if line.startswith("broken "))
    assert broken.split(None, 1)[1].startswith("error: ")
    assert "3 traces (1 could not be read)" in out


def test_jsonl_one_contract_object_per_trace(tmp_path: Path, capsys) -> None:
    study = _study(tmp_path)
    assert main(["replay", "--jsonl", str(study)]) == 0
    objs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [Path(o.pop("trace")).name for o in objs] == [FRONT.name, BACK.name]  # sorted paths
    assert objs[1] == json.loads(json.dumps(replay(read_trace(BACK)).to_json()))


@pytest.mark.parametrize("flag", [["--json"], ["--truth", str(BACK_TRUTH)], ["--plot", "x.png"]])
def test_single_trace_options_with_many_traces_are_one_line(tmp_path, capsys, flag) -> None:
    assert main(["replay", *flag, str(_study(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pedometer: error: ") and err.count("\n") == 1


def test_an_empty_folder_and_a_missing_path(tmp_path: Path, capsys) -> None:
    assert main(["replay", str(tmp_path)]) == 2
    assert "no traces" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "nope"), str(BACK)]) == 2
    assert "no such file or folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--simulate", "/dev/zero"],
        ["run", "--simulate", str(BACK), "--start", "9999-12-31T23:59:00+00:00"],
        ["run", "--simulate", str(BACK), "--start", "0001-01-01T00:00"],
    ],
)
def test_run_fuzz_findings_end_in_one_line(tmp_path: Path, capsys, argv) -> None:
    code = main([*argv, "--data-dir", str(tmp_path / "d"), "--display", "none", "--speed", "0"])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("pedometer: error: ")]
    assert len(lines) == 1 and "Traceback" not in err


def test_run_simulate_feeds_the_traces_gyro_to_the_pipeline(tmp_path: Path, monkeypatch) -> None:
    """`run --simulate` serves gx,gy,gz through TraceSource and the runtime passes them on."""
    from device.core.pipeline import StepPipeline
    from device.sources import TraceSource

    trace = read_trace(BACK)
    gyro = np.column_stack([np.arange(len(trace)) % 7, np.zeros(len(trace)), np.ones(len(trace))])
    path = tmp_path / "with_gyro.csv.gz"
    write_trace(path, trace.t, trace.acc, gyro)
    fed: list[tuple[int, np.ndarray | None]] = []
    original = StepPipeline.feed

    def spy(self, t, acc, gyro=None):
        fed.append((len(t), None if gyro is None else np.array(gyro)))
        return original(self, t, acc, gyro)

    monkeypatch.setattr(StepPipeline, "feed", spy)
    code = main(["run", "--simulate", str(path), "--speed", "0", "--display", "none",
                 "--data-dir", str(tmp_path / "d")])
    assert code == 0
    assert sum(n for n, _ in fed) == len(trace)
    assert all(g is not None and g.shape == (n, 3) for n, g in fed if n)
    np.testing.assert_allclose(np.concatenate([g for n, g in fed if n]), gyro, atol=1e-5)
    # and a trace without gyro columns serves None
    source = TraceSource(trace.t, trace.acc)
    assert source.read().gyro is None


def test_read_ahead_keeps_order_raises_reader_errors_and_stops_early() -> None:
    import threading

    from device.replay import read_ahead
    from device.trace import TraceChunk, TraceError

    def chunks(n: int, fail_at: int | None = None):
        for i in range(n):
            if i == fail_at:
                raise TraceError(f"bad block {i}")
            yield TraceChunk(t=np.array([float(i)]), acc=np.zeros((1, 3)), gyro=None)

    assert [float(c.t[0]) for c in read_ahead(chunks(50))] == list(range(50))
    seen = []
    with pytest.raises(TraceError, match="bad block 7"):
        for c in read_ahead(chunks(50, fail_at=7)):
            seen.append(float(c.t[0]))
    assert seen == list(range(7))  # everything before the error, in order
    ahead = read_ahead(chunks(10_000))
    next(ahead)
    ahead.close()  # a consumer that stops early leaves no thread behind
    assert not any(t.name == "trace-reader" for t in threading.enumerate())


def test_progress_goes_to_a_terminals_stderr_only(tmp_path: Path, capsys, monkeypatch) -> None:
    study = _study(tmp_path)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert main(["replay", "--jsonl", str(study)]) == 0
    out, err = capsys.readouterr()
    assert "[1/2] samsung_dario_hard_frontpocket_2.csv.gz 100 %" in err
    assert "[2/2] samsung_dario_hard_backpocket_1.csv.gz 100 %" in err
    assert err.endswith("\r\033[K")  # the progress line is cleared when done
    assert len(out.splitlines()) == 2 and "%" not in out
    assert main(["replay", "--jsonl", str(BACK)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["trace"] == str(BACK) and "replaying" in err
