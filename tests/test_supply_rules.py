"""Supply that answers to money (issue 9), the pure rules of simulation.rules.procurement: capacity
expansion, its win chance, entry, and planning capped at what cells can deliver. Every expected
number is worked out in the comments, so an economist can check it on paper."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.rules.procurement import (
    capacity_expansion,
    entry_counts,
    expansion_win_chance,
    largest_remainder,
    plan_lots,
    planning_cap,
)
from tests.test_procurement import PLAN_INPUTS

FAST = settings(max_examples=80, deadline=None, derandomize=True)


# --- capacity expansion ---------------------------------------------------------------------------


def test_expansion_by_hand_expands_iff_margin_times_cohorts_times_win_chance_exceeds_cost():
    # A centre of 200 trainees a year, bound 0.5 -> at most 100 trainees a year added.
    # Margin m = Rp1,000,000 per trainee; k = 10 three-week cohorts after the lead time, so one
    # unit of yearly capacity teaches 10 * 3 / 52 = 0.5769 trainees in the cycle; win chance 0.5.
    # Expected value of a unit: 1e6 * 0.5769 * 0.5 = Rp288,462. In seats (one trainee per cohort,
    # 52 / 3 units each): m * k * w = 1e6 * 10 * 0.5 = Rp5,000,000 against cost per seat = cost x 52/3.
    trainees = 10 * 3 / 52
    args = dict(capacity_per_year=np.array([200.0]), max_share=0.5, margin_idr=np.array([1e6]))
    cheap = capacity_expansion(**args, trainees_per_unit=trainees, win_chance=0.5, cost_idr=280_000.0)
    dear = capacity_expansion(**args, trainees_per_unit=trainees, win_chance=0.5, cost_idr=300_000.0)
    np.testing.assert_array_equal(cheap, [100.0])  # 280,000 x 52/3 = 4.85 m < 5 m: the whole bound
    np.testing.assert_array_equal(dear, [0.0])  # 300,000 x 52/3 = 5.2 m > 5 m: nothing
    # a tie adds nothing: cost exactly the expected value
    tie = capacity_expansion(**args, trainees_per_unit=0.5, win_chance=1.0, cost_idr=500_000.0)
    np.testing.assert_array_equal(tie, [0.0])


def test_expansion_is_bounded_by_the_share_of_current_capacity():
    # free capacity (cost 0) and a positive margin: each centre adds exactly its bound
    added = capacity_expansion(
        np.array([200.0, 15.0, 0.0]), np.array([0.5, 0.3, 0.5]), np.full(3, 1e6), 0.6, 1.0, 0.0
    )
    np.testing.assert_allclose(added, [100.0, 4.5, 0.0])


def test_expansion_limits_nothing_without_share_margin_or_win_chance():
    cap, margin = np.array([200.0]), np.array([1e6])
    assert capacity_expansion(cap, 0.0, margin, 1.0, 1.0, 0.0)[0] == 0.0  # bound 0: the default
    assert capacity_expansion(cap, 0.5, margin, 1.0, 0.0, 0.0)[0] == 0.0  # a seat never sells
    assert capacity_expansion(cap, 0.5, margin, 0.0, 1.0, 0.0)[0] == 0.0  # no cohort after the lead
    assert capacity_expansion(cap, 0.5, np.array([-1.0]), 1.0, 1.0, 0.0)[0] == 0.0  # a loss


def test_win_chance_shares_the_shortfall_among_the_seats_offered():
    # shortfall 300 seats, 600 offered -> each added seat sells with chance 0.5; 200 offered -> 1
    # (capped); nothing offered -> 0; no shortfall -> 0
    np.testing.assert_allclose(
        expansion_win_chance(np.array([300.0, 300.0, 300.0, 0.0]), np.array([600.0, 200.0, 0.0, 50.0])),
        [0.5, 1.0, 0.0, 0.0],
    )


# --- entry ----------------------------------------------------------------------------------------


def test_entry_by_hand():
    # 350 unserved seats, 150 seats an entrant can teach, margin Rp1 m a trainee.
    # Entry cost Rp100 m: a full entrant earns 150 x 1 m - 100 m = +50 m -> floor(350 / 150) = 2 enter;
    # a third would sell the remaining 50 seats: 50 m - 100 m < 0 -> stays out.
    np.testing.assert_array_equal(entry_counts(np.array([350.0]), 150.0, np.array([1e6]), 1e8, 100), [2])
    # Entry cost Rp40 m: the third earns 50 m - 40 m = +10 m -> 3 enter
    np.testing.assert_array_equal(entry_counts(np.array([350.0]), 150.0, np.array([1e6]), 4e7, 100), [3])


def test_no_entry_when_the_entry_cost_is_prohibitive_or_nothing_is_unserved():
    # Rp200 m > 150 seats x Rp1 m: not even a full entrant pays
    np.testing.assert_array_equal(entry_counts(np.array([1e6]), 150.0, np.array([1e6]), 2e8, 100), [0])
    np.testing.assert_array_equal(entry_counts(np.array([0.0]), 150.0, np.array([1e6]), 0.0, 100), [0])
    # an entrant that can teach nothing this cycle (it opens after the procurement) never enters
    np.testing.assert_array_equal(entry_counts(np.array([1e6]), 0.0, np.array([1e6]), 0.0, 100), [0])
    # a cap of 0 (the default) means no entry
    np.testing.assert_array_equal(entry_counts(np.array([1e6]), 150.0, np.array([1e6]), 0.0, 0), [0])


def test_entry_cap_keeps_the_most_profitable_entrants():
    # cell 0: 350 unserved at Rp1 m: two entrants of +50 m each; cell 1: 150 unserved at Rp2 m:
    # one entrant of 150 x 2 m - 100 m = +200 m. 3 would enter; the cap of 2 keeps cell 1's (200 m)
    # and one of cell 0's.
    counts = entry_counts(np.array([350.0, 150.0]), 150.0, np.array([1e6, 2e6]), 1e8, 2)
    np.testing.assert_array_equal(counts, [1, 1])


@FAST
@given(
    unserved=st.lists(st.floats(0.0, 1e5), min_size=1, max_size=6),
    seats=st.floats(1.0, 500.0),
    margin=st.floats(0.0, 5e6),
    cost=st.floats(0.0, 1e9),
    cap=st.integers(0, 200),
)
def test_entrants_never_exceed_the_cap_or_the_unserved_seats(unserved, seats, margin, cost, cap):
    counts = entry_counts(np.array(unserved), seats, np.full(len(unserved), margin), cost, cap)
    assert counts.sum() <= cap
    # every entrant but the last of a cell has a full share of unserved seats to sell
    assert np.all((counts - 1) * seats <= np.array(unserved) + 1e-6)


# --- planning capped at what the market can deliver ---------------------------------------------

ONE_SECTOR = np.ones((1, 3))  # forecast [sector, region]
SHARES = np.array([0.5, 0.3, 0.2])  # weights 0.5, 0.3, 0.2


def test_plan_without_a_binding_cap_is_the_plain_plan():
    # 100 seats (budget 1e9 / cost 1e7), weights 0.5, 0.3, 0.2 -> [50, 30, 20]
    plain = plan_lots(1e9, ONE_SECTOR, SHARES, 1e7, 1)
    np.testing.assert_array_equal(plain[2], [50, 30, 20])
    for cap in (np.full((1, 3), np.inf), np.array([[50.0, 30.0, 20.0]]), np.array([[1e9, 30.5, 99.0]])):
        for got, want in zip(plan_lots(1e9, ONE_SECTOR, SHARES, 1e7, 1, cap=cap), plain, strict=True):
            np.testing.assert_array_equal(got, want)


def test_plan_cap_reallocates_by_hand():
    # cap region 1 at 10 seats: it gets 10; 90 seats go to regions 0 and 2 in proportion 0.5 : 0.2,
    # quotas 90 x 5/7 = 64.29 and 90 x 2/7 = 25.71 -> floors 64 and 25, the last seat to the larger
    # remainder (0.71, region 2) -> [64, 10, 26], all 100 seats planned
    _, region, seats = plan_lots(1e9, ONE_SECTOR, SHARES, 1e7, 1, cap=np.array([[np.inf, 10.0, np.inf]]))
    np.testing.assert_array_equal(region, [0, 1, 2])
    np.testing.assert_array_equal(seats, [64, 10, 26])


def test_plan_cap_cascades_and_leaves_what_no_cell_can_take_unplanned():
    # caps [55, 10, 21]: round 1 [50, 30, 20] -> region 1 capped at 10; round 2 [64, 10, 26] ->
    # regions 0 and 2 over their caps -> capped at 55 and 21. 55 + 10 + 21 = 86 seats planned, the
    # other 14 seats' budget stays unspent.
    _, _, seats = plan_lots(1e9, ONE_SECTOR, SHARES, 1e7, 1, cap=np.array([[55.0, 10.0, 21.0]]))
    np.testing.assert_array_equal(seats, [55, 10, 21])


def test_plan_cap_below_the_minimum_lot_drops_the_cell():
    # min_seats 15, cap region 1 at 10.9 (floor 10 < 15): dropped; 100 seats over 0.5 : 0.2 ->
    # quotas 71.43 and 28.57 -> floors 71 and 28, last seat to region 2 (0.57 > 0.43) -> [71, 29]
    _, region, seats = plan_lots(1e9, ONE_SECTOR, SHARES, 1e7, 15, cap=np.array([[np.inf, 10.9, np.inf]]))
    np.testing.assert_array_equal(region, [0, 2])
    np.testing.assert_array_equal(seats, [71, 29])


def old_plan_lots(budget_idr, forecast, population_share, reference_cost_idr, min_seats):
    """The plan before issue 9 (no cap), verbatim, as the reference for the default."""
    weights = np.asarray(forecast, dtype=np.float64) * np.asarray(population_share)[np.newaxis, :]
    empty = np.zeros(0, dtype=np.int64)
    total = math.floor(budget_idr / reference_cost_idr)
    active = weights > 0
    while total > 0 and active.any():
        seats = largest_remainder(total, np.where(active, weights, 0.0))
        small = active & (seats < min_seats)
        if not small.any():
            sector, region = np.nonzero(seats)
            return sector.astype(np.int64), region.astype(np.int64), seats[sector, region]
        active &= ~small
    return empty, empty.copy(), empty.copy()


@FAST
@given(**PLAN_INPUTS)
def test_default_plan_is_the_old_plan_exactly(budget, cost, forecast, share, min_seats):
    args = (budget, np.array(forecast).reshape(2, 3), np.array(share), cost, min_seats)
    want = old_plan_lots(*args)
    for cap in (None, np.full((2, 3), np.inf), planning_cap(np.zeros((2, 3)), 0.0)):
        for got, expected in zip(plan_lots(*args, cap=cap), want, strict=True):
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == expected.dtype


@FAST
@given(**PLAN_INPUTS, cap=st.lists(st.floats(0.0, 1e4), min_size=6, max_size=6))
def test_capped_plan_respects_caps_lots_and_budget(budget, cost, forecast, share, cap, min_seats):
    limit = np.array(cap).reshape(2, 3)
    sector, region, seats = plan_lots(
        budget, np.array(forecast).reshape(2, 3), np.array(share), cost, min_seats, cap=limit
    )
    assert seats.sum() <= budget / cost
    assert np.all(seats >= min_seats)
    assert np.all(seats <= np.floor(limit[sector, region] + 1e-9))
    # seats are left unplanned only if every surviving lot is at its cap
    total = math.floor(budget / cost)
    if 0 < seats.sum() < total:
        assert np.all(seats == np.floor(limit[sector, region] + 1e-9))


def test_planning_cap_by_hand():
    # the cell can deliver 100 seats; an office knowing 0.8 of the market caps it at 100 / 0.8 = 125;
    # knowing it all, at 100; knowing nothing, no cap
    np.testing.assert_allclose(planning_cap(np.array([100.0, 0.0]), 0.8), [125.0, 0.0])
    np.testing.assert_allclose(planning_cap(np.array([100.0]), 1.0), [100.0])
    assert np.isinf(planning_cap(np.array([100.0]), 0.0)).all()
    with pytest.raises(ValueError):
        planning_cap(np.array([1.0]), 1.5)
