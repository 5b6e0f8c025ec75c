"""Comparisons at equal spending: ``run.py run --equal-spending`` and the cost-effectiveness curve
(``run.py curve``)."""

from __future__ import annotations

import pytest

import simulation.cli as cli
from simulation.runner import match_spending, run_scenario
from simulation.schemes.voucher import budget_in_use_idr
from tests.test_decomposition import SMALL, read_rows


@pytest.fixture(scope="module")
def small_both(tiny_both):
    return tiny_both.model_copy(update={"size": 300, "weeks": 30})


def test_budget_in_use_is_what_the_intake_costs_when_the_budget_is_ample(small_both):
    """300 recipients x (credit + incentive + surveys) x (1 + office share) x scale, by hand; a
    budget for 150.5 recipients pays 150."""
    v = small_both.voucher
    package = (
        v.credit_idr + v.incentive.amount_idr * v.incentive.months + v.survey.amount_idr * v.survey.count
    )
    per_recipient = package * (1 + v.admin_cost_share) * small_both.scale
    assert budget_in_use_idr(small_both) == pytest.approx(min(v.budget_idr, 300 * per_recipient))
    poor = small_both.model_copy(
        update={"voucher": v.model_copy(update={"budget_idr": 150.5 * per_recipient})}
    )
    assert budget_in_use_idr(poor) == pytest.approx(150 * per_recipient)  # whole recipients only


def test_matching_scales_the_bigger_spender_to_the_smaller(small_both):
    """The pilot's spending decides: the bigger spender's budget is multiplied by target / spent,
    the smaller keeps its budget; the voucher, whose spending follows its budget, then spends
    about the target."""
    pilot = run_scenario(small_both).summary["schemes"]
    spent = {name: pilot[name]["total_cost_idr"] for name in ("voucher", "tender")}
    matched, match = match_spending(small_both)
    assert match.spent_at_stated_idr == pytest.approx(spent)
    assert match.target_idr == min(spent.values())
    big = max(spent, key=spent.get)
    small = min(spent, key=spent.get)
    assert getattr(matched, small).budget_idr == getattr(small_both, small).budget_idr
    in_use = budget_in_use_idr(small_both) if big == "voucher" else small_both.tender.budget_idr
    expected = in_use * match.target_idr / spent[big]
    assert getattr(matched, big).budget_idr == pytest.approx(expected)
    after = run_scenario(matched).summary["schemes"]
    if big == "voucher":
        assert after["voucher"]["total_cost_idr"] == pytest.approx(match.target_idr, rel=0.15)
    assert after[small]["total_cost_idr"] == pytest.approx(spent[small])  # same world, same budget


def test_run_with_equal_spending_records_the_budgets(both_file, tmp_path, capsys):  # noqa: F811
    import json

    out = tmp_path / "eq"
    code = cli.main(["run", str(both_file), *SMALL, "--equal-spending", "--no-progress", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    record = json.loads((out / "provenance.json").read_text())
    spending = record["spending"]
    assert spending["mode"] == "matched"
    assert record["scenario"]["voucher"]["budget_idr"] == pytest.approx(
        spending["budgets_after_idr"]["voucher"]
    )
    assert "equal spending" in capsys.readouterr().out


def test_curve_spends_no_more_than_the_budget_and_more_with_more_money(both_file, tmp_path, capsys):  # noqa: F811
    out = tmp_path / "curve"
    args = ["curve", str(both_file), *SMALL, "--budgets", "0.5,1", "--replications", "2", "--out", str(out)]
    assert cli.main(args) == 0, capsys.readouterr().err
    rows = read_rows(out / "curve.csv")
    assert {(r["scheme"], float(r["multiplier"])) for r in rows} == {
        (s, m) for s in ("voucher", "tender") for m in (0.5, 1.0)
    }
    for r in rows:
        assert 0.0 <= float(r["budget_absorption"]) <= 1.0 + 1e-9
    voucher = {float(r["multiplier"]): float(r["spent_idr"]) for r in rows if r["scheme"] == "voucher"}
    assert voucher[0.5] < voucher[1.0]
    assert (out / "cost_curve.png").stat().st_size > 0


@pytest.mark.parametrize("budgets", ["0,1", "1,x", "1,1", "-1", "nan"])
def test_curve_refuses_bad_multipliers(both_file, tmp_path, capsys, budgets):  # noqa: F811
    code = cli.main(["curve", str(both_file), "--budgets", budgets, "--out", str(tmp_path / "c")])
    assert code == 2
    assert "--budgets" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()
