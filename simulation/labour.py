"""The labour market: a weekly two-state employment chain for every participant and its twin.

The weekly job-finding hazard of an unemployed person is a logit in region, education, age, local
vacancies in their sector of interest and matched skill; it falls by ``lock_in`` while they are in a
course. The weekly job-loss hazard falls with skill. Each participant carries an untreated twin (no
skill, no course) that faces the **same** uniform draw each week, so the person-level difference is
the true effect of the scheme. The draws come from the stream ``labour`` keyed by week, hence they
are identical across schemes and independent of anything else in the run.
"""

from __future__ import annotations

import numpy as np

from simulation.rng import stream
from simulation.scenario import Labour
from simulation.world import World


class LabourMarket:
    """Employment of everyone in a world: the treated path and the untreated twin."""

    def __init__(self, world: World):
        params: Labour = world.scenario.labour
        people = world.participants
        self.params = params
        self.seed = world.seed
        self.weeks = world.scenario.weeks
        shift = np.array([r.job_finding_shift for r in world.scenario.regions], dtype=np.float32)
        self.base_logit = (
            params.job_finding_logit
            + shift[people.region]
            + params.senior_high_effect * people.senior_high
            + params.age_18_35_effect * people.age_18_35
        ).astype(np.float32)
        regions = len(world.scenario.regions)
        self.cell = (people.sector.astype(np.int32) * regions + people.region).astype(np.int16)
        log_v = np.log(world.vacancies).reshape(world.vacancies.shape[0], -1)
        self.demand_logit = (params.demand_elasticity * log_v).astype(np.float32)  # [week, cell]
        self.employed = people.employed_at_entry.copy()
        self.twin_employed = people.employed_at_entry.copy()
        self.endline_weeks_employed = np.zeros(len(people), dtype=np.int16)
        self.twin_endline_weeks_employed = np.zeros(len(people), dtype=np.int16)

    def step(self, week: int, matched_skill: np.ndarray, in_course: np.ndarray) -> None:
        """Move everyone one week; ``matched_skill`` and ``in_course`` describe the treated path."""
        p = self.params
        u = stream(self.seed, "labour", week).random(self.employed.shape[0], dtype=np.float32)
        logit = self.base_logit + self.demand_logit[week][self.cell]
        find_twin = _sigmoid(logit)
        find = _sigmoid(logit + p.skill_effect * matched_skill)
        find *= np.where(in_course, np.float32(1.0 - p.lock_in), np.float32(1.0))
        loss_twin = np.float32(p.job_loss_weekly)
        loss = loss_twin * np.exp(-p.skill_protects_job * matched_skill)
        self.employed = np.where(self.employed, u >= loss, u < find)
        self.twin_employed = np.where(self.twin_employed, u >= loss_twin, u < find_twin)
        if week >= self.weeks - p.endline_weeks:
            self.endline_weeks_employed += self.employed
            self.twin_endline_weeks_employed += self.twin_employed

    def endline_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of endline weeks employed, per person: (treated path, twin)."""
        weeks = float(self.params.endline_weeks)
        return self.endline_weeks_employed / weeks, self.twin_endline_weeks_employed / weeks


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-x))).astype(np.float32)
