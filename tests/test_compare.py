"""Scheme comparison: paired differences, replication statistics, seeds, table and figure.

Every expected number is worked by hand (t quantiles from tables: t(0.975, 1) = 12.706205,
t(0.975, 2) = 4.302653, t(0.975, 3) = 3.182446).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulation.cli import format_value
from simulation.reporting.compare import (
    comparison_figure,
    comparison_table,
    format_difference,
    paired_difference,
    replication_seeds,
    replication_stats,
    summarise_replications,
)

T_975 = {1: 12.706205, 2: 4.302653, 3: 3.182446}

# Three replications of two schemes. "m" varies a lot between replications, in both schemes alike
# (tender = 1.1 x voucher + 1), so the paired differences (2, 3, 4) are far tighter than either scheme.
RUNS = [
    {"voucher": {"m": 10, "k": 1.0, "only_v": 5}, "tender": {"m": 12, "k": 2.0}},
    {"voucher": {"m": 20, "k": 1.0, "only_v": 6}, "tender": {"m": 23, "k": None}},
    {"voucher": {"m": 30, "k": 3.0, "only_v": 7}, "tender": {"m": 34, "k": 5.0}},
]


def half_width(stat: dict) -> float:
    return (stat["ci_high"] - stat["ci_low"]) / 2


# --------------------------------------------------------------------------- paired_difference


def test_paired_difference_by_hand():
    schemes = {
        "voucher": {"a": 1.0, "b": 10, "c": None, "d": 2.0, "flag": True, "nan": math.nan},
        "tender": {"a": 1.5, "b": 7, "c": 3.0, "e": 1.0, "flag": False, "nan": 1.0},
    }
    diff = paired_difference(schemes)
    assert list(diff) == ["tender - voucher"]
    assert diff["tender - voucher"] == {
        "a": 0.5,
        "b": -3,
        "c": None,  # None in the baseline
        "d": None,  # missing in tender
        "flag": None,  # bools are not metrics
        "nan": None,
        "e": None,  # missing in voucher
    }


def test_paired_difference_baseline_and_order():
    schemes = {"voucher": {"x": 1.0}, "tender": {"x": 4.0}, "blk": {"x": np.float64(2.5)}}
    assert paired_difference(schemes) == {"tender - voucher": {"x": 3.0}, "blk - voucher": {"x": 1.5}}
    diff = paired_difference(schemes, baseline="tender")
    assert list(diff) == ["voucher - tender", "blk - tender"]
    assert diff["voucher - tender"]["x"] == -3.0
    assert type(diff["blk - tender"]["x"]) is float  # numpy scalars come back as Python numbers
    assert paired_difference({}) == {}
    assert paired_difference({"voucher": {"x": 1}}) == {}
    with pytest.raises(ValueError, match="baseline 'nope'"):
        paired_difference(schemes, baseline="nope")


# --------------------------------------------------------------------------- replication_stats


def test_replication_stats_by_hand():
    s = replication_stats([1, 2, 3, 4])
    sd = math.sqrt(5 / 3)  # squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, over n - 1 = 3
    assert s["n"] == 4
    assert s["mean"] == 2.5
    assert s["sd"] == pytest.approx(1.2910, abs=5e-5)
    assert s["sd"] == pytest.approx(sd)
    half = T_975[3] * sd / 2  # = 2.05426
    assert s["ci_low"] == pytest.approx(2.5 - half, rel=1e-6)
    assert s["ci_high"] == pytest.approx(2.5 + half, rel=1e-6)
    assert half_width(s) == pytest.approx(2.05426, abs=1e-5)


def test_replication_stats_drops_missing_and_narrows_with_confidence():
    assert replication_stats([1, None, 2, math.nan, 3, 4]) == replication_stats([1, 2, 3, 4])
    assert half_width(replication_stats([1, 2, 3, 4], confidence=0.9)) < 2.05
    with pytest.raises(ValueError):
        replication_stats([1, 2], confidence=95)


def test_replication_stats_one_and_none():
    assert replication_stats([None, 7.0]) == {
        "mean": 7.0,
        "sd": None,
        "n": 1,
        "ci_low": None,
        "ci_high": None,
    }
    empty = {"mean": None, "sd": None, "n": 0, "ci_low": None, "ci_high": None}
    assert replication_stats([None, None, math.nan]) == empty
    assert replication_stats([]) == empty


# --------------------------------------------------------------------------- summarise_replications


def test_summarise_replications_layout():
    summary = summarise_replications(RUNS)
    assert summary["n"] == 3
    assert summary["confidence"] == 0.95
    assert list(summary["schemes"]) == ["voucher", "tender"]
    assert list(summary["schemes"]["voucher"]) == ["m", "k", "only_v"]
    assert list(summary["schemes"]["tender"]) == ["m", "k"]
    assert list(summary["difference"]) == ["tender - voucher"]
    assert list(summary["difference"]["tender - voucher"]) == ["m", "k", "only_v"]


def test_summarise_replications_differences_are_paired():
    summary = summarise_replications(RUNS)
    voucher, tender = summary["schemes"]["voucher"]["m"], summary["schemes"]["tender"]["m"]
    assert (voucher["mean"], voucher["sd"]) == (20.0, 10.0)
    assert (tender["mean"], tender["sd"]) == (23.0, 11.0)
    assert half_width(voucher) == pytest.approx(T_975[2] * 10 / math.sqrt(3))  # 24.84
    diff = summary["difference"]["tender - voucher"]["m"]
    # differences 2, 3, 4: mean 3, sd 1, half-width 4.302653 / sqrt(3) = 2.484
    assert (diff["n"], diff["mean"], diff["sd"]) == (3, 3.0, 1.0)
    assert half_width(diff) == pytest.approx(2.484138, abs=1e-6)
    # unpaired: difference of means 3 with se sqrt(10**2 / 3 + 11**2 / 3) = 8.58, ten times wider
    unpaired_half = T_975[2] * math.sqrt((10**2 + 11**2) / 3)
    assert half_width(diff) < unpaired_half / 10
    assert diff["ci_low"] > 0 > 3.0 - unpaired_half  # only the paired interval excludes zero


def test_summarise_replications_missing_values():
    summary = summarise_replications(RUNS)
    k = summary["difference"]["tender - voucher"]["k"]
    # pairs (1, 2) and (3, 5); replication 2 has no tender value: differences 1, 2
    assert (k["n"], k["mean"]) == (2, 1.5)
    assert k["sd"] == pytest.approx(math.sqrt(0.5))
    assert half_width(k) == pytest.approx(T_975[1] * 0.5, rel=1e-6)  # sd / sqrt(2) = 0.5
    assert summary["difference"]["tender - voucher"]["only_v"]["n"] == 0
    assert summary["schemes"]["tender"]["k"]["mean"] == 3.5


def test_summarise_replications_baseline_and_empty():
    summary = summarise_replications(RUNS, baseline="tender", confidence=0.9)
    assert summary["confidence"] == 0.9
    assert summary["difference"]["voucher - tender"]["m"]["mean"] == -3.0
    assert summarise_replications([]) == {"n": 0, "confidence": 0.95, "schemes": {}, "difference": {}}


# --------------------------------------------------------------------------- replication_seeds


def test_replication_seeds():
    seeds = replication_seeds(42, 20)
    assert seeds == replication_seeds(42, 20)
    assert len(set(seeds)) == 20
    assert all(isinstance(s, int) and 0 <= s < 2**32 for s in seeds)
    assert seeds[0] == int(np.random.SeedSequence(42).spawn(1)[0].generate_state(1)[0])
    assert replication_seeds(42, 5) == seeds[:5]
    assert set(replication_seeds(43, 20)).isdisjoint(seeds)
    assert replication_seeds(42, 0) == []


# --------------------------------------------------------------------------- comparison_table

ROWS = [
    ("bought_share", "bought / selected", "share"),
    ("total_cost_idr", "total cost", "idr"),
    ("active_providers", "active providers at end", "count"),
    ("true_effect_offered_pp", "employment effect (pp)", "pp"),
    ("never_computed", "a metric nobody has", "number"),
]


def test_comparison_table_one_run():
    schemes = {
        "voucher": {
            "bought_share": 0.5,
            "total_cost_idr": 2e9,
            "active_providers": 40,
            "true_effect_offered_pp": 1.25,
        },
        "tender": {
            "bought_share": 0.62,
            "total_cost_idr": 3.5e9,
            "active_providers": 35,
            "true_effect_offered_pp": None,
        },
    }
    summary = {"scenario": "tiny", "seed": 7, "schemes": schemes, "difference": paired_difference(schemes)}
    table = comparison_table(summary, ROWS, format_value)
    lines = table.splitlines()
    assert lines[0] == "tiny (seed 7)"
    assert lines[1].split() == ["metric", "voucher", "tender", "tender", "-", "voucher"]
    assert "tender - voucher" in lines[1]
    row = {line[:34].strip(): line[34:].split("  ") for line in lines[3:]}
    cells = {label: [c.strip() for c in cs if c.strip()] for label, cs in row.items()}
    assert cells == {
        "bought / selected": ["50.0%", "62.0%", "+12.00 pp"],
        "total cost": ["Rp2.00 bn", "Rp3.50 bn", "+Rp1.50 bn"],
        "active providers at end": ["40", "35", "-5"],
        "employment effect (pp)": ["+1.25 pp", "n/a", "n/a"],
    }
    assert "a metric nobody has" not in table
    assert "replications" not in table


def test_comparison_table_without_differences():
    table = comparison_table({"schemes": {"voucher": {"bought_share": 0.25}}}, ROWS, format_value)
    assert table.splitlines()[0].split() == ["metric", "voucher"]
    assert "25.0%" in table
    assert " - " not in table


def test_comparison_table_replications():
    reps = summarise_replications(RUNS)
    rows = [("m", "metric m", "number"), ("k", "metric k", "number"), ("only_v", "voucher only", "count")]
    table = comparison_table({"schemes": RUNS[0], "replications": reps}, rows, format_value)
    assert "mean ± 95% CI half-width over 3 replications" in table
    for name in ("voucher", "tender", "tender - voucher"):
        assert name in table
    lines = {line[:34].strip(): line[34:] for line in table.splitlines()}
    cells = {label: [c.strip() for c in lines[label].split("  ") if c.strip()] for label in lines}
    # m: voucher 20 ± 24.841, tender 23 ± 27.326, paired difference 3 ± 2.484
    assert cells["metric m"] == ["20.000 ± 24.841", "23.000 ± 27.326", "+3.000 ± 2.484"]
    # k: voucher (1, 1, 3): mean 1.667, sd 1.155, half 4.302653 * 1.155 / sqrt(3) = 2.868;
    # tender (2, 5): 3.5 ± 12.706205 * 1.5; differences (1, 2): 1.5 ± 12.706205 * 0.5
    assert cells["metric k"] == ["1.667 ± 2.868", "3.500 ± 19.059", "+1.500 ± 6.353"]
    assert cells["voucher only"] == ["6 ± 2", "n/a", "n/a"]  # 4.302653 * 1 / sqrt(3) = 2.48 -> "2"


def test_comparison_table_single_replication_shows_means_only():
    reps = summarise_replications(RUNS[:1])
    table = comparison_table(
        {"schemes": RUNS[0], "replications": reps}, [("m", "metric m", "number")], format_value
    )
    assert "over 1 replication\n" in table
    assert "10.000" in table and "+2.000" in table and "±" not in table.splitlines()[-1]


def test_format_difference():
    assert format_difference(0.012, "share", format_value) == "+1.20 pp"
    assert format_difference(-0.012, "pp_share", format_value) == "-1.20 pp"
    assert format_difference(-2.5e6, "idr", format_value) == "-Rp2.50 m"
    assert format_difference(0.5, "pp", format_value) == "+0.50 pp"
    assert format_difference(0, "count", format_value) == "0"
    assert format_difference(None, "share", format_value) == "n/a"


# --------------------------------------------------------------------------- comparison_figure


def test_comparison_figure(tmp_path):
    reps = summarise_replications(RUNS)
    fig = comparison_figure(reps, [("m", "metric m"), ("k", "metric k"), ("only_v", "voucher only")])
    assert len(fig.axes) == 6  # a row of schemes and a row of differences, one column per metric
    path = tmp_path / "compare.png"
    fig.savefig(path, dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    difference_panel = fig.axes[3]
    assert any(list(line.get_ydata()) == [0, 0] for line in difference_panel.get_lines())
    assert [t.get_text() for t in difference_panel.get_xticklabels()] == ["tender - voucher"]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["voucher", "tender"]


def test_comparison_figure_one_scheme():
    reps = summarise_replications([{"voucher": run["voucher"]} for run in RUNS])
    fig = comparison_figure(reps, [("m", "metric m"), ("k", "metric k")])
    assert len(fig.axes) == 2
    with pytest.raises(ValueError):
        comparison_figure(reps, [])
