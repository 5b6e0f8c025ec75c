"""Providers' price learning: hill climbing on the objective of each course.

At every review a provider compares each course's objective (profit, plus a knightly provider's
value of trainee outcomes) over the last review period with the period before. If the objective
fell by more than a tolerance, the last price move was a mistake and the direction reverses;
otherwise the provider keeps moving the same way. A course that sold nothing in either period
moves down. Prices stay within [floor, cap] and on the 1,000 IDR grain.

Where demand rises with price up to the cap (no co-payment, price read as quality, no shadow value
of credit), every step up raises profit, so the rule climbs to the cap and stays there.
"""

from __future__ import annotations

import numpy as np

from simulation.config.codes import PRICE_GRAIN_IDR, round_price


def next_prices(
    price_idr: np.ndarray,
    direction: np.ndarray,
    objective: np.ndarray,
    last_objective: np.ndarray,
    sold_any: np.ndarray,
    *,
    step_share: float,
    tolerance_share: float,
    floor_idr: np.ndarray,
    cap_idr: float,
) -> tuple[np.ndarray, np.ndarray]:
    """New prices and directions (+1 up, -1 down) for one review; all arrays per course.

    ``objective`` and ``last_objective`` are in IDR over equal-length periods; ``sold_any`` says
    whether the course sold in either period.
    """
    tolerance = tolerance_share * np.abs(last_objective)
    worse = objective < last_objective - tolerance
    direction = np.where(worse, -direction, direction)
    direction = np.where(sold_any, direction, -1).astype(np.int8)
    moved = round_price(price_idr * (1.0 + step_share * direction))
    low = np.minimum(np.ceil(np.asarray(floor_idr) / PRICE_GRAIN_IDR) * PRICE_GRAIN_IDR, cap_idr)
    return np.clip(moved, low, cap_idr).astype(np.float32), direction


def course_objective(
    net_revenue_idr: np.ndarray,
    enrolments: np.ndarray,
    marginal_cost_idr: np.ndarray,
    true_quality: np.ndarray,
    knightly_weight_idr: np.ndarray,
    scale: float,
) -> np.ndarray:
    """Objective of each course over a period, IDR: profit plus the value put on trainees' skill.

    ``net_revenue_idr`` and ``enrolments`` are simulated totals; ``scale`` turns them into real ones.
    """
    profit = net_revenue_idr - enrolments * marginal_cost_idr
    return scale * (profit + knightly_weight_idr * enrolments * true_quality)
