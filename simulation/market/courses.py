"""Courses as columns: one row per course, growing when providers enter.

Prices are whole thousands of IDR so that float32 credit arithmetic stays exact.

Quality. ``potential_quality`` is drawn at birth: the quality the course has at its provider's
full effort. ``true_quality`` is the quality it DELIVERS, potential less the provider's shading
(``simulation.rules.quality``); everything downstream (ratings, completion, skill, the metrics)
reads the delivered quality. A provider that does not shade delivers its potential.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from simulation.config.codes import round_price


@dataclass
class Courses:
    """Course catalogue. Static columns describe the course; the rest is market history."""

    provider: np.ndarray  # int32, provider id (index into the model's provider list)
    sector: np.ndarray  # int8
    mode: np.ndarray  # int8: ONLINE, OFFLINE, HYBRID
    hours: np.ndarray  # float32, course length in hours
    true_quality: np.ndarray  # float32 in [0, 1], DELIVERED quality, expected skill gain (unobserved)
    potential_quality: np.ndarray  # float32 in [0, 1], quality at full effort, drawn at birth
    difficulty: np.ndarray  # float32 in [0, 1], effort needed
    marginal_cost_idr: np.ndarray  # float32, cost per trainee
    price_idr: np.ndarray  # float32, listed price
    listed: np.ndarray  # bool [n, platforms]
    active: np.ndarray  # bool, still sold
    rating_sum: np.ndarray  # float64, sum of stars, simulated ratings
    rating_count: np.ndarray  # int64, simulated ratings (each stands for ``scale`` real ones)
    rating_expected_sum: np.ndarray  # float64, sum over the ratings of the mean stars the delivered
    # quality earned when each was given (``rules.training.expected_stars``): see ``mean_rating``
    rated_quality_sum: np.ndarray  # float64, sum over the ratings of the delivered quality rated
    enrolments: np.ndarray  # int64, simulated purchases
    completions: np.ndarray  # int64
    net_revenue_idr: np.ndarray  # float64, provider's receipts after commission, simulated IDR
    recent_enrolments: np.ndarray  # float64, decayed weekly expected sales: platforms' popularity
    price_direction: np.ndarray  # int8, +1 / -1: the way the price last moved (or will move first)
    # Evidence for the next price review, accumulated since the last one (simulation.rules.pricing),
    # at the price and at the alternative price (one step back against price_direction):
    period_impressions: np.ndarray  # int64, times shown in a shopper's choice set
    period_expected_sales: np.ndarray  # float64, expected purchases (sum of logit probabilities)
    period_expected_net_revenue_idr: np.ndarray  # float64, expected receipts after commission, IDR
    period_alt_expected_sales: np.ndarray  # float64, the same at the alternative price
    period_alt_expected_net_revenue_idr: np.ndarray  # float64, IDR

    def __len__(self) -> int:
        return int(self.provider.shape[0])

    def copy(self) -> Courses:
        """An independent copy (each scheme run mutates its own catalogue)."""
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)})

    def append(self, other: Courses) -> None:
        """Add the rows of ``other`` (entrants' courses) at the end."""
        for f in fields(self):
            setattr(self, f.name, np.concatenate([getattr(self, f.name), getattr(other, f.name)]))

    @classmethod
    def new(cls, provider, sector, mode, hours, quality, difficulty, cost, price, listed) -> Courses:
        """Fresh courses with no market history."""
        n = len(provider)
        return cls(
            provider=np.asarray(provider, dtype=np.int32),
            sector=np.asarray(sector, dtype=np.int8),
            mode=np.asarray(mode, dtype=np.int8),
            hours=np.asarray(hours, dtype=np.float32),
            true_quality=np.asarray(quality, dtype=np.float32),
            potential_quality=np.asarray(quality, dtype=np.float32),
            difficulty=np.asarray(difficulty, dtype=np.float32),
            marginal_cost_idr=np.asarray(cost, dtype=np.float32),
            price_idr=round_price(price),
            listed=np.asarray(listed, dtype=bool),
            active=np.ones(n, dtype=bool),
            rating_sum=np.zeros(n),
            rating_count=np.zeros(n, dtype=np.int64),
            rating_expected_sum=np.zeros(n),
            rated_quality_sum=np.zeros(n),
            enrolments=np.zeros(n, dtype=np.int64),
            completions=np.zeros(n, dtype=np.int64),
            net_revenue_idr=np.zeros(n),
            recent_enrolments=np.zeros(n),
            price_direction=np.ones(n, dtype=np.int8),
            period_impressions=np.zeros(n, dtype=np.int64),
            period_expected_sales=np.zeros(n),
            period_expected_net_revenue_idr=np.zeros(n),
            period_alt_expected_sales=np.zeros(n),
            period_alt_expected_net_revenue_idr=np.zeros(n),
        )

    def rated_quality(self) -> np.ndarray:
        """Mean delivered quality (0-1) of the enrolments each course's ratings were given for (NaN
        where none): the quality its ratings describe."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.rating_count > 0, self.rated_quality_sum / self.rating_count, np.nan)

    def expected_mean_rating(self) -> np.ndarray:
        """Mean over each course's ratings of the stars its delivered quality earned in
        expectation when each rating was given (1-5; NaN where none): the ``expected_stars`` to
        pass to ``mean_rating``. While a course's quality never changed it is the mean its quality
        earns; once its provider shades, the ratings given before and after are weighted by their
        numbers, so the stars follow the delivered quality with the lag the ratings have."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.rating_count > 0, self.rating_expected_sum / self.rating_count, np.nan)

    def mean_rating(self, scale: float, expected_stars: np.ndarray | None = None) -> np.ndarray:
        """Mean of each course's ratings (1-5 stars; NaN where none) as a platform with ``scale``
        real raters per simulated one shows it. A mean of n simulated ratings varies ``scale``
        times more than one of ``scale`` x n real ratings; given ``expected_stars`` (the mean the
        ratings earn in expectation, ``expected_mean_rating``, or for a course whose quality
        never changed ``simulation.rules.training.expected_stars`` of it), the simulated mean's
        deviation from it is shrunk by sqrt(scale), which gives it the real sampling spread.
        """
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.rating_count > 0, self.rating_sum / self.rating_count, np.nan)
        if expected_stars is None:
            return mean
        return expected_stars + (mean - expected_stars) / np.sqrt(scale)

    def mean_stars(
        self, prior_stars: float, prior_count: float, scale: float, expected_stars: np.ndarray | None = None
    ) -> np.ndarray:
        """Bayesian-shrunk mean rating (1-5 stars) in real units: the real ratings (each simulated
        rating stands for ``scale`` real ones; their mean is ``mean_rating``) and ``prior_count``
        real pseudo-ratings at ``prior_stars``, so that a course with the same mean rating and the
        same real number of ratings shows the same stars at every sample size. With no
        pseudo-ratings (``prior_count`` 0) a rated course shows its mean and an unrated one
        ``prior_stars``."""
        real_count = scale * self.rating_count
        rated = np.nan_to_num(self.mean_rating(scale, expected_stars)) * real_count
        weight = real_count + prior_count
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 where nothing counts
            shrunk = (rated + prior_count * prior_stars) / weight
        return np.where(weight > 0, shrunk, prior_stars)

    def displayed_stars(
        self, prior_stars: float, prior_count: float, scale: float, expected_stars: np.ndarray | None = None
    ) -> np.ndarray:
        """Stars as a platform shows them: the shrunk mean (``mean_stars``) rounded to one decimal."""
        return np.round(self.mean_stars(prior_stars, prior_count, scale, expected_stars), 1)
