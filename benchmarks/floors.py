"""Floors for the two hot kernels: what the same random numbers and the same bytes cost alone.

A floor kernel draws exactly the random numbers its model kernel draws (the same Philox4x32-10 and
SplitMix64 calls of ``simulation.rules.keyed_draws``, on the same keys and counters) and streams
the same arrays (reads each input array and writes each output array once, in the same order),
but does no model arithmetic: a trivial dependency (a NaN test on a sum of what it read) keeps
the compiler from dropping any read, draw or write. The model kernel's throughput divided by the
floor's, on the same inputs in the same process, says how far the kernel is from the floor
(1.0 = at it).

* Labour (``LabourMarket.step``: ``keyed_draws.person_uniforms32`` then
  ``kernels.employment_week``): one float32 uniform per person, made a chunk at a time into a
  buffer that stays in cache (a floor need not store the draws in memory); reads every
  per-person array the kernel takes (the cell only with displacement on), writes the four
  employment arrays.
* Shopping (``kernels.choose_courses``, called by ``choice.shop``): one Philox block per shopper,
  one SplitMix64 output per slot and one for waiting; reads the per-shopper arrays and the options
  [n, slots], writes the picks. The per-course tallies and table look-ups are model work.

Used by ``bench_scale.py``; nothing here is part of the model.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from numba import njit

from simulation.rules.keyed_draws import person_seeds, slot_uniform, uniform32

CHUNK = 1024  # people whose draws the labour floor makes in one go (a small buffer, in cache)


@njit(cache=True, nogil=True)
def labour_floor(
    rows: np.ndarray,
    week: int,
    key: np.ndarray,
    group: np.ndarray,
    inverse_odds: np.ndarray,
    find_odds_factor: np.ndarray,
    loss: np.ndarray,
    in_course: np.ndarray,
    employed: np.ndarray,
    twin_employed: np.ndarray,
    business: np.ndarray,
    twin_business: np.ndarray,
    liquidity: np.ndarray,
    business_odds_factor: np.ndarray,
    cell: np.ndarray,
    read_cell: bool,
) -> None:  # pragma: no cover - compiled
    """One keyed float32 uniform per person (``uniform32`` of (row, week, slot 0)), made
    ``CHUNK`` people at a time into a buffer (a loop the compiler vectorises), then one pass
    over the same people reading every per-person array ``employment_week`` takes (``cell`` only
    if ``read_cell``: with displacement on) and writing the four employment arrays back unchanged
    (unless a sum is NaN, which the compiler cannot rule out). No branch depends on the data."""
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    zero = np.float32(0.0)
    buffer = np.empty(CHUNK, dtype=np.float32)
    n = rows.shape[0]
    for first in range(0, n, CHUNK):
        last = min(first + CHUNK, n)
        for i in range(first, last):
            buffer[i - first] = uniform32(np.int64(rows[i]), week, 0, k0, k1)
        for i in range(first, last):
            total = buffer[i - first] + inverse_odds[group[i]] + find_odds_factor[i] + loss[i]
            total += liquidity[i] + business_odds_factor[i]
            if read_cell:
                total += np.float32(cell[i])
            flip = (total != total) | (in_course[i] & (total < zero))
            employed[i] ^= flip
            twin_employed[i] ^= flip
            business[i] ^= flip
            twin_business[i] ^= flip


@njit(cache=True, nogil=True)
def shopping_floor(
    persons: np.ndarray,
    week: int,
    key: np.ndarray,
    options: np.ndarray,
    kind: np.ndarray,
    hours: np.ndarray,
    credit_left_idr: np.ndarray,
    last_course: np.ndarray,
    outside: np.ndarray,
    provider_share: np.ndarray,
) -> np.ndarray:  # pragma: no cover - compiled
    """Per shopper: one Philox block (``person_seeds``), one SplitMix64 uniform per slot and one
    for waiting (``slot_uniform``), as ``choose_courses`` draws them; the pick is the shown slot
    with the largest uniform if it beats waiting's (no utilities, no tallies)."""
    n, width = options.shape
    picks = np.empty(n, dtype=np.int64)
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    for i in range(n):
        seed, wait_seed = person_seeds(np.int64(persons[i]), week, k0, k1)
        total = np.float64(kind[i] + hours[i] + last_course[i]) + credit_left_idr[i] + outside[i]
        total += provider_share[i]
        best, pick = 0.0, -1
        for j in range(width):
            u = slot_uniform(seed, j)
            if options[i, j] >= 0 and u > best:
                best, pick = u, j
        if total != total:
            pick = -2
        picks[i] = pick if best > slot_uniform(wait_seed, 0) else -1
    return picks


