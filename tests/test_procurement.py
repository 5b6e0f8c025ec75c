"""The tender's decision rules (simulation.rules.procurement), checked against arithmetic done by hand.

Every expected number is worked out in the comments from the rule's definition, so an economist can
check it on paper. IDR amounts are per trainee unless stated otherwise.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.rules.procurement import (
    affordable_seats,
    award,
    award_order,
    bid_prices,
    cohort_target,
    cohort_targets,
    contract_payment,
    declared_quality,
    forecast_demand,
    largest_remainder,
    past_performance_adjustment,
    plan_lots,
    score_bids,
    shading,
    systematic_round,
)

FAST = settings(max_examples=60, deadline=None, derandomize=True)


# --- forecast -------------------------------------------------------------------------------------


def vacancy_series() -> np.ndarray:
    """[week, sector, region] = 100 * week + 10 * sector + region, so each cell names its week."""
    week, sector, region = np.meshgrid(np.arange(12), np.arange(2), np.arange(3), indexing="ij")
    return (100.0 * week + 10.0 * sector + region).astype(np.float64)


def test_forecast_without_noise_is_the_lagged_vacancies():
    vac = vacancy_series()
    # week 10, lag 4 -> the office sees week 6: cell (s, r) = 600 + 10 s + r, exactly (factor exp(0) = 1)
    got = forecast_demand(vac, week=10, lag_weeks=4, noise_sd=0.0, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(got, [[600, 601, 602], [610, 611, 612]])
    # week 3, lag 8 -> week -5, clamped at week 0: cell = 10 s + r
    got = forecast_demand(vac, week=3, lag_weeks=8, noise_sd=0.0, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(got, [[0, 1, 2], [10, 11, 12]])


def test_forecast_noise_is_the_stated_lognormal_and_draws_one_number_per_cell():
    vac = vacancy_series()
    sd = 0.3
    got = forecast_demand(vac, week=5, lag_weeks=1, noise_sd=sd, rng=np.random.default_rng(7))
    # the same six normals by hand: factor = exp(z - sd^2 / 2) on week 4's vacancies
    z = np.random.default_rng(7).normal(0.0, sd, size=(2, 3))
    np.testing.assert_allclose(got, vac[4] * np.exp(z - 0.045), rtol=1e-12)
    assert not np.allclose(got, vac[4])  # the noise bites
    # noise_sd 0 still uses six numbers, so what follows in the stream does not depend on noise_sd
    a, b = np.random.default_rng(3), np.random.default_rng(3)
    forecast_demand(vac, week=5, lag_weeks=1, noise_sd=0.0, rng=a)
    forecast_demand(vac, week=5, lag_weeks=1, noise_sd=0.5, rng=b)
    assert a.random() == b.random()


def test_forecast_noise_has_mean_one():
    # E[exp(Z - sd^2/2)] = exp(sd^2/2 - sd^2/2) = 1 for Z ~ N(0, sd): average 200 x 200 cells of ones
    ones = np.ones((1, 200, 200))
    got = forecast_demand(ones, week=0, lag_weeks=0, noise_sd=0.5, rng=np.random.default_rng(0))
    # standard error of the mean: sqrt(exp(0.25) - 1) / 200 = 0.00267; allow 4 of them
    assert abs(got.mean() - 1.0) < 0.011


# --- planning lots --------------------------------------------------------------------------------

# 2 sectors x 2 regions. forecast [[5, 1], [3, 2]], population shares [0.6, 0.4]
# weights = forecast * share = [[3.0, 0.4], [1.8, 0.8]], sum 6.0
FORECAST = np.array([[5.0, 1.0], [3.0, 2.0]])
SHARE = np.array([0.6, 0.4])


def test_plan_lots_by_hand_without_drops():
    # seats = floor(1e9 / 5e6) = 200; quotas 200 * w / 6 = [100, 13.333, 60, 26.667]
    # floors [100, 13, 60, 26] sum 199; one seat left -> largest remainder 0.667, cell (1, 1)
    sector, region, seats = plan_lots(1e9, FORECAST, SHARE, 5e6, min_seats=1)
    np.testing.assert_array_equal(sector, [0, 0, 1, 1])
    np.testing.assert_array_equal(region, [0, 1, 0, 1])
    np.testing.assert_array_equal(seats, [100, 13, 60, 27])
    assert seats.dtype.kind == "i" and sector.dtype.kind == "i" and region.dtype.kind == "i"


def test_plan_lots_drops_small_cells_and_reallocates():
    # min_seats 20: cell (0, 1) has 13 < 20 and is dropped. Its seats go to the other three:
    # weights [3.0, 1.8, 0.8], sum 5.6; quotas 200 * w / 5.6 = [107.143, 64.286, 28.571]
    # floors [107, 64, 28] sum 199; one seat left -> largest remainder 0.571, cell (1, 1)
    sector, region, seats = plan_lots(1e9, FORECAST, SHARE, 5e6, min_seats=20)
    np.testing.assert_array_equal(sector, [0, 1, 1])
    np.testing.assert_array_equal(region, [0, 0, 1])
    np.testing.assert_array_equal(seats, [107, 64, 29])
    assert seats.sum() == 200  # nothing lost in the drop


def test_plan_lots_repeats_dropping_until_stable():
    # 20 seats (budget 2e8, cost 1e7); forecast [[1, 1], [3, 9]], equal shares 0.5 -> weights
    # [0.5, 0.5, 1.5, 4.5], proportional to [1, 1, 3, 9] (sum 14). min_seats 2.
    # Round 1: quotas 20 * [1, 1, 3, 9] / 14 = [1.429, 1.429, 4.286, 12.857], floors [1, 1, 4, 12] = 18;
    #   2 seats left: remainder 0.857 (cell 3), then 0.429 tied by cells 0 and 1 -> lower index, cell 0.
    #   Seats [2, 1, 4, 13]: cell 1 (1 < 2) dropped.
    # Round 2: weights [1, 3, 9] / 13: quotas [1.538, 4.615, 13.846], floors [1, 4, 13] = 18;
    #   2 left: remainders 0.846 (cell 3), 0.615 (cell 2) -> seats [1, 0, 5, 14]: cell 0 now dropped.
    # Round 3: weights [3, 9] / 12: quotas [5, 15] exactly -> seats [5, 15], all >= 2: stable.
    sector, region, seats = plan_lots(2e8, np.array([[1.0, 1.0], [3.0, 9.0]]), np.array([0.5, 0.5]), 1e7, 2)
    np.testing.assert_array_equal(sector, [1, 1])
    np.testing.assert_array_equal(region, [0, 1])
    np.testing.assert_array_equal(seats, [5, 15])


def test_largest_remainder_breaks_ties_by_lower_flat_index():
    # 202 seats over four equal weights: quotas 50.5 each, floors 200, 2 seats left, all remainders
    # 0.5 tie -> flat cells 0 and 1 get them
    np.testing.assert_array_equal(largest_remainder(202, np.ones((2, 2))), [[51, 51], [50, 50]])
    # weights 1/3 each over 3 cells built from floats (0.1 + 0.2 etc.): quotas 10/3 = 3.333 each,
    # floors 9, one seat left, float noise must not beat the tie -> cell 0
    # (0.1 + 0.2 = 0.30000000000000004, so without the tolerance cell 1 would win by float noise)
    w = np.array([0.3, 0.1 + 0.2, 0.15 + 0.15])
    np.testing.assert_array_equal(largest_remainder(10, w), [4, 3, 3])


def test_plan_lots_empty_cases():
    for args in [
        (0.0, FORECAST, SHARE, 5e6, 1),  # zero budget
        (4e6, FORECAST, SHARE, 5e6, 1),  # floor(4e6 / 5e6) = 0 seats
        (1e9, np.zeros((2, 2)), SHARE, 5e6, 1),  # no forecast demand anywhere
        (1e8, FORECAST, SHARE, 5e6, 21),  # 20 seats in all, fewer than one lot's minimum of 21
    ]:
        sector, region, seats = plan_lots(*args)
        assert sector.size == region.size == seats.size == 0


# Inputs of plan_lots for property tests: a budget (IDR), a reference cost (IDR per seat), a
# forecast over 2 sectors x 3 regions, 3 regions' population shares and a minimum lot (seats).
PLAN_INPUTS = {
    "budget": st.floats(0.0, 1e10, allow_nan=False),
    "cost": st.floats(1e5, 1e8, allow_nan=False),
    "forecast": st.lists(st.floats(0.0, 100.0), min_size=6, max_size=6),
    "share": st.lists(st.floats(0.0, 1.0), min_size=3, max_size=3),
    "min_seats": st.integers(1, 50),
}


@FAST
@given(**PLAN_INPUTS)
def test_plan_lots_never_buys_more_seats_than_the_budget(budget, cost, forecast, share, min_seats):
    sector, region, seats = plan_lots(
        budget, np.array(forecast).reshape(2, 3), np.array(share), cost, min_seats
    )
    total = math.floor(budget / cost)
    assert seats.sum() <= budget / cost
    assert np.all(seats >= min_seats)  # every lot is big enough
    # all seats are placed (as long as some lot survives), each lot in a cell with positive weight
    assert seats.sum() in (0, total)
    weights = np.array(forecast).reshape(2, 3) * np.array(share)
    assert np.all(weights[sector, region] > 0)
    # ordered by (sector, region), each cell at most once
    flat = sector * 3 + region
    assert np.all(np.diff(flat) > 0)


# --- bids -----------------------------------------------------------------------------------------


def test_bid_prices_by_hand():
    # cost 4,000,000, markup 0.5:
    #   no rivals:   4e6 * (1 + 0.5 / 1) = 6,000,000
    #   4 rivals:    4e6 * (1 + 0.5 / 5) = 4,400,000
    #   cost 2e6, 1 rival: 2e6 * (1 + 0.5 / 2) = 2,500,000
    got = bid_prices(np.array([4e6, 4e6, 2e6]), np.array([0, 4, 1]), 0.5)
    np.testing.assert_allclose(got, [6.0e6, 4.4e6, 2.5e6], rtol=1e-12)


def test_declared_quality_adds_inflation_capped_at_one():
    # 0.5 + 0.2 = 0.7; 0.9 + 0.2 = 1.1 -> capped at 1; 1.0 + 0.2 -> 1
    np.testing.assert_allclose(declared_quality(np.array([0.5, 0.9, 1.0]), 0.2), [0.7, 1.0, 1.0])


# --- scoring and award ----------------------------------------------------------------------------

# three bids on one lot: A 5.0m at quality 0.75, B 4.0m at 0.50, C 6.0m at 0.90
PRICES = np.array([5.0e6, 4.0e6, 6.0e6])
QUALITY = np.array([0.75, 0.50, 0.90])


def test_scoring_rule_picks_the_hand_computed_winner():
    # floor 0.4: all pass. Median price 5.0m, abnormal threshold 0.5 * 5.0m = 2.5m: none below.
    # Lowest valid price 4.0m. price_weight 0.5:
    #   A: 0.5 * 4/5 + 0.5 * 0.75 = 0.400 + 0.375 = 0.775
    #   B: 0.5 * 4/4 + 0.5 * 0.50 = 0.500 + 0.250 = 0.750
    #   C: 0.5 * 4/6 + 0.5 * 0.90 = 0.333 + 0.450 = 0.7833  -> C wins
    score, flagged = score_bids(PRICES, QUALITY, price_weight=0.5, quality_floor=0.4, abnormal_share=0.5)
    np.testing.assert_allclose(score, [0.775, 0.75, 0.45 + 1 / 3], rtol=1e-12)
    assert not flagged.any()
    assert award(score, 0.0, np.random.default_rng(0)) == 2


def test_raising_price_weight_flips_the_winner_to_the_cheaper_bid():
    # price_weight 0.8:
    #   A: 0.8 * 0.8   + 0.2 * 0.75 = 0.64   + 0.15 = 0.79
    #   B: 0.8 * 1.0   + 0.2 * 0.50 = 0.80   + 0.10 = 0.90  -> B (the cheapest) wins
    #   C: 0.8 * 0.667 + 0.2 * 0.90 = 0.5333 + 0.18 = 0.7133
    score, _ = score_bids(PRICES, QUALITY, price_weight=0.8, quality_floor=0.4, abnormal_share=0.5)
    np.testing.assert_allclose(score, [0.79, 0.90, 0.18 + 0.8 * 4 / 6], rtol=1e-12)
    assert award(score, 0.0, np.random.default_rng(0)) == 1


def test_quality_floor_excludes_the_cheapest_bid():
    prices, quality = np.array([3.0e6, 5.0e6, 6.0e6]), np.array([0.30, 0.60, 0.80])
    # Without a floor the cheap bid wins: median 5.0m, threshold 0.5 * 5.0m = 2.5m, nothing flagged;
    # lowest 3.0m, price_weight 0.7:
    #   A: 0.7 * 1     + 0.3 * 0.3 = 0.79  <- winner
    #   B: 0.7 * 3/5   + 0.3 * 0.6 = 0.42 + 0.18 = 0.60
    #   C: 0.7 * 3/6   + 0.3 * 0.8 = 0.35 + 0.24 = 0.59
    score, _ = score_bids(prices, quality, price_weight=0.7, quality_floor=0.0, abnormal_share=0.5)
    np.testing.assert_allclose(score, [0.79, 0.60, 0.59], rtol=1e-12)
    assert award(score, 0.0, np.random.default_rng(0)) == 0
    # Floor 0.5 excludes A (0.3 < 0.5). Median of passing bids (5.0m, 6.0m) = 5.5m, threshold 2.75m:
    # neither flagged. Lowest valid 5.0m:
    #   B: 0.7 * 1   + 0.3 * 0.6 = 0.88    <- winner
    #   C: 0.7 * 5/6 + 0.3 * 0.8 = 0.5833 + 0.24 = 0.8233
    score, flagged = score_bids(prices, quality, price_weight=0.7, quality_floor=0.5, abnormal_share=0.5)
    assert score[0] == -np.inf
    np.testing.assert_allclose(score[1:], [0.88, 0.7 * 5 / 6 + 0.24], rtol=1e-12)
    assert not flagged.any()  # A fails on quality, not on price
    assert award(score, 0.0, np.random.default_rng(0)) == 1


def test_abnormally_low_bid_is_flagged_and_excluded():
    prices, quality = np.array([2.0e6, 5.0e6, 6.0e6, 5.5e6]), np.full(4, 0.7)
    # all pass floor 0.5. Median of 4 prices = (5.0m + 5.5m) / 2 = 5.25m; threshold 0.8 * 5.25m = 4.2m.
    # A (2.0m) is below -> flagged and excluded. Lowest valid price 5.0m, price_weight 0.6:
    #   B: 0.6 * 1       + 0.4 * 0.7 = 0.88  <- winner
    #   C: 0.6 * 5/6     + 0.28      = 0.78
    #   D: 0.6 * 5/5.5   + 0.28      = 0.5455 + 0.28 = 0.8255
    score, flagged = score_bids(prices, quality, price_weight=0.6, quality_floor=0.5, abnormal_share=0.8)
    np.testing.assert_array_equal(flagged, [True, False, False, False])
    assert score[0] == -np.inf
    np.testing.assert_allclose(score[1:], [0.88, 0.78, 0.6 / 1.1 + 0.28], rtol=1e-12)
    assert award(score, 0.0, np.random.default_rng(0)) == 1


def test_abnormal_screen_is_strict_and_uses_only_bids_that_pass_the_floor():
    # A price exactly at the threshold passes: median 5.0m, threshold 0.5 * 5.0m = 2.5m = A's price.
    score, flagged = score_bids(
        np.array([2.5e6, 5.0e6, 6.0e6]),
        np.full(3, 0.7),
        price_weight=0.5,
        quality_floor=0.5,
        abnormal_share=0.5,
    )
    assert not flagged.any() and np.isfinite(score).all()
    # The median ignores bids under the floor: prices [4.0m, 1.0m, 1.0m, 5.0m, 6.0m], the two 1.0m bids
    # below the floor. Median of passing [4, 5, 6]m = 5.0m, threshold 0.9 * 5.0m = 4.5m -> the 4.0m bid
    # is flagged. (Over all five bids the median would be 4.0m, threshold 3.6m, and it would pass.)
    prices = np.array([4.0e6, 1.0e6, 1.0e6, 5.0e6, 6.0e6])
    quality = np.array([0.8, 0.1, 0.1, 0.8, 0.8])
    score, flagged = score_bids(prices, quality, price_weight=0.5, quality_floor=0.5, abnormal_share=0.9)
    np.testing.assert_array_equal(flagged, [True, False, False, False, False])
    np.testing.assert_array_equal(np.isfinite(score), [False, False, False, True, True])


def test_no_eligible_bidder_gives_minus_one():
    # no bidders at all, whatever the favouritism
    score, flagged = score_bids(
        np.zeros(0), np.zeros(0), price_weight=0.5, quality_floor=0.5, abnormal_share=0.5
    )
    assert score.size == 0 and flagged.size == 0
    for favouritism in (0.0, 0.5, 1.0):
        assert award(score, favouritism, np.random.default_rng(0)) == -1
    # bidders, but all below the floor: every score -inf, no override -> -1
    score, flagged = score_bids(
        np.array([3e6, 4e6]), np.array([0.1, 0.2]), price_weight=0.5, quality_floor=0.5, abnormal_share=0.5
    )
    assert np.all(score == -np.inf) and not flagged.any()
    assert award(score, 0.0, np.random.default_rng(0)) == -1


def test_favouritism_one_can_pick_an_excluded_bidder():
    score = np.array([-np.inf, 0.9, 0.5])  # bidder 0 is excluded, bidder 1 is the best
    winners = np.array([award(score, 1.0, np.random.default_rng(seed)) for seed in range(300)])
    # the favoured bidder is floor(3 * u) for the one draw u of the generator
    by_hand = [int(3 * np.random.default_rng(seed).random()) for seed in range(300)]
    np.testing.assert_array_equal(winners, by_hand)
    assert (winners == 0).any()  # the excluded bidder wins some lots
    # uniform over the three: each about 100 of 300 (sd sqrt(300 * 1/3 * 2/3) = 8.2)
    assert np.all(np.abs(np.bincount(winners, minlength=3) - 100) < 35)


def test_favouritism_zero_never_overrides_the_score():
    score = np.array([-np.inf, 0.9, 0.5, 0.9])  # tie 1 vs 3 -> lower index 1
    assert all(award(score, 0.0, np.random.default_rng(seed)) == 1 for seed in range(100))


def test_favouritism_half_overrides_about_half_the_time():
    # with favouritism 0.5 the override happens when u < 0.5, then picks floor(4 * u / 0.5)
    score = np.array([0.1, 0.9, 0.5, 0.2])
    for seed in range(50):
        u = np.random.default_rng(seed).random()
        expected = int(4 * u / 0.5) if u < 0.5 else 1
        assert award(score, 0.5, np.random.default_rng(seed)) == expected


@pytest.mark.parametrize("favouritism", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("score", [np.zeros(0), np.array([-np.inf, -np.inf]), np.array([0.2, 0.8, 0.4])])
def test_award_uses_exactly_one_draw(score, favouritism):
    used, twin = np.random.default_rng(42), np.random.default_rng(42)
    award(score, favouritism, used)
    twin.random()  # the one draw award should have made
    assert used.random() == twin.random()


def awards_one_by_one(score: np.ndarray, favouritism: float, rng: np.random.Generator, wins: int) -> list:
    """Up to ``wins`` winners of a lot as the tender picked them before ``award_order``: ``award``
    on the scores of the bids left, in index order, the winner removed after each win."""
    left, out = np.arange(score.size), []
    while left.size and len(out) < wins:
        finite = np.isfinite(score[left])
        best = int(np.argmax(score[left])) if finite.any() else -1
        won = award(score[left], favouritism, rng)
        if won < 0:
            break
        out.append((int(left[won]), won != best))
        left = np.delete(left, won)
    return out


@FAST
@given(
    st.lists(st.one_of(st.floats(0.0, 1.0), st.just(-np.inf), st.just(0.5)), min_size=0, max_size=12),
    st.sampled_from([0.0, 0.3, 1.0]),
    st.integers(1, 13),
)
def test_award_order_is_award_one_win_after_another(scores, favouritism, wins):
    # the same winners, favoured flags and draws, whether the caller asks for every winner or stops early
    score = np.array(scores, dtype=np.float64)
    plain, ordered = np.random.default_rng(7), np.random.default_rng(7)
    expected = awards_one_by_one(score, favouritism, plain, wins)
    got = []
    for won in award_order(score, favouritism, ordered):
        got.append(won)
        if len(got) == wins:
            break
    assert got == expected
    assert plain.random() == ordered.random()  # as many numbers drawn


def test_award_order_by_hand():
    # no favouritism: best score first, ties to the lower index; stops at the first invalid bid
    rng = np.random.default_rng(0)
    assert list(award_order(np.array([0.2, 0.9, -np.inf, 0.9, 0.5]), 0.0, rng)) == [
        (1, False),
        (3, False),
        (4, False),
        (0, False),
    ]


def test_cohort_targets_are_cohort_target_contract_by_contract():
    seats, cohorts = np.array([26, 5, 5, 1, 0, 7]), np.array([13, 2, 2, 13, 3, 7])
    for index in range(13):
        for phase in (0.0, 0.25, 0.5, 0.999):
            valid = index < cohorts
            got = cohort_targets(
                seats[valid], cohorts[valid], np.full(valid.sum(), index), np.full(valid.sum(), phase)
            )
            expected = [
                cohort_target(int(s), int(c), index, phase)
                for s, c in zip(seats[valid], cohorts[valid], strict=True)
            ]
            assert got.tolist() == expected


# --- delivery: shading ----------------------------------------------------------------------------


def test_shading_by_hand():
    # s* = saving / (2 * monitoring * penalty) = 100,000 / (2 * 0.5 * 1,000,000) = 0.1
    s = shading(np.array([0.8]), np.array([100_000.0]), 0.5, 1_000_000.0)
    np.testing.assert_allclose(s, [0.1], rtol=1e-12)
    # it is the maximum of 100,000 s - 0.5 * 1e6 s^2 (= 5,000 at s = 0.1) over a grid of [0, 0.8]
    grid = np.linspace(0.0, 0.8, 801)
    payoff = 100_000.0 * grid - 0.5 * 1e6 * grid**2
    assert grid[np.argmax(payoff)] == pytest.approx(0.1)
    assert payoff.max() == pytest.approx(100_000.0 * 0.1 - 0.5 * 1e6 * 0.1**2)  # 10,000 - 5,000
    # clipped at the declared quality: 0.05 declared -> 0.05; at 0: a negative saving shades nothing
    s = shading(np.array([0.05, 0.8]), np.array([100_000.0, -50_000.0]), 0.5, 1_000_000.0)
    np.testing.assert_allclose(s, [0.05, 0.0])


def test_full_shading_when_unmonitored():
    declared = np.array([0.6, 0.9])
    saving = np.array([100_000.0, 100_000.0])
    # monitoring 0 or penalty 0: no expected penalty, every unit shaded saves money -> s = declared
    np.testing.assert_array_equal(shading(declared, saving, 0.0, 1e6), declared)
    np.testing.assert_array_equal(shading(declared, saving, 0.5, 0.0), declared)


@FAST
@given(
    saving=st.floats(0.0, 1e6),
    penalty=st.floats(1e3, 1e8),
    declared=st.floats(0.0, 1.0),
)
def test_shading_falls_as_monitoring_rises(saving, penalty, declared):
    monitoring = np.linspace(0.0, 1.0, 21)
    s = np.array([shading(np.array([declared]), np.array([saving]), m, penalty)[0] for m in monitoring])
    assert np.all(np.diff(s) <= 0)  # never rises with monitoring
    assert np.all((s >= 0) & (s <= declared))
    # strictly falling where interior: s = saving / (2 m P), so s(m) * m is constant
    interior = (monitoring > 0) & (s > 0) & (s < declared)
    np.testing.assert_allclose(s[interior] * monitoring[interior], saving / (2 * penalty), rtol=1e-9)


# --- payment --------------------------------------------------------------------------------------


def test_contract_payment_by_hand():
    # price 5,000,000; 20 seats; 16 trainees; 6 placed; 30% of the price withheld until placement
    price, seats, trainees, placed = 5e6, 20, 16, 6
    # per trainee: 5e6 * 16 = 80,000,000
    assert contract_payment(price, seats, trainees, placed, "per_trainee", 0.3) == pytest.approx(
        80e6, rel=1e-12
    )
    # per seat: 5e6 * 20 = 100,000,000 (empty seats paid too)
    assert contract_payment(price, seats, trainees, placed, "per_seat", 0.3) == pytest.approx(
        100e6, rel=1e-12
    )
    # outcome: 0.7 * 5e6 * 16 + 0.3 * 5e6 * 6 = 56,000,000 + 9,000,000 = 65,000,000
    assert contract_payment(price, seats, trainees, placed, "outcome", 0.3) == pytest.approx(65e6, rel=1e-12)
    # outcome with nothing withheld is per trainee; with everything withheld, pay per placement
    assert contract_payment(price, seats, trainees, placed, "outcome", 0.0) == pytest.approx(80e6, rel=1e-12)
    assert contract_payment(price, seats, trainees, placed, "outcome", 1.0) == pytest.approx(30e6, rel=1e-12)


def test_contract_payment_rejects_bad_input():
    with pytest.raises(ValueError, match="rule"):
        contract_payment(5e6, 20, 16, 6, "per_hour", 0.3)
    with pytest.raises(ValueError):
        contract_payment(5e6, 20, 16, 17, "outcome", 0.3)  # more placed than trained


# --- re-tender ------------------------------------------------------------------------------------


def test_past_performance_adjustment_by_hand():
    assessed = np.array([0.8, 0.6, 0.7])
    past = np.array([0.4, np.nan, 0.9])
    # weight 0.25: (0.75 * 0.8 + 0.25 * 0.4) = 0.6 + 0.1 = 0.7
    #              no record -> 0.6 kept
    #              (0.75 * 0.7 + 0.25 * 0.9) = 0.525 + 0.225 = 0.75
    got = past_performance_adjustment(assessed, past, 0.25)
    np.testing.assert_allclose(got, [0.7, 0.6, 0.75], rtol=1e-12)
    assert not np.isnan(got).any()
    # weight 0 ignores the record; weight 1 uses only it (still keeping the assessment if none)
    np.testing.assert_allclose(past_performance_adjustment(assessed, past, 0.0), assessed)
    np.testing.assert_allclose(past_performance_adjustment(assessed, past, 1.0), [0.4, 0.6, 0.9])


def test_a_shading_contractor_loses_the_retender():
    # The rules compose: last cycle A declared 0.9 but, unmonitored (monitoring 0), shaded it all
    # (delivered 0.9 - 0.9 = 0); B was new. Both bid 5.0m and are assessed 0.9 now; weight 0.5:
    #   A: 0.5 * 0.9 + 0.5 * 0.0 = 0.45; B keeps 0.9. Floor 0.5 now excludes A; B wins.
    delivered = 0.9 - shading(np.array([0.9]), np.array([100_000.0]), 0.0, 1e6)
    assert delivered[0] == 0.0
    assessed = past_performance_adjustment(np.array([0.9, 0.9]), np.array([delivered[0], np.nan]), 0.5)
    np.testing.assert_allclose(assessed, [0.45, 0.9])
    score, _ = score_bids(
        np.array([5e6, 5e6]), assessed, price_weight=0.5, quality_floor=0.5, abnormal_share=0.5
    )
    assert score[0] == -np.inf
    assert award(score, 0.0, np.random.default_rng(0)) == 1


def test_bid_prices_keep_more_margin_when_capacity_covers_part_of_the_lot():
    # cost 5m, markup 0.4, 3 rivals: full capacity -> 5m * (1 + 0.4 / 4) = 5.5m;
    # a quarter of the lot -> 5m * (1 + 0.4 / (1 + 3 * 0.25)) = 5m * (1 + 0.4 / 1.75) = 6,142,857;
    # capacity above the lot counts as the whole lot (share capped at 1).
    cost = np.array([5e6, 5e6, 5e6])
    got = bid_prices(cost, np.array([3, 3, 3]), 0.4, np.array([1.0, 0.25, 3.0]))
    np.testing.assert_allclose(got, [5.5e6, 5e6 * (1 + 0.4 / 1.75), 5.5e6])


# --- simulated seats from real seats --------------------------------------------------------------


class FixedDraw:
    """A stand-in generator whose random() returns given numbers, to work rounding by hand."""

    def __init__(self, *values: float):
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


QUOTAS = np.array([0.25, 0.5, 1.25, 2.0, 0.75])  # real seats / scale; sum 4.75


def test_systematic_round_by_hand():
    # whole parts [0, 0, 1, 2, 0]; fractions [.25, .5, .25, 0, .75], cumulated from 0:
    # [0, .25, .75, 1.0, 1.0, 1.75].
    # u = 0.1: + u -> [.1, .35, .85, 1.1, 1.1, 1.85], floors [0, 0, 0, 1, 1, 1], steps [0, 0, 1, 0, 0]
    np.testing.assert_array_equal(systematic_round(QUOTAS, FixedDraw(0.1)), [0, 0, 2, 2, 0])
    # u = 0.6: -> [.6, .85, 1.35, 1.6, 1.6, 2.35], floors [0, 0, 1, 1, 1, 2], steps [0, 1, 0, 0, 1]
    np.testing.assert_array_equal(systematic_round(QUOTAS, FixedDraw(0.6)), [0, 1, 1, 2, 1])
    # totals floor(4.75 + u): 4 and 5, each within one of 4.75
    assert systematic_round(np.zeros(0), FixedDraw(0.3)).size == 0


def test_systematic_round_expectation_is_exact():
    # The result is a step function of u whose steps sit at multiples of 1/4 here, so the average
    # over the midpoints of 1,000 equal slices of [0, 1) is its exact expectation over u.
    grid = (np.arange(1000) + 0.5) / 1000
    mean = np.mean([systematic_round(QUOTAS, FixedDraw(u)) for u in grid], axis=0)
    np.testing.assert_array_equal(mean, QUOTAS)


def test_systematic_round_leaves_whole_quotas_alone():
    whole = np.array([3.0, 0.0, 7.0, 1.0])
    for u in (0.0, 0.4, 0.999):
        np.testing.assert_array_equal(systematic_round(whole, FixedDraw(u)), [3, 0, 7, 1])
    # a whole quota among fractional ones keeps its value too: 2.0 and 5.0 below, whatever u
    mixed = np.array([0.7, 2.0, 0.6, 5.0, 0.7])
    for u in (0.05, 0.35, 0.65, 0.95):
        got = systematic_round(mixed, FixedDraw(u))
        assert got[1] == 2 and got[3] == 5


def test_systematic_round_is_deterministic_and_draws_one_number():
    quotas = np.array([0.3, 1.7, 0.05, 4.4])
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    np.testing.assert_array_equal(systematic_round(quotas, a), systematic_round(quotas, b))
    reference = np.random.default_rng(11)
    reference.random()
    assert a.random() == reference.random()  # exactly one number was used
    with pytest.raises(ValueError):
        systematic_round(np.array([0.5, -0.1]), np.random.default_rng(0))


@FAST
@given(
    quotas=st.lists(st.floats(0.0, 50.0, allow_nan=False), min_size=1, max_size=30),
    seed=st.integers(0, 2**32 - 1),
)
def test_systematic_round_preserves_the_total_within_one(quotas, seed):
    quotas = np.array(quotas)
    got = systematic_round(quotas, np.random.default_rng(seed))
    assert np.all((got == np.floor(quotas)) | (got == np.ceil(quotas)))
    assert abs(got.sum() - quotas.sum()) < 1 + 1e-9


def test_systematic_round_is_unbiased_on_average():
    # 20,000 draws: each mean within 4 standard errors (sd of a 0/1 step <= 0.5) of its quota
    rng = np.random.default_rng(5)
    quotas = np.array([0.04, 0.5, 0.96, 3.3, 0.2])
    draws = np.array([systematic_round(quotas, rng) for _ in range(20_000)])
    assert np.all(np.abs(draws.mean(axis=0) - quotas) < 4 * 0.5 / np.sqrt(20_000))
    assert np.all(np.abs(draws.sum(axis=1) - quotas.sum()) < 1)


def test_cohort_target_spreads_seats_evenly():
    # 26 seats over 13 cohorts: 2 per cohort whatever the phase
    for phase in (0.0, 0.5, 0.99):
        assert [cohort_target(26, 13, j, phase) for j in range(13)] == list(range(2, 27, 2))
    # 5 seats over 2 cohorts: by cohort 0, floor(2.5 + phase) -> 2 (phase .25) or 3 (phase .5)
    assert [cohort_target(5, 2, j, 0.25) for j in range(2)] == [2, 5]
    assert [cohort_target(5, 2, j, 0.5) for j in range(2)] == [3, 5]
    # one seat over 13 cohorts: it falls in cohort j, the first with (j + 1) / 13 + phase >= 1;
    # phase 0.5 -> j = 6; phases on a grid of 13 put it once in each cohort (uniform)
    assert [cohort_target(1, 13, j, 0.5) for j in range(13)] == [0] * 6 + [1] * 7
    first = [next(j for j in range(13) if cohort_target(1, 13, j, (k + 0.5) / 13) == 1) for k in range(13)]
    assert sorted(first) == list(range(13))
    with pytest.raises(ValueError):
        cohort_target(3, 2, 2, 0.1)


def test_affordable_seats():
    assert affordable_seats(10_000.0, 3_000.0) == 3  # floor(3.33)
    assert affordable_seats(9_000.0, 3_000.0) == 3  # exactly three
    assert affordable_seats(2_999.0, 3_000.0) == 0
    assert affordable_seats(-5.0, 3_000.0) == 0  # overspent: nothing more
    with pytest.raises(ValueError):
        affordable_seats(1.0, 0.0)
