"""The metric registry: every summary metric is registered, once, and the README agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from simulation import load_scenario, run_scenario
from simulation.reporting.registry import METRICS, MetricError, check_scheme_metrics, markdown_table

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def both_schemes():
    scenario = load_scenario(ROOT / "scenarios" / "prakerja_2020.yaml", size=3000, weeks=40)
    return run_scenario(scenario).summary


def test_names_are_unique_and_ratios_refer_to_registered_metrics():
    names = [m.name for m in METRICS]
    assert len(names) == len(set(names))
    for m in METRICS:
        if m.ratio:
            assert set(m.ratio) <= set(names), m.name


def test_a_summary_holds_exactly_the_registered_metrics_of_each_scheme_in_order(both_schemes):
    for scheme, values in both_schemes["schemes"].items():
        assert list(values) == [m.name for m in METRICS if scheme in m.schemes and not m.optional]


def test_every_null_metric_says_why(both_schemes):
    for scheme, values in both_schemes["schemes"].items():
        nulls = {k for k, v in values.items() if v is None}
        assert set(both_schemes["undefined"][scheme]) == nulls


def test_a_scheme_cannot_redefine_return_extra_or_miss_metrics():
    own = {m.name: 0.0 for m in METRICS if m.source == "scheme" and "tender" in m.schemes}
    check_scheme_metrics("tender", own)
    with pytest.raises(MetricError, match="redefines the shared metric 'total_cost_idr'"):
        check_scheme_metrics("tender", {**own, "total_cost_idr": 1.0})
    with pytest.raises(MetricError, match="unregistered metric 'fun'"):
        check_scheme_metrics("tender", {**own, "fun": 1.0})
    with pytest.raises(MetricError, match="not registered for scheme 'tender'"):
        check_scheme_metrics("tender", {**own, "bought_share": 1.0})
    del own["contractors"]
    with pytest.raises(MetricError, match="does not compute contractors"):
        check_scheme_metrics("tender", own)


def test_the_readme_metric_table_is_the_registry():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- metrics:start -->\n(.*?)\n<!-- metrics:end -->", readme, re.S)
    assert found, "README.md lacks the <!-- metrics:start --> ... <!-- metrics:end --> block"
    assert found.group(1).strip() == markdown_table().strip(), (
        "regenerate it: uv run python -m simulation.reporting.registry"
    )
