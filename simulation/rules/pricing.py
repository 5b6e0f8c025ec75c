"""Providers' price learning: hill climbing on each course's expected profit per impression.

Evidence. Over each review period a provider learns, for each of its courses, how often the
course was shown to shoppers (impressions: the times it sat in a shopper's choice set) and what
those shoppers were expected to bring it: the sum over them of the logit probability that they
buy it (expected sales) and of that probability times the price net of the platform's commission
(expected net receipts). A real provider selling to ``scale`` times more shoppers sees almost
exactly its expected demand (law of large numbers); expected values are what the simulated sample
would show at that size, whatever the sample size. The objective of a course is its expected
profit per impression, IDR: (expected net receipts - expected sales x marginal cost, plus a
knightly provider's value of its trainees' expected skill) / impressions. Dividing by impressions
keeps changes in the number of shoppers (lottery waves) and in the course's rank on the pages
from passing for the effect of its price; shoppers shown the course who wait because of its price
still count against it.

The rule, at each review, course by course:

* not shown in the period: nothing was learnt; price and direction stay;
* shown, but no shopper who saw it could buy it at its price (expected sales zero in this and the
  last informative period): the price moves down;
* otherwise, if the objective fell by more than ``tolerance_share`` of the last informative
  period's, the last move was a mistake and the direction reverses; else it is kept; the price
  then moves one ``step_share`` in that direction.

Prices stay within [marginal cost, cap] and on the 1,000 IDR grain. The rule climbs while a step
raises expected profit per impression and turns back at the first step that lowers it, so:

* where demand rises with price up to the cap and every shopper shown the course can pay the cap
  (no co-payment, price read as quality, no shadow value of credit, the cap within the credit
  shoppers hold), every step up raises the objective: the price climbs to the cap and stays;
* where demand falls with price (a shadow value of credit, or shoppers whose credit left is below
  the price), the price rises or falls towards the profit-maximising price given competitors'
  prices and then keeps probing within a step or two of it; with many courses the distribution
  of prices settles while the market's conditions stay the same.

The comparison is between periods, as a provider watching its own sales would make it: a change in
who shops (a wave of newcomers with full credit, more holders with little credit left) or in the
course's stars between two periods is read as the effect of the last price move. Where profit is
flat in price (near the optimum) such shifts can carry a price a few steps away before it turns.
"""

from __future__ import annotations

import numpy as np

from simulation.config.codes import PRICE_GRAIN_IDR, round_price


def next_prices(
    price_idr: np.ndarray,
    direction: np.ndarray,
    objective: np.ndarray,
    last_objective: np.ndarray,
    shown: np.ndarray,
    sellable: np.ndarray,
    *,
    step_share: float,
    tolerance_share: float,
    floor_idr: np.ndarray,
    cap_idr: float,
) -> tuple[np.ndarray, np.ndarray]:
    """New prices (IDR, float32) and directions (+1 up, -1 down) for one review; arrays per course.

    ``objective`` is this period's (IDR per impression) and ``last_objective`` that of the last
    period in which the course was shown; ``shown`` says whether it was shown in this period;
    ``sellable`` whether its expected sales were positive in this period or that last one.
    """
    tolerance = tolerance_share * np.abs(last_objective)
    worse = objective < last_objective - tolerance
    moved_direction = np.where(worse, -direction, direction)
    moved_direction = np.where(sellable, moved_direction, -1)
    direction = np.where(shown, moved_direction, direction).astype(np.int8)
    moved = round_price(price_idr * (1.0 + step_share * direction))
    low = np.minimum(np.ceil(np.asarray(floor_idr) / PRICE_GRAIN_IDR) * PRICE_GRAIN_IDR, cap_idr)
    moved = np.clip(moved, low, cap_idr)
    return np.where(shown, moved, price_idr).astype(np.float32), direction


def objective_per_impression(
    expected_net_revenue_idr: np.ndarray,
    expected_sales: np.ndarray,
    impressions: np.ndarray,
    marginal_cost_idr: np.ndarray,
    true_quality: np.ndarray,
    knightly_weight_idr: float | np.ndarray,
) -> np.ndarray:
    """Each course's objective over a period, IDR per impression: expected profit (net receipts
    less marginal cost per expected sale) plus the value a knightly provider puts on its
    trainees' skill (``knightly_weight_idr`` per unit of quality per trainee); 0 if not shown.

    All inputs are per course and period and in the same (simulated) units, so the ratio is the
    same at every scale.
    """
    profit = expected_net_revenue_idr - expected_sales * marginal_cost_idr
    value = profit + knightly_weight_idr * expected_sales * true_quality
    return np.divide(value, impressions, out=np.zeros(value.shape), where=impressions > 0)
