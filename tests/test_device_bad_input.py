"""Device-side bad input gives one line and the device keeps counting.

A damaged value in the device database, a broken hardware config, a data folder that cannot be
made: each is one plain line (exit 2 for a config or folder the user must fix), never a
traceback, and stored data stays as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from device.app import HardwareConfig
from device.cli import main
from device.config import WearerConfig
from device.store import STORE_FILENAME, MinuteRow, Store
from tests.unprivileged import as_unprivileged

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
T0 = 1_772_438_400  # 2026-03-02 08:00 UTC


@pytest.fixture(scope="module")
def trace(tmp_path_factory) -> Path:
    from tests.killsoak import write_long_trace

    path = tmp_path_factory.mktemp("trace") / "walk.csv.gz"
    write_long_trace(path)  # about 19 minutes of walking
    return path


def run_device(trace: Path, data: Path, start: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "device.cli", "run", "--simulate", str(trace), "--speed", "0",
         "--data-dir", str(data), "--display", "none", "--start", start],
        cwd=REPO, env=ENV, capture_output=True, text=True, timeout=120)


def one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    return lines[0]


# -- damaged values in the device database ------------------------------------------------------

DAMAGE = [  # (column, value): what a hand edit or a broken tool can leave in a minute row
    ("steps", "abc"), ("start_utc", "zz"), ("cadence_spm", "fast"), ("moderate", "yes"),
    ("chip_steps", "n/a"), ("clock_trusted", b"\x01"), ("mono_start", "later"), ("steps", -5),
    ("boot_id", b"\x00"),
]


def test_text_in_number_columns_is_skipped_with_one_line_and_counting_goes_on(trace, tmp_path):
    data = tmp_path / "data"
    first = run_device(trace, data, "2026-03-02T08:00:00+00:00")
    assert first.returncode == 0, first.stderr
    db = data / STORE_FILENAME
    with sqlite3.connect(db) as raw:
        n_before = raw.execute("SELECT COUNT(*) FROM minutes").fetchone()[0]
        assert n_before >= len(DAMAGE) + 2
        for seq, (column, value) in enumerate(DAMAGE, start=2):
            raw.execute(f"UPDATE minutes SET {column} = ? WHERE seq = ?", (value, seq))
        raw.execute("UPDATE minutes SET clock_trusted = 1 WHERE seq > ?", (len(DAMAGE) + 1,))
        raw.execute("INSERT OR REPLACE INTO meta VALUES ('acknowledged_seq', 'lots')")
        raw.execute("INSERT OR REPLACE INTO meta VALUES ('first_data_utc', '²')")
        damaged_before = raw.execute("SELECT * FROM minutes WHERE seq BETWEEN 2 AND ?",
                                     (len(DAMAGE) + 1,)).fetchall()
    raw.close()

    second = run_device(trace, data, "2026-03-02T09:00:00+00:00")
    assert second.returncode == 0, second.stderr
    assert "Traceback" not in second.stderr
    warnings = [line for line in second.stderr.splitlines() if "unreadable" in line]
    assert len(warnings) == 1
    assert f"{len(DAMAGE)} stored minute row(s)" in warnings[0]
    assert "seq 2, 3, 4" in warnings[0]
    with sqlite3.connect(db) as raw:
        n_after = raw.execute("SELECT COUNT(*) FROM minutes").fetchone()[0]
        damaged_after = raw.execute("SELECT * FROM minutes WHERE seq BETWEEN 2 AND ?",
                                    (len(DAMAGE) + 1,)).fetchall()
    raw.close()
    assert n_after > n_before  # it kept counting and storing minutes
    assert damaged_after == damaged_before  # and left the damaged rows exactly as they were

    with Store(db) as s:
        count, seqs = s.damaged_minute_seqs()
        assert (count, seqs) == (len(DAMAGE), list(range(2, len(DAMAGE) + 2)))
        readable = s.minutes_after(0, limit=10_000)
        assert len(readable) == n_after - len(DAMAGE)
        assert not {r.seq for r in readable} & set(seqs)
        assert len(s.minutes_between(0, 2**40)) == len(readable)
        _, steps, _ = s.minute_arrays_between(0, 2**40)
        assert int(steps.sum()) == sum(r.steps for r in readable)
        assert s.acknowledged_seq() == 0  # an unreadable ack prunes nothing
        assert s.first_data_utc() == min(r.start_utc for r in readable if r.clock_trusted)
        s.acknowledge(3)
        assert s.acknowledged_seq() == 3
        assert s.events()[-1][2] == "storage"


@pytest.mark.parametrize("stored", ["{not json", "[1, 2]", '{"threshold_spm": "fast"}',
                                    "[" * 5000 + "]" * 5000, '{"plan": ' + "[" * 5000])
def test_an_unreadable_stored_config_gives_the_defaults_and_one_logged_line(
        tmp_path, caplog, stored):
    path = tmp_path / STORE_FILENAME
    with Store(path) as s:
        s.set_config(WearerConfig(threshold_spm=90.0))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE config SET json = ? WHERE id = 1", (stored,))
    raw.close()
    with Store(path) as s:
        assert s.get_config() == WearerConfig()
        assert s.get_config() == WearerConfig()
        s.set_config(WearerConfig(threshold_spm=95.0))  # a host's new config replaces it
        assert s.get_config().threshold_spm == 95.0
    lines = [r for r in caplog.records if "stored config unreadable" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0].getMessage()


def test_reanchor_skips_damaged_rows(tmp_path):
    with Store(tmp_path / STORE_FILENAME) as s:
        s.add_minutes([MinuteRow(start_utc=T0 + 60 * i, steps=10, cadence_spm=10.0,
                                 moderate=False, chip_steps=None, clock_trusted=False,
                                 boot_id="b", mono_start=60.0 * i) for i in range(3)])
        s._query("UPDATE minutes SET mono_start = 'x' WHERE seq = 2")
        assert s.reanchor("b", 600.0, T0 + 7200.0) == 2


# -- the hardware config ------------------------------------------------------------------------

BAD_CONFIGS = {
    "imu address zz": '[imu]\naddress = "zz"\n',
    "imu address out of range": "[imu]\naddress = 300\n",
    "imu address a bool": "[imu]\naddress = true\n",
    "bus infinite": "[imu]\ni2c_bus = inf\n",
    "bus a float": "[imu]\ni2c_bus = 1.5\n",
    "sleep NaN": "[display]\nsleep_after_s = nan\n",
    "driver unknown": '[display]\ndriver = "crt"\n',
    "display address text": '[display]\naddress = "sixty"\n',
    "rotate 7": "[display]\nrotate = 7\n",
    "gpio negative": "[button]\ngpio = -1\n",
    "long press a table": "[button]\nlong_press_s = {a = 1}\n",
    "port empty": '[sync]\nport = ""\n',
    "section not a table": 'imu = "0x6a"\n',
    "unknown section": "[wifi]\nssid = 'x'\n",
    "misspelt key": '[imu]\nadress = "0x6a"\n',
    "nested 5000 arrays": "a = " + "[" * 5000 + "]" * 5000 + "\n",
    "nested 5000 tables": "a = " + "{b = " * 5000 + "1" + "}" * 5000 + "\n",
    "not UTF-8": b"[imu]\naddress = '\xff'\n",
    "not TOML": "[display\ndriver = 'x'",
}


@pytest.mark.parametrize("command", ["run", "selftest", "record"])
@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_a_bad_hardware_config_is_one_line_in_every_command(tmp_path, capfd, command, name):
    config = tmp_path / "device.toml"
    text = BAD_CONFIGS[name]
    config.write_bytes(text if isinstance(text, bytes) else text.encode())
    argv = {"run": ["run", "--data-dir", str(tmp_path / "data")],
            "selftest": ["selftest", "--data-dir", str(tmp_path)],
            "record": ["record", str(tmp_path / "out.csv")]}[command]
    assert main([*argv, "--config", str(config)]) == 2
    out, err = capfd.readouterr()
    line = one_line_error(err)
    assert line.startswith(f"pedometer: error: {config}: ")
    assert out == ""
    assert not (tmp_path / "data").exists() and not (tmp_path / "out.csv").exists()


def test_the_shipped_config_and_hex_or_number_addresses_load():
    hw = HardwareConfig.load(REPO / "hardware" / "device.toml")
    assert (hw.imu_i2c_address, hw.display_address, hw.display_driver) == ("auto", 0x3C, "ssd1306")
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "device.toml"
        path.write_text('[imu]\naddress = "0x6B"\n[display]\naddress = 61\n')
        hw = HardwareConfig.load(path)
    assert (hw.imu_address, hw.imu_i2c_address, hw.display_address) == ("0x6b", 0x6B, 61)


toml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
).filter(lambda v: v is not None)
known_keys = st.sampled_from(["i2c_bus", "address", "driver", "rotate", "sleep_after_s", "gpio",
                              "long_press_s", "port", "other"])
toml_docs = st.dictionaries(
    st.sampled_from(["imu", "display", "button", "sync", "x"]),
    st.dictionaries(known_keys, toml_values, max_size=4) | toml_values, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(toml_docs)
def test_any_parsed_hardware_config_is_accepted_or_refused_with_one_line(raw):
    try:
        hw = HardwareConfig._from_toml(raw)
    except ValueError as exc:
        assert "\n" not in str(exc) and len(str(exc)) <= 200
        return
    assert hw.imu_address == "auto" or 0x08 <= hw.imu_i2c_address <= 0x77
    assert 0.1 <= hw.sleep_after_s <= 3600 and 0.1 <= hw.long_press_s <= 3600


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_config_text_is_accepted_or_refused_with_one_line(text):
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "device.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            HardwareConfig.load(path)
        except ValueError as exc:
            assert str(exc).startswith(str(path))


# -- a data folder that cannot be made --------------------------------------------------------


def test_a_file_in_the_way_of_the_data_dir_is_one_line(tmp_path, capfd, trace):
    blocker = tmp_path / "blocker"
    blocker.write_text("my notes\n")
    for data in (blocker, blocker / "data"):
        assert main(["run", "--simulate", str(trace), "--data-dir", str(data),
                     "--display", "none"]) == 2
        line = one_line_error(capfd.readouterr().err)
        assert str(data) in line and "file" in line
        assert main(["demo", "--out", str(data)]) == 2
        assert "file" in one_line_error(capfd.readouterr().err)
    assert main(["selftest", "--data-dir", str(blocker)]) == 2
    assert "a file" in one_line_error(capfd.readouterr().err)
    assert blocker.read_text() == "my notes\n"


def test_a_data_dir_without_permission_is_one_line(trace):
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        locked = Path(d) / "locked"
        locked.mkdir(mode=0o555)
        work_trace = Path(d) / "walk.csv.gz"
        shutil.copy(trace, work_trace)
        os.chmod(work_trace, 0o644)
        for data in (locked / "data", locked):
            cmd = as_unprivileged([sys.executable, "-m", "device.cli", "run", "--simulate",
                                    str(work_trace), "--speed", "0", "--display", "none",
                                    "--data-dir", str(data)])
            if cmd is None:
                pytest.skip("running as root without setpriv: permissions cannot be tested")
            proc = subprocess.run(cmd, cwd=REPO, env={**ENV, "HOME": d}, capture_output=True,
                                  text=True, timeout=60)
            assert proc.returncode == 2, proc.stderr
            line = one_line_error(proc.stderr)
            assert "pedometer: error: storage: data dir" in line and "permission" in line.lower()


def test_progress_reads_skip_a_row_damaged_after_the_store_was_opened(tmp_path):
    with Store(tmp_path / STORE_FILENAME) as s:
        s.add_minutes([MinuteRow(start_utc=T0 + 60 * i, steps=100 + i, cadence_spm=100.0,
                                 moderate=True, chip_steps=None, clock_trusted=True,
                                 boot_id="b", mono_start=60.0 * i) for i in range(4)])
        with sqlite3.connect(tmp_path / STORE_FILENAME) as other:  # another program's edit
            other.execute("UPDATE minutes SET steps = 'many' WHERE seq = 2")
        other.close()
        _, steps, moderate = s.minute_arrays_between(T0, T0 + 3600)
        assert steps.tolist() == [100, 102, 103] and moderate.all()
        assert [r.seq for r in s.minutes_after(0)] == [1, 3, 4]
