"""One answer at every size: the headline metrics of both schemes agree across sample sizes.

Each simulated person stands for ``scale`` real ones, so running the same scenario with fewer
simulated people must give the same results up to sampling noise. This test runs the tiny world
with a tender arm (including community centres too small to hold one simulated seat at the
smaller size) at two sizes, each over replications, and asks the convergence table
(``simulation.reporting.convergence``, the engine of ``benchmarks/bench_convergence.py``) whether
any headline metric of either scheme, or of their difference, lies outside the other size's
95% confidence interval. The draws are fixed by the seeds, so the test is deterministic; a
model whose results drift with the size (the bug it guards against: organisations' capacity
counted in simulated people, prices learnt from noisy sales) fails it by a wide margin.
"""

from __future__ import annotations

import pytest

from simulation import load_scenario, run_scenario
from simulation.reporting.convergence import convergence_rows, flag_messages, flagged_rows, headline_verdict
from tests.conftest import TINY

SIZES = (600, 2400)  # scale 33.3 and 8.3 real people per simulated one
REPLICATIONS = 6
# A tender whose contractors do not shade (no saving to be had), so that its effect, and hence its
# cost per additional job, is clearly defined at both sizes; the test is about scale, not power.
ARM = [
    "centres=[{name: regional, kind: public_blk, count: 6, capacity_per_year: 600, sectors_taught: 2,"
    " marginal_cost_idr: 1500000}, {name: community, kind: public_blk, count: 40, capacity_per_year: 15,"
    " sectors_taught: 1, marginal_cost_idr: 1200000}, {name: private, kind: offline_centre, count: 10,"
    " capacity_per_year: 200, sectors_taught: 2, marginal_cost_idr: 1300000}]",
    "tender={budget_idr: 2.0e10, cycle_weeks: 26, reference_cost_idr: 3000000, procurement_weeks: 4,"
    " min_seats: 20, penalty_idr: 5000000, course_weeks: 2,"
    " awareness_weekly: 0.1}",
]


@pytest.fixture(scope="module")
def table():
    summaries = {
        size: run_scenario(load_scenario(TINY, ARM, size=size), replications=REPLICATIONS).summary
        for size in SIZES
    }
    return convergence_rows(summaries, rel_tol=0.001)


def test_no_headline_metric_depends_on_the_sample_size(table):
    flagged = flagged_rows(table, headline_only=True)
    assert headline_verdict(table) == "no headline metric flagged", "\n".join(flag_messages(flagged))


def test_the_table_covers_both_schemes_and_their_difference(table):
    groups = {row["group"] for row in table if row["headline"]}
    assert groups == {"voucher", "tender", "tender - voucher"}
    seats = next(r for r in table if r["group"] == "tender" and r["metric"] == "seats_contracted")
    small, large = (seats["cells"][size]["mean"] for size in SIZES)
    assert small > 0 and small == pytest.approx(large, rel=0.01)  # organisations' seats, in real units
