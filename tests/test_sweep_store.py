"""The sweep result store: manifest and fingerprint checks, atomic run files, resume after a crash."""

from __future__ import annotations

import inspect
import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
import traceback
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from simulation.experiments import store as store_module
from simulation.experiments.store import TEMP_SUFFIX, CorruptRuns, ResultStore, StoreError, load_sweep

MANIFEST = {
    "spec": {"name": "credit", "base": "scenarios/tiny.yaml"},
    "base_scenario": {"name": "tiny"},
    "runs": 500,  # run ids 0..499 are the design's; others are strays
    "packages": {"pandas": "3"},
    "git_commit": None,
    "created": "2024-01-01T00:00:00+00:00",
}


def _rows(run_id: int) -> list[dict]:
    """A run's rows as the sweep writes them: one per scheme."""
    return [
        {
            "run_id": run_id,
            "point": run_id // 2,
            "replication": run_id % 2,
            "seed": 1000 + run_id,
            "scheme": scheme,
            "voucher.credit_idr": 3.5e6,
            "itt_employment_pp": run_id + 0.25 * i,
            "wall_s": 0.1,
        }
        for i, scheme in enumerate(("voucher", "tender"))
    ]


@pytest.fixture
def store(tmp_path) -> ResultStore:
    return ResultStore.open(tmp_path / "sweep", "fp-one", MANIFEST)


def _temp_files(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.name.endswith(TEMP_SUFFIX)]


# -- manifest and fingerprint --------------------------------------------------------------------


def test_open_creates_the_folder_and_its_manifest(tmp_path):
    folder = tmp_path / "deep" / "sweep"
    store = ResultStore.open(folder, "fp-one", MANIFEST)
    written = json.loads((folder / "manifest.json").read_text())
    assert written == {"fingerprint": "fp-one", **MANIFEST}
    assert list(written)[0] == "fingerprint"
    assert store.manifest == written
    assert (folder / "runs").is_dir() and (folder / "failures").is_dir()
    assert not _temp_files(folder)
    assert store.finished() == set() and store.failed() == {}


def test_open_adds_created_when_missing(tmp_path):
    manifest = {key: value for key, value in MANIFEST.items() if key != "created"}
    store = ResultStore.open(tmp_path / "sweep", "fp-one", manifest)
    assert store.manifest["created"].startswith("20")


def test_reopen_with_the_same_fingerprint_keeps_manifest_and_runs(store):
    store.write_run(0, _rows(0))
    before = (store.folder / "manifest.json").read_bytes()
    again = ResultStore.open(store.folder, "fp-one", {**MANIFEST, "created": "later"})
    assert (store.folder / "manifest.json").read_bytes() == before  # written once, never again
    assert again.manifest["created"] == MANIFEST["created"]
    assert again.finished() == {0}
    assert ResultStore(store.folder).manifest == store.manifest


def test_reopen_with_another_fingerprint_is_refused(store):
    with pytest.raises(StoreError) as raised:
        ResultStore.open(store.folder, "fp-two", MANIFEST)
    message = str(raised.value)
    assert str(store.folder) in message and "fp-one" in message and "fp-two" in message
    assert isinstance(raised.value, OSError)
    assert json.loads((store.folder / "manifest.json").read_text())["fingerprint"] == "fp-one"


def test_non_empty_folder_without_manifest_is_refused(tmp_path):
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty"):
        ResultStore.open(folder, "fp-one", MANIFEST)
    assert sorted(os.listdir(folder)) == ["notes.txt"]


def test_empty_existing_folder_is_used(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    assert ResultStore.open(folder, "fp-one", MANIFEST).manifest["fingerprint"] == "fp-one"


def test_manifest_with_another_fingerprint_is_a_bug(tmp_path):
    with pytest.raises(ValueError, match="fingerprint"):
        ResultStore.open(tmp_path / "sweep", "fp-one", {**MANIFEST, "fingerprint": "fp-two"})


def test_load_sweep_needs_a_manifest(tmp_path):
    with pytest.raises(StoreError, match="no manifest.json"):
        load_sweep(tmp_path / "missing")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "runs").mkdir()
    with pytest.raises(StoreError, match="no manifest.json"):
        load_sweep(tmp_path / "other")


# -- writing and loading runs --------------------------------------------------------------------


