"""The compiled shopping kernel gives exactly the choices of its plain-numpy twin."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.market.participants import HOLDING
from simulation.model.market import MarketModel
from simulation.rules.choice import Shoppers, choose, gumbel, outside_utility, shop, utilities


@pytest.mark.parametrize("topup", [False, True])
def test_kernel_matches_numpy_twin_choice_for_choice(tiny_world, topup):
    model = MarketModel(tiny_world)
    for _ in range(3):
        model.step()
    rows = np.flatnonzero(model.state.status == HOLDING)
    basket, market = (
        model.scheme.shoppers(rows, np.random.default_rng(3)),
        model.scheme.course_facts(model.week),
    )
    assert len(basket) > 100
    if topup:  # let shoppers top up to 600k, so co-payment terms matter
        market = type(market)(**{**market.__dict__, "max_topup_idr": 600_000.0})
        basket = Shoppers(**{**basket.__dict__, "credit_left_idr": basket.credit_left_idr * 0.3})
    params = model.params.choice
    fast = shop(basket, market, params, np.random.default_rng(11))
    noise = gumbel(np.random.default_rng(11), (len(basket), basket.options.shape[1] + 1))
    slow = choose(utilities(basket, market, params), outside_utility(basket, params), noise)
    np.testing.assert_array_equal(fast, slow)
    assert (fast >= 0).any() and (fast < 0).any(), "both buying and waiting must occur"
    if topup:
        picked = basket.options[fast >= 0, fast[fast >= 0]]
        paid_more = market.price_idr[picked] > basket.credit_left_idr[fast >= 0]
        assert paid_more.any(), "some shoppers should choose to top up"


def test_choice_sets_kernel_matches_numpy_statement(tiny_world):
    """Page slots come from the platform's page for the shopper's sector; each extra slot is
    listing[start + floor(u * count)] with u drawn row by row from the same generator."""
    model = MarketModel(tiny_world)
    model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)
    got = model.scheme.choice_sets(rows, np.random.default_rng(5))
    platform, sector = model.people.platform[rows], model.people.sector[rows]
    width, others = model.scheme.market.pages.shape[2], model.scheme.others
    assert others > 0 and got.shape == (rows.size, width + others)
    np.testing.assert_array_equal(got[:, :width], model.scheme.market.pages[platform, sector])
    start = model.scheme.market.listing_start[platform]
    count = model.scheme.market.listing_start[platform + 1] - start
    draws = np.random.default_rng(5).random((rows.size, others))
    expected = model.scheme.market.listing_flat[start[:, None] + (draws * count[:, None]).astype(np.int64)]
    np.testing.assert_array_equal(got[:, width:], expected)
    assert set(np.unique(got[:, width:])) <= set(model.scheme.market.listing_flat.tolist())
