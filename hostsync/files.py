"""Writing the caregiver's files safely, whatever the path names.

A regular file (or a new one) is written beside itself and renamed over: a crash or a full disk
never leaves half a file, and the old file keeps its permissions. Anything else is never
replaced by a plain file (the rename would silently turn a named pipe, a symlink or /dev/null
into a regular file): a symlink is followed and its target written as above, a named pipe or a
character device (a terminal, /dev/null, /dev/full) is written through and a failed write is an
error, and a folder, a socket or a block device (a whole disk) is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` (see the module docstring for what each kind of path gets).

    Raises OSError with a plain strerror (and the temporary file removed); callers turn it into
    their own one-line message.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # through any symlink
    except FileNotFoundError:
        mode = None
    if mode is None or stat.S_ISREG(mode):
        target = Path(os.path.realpath(path)) if path.is_symlink() else path
        _replace(target, data, None if mode is None else stat.S_IMODE(mode))
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        _write_through(path, data, fifo=stat.S_ISFIFO(mode))
    elif stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(path))
    else:
        raise OSError(errno.EINVAL, "not a file hostsync will write into (a socket or a disk)",
                      str(path))


def _replace(path: Path, data: bytes, keep_mode: int | None) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if keep_mode is not None:
            os.chmod(tmp, keep_mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # the rename itself durable (not possible everywhere)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _write_through(path: Path, data: bytes, *, fifo: bool) -> None:
    """Write into an existing pipe or character device, all of it, or raise OSError."""
    flags = os.O_WRONLY | (os.O_NONBLOCK if fifo else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if fifo and e.errno == errno.ENXIO:
            raise OSError(errno.ENXIO, "no program is reading from this named pipe",
                          str(path)) from None
        raise
    try:
        if fifo:
            os.set_blocking(fd, True)  # a reader is there: wait for it like any writer
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)
