"""What happens inside a course: completion, the compulsory rating, and the skill gained.

Pure functions over arrays; the scheme decides who is in which course.
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import Completion, Ratings, Skill


def completion_probability(
    motivation: np.ndarray,
    incentive_pending: np.ndarray,
    quality: np.ndarray | float,
    fit: np.ndarray,
    difficulty: np.ndarray,
    params: Completion,
    extra_logit: np.ndarray | float = 0.0,
) -> np.ndarray:
    """P(complete) of each enrolment: a logit rising with motivation, a pending incentive
    (no course completed yet and an incentive on offer), quality and fit (0-1), falling with effort;
    ``extra_logit`` adds a scheme's own terms (e.g. travel to a training centre).
    """
    logit = (
        params.intercept
        + params.motivation * motivation
        + params.incentive_pending * incentive_pending
        + params.quality * quality
        + params.fit * fit
        - params.effort * difficulty
        + extra_logit
    )
    return 1.0 / (1.0 + np.exp(-logit))


def stars(quality: np.ndarray, noise: np.ndarray, params: Ratings) -> np.ndarray:
    """Whole stars 1-5 a completer gives: 1 + 4 * quality, plus leniency and noise, rounded.

    ``noise`` is standard normal, one draw per rating.
    """
    latent = 1.0 + 4.0 * quality + params.leniency + params.noise_sd * noise
    return np.clip(np.rint(latent), 1, 5).astype(np.int8)


def expected_stars(quality: np.ndarray, params: Ratings) -> np.ndarray:
    """Mean of the stars (``stars``) that completers give a course of true ``quality`` (1-5,
    float64): the latent 1 + 4 q + leniency + noise_sd z, rounded and clipped, averaged over z.
    Star k (2-4) is given when the latent lies within k +- 0.5; 1 below 1.5; 5 above 4.5."""
    from scipy.special import ndtr  # loaded when first needed: keeps ``import simulation`` light

    centre = 1.0 + 4.0 * np.asarray(quality, dtype=np.float64) + params.leniency
    if params.noise_sd == 0:
        return np.clip(np.rint(centre), 1, 5)
    edges = np.arange(1.5, 5.0)  # 1.5, 2.5, 3.5, 4.5
    above = ndtr((centre[..., None] - edges) / params.noise_sd)  # P(latent > edge)
    return 1.0 + above.sum(axis=-1)  # E[stars] = 1 + sum over edges of P(stars above the edge)


def skill_gain(
    quality: np.ndarray, ability: np.ndarray, completed_before: np.ndarray, params: Skill
) -> np.ndarray:
    """Skill from one completed course: quality x ability, shrinking by ``diminishing`` per
    course completed before (the second course adds ``diminishing`` times as much as the first).
    """
    return (params.gain_per_quality * quality * ability * params.diminishing**completed_before).astype(
        np.float32
    )


def match_weight(course_sector: np.ndarray, own_sector: np.ndarray, params: Skill) -> np.ndarray:
    """How much of a course's skill counts in one's own sector: 1 if the same, else partial."""
    return np.where(course_sector == own_sector, 1.0, params.cross_sector_match).astype(np.float32)
