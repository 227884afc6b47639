"""`pedometer record` and the IMU part of `pedometer selftest`, as plain functions.

record_trace writes the trace format of DESIGN.md (the one `pedometer replay` reads), one batch
at a time: each batch is flushed (a gzip sync point when the name ends .gz) and fsync'ed, so a
power cut loses at most the last batch and never damages the rows before it.
selftest_imu answers "is the IMU there and sane?" in plain sentences, never with a traceback.
"""

from __future__ import annotations

import gzip
import logging
import math
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np

from device.lsm6ds import (
    I2CBusUnavailable,
    ImuUnavailable,
    Lsm6dsSource,
    detect_chip,
    open_i2c_bus,
)
from device.sources import ImuBatch, ImuSource
from device.trace import format_header, format_rows

log = logging.getLogger(__name__)

GRAVITY = 9.80665
REST_TOLERANCE = 1.5  # m/s² around g for "plausible at rest"


@dataclass(frozen=True)
class CheckResult:
    """One line of a self-test: what was checked, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


class _TraceWriter:
    """Appends rows and makes them durable batch by batch."""

    def __init__(self, path: Path) -> None:
        self._raw: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._gz = gzip.GzipFile(fileobj=self._raw, mode="wb") if path.suffix == ".gz" else None

    def write(self, text: str) -> None:
        data = text.encode("utf-8")
        if self._gz is not None:
            self._gz.write(data)
            self._gz.flush()  # Z_SYNC_FLUSH: everything so far is decodable
        else:
            self._raw.write(data)
        self._raw.flush()
        os.fsync(self._raw.fileno())

    def close(self) -> None:
        try:
            if self._gz is not None:
                self._gz.close()
        finally:
            self._raw.close()


def _source_meta(source: ImuSource) -> dict[str, object]:
    chip = getattr(source, "chip", None)
    rate = getattr(source, "rate_hz", None)
    return {
        "device": socket.gethostname(),
        "chip": getattr(chip, "name", type(source).__name__),
        "rate": f"{rate:g} Hz" if rate else "unknown",
        "start_time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def record_trace(
    source: ImuSource,
    out_path: str | Path,
    duration_s: float | None = None,
    stop: Callable[[], bool] | None = None,
    meta: dict[str, object] | None = None,
) -> int:
    """Record batches from ``source`` into a trace file; returns the number of rows written.

    Ends when the source ends, when the recorded span reaches ``duration_s``, or when ``stop()``
    returns True (checked before every batch). The file is valid after every batch.
    """
    path = Path(out_path)
    header = {**_source_meta(source), **(meta or {})}
    writer = _TraceWriter(path)
    rows = 0
    has_gyro: bool | None = None
    first_t: float | None = None
    try:
        while stop is None or not stop():
            batch: ImuBatch | None = source.read()
            if batch is None:
                break
            if len(batch) == 0:
                continue
            t, acc, gyro = batch.t, batch.acc, batch.gyro
            if first_t is None:
                first_t = float(t[0])
            if duration_s is not None:
                keep = t < first_t + duration_s
                t, acc = t[keep], acc[keep]
                gyro = None if gyro is None else gyro[keep]
            if has_gyro is None:
                has_gyro = gyro is not None
                writer.write(format_header(header, has_gyro))
            if (gyro is not None) != has_gyro:
                raise ValueError("the IMU source changed its gyro columns in mid-recording")
            if len(t):
                writer.write(format_rows(t, acc, gyro if has_gyro else None))
                rows += len(t)
            if duration_s is not None and float(batch.t[-1]) >= first_t + duration_s:
                break
        if has_gyro is None:
            writer.write(format_header(header, False))
    finally:
        writer.close()
    log.info("recorded %d samples to %s", rows, path)
    return rows


def selftest_imu(
    bus: Any | None = None,
    address: int | Literal["auto"] = "auto",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    bus_number: int = 1,
) -> list[CheckResult]:
    """Check the I2C bus, the chip and one batch of samples; ``bus=None`` opens the Pi's bus."""
    results: list[CheckResult] = []
    try:
        if bus is None:
            try:
                bus = open_i2c_bus(bus_number)
            except I2CBusUnavailable as exc:
                return [CheckResult("I2C bus", False, str(exc))]
        results.append(CheckResult("I2C bus", True, "the I2C bus is open"))
        try:
            chip = detect_chip(bus, address)
        except ImuUnavailable as exc:
            results.append(CheckResult("IMU chip", False, str(exc)))
            return results
        results.append(
            CheckResult("IMU chip", True, f"{chip.name} found at 0x{chip.address:02X}")
        )
        results.append(_check_samples(bus, chip.address, clock, sleep))
    except Exception as exc:  # a self-test reports, it never crashes
        log.exception("IMU self-test failed unexpectedly")
        results.append(CheckResult("IMU", False, f"unexpected problem: {exc}"))
    return results


def _check_samples(
    bus: Any, address: int, clock: Callable[[], float], sleep: Callable[[float], None]
) -> CheckResult:
    name = "IMU samples"
    try:
        source = Lsm6dsSource(bus, address, clock=clock, sleep=sleep, batch_s=0.5)
    except ImuUnavailable as exc:
        return CheckResult(name, False, str(exc))
    try:
        batch = source.read()
    except ImuUnavailable as exc:
        return CheckResult(name, False, str(exc))
    finally:
        source.close()
    if batch is None or len(batch) == 0:
        return CheckResult(name, False, "the IMU sent no samples in half a second")
    magnitude = float(np.mean(np.linalg.norm(batch.acc, axis=1)))
    detail = (
        f"mean acceleration {magnitude:.2f} m/s² over {len(batch)} samples "
        f"(expect about {GRAVITY:.1f} with the device at rest)"
    )
    if not math.isfinite(magnitude) or abs(magnitude - GRAVITY) > REST_TOLERANCE:
        return CheckResult(name, False, detail + ": keep the device still and retry, or the chip "
                           "is faulty")
    return CheckResult(name, True, detail + f"; chip step counter {batch.chip_steps}")
