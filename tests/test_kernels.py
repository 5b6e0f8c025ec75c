"""The compiled shopping kernel gives exactly the choices of its plain-numpy twin."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.market.participants import HOLDING
from simulation.model.market import MarketModel
from simulation.rules import kernels
from simulation.rules.choice import (
    ExpectedDemand,
    Shoppers,
    choose,
    expected_demand,
    outside_utility,
    shop,
    utilities,
)
from simulation.rules.keyed_draws import Draws

DRAWS = Draws.of(11, "voucher:shopping", 3)


@pytest.mark.parametrize("topup", [False, True])
def test_kernel_matches_numpy_twin_choice_for_choice(tiny_world, topup):
    model = MarketModel(tiny_world)
    for _ in range(3):
        model.step()
    rows = np.flatnonzero(model.state.status == HOLDING)
    basket, market = (
        model.scheme.shoppers(rows, model.week),
        model.scheme.course_facts(model.week),
    )
    assert len(basket) > 100
    if topup:  # let shoppers top up to 600k, so co-payment terms matter
        market = type(market)(**{**market.__dict__, "max_topup_idr": 600_000.0})
        basket = Shoppers(**{**basket.__dict__, "credit_left_idr": basket.credit_left_idr * 0.3})
    params = model.params.choice
    fast = shop(basket, market, params, DRAWS)
    noise = DRAWS.gumbels(basket.persons(), basket.options.shape[1])
    slow = choose(utilities(basket, market, params), outside_utility(basket, params), noise)
    np.testing.assert_array_equal(fast, slow)
    assert (fast >= 0).any() and (fast < 0).any(), "both buying and waiting must occur"
    if topup:
        picked = basket.options[fast >= 0, fast[fast >= 0]]
        paid_more = market.price_idr[picked] > basket.credit_left_idr[fast >= 0]
        assert paid_more.any(), "some shoppers should choose to top up"


@pytest.mark.parametrize("case", ["plain", "topup", "overflow"])
def test_kernel_expected_demand_matches_numpy_twin(tiny_world, case):
    """The tally that ``shop`` adds (impressions; expected sales and net receipts per course, at
    the prices and at alternative prices) equals ``expected_demand`` computed from ``utilities``
    and ``logit_probabilities``; tallying changes neither the draws nor the picks, which stay
    those of the numpy twin; and the purchases drawn agree with the expected sales up to binomial
    noise. Alternative prices are a step up or down, some beyond shoppers' credit. "overflow":
    waiting is worth -1,000 utils, so exp(u - outside) would overflow and the kernel must rescale."""
    model = MarketModel(tiny_world)
    for _ in range(3):
        model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)  # holders, trainees and spent cards
    basket, market = model.scheme.shoppers(rows, model.week), model.scheme.course_facts(3)
    params = model.params.choice
    if case == "topup":
        market = type(market)(**{**market.__dict__, "max_topup_idr": 600_000.0})
        basket = Shoppers(**{**basket.__dict__, "credit_left_idr": basket.credit_left_idr * 0.3})
    if case == "overflow":
        params = params.model_copy(update={"outside_utility": -1000.0})
    share = 1.0 - model.scheme.market.commission_rates()[model.people.platform[rows]]
    step = np.where(np.arange(len(model.courses)) % 2 == 0, 1.1, 1 / 1.1)
    alt = np.round(market.price_idr * step, -3).astype(np.float32)
    tally = ExpectedDemand.zeros(len(model.courses))
    picks = shop(basket, market, params, DRAWS, tally, share, alt)
    np.testing.assert_array_equal(picks, shop(basket, market, params, DRAWS))
    noise = DRAWS.gumbels(basket.persons(), basket.options.shape[1])
    np.testing.assert_array_equal(
        picks, choose(utilities(basket, market, params), outside_utility(basket, params), noise)
    )
    twin = expected_demand(basket, market, params, share, alt)
    np.testing.assert_array_equal(tally.impressions, twin.impressions)
    np.testing.assert_allclose(tally.sales, twin.sales, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tally.net_revenue_idr, twin.net_revenue_idr, rtol=1e-9, atol=1e-6)
    # At the alternative price the kernel scales the weight by exp(change in appeal) computed in
    # float64 from float32 appeals; the twin recomputes float32 utilities: equal to ~1e-6.
    np.testing.assert_allclose(tally.alt_sales, twin.alt_sales, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(tally.alt_net_revenue_idr, twin.alt_net_revenue_idr, rtol=1e-5, atol=1e-3)
    assert tally.impressions.sum() == (basket.options >= 0).sum()
    assert (tally.net_revenue_idr <= tally.sales * market.price_idr + 1e-6).all()  # commission >= 0
    assert not np.allclose(tally.alt_sales, tally.sales)  # the alternative prices matter
    bought = int((picks >= 0).sum())
    assert bought > 50
    assert abs(bought - tally.sales.sum()) < 4.0 * np.sqrt(tally.sales.sum()) + 1e-9
    if case == "overflow":  # everyone with a feasible option buys
        feasible = np.isfinite(utilities(basket, market, params)).any(axis=1)
        assert bought == feasible.sum() and tally.sales.sum() == pytest.approx(bought)


def test_expected_demand_at_the_same_price_is_the_expected_demand(tiny_world):
    """With the alternative prices equal to the prices, both halves of the tally agree."""
    model = MarketModel(tiny_world)
    model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)
    basket, market = model.scheme.shoppers(rows, model.week), model.scheme.course_facts(1)
    tally = ExpectedDemand.zeros(len(model.courses))
    shop(basket, market, model.params.choice, DRAWS, tally, np.ones(rows.size))
    np.testing.assert_allclose(tally.alt_sales, tally.sales, rtol=1e-12)
    np.testing.assert_allclose(tally.alt_net_revenue_idr, tally.net_revenue_idr, rtol=1e-12)


@pytest.mark.parametrize("many", [False, True])
def test_choice_sets_kernel_matches_numpy_statement(tiny_world, many):
    """Page slots come from the platform's page for the shopper's sector; each extra slot is
    listing[start + floor(u * count)] with u the shopper's keyed draw for that slot. ``many``:
    the holders repeated past two chunks of draws (``kernels.DRAW_CHUNK``) and part of a third."""
    model = MarketModel(tiny_world)
    model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)
    if many:
        rows = np.resize(rows, 2 * kernels.DRAW_CHUNK + 7)
    got = model.scheme.choice_sets(rows, 5)
    platform, sector = model.people.platform[rows], model.people.sector[rows]
    width, others = model.scheme.market.pages.shape[2], model.scheme.others
    assert others > 0 and got.shape == (rows.size, width + others)
    np.testing.assert_array_equal(got[:, :width], model.scheme.market.pages[platform, sector])
    start = model.scheme.market.listing_start[platform]
    count = model.scheme.market.listing_start[platform + 1] - start
    keyed = Draws.of(model.world.seed, "voucher:choice_sets", 5)
    draws = np.stack([keyed.uniforms(rows, k) for k in range(others)], axis=1)
    expected = model.scheme.market.listing_flat[start[:, None] + (draws * count[:, None]).astype(np.int64)]
    for k in range(others):  # a course already shown (on the page or drawn before) leaves -1
        seen = (got[:, : width + k] == expected[:, k : k + 1]).any(axis=1)
        expected[seen, k] = -1
    np.testing.assert_array_equal(got[:, width:], expected)
    assert (got[:, width:] == -1).any()  # duplicates happen, and are removed
    for row in got:
        shown = row[row >= 0]
        assert shown.size == np.unique(shown).size  # no course twice
    assert set(np.unique(got[:, width:])) - {-1} <= set(model.scheme.market.listing_flat.tolist())


def test_shopping_in_blocks_is_shopping_block_by_block(tiny_world, monkeypatch):
    """``shop`` runs blocks of ``SHOPPER_BLOCK`` shoppers at once on threads: the picks are each
    shopper's own, so exactly those of one pass; each block tallies from zero and the blocks'
    tallies are added in block order, so the tally is exactly the sum of the blocks shopped one by
    one, whatever the number of threads, and equals one pass up to rounding."""
    from simulation.rules import choice

    model = MarketModel(tiny_world)
    for _ in range(3):
        model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)
    basket, market = model.scheme.shoppers(rows, model.week), model.scheme.course_facts(3)
    params, n = model.params.choice, len(model.courses)
    one_pass = ExpectedDemand.zeros(n)
    whole = shop(basket, market, params, DRAWS, one_pass)
    block = len(basket) // 3 + 1  # three blocks
    monkeypatch.setattr(choice, "SHOPPER_BLOCK", block)
    by_hand = ExpectedDemand.zeros(n)
    parts = []
    for start in range(0, len(basket), block):
        part = ExpectedDemand.zeros(n)
        rows_of_block = np.zeros(len(basket), dtype=bool)
        rows_of_block[start : start + block] = True
        parts.append(shop(basket.subset(rows_of_block), market, params, DRAWS, part))
        for total, added in zip(vars(by_hand).values(), vars(part).values(), strict=True):
            total += added
    assert len(parts) == 3
    for threads in ("1", "3"):
        monkeypatch.setenv("NUMBA_NUM_THREADS", threads)
        blocked = ExpectedDemand.zeros(n)
        picks = shop(basket, market, params, DRAWS, blocked)
        np.testing.assert_array_equal(picks, whole)
        np.testing.assert_array_equal(picks, np.concatenate(parts))
        for name in ("impressions", "sales", "alt_sales"):  # receipts: the sum times the price
            np.testing.assert_array_equal(getattr(blocked, name), getattr(by_hand, name), err_msg=name)
        for name, total in vars(by_hand).items():
            np.testing.assert_allclose(getattr(blocked, name), total, rtol=1e-14, err_msg=name)
            np.testing.assert_allclose(getattr(blocked, name), getattr(one_pass, name), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_add_at_is_numpys_add_at(dtype):
    from simulation.rules.kernels import add_at

    rng = np.random.default_rng(5)
    base = rng.uniform(0, 3, 50).astype(dtype)
    rows = rng.integers(0, 50, 400)  # many rows listed several times
    amount = dtype(0.1)
    expected, got = base.copy(), base.copy()
    np.add.at(expected, rows, amount)
    add_at(got, rows, amount)
    np.testing.assert_array_equal(got, expected)


def test_categorical_rows_is_searchsorted_on_each_row():
    """``kernels.categorical_rows`` (the world's sector draws) is ``np.searchsorted(cdf[r], u x
    total, side="left")`` row by row, zero-probability categories and exact ties included."""
    rng = np.random.default_rng(5)
    probabilities = rng.random((6, 9))
    probabilities[:, [0, 4]] = 0.0  # categories nobody can draw: flat steps of the cdf
    probabilities[0] = [0, 0.125, 0.25, 0.125, 0, 0.25, 0.125, 0.0625, 0.0625]  # exact sums, total 1
    cdf = np.cumsum(probabilities, axis=1)
    row = rng.integers(0, 6, 4_000).astype(np.int8)
    uniform = rng.random(row.size)
    row[:3], uniform[:3] = 0, [0.125, 0.5, 0.875]  # u x total equal to a cumulative sum: a tie
    pairs = zip(row, uniform, strict=True)
    expected = np.array([np.searchsorted(cdf[r], u * cdf[r, -1], side="left") for r, u in pairs])
    assert list(expected[:3]) == [1, 3, 6]  # a tie goes to the category whose sum it equals
    drawn = kernels.categorical_rows(cdf, uniform, row)
    np.testing.assert_array_equal(drawn, expected)
    assert not np.isin(drawn, [0, 4]).any()  # never a category of probability 0


@pytest.mark.parametrize("k", [1, 3, 34])
def test_draw_categories_are_numpys_choice(k):
    """``world.draw_categories`` (regions, platforms, provider types, course modes) gives the
    draws of ``rng.choice(k, size, p=...)`` and leaves the generator in the same state: zero
    probabilities, and shares whose cumulative sums fall on the uniforms' grid (0.25, 0.5), where
    a uniform may equal a cumulative sum exactly and must go to the next category, as numpy's
    ``side="right"`` search does."""
    from simulation.model.world import draw_categories

    rng = np.random.default_rng(k)
    p = rng.random(k)
    p[rng.random(k) < 0.3] = 0.0
    p[0] += 1e-3
    p /= p.sum()
    for shares in (p, np.array([0.25, 0.25, 0.0, 0.5])):
        ours, numpys = np.random.default_rng(7), np.random.default_rng(7)
        drawn = draw_categories(ours, shares, 50_000)
        np.testing.assert_array_equal(drawn, numpys.choice(len(shares), size=50_000, p=shares))
        assert ours.random() == numpys.random()  # the same state after
        assert not np.isin(drawn, np.flatnonzero(shares == 0)).any()
    tie = np.cumsum([0.25, 0.25, 0.0, 0.5])
    at = kernels.categorical_rows(tie[None, :], np.array([0.25, 0.5, 0.4, 0.75]), np.zeros(4, np.int8), True)
    np.testing.assert_array_equal(at, [1, 3, 1, 3])


@pytest.mark.parametrize("shares", [[0.5, 0.6], [1.2, -0.2], [0.5, np.nan], []])
def test_draw_categories_refuse_shares_that_are_not_probabilities(shares):
    from simulation.model.world import draw_categories

    with pytest.raises(ValueError, match="non-negative and sum to 1"):
        draw_categories(np.random.default_rng(0), shares, 10)
