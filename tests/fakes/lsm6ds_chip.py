"""An emulated ST LSM6DS-family IMU behind a fake I2C bus, for running the real driver in tests.

The real ``adafruit_lsm6ds`` driver (and our adapter, through the driver's own ``i2c_device``) talk
to :class:`FakeI2CBus` exactly as they talk to Blinka's ``busio.I2C``: ``try_lock``/``unlock``,
``writeto``, ``readfrom_into``, ``writeto_then_readfrom`` (plus ``scan``/``deinit``). Behind it,
:class:`EmulatedLsm6ds` is a register map that follows the ST datasheets for the registers the
driver and the adapter touch, fed by a :class:`ChipTrace` (the physics) and a :class:`FakeClock`
(emulated time, so tests never sleep).

What is emulated, per the LSM6DSOX / ISM330DHCX / LSM6DS3TR-C datasheets:

* WHO_AM_I (0x6C / 0x6B / 0x6A); power-on defaults (CTRL3_C = 0x04: IF_INC, CTRL9_XL = 0xE0);
  CTRL3_C SW_RESET (user registers back to defaults; completes at once, bit reads back 0);
  IF_INC auto-increment (off: the address does not advance); BDU (output registers are frozen
  between the read of an axis' low byte and its high byte).
* CTRL1_XL / CTRL2_G: ODR (12.5 Hz .. 6.66 kHz, 1.6 Hz) and full scale. Accelerometer
  ±2/4/8/16 g at 0.061/0.122/0.244/0.488 mg/LSB; gyro ±125..2000 dps (4000 on ISM330DHCX) at
  4.375..70 (140) mdps/LSB. Samples are produced on the chip's own clock, ``odr_error`` off the
  nominal ODR (real oscillators are off by a fraction of a percent to a few percent), from the
  trace at the sample instant (linear interpolation), quantised and clipped at full scale.
* STATUS_REG XLDA/GDA/TDA (XLDA/GDA cleared by reading the output high bytes).
* FIFO, accelerometer (and gyro) batching in continuous (overwrite oldest) or FIFO (stop when
  full) mode. DSOX/ISM330DHCX: tagged 7-byte words at FIFO_DATA_OUT_TAG 0x78..0x7E (address rolls
  back from 0x7E to 0x78), BDR_XL/BDR_GY in FIFO_CTRL3, FIFO_CTRL4 mode, FIFO_STATUS1/2
  (DIFF_FIFO, WTM, OVR, FULL, OVR_LATCHED cleared on read), 512 words. LSM6DS3TR-C: untagged
  16-bit words Gx,Gy,Gz,Ax,Ay,Az at FIFO_DATA_OUT_L/H 0x3E/0x3F (rolls back to 0x3E), FIFO_CTRL3
  decimation (in FIFO or not), FIFO_CTRL5 ODR_FIFO and mode, FIFO_STATUS1..4 (DIFF_FIFO, WaterM,
  OVER_RUN, FULL, EMPTY, FIFO_PATTERN), 2046 words.
* The hardware pedometer. LSM6DS3TR-C: CTRL10_C FUNC_EN (bit 2) + PEDO_EN (bit 4), PEDO_RST_STEP
  (bit 1, a 0->1 write clears the count), STEP_COUNTER_L/H at 0x4B/0x4C in the user bank.
  DSOX/ISM330DHCX: FUNC_CFG_ACCESS (0x01 bit 7) switches to the embedded-functions bank, where
  EMB_FUNC_EN_A bit 3 is PEDO_EN, STEP_COUNTER_L/H are 0x62/0x63 and EMB_FUNC_SRC bit 7 is
  PEDO_RST_STEP. The chip counts the trace's ``step_times`` (what the chip's own algorithm would
  have counted) while enabled and the accelerometer runs at >= 26 Hz; the count is 16-bit.
* Faults: :meth:`FakeI2CBus.fail_next` / :meth:`FakeI2CBus.fail_when` raise ``OSError`` (EIO,
  EREMOTEIO...) on chosen transactions, either before the chip sees them (NACK) or after (the
  chip popped FIFO data that never reached the host); :meth:`FakeI2CBus.detach` removes the chip
  (no ACK: ``OSError(EREMOTEIO)`` like Linux i2c-dev); :meth:`EmulatedLsm6ds.power_cycle` resets
  every register, the FIFO and the step counter (a brown-out).

Not emulated: the pedometer algorithm itself, interrupts, tap/tilt/wake-up/6D, MLC/FSM, sensor
hub, OIS, timestamp registers, FIFO compression, decimation patterns with unequal ODRs, filters,
self-test, power modes (ODR/full-scale settling is instantaneous).

Temperature: OUT_TEMP_L/H (0x20/0x21), 256 LSB/°C around 25 °C (16-bit, two's complement), the
trace's ``temp_c`` at the read instant (25 °C when the trace has none); updated only while the
accelerometer or gyro runs (the datasheet's temperature ODR follows them), else the last value
holds; reading the low byte latches the high byte (as BDU does for the axes).
"""

