"""Hidden quality: how much a provider shades the quality it delivers (issue 9, point 3).

One rule for every provider under every scheme. A course has a potential quality (drawn at birth,
the quality at full effort) and a delivered quality, potential - s, where s >= 0 is the quality
the provider shades. Per trainee, shading s units of quality

* saves ``saving_idr`` x s: the cost of quality, by course mode (``providers.quality_saving_idr``;
  online quality is mostly content made once, so its saving per trainee is far lower);
* costs ``mission_idr`` x s: what a mission-driven provider values its trainees' skill at (a
  knightly provider's ``providers.knightly_weight_idr``, a public centre's tier
  ``mission_weight_idr``; 0 for a for-profit provider);
* costs ``future_idr`` x s: the expected loss of future business, linear in s (reputation under
  the voucher, past performance in the next contract cycle under the tender; see
  ``voucher_future_loss_idr`` and ``tender_future_loss_idr``);
* costs an expected penalty ``discipline_idr`` x s**2 (detection: under the tender, monitoring
  probability x penalty, with a penalty that rises with the shortfall).

The provider maximises (saving - mission - future) s - discipline s**2 over s in [0, potential]:

    s* = clip((saving - mission - future) / (2 discipline), 0, potential),

and with discipline 0, s* = potential if the net saving is positive, else 0 (the objective is then
linear in s). With saving 0 nobody shades. Money in IDR per trainee per unit of quality, quality in
[0, 1]; the functions are pure and vectorised over providers or courses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config.codes import HYBRID, OFFLINE, ONLINE

STARS_PER_QUALITY = 4.0  # a rating is 1 + 4 x quality + leniency + noise (rules.training.stars)


def shading(
    potential: np.ndarray,
    saving_idr: np.ndarray | float,
    mission_idr: np.ndarray | float,
    future_idr: np.ndarray | float,
    discipline_idr: np.ndarray | float,
) -> np.ndarray:
    """Quality shaded, s* = clip((saving - mission - future) / (2 discipline), 0, potential); with
    discipline 0, potential where saving - mission - future > 0, else 0.

    Maximises (saving - mission - future) s - discipline s**2 (IDR per trainee) over
    s in [0, potential]. Arguments broadcast against ``potential``; money is IDR per trainee per
    unit of quality (``discipline_idr`` per unit squared), non-negative.
    """
    potential = np.asarray(potential, dtype=np.float64)
    net = np.asarray(saving_idr, dtype=np.float64) - mission_idr - future_idr
    discipline = np.broadcast_to(
        np.asarray(discipline_idr, dtype=np.float64), np.broadcast(potential, net).shape
    )
    if np.any(discipline < 0):
        raise ValueError("discipline_idr must be non-negative")
    interior = np.divide(net, 2.0 * discipline, out=np.zeros(discipline.shape), where=discipline > 0)
    unbounded = np.where(net > 0, potential, 0.0)  # discipline 0: all or nothing
    return np.clip(np.where(discipline > 0, interior, unbounded), 0.0, potential)


def shading_under_review(
    potential: np.ndarray,
    net_saving_idr: np.ndarray | float,
    catch_rate: float,
    noise_sd: float,
    min_quality: float,
    listing_value_idr: np.ndarray | float,
    grid: int = 101,
) -> np.ndarray:
    """Quality shaded by a seller whose delivered quality may be re-reviewed (voucher curation):
    the s in [0, potential] (on a grid of ``grid`` points) that maximises, per trainee (IDR),

        net_saving x s - catch_rate x P(review below min_quality | s) x listing_value,

    with P = Phi((min_quality - (potential - s)) / noise_sd) (a noisy review, normal errors; a
    step at min_quality when noise_sd is 0). ``net_saving_idr`` is the saving less mission and
    future loss per unit shaded (as in :func:`shading`, whose all-or-nothing answer this gives
    when catch_rate or listing_value is 0), ``catch_rate`` the chance of a review while the choice
    holds, ``listing_value_idr`` what delisting costs per trainee of the period (the listing's
    future margin). Ties go to the smaller shading. Arguments broadcast against ``potential``."""
    check = Check(catch_rate, noise_sd, min_quality, listing_value_idr)
    return shading_under_checks(potential, net_saving_idr, (check,), grid)


@dataclass(frozen=True)
class Check:
    """A noisy check of delivered quality that costs the seller ``value_idr`` (per trainee of the
    period) when it reads below ``min_quality``: made with chance ``catch_rate`` while the choice
    holds, with normal errors of sd ``noise_sd``."""

    catch_rate: float
    noise_sd: float
    min_quality: float
    value_idr: np.ndarray | float


def shading_under_checks(
    potential: np.ndarray, net_saving_idr: np.ndarray | float, checks: tuple[Check, ...], grid: int = 101
) -> np.ndarray:
    """``shading_under_review`` with several independent checks (curation's re-review, a
    counsellor's veto): the s on the grid that maximises

        net_saving x s - sum over checks k of catch_k x P_k(read below min_k | s) x value_k,

    the expected losses added (first order: the chance of two checks failing at once is not
    netted out). Ties go to the smaller shading."""
    from scipy.special import ndtr  # loaded when first needed: keeps ``import simulation`` light

    potential = np.asarray(potential, dtype=np.float64)
    net = np.broadcast_to(np.asarray(net_saving_idr, dtype=np.float64), potential.shape)
    s = potential[..., None] * np.linspace(0.0, 1.0, grid)  # [..., grid]
    gain = net[..., None] * s
    for check in checks:
        value = np.broadcast_to(np.asarray(check.value_idr, dtype=np.float64), potential.shape)
        gap = check.min_quality - (potential[..., None] - s)
        caught = ndtr(gap / check.noise_sd) if check.noise_sd > 0 else (gap > 0).astype(np.float64)
        gain = gain - check.catch_rate * caught * value[..., None]
    return np.take_along_axis(s, np.argmax(gain, axis=-1)[..., None], axis=-1)[..., 0]


def saving_by_mode(mode: np.ndarray, online_idr: float, offline_idr: float, hybrid_idr: float) -> np.ndarray:
    """Cost saved per trainee per unit of quality shaded for courses of ``mode`` (ONLINE, OFFLINE,
    HYBRID codes), IDR: the scenario's ``providers.quality_saving_idr`` value for each mode."""
    mode = np.asarray(mode)
    table = np.zeros(max(ONLINE, OFFLINE, HYBRID) + 1)
    table[[ONLINE, OFFLINE, HYBRID]] = online_idr, offline_idr, hybrid_idr
    return table[mode]


def tender_future_loss_idr(
    quality_score_weight: float,
    past_performance_weight: float,
    visibility: float,
    next_margin_idr: np.ndarray | float,
    next_cycle: bool,
) -> np.ndarray:
    """A contractor's expected loss of future business per trainee per unit of quality shaded,
    IDR: quality_score_weight x past_performance_weight x visibility x next_margin_idr when another
    contract cycle follows in the horizon (``next_cycle``), else 0.

    Past performance: in the next cycle the office assesses a bidder's quality as (1 - w) x its
    assessment + w x its record (``procurement.past_performance_adjustment``, w =
    ``past_performance_weight``), and the record falls by s only when the office sees the
    delivered quality (probability ``visibility``; the office records the declared quality of a
    contract it did not inspect), so its score falls by quality_score_weight (1 - price_weight)
    x w x visibility x s in expectation. Approximation: the chance of winning the next contract
    falls one for one with the score (a linear probability, one unit of probability per score
    point) and the next contract is like this one, the same size at the same margin per trainee
    (``next_margin_idr``, price less the cost of full effort), so per trainee of this contract the
    loss is that fall times the margin.
    """
    margin = np.maximum(np.asarray(next_margin_idr, dtype=np.float64), 0.0)
    if not next_cycle:
        return np.zeros(margin.shape)
    return quality_score_weight * past_performance_weight * visibility * margin


def rating_shrinkage(real_ratings: np.ndarray | float, prior_count: float) -> np.ndarray:
    """Share of a course's displayed stars that its ratings carry, n / (n + prior_count), with n
    real ratings (the rest is the platform's prior); 1 with no prior, 0 with no ratings."""
    n = np.asarray(real_ratings, dtype=np.float64)
    total = n + prior_count
    return np.divide(n, total, out=np.zeros(np.broadcast(n, total).shape), where=total > 0)


def voucher_future_loss_idr(
    shrinkage: np.ndarray,
    quality_weight: float | np.ndarray,
    choice_share: np.ndarray,
    margin_idr: np.ndarray,
    reputation_weeks: float,
    review_weeks: float,
    immediate_slope: np.ndarray | None = None,
) -> np.ndarray:
    """A voucher seller's expected loss of future sales per trainee per unit of quality shaded,
    IDR:

        quality_weight x shrinkage x (1 - choice_share) x margin x reputation_weeks / review_weeks
        + immediate_slope x (1 - choice_share) x margin

    Ratings follow delivered quality: a unit of quality is 4 stars (``rules.training.stars``), of
    which the displayed stars carry the share ``shrinkage`` (``rating_shrinkage``); shoppers read
    stars back as quality, (stars - 1) / 4 (``rules.choice.expected_quality``), so their utility
    falls by quality_weight x shrinkage per unit shaded, and the logit's expected sales by the
    share (1 - P) of that (d ln P / dU = 1 - P, with P the course's mean choice probability when
    shown, ``choice_share``). Each sale lost costs the margin per sale (``margin_idr``, net
    receipts less marginal cost). The loss lasts ``reputation_weeks`` (the stars recover only as
    new ratings come) while the saving accrues over the review period the choice holds for
    (``review_weeks``), hence the ratio. Approximations: linear in s (the rounding of stars and
    their cap at 5 are ignored), the choice share and margin as in the last review period.

    ``quality_weight`` is the slope of the shoppers' utility in the stars' quality, a number or
    one per course (``rules.choice.quality_slopes``: the choice's quality weight, less where
    content is free elsewhere, counselling or incentive seekers weigh stars less). The immediate
    term (``immediate_slope``, the slope in delivered quality that a counsellor reads at once;
    None: none) has no rating lag: sales fall in the period the choice holds, so its ratio is 1.
    Worked: slope 2, shrinkage 0.5, P 0.1, margin 100,000, 13 of 2 weeks: 2 x 0.5 x 0.9 x 1e5 x 6.5
    = 585,000; plus an immediate slope 1: 1 x 0.9 x 1e5 = 90,000.
    All arguments per course; the result is per trainee, IDR.
    """
    shrinkage = np.asarray(shrinkage, dtype=np.float64)
    share = np.clip(np.asarray(choice_share, dtype=np.float64), 0.0, 1.0)
    margin = np.maximum(np.asarray(margin_idr, dtype=np.float64), 0.0)
    loss = quality_weight * shrinkage * (1.0 - share) * margin * reputation_weeks / review_weeks
    if immediate_slope is None:
        return loss
    return loss + np.asarray(immediate_slope, dtype=np.float64) * (1.0 - share) * margin
