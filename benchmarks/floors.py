"""Floors for the two hot kernels: what the same random numbers and the same bytes cost alone.

A floor kernel draws exactly the random numbers its model kernel draws (the same Philox4x32-10 and
SplitMix64 calls of ``simulation.rules.keyed_draws``, on the same keys and counters) and streams
the same arrays (reads each input array and writes each output array once, in the same order),
but does no model arithmetic: a trivial dependency (a NaN test on a sum of what it read) keeps
the compiler from dropping any read, draw or write. The model kernel's throughput divided by the
floor's, on the same inputs in the same process, says how far the kernel is from the floor
(1.0 = at it).

* Labour (``LabourMarket.step`` calls ``over_blocks(kernels.employment_block, n, ...)``): one
  keyed float32 uniform per row (``uniform32(i, week, 0, key)``), made a chunk at a time into a
  buffer that stays in cache (a floor need not keep the draws); reads every per-person array
  ``employment_block`` reads (the cell and its hiring scale only with displacement on), writes
  the four employment arrays and liquidity, and the four endline counters in the endline window.
  It takes (start, stop) as the kernel does, so that ``over_blocks`` runs it on the same threads.
* Shopping (``kernels.choose_courses``, called by ``choice.shop`` once per block of shoppers):
  one Philox block per shopper, one SplitMix64 output per shown slot (the kernel draws for the
  feasible ones, a subset the floor cannot tell without model arithmetic) and one for waiting;
  reads the per-shopper arrays and the options [n, slots], writes the picks. The per-course
  tallies and table look-ups are model work.

Used by ``bench_scale.py``; nothing here is part of the model.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from numba import njit

from simulation.rules.keyed_draws import person_seeds, slot_uniform, uniform32

CHUNK = 1024  # people whose draws the labour floor makes in one go (a small buffer, in cache)


@njit(cache=True, nogil=True)
def labour_floor(
    start: int,
    stop: int,
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
    scale_hire: np.ndarray,
    read_cell: bool,
    endline: bool,
    weeks_employed: np.ndarray,
    twin_weeks_employed: np.ndarray,
    weeks_business: np.ndarray,
    twin_weeks_business: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Rows ``start`` to ``stop`` - 1: one keyed float32 uniform per row (``uniform32`` of (row,
    week, slot 0), as ``employment_block`` draws it), made ``CHUNK`` rows at a time into a buffer
    (a loop the compiler vectorises), then one pass over the same rows reading every per-person
    array ``employment_block`` reads (``cell`` and the cell's ``scale_hire`` only if
    ``read_cell``: with displacement on), writing the four employment arrays and liquidity back
    unchanged and, if ``endline``, adding 0 to the four endline counters (unless a sum is NaN,
    which the compiler cannot rule out). No branch depends on the data. ``over_blocks`` runs it
    block by block on threads, as the model's kernel."""
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    zero = np.float32(0.0)
    buffer = np.empty(CHUNK, dtype=np.float32)
    for first in range(start, stop, CHUNK):
        last = min(first + CHUNK, stop)
        for i in range(first, last):
            buffer[i - first] = uniform32(np.int64(i), week, 0, k0, k1)
        for i in range(first, last):
            held = liquidity[i]
            total = buffer[i - first] + inverse_odds[group[i]] + find_odds_factor[i] + loss[i]
            total += held + business_odds_factor[i]
            if read_cell:
                total += scale_hire[cell[i]]
            flip = (total != total) | (in_course[i] & (total < zero))
            employed[i] ^= flip
            twin_employed[i] ^= flip
            business[i] ^= flip
            twin_business[i] ^= flip
            liquidity[i] = zero if flip else held
            if endline:
                weeks_employed[i] += flip
                twin_weeks_employed[i] += flip
                weeks_business[i] += flip
                twin_weeks_business[i] += flip


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
    """Per shopper: one Philox block (``person_seeds``), one SplitMix64 uniform per shown slot
    and one for waiting (``slot_uniform``), as ``choose_courses`` draws them (it draws for the
    feasible slots only: which are feasible is model arithmetic, so the floor draws for every
    shown one, at least as many); the pick is the shown slot with the largest uniform if it
    beats waiting's (no utilities, no tallies)."""
    n, width = options.shape
    picks = np.empty(n, dtype=np.int64)
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    for i in range(n):
        seed, wait_seed = person_seeds(np.int64(persons[i]), week, k0, k1)
        total = np.float64(kind[i] + hours[i] + last_course[i]) + credit_left_idr[i] + outside[i]
        total += provider_share[i]
        best, pick = 0.0, -1
        for j in range(width):
            if options[i, j] >= 0:
                u = slot_uniform(seed, j)
                if u > best:
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


# The arguments of employment_block after (start, stop) that it changes in place (positions):
# employed, twin_employed, business, twin_business, liquidity and the four endline counters.
LABOUR_CHANGED = (10, 11, 12, 13, 14, 21, 22, 23, 24)
LABOUR_ARGUMENTS = 25  # employment_block's arguments after (start, stop)


