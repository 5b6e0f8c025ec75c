"""The shopping decision: a multinomial logit over a page of courses, with an outside option.

All functions are pure and vectorised over shoppers (rows) and options (columns). Utility is

    u_ij = quality_weight   * expected quality of j from its displayed stars
         + price_signal     * log(price_j / cap)            (price read as a quality signal)
         - credit_shadow    * price_j / credit               (credit used up for later courses)
         - effort_weight    * difficulty_j
         + relevance_weight * [sector_j == own sector]
         + demand_weight    * log(local vacancies in sector_j)
         - weeks_weight     * ceil(hours_j / own weekly hours)
         - mode penalties   (online without internet; travel to offline courses, per credit)
         - copay_weight     * max(0, price_j - credit left) / credit

and the outside option (wait this week) has ``outside_utility + outside_shift * courses bought``.
An option is infeasible (utility -inf) when its price exceeds the credit left (plus the allowed
top-up), when it is an empty page slot, or when it is the course the shopper last took.
A choice is the argmax of utility plus standard Gumbel noise, which samples the logit exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.courses import HYBRID, OFFLINE, ONLINE
from simulation.scenario import Choice

OUTSIDE = -1


@dataclass(frozen=True)
class Market:
    """What a shopper can learn about the courses this week (course-level, shared by all)."""

    course_sector: np.ndarray  # int8 [courses]
    course_mode: np.ndarray  # int8 [courses]
    course_hours: np.ndarray  # float32 [courses]
    course_difficulty: np.ndarray  # float32 [courses]
    price_idr: np.ndarray  # float32 [courses]
    displayed_stars: np.ndarray  # float [courses], 1-5
    log_vacancies: np.ndarray  # float32 [sector, region], this week
    travel_cost_idr: np.ndarray  # float32 [region]
    credit_idr: float  # the full credit, the unit in which money enters utility
    cap_idr: float  # the price cap
    max_topup_idr: float  # 0 when top-ups are not allowed


@dataclass(frozen=True)
class Shoppers:
    """The shoppers of one week (rows) and the courses each one sees (columns)."""

    options: np.ndarray  # int32 [n, J], course ids; -1 = empty slot
    sector: np.ndarray  # int8 [n]
    region: np.ndarray  # int8 [n]
    internet: np.ndarray  # bool [n]
    weekly_hours: np.ndarray  # float32 [n]
    credit_left_idr: np.ndarray  # float32 [n]
    courses_bought: np.ndarray  # int16 [n]
    last_course: np.ndarray  # int32 [n], -1 if none

    def __len__(self) -> int:
        return int(self.options.shape[0])


def expected_quality(displayed_stars: np.ndarray) -> np.ndarray:
    """Quality a shopper infers from stars: 1 star = 0, 5 stars = 1."""
    return (np.asarray(displayed_stars, dtype=np.float32) - 1.0) / 4.0


def course_appeal(market: Market, params: Choice) -> np.ndarray:
    """The shopper-independent part of each course's utility [courses] (float32)."""
    unit = max(market.credit_idr, 1.0)
    price = market.price_idr.astype(np.float32)
    appeal = (
        params.quality_weight * expected_quality(market.displayed_stars)
        + params.price_signal_weight * np.log(np.maximum(price, 1.0) / max(market.cap_idr, 1.0))
        - params.credit_shadow_value * price / unit
        - params.effort_weight * market.course_difficulty
    )
    return appeal.astype(np.float32)


def mode_penalty(market: Market, params: Choice) -> np.ndarray:
    """Disutility [mode, internet(0/1), region] of taking a course of a mode."""
    unit = max(market.credit_idr, 1.0)
    travel = params.travel_weight * market.travel_cost_idr.astype(np.float32) / unit
    penalty = np.zeros((3, 2, travel.shape[0]), dtype=np.float32)
    penalty[ONLINE, 0, :] = params.no_internet_penalty
    penalty[OFFLINE, :, :] = travel
    penalty[HYBRID, 0, :] = 0.5 * params.no_internet_penalty
    penalty[HYBRID, :, :] += 0.5 * travel
    return penalty


def utilities(shoppers: Shoppers, market: Market, params: Choice) -> np.ndarray:
    """Utility of every option [n, J] (float32, -inf where infeasible)."""
    options = shoppers.options
    empty = options < 0
    j = np.where(empty, 0, options)
    sector_j = market.course_sector[j]
    region = shoppers.region[:, None].astype(np.intp)
    u = course_appeal(market, params)[j]
    u += params.relevance_weight * (sector_j == shoppers.sector[:, None])
    u += params.demand_weight * market.log_vacancies[sector_j, region]
    weeks = np.ceil(market.course_hours[j] / shoppers.weekly_hours[:, None])
    u -= params.weeks_weight * weeks
    internet = shoppers.internet[:, None].astype(np.intp)
    u -= mode_penalty(market, params)[market.course_mode[j], internet, region]
    topup = market.price_idr[j] - shoppers.credit_left_idr[:, None]
    u -= params.copay_weight * np.maximum(topup, 0.0) / max(market.credit_idr, 1.0)
    infeasible = empty | (topup > market.max_topup_idr) | (options == shoppers.last_course[:, None])
    u[infeasible] = -np.inf
    return u


def outside_utility(shoppers: Shoppers, params: Choice) -> np.ndarray:
    """Utility of waiting [n]."""
    return (params.outside_utility + params.outside_shift_per_course * shoppers.courses_bought).astype(
        np.float32
    )


def gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard Gumbel draws in float32 (minus the log of standard exponentials)."""
    return -np.log(rng.standard_exponential(shape, dtype=np.float32))


def choose(utility: np.ndarray, outside: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Gumbel-max choice: column index of the best option, or OUTSIDE (-1) to wait.

    ``noise`` is [n, J + 1]; its last column belongs to the outside option.
    """
    total = utility + noise[:, :-1]
    best = np.argmax(total, axis=1)
    best_value = np.take_along_axis(total, best[:, None], axis=1)[:, 0]
    return np.where(best_value > outside + noise[:, -1], best, OUTSIDE)


def logit_probabilities(utility: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Closed-form choice probabilities [n, J + 1] (last column: outside), for tests and docking."""
    full = np.concatenate([utility, outside[:, None]], axis=1).astype(np.float64)
    full -= full.max(axis=1, keepdims=True)
    weights = np.exp(full)
    return weights / weights.sum(axis=1, keepdims=True)
