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
) -> np.ndarray:  # pragma: no cover - compiled; its numpy twin is choice.choose(utilities(...))
    """Gumbel-max shopping choice, fused: the column picked by each shopper, or -1 to wait.

    Same result as ``choice.choose(choice.utilities(...), outside, noise)`` where ``noise`` is
    ``-log(rng.standard_exponential((n, J + 1)))`` drawn row by row (last column: outside option).
    Tables are those of ``choice.taste_table`` and ``choice.time_table`` transposed (a shopper's
    look-ups then stay in one contiguous row); ``price_idr`` has an extra last entry (+inf) for
    the empty slot, reached by course id -1.
    """
    n, width = options.shape
    picks = np.empty(n, dtype=np.int64)
    for i in range(n):
        best = -np.inf
        pick = -1
        for j in range(width):
            noise = -np.log(max(rng.standard_exponential(), 1e-300))
            course = options[i, j]
            if course == last_course[i]:
                continue
            topup = price_idr[course] - credit_left_idr[i]
            if topup > max_topup_idr:
                continue
            u = taste[kind[i], course] - time_cost[hours[i], course]
            if max_topup_idr > 0.0 and topup > 0.0:
                u -= np.float32(copay_per_idr) * topup
            total = np.float64(u) + noise
            if total > best:
                best = total
                pick = j
        wait = np.float64(outside[i]) - np.log(max(rng.standard_exponential(), 1e-300))
        picks[i] = pick if best > wait else -1
    return picks


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