def labour_floor_args(args: tuple) -> tuple:
    """``labour_floor``'s arguments after (start, stop) from ``employment_block``'s ``args``
    after (start, stop): the same arrays (the cell only read with displacement on: crowding,
    ``rates[4]``, > 0)."""
    week, key, _, group, inverse_odds, find, loss, in_course = args[:8]
    changed = args[10:15]  # employed, twin_employed, business, twin_business, liquidity
    business_odds_factor, rates, cell, scale_hire, _, endline = args[15:21]
    people = (group, inverse_odds, find, loss, in_course)
    read_cell = bool(rates[4] > 0)
    return (
        week,
        key,
        *people,
        *changed,
        business_odds_factor,
        cell,
        scale_hire,
        read_cell,
        endline,
        *args[21:25],
    )


def labour_floor_ratio(n: int, kernel_args: tuple, kernel, over_blocks, repeats: int) -> dict:
    """The labour kernel of a captured week (``kernel`` = ``employment_block`` with its
    arguments after (start, stop) ``kernel_args``, on fresh copies of the arrays it changes) on
    ``n`` rows against ``labour_floor`` on the same inputs, best of ``repeats``: on one thread
    (``kernel(0, n, ...)``: the ratio, achieved / floor rows/s) and on the default threads
    (``over_blocks(kernel, n, ...)``: the threads' speed-up, one thread's seconds / theirs)."""
    _arity("employment_block (after start, stop)", kernel_args, LABOUR_ARGUMENTS)
    fixed = list(kernel_args)
    state: dict[str, list] = {}

    def fresh() -> None:
        state["args"] = [a.copy() if k in LABOUR_CHANGED else a for k, a in enumerate(fixed)]

    def floor_args() -> tuple:
        return labour_floor_args(tuple(state["args"]))

    fresh()
    kernel(0, n, *state["args"])  # load the cached kernels
    labour_floor(0, n, *floor_args())
    one_s = best_of(repeats, lambda: kernel(0, n, *state["args"]), fresh)
    threads_s = best_of(repeats, lambda: over_blocks(kernel, n, *state["args"]), fresh)
    floor_s = best_of(repeats, lambda: labour_floor(0, n, *floor_args()), fresh)
    floor_threads_s = best_of(repeats, lambda: over_blocks(labour_floor, n, *floor_args()), fresh)
    return {
        "rows": n,
        "week": int(fixed[0]),
        "endline": bool(fixed[20]),
        "achieved_s": round(one_s, 5),
        "floor_s": round(floor_s, 5),
        "achieved_rows_per_s": round(n / one_s),
        "floor_rows_per_s": round(n / floor_s),
        "ratio": round(floor_s / one_s, 3),
        "threads_s": round(threads_s, 5),
        "threads_rows_per_s": round(n / threads_s),
        "floor_threads_s": round(floor_threads_s, 5),
        "floor_threads_rows_per_s": round(n / floor_threads_s),
        "threads_speedup": round(one_s / threads_s, 2),
        "floor_threads_speedup": round(floor_s / floor_threads_s, 2),
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


@contextmanager
def one_thread() -> Iterator[None]:
    """``NUMBA_NUM_THREADS=1`` for the duration (``simulation.rules.parallel.threads`` reads it at
    each call: blocks then run one after the other on the calling thread)."""
    before = os.environ.get("NUMBA_NUM_THREADS")
    os.environ["NUMBA_NUM_THREADS"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["NUMBA_NUM_THREADS"]
        else:
            os.environ["NUMBA_NUM_THREADS"] = before


def shop_blocks(call: Callable[[], object], choice_module, kernel) -> list[tuple]:
    """The arguments of each ``choose_courses`` call (``kernel``) that ``call()`` makes through
    ``choice_module.choose_courses``, collected on this thread (one thread: see ``one_thread``)."""
    blocks: list[tuple] = []

    def collect(*args):
        blocks.append(args)
        return kernel(*args)

    choice_module.choose_courses = collect
    try:
        with one_thread():
            call()
    finally:
        choice_module.choose_courses = kernel
    return blocks


def shopping_floor_of_shop(call: Callable[[], object], choice_module, kernel, repeats: int) -> dict:
    """A captured week's ``shop`` (``call()``, with a fresh demand tally each time): its largest
    block's ``choose_courses`` on one thread against ``shopping_floor`` (``shopping_floor_ratio``),
    and the whole call on the default threads and on one thread (the threads' speed-up)."""
    blocks = shop_blocks(call, choice_module, kernel)
    result = shopping_floor_ratio(max(blocks, key=lambda args: len(args[0])), kernel, repeats)
    threads_s = best_of(repeats, call)
    with one_thread():
        one_s = best_of(repeats, call)
    shoppers = sum(len(args[0]) for args in blocks)
    return result | {
        "blocks": len(blocks),
        "shop_shoppers": shoppers,
        "shop_s": round(threads_s, 5),
        "shop_one_thread_s": round(one_s, 5),
        "shop_shoppers_per_s": round(shoppers / threads_s),
        "shop_threads_speedup": round(one_s / threads_s, 2),
    }


def _arity(name: str, args: tuple, expected: int) -> None:
    """Stop with a message when a model kernel's signature is not the one the floor was written for."""
    if len(args) != expected:
        raise SystemExit(
            f"benchmarks/floors.py: {name} now takes {len(args)} arguments, not {expected}; "
            "update the floor for its new signature"
        )
