"""The tender's decision rules (DESIGN §3, tender): planning lots, bidding, scoring, award, shading
and payment.

Pure functions over numpy arrays, with no model state: the tender scheme decides who bids on which
lot and when. Units: prices and budgets in IDR, time in weeks, quality and shares in [0, 1]. Any
randomness comes from a ``numpy.random.Generator`` argument, and each function draws a fixed number
of numbers whatever the outcome, so the random stream stays aligned across scenarios.
"""

from __future__ import annotations

import math

import numpy as np

from simulation.rules import quality

RULES = ("per_trainee", "per_seat", "outcome")  # contract_payment rules
_ROUNDING = 1e-9  # seats: quotas within this of a whole number count as whole, remainders as ties


def forecast_demand(
    vacancies: np.ndarray, week: int, lag_weeks: int, noise_sd: float, rng: np.random.Generator
) -> np.ndarray:
    """Office's forecast of labour demand [sector, region]: the vacancy index observed lag_weeks
    before `week` (clamped at week 0), times lognormal noise exp(N(0, noise_sd) - noise_sd**2/2)
    per cell. vacancies is [week, sector, region].

    The noise has mean 1, so the forecast is unbiased in level. One normal number is drawn per cell
    even when ``noise_sd`` is 0 (then the factor is exactly 1).
    """
    vacancies = np.asarray(vacancies, dtype=np.float64)
    if vacancies.ndim != 3:
        raise ValueError(f"vacancies must be [week, sector, region], got shape {vacancies.shape}")
    if lag_weeks < 0 or noise_sd < 0:
        raise ValueError("lag_weeks and noise_sd must be non-negative")
    seen = max(week - lag_weeks, 0)
    if seen >= vacancies.shape[0]:
        raise IndexError(f"week {seen} is not in the vacancy series ({vacancies.shape[0]} weeks)")
    noise = rng.normal(0.0, noise_sd, size=vacancies.shape[1:])
    return vacancies[seen] * np.exp(noise - noise_sd**2 / 2.0)


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """Whole numbers summing to ``total``, in proportion to ``weights`` (any shape, non-negative,
    not all zero): each cell gets the floor of its quota total * w / sum(w), and the seats left go
    one each to the largest remainders, ties to the lower flat index. Quotas within 1e-9 of a whole
    number count as whole, and remainders within 1e-9 as ties, so float noise cannot decide a tie.
    """
    weights = np.asarray(weights, dtype=np.float64)
    quota = total * weights / weights.sum()
    base = np.floor(quota + _ROUNDING)
    remainder = np.round(quota - base, 9).ravel()
    left = int(total - base.sum())
    order = np.argsort(-remainder, kind="stable")  # stable: lower flat index first among ties
    extra = np.zeros(remainder.size)
    extra[order[:left]] = 1.0
    return (base + extra.reshape(weights.shape)).astype(np.int64)


