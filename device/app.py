"""`pedometer run`: assemble the device from its parts and drive the firmware loop.

On the Pi the parts are the LSM6DS chip, the OLED, the button and the USB gadget serial port;
with ``--simulate TRACE`` they are a recorded trace, an emulated display (terminal or GIF) and any
serial path, so the whole product runs on one computer. Either way the loop is
:func:`device.runtime.run_loop` over a :class:`device.runtime.DeviceRuntime`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import os
import re
import signal
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from device.clock import DeviceClock
from device.runtime import DeviceRuntime, SimulatedClock, run_loop
from device.sources import ImuBatch, ImuSource, TraceSource
from device.store import Store, StoreError

log = logging.getLogger(__name__)

DEFAULT_PI_DATA_DIR = Path("/var/lib/walkcoach")


def default_data_dir() -> Path:
    """Where a simulated device keeps its store when --data-dir is not given."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "walkcoach-sim"


DISPLAY_DRIVERS = ("ssd1306", "sh1106")
_SECTIONS = {
    "imu": ("i2c_bus", "address"),
    "display": ("driver", "address", "rotate", "sleep_after_s"),
    "button": ("gpio", "long_press_s"),
    "sync": ("port",),
    "reminder": ("gpio", "kind", "at", "quiet_hours"),
}
REMINDER_KINDS = ("motor", "led")


@dataclass
class HardwareConfig:
    """The Pi's /etc/walkcoach/device.toml (see hardware/device.toml).

    Every value is checked when the file is read, so a typo gives one line naming the key in
    `run`, `selftest` and `record` alike, never a traceback later in the driver code.
    """

    i2c_bus: int = 1
    imu_address: str = "auto"   # "auto" or a 7-bit I2C address written as hex, e.g. "0x6a"
    display_driver: str = "ssd1306"
    display_address: int = 0x3C
    display_rotate: int = 0
    sleep_after_s: float = 20.0
    button_gpio: int = 17
    long_press_s: float = 2.0
    sync_port: str = "/dev/ttyGS0"
    # The optional reminder (device/reminder.py): a vibration motor or LED on a BCM GPIO, at a
    # time of day ('HH:MM'; the caregiver's `hostsync config set --reminder` wins), never in
    # the quiet hours. No gpio: no reminder.
    reminder_gpio: int | None = None
    reminder_kind: str = "motor"
    reminder_at: str = ""
    reminder_quiet_hours: str = "21:00-08:00"

    @property
    def imu_i2c_address(self) -> int | str:
        """The IMU's address for the driver: "auto" (probe 0x6a and 0x6b) or a number."""
        return self.imu_address if self.imu_address == "auto" else int(self.imu_address, 16)

    @classmethod
    def load(cls, path: Path | None) -> HardwareConfig:
        """Read and check the TOML file (defaults when path is None); ValueError is one line."""
        if path is None:
            return cls()
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"{path}: no such config file") from None
        except RecursionError:
            raise ValueError(f"{path}: not a valid TOML config (nested too deeply)") from None
        except (OSError, UnicodeError, tomllib.TOMLDecodeError) as exc:
            text = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ValueError(f"{path}: not a valid TOML config ({text})") from None
        try:
            return cls._from_toml(raw)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    @classmethod
    def _from_toml(cls, raw: dict[str, Any]) -> HardwareConfig:
        for section, value in raw.items():
            if section not in _SECTIONS:
                raise ValueError(f"unknown section {f'[{section}]'!r}"[:120])
            if not isinstance(value, dict):
                raise ValueError(f"[{section}] must be a table of settings")
            for key in value:
                if key not in _SECTIONS[section]:
                    raise ValueError(f"unknown setting {f'{section}.{key}'!r}"[:120])
        imu, disp = raw.get("imu", {}), raw.get("display", {})
        button, sync = raw.get("button", {}), raw.get("sync", {})
        reminder = raw.get("reminder", {})
        if "gpio" in reminder and reminder["gpio"] == button.get("gpio", 17):
            raise ValueError("reminder.gpio must not be the button's GPIO")
        return cls(
            i2c_bus=_whole(imu.get("i2c_bus", 1), "imu.i2c_bus", 0, 255),
            imu_address=_imu_address(imu.get("address", "auto")),
            display_driver=_choice(disp.get("driver", "ssd1306"), "display.driver",
                                   DISPLAY_DRIVERS),
            display_address=_i2c_address(disp.get("address", "0x3c"), "display.address"),
            display_rotate=_whole(disp.get("rotate", 0), "display.rotate", 0, 3),
            sleep_after_s=_seconds(disp.get("sleep_after_s", 20.0), "display.sleep_after_s"),
            button_gpio=_whole(button.get("gpio", 17), "button.gpio", 0, 53),
            long_press_s=_seconds(button.get("long_press_s", 2.0), "button.long_press_s"),
            sync_port=_text(sync.get("port", "/dev/ttyGS0"), "sync.port"),
            reminder_gpio=(None if "gpio" not in reminder
                           else _whole(reminder["gpio"], "reminder.gpio", 0, 53)),
            reminder_kind=_choice(reminder.get("kind", "motor"), "reminder.kind",
                                  REMINDER_KINDS),
            reminder_at=_reminder_text(reminder.get("at", ""), "reminder.at", False),
            reminder_quiet_hours=_reminder_text(reminder.get("quiet_hours", "21:00-08:00"),
                                                "reminder.quiet_hours", True),
        )