def test_write_run_then_load_round_trips_sorted_by_run_id(store):
    five = _rows(5)
    five[1]["itt_employment_pp"] = None  # a metric a scheme does not have
    five[0]["only_in_five"] = "x"
    two = list(reversed(_rows(2)))  # schemes keep the order the run wrote them in
    two[0]["seats_contracted"] = 283  # int in one run, absent in the others
    for row in (*five, *two, *_rows(0)):
        row["always_none"] = None
    for run_id, rows in ((5, five), (2, two), (0, _rows(0))):
        path = store.write_run(run_id, rows)
        assert path == store.folder / "runs" / f"run-{run_id:06d}.parquet"

    frame = store.load()
    assert frame["run_id"].tolist() == [0, 0, 2, 2, 5, 5]
    assert frame["scheme"].tolist() == ["voucher", "tender", "tender", "voucher", "voucher", "tender"]
    assert frame.index.tolist() == list(range(6))
    assert list(frame.columns[:8]) == list(_rows(0)[0])
    for column in ("run_id", "point", "replication", "seed"):
        assert frame[column].dtype == "int64", column
    for column in ("itt_employment_pp", "voucher.credit_idr", "wall_s", "seats_contracted", "always_none"):
        assert frame[column].dtype == "float64", column
    expected = {(row["run_id"], row["scheme"]): row for row in (*five, *two, *_rows(0))}
    for record in frame.to_dict("records"):
        original = expected[(record["run_id"], record["scheme"])]
        for column, value in record.items():
            if original.get(column) is None:
                assert value is None or (isinstance(value, float) and math.isnan(value)), column
            else:
                assert value == original[column], column
    assert math.isnan(frame.loc[5, "itt_employment_pp"])
    assert frame["always_none"].isna().all()
    assert frame["seats_contracted"].tolist()[2] == 283.0
    pd.testing.assert_frame_equal(load_sweep(store.folder), frame)


def test_load_with_no_finished_run_is_empty(store):
    frame = store.load()
    assert frame.empty and len(frame.columns) == 0


def test_duplicate_run_keeps_the_first_file(store):
    first = store.write_run(3, _rows(3))
    inode = first.stat().st_ino
    changed = [{**row, "itt_employment_pp": -1.0} for row in _rows(3)]
    assert store.write_run(3, changed) == first
    assert first.stat().st_ino == inode
    frame = store.load()
    assert len(frame) == 2 and frame["itt_employment_pp"].tolist() == [3.0, 3.25]
    assert not _temp_files(store.folder)


def test_bad_rows_are_refused(store):
    with pytest.raises(ValueError, match="no rows"):
        store.write_run(0, [])
    with pytest.raises(ValueError, match="run_id"):
        store.write_run(0, _rows(1))
    with pytest.raises(ValueError, match=">= 0"):
        store.write_run(-1, _rows(0))
    with pytest.raises(TypeError, match="mixes types"):
        store.write_run(0, [{"scheme": "voucher", "x": 1}, {"scheme": "tender", "x": "one"}])
    assert store.finished() == set() and not _temp_files(store.folder)


def test_int_and_float_values_of_a_column_load_as_float(store):
    store.write_run(0, [{"scheme": "voucher", "x": 1}])
    store.write_run(1, [{"scheme": "voucher", "x": 2.5}])
    frame = store.load()
    assert frame["x"].dtype == "float64" and frame["x"].tolist() == [1.0, 2.5]


def test_run_id_column_is_added_when_rows_lack_it(store):
    store.write_run(7, [{"scheme": "voucher", "x": 1.0}])
    assert store.load().to_dict("records") == [{"run_id": 7, "scheme": "voucher", "x": 1.0}]


# -- pending, failures -----------------------------------------------------------------------------


def test_pending_keeps_order_and_retries_failed_runs(store):
    store.write_run(0, _rows(0))
    store.write_run(2, _rows(2))
    try:
        raise ValueError("boom")
    except ValueError as err:
        store.write_failure(1, err, traceback.format_exc())
    store.write_failure(4, "worker lost")
    assert store.finished() == {0, 2}
    assert store.pending([4, 3, 2, 1, 0]) == [4, 3, 1]
    assert store.failed() == {1: "ValueError: boom", 4: "worker lost"}
    record = json.loads((store.folder / "failures" / "run-000001.json").read_text())
    assert set(record) == {"run_id", "error", "traceback", "time"}
    assert record["run_id"] == 1 and "boom" in record["traceback"]

    store.write_run(1, _rows(1))  # the retry succeeds: its failure record goes
    assert not (store.folder / "failures" / "run-000001.json").exists()
    assert store.failed() == {4: "worker lost"}
    assert store.pending([4, 3, 2, 1, 0]) == [4, 3]
    assert not _temp_files(store.folder)


