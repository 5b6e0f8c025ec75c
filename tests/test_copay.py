"""The co-payment (``voucher.copay_share``): coinsurance on every course bought.

The rule (``simulation.rules.choice``): the credit pays (1 - s) x price, the shopper s x price
from her own money plus any top-up above the credit left (where allowed); a course is feasible
iff (1 - s) x price <= credit left + max top-up; utility falls by copay_weight x own money /
credit. Numbers below are worked out in the comments from that rule.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from simulation.config.codes import ONLINE
from simulation.config.scenario import Choice, load_scenario
from simulation.market.participants import FINISHED, HOLDING
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.reporting.metrics import summarise
from simulation.rules.choice import Market, Shoppers, expected_demand, utilities
from simulation.rules.pricing import next_prices, objective_per_impression
from tests.conftest import TINY
from tests.test_free_choice import one_shopper
from tests.test_mechanisms import HAND_CHOICE, hand_market, hand_shoppers, model_of, purchases_by_step

# ====================================================================== the shopper's utility


def test_copay_utilities_by_hand():
    # hand_market: prices 0.8 m, 1.2 m, 1.6 m; credit 1 m; copay_weight 2 per credit of own money.
    # s = 0.25: credit needed 0.6 m, 0.9 m, 1.2 m. With 1 m of credit left and no top-ups the
    # 1.6 m course needs 1.2 m > 1 m (infeasible), the 1.2 m one is now feasible. Own money:
    # 0.25 x 0.8 m = 0.2 m -> -0.4 utils; 0.25 x 1.2 m = 0.3 m -> -0.6 utils.
    market = replace(hand_market(max_topup=0.0), copay_share=0.25)
    off = utilities(hand_shoppers([1_000_000.0]), hand_market(max_topup=0.0), HAND_CHOICE)
    on = utilities(hand_shoppers([1_000_000.0]), market, HAND_CHOICE)
    assert off[0, 0] - on[0, 0] == pytest.approx(0.4, abs=1e-5)
    base_12 = 1.9 + 0.3 * math.log(0.6)  # the 1.2 m course's utility before money (test_mechanisms)
    assert on[0, 1] == pytest.approx(base_12 - 0.6, abs=1e-5)
    assert np.isneginf(on[0, 2:]).all()
    # Top-ups up to 0.3 m: the 1.6 m course needs 1.2 m of credit, 0.2 m above the 1 m left:
    # own money 0.25 x 1.6 m + 0.2 m = 0.6 m -> -1.2 utils. A shopper with 0.5 m left: the 0.8 m
    # course needs 0.6 m, 0.1 m above: own 0.2 m + 0.1 m = 0.3 m -> -0.6 utils; the 1.2 m one
    # needs 0.9 m, 0.4 m above the 0.3 m allowed: infeasible.
    topped = replace(hand_market(max_topup=300_000.0), copay_share=0.25)
    u = utilities(hand_shoppers([1_000_000.0, 500_000.0]), topped, HAND_CHOICE)
    base_16 = 1.9 + 0.3 * math.log(0.8)
    assert u[0, 2] == pytest.approx(base_16 - 1.2, abs=1e-5)
    assert u[1, 0] == pytest.approx(off[0, 0] - 0.6, abs=1e-5)
    assert np.isneginf(u[1, 1]) and np.isneginf(u[1, 3])


def test_zero_copay_is_the_top_up_rule_bit_for_bit():
    # s = 0 (the default) runs the very code of the top-up rule: identical arrays.
    shoppers = hand_shoppers([1_200_000.0, 1_000_000.0, 900_000.0, 500_000.0])
    for topup in (0.0, 500_000.0):
        market = hand_market(max_topup=topup)
        explicit = replace(market, copay_share=0.0)
        np.testing.assert_array_equal(
            utilities(shoppers, market, HAND_CHOICE), utilities(shoppers, explicit, HAND_CHOICE)
        )


# ====================================================================== what sellers learn

# Only the price moves utility: price read as quality (0.3 per log(price / cap)) and own money.
PRICE_ONLY = Choice(
    outside_utility=0.0,
    quality_weight=0.0,
    relevance_weight=0.0,
    demand_weight=0.0,
    effort_weight=0.0,
    weeks_weight=0.0,
    price_signal_weight=0.3,
    credit_shadow_value=0.0,
    copay_weight=4.0,
    no_internet_penalty=0.0,
    travel_weight=0.0,
)


def two_courses(copay_share: float) -> tuple[Shoppers, Market]:
    # Two online courses priced 1.0 m (the cap) and 0.5 m; one shopper holding the full 1 m credit.
    market = Market(
        course_sector=np.zeros(2, dtype=np.int8),
        course_mode=np.full(2, ONLINE, dtype=np.int8),
        course_hours=np.full(2, 10.0, dtype=np.float32),
        course_difficulty=np.zeros(2, dtype=np.float32),
        price_idr=np.array([1_000_000.0, 500_000.0], dtype=np.float32),
        displayed_stars=np.full(2, 4.0),
        log_vacancies=np.zeros((1, 1), dtype=np.float32),
        travel_cost_idr=np.zeros(1, dtype=np.float32),
        credit_idr=1_000_000.0,
        cap_idr=1_000_000.0,
        max_topup_idr=0.0,
        copay_share=copay_share,
    )
    return one_shopper(), market  # region 0, internet, sector 0, 5 hours a week, full credit


def test_copay_turns_demand_down_in_price_and_the_seller_cuts_its_price():
    # Course 0's alternative price is 0.9 m. Utilities (waiting: 0):
    #   s = 0:   u0 = 0.3 log 1 = 0, u0(0.9 m) = 0.3 log 0.9 = -0.031608, u1 = 0.3 log 0.5 = -0.207944
    #            P0 = 1 / (1 + e^u1 + 1) = 0.355587; at 0.9 m: e^-0.031608 / (e^-0.031608 + e^u1 + 1)
    #            = 0.968886 / 2.781138 = 0.348378: demand RISES with price (price read as quality).
    #   s = 0.5: own money costs 4 x 0.5 = 2 utils per credit of price:
    #            u0 = -2, u0(0.9 m) = -0.031608 - 1.8 = -1.831608, u1 = -0.207944 - 1.0 = -1.207944
    #            P0 = e^-2 / (e^-2 + e^-1.207944 + 1) = 0.135335 / 1.434167 = 0.094366
    #            P0(0.9 m) = 0.160176 / 1.459158 = 0.109773: demand FALLS with price.
    # Expected receipts per impression (no commission, no cost): 0.094366 m at 1 m against
    # 0.9 m x 0.109773 = 0.098796 m at 0.9 m: the last move up was a mistake, and the price steps down.
    expected = {
        0.0: (1.0 / (2.0 + math.exp(0.3 * math.log(0.5))), None),
        0.5: (
            math.exp(-2.0) / (math.exp(-2.0) + math.exp(0.3 * math.log(0.5) - 1.0) + 1.0),
            math.exp(0.3 * math.log(0.9) - 1.8)
            / (math.exp(0.3 * math.log(0.9) - 1.8) + math.exp(0.3 * math.log(0.5) - 1.0) + 1.0),
        ),
    }
    assert expected[0.0][0] == pytest.approx(0.355587, abs=1e-6)
    assert expected[0.5] == pytest.approx((0.094366, 0.109773), abs=1e-6)
    alt = np.array([900_000.0, 500_000.0], dtype=np.float32)
    for share in (0.0, 0.5):
        shopper, market = two_courses(share)
        demand = expected_demand(shopper, market, PRICE_ONLY, np.ones(1), alt)
        assert demand.sales[0] == pytest.approx(expected[share][0], abs=1e-6)
        if share == 0.0:
            assert demand.alt_sales[0] < demand.sales[0]  # demand rises with price
            continue
        assert demand.alt_sales[0] == pytest.approx(expected[share][1], abs=1e-6)
        assert demand.alt_sales[0] > demand.sales[0]  # demand falls with price
        cost, quality = np.zeros(2), np.zeros(2)
        objective = objective_per_impression(
            demand.net_revenue_idr, demand.sales, demand.impressions, cost, quality, 0.0
        )
        alt_objective = objective_per_impression(
            demand.alt_net_revenue_idr, demand.alt_sales, demand.impressions, cost, quality, 0.0
        )
        assert objective[0] == pytest.approx(94_366, abs=1) and alt_objective[0] == pytest.approx(
            98_796, abs=1
        )
        price, direction = next_prices(
            market.price_idr,
            np.ones(2, dtype=np.int8),  # course 0 last moved up, from 0.9 m
            objective,
            alt_objective,
            np.ones(2, dtype=bool),
            np.ones(2, dtype=bool),
            step_share=0.1,
            tolerance_share=0.02,
            floor_idr=cost,
            cap_idr=1_000_000.0,
        )
        assert direction[0] == -1 and price[0] < 1_000_000.0


# ====================================================================== purchases and cards


def copay_model(share: float, topup_allowed: bool = False):
    overrides = [
        f"voucher.copay_share={share}",
        f"voucher.topup_allowed={str(topup_allowed).lower()}",
        "voucher.max_topup_idr=200000",
        "choice.outside_utility=0",
        "choice.copay_weight=0.5",
    ]
    return model_of(overrides, size=300, weeks=12)


@pytest.mark.parametrize("topup_allowed", [False, True])
def test_purchases_pay_the_copay_from_own_money(topup_allowed):
    # Each purchase: credit used = min((1 - s) price, credit left), own money = price - credit
    # used = s price + any top-up, which needs top-ups allowed and stays within max_topup_idr.
    share = 0.3
    model = copay_model(share, topup_allowed)
    keep = np.float32(1.0) - np.float32(share)
    rows = purchases_by_step(model)
    credit, used, paid, price = rows.T
    assert len(rows) > 50
    needed = (keep * price.astype(np.float32)).astype(np.float64)
    assert np.all(used == np.minimum(needed, credit))
    assert np.all(paid == price - used)
    above = needed - used  # the top-up above the credit left
    assert np.all(above <= (200_000 if topup_allowed else 0))
    assert np.all(paid >= share * price - 1.0)  # at least the co-payment (float32 rounding)
    assert model.ledger.topups == pytest.approx(paid.sum())
    assert model.scheme.purchases.with_topup == int((above > 0).sum())
    if topup_allowed:
        assert (above > 0).sum() >= 1


def test_a_card_is_broke_only_when_the_credit_cannot_pay_its_share_of_the_cheapest_course():
    # After some weeks, set one holder's credit between (1 - s) x cheapest and cheapest: with
    # s = 0.3 the card can still buy (credit needed 0.7 x cheapest) and stays; without a
    # co-payment it is broke and expires, forfeiting the credit.
    for share, stays in ((0.3, True), (0.0, False)):
        model = copay_model(share)
        for _ in range(4):
            model.step()
        state, courses = model.state, model.courses
        cheapest = float(courses.price_idr[courses.active & courses.listed.any(axis=1)].min())
        holder = np.flatnonzero((state.status == HOLDING) & (state.courses_bought > 0))[0]
        state.credit_left_idr[holder] = np.float32(round(0.85 * cheapest, -3))
        model.scheme._close_cards(model.week + 1)
        assert bool(state.status[holder] == HOLDING) is stays
        assert bool(state.status[holder] == FINISHED) is not stays


def test_copay_model_level_effects():
    # The tiny scenario, s = 0.5 against off: the credit pays half of every price and own money
    # the other half (no top-ups): ledger top-ups = credit spent, to float32 rounding; no purchase
    # counts as topped up; the ledger identity holds. Own money costs utility, so fewer recipients
    # buy; the lottery (who is offered, the credit issued) is untouched. Prices paid are whole
    # prices (credit plus own money), as the metric says.
    off = MarketModel(build_world(load_scenario(TINY)), "voucher")
    on = MarketModel(build_world(load_scenario(TINY, ["voucher.copay_share=0.5"])), "voucher")
    off.run()
    on.run()
    assert off.ledger.topups == 0
    assert on.ledger.topups == pytest.approx(on.ledger.credit_spent, rel=1e-6)
    assert on.scheme.purchases.with_topup == 0
    assert on.ledger.treasury_out + on.ledger.topups == pytest.approx(on.ledger.received, rel=1e-9)
    s_off, s_on = summarise(off), summarise(on)
    assert s_on["bought_share"] < s_off["bought_share"]
    assert s_on["participants_offered"] == s_off["participants_offered"]
    assert on.ledger.credit_issued == off.ledger.credit_issued
    assert s_on["mean_price_paid_idr"] == pytest.approx(
        (on.ledger.credit_spent + on.ledger.topups) / on.scheme.purchases.count, rel=1e-6
    )
