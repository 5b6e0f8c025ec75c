"""Ratings that can be gamed (issue 10, point 3): course leniency, non-genuine ratings, filtering.

Honest ratings (``simulation.rules.training.stars``) are 1 + 4 q + leniency + noise, rounded to
1-5 stars, with noise independent across ratings and courses. Three channels make them lose
information about the delivered quality q:

* Course leniency. Each course c carries its own shift l_c ~ N(0, ``leniency_sd``) stars, drawn
  once (keyed by the course id, stream ``ratings:course_leniency``): its audience rates it kindly,
  or it asks for 5 stars. Every rating of c is 1 + 4 q + leniency + l_c + noise, rounded.
* Non-genuine ratings. A share phi_c of the completers' ratings of course c are bought or pressured:
  5 stars whatever the quality. phi_c = ``fake_share_for_profit`` for a for-profit provider's course
  (mission weight 0), ``fake_share_mission`` otherwise. Each rating is non-genuine when a keyed
  uniform is below phi_c (stream ``voucher:rating_fakes``, slot 0).
* Filtering. The platforms detect and remove a share f = ``filter_rate`` of the non-genuine ratings
  (slot 1 of the same stream); a removed rating is not counted at all.

The share of the counted ratings that are non-genuine is then

    phi'_c = phi_c (1 - f) / (1 - phi_c f)                                   (counted_fake_share)

and a counted rating of a course of quality q earns in expectation

    E[stars] = (1 - phi'_c) E_honest[stars | q, l_c] + phi'_c x 5          (expected_counted_stars)

which is what ``Courses.rating_expected_sum`` adds per counted rating, so that the displayed stars
keep the sampling spread of the real ratings about that mean (``Courses.mean_rating``).

Quality discipline. A unit of delivered quality moves the mean honest rating by about 4 stars; with
non-genuine ratings it moves the mean of the counted ratings by (1 - phi'_c) x 4 only. A seller's
shading rule (``rules.quality.voucher_future_loss_idr``) therefore sees the ratings' share of its
displayed stars times the genuine share 1 - phi'_c (``PlatformMarket._review_quality``): gaming
weakens the reputation that disciplines hidden quality. Leniency shifts the level of the stars, not
their slope (the linear approximation of ``rules.quality`` ignores the cap at 5 stars).

The tender has no ratings: its office learns quality by inspection (``tender.visibility``), so none
of these channels exists there (an asymmetry by design, not an omission).
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import RatingGaming
from simulation.rules.keyed_draws import Draws

FIVE_STARS = 5


def course_leniency(seed: int, course_ids: np.ndarray, sd: float) -> np.ndarray | None:
    """Each course's own leniency l_c ~ N(0, sd), stars (float64), keyed by course id so that a
    course keeps it for life and entrants get theirs without shifting anyone's; None when sd is 0
    (honest ratings, bit for bit)."""
    if sd <= 0:
        return None
    return sd * Draws.of(seed, "ratings:course_leniency", 0).normals(course_ids.astype(np.int64))


def fake_share(for_profit: np.ndarray, params: RatingGaming) -> np.ndarray:
    """phi_c: the share of a course's ratings that are not genuine, by its provider's type."""
    return np.where(for_profit, params.fake_share_for_profit, params.fake_share_mission)


def counted_fake_share(phi: np.ndarray | float, filter_rate: float) -> np.ndarray:
    """phi' = phi (1 - f) / (1 - phi f): the non-genuine share among the ratings left after the
    platforms' filter removed a share f of the non-genuine ones (0 where nothing is left)."""
    phi = np.asarray(phi, dtype=np.float64)
    kept = 1.0 - phi * filter_rate
    return np.divide(phi * (1.0 - filter_rate), kept, out=np.zeros(kept.shape), where=kept > 0)


def expected_counted_stars(honest_expected: np.ndarray, phi_counted: np.ndarray) -> np.ndarray:
    """Mean stars a counted rating earns: (1 - phi') x the honest mean + phi' x 5."""
    return (1.0 - phi_counted) * honest_expected + phi_counted * FIVE_STARS


def gamed(
    honest: np.ndarray, fake_draw: np.ndarray, filter_draw: np.ndarray, phi: np.ndarray, filter_rate: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ratings as given and counted, one entry per completer: (stars, counted, non_genuine).

    A rating is non-genuine when ``fake_draw`` < phi (its stars are then 5), and removed by the
    filter when it is non-genuine and ``filter_draw`` < ``filter_rate``; ``counted`` is False for
    the removed ones. Draws are uniforms on [0, 1)."""
    non_genuine = fake_draw < phi
    counted = ~(non_genuine & (filter_draw < filter_rate))
    given = np.where(non_genuine, np.int8(FIVE_STARS), honest).astype(honest.dtype)
    return given, counted, non_genuine & counted
