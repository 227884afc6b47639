"""An emulated MAX17048 LiPo fuel gauge behind the fake I2C bus (see lsm6ds_chip.FakeI2CBus).

The real ``adafruit_max1704x`` driver talks to it as to the chip: 16-bit big-endian registers,
a register pointer written first, then reads (and writes) that run on through consecutive bytes.

What is emulated, per the MAX17048/MAX17049 datasheet (19-6171):

* VCELL 0x02 (78.125 µV/LSB), SOC 0x04 (1/256 %/LSB), MODE 0x06, VERSION 0x08 (0x0012),
  HIBRT 0x0A, CONFIG 0x0C (power-on 0x971C; SLEEP bit 7, ALSC bit 6, ALRT bit 5),
  VALRT 0x14, CRATE 0x16 (signed, 0.208 %/h per LSB), VRESET/ID 0x18/0x19 (ID reads 0x01),
  STATUS 0x1A (RI set at power-on and after a reset), CMD 0xFE.
* CMD 0x5400 is the power-on reset: every register returns to its power-on value, and the chip
  does not acknowledge that write (the driver expects the NACK: OSError).
* The physics is a state of charge (`percent`) and a rate (`rate_per_hour`) a test sets; the cell
  voltage follows a rough LiPo curve (3.3 V empty .. 4.2 V full).

Not emulated: ModelGauge itself, alerts' ALRT pin, hibernation timing, the RCOMP model tables.
"""

from __future__ import annotations

import errno

from tests.fakes.lsm6ds_chip import FakeI2CBus, I2CTarget

VCELL, SOC, MODE, VERSION, HIBRT, CONFIG, VALRT, CRATE, VRESET, STATUS, CMD = (
    0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x14, 0x16, 0x18, 0x1A, 0xFE,
)
POWER_ON = {MODE: 0x0000, VERSION: 0x0012, HIBRT: 0x8030, CONFIG: 0x971C, VALRT: 0x00FF,
            VRESET: 0x9601, STATUS: 0x0100, CMD: 0x0000}


class EmulatedMax17048(I2CTarget):
    """One MAX17048: a 256-byte register space of 16-bit words, fed by `percent`."""

    def __init__(self, percent: float = 80.0, rate_per_hour: float = -5.0) -> None:
        self.percent = percent
        self.rate_per_hour = rate_per_hour
        self.resets = 0
        self._words: dict[int, int] = {}
        self._pointer = 0
        self.power_on_reset()

    def power_on_reset(self) -> None:
        self._words = dict(POWER_ON)

    # --- the physics behind the measured registers ---
    def _measured(self, reg: int) -> int | None:
        if reg == VCELL:
            volts = 3.3 + 0.9 * max(0.0, min(self.percent, 100.0)) / 100.0
            return round(volts / 78.125e-6) & 0xFFFF
        if reg == SOC:
            return round(max(0.0, min(self.percent, 255.0)) * 256) & 0xFFFF
        if reg == CRATE:
            return round(self.rate_per_hour / 0.208) & 0xFFFF
        return None

    def _word(self, reg: int) -> int:
        measured = self._measured(reg)
        return measured if measured is not None else self._words.get(reg, 0)

    def _byte(self, address: int) -> int:
        word = self._word(address & 0xFE)
        return (word >> 8) & 0xFF if address % 2 == 0 else word & 0xFF

    # --- I2C ---
    def i2c_write(self, data: bytes) -> None:
        self._pointer = data[0]
        payload = data[1:]
        if not payload:
            return
        for i, value in enumerate(payload):
            address = (self._pointer + i) & 0xFF
            reg = address & 0xFE
            word = self._words.get(reg, 0)
            word = (word & 0x00FF) | (value << 8) if address % 2 == 0 else (word & 0xFF00) | value
            self._words[reg] = word
        if self._pointer == CMD and self._words.get(CMD) == 0x5400:
            self.resets += 1
            self.power_on_reset()
            raise OSError(errno.EREMOTEIO, "NACK after the reset command (as the chip does)")

    def i2c_read(self, n: int) -> bytes:
        return bytes(self._byte((self._pointer + i) & 0xFF) for i in range(n))


def make_gauge_bus(percent: float = 80.0, rate_per_hour: float = -5.0,
                   bus: FakeI2CBus | None = None) -> tuple[FakeI2CBus, EmulatedMax17048]:
    """A fake bus (a new one, or `bus`) with an emulated gauge at 0x36."""
    bus = bus or FakeI2CBus()
    chip = EmulatedMax17048(percent, rate_per_hour)
    bus.attach(0x36, chip)
    return bus, chip
