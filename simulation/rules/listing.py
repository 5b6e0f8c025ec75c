"""Listing rules a ministry can switch on (issue 10, point 7): minimum hours, price caps by hours.

* Minimum hours (``voucher.min_hours`` = H): a course of h < H hours is not listed, so a
  provider designs its courses at H hours at least, h' = max(h, H). A rule announced with notice
  is assumed: the courses on sale when the scheme opens are redesigned to it as well (their hours
  raised to H; ``voucher.min_hours_incumbents`` "redesign", the default), so the rule lengthens
  courses rather than removing the short ones; "delist" refuses them instead (a rule without
  notice: with hours ~ U(6, 20), 15 h removes about two thirds of them). Entrants always design to
  the rule. A course's marginal cost does not depend on its hours, so a longer course costs its
  provider nothing more (an assumption; its buyers see more weeks of study).
* Price cap by hours (``voucher.price_cap_per_hour_idr`` = k): course c's price cap is

      cap_c = min(cap, floor(k x h_c / 1,000) x 1,000)        IDR,

  the scheme's single cap or k per hour of instruction, whichever is lower, rounded down to the
  price grain so that a price on the grain never exceeds it. Without k, cap_c = cap for every
  course. Sellers' prices stay within [marginal cost, cap_c] (``rules.pricing``), and entrants'
  prices are capped on entry.

Curation's cost (``voucher.curation.cost_per_review_idr``) is booked by the scheme, per course
reviewed, in the ledger's ``curation`` line. The tender buys whole programmes of a set length at a
contract price, so it has no counterpart to these listing rules (an asymmetry by design).
"""

from __future__ import annotations

import numpy as np

from simulation.config.codes import PRICE_GRAIN_IDR


def course_price_caps(hours: np.ndarray, cap_idr: float, per_hour_idr: float | None) -> float | np.ndarray:
    """cap_c = min(cap, floor(per_hour x hours / grain) x grain) per course, IDR (float64); the
    single cap (a float, which broadcasts against any course array exactly as before the rule
    existed) when ``per_hour_idr`` is None."""
    if per_hour_idr is None:
        return float(cap_idr)
    hours = np.asarray(hours, dtype=np.float64)
    by_hours = np.floor(per_hour_idr * hours / PRICE_GRAIN_IDR) * PRICE_GRAIN_IDR
    return np.minimum(float(cap_idr), by_hours)


def too_short(hours: np.ndarray, min_hours: float) -> np.ndarray:
    """Courses shorter than ``min_hours`` (bool per course): not listed."""
    return np.asarray(hours) < min_hours


def designed_hours(hours: np.ndarray, min_hours: float) -> np.ndarray:
    """Hours of courses designed (entrants) or redesigned (incumbents) to the rule:
    max(h, min_hours) (float32)."""
    return np.maximum(np.asarray(hours, dtype=np.float32), np.float32(min_hours))
