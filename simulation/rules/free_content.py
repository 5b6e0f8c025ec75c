"""Free alternatives: course content that is available free elsewhere (issue 10 point 5).

KPK's June 2020 review found 89% of a 327-course sample of Kartu Prakerja courses available free
online (CALIBRATION.md, "Quality, gaming and leakage"). Each course's content is free elsewhere
with probability ``free_share``: one keyed draw per course id (purpose ``"voucher:free_content"``),
so an entrant's flag does not depend on how many courses came before it and no other stream moves.

The buyer's rule. A buyer weighs a course whose content is free against the free material, of
expected quality ``free_quality`` (q_f), so it is worth what it adds over it; the quality term of
the course's appeal (``simulation.rules.choice.course_appeal``) becomes

    quality_weight x max(E[q] - q_f, 0) + certificate_value      (content free elsewhere)
    quality_weight x E[q]                                          (otherwise)

where E[q] is the expected quality the buyer reads (from stars, and a counsellor's reading under
counselling: ``simulation.rules.counselling``) and ``certificate_value`` the utility of the
programme's certificate, which unlocks the incentive and which the free material lacks.
Worked: quality_weight 2, E[q] 0.6, q_f 0.4, certificate 0.3: 2 x 0.2 + 0.3 = 0.7 (against 1.2
for a course whose content is not free).

The skill rule. A completer of a free-content course of delivered quality q gains skill as from a
course of quality

    q - (1 - skill_counted) x min(q, q_f)

``skill_counted`` = 1 (the default) counts the full gain: in the model nobody, treated or twin,
studies the free material outside the programme (free online courses are rarely finished
without structure, a deadline or an incentive), so the twin has no such skill and the course's
whole gain is the programme's effect. ``skill_counted`` = 0 counts only what the course adds over
the free material, as if the twin would have learnt that part anyway; values between are the
share of would-be self-learners. It is a parameter because the effect on employment depends on it.

Asymmetry with the tender: only the voucher's courses carry the flag. Tender seats are allocated,
not chosen by a buyer weighing value added, and the tender's offline centre courses (practical,
equipment-based) are assumed to have no free equivalent; the 89% refers to Prakerja's catalogue.
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import FreeAlternatives
from simulation.rules.keyed_draws import Draws

PURPOSE = "voucher:free_content"


def free_content(seed: int, n_courses: int, params: FreeAlternatives) -> np.ndarray:
    """Whether each course's content is free elsewhere [courses] (bool; all False when off)."""
    if not params.enabled:
        return np.zeros(n_courses, dtype=bool)
    draws = Draws.of(seed, PURPOSE, 0).uniforms(np.arange(n_courses, dtype=np.int64))
    return draws < params.free_share


def quality_term(
    expected_quality: np.ndarray, free: np.ndarray, quality_weight: float, params: FreeAlternatives
) -> np.ndarray:
    """The quality term of each course's appeal [courses] (float32): quality_weight x E[q], or for
    a course whose content is free elsewhere quality_weight x max(E[q] - free_quality, 0) +
    certificate_value (``quality_response``'s first part)."""
    return quality_response(expected_quality, free, quality_weight, params)[0]


def quality_response(
    expected_quality: np.ndarray, free: np.ndarray, quality_weight: float, params: FreeAlternatives
) -> tuple[np.ndarray, np.ndarray]:
    """The quality term of each course's appeal [courses] (float32, as ``quality_term``) and its
    slope in E[q] [courses] (float64), one-sided: the LEFT derivative, the slope a seller faces
    when it shades quality down,

        d term / d E[q] = quality_weight                            (content not free elsewhere)
                        = quality_weight x [E[q] > free_quality]    (content free elsewhere)

    so a free-content course at or below the free material's quality (at the kink included) loses
    no appeal by shading. The same function gives both, so the shading rule
    (``simulation.schemes.platform_market``) cannot drift from the buyer's rule."""
    q = np.asarray(expected_quality, dtype=np.float32)
    above = q > np.float32(params.free_quality)
    added = np.maximum(q - np.float32(params.free_quality), np.float32(0.0))
    free_term = quality_weight * added + params.certificate_value
    term = np.where(free, free_term, quality_weight * q).astype(np.float32)
    slope = np.where(np.asarray(free, dtype=bool) & ~above, 0.0, float(quality_weight))
    return term, slope.astype(np.float64)


def skill_quality(quality: np.ndarray, free: np.ndarray, params: FreeAlternatives) -> np.ndarray:
    """Quality whose skill counts for completers of courses of delivered ``quality`` [n] with
    content free elsewhere ``free`` [n]: q - (1 - skill_counted) x min(q, free_quality) where free,
    q elsewhere (the same array, untouched, when off or when the full gain counts)."""
    if not params.enabled or params.skill_counted == 1.0 or not free.any():
        return quality
    q = np.asarray(quality, dtype=np.float32)
    overlap = np.minimum(q, np.float32(params.free_quality))
    discount = np.float32(1.0 - params.skill_counted) * overlap
    return np.where(free, q - discount, q).astype(np.float32)
