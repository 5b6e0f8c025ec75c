"""``run.py variants``: named override sets of one scenario on paired seeds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from simulation import cli
from simulation.config.scenario import ScenarioError
from simulation.experiments import variants as va
from simulation.experiments.paired import run_configuration

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--size", "300", "--weeks", "30"]


def _spec_file(tmp_path: Path, spec: dict) -> Path:
    path = tmp_path / "variants.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


SPEC = {
    "reference": "as_written",
    "metrics": ["bought_share"],
    "variants": [
        {"name": "as_written", "label": "as written"},
        {"name": "no_incentive", "overrides": ["voucher.incentive.amount_idr=0"], "schemes": ["voucher"]},
        {"name": "no_allowance", "overrides": ["tender.allowance_idr=0"]},
    ],
}


def test_variants_writes_paired_differences(both_file, tmp_path, capsys):
    """Each variant's difference from the reference is the mean of the per-seed differences; the
    voucher-only variant's tender rows are the reference's, marked reused."""
    out = tmp_path / "out"
    argv = ["variants", str(both_file), *SMALL, "--variants", str(_spec_file(tmp_path, SPEC))]
    code = cli.main([*argv, "--replications", "2", "--out", str(out), "--no-progress"])
    assert code == 0
    assert {"variants.csv", "runs.csv", "variants.png", "provenance.json"} <= {p.name for p in out.iterdir()}
    runs = pd.read_csv(out / "runs.csv")
    table = pd.read_csv(out / "variants.csv")
    mine = runs[(runs.variant == "no_incentive") & (runs.scheme == "voucher")].sort_values("seed")
    ref = runs[(runs.variant == "as_written") & (runs.scheme == "voucher")].sort_values("seed")
    row = table[
        (table.variant == "no_incentive") & (table.scheme == "voucher") & (table.metric == "bought_share")
    ]
    expected = (mine["bought_share"].to_numpy() - ref["bought_share"].to_numpy()).mean()
    assert row["diff_vs_reference"].iloc[0] == pytest.approx(expected)
    reused = runs[(runs.variant == "no_incentive") & (runs.scheme == "tender")]
    assert reused["reused_from_reference"].all()
    tender_ref = runs[(runs.variant == "as_written") & (runs.scheme == "tender")]
    assert reused["total_cost_idr"].tolist() == tender_ref["total_cost_idr"].tolist()
    # no incentive: nobody is paid one
    cash = table[
        (table.variant == "no_incentive") & (table.scheme == "voucher") & (table.metric == "cash_paid_idr")
    ]
    assert (
        cash["mean"].iloc[0]
        < table[
            (table.variant == "as_written") & (table.scheme == "voucher") & (table.metric == "cash_paid_idr")
        ]["mean"].iloc[0]
    )
    assert "no_incentive" in capsys.readouterr().out


def test_voucher_blocks_leave_the_tender_unchanged(tiny_both):
    """The reuse rule's premise: changing any block that only the voucher reads leaves the tender's
    run exactly as it was (same seed, same world)."""
    raw = tiny_both.model_copy(update={"size": 300, "weeks": 30}).model_dump(mode="json")
    metrics = ["total_cost_idr", "additional_jobs", "participants_trained", "true_effect_offered_pp"]
    base = run_configuration(raw, "tiny", (), 3, ["tender"], metrics)
    changed = (
        "voucher.credit_idr=500000",
        "choice.quality_weight=5",
        "ratings.noise_sd=3",
        "platforms.0.commission=0.01",
        "pricing.step_share=0.3",
        "platforms.1.affiliated_providers=3",
        "voucher.fake_completion.enabled=true",
        "voucher.brokers.enabled=true",
        "choice.incentive_seekers.enabled=true",
        "ratings.gaming.fake_share_for_profit=0.3",
    )
    assert run_configuration(raw, "tiny", changed, 3, ["tender"], metrics) == base


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reference": "nobody"}, "reference: 'nobody' is not one of the variants"),
        ({"metrics": ["no_such_metric"]}, "metrics: 'no_such_metric' is not a registered metric"),
        (
            {"variants": [{"name": "a"}, {"name": "a"}], "reference": "a"},
            "the name 'a' is used twice",
        ),
        (
            {"variants": [{"name": "a"}, {"name": "b", "oops": 1}], "reference": "a"},
            "variants.1.oops",
        ),
    ],
)
def test_bad_variants_file_names_the_key(tmp_path, change, message):
    with pytest.raises(ScenarioError) as err:
        va.load_variants(_spec_file(tmp_path, {**SPEC, **change}))
    assert str(tmp_path) in str(err.value) and message in str(err.value)


def test_partial_variant_may_not_touch_shared_blocks(both_file, tmp_path, capsys):
    """A voucher-only variant that changes the labour market would reuse tender runs that are no
    longer what the tender gives: refused, exit 2, naming the file, the variant and the key."""
    spec = {
        **SPEC,
        "variants": [
            {"name": "as_written"},
            {"name": "labour", "overrides": ["labour.skill_effect=0"], "schemes": ["voucher"]},
        ],
    }
    path = _spec_file(tmp_path, spec)
    code = cli.main(
        ["variants", str(both_file), *SMALL, "--variants", str(path), "--out", str(tmp_path / "x")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "variants.yaml" in err and "variants.1 (labour)" in err and "'labour' block" in err
    assert not (tmp_path / "x").exists()


def test_bad_override_in_a_variant_names_it(both_file, tmp_path, capsys):
    spec = {
        **SPEC,
        "variants": [{"name": "as_written"}, {"name": "bad", "overrides": ["voucher.credit_idr=nan"]}],
    }
    path = _spec_file(tmp_path, spec)
    code = cli.main(
        ["variants", str(both_file), *SMALL, "--variants", str(path), "--out", str(tmp_path / "x")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "variants.1 (bad)" in err and "credit_idr" in err


def test_the_bundled_controls_file_fits_the_gaming_scenario():
    """scenarios/variants/prakerja_2020_controls.yaml checks against prakerja_2020_gaming.yaml: every
    variant validates, and every voucher-only variant changes only voucher blocks."""
    from simulation.config.scenario import load_scenario

    path = ROOT / "scenarios" / "variants" / "prakerja_2020_controls.yaml"
    spec = va.load_variants(path)
    scenario = load_scenario(ROOT / "scenarios" / "prakerja_2020_gaming.yaml")
    raw = scenario.model_dump(mode="json")
    assert va.check(raw, "prakerja_2020_gaming.yaml", spec, str(path)) == ["voucher", "tender"]
    assert spec.reference == "gaming" and spec.variants[0].name == "no_gaming"
