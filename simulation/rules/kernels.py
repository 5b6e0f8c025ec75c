"""Compiled hot loops (numba). Each kernel has a plain-numpy twin that states what it computes;
tests check that both give identical results on the same random stream.

Kernels take a numpy ``Generator`` and draw from it in a fixed order, so runs stay reproducible
from the root seed. Compilation is cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def choose_courses(
    rng: np.random.Generator,
    options: np.ndarray,
    kind: np.ndarray,
    hours: np.ndarray,
    credit_left_idr: np.ndarray,
    last_course: np.ndarray,
    outside: np.ndarray,
    taste: np.ndarray,
    time_cost: np.ndarray,
    price_idr: np.ndarray,
    max_topup_idr: float,
    copay_per_idr: float,
    provider_share: np.ndarray,
    impressions: np.ndarray,
    expected_sales: np.ndarray,
    expected_net_idr: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled; numpy twins: choice.choose(utilities(...)), expected_demand
    """Gumbel-max shopping choice, fused: the column picked by each shopper, or -1 to wait; and,
    added in place per course, what the choice is expected to bring.

    Picks: the same as ``choice.choose(choice.utilities(...), outside, noise)`` where ``noise``
    is ``-log(rng.standard_exponential((n, J + 1)))`` drawn row by row (last column: outside
    option). Tables are those of ``choice.taste_table`` and ``choice.time_table`` transposed (a
    shopper's look-ups then stay in one contiguous row); ``price_idr`` has an extra last entry
    (+inf) for the empty slot, reached by course id -1. Instead of ``u - log(E)`` for the
    exponential draw ``E``, the kernel compares ``w / E`` with the logit weight ``w = exp(u -
    reference)``: the same order (so the same picks, but for ties in the last bit), and ``w`` also
    gives the probabilities.

    Expected demand (the same as ``choice.expected_demand``), from the same utilities: for each
    course id ``c`` shown in a slot (not -1), ``impressions[c] += 1``; ``expected_sales[c] += P``,
    the logit probability that the shopper buys that slot (``choice.logit_probabilities``, which
    the Gumbel-max draw samples exactly; 0 for an infeasible slot); ``expected_net_idr[c] += P *
    price * provider_share[i]``, the provider's expected receipts after the platform's commission
    (IDR).
    """
    n, width = options.shape
    picks = np.empty(n, dtype=np.int64)
    weight = np.empty(width, dtype=np.float64)
    counted = np.zeros(0, dtype=impressions.dtype)  # a second pass must not count impressions again
    args = (options, kind, hours, credit_left_idr, last_course, taste, time_cost, price_idr, max_topup_idr)
    for i in range(n):
        wait = 1.0  # weights relative to waiting's utility, unless an option's weight overflows
        total = slot_weights(i, np.float64(outside[i]), weight, impressions, copay_per_idr, *args) + wait
        if not total < np.inf:  # rare: an option beats waiting by ~710 utils; relative to the best
            best = best_utility(i, copay_per_idr, *args)
            wait = np.exp(np.float64(outside[i]) - best)
            total = slot_weights(i, best, weight, counted, copay_per_idr, *args) + wait
        per_weight = 1.0 / total
        net_share = provider_share[i] * per_weight
        best_ratio = 0.0  # the largest w / E so far; infeasible slots have w = 0
        pick = -1
        for j in range(width):
            ratio = weight[j] / max(rng.standard_exponential(), 1e-300)
            if ratio > best_ratio:
                best_ratio = ratio
                pick = j
            if weight[j] > 0.0:
                course = options[i, j]
                expected_sales[course] += weight[j] * per_weight
                expected_net_idr[course] += weight[j] * net_share * price_idr[course]
        picks[i] = pick if best_ratio > wait / max(rng.standard_exponential(), 1e-300) else -1
    return picks


@njit(cache=True, nogil=True)
def slot_weights(
    i: int,
    reference: float,
    weight: np.ndarray,
    impressions: np.ndarray,
    copay_per_idr: float,
    *args,
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """Logit weight ``exp(u - reference)`` of each of shopper ``i``'s slots into ``weight`` (0
    where infeasible), ``u`` being the utility of ``choice.utilities``; returns their sum. Counts
    each course shown in ``impressions`` unless that is empty. ``args``: as ``slot_utility``."""
    options = args[0]
    count = impressions.shape[0] > 0
    total = 0.0
    for j in range(options.shape[1]):
        course = options[i, j]
        if count and course >= 0:
            impressions[course] += 1
        u = slot_utility(i, j, copay_per_idr, *args)
        weight[j] = np.exp(u - reference) if u > -np.inf else 0.0
        total += weight[j]
    return total


@njit(cache=True, nogil=True)
def best_utility(i: int, copay_per_idr: float, *args) -> float:  # pragma: no cover - compiled
    """The largest utility among shopper ``i``'s slots (-inf if none is feasible)."""
    best = -np.inf
    for j in range(args[0].shape[1]):
        best = max(best, slot_utility(i, j, copay_per_idr, *args))
    return best