from __future__ import annotations

import errno
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

GRAVITY = 9.80665

ODR_HZ = {
    1: 12.5, 2: 26.0, 3: 52.0, 4: 104.0, 5: 208.0, 6: 416.0,
    7: 833.0, 8: 1666.0, 9: 3332.0, 10: 6664.0, 11: 1.6,
}
# FS_XL code -> (full scale in g, sensitivity in mg/LSB)
ACC_FULL_SCALE = {0: (2, 0.061), 1: (16, 0.488), 2: (4, 0.122), 3: (8, 0.244)}
# FS_G code -> sensitivity in mdps/LSB
GYRO_SENSITIVITY = {0: 8.75, 1: 17.5, 2: 35.0, 3: 70.0}

# User bank registers.
FUNC_CFG_ACCESS = 0x01
WHO_AM_I = 0x0F
CTRL1_XL = 0x10
CTRL2_G = 0x11
CTRL3_C = 0x12
CTRL9_XL = 0x18
CTRL10_C = 0x19
STATUS_REG = 0x1E
OUT_TEMP_L = 0x20
OUTX_L_G = 0x22
OUTX_L_A = 0x28
FIFO_STATUS1 = 0x3A
FIFO_STATUS2 = 0x3B
# LSM6DS3TR-C only.
DS3_FIFO_CTRL1 = 0x06
DS3_FIFO_CTRL3 = 0x08
DS3_FIFO_CTRL5 = 0x0A
DS3_FIFO_STATUS3 = 0x3C
DS3_FIFO_STATUS4 = 0x3D
DS3_FIFO_DATA_OUT_L = 0x3E
DS3_FIFO_DATA_OUT_H = 0x3F
DS3_STEP_COUNTER_L = 0x4B
# LSM6DSOX / ISM330DHCX only.
DSO_FIFO_CTRL1 = 0x07
DSO_FIFO_CTRL2 = 0x08
DSO_FIFO_CTRL3 = 0x09
DSO_FIFO_CTRL4 = 0x0A
DSO_FIFO_DATA_OUT_TAG = 0x78
DSO_FIFO_DATA_OUT_LAST = 0x7E
# DSOX / ISM330DHCX embedded-functions bank.
EMB_FUNC_EN_A = 0x04
EMB_STEP_COUNTER_L = 0x62
EMB_FUNC_SRC = 0x64

TAG_GYRO = 0x01
TAG_ACCEL = 0x02

FIFO_BYPASS = 0
FIFO_STOP_WHEN_FULL = 1
FIFO_CONTINUOUS = 6


@dataclass(frozen=True)
class ChipModel:
    name: str
    who_am_i: int
    tagged_fifo: bool  # DSOX/ISM330DHCX style FIFO and embedded-function bank
    fifo_words: int
    has_4000dps: bool = False


MODELS = {
    "LSM6DSOX": ChipModel("LSM6DSOX", 0x6C, tagged_fifo=True, fifo_words=512),
    "ISM330DHCX": ChipModel("ISM330DHCX", 0x6B, tagged_fifo=True, fifo_words=512, has_4000dps=True),
    "LSM6DS3TR-C": ChipModel("LSM6DS3TR-C", 0x6A, tagged_fifo=False, fifo_words=2046),
}


