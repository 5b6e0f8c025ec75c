"""The summary of a finished run: one flat dict of named metrics per scheme.

Counts and money are scaled to the real population the sample represents (``world.scale``);
rates are shares in [0, 1]; effects are in percentage points (pp). A metric that is undefined for
a run (e.g. cost per additional job when the effect is not positive) is ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.participants import REVOKED

if TYPE_CHECKING:
    from simulation.model import MarketModel

MIN_RATINGS_FOR_CORRELATION = 5


def summarise(model: MarketModel) -> dict[str, float | int | None]:
    """Every summary metric of a finished voucher run (see the README for definitions)."""
    state, people, courses, ledger = model.state, model.people, model.courses, model.ledger
    scale = model.scale
    tally = model.scheme.purchases
    selected = state.selected_week >= 0
    control = ~selected
    trained = state.courses_bought > 0
    completed = state.courses_completed > 0
    n_selected = int(selected.sum())
    endline, twin_endline = model.labour.endline_rate()
    effect_pp = 100.0 * _mean(endline[selected] - twin_endline[selected])
    itt_pp = 100.0 * (_mean(endline[selected]) - _mean(endline[control]))
    total_cost = ledger.treasury_out * scale
    extra_jobs = effect_pp / 100.0 * n_selected * scale
    revenue = np.bincount(courses.provider, courses.net_revenue_idr, minlength=len(model.providers))
    waited = state.first_purchase_week[trained] - state.selected_week[trained]
    return {
        "participants_selected": n_selected * scale,
        "participants_trained": int(trained.sum()) * scale,
        "bought_share": _share(trained, selected),
        "revoked_share": _share(state.status == REVOKED, selected),
        "completion_rate": _share(completed, trained),
        "incentive_received_share": _share(state.incentive_received_idr > 0, selected),
        "courses_per_participant": tally.count / max(int(trained.sum()), 1),
        "mean_price_paid_idr": tally.price_sum_idr / tally.count if tally.count else None,
        "median_listed_price_idr": _median(courses.price_idr[courses.active]),
        "share_purchases_at_cap": tally.at_cap / tally.count if tally.count else None,
        "share_purchases_with_topup": tally.with_topup / tally.count if tally.count else None,
        "mean_true_quality_enrolled": tally.quality_sum / tally.count if tally.count else None,
        "mean_true_quality_available": _mean(model.world.courses.true_quality),
        "rating_quality_correlation": rating_quality_correlation(model),
        "employment_effect_pp": effect_pp,
        "itt_employment_pp": itt_pp,
        "itt_standard_error_pp": 100.0 * _difference_se(endline[selected], endline[control]),
        "employment_rate_endline_control": _mean(endline[control]),
        "total_cost_idr": total_cost,
        "cost_per_participant_idr": total_cost / (n_selected * scale) if n_selected else None,
        "cost_per_additional_job_idr": total_cost / extra_jobs if extra_jobs > 0 else None,
        "credit_forfeited_idr": ledger.credit_forfeited * scale,
        "provider_hhi": herfindahl(revenue),
        "active_providers_end": sum(p.active for p in model.providers),
        "providers_entered": model.providers_entered,
        "provider_profit_idr": float(sum(p.profit_idr for p in model.providers)),
        "platform_revenue_idr": ledger.platform_commission * scale,
        "mismatch_rate": tally.mismatched / tally.count if tally.count else None,
        "median_weeks_to_first_training": float(np.median(waited)) if waited.size else None,
        "rural_share_trained": _share(~people.urban, trained),
        "female_share_trained": _share(people.female, trained),
    }


def rating_quality_correlation(model: MarketModel) -> float | None:
    """Pearson correlation across courses of mean stars and true quality (courses with at least
    MIN_RATINGS_FOR_CORRELATION ratings; None if fewer than three such courses)."""
    c = model.courses
    rated = c.rating_count >= MIN_RATINGS_FOR_CORRELATION
    if rated.sum() < 3:
        return None
    mean_stars = c.rating_sum[rated] / c.rating_count[rated]
    if np.std(mean_stars) == 0 or np.std(c.true_quality[rated]) == 0:
        return None
    return float(np.corrcoef(mean_stars, c.true_quality[rated])[0, 1])


def herfindahl(revenue: np.ndarray) -> float | None:
    """Herfindahl-Hirschman index of revenue shares, 0-10,000 (None if no revenue)."""
    total = revenue.sum()
    if total <= 0:
        return None
    return float(10_000.0 * ((revenue / total) ** 2).sum())


def _share(mask: np.ndarray, within: np.ndarray) -> float | None:
    n = int(within.sum())
    return float((mask & within).sum() / n) if n else None


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values, dtype=np.float64)) if values.size else float("nan")


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


def _difference_se(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 2 or b.size < 2:
        return float("nan")
    return float(np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))
