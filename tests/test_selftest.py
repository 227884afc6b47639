"""`pedometer selftest` on a machine without the hardware: plain words, no traceback."""

from __future__ import annotations

from pathlib import Path

from device.cli import main


def test_selftest_without_hardware_names_every_missing_part(tmp_path: Path, capfd) -> None:
    config = tmp_path / "device.toml"
    config.write_text('[sync]\nport = "/dev/nonexistent-ttyGS0"\n[button]\ngpio = 17\n')
    assert main(["selftest", "--config", str(config), "--data-dir", str(tmp_path)]) == 1
    out, err = capfd.readouterr()
    lines = out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["PROBLEM", "PROBLEM", "PROBLEM",
                                                         "PROBLEM", "PROBLEM", "OK"]
    assert "I2C" in lines[0] and "raspi-config" in lines[0]
    assert "battery gauge" in lines[3] and "I2C" in lines[3]
    assert "/dev/nonexistent-ttyGS0 does not exist" in out
    assert "storage" in lines[5] and "no data yet" in lines[5]
    assert lines[-1] == "5 problem(s) found"
    assert "Traceback" not in out + err


def test_selftest_bad_config_is_a_usage_error(tmp_path: Path, capfd) -> None:
    config = tmp_path / "device.toml"
    config.write_text("[display\ndriver = 'x'")
    assert main(["selftest", "--config", str(config)]) == 2
    assert "not a valid TOML config" in capfd.readouterr().err
