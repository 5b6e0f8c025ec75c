"""Providers' price learning: hill climbing on each course's expected profit per impression.

Evidence. Over each review period a provider learns, for each of its courses, how often the
course was shown to shoppers (impressions: the times it sat in a shopper's choice set) and what
those shoppers were expected to bring it: the sum over them of the logit probability that they
buy it (expected sales) and of that probability times the price net of the platform's commission
(expected net receipts). It learns the same at the course's *alternative price*, the price one
step back against its direction of movement (where its last move came from), for the same
shoppers with every other course as it was (``simulation.rules.choice.expected_demand``).

Why expected values. A real provider selling to ``scale`` times more shoppers than the simulated
sample sees almost exactly its expected demand (law of large numbers). Realised simulated sales
are about sqrt(scale) times noisier, relative to their mean, than the real provider's; a rule fed
with them random-walks at small sample sizes, and a course nobody saw looks like a course nobody
wanted. Why the same shoppers at both prices. Comparing one period with the next, as a provider
watching its sales would, reads every change in who shops (a lottery wave of newcomers with full
credit, holders with little credit left, the course's stars) as the effect of the last price move;
in a simulated sample such changes are also larger the smaller the sample. Judging the last move
on the same shoppers removes both, so the rule climbs the provider's expected profit whatever the
sample size.

The objective of a course is its expected profit per impression, IDR: (expected net receipts -
expected sales x marginal cost, plus a knightly provider's value of its trainees' expected skill)
/ impressions. At each review, course by course:

* not shown in the period: nothing was learnt; price and direction stay;
* shown, but no shopper who saw it could buy it at either price (both beyond their credit left
  plus any top-up): the price moves down;
* otherwise, if the objective at the price is below that at the alternative price by more than
  ``tolerance_share`` of the latter, the last move was a mistake and the direction reverses;
  else it is kept; the price then moves one step in that direction.

A step multiplies the price by (1 + ``step_share``) up or divides it by as much down, so that a
step up and a step down cancel; prices stay within [marginal cost, cap] and on the 1,000 IDR
grain. The rule keeps moving while each move raises expected profit per impression and turns at
the first move that lowers it, so:

* where demand rises with price up to the cap and every shopper shown the course can pay the cap
  (no co-payment, price read as quality, no shadow value of credit, the cap within the credit
  shoppers hold), every step up raises the objective: the price climbs to the cap and stays;
* where demand falls with price (a shadow value of credit, or shoppers whose credit left is below
  the price), the price rises or falls to the profit-maximising price given competitors' prices
  and then alternates between the grid points on either side of it; while the market's
  conditions stay the same, the distribution of prices settles.

A co-payment (``voucher.copay_share`` = s) acts through the same evidence, in two opposite ways:
each IDR of price costs the shopper ``copay_weight`` x s / credit of utility, so demand falls
with price (prices fall); and a course needs only (1 - s) x price of credit, so shoppers whose
credit left was below the price can now buy it (prices rise). Which wins is an empirical matter
of the weights: at the 2020 calibration (copay_weight 2) the second does.
"""

from __future__ import annotations

import numpy as np

from simulation.config.codes import PRICE_GRAIN_IDR, round_price


def next_prices(
    price_idr: np.ndarray,
    direction: np.ndarray,
    objective: np.ndarray,
    alt_objective: np.ndarray,
    shown: np.ndarray,
    sellable: np.ndarray,
    *,
    step_share: float,
    tolerance_share: float,
    floor_idr: np.ndarray,
    cap_idr: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """New prices (IDR, float32) and directions (+1 up, -1 down) for one review; arrays per course.

    ``objective`` and ``alt_objective`` are the period's objectives (IDR per impression) at the
    price and at the alternative price (``alternative_prices``), on the same impressions;
    ``shown`` says whether the course was shown in the period, ``sellable`` whether its expected
    sales were positive at either price. ``cap_idr`` is the scheme's single cap or one cap per
    course (``simulation.rules.listing.course_price_caps``).
    """
    worse = objective < alt_objective - tolerance_share * np.abs(alt_objective)
    moved_direction = np.where(worse, -direction, direction)
    moved_direction = np.where(sellable, moved_direction, -1)
    direction = np.where(shown, moved_direction, direction).astype(np.int8)
    moved = stepped(price_idr, direction, step_share=step_share, floor_idr=floor_idr, cap_idr=cap_idr)
    return np.where(shown, moved, price_idr).astype(np.float32), direction


def alternative_prices(
    price_idr: np.ndarray,
    direction: np.ndarray,
    *,
    step_share: float,
    floor_idr: np.ndarray,
    cap_idr: float | np.ndarray,
) -> np.ndarray:
    """The price each course is judged against at its next review (IDR, float32): one step back
    against its direction, i.e. where its last move came from (or, at the cap or the floor, the
    neighbouring price inside)."""
    return stepped(price_idr, -direction, step_share=step_share, floor_idr=floor_idr, cap_idr=cap_idr)


def stepped(
    price_idr: np.ndarray,
    direction: np.ndarray,
    *,
    step_share: float,
    floor_idr: np.ndarray,
    cap_idr: float | np.ndarray,
) -> np.ndarray:
    """Prices one step in ``direction`` (x (1 + step) up, / (1 + step) down), on the 1,000 IDR
    grain, within [floor rounded up to the grain, cap] (IDR, float32)."""
    moved = round_price(price_idr * (1.0 + step_share) ** np.asarray(direction, dtype=np.float64))
    low = np.minimum(np.ceil(np.asarray(floor_idr) / PRICE_GRAIN_IDR) * PRICE_GRAIN_IDR, cap_idr)
    return np.clip(moved, low, cap_idr).astype(np.float32)


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