class FakeClock:
    """Emulated monotonic seconds. ``sleep`` advances time, optionally late by a random jitter."""

    def __init__(self, start: float = 5000.0, sleep_jitter_s: float = 0.0, seed: int = 0) -> None:
        self.now = float(start)
        self.sleep_jitter_s = sleep_jitter_s
        self._rng = np.random.default_rng(seed)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, float(seconds))

    def sleep(self, seconds: float) -> None:
        late = self._rng.uniform(0.0, self.sleep_jitter_s) if self.sleep_jitter_s else 0.0
        self.advance(seconds + late)


@dataclass
class ChipTrace:
    """The physics the chip senses: t (s, the clock's time base), acc (N,3) m/s², gyro (N,3) deg/s,
    and step_times: when the chip's own pedometer would count a step; temp_c: the die
    temperature (°C), one value per t, or one number, or None (25 °C)."""

    t: np.ndarray
    acc: np.ndarray
    gyro: np.ndarray | None = None
    step_times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    temp_c: np.ndarray | float | None = None

    def __post_init__(self) -> None:
        self.t = np.asarray(self.t, dtype=float)
        self.acc = np.asarray(self.acc, dtype=float).reshape(-1, 3)
        self.gyro = (
            np.zeros_like(self.acc) if self.gyro is None else np.asarray(self.gyro, float)
        )
        self.step_times = np.sort(np.asarray(self.step_times, dtype=float))

    @classmethod
    def at_rest(cls, start: float, duration_s: float) -> ChipTrace:
        t = np.array([start, start + duration_s])
        return cls(t, np.array([[0.0, 0.0, GRAVITY], [0.0, 0.0, GRAVITY]]))

    @classmethod
    def walking(
        cls, start: float, duration_s: float, cadence_spm: float = 110.0, rate_hz: float = 400.0
    ) -> ChipTrace:
        """A hip-like walking signal: vertical bounce at the step rate, sway at half of it."""
        t = start + np.arange(0.0, duration_s, 1.0 / rate_hz)
        f = cadence_spm / 60.0
        ph = 2 * np.pi * f * (t - start)
        acc = np.column_stack(
            [
                1.5 * np.sin(ph / 2),
                0.8 * np.sin(ph + 0.5),
                GRAVITY + 3.0 * np.sin(ph) + 0.5 * np.sin(2 * ph),
            ]
        )
        gyro = np.column_stack([20 * np.sin(ph / 2), 10 * np.cos(ph / 2), 5 * np.sin(ph)])
        steps = start + np.arange(0.25 / f, duration_s, 1.0 / f)
        return cls(t, acc, gyro, steps)

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(acc, gyro) at the given times, linearly interpolated, held at the ends."""
        times = np.atleast_1d(times)
        acc = np.column_stack([np.interp(times, self.t, self.acc[:, i]) for i in range(3)])
        gyro = np.column_stack([np.interp(times, self.t, self.gyro[:, i]) for i in range(3)])
        return acc, gyro

    def temperature(self, time: float) -> float:
        """The die temperature (°C) at ``time``, held at the ends."""
        if self.temp_c is None:
            return 25.0
        if np.ndim(self.temp_c) == 0:
            return float(self.temp_c)
        return float(np.interp(time, self.t, np.asarray(self.temp_c, dtype=float)))


class I2CTarget:
    """What the bus needs from an attached chip: a register pointer write and reads."""

    def i2c_write(self, data: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def i2c_read(self, n: int) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class _Fault:
    remaining: int
    err: int
    address: int | None
    after_device: bool
    skip: int = 0


class FakeI2CBus:
    """The subset of Blinka's ``busio.I2C`` the driver uses; emulated chips attach at addresses.

    ``byte_time_s`` advances the clock per byte on the wire (22.5 µs is 9 bits at 400 kHz).
    """

    def __init__(self, clock: FakeClock | None = None, byte_time_s: float = 0.0) -> None:
        self.clock = clock
        self.byte_time_s = byte_time_s
        self._targets: dict[int, I2CTarget] = {}
        self._locked = False
        self._faults: list[_Fault] = []
        self._predicates: list[Callable[[int, str], int | None]] = []
        self.transactions = 0
        self.errors_raised = 0
        self.deinitialised = False

    # --- test controls ---
    def attach(self, address: int, target: I2CTarget) -> None:
        self._targets[address] = target

    def detach(self, address: int) -> None:
        self._targets.pop(address, None)

    def fail_next(
        self,
        count: int = 1,
        err: int = errno.EIO,
        address: int | None = None,
        after_device: bool = False,
        skip: int = 0,
    ) -> None:
        """After ``skip`` more transactions, the next ``count`` (to ``address``, or any) raise
        OSError(err).

        after_device=False: the chip never saw it (no ACK). True: the chip did its part (a FIFO
        read popped its words) and the data was lost on the way back.
        """
        self._faults.append(_Fault(count, err, address, after_device, skip))

    def fail_when(self, predicate: Callable[[int, str], int | None]) -> None:
        """predicate(address, kind) -> errno to raise before the chip sees it, or None."""
        self._predicates.append(predicate)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._predicates.clear()

    # --- busio.I2C interface ---
    def try_lock(self) -> bool:
        if self._locked:
            return False
        self._locked = True
        return True

    def unlock(self) -> None:
        self._locked = False

    def deinit(self) -> None:
        self.deinitialised = True

    def __enter__(self) -> FakeI2CBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.deinit()

    def scan(self) -> list[int]:
        self._require_lock()
        return sorted(self._targets)

    def writeto(
        self, address: int, buffer: bytes, *, start: int = 0, end: int | None = None
    ) -> None:
        data = bytes(memoryview(buffer)[start:end])
        self._transfer(address, "write", lambda t: t.i2c_write(data) if data else None, len(data))

    def readfrom_into(
        self, address: int, buffer: bytearray, *, start: int = 0, end: int | None = None
    ) -> None:
        end = len(buffer) if end is None else end
        n = end - start
        out = self._transfer(address, "read", lambda t: t.i2c_read(n), n)
        buffer[start:end] = out

    def writeto_then_readfrom(
        self,
        address: int,
        buffer_out: bytes,
        buffer_in: bytearray,
        *,
        out_start: int = 0,
        out_end: int | None = None,
        in_start: int = 0,
        in_end: int | None = None,
        stop: bool = False,
    ) -> None:
        data = bytes(memoryview(buffer_out)[out_start:out_end])
        in_end = len(buffer_in) if in_end is None else in_end
        n = in_end - in_start

        def run(t: I2CTarget) -> bytes:
            t.i2c_write(data)
            return t.i2c_read(n)

        out = self._transfer(address, "write_read", run, len(data) + n)
        buffer_in[in_start:in_end] = out

    # --- internals ---
    def _require_lock(self) -> None:
        if not self._locked:
            raise RuntimeError("I2C bus used without try_lock()")

    def _fault_for(self, address: int) -> _Fault | None:
        for fault in self._faults:
            if fault.address in (None, address) and fault.remaining > 0:
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _raise(self, err: int) -> None:
        self.errors_raised += 1
        raise OSError(err, os.strerror(err))

    def _transfer(self, address: int, kind: str, action: Callable[[I2CTarget], object], n: int):
        self._require_lock()
        self.transactions += 1
        if self.clock is not None and self.byte_time_s:
            self.clock.advance((n + 1) * self.byte_time_s)
        target = self._targets.get(address)
        if target is None:
            self._raise(errno.EREMOTEIO)
        for predicate in self._predicates:
            err = predicate(address, kind)
            if err:
                self._raise(err)
        fault = self._fault_for(address)
        if fault is not None and not fault.after_device:
            self._raise(fault.err)
        result = action(target)
        if fault is not None:
            self._raise(fault.err)
        return result


def _quantise(values: np.ndarray, sensitivity: float) -> np.ndarray:
    return np.clip(np.round(values / sensitivity), -32768, 32767).astype(np.int16)


class EmulatedLsm6ds(I2CTarget):
    """One LSM6DS-family chip: register banks, sample clock, FIFO and step counter."""

    def __init__(
        self,
        model: str = "LSM6DSOX",
        clock: FakeClock | None = None,
        trace: ChipTrace | None = None,
        odr_error: float = 0.0,
    ) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; one of {sorted(MODELS)}")
        self.model = MODELS[model]
        self.clock = clock or FakeClock()
        self.trace = trace or ChipTrace.at_rest(self.clock(), 1.0)
        self.odr_error = odr_error
        self.resets = 0
        self.power_cycle()
        self.resets = 0

    # ----- state -----
    def power_cycle(self) -> None:
        """Brown-out / power-on: every register, the FIFO and the step counter to defaults."""
        self._reset_user_registers()
        self.emb = bytearray(256)
        self._steps = 0
        self._pointer = 0

    def _reset_user_registers(self) -> None:
        self.resets += 1
        self.user = bytearray(256)
        self.user[WHO_AM_I] = self.model.who_am_i
        self.user[CTRL3_C] = 0x04
        self.user[CTRL9_XL] = 0xE0
        now = self.clock()
        self._xl_on = now
        self._xl_count = 0
        self._g_on = now
        self._g_count = 0
        self._acc_raw = np.zeros(3, np.int16)
        self._gyro_raw = np.zeros(3, np.int16)
        self._temp_raw = 0
        self._temp_high: int | None = None  # high byte latched by a low-byte read
        self._xlda = self._gda = False
        self._fifo: deque[tuple[int, bytes]] = deque()
        self._fifo_out = bytes(7)
        self._fifo_overrun = False
        self._fifo_overrun_latched = False
        self._tag_cnt = 0
        self._bdu_pending: set[int] = set()
        self._steps_until = now
        self.emb = getattr(self, "emb", bytearray(256))
        self.emb[EMB_FUNC_EN_A] = 0
        self._steps = 0

    # ----- derived configuration -----
    @property
    def in_embedded_bank(self) -> bool:
        return bool(self.user[FUNC_CFG_ACCESS] & 0x80)

    @property
    def accel_odr_hz(self) -> float:
        return ODR_HZ.get(self.user[CTRL1_XL] >> 4, 0.0)

    @property
    def gyro_odr_hz(self) -> float:
        return ODR_HZ.get(self.user[CTRL2_G] >> 4, 0.0)

    @property
    def accel_full_scale_g(self) -> int:
        return ACC_FULL_SCALE[(self.user[CTRL1_XL] >> 2) & 3][0]

    @property
    def accel_sensitivity_mg(self) -> float:
        return ACC_FULL_SCALE[(self.user[CTRL1_XL] >> 2) & 3][1]

    @property
    def gyro_sensitivity_mdps(self) -> float:
        ctrl = self.user[CTRL2_G]
        if self.model.has_4000dps and ctrl & 0x01:
            return 140.0
        if ctrl & 0x02:
            return 4.375
        return GYRO_SENSITIVITY[(ctrl >> 2) & 3]

    @property
    def fifo_mode(self) -> int:
        reg = DSO_FIFO_CTRL4 if self.model.tagged_fifo else DS3_FIFO_CTRL5
        return self.user[reg] & 0x07

    @property
    def pedometer_enabled(self) -> bool:
        if self.model.tagged_fifo:
            on = bool(self.emb[EMB_FUNC_EN_A] & 0x08)
        else:
            on = (self.user[CTRL10_C] & 0x14) == 0x14
        return on and self.accel_odr_hz >= 26.0

    @property
    def step_count(self) -> int:
        return self._steps & 0xFFFF

    def fifo_level(self) -> int:
        """Words in the FIFO (7-byte tagged words, or 16-bit words on the LSM6DS3TR-C)."""
        return len(self._fifo)

    def samples_in_fifo(self) -> int:
        """Accelerometer samples waiting (whole samples: one word per batched sensor, or three
        16-bit words per sensor on the LSM6DS3TR-C)."""
        with_acc, with_gyro = self._batching()
        per = (int(with_acc) + int(with_gyro)) or 1
        return len(self._fifo) // (per if self.model.tagged_fifo else 3 * per)

    @property
    def accel_samples_produced(self) -> int:
        """Samples produced since the accelerometer ODR was last set (as of the last access)."""
        return self._xl_count

    def accel_sample_time(self, index: np.ndarray | int) -> np.ndarray:
        """True emulated time of the 1-based sample ``index`` since the ODR was last set."""
        return self._xl_on + np.asarray(index) * self._chip_period(self.accel_odr_hz)

    def register(self, address: int, bank: str = "user") -> int:
        """Raw stored register value, for tests (no side effects)."""
        return (self.emb if bank == "embedded" else self.user)[address]

    # ----- time -----
    def _chip_period(self, odr: float) -> float:
        return 1.0 / (odr * (1.0 + self.odr_error))

    def _advance(self) -> None:
        now = self.clock()
        if self.pedometer_enabled:
            st = self.trace.step_times
            n = np.searchsorted(st, now, "right") - np.searchsorted(st, self._steps_until, "right")
            self._steps += max(int(n), 0)
        self._steps_until = now
        acc_new = self._advance_accel(now)
        self._advance_gyro(now)
        if self.accel_odr_hz > 0 or self.gyro_odr_hz > 0:
            celsius = self.trace.temperature(now)
            self._temp_raw = int(np.clip(round((celsius - 25.0) * 256), -32768, 32767))
        if acc_new is not None:
            self._push_fifo(*acc_new)

    def _advance_accel(self, now: float) -> tuple[np.ndarray, np.ndarray] | None:
        odr = self.accel_odr_hz
        if odr <= 0:
            return None
        period = self._chip_period(odr)
        total = int(np.floor((now - self._xl_on) / period + 1e-9))
        new = total - self._xl_count
        if new <= 0:
            return None
        keep = min(new, self.model.fifo_words + 1)
        idx = np.arange(total - keep + 1, total + 1)
        times = self._xl_on + idx * period
        acc, gyro = self.trace.sample(times)
        self._xl_count = total
        self._xlda = True
        raw = _quantise(acc / GRAVITY * 1000.0, self.accel_sensitivity_mg)
        if not self._bdu_locked():
            self._acc_raw = raw[-1]
        graw = _quantise(gyro * 1000.0, self.gyro_sensitivity_mdps)
        return raw, graw

    def _advance_gyro(self, now: float) -> None:
        odr = self.gyro_odr_hz
        if odr <= 0:
            return
        period = self._chip_period(odr)
        total = int(np.floor((now - self._g_on) / period + 1e-9))
        if total <= self._g_count:
            return
        self._g_count = total
        self._gda = True
        _, gyro = self.trace.sample(np.array([self._g_on + total * period]))
        if not self._bdu_locked():
            self._gyro_raw = _quantise(gyro[0] * 1000.0, self.gyro_sensitivity_mdps)

    def _bdu_locked(self) -> bool:
        return bool(self.user[CTRL3_C] & 0x40) and bool(self._bdu_pending)

    # ----- FIFO -----
    def _batching(self) -> tuple[bool, bool]:
        """(accel in FIFO, gyro in FIFO)."""
        if self.fifo_mode == FIFO_BYPASS:
            return False, False
        if self.model.tagged_fifo:
            ctrl3 = self.user[DSO_FIFO_CTRL3]
            return bool(ctrl3 & 0x0F), bool(ctrl3 & 0xF0)
        if not (self.user[DS3_FIFO_CTRL5] >> 3) & 0x0F:
            return False, False
        ctrl3 = self.user[DS3_FIFO_CTRL3]
        return bool(ctrl3 & 0x07), bool(ctrl3 & 0x38)

    def _push_fifo(self, acc_raw: np.ndarray, gyro_raw: np.ndarray) -> None:
        with_acc, with_gyro = self._batching()
        if not (with_acc or with_gyro):
            return
        words: list[tuple[int, bytes]] = []
        for a, g in zip(acc_raw, gyro_raw, strict=True):
            if self.model.tagged_fifo:
                for present, tag, values in ((with_gyro, TAG_GYRO, g), (with_acc, TAG_ACCEL, a)):
                    if present:
                        head = (tag << 3) | (self._tag_cnt << 1)
                        head |= bin(head).count("1") & 1  # parity bit
                        words.append((0, bytes([head]) + values.astype("<i2").tobytes()))
                self._tag_cnt = (self._tag_cnt + 1) & 3
            else:
                pos = 0
                for present, values in ((with_gyro, g), (with_acc, a)):
                    if present:
                        for v in values.astype("<i2"):
                            words.append((pos, v.tobytes()))
                            pos += 1
        for word in words:
            if len(self._fifo) >= self.model.fifo_words:
                if self.fifo_mode == FIFO_STOP_WHEN_FULL:
                    break
                self._fifo.popleft()
                self._fifo_overrun = True
                self._fifo_overrun_latched = True
            self._fifo.append(word)

    def _fifo_status(self, address: int) -> int:
        n = len(self._fifo)
        full = n >= self.model.fifo_words
        if address == FIFO_STATUS1:
            return n & 0xFF
        if self.model.tagged_fifo and address == FIFO_STATUS2:
            wtm = self.user[DSO_FIFO_CTRL1] | ((self.user[DSO_FIFO_CTRL2] & 1) << 8)
            value = (n >> 8) & 0x03
            value |= 0x80 if wtm and n >= wtm else 0
            value |= 0x40 if self._fifo_overrun and full else 0
            value |= 0x20 if full else 0
            value |= 0x08 if self._fifo_overrun_latched else 0
            self._fifo_overrun_latched = False
            return value
        if address == FIFO_STATUS2:
            fth = self.user[DS3_FIFO_CTRL1] | ((self.user[DS3_FIFO_CTRL1 + 1] & 7) << 8)
            value = (n >> 8) & 0x07
            value |= 0x80 if fth and n >= fth else 0
            value |= 0x40 if self._fifo_overrun and full else 0
            value |= 0x20 if full else 0
            value |= 0x10 if n == 0 else 0
            return value
        pattern = self._fifo[0][0] if self._fifo else 0
        return pattern & 0xFF if address == DS3_FIFO_STATUS3 else (pattern >> 8) & 0x03

    def _pop_fifo(self) -> bytes:
        if not self._fifo:
            return bytes(7) if self.model.tagged_fifo else bytes(2)
        word = self._fifo.popleft()[1]
        if not self._fifo:
            self._fifo_overrun = False
        return word

    # ----- registers -----
    def _read_register(self, address: int) -> int:
        if self.in_embedded_bank and address != FUNC_CFG_ACCESS:
            if self.model.tagged_fifo and address in (EMB_STEP_COUNTER_L, EMB_STEP_COUNTER_L + 1):
                return (self.step_count >> (8 * (address - EMB_STEP_COUNTER_L))) & 0xFF
            return self.emb[address]
        if address == STATUS_REG:
            on = self.accel_odr_hz > 0 or self.gyro_odr_hz > 0
            return int(self._xlda) | int(self._gda) << 1 | int(on) << 2
        if address == OUT_TEMP_L:
            raw = self._temp_raw & 0xFFFF
            self._temp_high = raw >> 8
            return raw & 0xFF
        if address == OUT_TEMP_L + 1:
            high = self._temp_high if self._temp_high is not None else (self._temp_raw >> 8) & 0xFF
            self._temp_high = None
            return high
        if OUTX_L_G <= address < OUTX_L_A + 6:
            is_acc = address >= OUTX_L_A
            base = OUTX_L_A if is_acc else OUTX_L_G
            axis, high = divmod(address - base, 2)
            raw = (self._acc_raw if is_acc else self._gyro_raw)[axis]
            if high:
                self._bdu_pending.discard(address - 1)
                if is_acc:
                    self._xlda = False
                else:
                    self._gda = False
            else:
                self._bdu_pending.add(address)
            return (int(raw) >> (8 * high)) & 0xFF
        if address in (FIFO_STATUS1, FIFO_STATUS2) or (
            not self.model.tagged_fifo and address in (DS3_FIFO_STATUS3, DS3_FIFO_STATUS4)
        ):
            return self._fifo_status(address)
        if self.model.tagged_fifo and DSO_FIFO_DATA_OUT_TAG <= address <= DSO_FIFO_DATA_OUT_LAST:
            if address == DSO_FIFO_DATA_OUT_TAG:
                self._fifo_out = self._pop_fifo()
            return self._fifo_out[address - DSO_FIFO_DATA_OUT_TAG]
        if not self.model.tagged_fifo:
            if address == DS3_FIFO_DATA_OUT_L:
                self._fifo_out = self._pop_fifo()
                return self._fifo_out[0]
            if address == DS3_FIFO_DATA_OUT_H:
                return self._fifo_out[1]
            if address in (DS3_STEP_COUNTER_L, DS3_STEP_COUNTER_L + 1):
                return (self.step_count >> (8 * (address - DS3_STEP_COUNTER_L))) & 0xFF
        return self.user[address]

    def _write_register(self, address: int, value: int) -> None:
        if self.in_embedded_bank and address != FUNC_CFG_ACCESS:
            if self.model.tagged_fifo and address == EMB_FUNC_SRC:
                if value & 0x80:
                    self._steps = 0
                self.emb[address] = value & 0x7F
            elif not (self.model.tagged_fifo and address in (0x62, 0x63)):
                self.emb[address] = value
            return
        read_only = {WHO_AM_I, STATUS_REG, FIFO_STATUS1, FIFO_STATUS2, *range(0x20, 0x2E)}
        if self.model.tagged_fifo:
            read_only |= set(range(DSO_FIFO_DATA_OUT_TAG, DSO_FIFO_DATA_OUT_LAST + 1))
        else:
            read_only |= {DS3_FIFO_STATUS3, DS3_FIFO_STATUS4, DS3_FIFO_DATA_OUT_L}
            read_only |= {DS3_FIFO_DATA_OUT_H, DS3_STEP_COUNTER_L, DS3_STEP_COUNTER_L + 1}
        if address in read_only:
            return
        if address == CTRL3_C and value & 0x01:
            self._reset_user_registers()
            return
        old = self.user[address]
        self.user[address] = value & (0x7F if address == CTRL3_C else 0xFF)  # BOOT self-clears
        if address == CTRL1_XL and (old >> 4) != (value >> 4):
            self._xl_on, self._xl_count = self.clock(), 0
        if address == CTRL2_G and (old >> 4) != (value >> 4):
            self._g_on, self._g_count = self.clock(), 0
        mode_register = DSO_FIFO_CTRL4 if self.model.tagged_fifo else DS3_FIFO_CTRL5
        if address == mode_register and value & 0x07 == FIFO_BYPASS:
            self._fifo.clear()
            self._fifo_overrun = self._fifo_overrun_latched = False
        if not self.model.tagged_fifo and address == CTRL10_C and value & 0x02 and not old & 0x02:
            self._steps = 0

    def _next_address(self, address: int) -> int:
        if not self.user[CTRL3_C] & 0x04:
            return address
        in_user = not self.in_embedded_bank
        if self.model.tagged_fifo and address == DSO_FIFO_DATA_OUT_LAST and in_user:
            return DSO_FIFO_DATA_OUT_TAG
        if not self.model.tagged_fifo and address == DS3_FIFO_DATA_OUT_H:
            return DS3_FIFO_DATA_OUT_L
        return (address + 1) & 0x7F

    # ----- I2C target -----
    def i2c_write(self, data: bytes) -> None:
        self._advance()
        self._pointer = data[0] & 0x7F
        for value in data[1:]:
            self._write_register(self._pointer, value)
            self._pointer = self._next_address(self._pointer)

    def i2c_read(self, n: int) -> bytes:
        self._advance()
        out = bytearray(n)
        for i in range(n):
            out[i] = self._read_register(self._pointer)
            self._pointer = self._next_address(self._pointer)
        return bytes(out)


def patch_driver_sleep(monkeypatch: object, clock: FakeClock) -> None:
    """Make the driver's settle delays (0.2 s per range change) pass on emulated time."""
    import adafruit_lsm6ds
    import adafruit_lsm6ds.ism330dhcx

    for module in (adafruit_lsm6ds, adafruit_lsm6ds.ism330dhcx):
        monkeypatch.setattr(module, "sleep", clock.sleep)  # type: ignore[attr-defined]


def make_bus(
    models: Sequence[tuple[int, str]] = ((0x6A, "LSM6DSOX"),),
    clock: FakeClock | None = None,
    trace: ChipTrace | None = None,
    odr_error: float = 0.0,
    byte_time_s: float = 0.0,
) -> tuple[FakeI2CBus, dict[int, EmulatedLsm6ds]]:
    """A bus with one emulated chip per (address, model), sharing one clock and trace."""
    clock = clock or FakeClock()
    bus = FakeI2CBus(clock, byte_time_s)
    chips = {}
    for address, model in models:
        chips[address] = EmulatedLsm6ds(model, clock, trace, odr_error)
        bus.attach(address, chips[address])
    return bus, chips
