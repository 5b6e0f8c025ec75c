"""The convergence table (simulation.reporting.convergence) on hand-made summaries, and one small
run of the convergence benchmark."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from simulation.reporting.convergence import (
    DEFAULT_HEADLINE,
    NO_HEADLINE_FLAGGED,
    convergence_figure,
    convergence_rows,
    flag_messages,
    flagged_rows,
    format_number,
    from_csv,
    headline_verdict,
    intervals_overlap,
    markdown_table,
    missing_headline,
    replication_block,
    sizes_of,
    to_csv,
)
from tests.conftest import load_benchmark

ROOT = Path(__file__).resolve().parent.parent


def stat(mean, low=None, high=None, n=3):
    """A replication_stats dict (sd left out: the table does not use it)."""
    return {"mean": mean, "sd": None, "n": n, "ci_low": low, "ci_high": high}


def summary(schemes: dict, difference: dict | None = None, n: int = 3) -> dict:
    """A run summary with a replications block."""
    return {
        "seed": 1,
        "schemes": {},  # the base run: ignored by the table
        "replications": {"n": n, "seeds": list(range(n)), "confidence": 0.95, "schemes": schemes}
        | ({"difference": difference} if difference is not None else {}),
    }


def row(rows, metric, group="voucher"):
    (found,) = [r for r in rows if r["metric"] == metric and r["group"] == group]
    return found


def statuses(r):
    return [cell["status"] for cell in r["cells"].values()]


@pytest.fixture
def table():
    """Three sizes; each metric tells one story."""
    small = {
        "voucher": {
            "same": stat(1.0, 0.9, 1.1),
            "drifts": stat(0.5, 0.4, 0.6),
            "touches": stat(2.0, 1.0, 3.0),
            "once": stat(7.0, n=1),
            "gone_small": stat(None, n=0),
            "never": stat(None, n=0),
            "completion_rate": stat(0.95, 0.94, 0.96),
            "partial": stat(4.0, 3.0, 5.0, n=2),
        },
        "tender": {"seat_fill_rate": stat(0.8, 0.7, 0.9)},
    }
    middle = {
        "voucher": {
            "same": stat(1.02, 0.95, 1.08),
            "drifts": stat(0.7, 0.62, 0.78),
            "touches": stat(2.5, 2.0, 3.0),
            "once": stat(7.5, n=1),
            "gone_small": stat(3.0, 2.0, 4.0),
            "never": stat(None, n=0),
            "completion_rate": stat(0.95, 0.94, 0.96),
            "partial": stat(4.0, 3.0, 5.0),
        },
        "tender": {"seat_fill_rate": stat(0.8, 0.7, 0.9)},
    }
    large = {
        "voucher": {
            "same": stat(1.0, 0.98, 1.02),
            "drifts": stat(0.9, 0.85, 0.95),
            "touches": stat(3.5, 3.0, 4.0),
            "once": stat(8.0, 7.0, 9.0),
            "gone_small": stat(3.1, 2.9, 3.3),
            "never": stat(None, n=0),
            "completion_rate": stat(0.95, 0.94, 0.96),
            "partial": stat(4.1, 3.9, 4.3),
            "only_large": stat(1.0, 0.5, 1.5),
        },
        "tender": {"seat_fill_rate": stat(0.8, 0.7, 0.9)},
    }
    diff = {"tender - voucher": {"same": stat(0.0, -0.1, 0.1)}}
    diff_large = {"tender - voucher": {"same": stat(0.5, 0.3, 0.7)}}
    summaries = {
        20_000: summary(large, diff_large),
        1_000: summary(small, diff),
        5_000: summary(middle, diff),
    }
    return convergence_rows(summaries, headline={"completion_rate", "seat_fill_rate", "same"})


# --------------------------------------------------------------------------- flagging


@pytest.mark.parametrize(
    "a, b, expected",
    [
        ((0, 1), (0.5, 2), True),
        ((0, 1), (1.5, 2), False),
        ((1.5, 2), (0, 1), False),
        ((0, 1), (1, 2), True),  # touching end points overlap
        ((2, 3), (1, 2), True),
        ((0, 10), (4, 5), True),  # one inside the other
        ((3, 3), (3, 3), True),  # zero-width intervals at the same value
    ],
)
def test_intervals_overlap_counts_touching_end_points(a, b, expected):
    assert intervals_overlap(a, b) is expected


def test_sizes_are_ascending_and_the_largest_is_the_reference(table):
    assert sizes_of(table) == [1_000, 5_000, 20_000]
    for r in table:
        assert list(r["cells"]) == [1_000, 5_000, 20_000]
        assert r["cells"][20_000]["status"] in ("reference", "undefined", "missing", "none")


def test_overlapping_intervals_are_not_flagged(table):
    r = row(table, "same")
    assert statuses(r) == ["ok", "ok", "reference"]
    assert not r["flagged"]


def test_a_size_whose_interval_misses_the_reference_is_flagged(table):
    r = row(table, "drifts")
    assert statuses(r) == ["disjoint", "disjoint", "reference"]
    assert r["flagged"]


def test_touching_intervals_count_as_overlapping(table):
    r = row(table, "touches")  # [1, 3] and [2, 3] against [3, 4]
    assert statuses(r) == ["ok", "ok", "reference"]
    assert not r["flagged"]


def test_one_replication_has_no_interval_and_is_not_compared(table):
    r = row(table, "once")
    assert statuses(r) == ["not_compared", "not_compared", "reference"]
    assert r["cells"][1_000] | {} == {"mean": 7.0, "ci_low": None, "ci_high": None, "n": 1} | {
        "status": "not_compared"
    }
    assert not r["flagged"]


def test_a_metric_undefined_at_one_size_and_defined_at_others_is_flagged(table):
    r = row(table, "gone_small")
    assert statuses(r) == ["undefined", "ok", "reference"]
    assert r["flagged"]
    assert r["cells"][1_000]["mean"] is None and r["cells"][1_000]["n"] == 0


def test_a_metric_undefined_everywhere_is_not_flagged(table):
    r = row(table, "never")
    assert statuses(r) == ["none", "none", "none"]
    assert not r["flagged"]


def test_a_metric_present_at_one_size_only_is_flagged_as_missing_elsewhere(table):
    r = row(table, "only_large")
    assert statuses(r) == ["missing", "missing", "reference"]
    assert r["flagged"]


def test_an_undefined_reference_is_flagged_and_the_others_not_compared():
    rows = convergence_rows(
        {10: summary({"v": {"m": stat(1.0, 0.5, 1.5)}}), 100: summary({"v": {"m": stat(None, n=0)}})}
    )
    assert statuses(rows[0]) == ["not_compared", "undefined"]
    assert rows[0]["flagged"]


def test_a_scheme_missing_at_one_size_is_flagged():
    rows = convergence_rows(
        {
            10: summary({"voucher": {"m": stat(1.0, 0.5, 1.5)}}),
            100: summary({"voucher": {"m": stat(1.0, 0.5, 1.5)}, "tender": {"m": stat(2.0, 1.5, 2.5)}}),
        }
    )
    assert [(r["group"], statuses(r)) for r in rows] == [
        ("voucher", ["ok", "reference"]),
        ("tender", ["missing", "reference"]),
    ]


def test_differences_are_rows_of_their_own_after_the_schemes(table):
    kinds = [r["kind"] for r in table]
    assert kinds == sorted(kinds, key=["scheme", "difference"].index)
    r = row(table, "same", group="tender - voucher")
    assert r["kind"] == "difference"
    assert statuses(r) == ["disjoint", "disjoint", "reference"]


def test_a_partly_defined_mean_keeps_its_count(table):
    r = row(table, "partial")
    assert r["cells"][1_000]["n"] == 2
    assert statuses(r) == ["ok", "ok", "reference"]


def test_bare_numbers_of_a_single_run_are_read_without_intervals():
    rows = convergence_rows(
        {10: {"schemes": {"v": {"m": 1.0, "k": None}}}, 20: {"schemes": {"v": {"m": 2.0}}}}
    )
    assert statuses(row(rows, "m", "v")) == ["not_compared", "reference"]
    assert statuses(row(rows, "k", "v")) == ["none", "none"]


def test_replication_block_prefers_the_replications():
    s = summary({"v": {}})
    assert replication_block(s) is s["replications"]
    assert replication_block(s["replications"]) is s["replications"]


def test_no_summaries_give_no_rows():
    assert convergence_rows({}) == []


# --------------------------------------------------------------------------- headline metrics


def test_headline_metrics_are_marked_in_every_group(table):
    marked = {(r["group"], r["metric"]) for r in table if r["headline"]}
    assert marked == {
        ("voucher", "same"),
        ("voucher", "completion_rate"),
        ("tender", "seat_fill_rate"),
        ("tender - voucher", "same"),
    }


def test_headline_verdict_names_the_flagged_headline_rows(table):
    assert headline_verdict(table) == "headline metrics flagged: tender - voucher/same"
    assert [r["metric"] for r in flagged_rows(table, headline_only=True)] == ["same"]


def test_no_headline_metric_flagged_when_only_others_are():
    rows = convergence_rows(
        {
            10: summary({"v": {"good": stat(1, 0, 2), "bad": stat(1, 0, 2)}}),
            20: summary({"v": {"good": stat(1, 0, 2), "bad": stat(5, 4, 6)}}),
        },
        headline={"good"},
    )
    assert [r["metric"] for r in flagged_rows(rows)] == ["bad"]
    assert headline_verdict(rows) == NO_HEADLINE_FLAGGED == "no headline metric flagged"


def test_missing_headline_lists_names_no_row_has(table):
    assert missing_headline(table, ["same", "seats_contracted", "same"]) == ["seats_contracted"]


def test_the_default_headline_names_are_distinct():
    assert len(set(DEFAULT_HEADLINE)) == len(DEFAULT_HEADLINE)
    assert {"true_effect_offered_pp", "seats_contracted", "rating_quality_correlation"} <= set(
        DEFAULT_HEADLINE
    )


def test_flag_messages_say_what_missed_what(table):
    lines = flag_messages(table)
    assert (
        "voucher / drifts at 1,000: CI [0.4, 0.6] (mean 0.5) misses [0.85, 0.95] (mean 0.9) at 20,000"
        in lines
    )
    assert any(line.startswith("voucher / gone_small at 1,000: undefined") for line in lines)
    assert any(line.startswith("voucher / only_large at 5,000: absent") for line in lines)
    assert any(line.startswith("tender - voucher / same (headline) at 1,000: CI") for line in lines)
    assert not any("/ same at" in line or "touches" in line or "once" in line for line in lines)


# --------------------------------------------------------------------------- output


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "n/a"),
        (0.0, "0"),
        (0.93124, "0.9312"),
        (-6.4, "-6.4"),
        (1884.0, "1884"),
        (19_450.0, "19.45 k"),
        (127_300_000.0, "127.3 m"),
        (-3.263e10, "-32.63 bn"),
        (999_950.0, "1 m"),
    ],
)
def test_format_number(value, text):
    assert format_number(value) == text


def test_markdown_table_shows_the_numbers_and_the_flags(table):
    text = markdown_table(table, title="tiny")
    lines = text.splitlines()
    assert lines[0] == "### tiny"
    assert "| group | metric | 1,000 | 5,000 | 20,000 (reference) |" in lines
    body = [line for line in lines if line.startswith("| voucher | drifts |")]
    assert body == ["| voucher | drifts | **0.5 [0.4, 0.6]** ✗ | **0.7 [0.62, 0.78]** ✗ | 0.9 [0.85, 0.95] |"]
    assert "| voucher | **completion_rate** | 0.95 [0.94, 0.96] |" in text
    assert "| voucher | once | 7 (n=1) | 7.5 (n=1) | 8 [7, 9] |" in lines
    assert "| voucher | gone_small | **undefined** ✗ | 3 [2, 4] | 3.1 [2.9, 3.3] |" in lines
    assert "| voucher | only_large | **absent** ✗ | **absent** ✗ | 1 [0.5, 1.5] |" in lines
    assert not any("| never |" in line for line in lines)
    assert "Not shown: 1 row undefined at every size." in lines
    assert "4 [3, 5] (n=2)" in text
    assert lines[-1] == "4 of 11 rows flagged; headline metrics flagged: tender - voucher/same."
    # every row has as many cells as the header
    assert len({line.count("|") for line in lines if line.startswith("|")}) == 1


def test_markdown_table_can_show_rows_undefined_everywhere_and_count_replications(table):
    text = markdown_table(table, replications=4, hide_undefined=False)
    assert "| voucher | never | n/a | n/a | n/a |" in text
    assert "Not shown" not in text
    assert "| voucher | **same** | 1 [0.9, 1.1] (n=3) |" in text


def test_a_relative_tolerance_lets_close_intervals_pass():
    summaries = {
        10: summary({"v": {"m": stat(1000.0, 1000.0, 1000.0)}}),
        100: summary({"v": {"m": stat(1001.0, 1001.0, 1001.0)}}),
    }
    assert statuses(convergence_rows(summaries)[0]) == ["disjoint", "reference"]
    assert statuses(convergence_rows(summaries, rel_tol=0.001)[0]) == ["ok", "reference"]
    assert statuses(convergence_rows(summaries, rel_tol=0.0009)[0]) == ["disjoint", "reference"]
    with pytest.raises(ValueError):
        convergence_rows(summaries, rel_tol=-1)


def test_csv_round_trip(table):
    table[0]["cells"][1_000]["mean"] = 0.1 + 0.2  # full precision survives
    text = to_csv(table)
    assert from_csv(text) == table
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == len(table)
    drifts = next(r for r in records if r["metric"] == "drifts")
    assert (drifts["group"], drifts["status_1000"], drifts["ci_low_20000"]) == ("voucher", "disjoint", "0.85")
    assert next(r for r in records if r["metric"] == "never")["mean_1000"] == ""


def test_figure_has_a_panel_per_metric(table):
    fig = convergence_figure(table, ["completion_rate", "seat_fill_rate", "same", "not_a_metric"])
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["completion_rate", "seat_fill_rate", "same"]
    assert fig.axes[0].get_xscale() == "log"
    with pytest.raises(ValueError):
        convergence_figure(table, ["not_a_metric"])


# --------------------------------------------------------------------------- the benchmark


def test_the_benchmark_writes_its_folder(tmp_path, capsys):
    bench = load_benchmark("bench_convergence")
    out = tmp_path / "convergence"
    argv = [str(ROOT / "scenarios" / "tiny.yaml"), "--sizes", "400,200", "--replications", "2"]
    argv += ["--set", "weeks=10", "--out", str(out)]
    assert bench.main(argv) == 0
    names = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == {
        "convergence.md",
        "convergence.csv",
        "convergence.png",
        "bench.json",
        "size-200/summary.json",
        "size-400/summary.json",
    }
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
    rows = from_csv((out / "convergence.csv").read_text(encoding="utf-8"))
    voucher = {r["metric"] for r in rows if r["group"] == "voucher"}
    assert {"participants_trained", "completion_rate"} <= voucher
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1] in (NO_HEADLINE_FLAGGED,) or printed[-1].startswith("headline metrics flagged: ")
    assert any(line.startswith("| voucher | **completion_rate** |") for line in printed)
    with pytest.raises(SystemExit, match="already exists"):
        bench.main(argv)