def plan_lots(
    budget_idr: float,
    forecast: np.ndarray,
    population_share: np.ndarray,
    reference_cost_idr: float,
    min_seats: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split the budget into lots (sector, region, seats), each an int array over lots.
    Total seats = floor(budget / reference cost). Seats go to cells in proportion to
    forecast[s, r] * population_share[r] by the largest-remainder method (ties broken by
    lower flat index s*R + r, deterministic); cells with fewer than min_seats seats are dropped
    and their seats re-allocated the same way among the remaining cells (repeat until stable);
    lots ordered by (sector, region). Zero budget -> empty arrays.

    A dropped cell stays dropped (cells with no seats count as dropped), so the loop ends. If every
    cell is dropped (the budget buys fewer than ``min_seats`` seats, or the forecast is all zero),
    there are no lots and the budget goes unspent. ``forecast`` is [sector, region],
    ``population_share`` is [region]; both non-negative.
    """
    forecast = np.asarray(forecast, dtype=np.float64)
    share = np.asarray(population_share, dtype=np.float64)
    if forecast.ndim != 2 or share.shape != forecast.shape[1:]:
        raise ValueError(f"forecast {forecast.shape} must be [sector, region], shares [region]")
    weights = forecast * share[np.newaxis, :]
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("forecast and population shares must be finite and non-negative")
    if budget_idr < 0 or reference_cost_idr <= 0:
        raise ValueError("budget must be non-negative and the reference cost positive")
    empty = np.zeros(0, dtype=np.int64)
    total = math.floor(budget_idr / reference_cost_idr)
    active = weights > 0
    while total > 0 and active.any():
        seats = largest_remainder(total, np.where(active, weights, 0.0))
        small = active & (seats < min_seats)
        if not small.any():
            sector, region = np.nonzero(seats)  # row-major: ordered by (sector, region)
            return sector.astype(np.int64), region.astype(np.int64), seats[sector, region]
        active &= ~small
    return empty, empty.copy(), empty.copy()


def systematic_round(quotas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Whole numbers for non-negative ``quotas`` (1-d), unbiased and total-preserving: systematic
    rounding with one uniform draw u on [0, 1) (exactly one number of ``rng``, always drawn).

    With C_i the cumulative sum of the quotas up to and including i, item i gets
    floor(C_i + u) - floor(C_{i-1} + u), which is floor(q_i) or ceil(q_i); over u its expectation
    is exactly q_i, and the total is floor(C_n + u), within one of sum(q). Whole quotas stay as they
    are, whatever their neighbours. Used to turn a contract's real seats into simulated seats
    (quota = real seats / scale), so that a centre too small to hold one simulated seat still
    trains its real share in expectation.
    """
    quotas = np.asarray(quotas, dtype=np.float64)
    if quotas.ndim != 1:
        raise ValueError(f"quotas must be 1-d, got shape {quotas.shape}")
    if not np.all(np.isfinite(quotas)) or np.any(quotas < 0):
        raise ValueError("quotas must be finite and non-negative")
    u = rng.random()
    whole = np.floor(quotas)
    cumulative = np.concatenate(([0.0], np.cumsum(quotas - whole)))  # fractional parts only: exact
    steps = np.floor(cumulative + u)
    return (whole + np.diff(steps)).astype(np.int64)


def cohort_target(sim_seats: int, cohorts: int, index: int, phase: float) -> int:
    """Simulated seats a contract should have filled by the end of its cohort ``index`` (0-based,
    of ``cohorts`` back-to-back cohorts): min(sim_seats, floor(sim_seats * (index + 1) / cohorts
    + phase)), with ``phase`` in [0, 1) drawn once per contract.

    With phase uniform, the expected target is exactly sim_seats * (index + 1) / cohorts: seats are
    spread evenly over the cohorts in expectation, whatever the sample's size (a contract with one
    simulated seat and 13 cohorts puts it in a cohort drawn uniformly), and exactly evenly when
    ``cohorts`` divides ``sim_seats``. The last cohort's target is always sim_seats. A cohort
    seats the target less those already seated, so seats left empty roll over to the next one.
    """
    if cohorts <= 0 or not 0 <= index < cohorts:
        raise ValueError(f"need 0 <= index < cohorts, got index {index} of {cohorts}")
    if not 0.0 <= phase < 1.0:
        raise ValueError(f"phase must be in [0, 1), got {phase}")
    return min(sim_seats, math.floor(sim_seats * (index + 1) / cohorts + phase))


def affordable_seats(budget_left_idr: float, price_idr: float) -> int:
    """Whole seats a budget still pays for at a price per seat, IDR: floor(left / price), never
    negative. A price of zero or less is refused."""
    if not price_idr > 0:
        raise ValueError(f"price must be positive, got {price_idr}")
    return max(int(budget_left_idr // price_idr), 0)


def bid_prices(
    cost_idr: np.ndarray, rivals: np.ndarray, markup: float, capacity_share: np.ndarray | float = 1.0
) -> np.ndarray:
    """Bid per trainee, IDR: cost * (1 + markup / (1 + rivals * capacity_share)).

    A bidder expecting more rivals shades its margin (the first-price logic); rivals = expected
    number of other bidders. ``capacity_share`` = min(1, capacity / seats in the lot): a bidder
    that can take only part of a lot, which will be split anyway, competes for its part with
    proportionally fewer rivals and keeps more margin. With capacity_share 1 the formula is
    cost * (1 + markup / (1 + rivals)).
    """
    share = np.clip(np.asarray(capacity_share, dtype=np.float64), 0.0, 1.0)
    return np.asarray(cost_idr, dtype=np.float64) * (1.0 + markup / (1.0 + np.asarray(rivals) * share))


def declared_quality(true_quality: np.ndarray, inflation: float) -> np.ndarray:
    """Quality a bidder declares: true quality plus inflation, capped at 1 (and floored at 0)."""
    return np.clip(np.asarray(true_quality, dtype=np.float64) + inflation, 0.0, 1.0)


def score_bids(
    price_idr: np.ndarray,
    assessed_quality: np.ndarray,
    *,
    price_weight: float,
    quality_floor: float,
    abnormal_share: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Score the bids of ONE lot. Returns (score, flagged_abnormal). A bid is excluded
    (score -inf) if assessed quality < quality_floor, or if it is abnormally low: price below
    abnormal_share x the median price of the bids that pass the floor (flagged_abnormal True).
    Valid bids score price_weight * (lowest valid price / price) + (1 - price_weight) * assessed
    quality, so the cheapest valid bid gets the full price points.

    As in a technical-then-price evaluation, only bids that pass the floor are screened for low
    prices, so a bid below the floor is excluded but never flagged. A price exactly at the threshold
    passes. Prices must be positive.
    """
    price = np.asarray(price_idr, dtype=np.float64)
    quality = np.asarray(assessed_quality, dtype=np.float64)
    if price.shape != quality.shape or price.ndim != 1:
        raise ValueError("price_idr and assessed_quality must be 1-d arrays of one lot's bids")
    if np.any(~(price > 0)):
        raise ValueError("bid prices must be positive")
    passes = quality >= quality_floor
    flagged = np.zeros(price.shape, dtype=bool)
    if passes.any():
        flagged = passes & (price < abnormal_share * np.median(price[passes]))
    valid = passes & ~flagged
    score = np.full(price.shape, -np.inf)
    if valid.any():
        lowest = price[valid].min()
        points = price_weight * (lowest / price[valid]) + (1.0 - price_weight) * quality[valid]
        score[valid] = points
    return score, flagged


def award(score: np.ndarray, favouritism: float, rng: np.random.Generator) -> int:
    """Winner index of one lot, or -1 if no bid is valid. With probability `favouritism` (one
    rng.random() draw, always drawn so the stream stays aligned) the award goes to a bidder drawn
    uniformly among ALL bidders in the lot (valid or not: favouritism/collusion overrides the
    score); otherwise to the highest score (lowest index on ties). No bidders -> -1.

    The favoured bidder comes from the same draw u (given u < favouritism, u / favouritism is
    uniform on [0, 1), and the bidder is floor(n * u / favouritism)), so every call, with or without
    bidders, uses exactly one number of the stream.
    """
    score = np.asarray(score, dtype=np.float64)
    u = rng.random()
    n = score.size
    if n == 0:
        return -1
    if u < favouritism:
        return min(int(n * (u / favouritism)), n - 1)
    best = int(np.argmax(score))  # first maximum: lowest index on ties
    return best if np.isfinite(score[best]) else -1


def shading(
    declared: np.ndarray, saving_idr: np.ndarray, monitoring: float, penalty_idr: float
) -> np.ndarray:
    """Quality a contractor with no mission and no future shades, chosen to maximise
    saving_idr * s - monitoring * penalty_idr * s**2 (cost saved per unit of quality shaded,
    against the expected penalty: monitoring probability x penalty, quadratic in the shading).
    Interior solution s* = saving / (2 * monitoring * penalty), clipped to [0, declared];
    with monitoring or penalty 0 the contractor shades everything (s = declared).

    The special case mission = future = 0 of ``simulation.rules.quality.shading``, to which it
    delegates (the tender itself calls that rule with the contractor's mission and future loss).
    ``saving_idr`` and ``penalty_idr`` are per trainee per unit of quality. A contractor with no
    saving (0) shades nothing, even unmonitored.
    """
    return quality.shading(declared, saving_idr, 0.0, 0.0, monitoring * penalty_idr)


def contract_payment(
    price_idr: float, seats: int, trainees: int, placed: int, rule: str, placement_share: float
) -> float:
    """Payment to a contractor for one lot, IDR. rule 'per_trainee': price * trainees;
    'per_seat': price * seats; 'outcome': (1 - placement_share) * price * trainees
    + placement_share * price * placed (part of the price withheld until a trainee finds work).

    Requires 0 <= placed <= trainees <= seats and placement_share in [0, 1].
    """
    if not 0 <= placed <= trainees <= seats:
        raise ValueError(f"need 0 <= placed <= trainees <= seats, got {placed}, {trainees}, {seats}")
    if not 0.0 <= placement_share <= 1.0:
        raise ValueError(f"placement_share must be in [0, 1], got {placement_share}")
    if rule == "per_trainee":
        return float(price_idr * trainees)
    if rule == "per_seat":
        return float(price_idr * seats)
    if rule == "outcome":
        return float((1.0 - placement_share) * price_idr * trainees + placement_share * price_idr * placed)
    raise ValueError(f"unknown payment rule {rule!r}; expected one of {RULES}")


def past_performance_adjustment(
    assessed_quality: np.ndarray, past_delivered: np.ndarray, weight: float
) -> np.ndarray:
    """Assessed quality in a re-tender: (1 - weight) * assessed + weight * past delivered quality,
    where past_delivered is NaN for bidders with no record (they keep their assessment)."""
    assessed = np.asarray(assessed_quality, dtype=np.float64)
    past = np.asarray(past_delivered, dtype=np.float64)
    blended = (1.0 - weight) * assessed + weight * np.where(np.isnan(past), 0.0, past)
    return np.where(np.isnan(past), assessed, blended)
