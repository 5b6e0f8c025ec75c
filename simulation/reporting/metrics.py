"""The summary of a finished run: one flat dict of registered metrics per scheme.

Every metric is defined in :mod:`simulation.reporting.registry`. Counts and money are scaled to the
real population the sample represents (``world.scale``); shares are in [0, 1]; effects are in
percentage points (pp). A metric that is undefined for a run is ``None``; :func:`undefined` says
why, from the registry.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from simulation.reporting.estimands import Strata, effects
from simulation.reporting.registry import METRICS, check_scheme_metrics, metric, shared_metrics
from simulation.rules.statistics import mean, ratio, share

if TYPE_CHECKING:
    from simulation.model.market import MarketModel
    from simulation.schemes.base import Evaluation

MetricValue = float | int | None


def summarise(model: MarketModel) -> dict[str, MetricValue]:
    """Every registered metric of a finished run for its scheme, in the registry's order: the
    shared ones computed here, the scheme's own from ``model.scheme.metrics()`` (checked against
    the registry; an optional metric only if the scheme returned it)."""
    scheme = model.scheme_name
    own = model.scheme.metrics()
    check_scheme_metrics(scheme, own)
    shared = shared_values(model)
    values = {**{m.name: shared[m.name] for m in shared_metrics(scheme)}, **own}
    return {m.name: values[m.name] for m in METRICS if scheme in m.schemes and m.name in values}


def undefined(metrics: dict[str, MetricValue]) -> dict[str, str]:
    """Why each null metric of a summary is null (the registry's reason)."""
    return {
        name: metric(name).undefined or "undefined"
        for name, value in metrics.items()
        if value is None or (isinstance(value, float) and math.isnan(value))
    }


def shared_values(model: MarketModel) -> dict[str, MetricValue]:
    """The metrics reporting computes the same way for every scheme, from the scheme's evaluation
    groups (asked for once)."""
    state, people, ledger, scale = model.state, model.people, model.ledger, model.scale
    groups = model.scheme.evaluation()
    trained = groups.trained
    n_trained = int(np.count_nonzero(trained))
    total_cost = ledger.treasury_out * scale
    jobs = additional_jobs(model)
    return {
        "participants_offered": int(np.count_nonzero(groups.offered)) * scale,
        "participants_trained": n_trained * scale,
        "completion_rate": share(state.courses_completed > 0, trained),
        "courses_per_participant": ratio(int(state.courses_bought.sum(dtype=np.int64)), n_trained),
        "rural_share_trained": share(~people.urban, trained),
        "female_share_trained": share(people.female, trained),
        **effect_values(model, groups),
        "additional_jobs": jobs,
        "additional_businesses": additional_businesses(model),
        "total_cost_idr": total_cost,
        "cash_paid_idr": ledger.cash_paid * scale,
        "budget_absorption": budget_absorption(model),
        "cost_per_trainee_idr": total_cost / (n_trained * scale) if n_trained else None,
        "cost_per_additional_job_idr": total_cost / jobs if jobs > 0 else None,
        "cost_net_of_cash_idr": total_cost - ledger.cash_paid * scale,
        "cost_per_additional_job_net_of_cash_idr": (total_cost - ledger.cash_paid * scale) / jobs
        if jobs > 0
        else None,
        "platform_revenue_idr": ledger.platform_commission * scale,
        "provider_profit_idr": float(sum(p.profit_idr for p in model.providers)),
        "providers_entered": model.providers_entered,
    }


def additional_jobs(model: MarketModel) -> float:
    """Endline jobs above the untreated twins over everyone in the world, in real jobs. Counted in
    whole person-weeks, so that "no effect" is exactly zero."""
    labour = model.labour
    extra_person_weeks = int(labour.endline_weeks_employed.sum(dtype=np.int64)) - int(
        labour.twin_endline_weeks_employed.sum(dtype=np.int64)
    )
    return extra_person_weeks / model.params.labour.endline_weeks * model.scale


def additional_businesses(model: MarketModel) -> float:
    """Endline businesses above the untreated twins over everyone in the world, in real businesses
    (whole person-weeks, as :func:`additional_jobs`)."""
    labour = model.labour
    extra_person_weeks = int(labour.endline_weeks_business.sum(dtype=np.int64)) - int(
        labour.twin_endline_weeks_business.sum(dtype=np.int64)
    )
    return extra_person_weeks / model.params.labour.endline_weeks * model.scale


def budget_absorption(model: MarketModel) -> float | None:
    """Share of the scheme's budget spent: treasury out (real IDR) / the ``budget_idr`` of the
    scheme's scenario block; None if the scheme has no budget."""
    block = getattr(model.params, model.scheme_name, None)
    budget = getattr(block, "budget_idr", None)
    if not budget:
        return None
    return model.ledger.treasury_out * model.scale / float(budget)


def effect_values(model: MarketModel, groups: Evaluation) -> dict[str, MetricValue]:
    """The estimands (:mod:`simulation.reporting.estimands`) of the evaluation ``groups``, in
    percentage points: for employment (wage or business), and the same for self-employment and
    for wage employment alone."""
    labour = model.labour
    evaluated = (groups.offered, groups.comparison, groups.stratum, groups.trained)
    strata = Strata.of(groups.offered, groups.comparison, groups.stratum) if groups.offered.any() else None
    compared = bool(groups.comparison.any())
    # Two per-person outcomes at a time (at national scale each is 55 MB of float64), the twin's
    # becoming the gain: the business shares, then employment, then wage employment (employment
    # less business, in place).
    share = labour.endline_share
    business = share(labour.endline_weeks_business)
    own = effects(business, share(labour.twin_endline_weeks_business), *evaluated, strata, reuse_twin=True)
    business_comparison = mean(business[groups.comparison]) if compared else None
    del business
    endline = share(labour.endline_weeks_employed)
    found = effects(endline, share(labour.twin_endline_weeks_employed), *evaluated, strata, reuse_twin=True)
    employment_comparison = mean(endline[groups.comparison]) if compared else None
    endline -= share(labour.endline_weeks_business)
    twin = share(labour.twin_endline_weeks_employed)
    twin -= share(labour.twin_endline_weeks_business)
    wage = effects(endline, twin, *evaluated, strata, reuse_twin=True)
    return {
        "itt_self_employment_pp": _pp(own.itt.estimate),
        "itt_wage_employment_pp": _pp(wage.itt.estimate),
        "true_effect_offered_self_employment_pp": _pp(own.true_offered),
        "self_employment_rate_endline_comparison": business_comparison,
        "itt_employment_pp": _pp(found.itt.estimate),
        "itt_standard_error_pp": _pp(found.itt.standard_error),
        "itt_offered_covered_share": found.itt.covered,
        "first_stage_take_up": found.first_stage.estimate,
        "tot_employment_pp": _pp(found.tot),
        "true_effect_offered_pp": _pp(found.true_offered),
        "true_effect_trained_pp": _pp(found.true_trained),
        "true_effect_itt_target_pp": _pp(found.true_itt_target),
        "employment_rate_endline_comparison": employment_comparison,
    }


def _pp(value: float | None) -> float | None:
    return None if value is None else 100.0 * value
