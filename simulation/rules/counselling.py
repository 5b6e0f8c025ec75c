"""Counselling before purchase: the three arms of the US WIA Individual Training Account
experiment as choice regimes (issue 10 point 10; CALIBRATION.md, "Quality, gaming and leakage").

* ``maximum`` choice (counselling optional): modelled as no counselling, the model before issue 10.
* ``guided`` choice (mandatory counselling, the customer decides): counselling is information.
  The counselling service reads each course's true (delivered) quality q with noise,

      r_c = clip(q_c + reading_noise_sd x z_c, 0, 1),      z_c ~ N(0, 1), one keyed draw per course

  and the expected quality a shopper reads becomes the mix

      E[q_c] = (1 - information_weight) x (stars_c - 1) / 4
               + information_weight x (r_c + leniency / 4),

  the reading reported on the stars' scale (``ratings.leniency``, the ratings' average lift, which
  shoppers read into the stars; ``simulation.rules.appraisal``),

  and local demand weighs more: demand utility (demand_weight + extra_demand_weight) x
  log(local vacancies in the course's sector).
* ``structured`` choice (the counsellor has a say, with a veto): guided, and a course is removed
  from a shopper's options (infeasible) when

      r_c < veto_min_quality   or   vacancies[sector_c, region] < veto_min_demand_ratio x
                                     mean over sectors of vacancies[., region].

Worked (guided, weight 0.5, no leniency): a course showing 5 stars (0 -> 1 on the star scale)
that the counsellor reads at 0.2 is expected at 0.5 x 1 + 0.5 x 0.2 = 0.6; with leniency 1.5
stars, at 0.5 x 1 + 0.5 x (0.2 + 0.375) = 0.7875.

Every recipient of a counselled regime is counselled once, at selection, at
``cost_per_recipient_idr`` (real IDR; booked in the ledger's ``counselling`` inside treasury_out
and committed in each recipient's package under the budget), and may first buy ``delay_weeks``
after selection (the purchase deadline moves by as much). The reading is the counselling
service's shared assessment of a course (its noise is one draw per course, not per shopper),
which keeps the utility a table over courses (``simulation.rules.choice.taste_table``).

Asymmetry with the tender: the tender has no counselling channel; its office already chooses the
sector, provider and seats (a planner's choice, closer to structured choice than to the voucher),
and its trainees apply to the lots offered near them.
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import Counselling
from simulation.rules.keyed_draws import Draws

PURPOSE = "voucher:counselling_reading"


def readings(seed: int, true_quality: np.ndarray, params: Counselling) -> np.ndarray:
    """The counsellor's reading of each course's true quality [courses] (float32, 0-1): the
    quality plus keyed normal noise (one draw per course id), clipped to [0, 1]."""
    n = true_quality.shape[0]
    noise = Draws.of(seed, PURPOSE, 0).normals(np.arange(n, dtype=np.int64))
    reading = np.asarray(true_quality, dtype=np.float64) + params.reading_noise_sd * noise
    return np.clip(reading, 0.0, 1.0).astype(np.float32)


def informed_quality(star_quality: np.ndarray, reading: np.ndarray, weight: float) -> np.ndarray:
    """Expected quality after counselling [courses] (float32): (1 - weight) x stars-based +
    weight x the counsellor's reading."""
    mix = (1.0 - weight) * np.asarray(star_quality, np.float64) + weight * np.asarray(reading, np.float64)
    return mix.astype(np.float32)


def low_demand(vacancies: np.ndarray, ratio: float) -> np.ndarray:
    """Sectors whose local vacancies are below ``ratio`` x the region's mean over sectors
    [sector, region] (bool), from this week's vacancies [sector, region]."""
    vacancies = np.asarray(vacancies, dtype=np.float64)
    return vacancies < ratio * vacancies.mean(axis=0, keepdims=True)


def vetoes(
    reading: np.ndarray, course_sector: np.ndarray, vacancies: np.ndarray, params: Counselling
) -> np.ndarray | None:
    """Courses the counsellor removes from a shopper's options, by the shopper's region
    [courses, region] (bool): read below ``veto_min_quality`` or in a sector of low local demand
    (``low_demand``). None unless the regime is structured."""
    if params.regime != "structured":
        return None
    weak = reading < params.veto_min_quality
    return weak[:, None] | low_demand(vacancies, params.veto_min_demand_ratio)[course_sector.astype(np.intp)]
