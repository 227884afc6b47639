"""Run every benchmark and rewrite its table in README.md (between <!-- bench:NAME --> marks).

    .venv/bin/python tests/bench/update_readme.py [--only accuracy,speed,...] [--mobgap DIR]

Each benchmark runs as its own process, exactly as the README shows it; its stdout replaces
the marked block, so the README always shows what the commands print. The mobgap lab table
needs data that is not in the repository (see tests/bench/mobgap_lab.py): without --mobgap it
is left as it was, and the run says so.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHES = {
    "accuracy": ["tests/bench/bench_accuracy.py"],
    "speed": ["tests/bench/bench_speed.py"],
    "runtime": ["tests/bench/bench_runtime.py"],
    "render": ["tests/bench/bench_render.py"],
    "sync": ["tests/bench/bench_sync.py"],
    "wear": ["tests/bench/bench_wear.py"],
    "mobgap": ["tests/bench/mobgap_lab.py"],  # + the data folder (--mobgap)
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHES))
    parser.add_argument("--mobgap", metavar="DIR",
                        help="mobgap's example_data/data/lab folder, for the mobgap table")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    for name in names:
        command = BENCHES[name]
        if name == "mobgap":
            if not args.mobgap:
                print("mobgap: skipped (no --mobgap DIR), its table left as it was",
                      file=sys.stderr, flush=True)
                continue
            command = [*command, args.mobgap]
        print(f"running {name} ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, *command], cwd=REPO, check=True,
                             capture_output=True, text=True).stdout.strip()
        body = out if out.startswith("|") else f"```\n{out}\n```"
        pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(\n<!-- /bench:{name} -->)", re.S)
        if not pattern.search(text):
            raise SystemExit(f"README.md has no <!-- bench:{name} --> block")
        text = pattern.sub(lambda m, b=body: m.group(1) + b + m.group(2), text)
    readme.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
