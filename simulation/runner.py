"""The public entry point: run every scheme of a scenario on one world and collect the results.

>>> from simulation import load_scenario, run_scenario
>>> result = run_scenario(load_scenario("scenarios/tiny.yaml"))
>>> result.summary["schemes"]["voucher"]["completion_rate"]  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.courses import MODE_NAMES
from simulation.metrics import summarise
from simulation.model import MarketModel
from simulation.scenario import Scenario
from simulation.world import World, build_world


@dataclass
class RunResult:
    """Everything a run produces: the summary, the weekly series and the course table."""

    scenario: Scenario
    seed: int
    summary: dict
    timeseries: pd.DataFrame
    courses: pd.DataFrame
    models: dict[str, MarketModel] = field(repr=False)

    @property
    def schemes(self) -> list[str]:
        return list(self.models)


def run_scenario(
    scenario: Scenario,
    schemes: list[str] | None = None,
    seed: int | None = None,
    progress: bool = False,
) -> RunResult:
    """Build the world once and run each scheme on it with common random numbers.

    ``schemes`` defaults to the scenario's; ``seed`` to ``scenario.seed``.
    """
    seed = scenario.seed if seed is None else seed
    schemes = schemes or scenario.scheme_names
    world = build_world(scenario, seed)
    models = {name: run_scheme(world, name, progress) for name in schemes}
    summary = {
        "scenario": scenario.name,
        "seed": seed,
        "simulated_participants": len(world.participants),
        "scale": world.scale,
        "schemes": {name: summarise(model) for name, model in models.items()},
    }
    timeseries = pd.DataFrame([row for m in models.values() for row in m.records])
    courses = pd.concat([course_table(m) for m in models.values()], ignore_index=True)
    return RunResult(scenario, seed, summary, timeseries, courses, models)


def run_scheme(world: World, scheme: str, progress: bool = False) -> MarketModel:
    """Run one scheme on a world and return the finished model."""
    return MarketModel(world, scheme).run(progress=progress, label=scheme)


def course_table(model: MarketModel) -> pd.DataFrame:
    """One row per course: what it is, its final price, sales and ratings."""
    c = model.courses
    sector_names = [s.name for s in model.params.sectors]
    with np.errstate(invalid="ignore", divide="ignore"):
        rating_mean = np.where(c.rating_count > 0, c.rating_sum / c.rating_count, np.nan)
    return pd.DataFrame(
        {
            "scheme": model.scheme_name,
            "course_id": np.arange(len(c)),
            "provider_id": c.provider,
            "sector": np.array(sector_names)[c.sector],
            "mode": np.array(MODE_NAMES)[c.mode],
            "hours": c.hours.round(1),
            "price_idr": c.price_idr,
            "marginal_cost_idr": c.marginal_cost_idr,
            "true_quality": c.true_quality.round(4),
            "active": c.active,
            "listed_platforms": c.listed.sum(axis=1),
            "enrolments": c.enrolments,
            "enrolments_represented": (c.enrolments * model.scale).round(0),
            "completions": c.completions,
            "rating_mean": np.round(rating_mean, 3),
            "rating_count": c.rating_count,
            "net_revenue_idr": (c.net_revenue_idr * model.scale).round(0),
        }
    )