MIN_TIMED_S = 0.2  # best_of calls the work at least this long in all (small inputs take microseconds)
MAX_CALLS = 1000


def best_of(repeats: int, work: Callable[[], object], setup: Callable[[], object] | None = None) -> float:
    """Shortest wall time of calls of ``work()``, seconds: ``repeats`` calls, or more (up to
    ``MAX_CALLS``) until ``MIN_TIMED_S`` has been spent in them, so that a call of microseconds is
    not one clock reading; ``setup()`` (untimed) runs before each call, e.g. to copy arrays the
    work changes in place."""
    times: list[float] = []
    while len(times) < repeats or (sum(times) < MIN_TIMED_S and len(times) < MAX_CALLS):
        if setup is not None:
            setup()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


# The arguments of employment_week that it changes in place (positions), copied before each call.
LABOUR_CHANGED = (8, 9, 10, 11)


def labour_floor_ratio(draws_args: tuple, kernel_args: tuple, kernel, draws, repeats: int) -> dict:
    """Best of ``repeats`` of the model's draws (``draws(*draws_args)``) and kernel
    (``kernel(u, *kernel_args[1:])``) on copies of a captured week, against ``labour_floor`` on
    the same inputs; rows/s and ratio = achieved / floor."""
    _arity("employment_week", kernel_args, 17)
    rows, week, slot, key = draws_args
    fixed = list(kernel_args)
    state: dict[str, list] = {}

    def fresh() -> None:
        state["args"] = [a.copy() if k in LABOUR_CHANGED else a for k, a in enumerate(fixed)]

    fresh()
    u = draws(*draws_args)
    kernel(u, *state["args"][1:])  # compile or load the cached kernels
    draws_s = best_of(repeats, lambda: draws(*draws_args))
    kernel_s = best_of(repeats, lambda: kernel(u, *state["args"][1:]), fresh)
    both_s = best_of(repeats, lambda: kernel(draws(*draws_args), *state["args"][1:]), fresh)
    read_cell = bool(fixed[14][4] > 0)  # rates: crowding > 0, displacement on
    (group, inverse_odds, find, loss, in_course), liquidity = fixed[1:6], fixed[12]

    def floor() -> None:
        a = state["args"]
        people = (group, inverse_odds, find, loss, in_course)
        labour_floor(rows, week, key, *people, *a[8:12], liquidity, a[13], a[15], read_cell)

    floor()
    floor_s = best_of(repeats, floor, fresh)
    n = len(rows)
    return {
        "rows": n,
        "week": int(week),
        "draws_s": round(draws_s, 5),
        "kernel_s": round(kernel_s, 5),
        "achieved_s": round(both_s, 5),
        "floor_s": round(floor_s, 5),
        "achieved_rows_per_s": round(n / both_s),
        "floor_rows_per_s": round(n / floor_s),
        "ratio": round(floor_s / both_s, 3),
    }


def shopping_floor_ratio(kernel_args: tuple, kernel, repeats: int) -> dict:
    """Best of ``repeats`` of ``kernel(*kernel_args)`` (``choose_courses``, with fresh tallies)
    against ``shopping_floor`` on the same shoppers; shoppers/s and ratio = achieved / floor."""
    _arity("choose_courses", kernel_args, 20)
    args = list(kernel_args)
    tally = args[-1]

    def fresh() -> None:
        args[-1] = tuple(np.zeros_like(t) for t in tally)

    persons, week, key, options, kind, hours, credit, last, outside = args[:9]
    share = args[16]
    fresh()
    kernel(*args)
    kernel_s = best_of(repeats, lambda: kernel(*args), fresh)

    def floor() -> np.ndarray:
        return shopping_floor(persons, week, key, options, kind, hours, credit, last, outside, share)

    floor()
    floor_s = best_of(repeats, floor)
    n = len(persons)
    return {
        "shoppers": n,
        "slots": int(options.shape[1]),
        "week": int(week),
        "achieved_s": round(kernel_s, 5),
        "floor_s": round(floor_s, 5),
        "achieved_shoppers_per_s": round(n / kernel_s),
        "floor_shoppers_per_s": round(n / floor_s),
        "ratio": round(floor_s / kernel_s, 3),
    }


def _arity(name: str, args: tuple, expected: int) -> None:
    """Stop with a message when a model kernel's signature is not the one the floor was written for."""
    if len(args) != expected:
        raise SystemExit(
            f"benchmarks/floors.py: {name} now takes {len(args)} arguments, not {expected}; "
            "update the floor for its new signature"
        )
