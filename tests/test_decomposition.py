"""The decomposition of the voucher-tender gap: its arithmetic by hand, and ``run.py decompose``."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest

from simulation.reporting import decomposition as dec

ROOT = Path(__file__).resolve().parent.parent
SMALL = ["--size", "300", "--weeks", "30"]
A, B = "a", "b"


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def fake_runs(
    gaps: dict[frozenset, list[float]], true_shift: float = 0.0, jobs=None, cost=None, target_shift=0.0
):
    """Runs whose voucher ITT minus tender ITT is ``gaps[c][r]`` (the tender's effects are all 1.0);
    the voucher's ITT target exceeds its ITT by ``target_shift`` and its true effect on the offered
    by ``true_shift``."""
    runs = {}
    for configuration, values in gaps.items():
        reps = []
        for r, gap in enumerate(values):
            reps.append(
                {
                    "voucher": {
                        dec.ITT: 1.0 + gap,
                        dec.ITT_TARGET: 1.0 + gap + target_shift,
                        dec.TRUE_EFFECT: 1.0 + gap + true_shift,
                        "total_cost_idr": (cost or {}).get(configuration, (100.0, 100.0))[0],
                        "additional_jobs": (jobs or {}).get(configuration, ([10.0] * len(values), None))[0][
                            r
                        ],
                    },
                    "tender": {
                        dec.ITT: 1.0,
                        dec.ITT_TARGET: 1.0,
                        dec.TRUE_EFFECT: 1.0,
                        "total_cost_idr": (cost or {}).get(configuration, (100.0, 100.0))[1],
                        "additional_jobs": 5.0 + 0.1 * r,
                    },
                }
            )
        runs[configuration] = reps
    return runs


# Two interacting factors, worked by hand: gap(none) 0, gap(a) 1, gap(b) 2, gap(a, b) 5.
# In the order (a, b): a adds 1, b adds 4. In the order (b, a): b adds 2, a adds 3.
# Shapley: a = (1 + 3) / 2 = 2, b = (4 + 2) / 2 = 3; both add up to gap(a, b) - gap(none) = 5.
HAND = {frozenset(): 0.0, frozenset({A}): 1.0, frozenset({B}): 2.0, frozenset({A, B}): 5.0}


def test_sequential_contributions_by_hand_depend_on_the_order():
    forward = {name: dec.apply(c, HAND) for name, c in dec.sequential([A, B])}
    backward = {name: dec.apply(c, HAND) for name, c in dec.sequential([B, A])}
    assert forward == {A: 1.0, B: 4.0}
    assert backward == {B: 2.0, A: 3.0}


def test_shapley_values_by_hand_average_the_orders():
    values = {name: dec.apply(c, HAND) for name, c in dec.shapley([A, B])}
    assert values == pytest.approx({A: 2.0, B: 3.0})


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_contributions_add_up_to_the_whole_change_in_any_order(k):
    rng = np.random.default_rng(k)
    names = [f"f{i}" for i in range(k)]
    gap = {frozenset(c): rng.normal() for n in range(k + 1) for c in itertools.combinations(names, n)}
    whole = gap[frozenset(names)] - gap[frozenset()]
    assert sum(dec.apply(c, gap) for _, c in dec.shapley(names)) == pytest.approx(whole)
    for order in itertools.permutations(names):
        assert sum(dec.apply(c, gap) for _, c in dec.sequential(list(order))) == pytest.approx(whole)


def test_shapley_of_additive_factors_is_each_factor_alone():
    """Without interactions every order credits each factor with its own effect."""
    own = {"x": 1.5, "y": -0.5, "z": 2.0}
    gap = {frozenset(c): sum(own[f] for f in c) for n in range(4) for c in itertools.combinations(own, n)}
    assert {name: dec.apply(c, gap) for name, c in dec.shapley(list(own))} == pytest.approx(own)


def test_effect_stats_are_paired_over_replications():
    """Per replication the contribution of b after a is gap(a, b) - gap(a); with gaps (a) 1, 2, 3 and
    (a, b) 2, 4, 6 over three replications it is 1, 2, 3: mean 2, sd 1, t interval 2 -+ 4.303 / sqrt(3)."""
    runs = fake_runs({frozenset(): [0, 0, 0], frozenset({A}): [1, 2, 3], frozenset({A, B}): [2, 4, 6]})
    (_, first), (_, second) = dec.sequential([A, B])
    stats = dec.effect_stats(second, runs)
    assert stats["mean"] == pytest.approx(2.0)
    assert stats["sd"] == pytest.approx(1.0)
    assert stats["ci_high"] - stats["mean"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    assert dec.effect_stats(first, runs)["mean"] == pytest.approx(2.0)


def test_measurements_change_the_effect_measured_and_no_cost():
    """The lottery step goes from the ITT to its target, the population step from the target to the
    effect on everyone offered: with the voucher's target 0.3 pp above its ITT and its effect on the
    offered 0.7 pp above that, they contribute +0.3 and +0.7 pp in that order, and (in the other
    order) population alone +1.0 pp and lottery then nothing; neither changes the cost."""
    runs = fake_runs({frozenset(): [1.0, 2.0, 4.0]}, target_shift=0.3, true_shift=1.0)
    forward = dict(dec.sequential([dec.LOTTERY, dec.POPULATION]))
    assert dec.effect_stats(forward[dec.LOTTERY], runs)["mean"] == pytest.approx(0.3)
    assert dec.effect_stats(forward[dec.POPULATION], runs)["mean"] == pytest.approx(0.7)
    backward = dict(dec.sequential([dec.POPULATION, dec.LOTTERY]))
    assert dec.effect_stats(backward[dec.POPULATION], runs)["mean"] == pytest.approx(1.0)
    assert dec.effect_stats(backward[dec.LOTTERY], runs)["mean"] == pytest.approx(0.0)
    for combination in (*forward.values(), *backward.values()):
        cost = dec.cost_stats(combination, runs)
        assert cost["mean"] == 0.0 and cost["ci_low"] == 0.0 and cost["ci_high"] == 0.0


def test_cost_gap_is_a_difference_of_ratios_of_means():
    """Voucher: cost 100 over jobs 10, 20 (mean 15) = 6.667; tender: cost 100 over jobs 5.0, 5.1 (mean
    5.05) = 19.80; the gap is 6.667 - 19.80 = -13.14 (IDR per job)."""
    jobs = {frozenset(): ([10.0, 20.0], None)}
    runs = fake_runs({frozenset(): [0.0, 0.0]}, jobs=jobs)
    stats = dec.cost_stats(dec.level(()), runs)
    assert stats["mean"] == pytest.approx(100 / 15 - 100 / 5.05)


# --------------------------------------------------------------------------- run.py decompose


def test_decompose_writes_the_table_and_the_waterfall(both_file, tmp_path, capsys):
    import simulation.cli as cli
    from simulation.experiments.decompose import FACTORS

    out = tmp_path / "dec"
    code = cli.main(["decompose", str(both_file), *SMALL, "--replications", "2", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = read_rows(out / "decomposition.csv")
    lines = [r["line"] for r in rows if r["question"] == "effect"]
    assert lines == ["as written", *[f.name for f in FACTORS], "level field"]
    effect = {r["line"]: float(r["mean"]) for r in rows if r["question"] == "effect"}
    contributions = sum(effect[f.name] for f in FACTORS)
    assert contributions == pytest.approx(effect["level field"] - effect["as written"])
    assert (out / "waterfall.png").stat().st_size > 0
    runs = read_rows(out / "runs.csv")
    assert {r["scheme"] for r in runs} == {"voucher", "tender"}
    assert len({r["seed"] for r in runs}) == 2  # every configuration on the same two seeds
    assert "as written" in capsys.readouterr().out


def test_decompose_refuses_a_scenario_without_a_tender(tmp_path, capsys):
    import simulation.cli as cli

    tiny = ROOT / "scenarios" / "tiny.yaml"
    code = cli.main(["decompose", str(tiny), *SMALL, "--out", str(tmp_path / "x")])
    assert code == 2
    err = capsys.readouterr().err
    assert "tiny.yaml" in err and "tender" in err
    assert not (tmp_path / "x").exists()


def test_decompose_needs_two_replications(both_file, tmp_path, capsys):
    import simulation.cli as cli

    code = cli.main(["decompose", str(both_file), "--replications", "1", "--out", str(tmp_path / "x")])
    assert code == 2
    assert "--replications" in capsys.readouterr().err


def _flatten(data, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}{key}."))
        return out
    return {prefix.rstrip("."): data}


@pytest.mark.parametrize("name", ["shading", "skill", "cash_channel", "cash_payments", "capacity"])
def test_each_factor_changes_only_the_values_it_names(name):
    """A factor's overrides move exactly the scenario values they name (on prakerja_2020, where
    every mechanism is on), nothing else."""
    from simulation.config.scenario import load_scenario
    from simulation.experiments.decompose import FACTORS
    from simulation.experiments.paired import build_scenario

    factor = next(f for f in FACTORS if f.name == name)
    base = load_scenario(ROOT / "scenarios" / "prakerja_2020.yaml")
    raw = base.model_dump(mode="json")
    after = build_scenario(raw, "prakerja_2020", factor.overrides).model_dump(mode="json")
    before, changed = _flatten(raw), _flatten(after)
    moved = {key for key in before if before[key] != changed[key]}
    named = {override.partition("=")[0] for override in factor.overrides}
    assert moved <= named and moved, (moved, named)
    for override in factor.overrides:
        key, _, value = override.partition("=")
        assert changed[key] == pytest.approx(float(value))


def test_removing_shading_and_cash_does_what_it_says(tiny_both):
    """On the tiny world with a tender whose contractors shade: without shading nobody shades under
    either scheme; without cash payments no scheme pays cash."""
    from simulation.experiments.decompose import FACTORS
    from simulation.experiments.paired import run_configuration

    raw = tiny_both.model_copy(update={"size": 300, "weeks": 30}).model_dump(mode="json")
    factors = {f.name: f for f in FACTORS}
    metrics = ("mean_shading", "cash_paid_idr")
    base = run_configuration(raw, "tiny", (), 1, dec.SCHEMES, metrics)
    assert base["tender"]["mean_shading"] > 0.05 and base["voucher"]["cash_paid_idr"] > 0
    plain = run_configuration(raw, "tiny", factors["shading"].overrides, 1, dec.SCHEMES, metrics)
    assert plain["voucher"]["mean_shading"] == 0.0 and plain["tender"]["mean_shading"] == 0.0
    cashless = run_configuration(raw, "tiny", factors["cash_payments"].overrides, 1, dec.SCHEMES, metrics)
    assert cashless["voucher"]["cash_paid_idr"] == 0.0 and cashless["tender"]["cash_paid_idr"] == 0.0


def test_decompose_on_dask_workers_gives_the_in_process_tables(both_file, tmp_path, capsys):
    import simulation.cli as cli

    args = ["decompose", str(both_file), *SMALL, "--replications", "2", "--no-progress"]
    assert cli.main([*args, "--out", str(tmp_path / "here")]) == 0, capsys.readouterr().err
    assert cli.main([*args, "--workers", "2", "--out", str(tmp_path / "dask")]) == 0, capsys.readouterr().err
    for name in ("decomposition.csv", "runs.csv"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
