"""Weekly scans of the whole population, each one compiled pass.

The weekly record asks several questions of every participant: how many are selected, how many of
them are employed, and of their twins, how many hold credit. Asked in numpy, each is a pass over
millions of rows with a temporary array; here they are one pass that reads only what it needs,
with no branch (sums of 0/1), which the compiler vectorises. Every scan has the numpy statement it
replaces in its docstring, and the tests check them against it. (Scans that collect rows, such as
the courses ending, stay in numpy: on rows in random order a compiled loop that branches on each
row is no faster than numpy's vectorised comparisons.) The summaries' per-stratum sums
(``stratum_sums``) are one such pass too, over the evaluated rows once the run is over.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.rules.kernels import DRAW_CHUNK
from simulation.rules.keyed_draws import uniform64


@njit(cache=True, nogil=True)
def employment_counts(
    selected_week: np.ndarray,
    employed: np.ndarray,
    twin_employed: np.ndarray,
    status: np.ndarray,
    holding: int,
) -> np.ndarray:  # pragma: no cover - compiled; numpy statement in the docstring
    """Counts for the weekly record (int64[5]): selected (``selected_week >= 0``), employed among
    them, their twins employed, everyone employed, and rows holding credit (``status ==
    holding``)."""
    selected_n = employed_selected = twins_selected = employed_n = holding_n = np.int64(0)
    for i in range(selected_week.shape[0]):  # no branch: sums of 0/1, which the compiler vectorises
        selected = np.int64(selected_week[i] >= 0)
        working = np.int64(employed[i])
        selected_n += selected
        employed_selected += selected & working
        twins_selected += selected & np.int64(twin_employed[i])
        employed_n += working
        holding_n += np.int64(status[i] == holding)
    return np.array([selected_n, employed_selected, twins_selected, employed_n, holding_n])


@njit(cache=True, nogil=True)
def tender_counts(
    selected_week: np.ndarray, first_cell: np.ndarray, employed: np.ndarray, twin_employed: np.ndarray
) -> np.ndarray:  # pragma: no cover - compiled; numpy statement in the docstring
    """Counts for the tender's weekly record (int64[5]): seated (``selected_week >= 0``), employed
    among them, their twins employed, the comparison group (applied, ``first_cell >= 0``, never
    seated) and employed among it."""
    seated_n = employed_seated = twins_seated = comparison_n = employed_comparison = np.int64(0)
    for i in range(selected_week.shape[0]):  # no branch: sums of 0/1
        seated = np.int64(selected_week[i] >= 0)
        comparison = np.int64(first_cell[i] >= 0) & (1 - seated)
        working = np.int64(employed[i])
        seated_n += seated
        employed_seated += seated & working
        twins_seated += seated & np.int64(twin_employed[i])
        comparison_n += comparison
        employed_comparison += comparison & working
    return np.array([seated_n, employed_seated, twins_seated, comparison_n, employed_comparison])


@njit(cache=True, nogil=True)
def lock_in(
    status: np.ndarray, enrolled: int, absent: np.ndarray, locked: np.ndarray
) -> int:  # pragma: no cover - compiled; numpy statement in the docstring
    """Who the week's courses lock in, into ``locked`` (bool): ``locked[:] = (status == enrolled)
    & ~absent``; returns how many are in a course, ``np.count_nonzero(status == enrolled)``."""
    in_course = 0
    for i in range(status.shape[0]):
        inside = status[i] == enrolled
        in_course += inside
        locked[i] = inside & ~absent[i]
    return in_course


@njit(cache=True, nogil=True)
def hear_of_lots(
    start: int,
    stop: int,
    heard: np.ndarray,
    status: np.ndarray,
    not_selected: int,
    applied: np.ndarray,
    arrival_week: np.ndarray,
    region: np.ndarray,
    hearing: np.ndarray,
    week: int,
    key: np.ndarray,
) -> None:  # pragma: no cover - compiled; numpy statement in the docstring
    """Rows ``start`` to ``stop`` - 1 of ``heard`` (bool): a person free to apply (``status ==
    not_selected``, no application pending, arrived by ``week``) hears of an open lot with
    probability ``hearing[region]``, on their keyed uniform of (person, week, slot 0):
    ``heard[free] = Draws(key, week).uniforms(free, 0) < hearing[region[free]]``, False elsewhere.
    Most rows are free (three in four or more), so every row's uniform is drawn, ``DRAW_CHUNK``
    rows at a time in a loop the compiler vectorises (faster than drawing for the free alone, one
    at a time); only the free use theirs. The tender's outreach runs it block by block on the
    cores."""
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    draws = np.empty(DRAW_CHUNK)
    for head in range(start, stop, DRAW_CHUNK):
        tail = min(head + DRAW_CHUNK, stop)
        for i in range(head, tail):
            draws[i - head] = uniform64(np.int64(i), week, 0, k0, k1)
        for i in range(head, tail):
            free = (status[i] == not_selected) & (applied[i] < 0) & (arrival_week[i] <= week)
            heard[i] = free & (draws[i - head] < hearing[region[i]])  # no branch


@njit(cache=True, nogil=True)
def stratum_sums(
    outcome: np.ndarray, rows: np.ndarray, number: np.ndarray, n_strata: int
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled; numpy statement in the docstring
    """Per stratum, the sum and the sum of squares of the outcome of ``rows`` (float64
    [n_strata] each), ``number[k]`` being the stratum of ``rows[k]``: ``np.bincount(number, y,
    minlength=n_strata)`` and the same of ``y**2``, with ``y = outcome[rows].astype(np.float64)``,
    added in the same order (so the same to the last bit) without the per-row temporaries."""
    total = np.zeros(n_strata)
    squares = np.zeros(n_strata)
    for k in range(rows.shape[0]):
        y = np.float64(outcome[rows[k]])
        total[number[k]] += y
        squares[number[k]] += y * y
    return total, squares
