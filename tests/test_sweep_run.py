"""Sweeps end to end: identical results in-process and on a real Dask LocalCluster, resume after
SIGKILL, failing runs isolated, bad specs and mixed folders refused."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import main
from simulation.experiments import fingerprint, load_sweep_spec
from simulation.experiments.analyze import analyze, point_differences
from simulation.experiments.execute import dask_client, sweep
from simulation.experiments.store import ResultStore, load_sweep
from simulation.rules.parallel import threads

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
    assert (expected.groupby("replication")["seed"].nunique() == 1).all()  # common random numbers
    for workers in (1, 2):
        client = dask_client(workers=workers)
        try:
            # Each worker runs one core's share of the kernels' threads and no stack profiler
            # (which slows a replication by up to 1.3x, benchmarks/bench_parallel.py).
            settings = client.run(worker_settings)
            assert list(settings.values()) == [(False, str(max(1, threads() // workers)))] * workers
            outcome = sweep(spec, tmp_path / f"dask{workers}", executor=client)
        finally:
            client.close()
            client.cluster.close()
        assert outcome.ok
        pd.testing.assert_frame_equal(results(tmp_path / f"dask{workers}"), expected)


def worker_settings() -> tuple[bool, str | None]:
    """On a worker: whether Dask's profiler is on, and NUMBA_NUM_THREADS."""
    import os

    import dask

    return dask.config.get("distributed.worker.profile.enabled"), os.environ.get("NUMBA_NUM_THREADS")


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
        (
            "common_random_numbers: often\nparameters:\n  - {path: voucher.credit_idr, values: [1]}\n",
            "common_random_numbers: Input should be a valid boolean",
        ),
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


# --------------------------------------------------------------------------- common random numbers


def test_resuming_with_the_other_common_random_numbers_setting_is_refused(tmp_path, capsys):
    on = write_spec(tmp_path)
    off = tmp_path / "off.yaml"
    off.write_text(on.read_text(encoding="utf-8") + "common_random_numbers: false\n", encoding="utf-8")
    out = tmp_path / "out"
    ResultStore.open(out, fingerprint(load_sweep_spec(off)), {"runs": 6})  # a sweep begun without CRN
    assert main(["sweep", str(on), "--out", str(out), "--no-progress"]) == 2
    assert "fingerprint" in capsys.readouterr().err
    assert ResultStore(out).finished() == set()


def test_common_random_numbers_pair_the_design_points_of_a_real_sweep(tmp_path, capsys):
    """2 credit levels x 6 replications on the tiny world: replication r runs on one world at both
    levels, so the paired CI of the difference is narrower than the unpaired one on the same runs."""
    path = tmp_path / "crn.yaml"
    path.write_text(
        f"name: crn\nbase: {TINY}\nseed: 11\nreplications: 6\nset: ['weeks=10']\n"
        "parameters:\n  - {path: voucher.credit_idr, values: [500000, 1000000]}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--no-progress"]) == 0
    assert main(["analyze", str(out)]) == 0
    assert "paired by replication (common random numbers)" in capsys.readouterr().out
    rows = load_sweep(out)
    assert (rows.groupby("replication")["seed"].nunique() == 1).all() and rows["seed"].nunique() == 6
    paired = pd.read_csv(out / "differences.csv").set_index("metric")
    assert set(paired["pairing"]) == {"paired"} and set(paired["point"]) == {1}
    unpaired = point_differences(rows, ["voucher.credit_idr"], list(paired.index), paired=False)
    unpaired = unpaired.set_index("metric")
    for metric in ("total_cost_idr", "itt_employment_pp"):  # both carry much world-to-world noise
        width = paired.loc[metric, "ci_high"] - paired.loc[metric, "ci_low"]
        unpaired_width = unpaired.loc[metric, "ci_high"] - unpaired.loc[metric, "ci_low"]
        levels = rows.pivot(index="replication", columns="point", values=metric)
        pooled_sd = np.sqrt((levels[0].var(ddof=1) + levels[1].var(ddof=1)) / 2)
        assert paired.loc[metric, "mean"] == pytest.approx(unpaired.loc[metric, "mean"])
        assert width < unpaired_width, metric
        # Unpaired (independent worlds), differences would spread by about sqrt(2) x the pooled sd.
        assert paired.loc[metric, "sd"] < pooled_sd, metric


