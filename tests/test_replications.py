"""Paired comparison and replications through the public API and the CLI."""

from __future__ import annotations

import json

import pytest

from simulation import load_scenario, run_scenario
from simulation.cli import main
from tests.conftest import TENDER_ARM, TINY

SMALL = {"size": 300, "weeks": 20}


@pytest.fixture(scope="module")
def replicated():
    scenario = load_scenario(TINY, TENDER_ARM, **SMALL)
    return run_scenario(scenario, replications=3).summary


def test_difference_block_is_tender_minus_voucher_on_the_root_seed(replicated):
    v, t = replicated["schemes"]["voucher"], replicated["schemes"]["tender"]
    diff = replicated["difference"]["tender - voucher"]
    assert diff["total_cost_idr"] == pytest.approx(t["total_cost_idr"] - v["total_cost_idr"])
    assert diff["true_effect_offered_pp"] == pytest.approx(
        t["true_effect_offered_pp"] - v["true_effect_offered_pp"]
    )


def test_replications_are_reproducible_from_the_root_seed(replicated):
    again = run_scenario(load_scenario(TINY, TENDER_ARM, **SMALL), replications=3).summary
    assert again["replications"] == replicated["replications"]
    assert replicated["replications"]["n"] == 3
    assert replicated["seed"] not in replicated["replications"]["seeds"]
    other = run_scenario(load_scenario(TINY, TENDER_ARM, seed=8, **SMALL), replications=3).summary
    assert other["replications"]["seeds"] != replicated["replications"]["seeds"]


def test_replication_intervals_contain_their_means_and_pair_the_difference(replicated):
    reps = replicated["replications"]
    stat = reps["schemes"]["voucher"]["total_cost_idr"]
    assert stat["n"] == 3 and stat["ci_low"] <= stat["mean"] <= stat["ci_high"]
    v = reps["schemes"]["voucher"]["total_cost_idr"]["mean"]
    t = reps["schemes"]["tender"]["total_cost_idr"]["mean"]
    assert reps["difference"]["tender - voucher"]["total_cost_idr"]["mean"] == pytest.approx(t - v)


def test_cli_replications_write_the_block_and_the_comparison_figure(tmp_path, capsys):
    out = tmp_path / "out"
    sets = [arg for item in TENDER_ARM for arg in ("--set", item)]
    code = main(
        ["run", str(TINY), "--out", str(out), "--size", "200", "--weeks", "12", "--replications", "2", *sets]
    )
    printed = capsys.readouterr().out
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"]["n"] == 2 and "tender - voucher" in summary["difference"]
    assert (out / "figures" / "comparison.png").stat().st_size > 0
    assert "tender - voucher" in printed and "over 2 replications" in printed


def test_replications_on_dask_workers_give_the_in_process_summary(both_file, tmp_path, capsys):
    """``--workers 2`` runs the replications on a local Dask cluster (the root seed stays in this
    process): summary.json is the in-process one, value for value, and the provenance says where
    the replications ran."""
    args = ["run", str(both_file), "--size", "200", "--weeks", "12", "--replications", "3", "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "here")]) == 0, capsys.readouterr().err
    assert main([*args, "--workers", "2", "--out", str(tmp_path / "dask")]) == 0, capsys.readouterr().err
    here = json.loads((tmp_path / "here" / "summary.json").read_text())
    dask = json.loads((tmp_path / "dask" / "summary.json").read_text())
    assert dask["replications"]["n"] == 3
    assert dask["replications"] == here["replications"]
    assert dask == here
    assert json.loads((tmp_path / "dask" / "provenance.json").read_text())["workers"] == 2
    # The root seed's figures, drawn while the workers ran, and the comparison drawn after: the same
    # four files as in-process.
    figures = sorted(path.name for path in (tmp_path / "dask" / "figures").iterdir())
    assert figures == sorted(path.name for path in (tmp_path / "here" / "figures").iterdir())
    assert figures == ["comparison.png", "price_distribution.png", "price_vs_quality.png", "weekly.png"]


def test_before_replications_sees_the_root_seeds_result_before_the_replications_run(monkeypatch):
    import simulation.runner as runner

    events = []
    replicate = runner.replicate
    monkeypatch.setattr(runner, "replicate", lambda *args: events.append("replication") or replicate(*args))

    def before(root):
        events.append("root")
        assert "replications" not in root.summary and set(root.models) == {"voucher", "tender"}

    result = run_scenario(
        load_scenario(TINY, TENDER_ARM, **SMALL), replications=2, before_replications=before
    )
    assert events == ["root", "replication", "replication"]
    assert result.summary["replications"]["n"] == 2


def test_workers_without_replications_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(TINY), "--workers", "2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--workers" in err and "--replications N" in err
    assert not out.exists()
