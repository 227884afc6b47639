"""The live IMU source: an ST LSM6DSOX / LSM6DS3TR-C / ISM330DHCX on I2C, through adafruit_lsm6ds.

Reading: the chip FIFO, not per-sample polling. Polling data-ready at 104 Hz means a Python
transaction every 9.6 ms; on a Pi Zero any hiccup longer than that (SD-card write, GC, the display,
the sync agent) silently drops samples, and each sample's timestamp carries the scheduling jitter.
Instead the chip batches every accelerometer and gyroscope sample into its own FIFO (continuous
mode, both at 104 Hz: ~2.4 s of headroom on DSOX/ISM330DHCX, ~3.2 s on DS3TR-C; ~4.9 s and ~6.5 s
with ``gyro=False``) and :meth:`Lsm6dsSource.read` drains it about once a second in a few burst
transactions. DSOX/ISM330DHCX words are tagged (sensor and a 2-bit time-slot counter), so a gyro
word is paired with the accelerometer word of the same slot and a word whose partner was lost
(overrun) is dropped; the DS3TR-C FIFO is an untagged Gx Gy Gz Ax Ay Az pattern, realigned with
FIFO_PATTERN. Nothing is lost to Python latency, and when something
is lost anyway (the FIFO overran, an I2C error ate a burst, the chip was re-initialised) the
adapter knows and leaves a time gap rather than closing it up. The driver covers detection,
reset, ODR and full scale; the FIFO and the DSOX/ISM330DHCX pedometer are not in the driver, so
the adapter reaches them through the driver's own ``i2c_device`` (the registers are those of the
ST datasheets). The gyro (±1000 deg/s) tells the pipeline when the device is being handled
rather than walked with; ``gyro=False`` switches it off (half the FIFO traffic, ~0.5 mA less).

Pedometer: the driver's ``pedometer_enable``/``pedometer_steps`` only match the LSM6DS3TR-C
register map (on DSOX/ISM330DHCX they write reserved CTRL10_C bits and read OIS data at 0x4B),
so on those chips the step counter is enabled and read in the embedded-functions bank
(FUNC_CFG_ACCESS, EMB_FUNC_EN_A.PEDO_EN, STEP_COUNTER 0x62). The 16-bit count is unwrapped and
carried across re-initialisations, so ``chip_steps`` is cumulative for the life of the source.

Timestamps: from the sample index, not from Python's reading times, so they are as regular as the
chip's oscillator. Each drain notes the monotonic time just after the FIFO level was read; the
newest sample was taken within one period before that. :class:`SampleTimer` lays each batch out
at the estimated chip period after the previous sample and nudges the phase by a tenth of the
measured offset per batch, and estimates the period from the sample count over a growing
baseline (>= 5 s, clamped to ±5 % of nominal: the chip's oscillator is off by up to a few
percent, which at the nominal period alone would drift seconds per hour). Timestamps therefore
follow the monotonic clock without drift and without reading-time jitter. After a loss (FIFO
overrun, an I2C error mid-burst, re-initialisation) or an offset beyond 0.25 s, the timer
re-anchors: the next batch is back-dated from its reading time, so the lost samples appear as a
time gap of about their duration, never as invented samples.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from device.sources import ImuBatch

log = logging.getLogger(__name__)

GRAVITY = 9.80665
RATE_HZ = 104.0
ACCEL_RANGE_G = 4
ACCEL_SENSITIVITY_MG = 0.122  # ±4 g, datasheet
GYRO_RANGE_DPS = 1000
GYRO_SENSITIVITY_MDPS = 35.0  # ±1000 deg/s, datasheet
IMU_ADDRESSES = (0x6A, 0x6B)

# Registers (ST datasheets). Shared by the three chips unless marked.
_FUNC_CFG_ACCESS = 0x01
_WHO_AM_I = 0x0F
_CTRL1_XL = 0x10
_CTRL2_G = 0x11
_FIFO_STATUS1 = 0x3A
# LSM6DSOX / ISM330DHCX
_DSO_FIFO_CTRL3 = 0x09  # BDR_GY[7:4] BDR_XL[3:0]
_DSO_FIFO_CTRL4 = 0x0A  # FIFO_MODE[2:0]
_DSO_FIFO_DATA_OUT_TAG = 0x78
_DSO_EMB_FUNC_EN_A = 0x04
_DSO_STEP_COUNTER_L = 0x62
_DSO_EMB_FUNC_SRC = 0x64
_DSO_TAG_GYRO = 0x01
_DSO_TAG_ACCEL = 0x02
# LSM6DS3TR-C
_DS3_FIFO_CTRL3 = 0x08  # DEC_FIFO_GYRO[5:3] DEC_FIFO_XL[2:0]
_DS3_FIFO_CTRL5 = 0x0A  # ODR_FIFO[6:3] FIFO_MODE[2:0]
_DS3_FIFO_DATA_OUT_L = 0x3E
_DS3_STEP_COUNTER_L = 0x4B

_RATE_CODE_104HZ = 0x4
_FIFO_CONTINUOUS = 0x6
_CHUNK_SAMPLES = 32  # samples per burst transaction
_ACC_SCALE = ACCEL_SENSITIVITY_MG * GRAVITY / 1000  # m/s² per LSB
_GYRO_SCALE = GYRO_SENSITIVITY_MDPS / 1000  # deg/s per LSB
_WORD = np.dtype([("tag", "u1"), ("xyz", "<i2", (3,))])  # one tagged FIFO word


@dataclass(frozen=True)
class ChipKind:
    name: str
    who_am_i: int
    module: str
    cls: str
    tagged_fifo: bool  # DSOX-style FIFO and embedded-functions bank


CHIP_KINDS = {
    0x6C: ChipKind("LSM6DSOX", 0x6C, "adafruit_lsm6ds.lsm6dsox", "LSM6DSOX", True),
    0x6A: ChipKind("LSM6DS3TR-C", 0x6A, "adafruit_lsm6ds.lsm6ds3trc", "LSM6DS3TRC", False),
    0x6B: ChipKind("ISM330DHCX", 0x6B, "adafruit_lsm6ds.ism330dhcx", "ISM330DHCX", True),
}


class ImuUnavailable(RuntimeError):
    """The IMU cannot be used (no bus, no chip, unknown chip, or it stopped answering).

    The message is one plain sentence for the wearer's helper or the log; the runtime reports it
    as a sensor problem and keeps its other duties.
    """


class I2CBusUnavailable(ImuUnavailable):
    """The I2C bus itself cannot be opened (not a Pi, Blinka missing, I2C disabled)."""


@dataclass(frozen=True)
class ChipInfo:
    kind: ChipKind
    address: int

    @property
    def name(self) -> str:
        return self.kind.name


I2C_ENABLE_HINT = (
    "enable it with 'sudo raspi-config nonint do_i2c 0' (or dtparam=i2c_arm=on in "
    "/boot/firmware/config.txt) and reboot"
)


def open_i2c_bus(bus_number: int = 1) -> Any:
    """Blinka's busio.I2C on /dev/i2c-<bus_number>; :class:`I2CBusUnavailable` if impossible."""
    # Blinka may otherwise stop to offer installing packages interactively.
    os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
    device = f"/dev/i2c-{bus_number}"
    if not os.path.exists(device):
        raise I2CBusUnavailable(f"I2C bus {device} does not exist: {I2C_ENABLE_HINT}")
    try:
        import board
        import busio
    except Exception as exc:  # ImportError, or Blinka refusing an unknown platform
        raise I2CBusUnavailable(
            f"cannot use the I2C bus: Adafruit Blinka is not usable here ({exc}); "
            "install walkcoach[pi] on the Raspberry Pi"
        ) from exc
    try:
        if bus_number == 1:
            return busio.I2C(board.SCL, board.SDA)
        from adafruit_blinka.microcontroller.generic_linux.i2c import I2C as LinuxI2C

        bus = busio.I2C.__new__(busio.I2C)  # as adafruit_extended_bus does, for other buses
        bus._i2c = LinuxI2C(bus_number, mode=LinuxI2C.MASTER)
        bus._lock = threading.RLock()
        return bus
    except Exception as exc:
        raise I2CBusUnavailable(
            f"cannot open I2C bus {bus_number} ({exc}): {I2C_ENABLE_HINT}"
        ) from exc


