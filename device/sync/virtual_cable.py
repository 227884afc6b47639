"""A USB cable made of two pseudo-terminal pairs, for running device and host on one computer.

The device's sync agent opens ``device_path`` (a symlink, like the gadget's /dev/ttyGS0) and the
host opens ``host_path``, both with real pyserial. A relay thread copies bytes between the two
pty masters. For tests it can also CUT the link after a chosen number of bytes (the host's pty
vanishes mid-stream, as when the cable is pulled), re-plug the host side, or make the device's
port vanish. Used by `pedometer demo`, the sync tests and the sync benchmark.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import threading
import tty
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class _Pty:
    master: int
    slave: int
    path: str
    pending: bytearray = field(default_factory=bytearray)  # bytes waiting to be written to it

    @classmethod
    def new(cls) -> _Pty:
        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        return cls(master, slave, os.ttyname(slave))

    def close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class PtyBridge:
    def __init__(self, tmpdir: Path) -> None:
        self.device_path = str(Path(tmpdir) / "ttyGS0")
        self._lock = threading.Lock()
        self._dev: _Pty | None = None
        self._host: _Pty | None = None
        self.plug_device()
        self.plug_host()
        self.forwarded = 0  # bytes forwarded in both directions since the bridge was made
        self.to_host = 0
        self.to_device = 0
        self._cut_at: int | None = None
        self.tap: bytearray | None = None  # set to a bytearray to record all traffic (a sniffer)
        self.cut_done = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-relay", daemon=True)
        self._thread.start()

    # -- plugging ------------------------------------------------------------------------------

    @property
    def host_path(self) -> str:
        assert self._host is not None, "host side is unplugged"
        return self._host.path

    def plug_host(self) -> str:
        """A fresh host-side pty (the cable plugged in again); returns its path."""
        with self._lock:
            if self._host is not None:
                self._host.close()
            self._host = _Pty.new()
            return self._host.path

    def unplug_host(self) -> None:
        with self._lock:
            if self._host is not None:
                self._host.close()
                self._host = None

    def plug_device(self) -> None:
        """A fresh device-side pty; the device path now points at it."""
        with self._lock:
            if self._dev is not None:
                self._dev.close()
            self._dev = _Pty.new()
            tmp = self.device_path + ".new"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.symlink(self._dev.path, tmp)
            os.replace(tmp, self.device_path)

    def unplug_device(self) -> None:
        """The device's port vanishes (its reads fail with EIO) until plug_device()."""
        with self._lock:
            if self._dev is not None:
                self._dev.close()
                self._dev = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.device_path)

    def cut_after(self, nbytes: int) -> None:
        """Unplug the host side once `nbytes` more bytes (either direction) have gone through."""
        with self._lock:
            self.cut_done.clear()
            self._cut_at = self.forwarded + nbytes

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        with self._lock:
            for p in (self._dev, self._host):
                if p is not None:
                    p.close()
            self._dev = self._host = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.device_path)

    # -- relay ---------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                pairs = [p for p in (self._dev, self._host) if p is not None]
                rfds = [p.master for p in pairs]
                wfds = [p.master for p in pairs if p.pending]
                try:
                    r, w, _ = select.select(rfds, wfds, [], 0.005)
                except (OSError, ValueError):
                    r, w = [], []
                for p in pairs:
                    if p.master in w:
                        self._flush(p)
                for src in pairs:
                    if src.master in r:
                        self._pump(src)
            if not r and not w:
                self._stop.wait(0.001)

    def _flush(self, p: _Pty) -> None:
        try:
            n = os.write(p.master, p.pending)
            del p.pending[:n]
        except BlockingIOError:
            pass
        except OSError:
            p.pending.clear()

    def _pump(self, src: _Pty) -> None:
        try:
            data = os.read(src.master, 65536)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:  # nobody has the slave open right now
                return
            return
        dst = self._host if src is self._dev else self._dev
        cut = False
        if self._cut_at is not None and self.forwarded + len(data) >= self._cut_at:
            data = data[: max(0, self._cut_at - self.forwarded)]
            cut = True
        self.forwarded += len(data)
        if self.tap is not None:
            self.tap += data
        if src is self._dev:
            self.to_host += len(data)
        else:
            self.to_device += len(data)
        if dst is not None and data:
            dst.pending += data
            self._flush(dst)
        if cut:
            self._cut_at = None
            if self._host is not None:
                self._host.close()
                self._host = None
            self.cut_done.set()


# -- a simulated device on the bridge ------------------------------------------------------
