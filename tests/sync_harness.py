"""Sync test fixtures: a device (store, clock, agent) on one end of a virtual USB cable."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from device.app import make_device_id
from device.clock import DeviceClock
from device.config import WearerConfig
from device.store import MinuteRow, Store
from device.sync import identity
from device.sync.agent import META_SECRET, SyncAgent
from device.sync.protocol import Frame, FrameDecoder
from device.sync.virtual_cable import PtyBridge
from hostsync.link import DeviceLink, HostSession

DEVICE_ID = "WC-0000beef"
BOOT = "boot-this"
T0 = 1_764_547_200  # 2025-12-01 00:00 UTC
MONO_NOW = 500_000.0
LABEL = "Zelda Quux"


def session_store(data: Path, secret: bytes) -> tuple[Store, DeviceClock]:
    """A paired device's store (50 minutes, one trace file) and clock, for driving a
    SyncSession in-process (fuzzers: no cable, no threads)."""
    store = Store.in_dir(data)
    store.set_config(WearerConfig(wearer_label=LABEL))
    store.add_minutes(make_rows(50))
    store.set_meta(META_SECRET, secret.hex())
    (data / "traces").mkdir()
    (data / "traces" / "t.csv").write_text("t,ax,ay,az\n")
    return store, DeviceClock(store, monotonic=lambda: MONO_NOW, boot_id="boot-fuzz")


def make_rows(n: int, *, first: int = 0, trusted: bool = True, boot: str = BOOT) -> list[MinuteRow]:
    """Simulated minutes; values exactly representable so they survive the wire unchanged."""
    rng = random.Random(first)
    rows = []
    for i in range(first, first + n):
        steps = rng.choice([0, 0, 12, 64, 96, 104, 118, 131])
        rows.append(MinuteRow(start_utc=T0 + 60 * i, steps=steps, cadence_spm=float(steps),
                              moderate=steps >= 100, chip_steps=steps + 1 if i % 5 else None,
                              clock_trusted=trusted, boot_id=boot, mono_start=1000.5 + 60 * i))
    return rows


@dataclass
class Device:
    store: Store
    clock: DeviceClock
    agent: SyncAgent
    bridge: PtyBridge
    data_dir: Path
    device_id: str = DEVICE_ID
    codes: list[str | None] = field(default_factory=list)
    configs: list[WearerConfig] = field(default_factory=list)
    code_shown: threading.Event = field(default_factory=threading.Event)

    def close(self) -> None:
        self.agent.stop()
        self.bridge.close()
        self.store.close()

    def wait_code(self) -> str:
        assert self.code_shown.wait(5), "no pairing code shown"
        self.code_shown.clear()
        code = self.codes[-1]
        assert code is not None
        return code


def start_device(tmp_path: Path, *, board_serial: str | None = None,
                 wall: Callable[[], float] = time.time,
                 health: Callable[[], dict] = dict) -> Device:
    """A store with the wearer's config, a clock on BOOT, a bridge and a running agent.

    board_serial: emulate the Pi board the card sits in (the device id then comes from it, as
    on the Pi); default: the fixed DEVICE_ID. An existing tmp_path/data is used as it is."""
    data = tmp_path / "data"
    existing = (data / "walkcoach.sqlite3").exists()
    store = Store.in_dir(data)
    if not existing:
        store.set_config(WearerConfig(wearer_label=LABEL, threshold_spm=105.0))
    device_id = DEVICE_ID if board_serial is None else make_device_id(store, board_serial)
    identity.store_id(store)  # as the firmware does at start-up, before the agent runs
    clock = DeviceClock(store, monotonic=lambda: MONO_NOW, wall=wall, boot_id=BOOT)
    bridge = PtyBridge(tmp_path)
    dev: Device

    def show(code):
        dev.codes.append(code)
        if code is not None:
            dev.code_shown.set()

    agent = SyncAgent(bridge.device_path, data, clock, device_id, show_pairing_code=show,
                      on_config_changed=lambda cfg: dev.configs.append(cfg), max_backoff=0.05,
                      health=health)
    dev = Device(store, clock, agent, bridge, data, device_id)
    agent.start()
    assert agent.connected.wait(5)
    return dev




def connect(dev: Device, timeout: float = 3.0) -> HostSession:
    session = HostSession(DeviceLink.open(dev.bridge.host_path, timeout=timeout))
    session.hello()
    return session


def pair(dev: Device) -> bytes:
    session = connect(dev)
    try:
        pending = session.pair_begin()
        return session.pair_confirm(pending, dev.wait_code())
    finally:
        session.link.close()


def authed(dev: Device, secret: bytes, timeout: float = 3.0) -> HostSession:
    session = connect(dev, timeout)
    session.authenticate(secret)
    return session


def raw_exchange(port, data: bytes, want: int, timeout: float = 3.0) -> list[Frame]:
    """Write raw bytes; collect reply frames until `want` arrive (or the timeout)."""
    port.write(data)
    dec = FrameDecoder()
    frames: list[Frame] = []
    deadline = time.monotonic() + timeout
    while len(frames) < want and time.monotonic() < deadline:
        frames += [e for e in dec.feed(port.read(max(1, port.in_waiting))) if isinstance(e, Frame)]
    return frames


def wait_meta(store: Store, key: str, value: str | None, timeout: float = 3.0) -> None:
    """Wait for a meta value the agent writes lazily (failure counters: within a second)."""
    deadline = time.monotonic() + timeout
    while store.get_meta(key) != value:
        assert time.monotonic() < deadline, (key, store.get_meta(key), value)
        time.sleep(0.02)
