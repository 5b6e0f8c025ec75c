"""Weekly scans of the whole population, each one compiled pass.

A handful of weekly questions touch every participant: whose course ends, whose card closes, how
many of the selected are employed. Asked in numpy, each is several passes over millions of rows
(a comparison, a conjunction, a ``flatnonzero``, each a temporary array); here each is one pass
that reads only what it needs. Every scan has the numpy statement it replaces in its docstring,
and the tests check them against it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def end_courses(
    status: np.ndarray, course_end_week: np.ndarray, enrolled: int, week: int, status_after: int
) -> np.ndarray:  # pragma: no cover - compiled; numpy statement in the docstring
    """Rows in a course (``status == enrolled``) whose course ends by ``week``, ascending (int64):
    ``np.flatnonzero((status == enrolled) & (course_end_week <= week))``; their status becomes
    ``status_after``."""
    found = np.empty(status.shape[0], dtype=np.int64)
    k = 0
    for i in range(status.shape[0]):
        if status[i] == enrolled and course_end_week[i] <= week:
            status[i] = status_after
            found[k] = i
            k += 1
    return found[:k].copy()


@njit(cache=True, nogil=True)
def close_cards(
    status: np.ndarray,
    selected_week: np.ndarray,
    courses_bought: np.ndarray,
    credit_left_idr: np.ndarray,
    week: int,
    deadline_weeks: int,
    validity_weeks: int,
    topup_idr: np.float32,
    cheapest_idr: np.float32,
    codes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled; numpy in docstring
    """Cards closing this week, among rows holding credit (``status == codes[0]``), age =
    ``week - selected_week``:

    * revoked (status ``codes[1]``): no course bought and age >= ``deadline_weeks``;
    * ended (status ``codes[2]``): otherwise, age >= ``validity_weeks`` or the credit left plus
      the top-up allowed (float32, as numpy adds them) below the credit the cheapest course needs.

    Returns (closed rows, of which revoked: bool per closed row, rows still holding), ascending;
    the credit left is not touched (the caller books and zeroes it)."""
    holding, revoked_code, ended_code = codes[0], codes[1], codes[2]
    closed = np.empty(status.shape[0], dtype=np.int64)
    revoked = np.empty(status.shape[0], dtype=np.bool_)
    still = np.empty(status.shape[0], dtype=np.int64)
    k = 0
    h = 0
    for i in range(status.shape[0]):
        if status[i] != holding:
            continue
        age = week - selected_week[i]
        revoke = courses_bought[i] == 0 and age >= deadline_weeks
        broke = np.float32(credit_left_idr[i] + topup_idr) < cheapest_idr
        if revoke or age >= validity_weeks or broke:
            status[i] = revoked_code if revoke else ended_code
            closed[k] = i
            revoked[k] = revoke
            k += 1
        else:
            still[h] = i
            h += 1
    return closed[:k].copy(), revoked[:k].copy(), still[:h].copy()


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
    counts = np.zeros(5, dtype=np.int64)
    for i in range(selected_week.shape[0]):
        selected = selected_week[i] >= 0
        if selected:
            counts[0] += 1
            counts[1] += employed[i]
            counts[2] += twin_employed[i]
        counts[3] += employed[i]
        counts[4] += status[i] == holding
    return counts