@njit(cache=True, nogil=True)
def slot_utility(
    i: int,
    j: int,
    copay_per_idr: float,
    options: np.ndarray,
    kind: np.ndarray,
    hours: np.ndarray,
    credit_left_idr: np.ndarray,
    last_course: np.ndarray,
    taste: np.ndarray,
    time_cost: np.ndarray,
    price_idr: np.ndarray,
    max_topup_idr: float,
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """Utility of slot ``j`` for shopper ``i`` as ``choice.utilities`` gives it (float64; -inf
    for an empty slot, the course last taken, or a price beyond credit left plus the top-up)."""
    course = options[i, j]
    topup = price_idr[course] - credit_left_idr[i]
    if course == last_course[i] or topup > max_topup_idr:
        return -np.inf
    u = taste[kind[i], course] - time_cost[hours[i], course]
    if max_topup_idr > 0.0 and topup > 0.0:
        u -= np.float32(copay_per_idr) * topup
    return np.float64(u)


@njit(cache=True, nogil=True)
def employment_week(
    u: np.ndarray,
    group: np.ndarray,
    inverse_odds: np.ndarray,
    find_odds_factor: np.ndarray,
    loss: np.ndarray,
    in_course: np.ndarray,
    lock_in_keep: np.float32,
    twin_loss: np.float32,
    employed: np.ndarray,
    twin_employed: np.ndarray,
) -> None:  # pragma: no cover - compiled; tests recompute every transition in numpy
    """One week of the employment chain for everyone, updating ``employed`` and ``twin_employed``
    in place (see ``simulation.model.labour``). Person i with uniform draw ``u[i]``:

    * treated path: find = 1 / (1 + inverse_odds[group] * find_odds_factor), times
      ``lock_in_keep`` while in a course; employed next week if (employed and u >= loss) or
      (not employed and u < find);
    * twin: the same with find_odds_factor = 1, no lock-in and loss = ``twin_loss``.

    All arithmetic is float32, as in the numpy formulation.
    """
    one = np.float32(1.0)
    for i in range(u.shape[0]):
        odds = inverse_odds[group[i]]
        if employed[i]:
            employed[i] = u[i] >= loss[i]
        else:
            find = one / (one + odds * find_odds_factor[i])
            if in_course[i]:
                find *= lock_in_keep
            employed[i] = u[i] < find
        if twin_employed[i]:
            twin_employed[i] = u[i] >= twin_loss
        else:
            twin_employed[i] = u[i] < one / (one + odds)


@njit(cache=True, nogil=True)
def choice_sets(
    rng: np.random.Generator,
    platform: np.ndarray,
    sector: np.ndarray,
    pages: np.ndarray,
    listing_start: np.ndarray,
    listing_flat: np.ndarray,
    others: int,
) -> np.ndarray:  # pragma: no cover - compiled
    """Course ids each shopper sees [n, page width + others] (int32, -1 = empty slot): the ranked
    page ``pages[platform, sector]``, then ``others`` courses drawn uniformly (one ``rng.random()``
    each, row by row) from the platform's listing ``listing_flat[start:end]``."""
    n = platform.shape[0]
    width = pages.shape[2]
    options = np.empty((n, width + others), dtype=np.int32)
    for i in range(n):
        p = platform[i]
        for k in range(width):
            options[i, k] = pages[p, sector[i], k]
        start = listing_start[p]
        count = listing_start[p + 1] - start
        for k in range(others):
            draw = rng.random()
            options[i, width + k] = listing_flat[start + int(draw * count)] if count > 0 else -1
    return options