def _device(bus: Any, address: int) -> Any:
    from adafruit_bus_device.i2c_device import I2CDevice

    return I2CDevice(bus, address, probe=False)


def read_who_am_i(bus: Any, address: int) -> int | None:
    """WHO_AM_I at ``address``, or None when nothing answers there."""
    buf = bytearray(1)
    try:
        with _device(bus, address) as dev:
            dev.write_then_readinto(bytes([_WHO_AM_I]), buf)
    except OSError:
        return None
    return buf[0]


def _fmt_addr(address: int) -> str:
    return f"0x{address:02X}"


def detect_chip(bus: Any, address: int | Literal["auto"] = "auto") -> ChipInfo:
    """Which LSM6DS chip answers (0x6A, then 0x6B when "auto"); :class:`ImuUnavailable` if none."""
    addresses = IMU_ADDRESSES if address == "auto" else (int(address),)
    found: list[tuple[int, int]] = []
    for addr in addresses:
        who = read_who_am_i(bus, addr)
        if who is None:
            continue
        if who in CHIP_KINDS:
            return ChipInfo(CHIP_KINDS[who], addr)
        found.append((addr, who))
    where = " or ".join(_fmt_addr(a) for a in addresses)
    if found:
        addr, who = found[0]
        known = ", ".join(f"{k.name} ({_fmt_addr(w)})" for w, k in CHIP_KINDS.items())
        raise ImuUnavailable(
            f"the device at {_fmt_addr(addr)} answers WHO_AM_I {_fmt_addr(who)}, "
            f"which is not a supported IMU: {known}"
        )
    raise ImuUnavailable(
        f"no IMU answers on the I2C bus at {where}: check its wiring (SDA, SCL, 3V3, GND)"
    )


