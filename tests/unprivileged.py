"""Run a command as a user that file permissions apply to (tests run as root in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def as_unprivileged(cmd: list[str]) -> list[str] | None:
    """cmd prefixed to run as `nobody` when we are root (root ignores permissions), cmd itself
    when we are not, or None when no unprivileged user can run the project's python here."""
    if os.geteuid() != 0:
        return cmd
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import device, hostsync"],
                           cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                           capture_output=True, timeout=60)
    return [*prefix, *cmd] if probe.returncode == 0 else None  # nobody may not reach python
