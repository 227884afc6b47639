"""The mobgap lab benchmark reads Mobilise-D's data.mat layout and counts steps inside bouts.

The real recordings are not in the repository (tests/bench/mobgap_lab.py says where they come
from), so these tests write a small data.mat of the same layout with scipy and check the reader,
the counting inside the reference's bouts and the command's errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import savemat

from tests.bench import mobgap_lab
from tests.test_gait_stages import hip, rhythm


def write_lab(folder: Path, steps: np.ndarray, bouts: list[tuple[float, float]]) -> None:
    """A participant HA/001 with one daily-living trial: a hip walk at ``steps``, in g."""
    _, acc, _ = hip(steps, np.full(steps.size, 2.0), steps[-1] + 4.0, sway=0.9)
    contacts = [steps[(steps >= a) & (steps <= b)] for a, b in bouts]
    trial = {
        "SU": {"LowerBack": {"Acc": acc / mobgap_lab.G, "Gyr": np.zeros_like(acc),
                             "Fs": {"Acc": 100.0, "Gyr": 100.0}}},
        "Standards": {"INDIP": {"MicroWB": [
            {"Start": a, "End": b, "InitialContact_Event": c}
            for (a, b), c in zip(bouts, contacts, strict=True)]}},
    }
    (folder / "HA" / "001").mkdir(parents=True)
    savemat(folder / "HA" / "001" / "data.mat",
            {"data": {"TimeMeasure1": {"Test11": {"Trial1": trial}}}})


def test_a_walk_inside_the_reference_bout_is_counted_step_for_step(tmp_path: Path) -> None:
    steps = rhythm(3.0, 20, 100)
    write_lab(tmp_path, steps, [(steps[0] - 0.2, steps[-1] + 0.2)])
    [rec] = mobgap_lab.load(tmp_path)
    assert rec.name == "HA/001 Test11 Trial1"
    assert rec.contacts.size == 20
    row = mobgap_lab.score(rec)
    assert row.true == 20 and abs(row.ours - 20) <= 1
    assert "HA/001 Test11 Trial1" in mobgap_lab.table([row])


def test_steps_outside_the_reference_bouts_are_not_scored(tmp_path: Path) -> None:
    steps = rhythm(3.0, 20, 100)
    # The reference made a bout of the first ten steps only.
    write_lab(tmp_path, steps, [(steps[0] - 0.2, steps[9] + 0.1)])
    [rec] = mobgap_lab.load(tmp_path)
    row = mobgap_lab.score(rec)
    assert row.true == 10 and abs(row.ours - 10) <= 1
    # 0.25 s of slack either side: 1.0 and 2.0 are in, 0.8 and 2.2 are not.
    assert mobgap_lab.inside(np.array([0.8, 1.0, 2.0, 2.2]), [(1.1, 1.9)]) == 2


def test_a_missing_or_empty_folder_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert mobgap_lab.main([str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert mobgap_lab.main([str(tmp_path)]) == 2
    assert "no */*/data.mat" in capsys.readouterr().err
