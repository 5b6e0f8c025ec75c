"""How a shopper appraises a course beyond its stars: free alternatives and counselling.

One object per week, built by the voucher (``VoucherScheme.course_facts``) and read by the
shopping logit (``simulation.rules.choice``): the quality term of a course's appeal is

    quality_weight x E[q]                                                   (no appraisal)
    quality_weight x max(E[q] - free_quality, 0) + certificate_value        (content free elsewhere)

with E[q] from stars, or, when counselled, mixed with the counsellor's reading
(``simulation.rules.counselling.informed_quality``); local demand weighs ``extra_demand_weight``
more; and courses the counsellor vetoes are infeasible for shoppers of the regions where vetoed.
``Market.appraisal`` None is the model before issue 10, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.config.scenario import Counselling, FreeAlternatives
from simulation.rules import counselling, free_content


@dataclass(frozen=True)
class Appraisal:
    """What shoppers know of the courses beyond their stars this week (arrays over courses)."""

    free: np.ndarray  # bool [courses], content free elsewhere
    free_alternatives: FreeAlternatives
    reading: np.ndarray | None = None  # float32 [courses], counsellor's reading (None: not counselled)
    information_weight: float = 0.0  # weight of the reading in expected quality
    extra_demand_weight: float = 0.0  # utility added per log(local vacancies)
    veto: np.ndarray | None = None  # bool [courses, region], vetoed (structured choice)
    reading_offset: float = 0.0  # added to the reading in the mix: the stars' scale (leniency / 4)

    def quality_term(self, star_quality: np.ndarray, quality_weight: float) -> np.ndarray:
        """The quality term of each course's appeal [courses] (float32)."""
        return self.quality_response(star_quality, quality_weight)[0]

    def quality_response(
        self, star_quality: np.ndarray, quality_weight: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The quality term [courses] (float32) and its left derivatives (float64 [courses]) in
        the stars' quality and in the course's delivered quality through the counsellor's reading
        (``free_content.quality_response``, slope f' in E[q]):

            d term / d stars-quality = (1 - w) x f'
            d term / d delivered q   = w x f' x [0 < reading < 1]

        with w the information weight (0 and no reading when not counselled: the second slope is
        0). The reading is clip(q + noise, 0, 1), so shading moves it one for one except where it
        is clipped (at 0, or at 1 with q + noise above 1, shading a little leaves it unchanged)."""
        quality = star_quality
        if self.reading is not None:
            reported = self.reading + np.float32(self.reading_offset)  # on the stars' scale
            quality = counselling.informed_quality(star_quality, reported, self.information_weight)
        alternatives = self.free_alternatives
        term, slope = free_content.quality_response(quality, self.free, quality_weight, alternatives)
        if self.reading is None:
            return term, slope, np.zeros(slope.shape)
        w = self.information_weight
        moves = (self.reading > 0.0) & (self.reading < 1.0)
        return term, (1.0 - w) * slope, np.where(moves, w * slope, 0.0)


def appraisal(
    seed: int,
    true_quality: np.ndarray,
    course_sector: np.ndarray,
    vacancies: np.ndarray,
    free_params: FreeAlternatives,
    counsel: Counselling,
    leniency: float = 0.0,
) -> Appraisal | None:
    """This week's appraisal of the courses (None when both mechanisms are off): content flags,
    and under a counselled regime the readings, their weight, the extra demand weight and
    (structured) the vetoes given this week's ``vacancies`` [sector, region].

    The counsellor reports its reading on the stars' scale: shoppers read quality from stars as
    (stars - 1) / 4, and the ratings' average ``leniency`` (stars) lifts them by leniency / 4, so
    the reading enters the mix as r + leniency / 4. A course rated honestly and without noise then
    shows the same expected quality with or without counselling; what counselling adds is the
    course's own deviation (noise, course-level leniency, bought ratings, shading not yet rated),
    not a shift of the whole scale. The veto compares the reading itself with
    ``veto_min_quality``."""
    if not free_params.enabled and not counsel.active:
        return None
    free = free_content.free_content(seed, true_quality.shape[0], free_params)
    if not counsel.active:
        return Appraisal(free, free_params)
    reading = counselling.readings(seed, true_quality, counsel)
    return Appraisal(
        free,
        free_params,
        reading,
        counsel.information_weight,
        counsel.extra_demand_weight,
        counselling.vetoes(reading, course_sector, vacancies, counsel),
        leniency / 4.0,
    )
