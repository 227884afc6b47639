"""Regenerate the scenario traces in tests/data/scenarios/ (deterministic: same bytes every run).

    .venv/bin/python tests/data/make_scenarios.py            # rewrite scenarios/ and INDEX.csv
    .venv/bin/python tests/data/make_scenarios.py --check    # exit 1 if a committed file differs
    .venv/bin/python tests/data/make_scenarios.py --copy-real DIR   # DIR: the shared oxford folder

The synthetic physics lives in device/synthetic.py; this script only names, seeds and writes.
Two scenarios are derived from the real traces in tests/data/real/ (slowed, rotated).
Numbers are written with 4-5 significant digits (t 0.1 ms, acc 1 mm/s², gyro 0.01 deg/s) and gzip
headers carry no time stamp or file name, so regenerating gives byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import sys
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT.parents[1]))

from device import synthetic  # noqa: E402

SCENARIO_DIR = ROOT / "scenarios"
REAL_DIR = ROOT / "real"
SEED = 0

# The real recordings copied into tests/data/real/ (placement -> source trace name).
REAL_TRACES = {
    "frontpocket": "samsung_dario_hard_frontpocket_2",
    "backpocket": "samsung_dario_hard_backpocket_1",
    "inhand": "samsung_jamie_hard_inhand_1",
    "neckpouch": "samsung_carmelo_hard_neckpouch_2",
}
SLOWED_SOURCE = REAL_TRACES["backpocket"]
ROTATED_SOURCE = REAL_TRACES["frontpocket"]
ATTRIBUTION = ("derived from the Oxford step counter data set (Oxford-step-counter/DataSet, "
               "CC BY 4.0); see tests/data/real/README.md")


# ----------------------------------------------------------------------------- writing / reading


def _gzip(data: bytes) -> bytes:
    """gzip with no time stamp and no file name in the header: reproducible bytes."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def trace_bytes(meta: dict[str, str], t: np.ndarray, acc: np.ndarray,
                gyro: np.ndarray | None = None, extra_lines: Iterable[str] = ()) -> bytes:
    """A trace file (gzip-compressed CSV): `# key: value` lines, header, rows."""
    out = io.StringIO()
    for line in extra_lines:
        out.write(line.rstrip("\n") + "\n")
    for key, value in meta.items():
        out.write(f"# {key}: {value}\n")
    cols = [_rounded(t[:, None], 4), _rounded(acc, 3)]
    fmt = ["%.4f", "%.3f", "%.3f", "%.3f"]
    header = "t,ax,ay,az"
    if gyro is not None:
        cols.append(_rounded(gyro, 2))
        fmt += ["%.2f", "%.2f", "%.2f"]
        header += ",gx,gy,gz"
    out.write(header + "\n")
    np.savetxt(out, np.hstack(cols), fmt=fmt, delimiter=",")
    return _gzip(out.getvalue().encode("ascii"))


def _rounded(x: np.ndarray, decimals: int) -> np.ndarray:
    """Rounded, with -0 written as 0."""
    r = np.round(np.asarray(x, dtype=float), decimals)
    r[r == 0] = 0.0
    return r


def steps_bytes(steps: np.ndarray) -> bytes:
    """A truth file: header `t`, one step time per row (possibly no rows)."""
    return ("t\n" + "".join(f"{s:.4f}\n" for s in steps)).encode("ascii")


def read_trace(path: Path) -> tuple[list[str], np.ndarray]:
    """Tiny reader for our own files: (metadata lines, float array of the rows)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as f:
        lines = f.read().splitlines()
    meta = [ln for ln in lines if ln.startswith("#")]
    body = [ln for ln in lines if ln and not ln.startswith("#")]
    rows = np.array([[float(x) for x in ln.split(",")] for ln in body[1:]])
    return meta, rows


def read_steps(path: Path) -> np.ndarray:
    with open(path) as f:
        lines = f.read().split()
    return np.array([float(x) for x in lines[1:]])


# ----------------------------------------------------------------------------- scenarios


def real_trace(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, acc, steps) of a trace in tests/data/real/."""
    _, rows = read_trace(REAL_DIR / f"{name}.csv.gz")
    return rows[:, 0], rows[:, 1:4], read_steps(REAL_DIR / f"{name}.steps.csv")


