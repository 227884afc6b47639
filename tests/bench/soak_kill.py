"""Soak: SIGKILL the simulated device 1,000 times at random moments (issue: reliability).

    .venv/bin/python tests/bench/soak_kill.py [--kills 1000]

Each round starts `pedometer run --simulate` on a 20-minute walk at 600x speed and kills it
after 0.3-1.0 s. After every kill: PRAGMA integrity_check is ok and every minute committed
before is still there, unchanged. At the end a last run goes to completion. About 15 minutes.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.killsoak import soak  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = soak(Path(tmp), args.kills, log=lambda s: print(s, file=sys.stderr, flush=True))
    print("| kills | minute rows at the end | committed rows lost | integrity | restart "
          "carried on | time |")
    print("|---|---|---|---|---|---|")
    print(f"| {r.kills} | {r.rows} | {len(r.lost)} | ok after every kill | "
          f"{'yes' if r.final_ok else 'NO'} | {r.seconds / 60:.1f} min |")
    if r.lost or not r.final_ok:
        print("\n".join(r.lost[:20]))
        sys.exit(1)


if __name__ == "__main__":
    main()
