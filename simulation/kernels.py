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
