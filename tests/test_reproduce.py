"""Named experiments (``run.py reproduce``): specs, checks worked by hand, the report, resume,
and the same runs in this process and on Dask."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulation.cli import EXIT_BAD_INPUT, EXIT_OK, main
from simulation.experiments import checks as ch
from simulation.experiments.experiment import (
    Arm,
    Check,
    ExperimentError,
    Plan,
    list_experiments,
    load_experiment,
    plan,
)
from simulation.experiments.reproduce import reproduce, run_specs, with_reused
from simulation.experiments.store import ResultStore

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
EXPECTED = {
    "rct_2020",
    "copay",
    "credit_level",
    "tender_scoring",
    "monitoring",
    "ratings",
    "budget_neutral",
    "decomposition",
    "gaming_controls",
    "counselling",
}


def _spec(tmp_path: Path, body: str, name: str = "tiny_credit") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(textwrap.dedent(body).replace("BASE", str(TINY)), encoding="utf-8")
    return path


TINY_SPEC = """
    name: tiny_credit
    title: Credit on the tiny world
    question: Does a larger credit buy dearer courses?
    base: BASE
    seed: 5
    replications: 3
    schemes: [voucher]
    set: ["size=400", "weeks=20"]
    design:
      parameter: {path: voucher.credit_idr, values: [500000, 2000000]}
    metrics: [bought_share]
    checks:
      - name: prices paid rise with the credit
        kind: difference
        metric: mean_price_paid_idr
        scheme: voucher
        arm: credit_idr=2000000
        versus: {arm: credit_idr=500000}
        expect: positive
        expectation: dearer courses with more credit
        source: a test
      - name: pass-through between 0 and 1
        kind: slope
        metric: mean_price_paid_idr
        scheme: voucher
        expect: within
        low: 0
        high: 1
        expectation: part of the credit goes into prices
        source: a test
    quick: {replications: 2, set: ["size=200"]}
