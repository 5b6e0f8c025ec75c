"""The tender's decision rules (DESIGN §3, tender): planning lots, bidding, scoring, award, shading
and payment.

Pure functions over numpy arrays, with no model state: the tender scheme decides who bids on which
lot and when. Units: prices and budgets in IDR, time in weeks, quality and shares in [0, 1]. Any
randomness comes from a ``numpy.random.Generator`` argument, and each function draws a fixed number
of numbers whatever the outcome, so the random stream stays aligned across scenarios.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator

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
    cap: np.ndarray | None = None,
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

    ``cap`` (optional, [sector, region], real seats, non-negative, ``inf`` for no limit) is what
    the office thinks each cell can deliver: a cell allotted more than floor(cap) seats gets
    exactly floor(cap) and keeps it, and the seats left are re-allocated among the cells not yet
    capped, in proportion to their weights (largest remainder again); a cell whose floor(cap) is
    under ``min_seats`` is dropped instead. Capping is checked before the minimum lot, one round at
    a time, until no cell is over its cap or under the minimum. Seats that no cell can take (every
    cell capped or dropped) are not planned: that budget stays unspent. Without a cap (None, or
    every cap at least the total) the plan is the one above, exactly.
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
    limit = np.full(forecast.shape, np.inf) if cap is None else np.asarray(cap, dtype=np.float64)
    if limit.shape != forecast.shape or np.any(np.isnan(limit)) or np.any(limit < 0):
        raise ValueError(f"cap must be [sector, region] like the forecast, non-negative, got {limit.shape}")
    limit = np.floor(limit + _ROUNDING)
    empty = np.zeros(0, dtype=np.int64)
    total = math.floor(budget_idr / reference_cost_idr)
    if total <= 0:
        return empty, empty.copy(), empty.copy()
    active, capped = weights > 0, np.zeros(forecast.shape, dtype=bool)
    while True:
        free = active & ~capped
        left = total - int(limit[capped].sum())
        seats = np.zeros(forecast.shape, dtype=np.int64)
        if left > 0 and free.any():
            seats = largest_remainder(left, np.where(free, weights, 0.0))
        over = free & (seats > limit)
        if over.any():
            capped |= over & (limit >= min_seats)
            active &= ~(over & (limit < min_seats))
            continue
        small = free & (seats < min_seats)
        if not small.any():
            seats = np.where(capped, limit, seats).astype(np.int64)
            sector, region = np.nonzero(seats)  # row-major: ordered by (sector, region)
            return sector.astype(np.int64), region.astype(np.int64), seats[sector, region]
        active &= ~small


def planning_cap(deliverable_seats: np.ndarray, knowledge: float) -> np.ndarray:
    """The office's cap on each cell's seats (real seats): deliverable / knowledge, where
    ``deliverable_seats`` is what the cell's market can deliver over the cycle (real seats) and
    ``knowledge`` in [0, 1] how far the office knows it. 1: the true figure; 0.5: the office
    believes twice what the market can deliver; 0: it ignores capacity (every cap infinite, the
    plan of ``plan_lots`` without a cap)."""
    deliverable = np.asarray(deliverable_seats, dtype=np.float64)
    if not 0.0 <= knowledge <= 1.0:
        raise ValueError(f"knowledge must be in [0, 1], got {knowledge}")
    if knowledge == 0.0:
        return np.full(deliverable.shape, np.inf)
    return deliverable / knowledge


def expansion_win_chance(shortfall_seats: np.ndarray, offered_seats: np.ndarray) -> np.ndarray:
    """Chance that a seat a centre adds to a cell is sold: min(1, shortfall / offered), 0 where
    nothing is offered. ``shortfall_seats`` = the cell's planned seats less what its centres can
    already teach (real seats, >= 0); ``offered_seats`` = the seats all its centres could add
    within their bounds (real seats). Each centre expects its rivals to add their bounds too, and
    the shortfall to be shared among all the seats added, in proportion."""
    shortfall = np.asarray(shortfall_seats, dtype=np.float64)
    offered = np.asarray(offered_seats, dtype=np.float64)
    ratio = np.divide(
        shortfall, offered, out=np.zeros(np.broadcast(shortfall, offered).shape), where=offered > 0
    )
    return np.clip(ratio, 0.0, 1.0)


def capacity_expansion(
    capacity_per_year: np.ndarray,
    max_share: np.ndarray | float,
    margin_idr: np.ndarray,
    trainees_per_unit: np.ndarray | float,
    win_chance: np.ndarray | float,
    cost_idr: float,
) -> np.ndarray:
    """Yearly capacity a centre adds when a tender's lots are announced (trainees per year):
    max_share * capacity_per_year if margin_idr * trainees_per_unit * win_chance > cost_idr, else 0.

    One unit of added yearly capacity (one more trainee a year, a "seat-year") costs ``cost_idr``
    once and, once ready, teaches ``trainees_per_unit`` = (cohorts left after the lead time) x
    course_weeks / 52 trainees in the rest of the cycle, each sold with chance ``win_chance`` at
    ``margin_idr`` (expected price less marginal cost, IDR per trainee). In seats of one trainee
    per cohort (52 / course_weeks units each) the rule reads margin x cohorts x win chance > cost of
    a seat. The centre adds seats while a seat's expected margin exceeds its cost; the value of a
    seat does not fall with the seats added (the win chance already shares the shortfall among
    all seats offered), so it adds its whole bound, ``max_share`` of its current capacity, or none.
    The margin counts only the current cycle (contracts last one cycle and the next tender is not
    promised): a myopic investor. A tie (value equal to cost) adds nothing."""
    capacity = np.asarray(capacity_per_year, dtype=np.float64)
    value = np.asarray(margin_idr, dtype=np.float64) * trainees_per_unit * win_chance
    return np.where(value > cost_idr, np.asarray(max_share, dtype=np.float64) * capacity, 0.0)


def entry_counts(
    unserved_seats: np.ndarray,
    seats_per_entrant: float,
    margin_idr: np.ndarray,
    entry_cost_idr: float,
    max_entrants: int,
) -> np.ndarray:
    """New centres entering each cell (int array shaped like ``unserved_seats``).

    A cell's unserved seats U (real seats its centres cannot teach, even after expanding) are
    taken by entrants in turn, each selling up to ``seats_per_entrant`` (its capacity over the
    cycle, real seats): entrant k (from 1) expects min(seats_per_entrant, U - (k - 1) *
    seats_per_entrant) seats, and enters if that times ``margin_idr`` (IDR per trainee, per cell)
    exceeds ``entry_cost_idr``: floor(U / seats) full entrants if a full one pays, plus one for the
    remainder if the remainder pays. At most ``max_entrants`` in all: the most profitable entrants
    first (ties: lower cell index, then full before the remainder's). No unserved seat, or no
    seat per entrant, no entry."""
    unserved = np.asarray(unserved_seats, dtype=np.float64)
    margin = np.broadcast_to(np.asarray(margin_idr, dtype=np.float64), unserved.shape)
    if np.any(unserved < 0) or seats_per_entrant < 0 or max_entrants < 0:
        raise ValueError("unserved seats, seats per entrant and the cap must be non-negative")
    counts = np.zeros(unserved.shape, dtype=np.int64)
    if seats_per_entrant <= 0 or max_entrants == 0:
        return counts
    full_profit = margin * seats_per_entrant - entry_cost_idr
    full = np.where(full_profit > 0, np.floor(unserved / seats_per_entrant + _ROUNDING), 0.0)
    rest = np.clip(unserved - full * seats_per_entrant, 0.0, seats_per_entrant)
    rest_profit = margin * rest - entry_cost_idr
    partial = (rest_profit > 0).astype(np.int64)
    counts = full.astype(np.int64) + partial
    if counts.sum() <= max_entrants:
        return counts
    flat = np.arange(unserved.size)
    full_n = full.astype(np.int64).ravel()
    cell = np.concatenate([np.repeat(flat, full_n), flat[partial.ravel() > 0]])
    profit = np.concatenate(
        [np.repeat(full_profit.ravel(), full_n), rest_profit.ravel()[partial.ravel() > 0]]
    )
    kind = np.concatenate([np.zeros(full_n.sum(), np.int64), np.ones(int(partial.sum()), np.int64)])
    keep = np.lexsort((kind, cell, -profit))[:max_entrants]
    return np.bincount(cell[keep], minlength=unserved.size).reshape(unserved.shape)


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


def cohort_targets(
    sim_seats: np.ndarray, cohorts: np.ndarray, index: np.ndarray, phase: np.ndarray
) -> np.ndarray:
    """``cohort_target`` of many contracts at once (int64 arrays of seats and cohort counts, the
    cohort index of each, float64 phases in [0, 1)): the same numbers, contract by contract. The
    caller passes only valid indices (0 <= index < cohorts)."""
    sim_seats = np.asarray(sim_seats, dtype=np.int64)
    quota = sim_seats * (np.asarray(index, dtype=np.int64) + 1) / np.asarray(cohorts, dtype=np.int64)
    return np.minimum(sim_seats, np.floor(quota + np.asarray(phase, dtype=np.float64)).astype(np.int64))


def affordable_seats(budget_left_idr: float, price_idr: float) -> int:
    """Whole seats a budget still pays for at a price per seat, IDR: floor(left / price), never
    negative. A price of zero or less is refused."""
    if not price_idr > 0:
        raise ValueError(f"price must be positive, got {price_idr}")
    return max(int(budget_left_idr // price_idr), 0)


def affords_a_seat(budget_left_idr: np.ndarray, price_idr: np.ndarray) -> np.ndarray:
    """Whether ``affordable_seats`` is at least one, element by element (IDR arrays; prices
    positive): floor(left / price) >= 1, with the floor division ``affordable_seats`` uses."""
    return np.floor_divide(budget_left_idr, price_idr) >= 1.0


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


def award_order(
    score: np.ndarray, favouritism: float, rng: np.random.Generator
) -> Iterator[tuple[int, bool]]:
    """The bids of one lot in the order they win as the lot is split, one ``award`` after another
    among the bids not yet served: yields (bid index, favoured), favoured when the winner is not
    the best valid bid left (none left counts as none best). Each step draws one number of
    ``rng`` as ``award`` does, when the next winner is asked for; it stops when every bid has won
    or ``award`` finds no valid bid (after that step's draw), so the caller that stops asking
    draws no further number. The same winners and draws as calling ``award`` on the scores of
    the bids left, in index order, after each win."""
    score = np.asarray(score, dtype=np.float64)
    ranking = np.argsort(-score, kind="stable").tolist()  # best first, ties by lower index
    valid = np.isfinite(score).tolist()
    left = list(range(score.size))  # bids not yet served, in index order
    served = [False] * score.size
    best_at = 0
    while left:
        while served[ranking[best_at]]:
            best_at += 1
        best = ranking[best_at] if valid[ranking[best_at]] else -1
        u = rng.random()
        if u < favouritism:
            won = left[min(int(len(left) * (u / favouritism)), len(left) - 1)]
        elif best < 0:
            return
        else:
            won = best
        served[won] = True
        del left[bisect.bisect_left(left, won)]
        yield won, won != best


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