def test_write_failure_takes_the_traceback_of_the_exception(store):
    try:
        {}["missing"]
    except KeyError as err:
        path = store.write_failure(9, err)
    record = json.loads(path.read_text())
    assert record["error"] == "KeyError: 'missing'" and "missing" in record["traceback"]


# -- crash safety ----------------------------------------------------------------------------------


def test_leftover_temporary_file_is_ignored(store):
    store.write_run(0, _rows(0))
    whole = store.run_path(0).read_bytes()
    # a crash after writing the temporary file (half of it, or all of it) but before the rename
    (store.runs_dir / f".run-000001.parquet.k3j9{TEMP_SUFFIX}").write_bytes(whole[: len(whole) // 2])
    (store.runs_dir / f".run-000002.parquet.a8x1{TEMP_SUFFIX}").write_bytes(whole)
    assert store.finished() == {0}
    assert store.pending([0, 1, 2]) == [1, 2]
    assert store.load()["run_id"].tolist() == [0, 0]
    store.write_run(1, _rows(1))
    assert store.load()["run_id"].tolist() == [0, 0, 1, 1]


CHILD = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("sweep_store", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
{rows}
store = module.ResultStore(sys.argv[2])
for run_id in range(int(sys.argv[3])):
    store.write_run(run_id, _rows(run_id))
    time.sleep(0.0005)
"""


def test_sigkill_mid_sweep_leaves_whole_files_and_resumes(store):
    runs = 400  # the child would write 0..399; it is killed after about 25
    # the child loads the store module alone, without the simulation package (quick to start)
    script = CHILD.format(rows=textwrap.dedent(inspect.getsource(_rows)))
    child = subprocess.Popen(
        [sys.executable, "-c", script, store_module.__file__, str(store.folder), str(runs)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    try:
        while len(store.finished()) < 25:
            assert child.poll() is None, child.stderr.read().decode()
            assert time.monotonic() < deadline, "the child wrote no runs in time"
            time.sleep(0.002)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL

    reopened = ResultStore.open(store.folder, "fp-one", MANIFEST)
    done = reopened.finished()
    assert 25 <= len(done) < runs
    assert done == set(range(len(done)))  # written in order: no gap, the run in flight is all or nothing
    for path in sorted(reopened.runs_dir.glob("run-*.parquet")):
        table = pq.read_table(path)  # whole: a killed write never leaves a corrupt result
        assert table.num_rows == 2 and set(table.column("run_id").to_pylist()) == {int(path.stem[4:])}
    assert len(_temp_files(store.folder)) <= 1

    pending = reopened.pending(list(range(runs)))
    assert pending == list(range(len(done), runs))
    for run_id in pending:
        reopened.write_run(run_id, _rows(run_id))
    frame = load_sweep(store.folder)
    assert len(frame) == 2 * runs
    assert (frame.groupby("run_id").size() == 2).all()
    assert frame["run_id"].drop_duplicates().tolist() == list(range(runs))
    assert frame["itt_employment_pp"].tolist() == [
        row["itt_employment_pp"] for i in range(runs) for row in _rows(i)
    ]


# -- integrity: checksums, corrupt files, strays ----------------------------------------------------


def _flip_a_bit_of(path: Path, value: float) -> None:
    """Flip the lowest mantissa bit of the float64 ``value`` where it is stored in ``path`` (the file
    stays a valid Parquet file: only the number changes)."""
    import struct

    data = bytearray(path.read_bytes())
    at = bytes(data).index(struct.pack("<d", value))
    data[at] ^= 1
    path.write_bytes(bytes(data))


def test_each_run_file_has_a_check_record(store):
    path = store.write_run(3, _rows(3))
    record = json.loads(store.check_path(3).read_text())
    assert record["run_id"] == 3 and record["bytes"] == path.stat().st_size
    import hashlib

    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert store.repair().corrupt == {}


def test_a_changed_bit_is_found_by_load_and_moved_aside_by_repair(store):
    for run_id in range(4):
        store.write_run(run_id, _rows(run_id))
    _flip_a_bit_of(store.run_path(1), 1.25)
    assert pq.read_table(store.run_path(1)).num_rows == 2  # still readable: only the value changed
    with pytest.raises(CorruptRuns, match=r"run-000001\.parquet: its bytes changed") as caught:
        store.load()
    assert set(caught.value.problems) == {1}
    report = store.repair()
    assert set(report.corrupt) == {1} and "SHA-256" in report.corrupt[1]
    assert report.moved[1] == store.folder / "corrupt" / "run-000001.parquet" and report.moved[1].exists()
    assert (store.folder / "corrupt" / "run-000001.sha256").exists()
    assert "run-000001.parquet" in (store.folder / "corrupt" / "log.txt").read_text()
    assert store.finished() == {0, 2, 3} and store.pending([0, 1, 2, 3]) == [1]
    store.write_run(1, _rows(1))  # redone
    assert store.load()["itt_employment_pp"].tolist() == [0.0, 0.25, 1.0, 1.25, 2.0, 2.25, 3.0, 3.25]
    _flip_a_bit_of(store.run_path(1), 1.25)  # again: the second copy does not overwrite the first
    assert store.repair().moved[1].name == "run-000001.2.parquet"


def test_truncated_and_empty_run_files_are_redone(store):
    for run_id in range(3):
        store.write_run(run_id, _rows(run_id))
    whole = store.run_path(0).read_bytes()
    store.run_path(0).write_bytes(whole[: len(whole) // 2])
    store.run_path(1).write_bytes(b"")
    store.check_path(1).unlink()  # an empty file without a record: found by its content
    store.run_path(4).write_bytes(whole[:100])  # no record either
    assert store.finished() == {0, 1, 2, 4}
    report = store.repair()
    assert set(report.corrupt) == {0, 1, 4}
    assert "truncated" in report.corrupt[0] and report.corrupt[1] == "empty file"
    assert "not a readable run file" in report.corrupt[4]
    assert store.finished() == {2} and store.pending([0, 1, 2, 3, 4]) == [0, 1, 3, 4]


def test_a_file_holding_another_run_is_corrupt(store):
    for run_id in range(3):
        store.write_run(run_id, _rows(run_id))
    store.run_path(0).write_bytes(store.run_path(2).read_bytes())  # the file only
    store.run_path(1).write_bytes(store.run_path(2).read_bytes())  # the file and its record
    store.check_path(1).write_bytes(store.check_path(2).read_bytes())
    with pytest.raises(CorruptRuns) as caught:
        store.load()
    assert set(caught.value.problems) == {0, 1}
    assert "check record is for run 2, not 1" in caught.value.problems[1]
    store.check_path(0).unlink()  # without a record, the content shows it
    problem, recorded = store.problem(0, store.run_path(0).read_bytes())
    assert problem == "holds run 2, not 0" and not recorded


def test_a_run_file_without_a_record_is_checked_by_content_and_adopted(store):
    for run_id in range(2):
        store.write_run(run_id, _rows(run_id))
        store.check_path(run_id).unlink()  # killed between the two writes, or an older sweep
    assert len(store.load()) == 4
    report = store.repair()
    assert report.corrupt == {} and report.adopted == [0, 1]
    assert store.check_path(0).exists() and store.check_path(1).exists()


def test_strays_are_ignored_and_listed(store):
    for run_id in range(2):
        store.write_run(run_id, _rows(run_id))
    (store.runs_dir / "run-000600.parquet").write_bytes(store.run_path(0).read_bytes())  # not in the design
    (store.runs_dir / "notes.txt").write_text("mine")
    (store.runs_dir / f".run-000003.parquet.x1{TEMP_SUFFIX}").write_bytes(b"partial")  # not a stray
    assert store.finished() == {0, 1}
    assert store.strays() == ["notes.txt", "run-000600.parquet"]
    assert store.load()["run_id"].unique().tolist() == [0, 1]
    assert store.repair().strays == ["notes.txt", "run-000600.parquet"]
    assert (store.runs_dir / "notes.txt").exists()  # ignored, never removed


def test_a_manifest_missing_a_key_is_named(tmp_path):
    folder = tmp_path / "sweep"
    ResultStore.open(folder, "fp", {"runs": 2})
    manifest = json.loads((folder / "manifest.json").read_text())
    del manifest["fingerprint"]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(StoreError, match="manifest.json: no key 'fingerprint'"):
        ResultStore.open(folder, "fp", {"runs": 2})
    with pytest.raises(StoreError, match="no key 'spec'"):
        ResultStore(folder).manifest_value("spec")
