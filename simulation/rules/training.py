"""What happens inside a course: completion, the compulsory rating, and the skill gained.

Pure functions over arrays; the scheme decides who is in which course.
"""

from __future__ import annotations

import numpy as np

from simulation.config.codes import MODE_NAMES
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


def stars(
    quality: np.ndarray, noise: np.ndarray, params: Ratings, shift: np.ndarray | None = None
) -> np.ndarray:
    """Whole stars 1-5 a completer gives: 1 + 4 * quality, plus leniency and noise, rounded.

    ``noise`` is standard normal, one draw per rating; ``shift`` (stars, one per rating, or None
    for none) is the rated course's own leniency (``simulation.rules.rating_gaming``).
    """
    latent = 1.0 + 4.0 * quality + params.leniency + params.noise_sd * noise
    if shift is not None:
        latent = latent + shift
    return np.clip(np.rint(latent), 1, 5).astype(np.int8)


def expected_stars(quality: np.ndarray, params: Ratings, shift: np.ndarray | None = None) -> np.ndarray:
    """Mean of the stars (``stars``) that completers give a course of true ``quality`` (1-5,
    float64): the latent 1 + 4 q + leniency (+ the course's own ``shift``) + noise_sd z, rounded
    and clipped, averaged over z. Star k (2-4) is given when the latent lies within k +- 0.5; 1
    below 1.5; 5 above 4.5."""
    from scipy.special import ndtr  # loaded when first needed: keeps ``import simulation`` light

    centre = 1.0 + 4.0 * np.asarray(quality, dtype=np.float64) + params.leniency
    if shift is not None:
        centre = centre + shift
    if params.noise_sd == 0:
        return np.clip(np.rint(centre), 1, 5)
    edges = np.arange(1.5, 5.0)  # 1.5, 2.5, 3.5, 4.5
    above = ndtr((centre[..., None] - edges) / params.noise_sd)  # P(latent > edge)
    return 1.0 + above.sum(axis=-1)  # E[stars] = 1 + sum over edges of P(stars above the edge)


def intensity_factor(hours: np.ndarray | float, mode: np.ndarray | int, params: Skill) -> np.ndarray:
    """How much a course's length and mode multiply the skill it teaches (float64, unitless):

        mode_factor[mode] x (hours / reference_hours) ** hours_elasticity

    ``hours`` are hours of instruction (> 0); ``mode`` the course's mode code
    (``simulation.config.codes``: ONLINE, OFFLINE, HYBRID). A course of ``reference_hours`` in a
    mode of factor 1 has factor 1. With an elasticity below 1 each further hour adds less
    (concave: 4 times the hours teach 4 ** elasticity times the skill); at 1 the factor is
    proportional to hours; at 0 (the default) hours do not matter.
    """
    modes = np.array([getattr(params.mode_factor, name) for name in MODE_NAMES])
    hours = np.asarray(hours, dtype=np.float64)
    return (
        modes[np.asarray(mode, dtype=np.int64)] * (hours / params.reference_hours) ** params.hours_elasticity
    )


def skill_gain(
    quality: np.ndarray | float,
    ability: np.ndarray | float,
    completed_before: np.ndarray | int,
    hours: np.ndarray | float,
    mode: np.ndarray | int,
    params: Skill,
) -> np.ndarray:
    """Skill from one completed course (float32, in units of ``Labour.skill_effect``'s skill):

        gain_per_quality x quality x ability x intensity_factor(hours, mode)
        x diminishing ** completed_before

    ``quality`` is the quality delivered (0-1), ``ability`` the person's (log-normal, mean 1),
    ``completed_before`` the courses they completed before this one (the second course adds
    ``diminishing`` times as much as the first), ``hours`` the course's hours of instruction and
    ``mode`` its mode code (``intensity_factor``). With the default ``hours_elasticity`` 0 and mode
    factors 1 this is the rule before issue 9: quality x ability, whatever the course's length or mode.
    """
    gain = params.gain_per_quality * quality * ability * params.diminishing**completed_before
    # Multiplied last, so that a factor of exactly 1 reproduces the old rule bit for bit.
    return np.asarray(gain * intensity_factor(hours, mode, params)).astype(np.float32)


def match_weight(course_sector: np.ndarray, own_sector: np.ndarray, params: Skill) -> np.ndarray:
    """How much of a course's skill counts in one's own sector: 1 if the same, else partial."""
    return np.where(course_sector == own_sector, 1.0, params.cross_sector_match).astype(np.float32)
