"""The labour market: a weekly two-state employment chain for every participant and its twin.

The weekly job-finding hazard of an unemployed person is a logit

    logit f = job_finding_logit + region shift + senior_high_effect * [senior high]
              + age_18_35_effect * [aged 18-35] + demand_elasticity * log(vacancies in own sector)
              + skill_effect * matched skill

and falls by the share ``lock_in`` while the person is in a course. The weekly job-loss hazard is
``job_loss_weekly * exp(-skill_protects_job * matched skill)``. Each participant carries an
untreated twin (no skill, no course) that faces the **same** uniform draw each week, so the
person-level difference is the true effect of the scheme. Each person's draw is keyed by the
person, the week and the purpose ``labour`` (a counter-based generator,
:mod:`simulation.rules.keyed_draws`), hence it is identical across schemes and independent of
anything else in the run, including who else is simulated.

Without skill the hazard depends only on a person's group (sector, region, education, age), so it
is tabulated per group each week; skill enters through cached per-person odds factors that change
only when a course is completed (:meth:`LabourMarket.set_skill`).
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import Labour
from simulation.model.world import World
from simulation.rules.kernels import employment_week
from simulation.rules.keyed_draws import person_uniforms32, purpose_key


class LabourMarket:
    """Employment of everyone in a world: the treated path and the untreated twin."""

    def __init__(self, world: World):
        params: Labour = world.scenario.labour
        people = world.participants
        self.params = params
        self.seed = world.seed
        self.key = purpose_key(world.seed, "labour")
        self.rows = np.arange(len(people), dtype=np.int64)
        self.weeks = world.scenario.weeks
        n = len(people)
        regions = len(world.scenario.regions)
        cell = people.sector.astype(np.int32) * regions + people.region
        self.group = (cell * 4 + people.senior_high * 2 + people.age_18_35).astype(np.int16)
        self.group_logit = self._group_logits(world)  # [week, group]
        self.find_odds_factor = np.ones(n, dtype=np.float32)  # exp(-skill_effect * skill)
        self.loss = np.full(n, params.job_loss_weekly, dtype=np.float32)
        self.employed = people.employed_at_entry.copy()
        self.twin_employed = people.employed_at_entry.copy()
        self.endline_weeks_employed = np.zeros(n, dtype=np.int16)
        self.twin_endline_weeks_employed = np.zeros(n, dtype=np.int16)

    def _group_logits(self, world: World) -> np.ndarray:
        """Job-finding log-odds without skill [week, group], group = (cell, senior high, age)."""
        p = self.params
        scenario = world.scenario
        shift = np.array([r.job_finding_shift for r in scenario.regions])
        sectors, regions = len(scenario.sectors), len(scenario.regions)
        log_v = np.log(world.vacancies)  # [week, sector, region]
        cell = p.demand_elasticity * log_v + shift[None, None, :] + p.job_finding_logit
        person = np.array(
            [0.0, p.age_18_35_effect, p.senior_high_effect, p.senior_high_effect + p.age_18_35_effect]
        )
        table = cell.reshape(cell.shape[0], sectors * regions, 1) + person[None, None, :]
        return table.reshape(cell.shape[0], -1)

    def set_skill(self, rows: np.ndarray, matched_skill: np.ndarray) -> None:
        """Record the new matched skill of ``rows`` (called when they complete a course)."""
        p = self.params
        self.find_odds_factor[rows] = np.exp(-p.skill_effect * matched_skill)
        self.loss[rows] = p.job_loss_weekly * np.exp(-p.skill_protects_job * matched_skill)

    def step(self, week: int, in_course: np.ndarray) -> None:
        """Move everyone one week; ``in_course`` marks the treated paths locked into a course."""
        p = self.params
        u = self.draws(week)
        inverse_odds = np.exp(-self.group_logit[week]).astype(np.float32)  # per group, no skill
        employment_week(
            u,
            self.group,
            inverse_odds,
            self.find_odds_factor,
            self.loss,
            in_course,
            np.float32(1.0 - p.lock_in),
            np.float32(p.job_loss_weekly),
            self.employed,
            self.twin_employed,
        )
        if week >= self.weeks - p.endline_weeks:
            self.endline_weeks_employed += self.employed
            self.twin_endline_weeks_employed += self.twin_employed

    def draws(self, week: int) -> np.ndarray:
        """Everyone's uniform draw of ``week`` (float32, in (0, 1)), keyed by person and week."""
        return person_uniforms32(self.rows, week, 0, self.key)

    def endline_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of endline weeks employed, per person: (treated path, twin)."""
        weeks = float(self.params.endline_weeks)
        return self.endline_weeks_employed / weeks, self.twin_endline_weeks_employed / weeks
