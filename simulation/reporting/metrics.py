"""The summary of a finished run: one flat dict of named metrics per scheme.

Counts and money are scaled to the real population the sample represents (``world.scale``);
rates are shares in [0, 1]; effects are in percentage points (pp). A metric that is undefined for
a run (e.g. cost per additional job when the effect is not positive) is ``None``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.rules.statistics import difference_se, herfindahl, mean, ratio, share

if TYPE_CHECKING:
    from simulation.model.market import MarketModel


def summarise(model: MarketModel) -> dict[str, float | int | None]:
    """Every summary metric of a finished run: the shared ones below, then the scheme's own
    (``model.scheme.metrics()``, which may refine a shared one). See the README for definitions.

    Who counts as *selected* and which group is the evaluator's comparison are the scheme's:
    ``model.scheme.evaluation_groups()`` returns (assigned, comparison) row masks.
    """
    state, people, ledger = model.state, model.people, model.ledger
    scale = model.scale
    groups = model.scheme.evaluation()
    selected, comparison = groups.offered, groups.comparison
    trained = state.courses_bought > 0
    n_selected = int(np.count_nonzero(selected))
    endline, twin_endline = model.labour.endline_rate()
    total_cost = ledger.treasury_out * scale
    labour = model.labour  # whole person-weeks, so that "no effect" is exactly zero
    extra_person_weeks = int(labour.endline_weeks_employed.sum(dtype=np.int64)) - int(
        labour.twin_endline_weeks_employed.sum(dtype=np.int64)
    )
    extra_jobs = extra_person_weeks / model.params.labour.endline_weeks * scale
    revenue = np.bincount(
        model.courses.provider, model.courses.net_revenue_idr, minlength=len(model.providers)
    )
    shared = {
        "participants_selected": n_selected * scale,
        "participants_trained": int(np.count_nonzero(trained)) * scale,
        "completion_rate": share(state.courses_completed > 0, trained),
        "courses_per_participant": ratio(int(state.courses_bought.sum(dtype=np.int64)), trained.sum()),
        "mean_true_quality_available": mean(model.world.courses.true_quality),
        "employment_effect_pp": 100.0 * mean(endline[selected] - twin_endline[selected]),
        "itt_employment_pp": 100.0 * (mean(endline[selected]) - mean(endline[comparison])),
        "itt_standard_error_pp": 100.0 * difference_se(endline[selected], endline[comparison]),
        "employment_rate_endline_control": mean(endline[comparison]),
        "additional_jobs": extra_jobs,
        "total_cost_idr": total_cost,
        "cost_per_participant_idr": total_cost / (n_selected * scale) if n_selected else None,
        "cost_per_additional_job_idr": total_cost / extra_jobs if extra_jobs > 0 else None,
        "provider_hhi": herfindahl(revenue),
        "active_providers_end": sum(p.active for p in model.providers),
        "providers_entered": model.providers_entered,
        "provider_profit_idr": float(sum(p.profit_idr for p in model.providers)),
        "platform_revenue_idr": ledger.platform_commission * scale,
        "rural_share_trained": share(~people.urban, trained),
        "female_share_trained": share(people.female, trained),
    }
    return shared | model.scheme.metrics()
