"""Outcome-based pay (issue 10, point 11): a share of the seller's receipts paid only on placement.

Under ``voucher.outcome_pay`` a share ``share`` of what a seller receives for a course (its price
net of the platform's commission) is withheld at purchase and paid only if the trainee completes
and is employed (a wage job or a business) ``placement_weeks`` after completing; otherwise it
returns to the treasury (Chile Joven paid +10% when at least half of the completers were placed,
CALIBRATION.md).

The seller's incentive. Per trainee, a unit of quality delivered raises the placement pay it
expects by

    share x net price x dP/dq,

the slope of P(employed W weeks after completing) in the quality taught. First-order
approximation from the labour model (``rules.training.skill_gain``, ``model.labour``): a unit of
quality teaches ``gain_per_quality`` units of skill (ability 1, a first course, intensity 1, own
sector), which moves the weekly job-finding log-odds by ``skill_effect``; for someone not working
with baseline weekly hazard h (``labour.job_finding_logit``; region, education and demand terms,
job loss and businesses ignored), P = 1 - (1 - h)**W, so

    dP/dq = W (1 - h)**(W - 1) x h (1 - h) x skill_effect x gain_per_quality.

This enters a seller's shading rule like a mission (``rules.quality``: IDR per trainee per unit of
quality), and a fake completion (no skill) forgoes it: the pair's gain falls by the same amount
times the course's quality (``rules.integrity``). All money in IDR per trainee.
"""

from __future__ import annotations

import numpy as np


def placement_slope(
    job_finding_logit: float, weeks: int, skill_effect: float, gain_per_quality: float
) -> float:
    """dP(employed ``weeks`` after completing)/d(quality), per unit of quality (module docstring)."""
    h = 1.0 / (1.0 + np.exp(-job_finding_logit))
    return float(weeks * (1.0 - h) ** (weeks - 1) * h * (1.0 - h) * skill_effect * gain_per_quality)


def quality_value_idr(share: float, net_price_idr: np.ndarray | float, slope: float) -> np.ndarray:
    """Placement pay a seller expects per trainee per unit of quality delivered, IDR:
    share x net price x dP/dq."""
    return share * np.asarray(net_price_idr, dtype=np.float64) * slope
