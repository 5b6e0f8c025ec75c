"""Labour demand: a vacancy index by week, sector and region, with a collapse and recovery."""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import Scenario


def shock_path(weeks: int, shock_week: int, recovery_weeks: int) -> np.ndarray:
    """Share of the shock still in force each week: 0 before the shock, 1 at it, 0 after recovery.

    Recovery is linear over ``recovery_weeks``.
    """
    t = np.arange(weeks, dtype=np.float64)
    since = t - shock_week
    remaining = np.clip(1.0 - since / recovery_weeks, 0.0, 1.0)
    return np.where(since >= 0, remaining, 0.0)


def vacancy_index(scenario: Scenario, regional: np.ndarray) -> np.ndarray:
    """Vacancies [week, sector, region] relative to an average sector in normal times.

    ``regional`` [sector, region] are the world's regional multipliers (drawn once per world).
    """
    depth = np.array([s.shock_depth for s in scenario.sectors])
    level = np.array([s.demand_index for s in scenario.sectors])
    path = shock_path(scenario.weeks, scenario.labour.shock_week, scenario.labour.recovery_weeks)
    weekly = 1.0 - path[:, None] * depth[None, :]  # [week, sector]
    return weekly[:, :, None] * (level[:, None] * regional)[None, :, :]
