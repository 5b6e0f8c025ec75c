"""A damaged sweep folder never gives a silent wrong answer: changed, truncated, empty or swapped run
files are refused by ``analyze`` (exit 2) and redone by a resumed sweep (moved into ``corrupt/``,
never deleted); stray files are ignored with a warning; a manifest missing a key exits 2 naming it.
"""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulation.cli import main
from simulation.experiments.store import load_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


def write_spec(folder: Path) -> Path:
    path = folder / "damaged.yaml"
    path.write_text(
        f"name: damaged\nbase: {TINY}\nseed: 11\nsampler: grid\nreplications: 2\n"
        f"set: ['size=200', 'weeks=12', 'labour.endline_weeks=4']\n"
        f"metrics: [bought_share, total_cost_idr]\n"
        f"parameters:\n  - {{path: voucher.credit_idr, values: [500000, 1000000, 2000000]}}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> tuple[Path, Path]:
    """A finished 6-run sweep (spec, folder), to be copied by each test."""
    folder = tmp_path_factory.mktemp("pristine")
    spec = write_spec(folder)
    assert main(["sweep", str(spec), "--out", str(folder / "out"), "--no-progress"]) == 0
    return spec, folder / "out"


@pytest.fixture
def sweep_copy(pristine, tmp_path) -> tuple[Path, Path]:
    spec, folder = pristine
    shutil.copytree(folder, tmp_path / "out")
    return spec, tmp_path / "out"


def call(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def frame(folder: Path) -> pd.DataFrame:
    return load_sweep(folder).drop(columns=["wall_s"])


def run_file(folder: Path, run_id: int) -> Path:
    return folder / "runs" / f"run-{run_id:06d}.parquet"


def flip_bought_share(path: Path) -> tuple[float, float]:
    """Flip one bit of the stored bought_share so that it reads as another plausible share (the
    file stays valid Parquet); returns (before, after)."""
    before = float(pq.read_table(path).column("bought_share")[0].as_py())
    data = bytearray(path.read_bytes())
    at = bytes(data).index(struct.pack("<d", before))
    data[at + 6] ^= 0x01  # a high mantissa bit: 0.975 -> about 0.944
    path.write_bytes(bytes(data))
    after = float(pq.read_table(path).column("bought_share")[0].as_py())
    assert after != before and 0 <= after <= 1
    return before, after


def test_a_flipped_bit_makes_analyze_exit_2_and_resume_redo_the_run(sweep_copy, capsys):
    spec, out = sweep_copy
    expected = frame(out)
    flip_bought_share(run_file(out, 2))
    code, printed, err = call(capsys, "analyze", out)
    assert code == 2 and "Traceback" not in err
    assert "run-000002.parquet: its bytes changed since it was written" in err and "corrupt" in err
    assert printed == ""

    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 0, err
    assert "6 of 6 runs finished" in printed
    assert "warning: run 2: its file failed its check" in err and "moved to" in err
    assert (out / "corrupt" / "run-000002.parquet").exists()  # kept, not deleted
    pd.testing.assert_frame_equal(frame(out), expected)
    assert call(capsys, "analyze", out)[0] == 0


def test_truncated_empty_and_swapped_files_are_redone_on_resume(sweep_copy, capsys):
    spec, out = sweep_copy
    expected = frame(out)
    whole = run_file(out, 1).read_bytes()
    run_file(out, 1).write_bytes(whole[: len(whole) // 3])
    run_file(out, 3).write_bytes(b"")
    run_file(out, 4).write_bytes(run_file(out, 5).read_bytes())  # another run's file
    code, printed, err = call(capsys, "analyze", out)
    assert code == 2 and "3 corrupt run files" in err
    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 0 and "6 of 6 runs finished" in printed
    assert sorted(p.name for p in (out / "corrupt").glob("*.parquet")) == [
        "run-000001.parquet",
        "run-000003.parquet",
        "run-000004.parquet",
    ]
    pd.testing.assert_frame_equal(frame(out), expected)
    status = json.loads((out / "status.json").read_text())
    assert status["counts"] == {"finished": 6, "failed": 0, "pending": 0}


def test_stray_files_are_ignored_with_a_warning(sweep_copy, capsys):
    spec, out = sweep_copy
    shutil.copy(run_file(out, 0), run_file(out, 20))  # not a run of this 6-run design
    (out / "runs" / "notes.txt").write_text("mine", encoding="utf-8")
    code, printed, err = call(capsys, "analyze", out)
    assert code == 0, err
    assert "6 of 6 runs finished" in printed
    assert "ignored 2 file(s) that are not runs of this sweep: notes.txt, run-000020.parquet" in err
    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 0 and "6 of 6 runs finished" in printed and "notes.txt" in err
    assert (out / "runs" / "notes.txt").exists()


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m.pop("spec"), "manifest.json: no key 'spec'"),
        (lambda m: m.pop("runs"), "manifest.json: no key 'runs'"),
        (lambda m: m.update(runs="six"), "manifest.json: runs: expected the number of runs"),
        (lambda m: m["spec"].pop("name"), "manifest.json: spec.name: Field required"),
    ],
    ids=["no-spec", "no-runs", "runs-not-a-number", "spec-without-name"],
)
def test_a_damaged_manifest_makes_analyze_exit_2_naming_the_key(sweep_copy, capsys, edit, expected):
    spec, out = sweep_copy
    manifest = json.loads((out / "manifest.json").read_text())
    edit(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, printed, err = call(capsys, "analyze", out)
    assert code == 2 and expected in err and "Traceback" not in err, err