class SampleTimer:
    """Timestamps for consecutive FIFO samples: steady at the chip's period, anchored to the
    monotonic clock, re-anchored after a loss. Pure arithmetic, no I/O."""

    def __init__(
        self,
        nominal_hz: float = RATE_HZ,
        tolerance: float = 0.05,
        phase_gain: float = 0.1,
        gap_s: float = 0.25,
        min_baseline_s: float = 5.0,
    ) -> None:
        self.nominal_period = 1.0 / nominal_hz
        self.period = self.nominal_period
        self.tolerance = tolerance
        self.phase_gain = phase_gain
        self.gap_s = gap_s
        self.min_baseline_s = min_baseline_s
        self.last_t: float | None = None
        self._anchored = False
        self._base_time = 0.0
        self._base_count = 0
        self._count = 0
        self.reanchors = 0

    def discontinuity(self) -> None:
        """Samples were lost: the next batch is back-dated from its reading time."""
        self._anchored = False

    def stamp(self, n: int, read_time: float, unread_after: int = 0) -> np.ndarray:
        """Times of ``n`` samples drained at ``read_time``, followed by ``unread_after`` samples
        that were in the FIFO at that time but not (yet) read."""
        if n <= 0:
            return np.empty(0)
        newest = read_time - self.period * (0.5 + unread_after)
        idx = np.arange(1, n + 1, dtype=float)
        if self._anchored and self.last_t is not None:
            error = newest - (self.last_t + n * self.period)
            if abs(error) <= self.gap_s:
                # Pull a share of the phase error in over these samples, but never so hard
                # that time stands still or runs back (a small batch after a large one).
                step = max(self.period + self.phase_gain * error / n, 0.5 * self.period)
                t = self.last_t + step * idx
                self._count += n
                self._update_period(newest)
                self.last_t = float(t[-1])
                return t
            log.info("IMU timestamps re-anchored (offset %.3f s)", error)
        t = newest - self.period * (n - idx)
        if self.last_t is not None and t[0] <= self.last_t:
            t += self.last_t + 0.5 * self.period - t[0]
        if self._anchored or self.last_t is not None:
            self.reanchors += 1
        self._anchored = True
        self._base_time, self._base_count, self._count = newest, n, n
        self.last_t = float(t[-1])
        return t

    def _update_period(self, newest: float) -> None:
        span = newest - self._base_time
        if span < self.min_baseline_s:
            return
        estimate = span / (self._count - self._base_count)
        low = self.nominal_period * (1 - self.tolerance)
        high = self.nominal_period * (1 + self.tolerance)
        self.period = min(max(estimate, low), high)


