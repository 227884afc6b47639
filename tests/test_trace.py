"""Trace I/O: the format of DESIGN.md, and a clear one-line error for every malformed file."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.cli import main
from device.trace import TraceError, TraceReader, read_trace, read_truth, write_trace


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_round_trip_with_metadata_gzip_and_gyro(tmp_path: Path) -> None:
    t = np.array([0.0, 0.011, 0.019, 0.5])  # irregular, with a gap
    acc = np.array([[0.1, 0.2, 9.8], [0.0, 0.3, 9.7], [1.0, 2.0, 3.0], [-1.5, 0.0, 9.81]])
    gyro = np.array([[1.0, 2.0, 3.0]] * 4)
    path = tmp_path / "walk.csv.gz"
    write_trace(path, t, acc, gyro, meta={"device": "test", "rate_hz": 100})
    trace = read_trace(path)
    assert trace.meta == {"device": "test", "rate_hz": "100"}
    np.testing.assert_allclose(trace.t, t)
    np.testing.assert_allclose(trace.acc, acc, atol=1e-5)
    np.testing.assert_allclose(trace.gyro, gyro, atol=1e-5)
    with gzip.open(path, "rt") as f:
        assert f.readline() == "# device: test\n"


def test_plain_csv_without_gyro_and_equal_timestamps(tmp_path: Path) -> None:
    path = _write(tmp_path / "a.csv", "# note: x\nt,ax,ay,az\n0,0,0,9.8\n0,0,0,9.8\n0.02,0,0,9.8\n")
    trace = read_trace(path)
    assert len(trace) == 3 and trace.gyro is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty trace"),
        ("# only: metadata\n", "empty trace"),
        ("t,ax,ay,az\n", "no samples"),
        ("time,x,y,z\n0,1,2,3\n", ":1: header must be"),
        ("t,ax,ay,az\n0,1,2,3\n0.1,1,x,3\n", ":3: ay is not a number: 'x'"),
        ("t,ax,ay,az\n0,1,2,3\n0.1,1,2\n", ":3: expected 4 columns, found 3"),
        ("t,ax,ay,az\n0,1,2,3\n0.1,1,2,3,4\n", ":3: expected 4 columns, found 5"),
        ("t,ax,ay,az\n0,1,nan,3\n", ":2: ay is nan"),
        ("t,ax,ay,az\n0,1,2,inf\n", ":2: az is inf"),
        ("t,ax,ay,az\n1,1,2,3\n0.5,1,2,3\n", ":3: time goes backwards"),
        ("# a: b\nt,ax,ay,az\n0,1,2,3\n\n0.1,1,2,3\n0.05,1,2,3\n", ":6: time goes backwards"),
    ],
)
def test_malformed_traces_name_file_line_and_reason(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path / "bad.csv", text)
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = str(info.value)
    assert str(path) in message and expected in message and "\n" not in message


def test_missing_file_directory_and_corrupt_gzip(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        read_trace(tmp_path / "missing.csv")
    with pytest.raises(TraceError, match="is a directory"):
        read_trace(tmp_path)
    bad = tmp_path / "x.csv.gz"
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(TraceError, match="cannot read"):
        read_trace(bad)
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(TraceError, match="UTF-8"):
        read_trace(binary)


def test_truth_file(tmp_path: Path) -> None:
    good = _write(tmp_path / "s.csv", "t\n1.5\n2.0\n")
    np.testing.assert_allclose(read_truth(good), [1.5, 2.0])
    assert read_truth(_write(tmp_path / "e.csv", "t\n")).size == 0
    with pytest.raises(TraceError, match=":3: step time is not a number"):
        read_truth(_write(tmp_path / "b.csv", "t\n1\nabc\n"))


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list("t,axyz0123456789.-e#:\n nan")), max_size=200))
def test_arbitrary_text_is_read_or_refused_cleanly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(text, encoding="utf-8")
    try:
        trace = read_trace(path)
    except TraceError as exc:
        assert "\n" not in str(exc)
    else:
        assert np.isfinite(trace.acc).all() and (np.diff(trace.t) >= 0).all()


def test_cli_bad_input_exit_2_one_line_no_traceback(tmp_path: Path, capsys) -> None:
    bad = _write(tmp_path / "bad.csv", "t,ax,ay,az\n0,1,2,3\n0.1,1,2\n")
    for argv in (["replay", str(bad)], ["replay", str(tmp_path / "none.csv")],
                 ["replay", str(_write(tmp_path / "empty.csv", ""))]):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("pedometer: error: ") and err.count("\n") == 1
        assert "Traceback" not in err


def test_replay_json_with_truth_keeps_stdout_to_the_contract(tmp_path: Path, capsys) -> None:
    t = np.arange(0, 20, 0.01)
    acc = np.tile([0.0, 0.0, 9.81], (t.size, 1))
    trace = tmp_path / "still.csv"
    write_trace(trace, t, acc)
    truth = _write(tmp_path / "still.steps.csv", "t\n")
    assert main(["replay", str(trace), "--json", "--truth", str(truth)]) == 0
    out, err = capsys.readouterr()
    obj = json.loads(out)
    assert set(obj) == {"duration_s", "steps", "step_times_s", "minutes", "moderate_minutes",
                        "threshold_spm"}
    assert obj["steps"] == 0 and "ground truth     0 steps" in err and "F1 1.000" in err


# -- streaming ----------------------------------------------------------------------------------
def _rows(n: int, start: float = 0.0) -> str:
    return "".join(f"{start + i * 0.01:.6f},0.1,0.2,9.8\n" for i in range(n))


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("name", ["s.csv", "s.csv.gz"])
def test_streamed_blocks_equal_the_whole_file(tmp_path: Path, fast: bool, name: str) -> None:
    rng = np.random.default_rng(3)
    t = np.cumsum(rng.uniform(0.005, 0.02, 5000))
    acc = rng.normal(0, 3, (5000, 3))
    gyro = rng.normal(0, 50, (5000, 3))
    path = tmp_path / name
    write_trace(path, t, acc, gyro, meta={"k": "v"})
    whole = read_trace(path)
    with TraceReader(path, block_bytes=1000, fast=fast) as reader:
        chunks = list(reader.chunks())
        assert reader.meta == {"k": "v"} and reader.has_gyro and reader.rows == 5000
        assert reader.fraction_read() == 1.0
    assert len(chunks) > 50 and max(len(c) for c in chunks) < 30  # ~1000 bytes at a time
    np.testing.assert_array_equal(np.concatenate([c.t for c in chunks]), whole.t)
    np.testing.assert_array_equal(np.concatenate([c.acc for c in chunks]), whole.acc)
    np.testing.assert_array_equal(np.concatenate([c.gyro for c in chunks]), whole.gyro)


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("0.5,1,x,3", "ay is not a number: 'x'"),
        ("0.5,1,2", "expected 4 columns, found 3"),
        ("0.5,1,2,3,4", "expected 4 columns, found 5"),
        ("0.5,nan,2,3", "ax is nan"),
        ("0.5,1,2,", "az is not a number: ''"),
        ('"0.5",1,2,3', "t is not a number"),
        ("-1,1,2,3", "time goes backwards"),
    ],
)
def test_a_bad_row_deep_in_a_long_file_names_its_exact_line(
    tmp_path: Path, fast: bool, bad: str, expected: str
) -> None:
    """The bad row sits in a late block, after comment and blank lines, so the slow path must
    count lines across blocks to name it."""
    head = "# device: x\nt,ax,ay,az\n" + _rows(3000) + "# a comment\n\n" + _rows(2000, 30.0)
    lines_before = head.count("\n")
    good_after = _rows(100, 60.0)
    text = head + bad.replace("0.5", "50.5") + "\n" + good_after
    path = _write(tmp_path / "deep.csv", text)
    with pytest.raises(TraceError) as info, TraceReader(path, block_bytes=4096, fast=fast) as r:
        for _ in r.chunks():
            pass
    assert str(info.value).startswith(f"{path}:{lines_before + 1}: {expected}")


def test_time_going_backwards_across_a_block_boundary(tmp_path: Path) -> None:
    text = "t,ax,ay,az\n" + _rows(500) + _rows(500, 1.0)  # 1.00 follows 4.99
    path = _write(tmp_path / "back.csv", text)
    reader = TraceReader(path, block_bytes=2000)
    with pytest.raises(TraceError, match=r":502: time goes backwards \(1\.000000 s after 4\.99"):
        list(reader.chunks())
    reader.close()


def test_a_span_beyond_31_days_is_refused_at_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "jump.csv", "t,ax,ay,az\n0,0,0,9.8\n1,0,0,9.8\n1e9,0,0,9.8\n")
    with pytest.raises(TraceError, match=r"jump.csv:4: time jumps to 1000000000 s .* 31 days"):
        read_trace(path)


@pytest.mark.parametrize("name", ["stuck.csv", "stuck.csv.gz"])
def test_a_stuck_clock_is_refused_at_its_line(tmp_path: Path, name: str) -> None:
    """25,000 rows at the same instant (or a gzip bomb of one repeated row) would make one
    endless device batch; the row that makes 20,001 in one second is named."""
    path = tmp_path / name
    text = "t,ax,ay,az\n" + _rows(100) + "5.0,0,0,9.8\n" * 25_000  # rows 2-101, then stuck
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    with pytest.raises(TraceError, match=r":20102: more than 20000 samples within one second"):
        read_trace(path)
    fine = tmp_path / "fast.csv"
    t = np.arange(0, 3, 1 / 400.0)  # the fastest supported sensor, by far within the limit
    write_trace(fine, t, np.tile([0.0, 0.0, 9.8], (t.size, 1)))
    assert len(read_trace(fine)) == t.size


def test_a_file_without_line_breaks_is_refused_early(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match=":1: line longer than 4096 characters"):
        read_trace(Path("/dev/zero"))
    path = tmp_path / "long.csv"
    path.write_text("t,ax,ay,az\n" + "1" * 10_000_000)
    with pytest.raises(TraceError, match=r"long\.csv:2: line longer than 4096"):
        read_trace(path)


def test_too_many_metadata_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "meta.csv", "# k: v\n" * 1001 + "t,ax,ay,az\n0,0,0,9.8\n")
    with pytest.raises(TraceError, match=":1001: more than 1000 metadata lines"):
        read_trace(path)


def _gzip_trace(tmp_path: Path) -> bytes:
    path = tmp_path / "ok.csv.gz"
    t = np.arange(0, 60, 0.01)
    write_trace(path, t, np.tile([0.0, 0.0, 9.81], (t.size, 1)) + np.sin(t)[:, None])
    return path.read_bytes()


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture],
          deadline=None)
@given(st.data())
def test_corrupted_gzip_is_one_line_exit_2(tmp_path: Path, capsys, data) -> None:
    raw = bytearray(_gzip_trace(tmp_path))
    for _ in range(data.draw(st.integers(1, 8))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    cut = data.draw(st.integers(10, len(raw)))
    path = tmp_path / "flipped.csv.gz"
    path.write_bytes(bytes(raw[:cut]))
    code = main(["replay", str(path)])
    out, err = capsys.readouterr()
    if code == 0:  # a flip in a number's digit, or in the gzip header's free bytes
        assert "steps" in out
    else:
        assert code == 2 and err.startswith("pedometer: error: ") and err.count("\n") == 1
        assert str(path) in err


def test_truncated_gzip_names_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(_gzip_trace(tmp_path)[:-20])
    with pytest.raises(TraceError, match=r"cannot read .*(corrupted|truncated)"):
        read_trace(path)