def handmade_store(folder: Path, common: bool, replications: int = 8) -> Path:
    """A grid sweep's store written by hand: 3 credit levels, a world effect per replication that
    is large (sd 10) next to the point effect (+1 per level) and the run's own noise (sd 0.1)."""
    rng = np.random.default_rng(0)
    levels = [500000, 1000000, 2000000]
    spec = {
        "name": "handmade",
        "base": str(TINY),
        "seed": 1,
        "replications": replications,
        "common_random_numbers": common,
        "parameters": [{"path": "voucher.credit_idr", "values": levels}],
    }
    store = ResultStore.open(folder, "handmade", {"spec": spec, "runs": 3 * replications})
    world = rng.normal(0, 10, replications)
    for point, credit in enumerate(levels):
        for r in range(replications):
            run_id = point * replications + r
            y = world[r] + point + rng.normal(0, 0.1)
            store.write_run(
                run_id,
                [
                    {
                        "run_id": run_id,
                        "point": point,
                        "replication": r,
                        "seed": 1000 + r if common else 1000 + run_id,
                        "scheme": "voucher",
                        "voucher.credit_idr": credit,
                        "score": y,
                        "wall_s": 0.0,
                    }
                ],
            )
    return folder


def test_paired_differences_are_much_narrower_than_unpaired_ones(tmp_path):
    from scipy import stats

    report = analyze(handmade_store(tmp_path / "crn", common=True))
    table = pd.read_csv(tmp_path / "crn" / "differences.csv")
    assert table["ci_low"].tolist() == pytest.approx(report["differences"]["ci_low"].tolist())
    assert table["point"].tolist() == [1, 2] and table["voucher.credit_idr"].tolist() == [1000000, 2000000]
    assert set(table["pairing"]) == {"paired"} and (table["n"] == 8).all()
    assert "paired by replication" in report["text"] and "voucher.credit_idr=500,000" in report["text"]
    rows = load_sweep(tmp_path / "crn")
    score = rows.pivot(index="replication", columns="point", values="score")
    unpaired = point_differences(rows, ["voucher.credit_idr"], ["score"], paired=False)
    for k, point in enumerate((1, 2)):
        row = table.iloc[k]
        expected = stats.ttest_rel(score[point], score[0]).confidence_interval(0.95)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx((expected.low, expected.high))
        assert row["mean"] == pytest.approx(point, abs=0.2)
        assert row["ci_low"] > 0  # paired, the effect stands out of the noise
        welch = stats.ttest_ind(score[point], score[0], equal_var=False).confidence_interval(0.95)
        other = unpaired.iloc[k]
        assert (other["ci_low"], other["ci_high"]) == pytest.approx((welch.low, welch.high))
        assert 10 * (row["ci_high"] - row["ci_low"]) < other["ci_high"] - other["ci_low"]
        assert other["ci_low"] < 0 < other["ci_high"]  # unpaired, the effect is lost in the noise


def test_without_common_random_numbers_the_analysis_says_the_differences_are_unpaired(tmp_path):
    from scipy import stats

    report = analyze(handmade_store(tmp_path / "off", common=False))
    assert "unpaired" in report["text"] and "Welch" in report["text"]
    table = pd.read_csv(tmp_path / "off" / "differences.csv")
    assert set(table["pairing"]) == {"unpaired"} and table["sd"].isna().all()
    score = load_sweep(tmp_path / "off").pivot(index="replication", columns="point", values="score")
    welch = stats.ttest_ind(score[2], score[0], equal_var=False)
    row = table[table["point"] == 2].iloc[0]
    assert row["df"] == pytest.approx(welch.df)
    ci = welch.confidence_interval(0.95)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((ci.low, ci.high))
    # a missing replication at a point: unpaired uses what there is, paired only complete pairs
    rows = load_sweep(tmp_path / "off")
    rows = rows[~((rows["point"] == 1) & (rows["replication"] == 0))]
    for paired, n in ((False, 7), (True, 7)):
        diff = point_differences(rows, ["voucher.credit_idr"], ["score"], paired=paired)
        assert diff.set_index("point").loc[1, "n"] == n and diff.set_index("point").loc[2, "n"] == 8
    assert point_differences(rows, ["voucher.credit_idr"], ["score"], True).loc[0, "n_baseline"] == 7