class Lsm6dsSource:
    """The LSM6DS chip as an :class:`~device.sources.ImuSource`: about one second per read().

    i2c_bus: a busio.I2C (see :func:`open_i2c_bus`) or anything with the same methods.
    address: "auto" (0x6A then 0x6B), 0x6A or 0x6B.
    clock/sleep: monotonic seconds and a sleep, injectable so tests run on emulated time.
    Raises :class:`ImuUnavailable` when there is no usable chip, at construction or in read().
    """

    def __init__(
        self,
        i2c_bus: Any,
        address: int | Literal["auto"] = "auto",
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        batch_s: float = 1.0,
        retries: int = 3,
        reinit_attempts: int = 2,
        owns_bus: bool = False,
        gyro: bool = True,
    ) -> None:
        self._bus = i2c_bus
        self.gyro = gyro
        self._carry = np.empty(0, dtype=_WORD)  # a tagged word whose partner is not read yet
        self._clock = clock
        self._sleep = sleep
        self.batch_s = batch_s
        self.retries = retries
        self.reinit_attempts = reinit_attempts
        self._owns_bus = owns_bus
        self.timer = SampleTimer(RATE_HZ)
        self.rate_hz = RATE_HZ
        self._closed = False
        self._steps_offset = 0
        self._last_raw_steps: int | None = None
        self._chip_steps: int | None = None
        self.reinitialisations = 0
        self.chip = detect_chip(i2c_bus, address)
        self._driver: Any = None
        try:
            self._initialise()
        except (OSError, ValueError, RuntimeError) as exc:
            raise ImuUnavailable(
                f"the {self.chip.name} at {_fmt_addr(self.chip.address)} could not be "
                f"configured: {exc}"
            ) from exc
        self._next_read = self._clock() + batch_s

    @classmethod
    def on_pi(cls, bus_number: int = 1, address: int | Literal["auto"] = "auto") -> Lsm6dsSource:
        """The real thing: open /dev/i2c-<bus_number> through Blinka and find the chip."""
        bus = open_i2c_bus(bus_number)
        try:
            return cls(bus, address, owns_bus=True)
        except Exception:
            bus.deinit()
            raise

    # ----- register access through the driver's own I2CDevice -----
    def _write(self, register: int, value: int) -> None:
        with self._driver.i2c_device as dev:
            dev.write(bytes([register, value]))

    def _read_into(self, register: int, buf: bytearray | memoryview) -> None:
        with self._driver.i2c_device as dev:
            dev.write_then_readinto(bytes([register]), buf)

    def _read(self, register: int, n: int) -> bytes:
        buf = bytearray(n)
        self._read_into(register, buf)
        return bytes(buf)

    # ----- set-up -----
    @property
    def _words_per_sample(self) -> int:
        """FIFO words per sample: tagged 7-byte words, or the DS3TR-C's 16-bit words."""
        if self.chip.kind.tagged_fifo:
            return 2 if self.gyro else 1
        return 6 if self.gyro else 3

    def _initialise(self) -> None:
        """Reset and configure: ±4 g and ±1000 deg/s at 104 Hz (or gyro off), both in the FIFO
        (continuous), pedometer on."""
        module = importlib.import_module(self.chip.kind.module)
        driver_cls = getattr(module, self.chip.kind.cls)
        if self._driver is not None:  # leave the embedded bank if an error left us there
            self._write(_FUNC_CFG_ACCESS, 0x00)
        self._driver = driver = driver_cls(self._bus, self.chip.address)  # resets the chip
        from adafruit_lsm6ds import AccelRange, GyroRange, Rate

        if driver.accelerometer_range != AccelRange.RANGE_4G:
            driver.accelerometer_range = AccelRange.RANGE_4G
        driver.accelerometer_data_rate = Rate.RATE_104_HZ
        if self.gyro:
            if driver.gyro_range != GyroRange.RANGE_1000_DPS:
                driver.gyro_range = GyroRange.RANGE_1000_DPS
            driver.gyro_data_rate = Rate.RATE_104_HZ
        else:
            driver.gyro_data_rate = Rate.RATE_SHUTDOWN
        self._carry = self._carry[:0]
        if self.chip.kind.tagged_fifo:
            self._write(_DSO_FIFO_CTRL4, 0x00)  # bypass: empties the FIFO
            # BDR_GY[7:4] and BDR_XL[3:0]: both at 104 Hz, or the accelerometer only
            gyro_code = _RATE_CODE_104HZ if self.gyro else 0
            self._write(_DSO_FIFO_CTRL3, gyro_code << 4 | _RATE_CODE_104HZ)
            self._write(_DSO_FIFO_CTRL4, _FIFO_CONTINUOUS)
            self._write(_FUNC_CFG_ACCESS, 0x80)
            try:
                en_a = self._read(_DSO_EMB_FUNC_EN_A, 1)[0]
                self._write(_DSO_EMB_FUNC_EN_A, en_a | 0x08)  # PEDO_EN
                self._write(_DSO_EMB_FUNC_SRC, 0x80)  # PEDO_RST_STEP, pulsed
                self._write(_DSO_EMB_FUNC_SRC, 0x00)
            finally:
                self._write(_FUNC_CFG_ACCESS, 0x00)
        else:
            self._write(_DS3_FIFO_CTRL5, 0x00)
            # DEC_FIFO_GYRO[5:3] and DEC_FIFO_XL[2:0]: 001 = in the FIFO, no decimation
            self._write(_DS3_FIFO_CTRL3, 0x09 if self.gyro else 0x01)
            self._write(_DS3_FIFO_CTRL5, (_RATE_CODE_104HZ << 3) | _FIFO_CONTINUOUS)
            driver.pedometer_enable = True  # CTRL10_C FUNC_EN + PEDO_EN + PEDO_RST_STEP
            driver._pedometer_reset = False  # a pulse, whichever way the chip latches it
        self._expected_ctrl1 = self._read(_CTRL1_XL, 1)[0]
        if self._last_raw_steps is not None:
            self._steps_offset += self._last_raw_steps
        self._last_raw_steps = 0
        self._lost()
        log.info("IMU %s at %s configured", self.chip.name, _fmt_addr(self.chip.address))

    def _reinitialise(self, reason: str) -> None:
        last: Exception | None = None
        for attempt in range(1, self.reinit_attempts + 1):
            try:
                self._initialise()
                self.reinitialisations += 1
                log.warning("IMU re-initialised after: %s", reason)
                return
            except (OSError, ValueError, RuntimeError) as exc:
                last = exc
                log.warning("IMU re-initialisation %d failed: %s", attempt, exc)
                self._sleep(0.05)
        log.error("IMU gone: %s; last error: %s", reason, last)
        raise ImuUnavailable(
            f"the {self.chip.name} at {_fmt_addr(self.chip.address)} stopped answering on the "
            f"I2C bus ({last}): check its wiring and power"
        )

    # ----- reading -----
    def _fifo_level(self) -> tuple[int, bool, int]:
        """(words waiting, overrun happened, words to skip to reach a sample boundary).

        Words: tagged 7-byte words on DSOX/ISM330DHCX, 16-bit words on the DS3TR-C, whose
        FIFO_PATTERN says which word of the Gx Gy Gz Ax Ay Az (or Ax Ay Az) pattern comes next.
        """
        if self.chip.kind.tagged_fifo:
            s1, s2 = self._read(_FIFO_STATUS1, 2)
            return s1 | (s2 & 0x03) << 8, bool(s2 & 0x48), 0
        s1, s2, p3, p4 = self._read(_FIFO_STATUS1, 4)
        words = s1 | (s2 & 0x07) << 8
        pattern = p3 | (p4 & 0x03) << 8
        per = self._words_per_sample
        return words, bool(s2 & 0x40), min(words, (per - pattern) % per)

    def _drain(
        self, acc_parts: list[np.ndarray], gyro_parts: list[np.ndarray], t_parts: list[np.ndarray]
    ) -> None:
        """Read the FIFO level, then every complete sample in it, in bursts.

        Samples read before an error are kept and stamped; the error marks a discontinuity.
        """
        if self._read(_CTRL1_XL, 1)[0] != self._expected_ctrl1:
            self._reinitialise("the IMU lost its configuration (did it reset?)")
            return
        words, overrun, skip = self._fifo_level()
        read_time = self._clock()
        if overrun:
            log.warning("IMU FIFO overran: samples lost, leaving a time gap")
            self._lost()
        if skip:
            self._read(_DS3_FIFO_DATA_OUT_L, 2 * skip)
            self._lost()
            words -= skip
        tagged = self.chip.kind.tagged_fifo
        per = self._words_per_sample
        if not tagged:
            words -= words % per  # whole samples only; the rest waits for the next drain
        try:
            while words > 0:
                k = min(_CHUNK_SAMPLES * per, words)
                if tagged:
                    acc, gyro = self._decode_tagged(self._read(_DSO_FIFO_DATA_OUT_TAG, 7 * k))
                else:
                    raw = np.frombuffer(self._read(_DS3_FIFO_DATA_OUT_L, 2 * k), dtype="<i2")
                    xyz = raw.reshape(-1, per)
                    acc, gyro = xyz[:, per - 3 :], (xyz[:, :3] if self.gyro else None)
                words -= k
                acc_parts.append(acc.astype(np.float64) * _ACC_SCALE)
                if gyro is not None:
                    gyro_parts.append(gyro.astype(np.float64) * _GYRO_SCALE)
                t_parts.append(self.timer.stamp(len(acc), read_time, unread_after=words // per))
        except OSError:
            self._lost()
            raise

    def _lost(self) -> None:
        """Samples were lost: a time gap follows, and a half-read sample is dropped."""
        self.timer.discontinuity()
        self._carry = self._carry[:0]

    def _decode_tagged(self, raw: bytes) -> tuple[np.ndarray, np.ndarray | None]:
        """Accelerometer (and gyro) xyz of the complete samples in a burst of tagged words.

        A gyro and an accelerometer word of the same time slot (TAG_CNT) make one sample; a
        word whose partner was lost is dropped, and a trailing half sample waits for the next
        burst.
        """
        rec = np.frombuffer(raw, dtype=_WORD)
        sensor = rec["tag"] >> 3
        if not self.gyro:
            return rec["xyz"][sensor == _DSO_TAG_ACCEL], None
        rec = np.concatenate((self._carry, rec[(sensor == _DSO_TAG_ACCEL)
                                               | (sensor == _DSO_TAG_GYRO)]))
        sensor = rec["tag"] >> 3
        slot = (rec["tag"] >> 1) & 3
        n = len(rec) - len(rec) % 2
        if (np.all(sensor[:n:2] != sensor[1:n:2]) and np.array_equal(slot[:n:2], slot[1:n:2])):
            pairs = np.arange(0, n, 2)  # the usual case: every slot's two words side by side
            self._carry = rec[n:].copy()
        else:
            pairs = self._pair_slowly(sensor, slot)
            rest = int(pairs[-1]) + 2 if len(pairs) else 0
            self._carry = rec[-1:].copy() if rest < len(rec) else rec[:0].copy()
            if len(rec) - rest > 1:
                log.info("IMU FIFO: %d unpaired words dropped", len(rec) - rest - 1)
        first, second = rec[pairs], rec[pairs + 1]
        first_is_acc = (first["tag"] >> 3) == _DSO_TAG_ACCEL
        acc = np.where(first_is_acc[:, None], first["xyz"], second["xyz"])
        gyro = np.where(first_is_acc[:, None], second["xyz"], first["xyz"])
        return acc, gyro

    @staticmethod
    def _pair_slowly(sensor: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Indices i where words i and i+1 are one slot's gyro and accelerometer words."""
        pairs = []
        i = 0
        while i + 1 < len(sensor):
            if sensor[i] != sensor[i + 1] and slot[i] == slot[i + 1]:
                pairs.append(i)
                i += 2
            else:
                i += 1
        return np.asarray(pairs, dtype=np.int64)

    def _read_steps(self) -> int | None:
        try:
            if self.chip.kind.tagged_fifo:
                self._write(_FUNC_CFG_ACCESS, 0x80)
                try:
                    lo, hi = self._read(_DSO_STEP_COUNTER_L, 2)
                finally:
                    self._write(_FUNC_CFG_ACCESS, 0x00)
            else:
                lo, hi = self._read(_DS3_STEP_COUNTER_L, 2)
        except OSError as exc:
            log.warning("IMU step counter not read this time: %s", exc)
            return self._chip_steps
        raw = lo | hi << 8
        if self._last_raw_steps is not None and raw < self._last_raw_steps:
            self._steps_offset += 0x10000  # the 16-bit counter wrapped
        self._last_raw_steps = raw
        self._chip_steps = self._steps_offset + raw
        return self._chip_steps

    def read(self) -> ImuBatch | None:
        """About ``batch_s`` of new samples (may be empty right after a recovery)."""
        if self._closed:
            return None
        now = self._clock()
        if now < self._next_read:
            self._sleep(self._next_read - now)
        self._next_read = max(self._next_read + self.batch_s, self._clock())
        acc_parts: list[np.ndarray] = []
        gyro_parts: list[np.ndarray] = []
        t_parts: list[np.ndarray] = []
        failures = 0
        recoveries = 0
        while True:
            try:
                self._drain(acc_parts, gyro_parts, t_parts)
                break
            except OSError as exc:
                failures += 1
                log.warning("IMU I2C error (%d/%d): %s", failures, self.retries, exc)
                if failures <= self.retries:
                    self._sleep(0.01 * failures)
                    continue
                recoveries += 1
                if recoveries > self.reinit_attempts:
                    raise ImuUnavailable(
                        f"the {self.chip.name} at {_fmt_addr(self.chip.address)} keeps failing "
                        f"on the I2C bus after re-initialisation ({exc})"
                    ) from exc
                self._reinitialise(f"{failures} I2C errors in a row ({exc})")
                failures = 0
                self._sleep(self.batch_s)  # let the fresh FIFO fill
        chip_steps = self._read_steps()
        if acc_parts:
            acc = np.concatenate(acc_parts)
            t = np.concatenate(t_parts)
        else:
            acc, t = np.empty((0, 3)), np.empty(0)
        gyro = None
        if self.gyro:
            gyro = np.concatenate(gyro_parts) if gyro_parts else np.empty((0, 3))
        return ImuBatch(t=t, acc=acc, gyro=gyro, chip_steps=chip_steps)

    def close(self) -> None:
        """Power the accelerometer and gyro down and release the bus if we opened it."""
        if self._closed:
            return
        self._closed = True
        try:
            self._write(_CTRL1_XL, 0x00)
            self._write(_CTRL2_G, 0x00)
        except OSError as exc:
            log.info("IMU power-down skipped: %s", exc)
        if self._owns_bus:
            self._bus.deinit()
