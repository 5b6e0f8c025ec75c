"""Interrupts, kills, full disks and file modes: a run or a sweep stopped at any moment says what it
saved in one line, leaves nothing partial, and cleans up after a SIGKILL on the next run."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import simulation.cli as cli
import simulation.experiments.store as store_module
import simulation.reporting.outputs as outputs
import simulation.runner
from simulation.experiments.store import ResultStore, load_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
SMALL = ["--size", "200", "--weeks", "12", "--no-progress"]


def call(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def start(*args, cwd: Path = ROOT) -> subprocess.Popen[str]:
    """``python run.py ARGS`` with SIGINT at its default action (a shell without job control starts
    background jobs, such as a CI script's, with SIGINT ignored, and Python keeps it ignored)."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), *map(str, args)],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def wait_for(condition, seconds: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def write_spec(folder: Path, replications: int = 4) -> Path:
    path = folder / "stopped.yaml"
    path.write_text(
        f"name: stopped\nbase: {TINY}\nseed: 11\nsampler: grid\nreplications: {replications}\n"
        f"set: ['size=200', 'weeks=12', 'labour.endline_weeks=4']\n"
        f"metrics: [bought_share, total_cost_idr]\n"
        f"parameters:\n  - {{path: voucher.credit_idr, values: [500000, 1000000, 2000000]}}\n",
        encoding="utf-8",
    )
    return path


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# --------------------------------------------------------------------------- stale staging folders


def test_a_staging_folder_left_by_sigkill_is_removed_by_the_next_run(tmp_path, capsys):
    child = start("run", TINY, *SMALL, "--out", tmp_path / "killed")
    wait_for(lambda: list(tmp_path.glob(".killed.staging-*")), what="the staging folder")
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    [left] = list(tmp_path.glob(".killed.staging-*"))
    assert left.is_dir() and f"-{child.pid}-" in left.name and not (tmp_path / "killed").exists()

    code, out, err = call(capsys, "run", TINY, *SMALL, "--out", tmp_path / "next")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next"]


def test_only_staging_folders_of_dead_processes_are_removed(tmp_path):
    host = outputs._host_tag()
    dead = tmp_path / f".a.staging-{host}-{dead_pid()}-abc123"
    alive = tmp_path / f".b.staging-{host}-{os.getppid()}-def456"
    other_host = tmp_path / f".c.staging-{'0' * 8 if host != '0' * 8 else '1' * 8}-{dead_pid()}-ghi789"
    mine = tmp_path / ".results-copy"  # not a staging folder at all
    for folder in (dead, alive, other_host, mine):
        folder.mkdir()
        (folder / "summary.json").write_text("{}")
    assert outputs.remove_stale_staging(tmp_path) == [dead]
    assert not dead.exists() and alive.exists() and other_host.exists() and mine.exists()


# --------------------------------------------------------------------------- SIGINT


def test_sigint_during_start_up_exits_130_with_one_line(tmp_path):
    for delay in (0.3, 2.5):  # while importing the command line; while importing the model
        child = start("run", TINY, *SMALL, "--out", tmp_path / f"out{delay}")
        time.sleep(delay)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
        assert child.returncode == 130, (delay, err)
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
        assert err.startswith("interrupted")
        assert list(tmp_path.iterdir()) == []


def test_sigint_of_a_sweep_writes_status_and_says_how_many_runs_were_saved(tmp_path, capsys):
    spec = write_spec(tmp_path)  # 12 runs
    out = tmp_path / "out"
    child = start("sweep", spec, "--out", out, "--no-progress")
    wait_for(lambda: len(list((out / "runs").glob("run-*.parquet"))) >= 2, 120, "two saved runs")
    child.send_signal(signal.SIGINT)
    printed, err = child.communicate(timeout=120)
    assert child.returncode == 130, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    saved = len(ResultStore(out).finished())
    assert 2 <= saved < 12
    assert err.strip() == (
        f"interrupted: {saved} of 12 runs are saved in {out} (status.json lists them); "
        f"run the same command again to resume"
    )
    status = json.loads((out / "status.json").read_text())
    assert status["counts"] == {"finished": saved, "failed": 0, "pending": 12 - saved}
    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 0 and "12 of 12 runs finished" in printed


# --------------------------------------------------------------------------- full disk


def no_space(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_while_writing_a_run_exits_1_with_one_line_and_nothing_partial(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setattr(outputs, "write_json", no_space)
    out = tmp_path / "out"
    code, printed, err = call(capsys, "run", TINY, *SMALL, "--out", out)
    assert code == 1
    assert err == f"error: {out}: No space left on device while writing results; nothing was written\n"
    assert printed == "" and list(tmp_path.iterdir()) == []


def test_a_full_disk_during_a_sweep_exits_1_with_one_line_and_resumes(tmp_path, monkeypatch, capsys):
    spec = write_spec(tmp_path, replications=1)  # 3 runs
    real = store_module._write_atomic
    written = []

    def fills_up(path, content, replace):
        if path.suffix == ".parquet":
            if written:
                no_space()
            written.append(path)
        return real(path, content, replace)

    monkeypatch.setattr(store_module, "_write_atomic", fills_up)
    out = tmp_path / "out"
    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 1, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "No space left on device while saving a run; 1 of 3 runs are saved" in err
    assert not list((out / "failures").iterdir())  # a full disk is not the runs' fault
    monkeypatch.setattr(store_module, "_write_atomic", real)
    code, printed, err = call(capsys, "sweep", spec, "--out", out, "--no-progress")
    assert code == 0 and "3 of 3 runs finished" in printed
    assert sorted(load_sweep(out)["run_id"].unique()) == [0, 1, 2]


def test_a_full_disk_when_a_sweep_starts_exits_1_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(store_module, "_write_atomic", no_space)
    out = tmp_path / "out"
    code, printed, err = call(
        capsys, "sweep", write_spec(tmp_path, replications=1), "--out", out, "--no-progress"
    )
    assert code == 1
    assert err == f"error: {out}: No space left on device while preparing the sweep folder\n"


# --------------------------------------------------------------------------- unwritable --out


@pytest.fixture
def no_simulation(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the output folder should have been checked before simulating")

    monkeypatch.setattr(simulation.runner, "run_scenario", refuse)


def test_an_unwritable_out_is_refused_before_simulating(tmp_path, capsys, no_simulation):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, printed, err = call(capsys, "run", TINY, *SMALL, "--out", blocker / "out")
    assert code == 2 and str(blocker / "out") in err and "cannot create the output folder" in err


def test_an_unwritable_results_folder_is_refused_before_simulating(
    tmp_path, capsys, monkeypatch, no_simulation
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").write_text("a file where the results folder should be", encoding="utf-8")
    code, printed, err = call(capsys, "run", TINY, *SMALL)
    assert code == 2 and "results/tiny-" in err and "cannot create the output folder" in err


def test_a_read_only_parent_is_refused_before_simulating(tmp_path, capsys, monkeypatch, no_simulation):
    # The folder really is read-only for anyone but root; so that the test means the same when it
    # runs as root (as CI does), creating the staging folder also fails as the kernel would.
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)

    def refused(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(parent))

    monkeypatch.setattr(outputs.tempfile, "mkdtemp", refused)
    try:
        code, printed, err = call(capsys, "run", TINY, *SMALL, "--out", parent / "out")
    finally:
        parent.chmod(0o700)
    assert code == 2 and "Permission denied" in err and printed == ""


# --------------------------------------------------------------------------- file modes


@pytest.fixture
def umask():
    def set_umask(mask: int) -> None:
        os.umask(mask)

    old = os.umask(0o022)
    try:
        yield set_umask
    finally:
        os.umask(old)


@pytest.mark.parametrize(("mask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o027, 0o750, 0o640)])
def test_results_follow_the_umask(tmp_path, capsys, umask, mask, folder_mode, file_mode):
    umask(mask)
    out = tmp_path / "out"
    assert call(capsys, "run", TINY, *SMALL, "--out", out)[0] == 0
    assert stat.S_IMODE(out.stat().st_mode) == folder_mode
    assert stat.S_IMODE((out / "figures").stat().st_mode) == folder_mode
    for name in ("summary.json", "provenance.json", "timeseries.csv"):
        assert stat.S_IMODE((out / name).stat().st_mode) == file_mode, name

    store = ResultStore.open(tmp_path / "sweep", "fp", {"runs": 2})
    store.write_run(0, [{"scheme": "voucher", "x": 1.0}])
    store.write_status([0, 1])
    for path in (
        store.folder / "manifest.json",
        store.run_path(0),
        store.check_path(0),
        store.folder / "status.json",
    ):
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path.name
