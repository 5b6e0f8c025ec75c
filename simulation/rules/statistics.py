"""Small statistics over arrays that schemes and reporting share: shares, means, concentration.

Pure functions; an empty selection gives None (or NaN for ``mean``), never an exception.
"""

from __future__ import annotations

import numpy as np


def rating_quality_correlation(
    mean_rating: np.ndarray, rating_count: np.ndarray, true_quality: np.ndarray, min_count: float
) -> float | None:
    """Pearson correlation across courses of mean rating and true quality, over courses with at
    least ``min_count`` ratings (None if fewer than three such courses, or no spread)."""
    rated = rating_count >= min_count
    if rated.sum() < 3:
        return None
    mean_stars = mean_rating[rated]
    if np.std(mean_stars) == 0 or np.std(true_quality[rated]) == 0:
        return None
    return float(np.corrcoef(mean_stars, true_quality[rated])[0, 1])


def herfindahl(revenue: np.ndarray) -> float | None:
    """Herfindahl-Hirschman index of revenue shares, 0-10,000 (None if no revenue)."""
    total = revenue.sum()
    if total <= 0:
        return None
    return float(10_000.0 * ((revenue / total) ** 2).sum())


def ratio(part: float, whole: float) -> float | None:
    return float(part / whole) if whole else None


def rate(part: int | np.integer, whole: int | np.integer) -> float:
    """``part`` / ``whole`` for a weekly record's column, NaN when ``whole`` is 0 (an empty
    group's employment rate)."""
    return part / whole if whole else float("nan")


def share(mask: np.ndarray, within: np.ndarray) -> float | None:
    n = int(within.sum())
    return float((mask & within).sum() / n) if n else None


def mean(values: np.ndarray) -> float:
    return float(np.mean(values, dtype=np.float64)) if values.size else float("nan")


def median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


def difference_se(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or b.size < 2:
        return float("nan")
    return float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
