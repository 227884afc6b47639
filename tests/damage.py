"""A database file damaged on purpose, and proof that a refusal left it untouched.

The device store and the host database must both refuse a damaged file with a clear error and
never write to it; their tests share these two helpers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

PAGE = 4096  # SQLite's default page size


def sha(path: Path) -> str:
    """The file's SHA-256: equal before and after means nothing wrote to it."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def overwrite_pages(path: Path, first: int, count: int) -> None:
    """Random bytes over pages first..first+count-1 (the file must be longer than that)."""
    data = bytearray(path.read_bytes())
    assert len(data) > (first + count + 1) * PAGE, "file too short to damage those pages"
    data[first * PAGE : (first + count) * PAGE] = os.urandom(count * PAGE)
    path.write_bytes(bytes(data))