"""


# --------------------------------------------------------------------------- the checks, by hand


def _plan(arms: list[Arm], reference: str = "a") -> Plan:
    return Plan({}, (), tuple(arms), reference, ("voucher", "tender"), 3, False)


def _runs() -> pd.DataFrame:
    # three replications; arm a at x = 0 and arm b at x = 2; y = 10 + 3x + (replication shift r)
    rows = []
    for r in range(3):
        for arm, x in (("a", 0.0), ("b", 2.0)):
            rows.append({"arm": arm, "replication": r, "scheme": "voucher", "bought_share": 10 + 3 * x + r})
            rows.append({"arm": arm, "replication": r, "scheme": "tender", "bought_share": 5 + x})
    return pd.DataFrame(rows)


def _check(**fields) -> Check:
    base = {"name": "c", "metric": "bought_share", "scheme": "voucher", "expectation": "e", "source": "s"}
    return Check.model_validate({**base, **fields})


def test_slope_is_the_paired_least_squares_slope():
    found = _plan([Arm(name="a", x=0.0), Arm(name="b", x=2.0)])
    # each replication: y(b) - y(a) = 6 over dx = 2, so the slope is 3 in every replication (sd 0)
    stats = ch.measure(_check(kind="slope", expect="positive"), found, _runs(), "(all with x)")
    assert stats["mean"] == pytest.approx(3.0)
    assert stats["ci_low"] == pytest.approx(3.0) and stats["ci_high"] == pytest.approx(3.0)
    assert stats["n"] == 3


def test_difference_is_paired_by_replication():
    found = _plan([Arm(name="a"), Arm(name="b")])
    # the replication shift r cancels: b - a = 6 in every replication
    check = _check(kind="difference", arm="b", versus={"arm": "a"}, expect="positive")
    stats = ch.measure(check, found, _runs(), "b")
    assert stats["mean"] == pytest.approx(6.0) and stats["ci_low"] == pytest.approx(6.0)
    # between schemes in one arm: voucher - tender in arm a = (10 + r) - 5 = 5, 6, 7: mean 6,
    # sd 1, half-width t(0.975, 2) / sqrt(3) = 4.303 / 1.732 = 2.484
    check = _check(kind="difference", arm="a", versus={"scheme": "tender"}, expect="positive")
    stats = ch.measure(check, found, _runs(), "a")
    assert stats["mean"] == pytest.approx(6.0)
    assert stats["ci_low"] == pytest.approx(6.0 - 2.4841, abs=1e-3)


def test_level_and_the_rules_of_passing():
    found = _plan([Arm(name="a"), Arm(name="b")])
    stats = ch.measure(_check(expect="covers", value=11.0), found, _runs(), "a")  # 10, 11, 12
    assert stats["mean"] == pytest.approx(11.0)
    assert ch.judge(_check(expect="covers", value=11.0), stats)[0] == ch.PASS
    assert ch.judge(_check(expect="covers", value=14.0), stats)[0] == ch.FAIL  # 11 +/- 2.48
    assert ch.judge(_check(expect="within", low=10.5, high=11.5), stats)[0] == ch.PASS
    assert ch.judge(_check(expect="within", high=10.0), stats)[0] == ch.FAIL
    assert ch.judge(_check(expect="positive"), stats)[0] == ch.PASS
    assert ch.judge(_check(expect="negative"), stats)[0] == ch.FAIL
    # materiality: the CI (8.52, 13.48) is above 0, but a mean of 11 is below a material size of 12
    assert ch.judge(_check(expect="positive", min_effect=10.0), stats)[0] == ch.PASS
    verdict, reason = ch.judge(_check(expect="positive", min_effect=12.0), stats)
    assert verdict == ch.FAIL and "material" in reason
    assert ch.rule_text(_check(expect="negative", min_effect=3.0)) == "95% CI below 0 and mean <= -3"
    verdict, reason = ch.judge(_check(expect="positive"), {"mean": float("nan")})
    assert verdict == ch.FAIL and "no finite value" in reason


def test_reused_schemes_come_from_the_reference_arm():
    found = Plan(
        {}, (), (Arm(name="a"), Arm(name="b", schemes=("voucher",))), "a", ("voucher", "tender"), 3, False
    )
    runs = _runs()
    runs = runs[~((runs.arm == "b") & (runs.scheme == "tender"))]
    filled = with_reused(runs, found)
    tender_b = filled[(filled.arm == "b") & (filled.scheme == "tender")]
    tender_a = filled[(filled.arm == "a") & (filled.scheme == "tender")]
    assert tender_b.reused.all() and not tender_a.reused.any()
    assert tender_b.bought_share.tolist() == tender_a.bought_share.tolist()


# --------------------------------------------------------------------------- specs and errors


def test_every_bundled_experiment_loads_with_its_quick_version():
    names = {path.stem for path in list_experiments()}
    assert names >= EXPECTED
    for path in list_experiments():
        experiment = load_experiment(path)
        assert experiment.name == path.stem
        full, quick = plan(experiment, quick=False), plan(experiment, quick=True)
        assert quick.replications < full.replications
        assert {a.name for a in quick.arms} <= {a.name for a in full.arms}
        assert len(run_specs(experiment, quick)) < len(run_specs(experiment, full))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            ("metrics: [bought_share]", "metrics: [no_such_metric]"),
            "metrics: 'no_such_metric' is not a registered",
        ),
        (
            ("        versus: {arm: credit_idr=500000}\n", ""),
            "checks.0: a difference needs 'versus'",
        ),
        (
            ("arm: credit_idr=2000000", "arm: credit_idr=7"),
            "checks.0 (prices paid rise with the credit): arm",
        ),
        (("values: [500000, 2000000]", "values: [500000, -1]"), "arm 1 (credit_idr=-1)"),
        (("replications: 3", "replications: .nan"), "replications"),
        (
            ("scheme: voucher\n        arm:", "scheme: tender\n        arm:"),
            "the experiment does not run 'tender'",
        ),
    ],
)
def test_bad_specs_name_the_file_and_the_key(tmp_path, edit, message):
    body = TINY_SPEC.replace(*edit)
    assert body != TINY_SPEC
    path = _spec(tmp_path, body)
    with pytest.raises(ExperimentError) as err:
        load_experiment(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_command_line_lists_and_refuses_bad_input(capsys, tmp_path):
    assert main(["reproduce", "--list"]) == EXIT_OK
    listed = capsys.readouterr().out
    assert all(name in listed for name in EXPECTED) and "invalid" not in listed
    assert main(["reproduce", "no_such_experiment"]) == EXIT_BAD_INPUT
    assert "no such experiment" in capsys.readouterr().err
    assert main(["reproduce"]) == EXIT_BAD_INPUT
    bad = _spec(tmp_path, TINY_SPEC.replace("metrics: [bought_share]", "metrics: [nope]"))
    assert main(["reproduce", str(bad), "--quick"]) == EXIT_BAD_INPUT
    assert "Traceback" not in capsys.readouterr().err


# --------------------------------------------------------------------------- running


def test_report_resume_and_the_same_runs_on_dask(tmp_path, capsys):
    spec = _spec(tmp_path, TINY_SPEC)
    out = tmp_path / "out"
    assert main(["reproduce", str(spec), "--out", str(out), "--no-progress"]) == EXIT_OK
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "## Checks" in report and "prices paid rise with the credit" in report
    checks = pd.read_csv(out / "checks.csv")
    assert list(checks.check) == ["prices paid rise with the credit", "pass-through between 0 and 1"]
    assert set(checks.verdict) <= {ch.PASS, ch.FAIL}
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 2 * 3 and set(runs.arm) == {"credit_idr=500000", "credit_idr=2000000"}
    # common random numbers: replication r has one seed in both arms
    assert runs.groupby("replication").seed.nunique().eq(1).all()
    assert (out / "figures" / "arms.png").stat().st_size > 1000
    # resume: nothing runs again, and the report is the same
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")}
    assert main(["reproduce", str(spec), "--out", str(out), "--no-progress"]) == EXIT_OK
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("*.parquet")} == stamps
    assert (out / "report.md").read_text(encoding="utf-8") == report
    # the same runs on a local Dask cluster of 2 workers
    from simulation.experiments.execute import dask_client

    client = dask_client(2)
    try:
        found = reproduce(load_experiment(spec), quick=True, folder=tmp_path / "dask", executor=client)
    finally:
        client.close()
        client.cluster.close()
    reproduce(load_experiment(spec), quick=True, folder=tmp_path / "here")
    here = ResultStore(tmp_path / "here").load().drop(columns="wall_s")
    there = ResultStore(found.folder).load().drop(columns="wall_s")
    pd.testing.assert_frame_equal(here, there)


def test_another_experiment_in_the_folder_is_refused(tmp_path, capsys):
    spec = _spec(tmp_path, TINY_SPEC)
    out = tmp_path / "out"
    assert main(["reproduce", str(spec), "--out", str(out), "--quick", "--no-progress"]) == EXIT_OK
    capsys.readouterr()
    assert main(["reproduce", str(spec), "--out", str(out), "--no-progress"]) == EXIT_BAD_INPUT
    assert "holds another sweep" in capsys.readouterr().err


def test_slope_of_a_known_line_through_the_model_runs(tmp_path):
    """The slope check on real runs equals the least-squares slope of the stored values."""
    spec = _spec(tmp_path, TINY_SPEC)
    found = reproduce(load_experiment(spec), quick=True, folder=tmp_path / "q")
    runs = pd.read_csv(found.folder / "runs.csv")
    x = runs.arm.map({"credit_idr=500000": 5e5, "credit_idr=2000000": 2e6})
    slopes = [
        np.polyfit(x[runs.replication == r], runs.mean_price_paid_idr[runs.replication == r], 1)[0]
        for r in sorted(set(runs.replication))
    ]
    assert found.checks is not None
    row = found.checks[found.checks.kind == "slope"].iloc[0]
    assert row["mean"] == pytest.approx(np.mean(slopes))
