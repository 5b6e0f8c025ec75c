"""Sweeps end to end: identical results in-process and on a real Dask LocalCluster, resume after
SIGKILL, failing runs isolated, bad specs and mixed folders refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments import load_sweep_spec
from simulation.experiments.execute import dask_client, sweep
from simulation.experiments.store import ResultStore, load_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


def write_spec(folder: Path, name: str = "small", replications: int = 2, values=(500000, 1000000, 2000000)):
    path = folder / f"{name}.yaml"
    path.write_text(
        f"name: {name}\nbase: {TINY}\nseed: 11\nsampler: grid\nreplications: {replications}\n"
        f"set: ['size=200', 'weeks=12', 'labour.endline_weeks=4']\n"
        f"metrics: [bought_share, true_effect_offered_pp, total_cost_idr]\n"
        f"parameters:\n  - {{path: voucher.credit_idr, values: {list(values)}}}\n",
        encoding="utf-8",
    )
    return path


def results(folder: Path) -> pd.DataFrame:
    return load_sweep(folder).drop(columns=["wall_s"]).reset_index(drop=True)


def test_same_results_in_process_and_on_one_or_two_dask_workers(tmp_path):
    spec = load_sweep_spec(write_spec(tmp_path))
    sweep(spec, tmp_path / "inprocess")
    expected = results(tmp_path / "inprocess")
    assert len(expected) == 6 and expected["run_id"].tolist() == list(range(6))
    for workers in (1, 2):
        client = dask_client(workers=workers)
        try:
            outcome = sweep(spec, tmp_path / f"dask{workers}", executor=client)
        finally:
            client.close()
            client.cluster.close()
        assert outcome.ok
        pd.testing.assert_frame_equal(results(tmp_path / f"dask{workers}"), expected)


def test_resume_after_sigkill_loses_only_runs_in_flight(tmp_path):
    spec_path = write_spec(tmp_path, "killed", replications=8)  # 24 runs
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(ROOT / "run.py"),
        "sweep",
        str(spec_path),
        "--out",
        str(out),
        "--no-progress",
    ]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "runs").glob("run-*.parquet"))) < 3:
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    done_before = ResultStore(out).finished()
    assert 3 <= len(done_before) < 24, "the child should be killed mid-sweep"
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run-*.parquet")}
    assert main(["sweep", str(spec_path), "--out", str(out), "--no-progress"]) == 0
    final = load_sweep(out)
    assert sorted(final["run_id"]) == list(range(24))  # every run exactly once
    for name, mtime in kept.items():  # finished runs were not redone
        assert (out / "runs" / name).stat().st_mtime_ns == mtime


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, capsys):
    import simulation.experiments.execute as execute

    real = execute.run_scenario

    def flaky(scenario, **kwargs):
        if scenario.voucher.credit_idr == 1000000:
            raise RuntimeError("deliberate failure at credit 1,000,000")
        return real(scenario, **kwargs)

    monkeypatch.setattr(execute, "run_scenario", flaky)
    spec_path = write_spec(tmp_path)
    code = main(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 3
    assert "4 of 6 runs finished, 2 failed" in out and "deliberate failure" in err
    failed = ResultStore(tmp_path / "out").failed()
    assert sorted(failed) == [2, 3] and all("deliberate failure" in e for e in failed.values())
    monkeypatch.setattr(execute, "run_scenario", real)  # fixed: the rerun completes the failed runs
    assert main(["sweep", str(spec_path), "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert sorted(load_sweep(tmp_path / "out")["run_id"]) == list(range(6))


def test_another_spec_refuses_to_mix_into_an_existing_folder(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(write_spec(tmp_path)), "--out", str(out), "--no-progress"]) == 0
    other = write_spec(tmp_path, "other", values=(300000, 600000))
    assert main(["sweep", str(other), "--out", str(out), "--no-progress"]) == 2
    assert "fingerprint" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parameters:\n  - {path: voucher.credit_idrr, values: [1]}\n", "did you mean 'credit_idr'"),
        ("sampler: grid\nparameters:\n  - {path: voucher.credit_idr, low: 1, high: 2}\n", "parameters.0"),
        ("samplr: grid\nparameters:\n  - {path: voucher.credit_idr, values: [1]}\n", "samplr"),
    ],
)
def test_bad_specs_exit_2_naming_the_key(tmp_path, capsys, text, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nbase: {TINY}\n{text}", encoding="utf-8")
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and expected in err and "Traceback" not in err


def test_dry_run_prints_the_run_count(capsys):
    assert main(["sweep", str(ROOT / "scenarios" / "sweeps" / "sobol_design.yaml"), "--dry-run"]) == 0
    assert "4,608 runs" in capsys.readouterr().out


def test_analyze_reports_effects_with_confidence_intervals(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["sweep", str(write_spec(tmp_path)), "--out", str(out), "--no-progress"]) == 0
    assert main(["analyze", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "total_cost_idr along voucher.credit_idr" in printed
    assert (out / "effects.csv").exists() and list((out / "figures").glob("effect_*.png"))
    effects = pd.read_csv(out / "effects.csv")
    cost = effects[effects["metric"] == "total_cost_idr"].sort_values("value")
    assert (cost["ci_low"] <= cost["mean"]).all() and (cost["mean"] <= cost["ci_high"]).all()
    assert cost["mean"].is_monotonic_increasing  # more credit, more spending


def sweep_and_analyze(tmp_path: Path, sampler: str, samples: int, seed: int) -> Path:
    """Run a small sensitivity sweep (credit level and revisit share) and analyse it."""
    path = tmp_path / f"{sampler}.yaml"
    path.write_text(
        f"name: {sampler}\nbase: {TINY}\nseed: {seed}\nsampler: {sampler}\nsamples: {samples}\n"
        "replications: 1\nset: ['size=200', 'weeks=12', 'labour.endline_weeks=4']\n"
        "metrics: [total_cost_idr]\n"
        "parameters:\n  - {path: voucher.credit_idr, low: 300000, high: 3000000}\n"
        "  - {path: choice.revisit_share, low: 0.1, high: 0.9}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 0
    assert main(["analyze", str(out)]) == 0
    return out


def test_sobol_indices_with_confidence_intervals(tmp_path, capsys):
    out = sweep_and_analyze(tmp_path, "sobol", samples=8, seed=5)
    table = pd.read_csv(out / "sensitivity.csv")
    assert set(table["parameter"]) == {"voucher.credit_idr", "choice.revisit_share"}
    assert {"S1", "S1_conf", "ST", "ST_conf"} <= set(table.columns)
    credit = table[table["parameter"] == "voucher.credit_idr"].iloc[0]
    revisit = table[table["parameter"] == "choice.revisit_share"].iloc[0]
    assert credit["ST"] > revisit["ST"]  # the credit level drives what the treasury spends
    assert (out / "figures" / "sensitivity.png").exists()


def test_a_batch_isolates_a_failing_run():
    from simulation.config.scenario import read_yaml
    from simulation.experiments import RunSpec
    from simulation.experiments.execute import batches, run_batch

    runs = [
        RunSpec(run_id=k, point=k, replication=0, values={"voucher.credit_idr": credit}, seed=k + 1)
        for k, credit in enumerate([500000, -5, 1000000])
    ]
    fixed = ["size=100", "weeks=8", "labour.endline_weeks=2"]
    outcomes = run_batch(read_yaml(TINY), str(TINY), fixed, runs, None, ["bought_share"])
    assert [run_id for run_id, _, _ in outcomes] == [0, 1, 2]
    assert outcomes[0][1] and outcomes[2][1] and outcomes[0][2] is None
    assert outcomes[1][1] is None and "voucher.credit_idr" in outcomes[1][2]
    # batches: about four per worker, in order, nothing lost
    sizes = [len(b) for b in batches(list(range(40)), workers=2)]
    assert sizes == [5] * 8 and sum(batches(list(range(3)), workers=2), []) == [0, 1, 2]


def test_morris_indices(tmp_path):
    out = sweep_and_analyze(tmp_path, "morris", samples=4, seed=9)
    table = pd.read_csv(out / "sensitivity.csv").set_index("parameter")
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table.columns)
    assert table.loc["voucher.credit_idr", "mu_star"] > table.loc["choice.revisit_share", "mu_star"]


def test_status_file_lists_every_run(tmp_path, monkeypatch):
    import json

    import simulation.experiments.execute as execute

    real = execute.run_scenario
    monkeypatch.setattr(
        execute,
        "run_scenario",
        lambda s, **k: (
            (_ for _ in ()).throw(ValueError("no")) if s.voucher.credit_idr == 2000000 else real(s, **k)
        ),
    )
    out = tmp_path / "out"
    sweep(load_sweep_spec(write_spec(tmp_path)), out)
    status = json.loads((out / "status.json").read_text())
    assert status["counts"] == {"finished": 4, "failed": 2, "pending": 0}
    assert status["runs"]["4"] == "failed" and status["runs"]["0"] == "finished"
    assert "no" in status["failed"]["4"]