def build_all() -> dict[str, synthetic.Scenario]:
    """Every committed scenario, in INDEX order."""
    scenarios = {name: synthetic.build_scenario(name, SEED) for name in synthetic.SCENARIOS}
    t, acc, steps = real_trace(SLOWED_SOURCE)
    sc = synthetic.slowed_real(t, acc, steps, 70.0, seed=SEED, source=SLOWED_SOURCE)
    sc.meta["scenario"] = "real_slowed_70spm"
    sc.meta["source"] = ATTRIBUTION
    scenarios["real_slowed_70spm"] = sc
    t, acc, steps = real_trace(ROTATED_SOURCE)
    sc = synthetic.rotated_real(t, acc, steps, seed=SEED, source=ROTATED_SOURCE)
    sc.meta["source"] = ATTRIBUTION
    scenarios["real_rotated"] = sc
    return scenarios


def scenario_files(name: str, sc: synthetic.Scenario) -> dict[str, bytes]:
    """File name -> bytes for one scenario: the trace and its truth."""
    meta = {"scenario": name, "seed": sc.meta["seed"], "rate_hz": sc.meta["rate_hz"],
            "description": sc.meta["description"]}
    meta.update({k: v for k, v in sc.meta.items() if k not in meta})
    meta["generator"] = "tests/data/make_scenarios.py (device/synthetic.py)"
    return {f"{name}.csv.gz": trace_bytes(meta, sc.t, sc.acc, sc.gyro),
            f"{name}.steps.csv": steps_bytes(sc.steps)}


def index_bytes(scenarios: dict[str, synthetic.Scenario]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["trace", "scenario_kind", "rate_hz", "duration_s", "steps", "description"])
    for name, sc in scenarios.items():
        w.writerow([name, sc.meta["kind"], sc.meta["rate_hz"], f"{sc.t[-1] - sc.t[0]:.1f}",
                    sc.steps.size, sc.meta["description"]])
    return out.getvalue().encode("utf-8")


def all_files() -> dict[str, bytes]:
    """Every file of tests/data/scenarios/, by name."""
    scenarios = build_all()
    files: dict[str, bytes] = {}
    for name, sc in scenarios.items():
        files.update(scenario_files(name, sc))
    files["INDEX.csv"] = index_bytes(scenarios)
    return files


# ----------------------------------------------------------------------------- real copies


def copy_real(src: Path) -> None:
    """Copy the chosen real traces, rounded to t 0.1 ms / acc 1 mm/s², keeping their # lines."""
    REAL_DIR.mkdir(exist_ok=True)
    index = io.StringIO()
    w = csv.writer(index, lineterminator="\n")
    w.writerow(["trace", "placement", "device", "duration_s", "rate_hz", "steps"])
    for placement, name in REAL_TRACES.items():
        meta, rows = read_trace(src / f"{name}.csv.gz")
        meta.append("# changes: rounded to t 0.1 ms and acc 0.001 m/s2 for the test data "
                    "(tests/data/make_scenarios.py --copy-real)")
        t = np.round(rows[:, 0], 4)
        if np.any(np.diff(t) <= 0):
            raise SystemExit(f"{name}: rounding t to 0.1 ms breaks monotonic time")
        (REAL_DIR / f"{name}.csv.gz").write_bytes(
            trace_bytes({}, t, rows[:, 1:4], extra_lines=meta))
        steps = read_steps(src / f"{name}.steps.csv")
        (REAL_DIR / f"{name}.steps.csv").write_bytes(steps_bytes(steps))
        device = next((ln.split(":", 1)[1].strip() for ln in meta
                       if ln.startswith("# device:")), "")
        w.writerow([name, placement, device, f"{t[-1] - t[0]:.1f}",
                    f"{(t.size - 1) / (t[-1] - t[0]):.0f}", steps.size])
    (REAL_DIR / "INDEX.csv").write_text(index.getvalue())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="compare with the committed files instead of writing")
    parser.add_argument("--copy-real", type=Path, metavar="DIR",
                        help="first copy the chosen real traces from DIR into tests/data/real/")
    args = parser.parse_args(argv)
    if args.copy_real:
        copy_real(args.copy_real)
    files = all_files()
    if args.check:
        bad = [n for n, data in files.items()
               if not (SCENARIO_DIR / n).exists() or (SCENARIO_DIR / n).read_bytes() != data]
        for n in bad:
            print(f"differs: {SCENARIO_DIR / n}", file=sys.stderr)
        return 1 if bad else 0
    SCENARIO_DIR.mkdir(exist_ok=True)
    for n, data in files.items():
        (SCENARIO_DIR / n).write_bytes(data)
    total = sum(len(d) for d in files.values())
    print(f"wrote {len(files)} files, {total / 1e6:.2f} MB, to {SCENARIO_DIR}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