def _reminder_text(value: Any, key: str, quiet: bool) -> str:
    from device.reminder import parse_quiet_hours, parse_time_of_day

    if not quiet and value == "":
        return ""
    try:
        (parse_quiet_hours if quiet else parse_time_of_day)(value)
    except ValueError:
        form = "HH:MM-HH:MM" if quiet else "HH:MM (24 h), or \"\" for none"
        raise ValueError(f"{key} must be written {form}") from None
    return value


def _whole(value: Any, key: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise ValueError(f"{key} must be a whole number from {lo} to {hi}")
    return value


def _seconds(value: Any, key: str) -> float:
    if (not isinstance(value, int | float) or isinstance(value, bool)
            or not 0.1 <= value <= 3600):  # NaN fails too
        raise ValueError(f"{key} must be a number of seconds from 0.1 to 3600")
    return float(value)


def _text(value: Any, key: str) -> str:
    if not isinstance(value, str) or not value or len(value) > 255 or not value.isprintable():
        raise ValueError(f"{key} must be a non-empty text such as \"/dev/ttyGS0\"")
    return value


def _choice(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{key} must be one of: {', '.join(choices)}")
    return str(value)


def _i2c_address(value: Any, key: str) -> int:
    """A 7-bit I2C address, as a TOML number (106) or hex text ("0x6a")."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"0[xX][0-9a-fA-F]{1,2}", value.strip()):
        number = int(value.strip(), 16)
    if number is None or not 0x08 <= number <= 0x77:
        raise ValueError(f"{key} must be an I2C address from 0x08 to 0x77, e.g. \"0x6a\"")
    return number


def _imu_address(value: Any) -> str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return f"0x{_i2c_address(value, 'imu.address'):02x}"
    except ValueError:
        raise ValueError('imu.address must be "auto" or an I2C address such as "0x6a"') from None


def prepare_data_dir(path: Path) -> None:
    """Create the data directory; StoreError (one line) when it cannot be (no permission, a
    file in the way, a read-only disk)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise StoreError(f"data dir {path}: a file is in the way (not a folder)") from None
    except NotADirectoryError:
        raise StoreError(f"data dir {path}: part of the path is a file, not a folder") from None
    except OSError as exc:
        raise StoreError(f"data dir {path}: cannot be created: {exc.strerror or exc}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise StoreError(f"data dir {path}: no permission to write there")


def _report_damaged_minutes(store: Store) -> None:
    """One line (log and event) when minute rows hold unreadable values; they are skipped."""
    count, seqs = store.damaged_minute_seqs()
    if count:
        shown = ", ".join(map(str, seqs)) + (", ..." if count > len(seqs) else "")
        text = (f"{count} stored minute row(s) hold unreadable values (seq {shown}); "
                "they are skipped and left in the file as they are")
        log.warning("storage: %s", text)
        store.log_event("storage", text)


class PairingDisplay:
    """Thread-safe holder of the pairing code the sync agent wants on screen."""

    def __init__(self) -> None:
        self._code: str | None = None
        self._lock = threading.Lock()

    def show(self, code: str | None) -> None:
        with self._lock:
            self._code = code

    def code(self) -> str | None:
        with self._lock:
            return self._code


def make_device_id(store: Store, board_serial: str | None = None) -> str:
    """This device's id (the USB serial number), kept in the store and bound to this board:
    a card moved or cloned to another Pi becomes a new device that must be paired again
    (device/sync/identity.py). ``board_serial`` defaults to this Pi's serial."""
    from device.sync.identity import bind_to_board

    return bind_to_board(store, board_serial if board_serial is not None else _pi_serial())


def _pi_serial() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="ascii", errors="ignore").splitlines():
            if line.lower().startswith("serial"):
                value = line.split(":", 1)[1].strip()
                return value if value.strip("0") else None
    except OSError:
        return None
    return None


@dataclass
class RunOptions:
    data_dir: Path
    simulate: Path | None = None
    speed: float = 1.0
    display: str = "none"              # none | terminal | gif | ssd1306 | sh1106
    gif_path: Path | None = None
    serial_port: str | None = None
    start_utc: float | None = None
    hardware: HardwareConfig = field(default_factory=HardwareConfig)
    summary: Callable[[str], None] = print
    max_seconds: float | None = None   # stop after this much source time (simulations, tests)
    samples: tuple[Any, Any] | None = None   # (t, acc) to simulate instead of a trace file
    source: ImuSource | None = None          # any simulated source (benchmarks stream a day)
    linger: threading.Event | None = None    # keep serving sync after the source ends, until set
    source_ended: threading.Event | None = None  # set when the source has run out (demo, tests)
    on_pairing_code: Callable[[str | None], None] | None = None  # what the screen shows, for demo
    battery: Any = None  # a BatterySource for simulations (the Pi reads its MAX17048 gauge)
    on_display: Callable[[Any], None] | None = None  # gets the DisplayController (demo presses)


def run_device(opts: RunOptions) -> int:
    """Build the device and run until the source ends (simulation) or SIGTERM/SIGINT."""
    prepare_data_dir(opts.data_dir)
    store = Store.in_dir(opts.data_dir)
    _report_damaged_minutes(store)
    sim_clock: SimulatedClock | None = None
    source: ImuSource
    source_errors: tuple[type[BaseException], ...] = ()
    if opts.source is not None:
        sim_clock = SimulatedClock(opts.start_utc if opts.start_utc is not None else time.time())
        clock = DeviceClock(store, monotonic=sim_clock.monotonic, wall=sim_clock.wall)
        source = opts.source
    elif opts.simulate is not None or opts.samples is not None:
        gyro = None
        if opts.samples is not None:
            t, acc = opts.samples
        else:
            from device.trace import read_trace

            trace = read_trace(opts.simulate)
            t, acc, gyro = trace.t, trace.acc, trace.gyro
        duration = float(t[-1] - t[0]) if len(t) else 0.0
        start = opts.start_utc if opts.start_utc is not None else time.time() - duration
        sim_clock = SimulatedClock(start)
        clock = DeviceClock(store, monotonic=sim_clock.monotonic, wall=sim_clock.wall)
        source = TraceSource(t, acc, gyro=gyro)
    else:
        clock = DeviceClock(store)
        source, source_errors = _open_imu(opts.hardware)
    from device.sync.agent import META_SECRET

    pairing = PairingDisplay()
    device_id = make_device_id(store)
    display = _make_display(opts, clock)
    agent = None

    def status_extra() -> dict:
        return {
            "paired": store.get_meta(META_SECRET) is not None,
            "pairing_code": pairing.code(),
            "last_sync": _last_sync(store),
        }

    battery = opts.battery if sim_clock is not None else _open_battery(opts.hardware)
    temperature = None
    if sim_clock is None:  # the IMU's own thermometer, the wear detector's second cue
        from device.temperature import ChipTemperature

        temperature = ChipTemperature(source, clock.monotonic).read
    reminder = _make_reminder(opts.hardware) if sim_clock is None else None
    runtime = DeviceRuntime(store, clock, display=display, status_extra=status_extra,
                            battery=battery, temperature=temperature, reminder=reminder)
    if opts.on_display is not None and display is not None:
        opts.on_display(display)
    if opts.serial_port:
        from device.sync.agent import SyncAgent  # pyserial: only when a port is asked for

        def pairing_code(code: str | None) -> None:
            pairing.show(code)  # the display controller switches to the Pairing screen itself
            runtime.refresh(force=True)
            runtime.tick()
            if opts.on_pairing_code is not None:
                opts.on_pairing_code(code)

        agent = SyncAgent(opts.serial_port, opts.data_dir, clock, device_id,
                          show_pairing_code=pairing_code,
                          on_config_changed=lambda _cfg: runtime.refresh(force=True),
                          health=runtime.health)
        agent.start()
    button = _connect_button(opts, display) if sim_clock is None else None

    stop = threading.Event()
    _install_signal_handlers(stop)
    pace = _pacer(opts.speed) if sim_clock is not None else None

    def on_batch(batch: ImuBatch) -> None:
        if sim_clock is not None:
            sim_clock.now = float(batch.t[-1])
            if opts.max_seconds is not None and sim_clock.now >= opts.max_seconds:
                stop.set()

    try:
        run_loop(runtime, source, should_stop=stop.is_set, on_batch=on_batch, pace=pace,
                 source_error=source_errors)
        if opts.source_ended is not None:
            opts.source_ended.set()
        while opts.linger is not None and not opts.linger.is_set() and not stop.is_set():
            opts.linger.wait(0.1)  # the trace has ended; sync and screens go on
            runtime.refresh()
            runtime.tick()
    finally:
        source.close()
        if agent is not None:
            agent.stop()
        if button is not None:
            button.close()
        if reminder is not None:
            reminder.close()
        if display is not None:
            _close_display(display)
    opts.summary(_summary_text(runtime, store, opts))
    clock.close()
    store.close()
    return BATTERY_EMPTY_EXIT if runtime.shutdown_reason else 0


BATTERY_EMPTY_EXIT = 75  # pedometer.service powers the Pi off on this status


def _make_reminder(hw: HardwareConfig, pin_factory: Any = None) -> Any:
    """The reminder on its GPIO (None when none is configured or the GPIO cannot be used)."""
    if hw.reminder_gpio is None:
        return None
    from device.reminder import Reminder, plan_from_config

    plan = plan_from_config(SimpleNamespace(reminder_time=hw.reminder_at,
                                            quiet_hours=hw.reminder_quiet_hours))
    try:
        return Reminder.on_gpio(hw.reminder_gpio, hw.reminder_kind,  # type: ignore[arg-type]
                                plan, pin_factory=pin_factory)
    except Exception as exc:  # gpiozero: no pin factory here, pin in use...
        log.error("reminder on GPIO%d: %s", hw.reminder_gpio, exc)
        return None


def _open_battery(hw: HardwareConfig) -> Any:
    """The MAX17048 fuel gauge on the IMU's I2C bus, or None when the bus cannot be opened."""
    from device.battery import BatteryUnavailable, FuelGauge

    try:
        return FuelGauge.on_pi(hw.i2c_bus)
    except BatteryUnavailable as exc:
        log.error("battery gauge: %s", exc)
        return None


def _close_display(display) -> None:
    """Blank the OLED / write the GIF (luma devices finish their output in cleanup())."""
    writer = getattr(display.device, "write_animation", None)  # luma.emulator gifanim
    if writer is not None:
        try:
            writer()
        except OSError as exc:
            log.error("cannot write the screens GIF: %s", exc)
        return
    with contextlib.suppress(Exception):
        display.device.cleanup()


def _last_sync(store: Store) -> dt.datetime | None:
    raw = store.get_meta("last_sync_utc")
    try:
        return dt.datetime.fromtimestamp(float(raw), dt.UTC) if raw else None
    except (TypeError, ValueError, OverflowError):
        return None


def _summary_text(runtime: DeviceRuntime, store: Store, opts: RunOptions) -> str:
    p = runtime.progress
    lines = [f"device data: {opts.data_dir}",
             f"  steps counted       {runtime.steps_total}",
             f"  minutes stored      {runtime.minutes_written} (last seq {store.last_seq()})"]
    if runtime.pending_rows:
        lines.append(f"  minutes NOT stored  {runtime.pending_rows} (storage full)")
    if p is not None:
        lines += [
            f"  this week           {p.moderate_minutes} of {p.goal_minutes} moderate minutes"
            f" (week of {p.week_start:%a %d %b})",
            f"  today               {p.today_steps} steps, {p.today_moderate_minutes} moderate min",
        ]
    return "\n".join(lines)


def _pacer(speed: float) -> Callable[[ImuBatch], None] | None:
    """Sleep so that the trace plays at `speed` times real time (0: as fast as possible)."""
    if speed <= 0:
        return None
    start_wall = time.monotonic()
    first: list[float] = []

    def pace(batch: ImuBatch) -> None:
        if not first:
            first.append(float(batch.t[0]))
        due = start_wall + (float(batch.t[-1]) - first[0]) / speed
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    return pace


def _install_signal_handlers(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, _frame: object) -> None:
        log.info("signal %d: flushing the current minute and stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _make_display(opts: RunOptions, clock: DeviceClock):
    if opts.display == "none":
        return None
    from device.display.controller import DisplayController
    from device.display.devices import DisplayUnavailable, make_display

    kwargs: dict[str, Any] = {}
    if opts.display == "gif":
        kwargs["path"] = opts.gif_path or (opts.data_dir / "screens.gif")
    elif opts.display in ("ssd1306", "sh1106"):
        kwargs.update(port=opts.hardware.i2c_bus, address=opts.hardware.display_address,
                      rotate=opts.hardware.display_rotate)
    try:
        device = make_display(opts.display, **kwargs)
    except DisplayUnavailable as exc:
        log.error("display: %s", exc)
        return None
    from device.core.progress import wearer_zone

    zone_cache: dict[str, Any] = {"checked": -math.inf, "zone": dt.UTC}

    def local_now() -> dt.datetime:
        """Wall time in the wearer's zone; the zone is re-read from the store once a minute."""
        now = clock.utc_now()
        if abs(now - zone_cache["checked"]) > 60:
            zone_cache["zone"] = wearer_zone(clock.store.get_config())
            zone_cache["checked"] = now
        return dt.datetime.fromtimestamp(now, dt.UTC).astimezone(zone_cache["zone"])

    simulating = opts.simulate is not None or opts.samples is not None or opts.source is not None
    timeout = None if simulating else opts.hardware.sleep_after_s  # a simulation stays awake
    return DisplayController(device, idle_timeout_s=timeout, wall_clock=local_now)


def _connect_button(opts: RunOptions, display):
    if display is None:
        return None
    from device.display.button import ButtonUnavailable, PressButton

    try:
        return PressButton(opts.hardware.button_gpio, on_short=display.short_press,
                           on_long=display.long_press, hold_time=opts.hardware.long_press_s)
    except ButtonUnavailable as exc:
        log.error("button: %s", exc)
        return None


class ReconnectingImu:
    """An IMU source that survives a missing or vanished chip.

    While the chip cannot be reached, read() raises the factory's error (the loop shows it as a
    sensor problem and keeps the screens and sync going); the next read() tries again.
    """

    def __init__(self, open_source: Callable[[], ImuSource],
                 errors: tuple[type[BaseException], ...]) -> None:
        self._open = open_source
        self._errors = errors
        self._source: ImuSource | None = None

    def read(self) -> ImuBatch | None:
        if self._source is None:
            self._source = self._open()
        try:
            return self._source.read()
        except self._errors:
            self.close()
            raise

    def close(self) -> None:
        if self._source is not None:
            with contextlib.suppress(Exception):
                self._source.close()
            self._source = None


def _open_imu(hw: HardwareConfig) -> tuple[ImuSource, tuple[type[BaseException], ...]]:
    from device.lsm6ds import ImuUnavailable, Lsm6dsSource

    address = hw.imu_i2c_address
    errors = (ImuUnavailable,)
    return ReconnectingImu(lambda: Lsm6dsSource.on_pi(hw.i2c_bus, address), errors), errors


__all__ = ["HardwareConfig", "RunOptions", "default_data_dir", "run_device"]
