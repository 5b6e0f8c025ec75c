"""The labour market: a weekly employment chain for every participant and its twin.

A person is not working, working for a wage, or running a business (self-employed); ``employed``
is "working for a wage or running a business", the outcome of the RCT ("employed or running a
business", CALIBRATION.md). The weekly wage-job-finding hazard of someone not working is a logit

    logit f = job_finding_logit + region shift + senior_high_effect * [senior high]
              + age_18_35_effect * [aged 18-35] + demand_elasticity * log(vacancies in own sector)
              + skill_effect * matched skill + cash_search_effect * liquidity

and the weekly hazard of starting a business is b = o / (1 + o) with the odds

    o = business_start_weekly / (1 - business_start_weekly)
        * exp(business_skill_effect * matched skill + cash_business_effect * liquidity);

both fall by the share ``lock_in`` while the person is in a course. A wage job is lost with the
weekly hazard ``job_loss_weekly * exp(-skill_protects_job * matched skill)``, a business closes
with ``business_exit_weekly``. One uniform draw u per person and week drives every transition:
someone not working starts a business if u >= 1 - b, else finds a wage job if u < f (so a
business start never depends on the wage hazard, and raising f never moves a person out of a
business start; should f + b exceed 1, which weekly hazards never come near, the overlap starts a
business and the wage hazard is in effect 1 - b); a wage job ends if u < loss, a business if
u < exit.

**The cash channel.** Liquidity is the programme cash a person has received (the voucher's
incentive tranches and survey payments, the tender's allowance; :meth:`LabourMarket.add_cash`),
in millions of IDR, held as a stock that halves every ``cash_half_life_weeks`` (the cash is spent:
81-95% of the incentive went mainly to food and daily needs, CALIBRATION.md). While held, it
eases the capital constraint of starting a small business (``cash_business_effect``) and may pay
for job search (``cash_search_effect``). The twin receives no programme cash.

**Displacement** (``labour.displacement``, off by default). Trained job seekers compete with
others for the vacancies of their cell (sector x region): each week, H0 = the sum of the twins'
wage hazards over the twins not working in the cell, H1 = the same over the treated paths; when
H1 > H0 every treated-path wage hazard in the cell is multiplied by (H0 / H1) ** crowding, so
with crowding 1 the cell's expected wage hires stay at the no-programme level. Business starts
are not rationed. Only programme applicants (recipients and controls) are simulated, so the
crowding falls on them, not on the rest of the labour market; the sums are over simulated people,
so the ratio does not depend on the sample's size.

Each participant carries an untreated twin (no skill, no course, no cash, no displacement) that
faces the **same** uniform draw each week, so the person-level difference is the true effect of
the scheme. Each person's draw is keyed by the person, the week and the purpose ``labour`` (a
counter-based generator, :mod:`simulation.rules.keyed_draws`), hence it is identical across
schemes and independent of anything else in the run, including who else is simulated.

Without skill the wage hazard depends only on a person's group (sector, region, education, age),
so it is tabulated per group each week; skill enters through cached per-person odds factors that
change only when a course is completed (:meth:`LabourMarket.set_skill`).
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import Labour
from simulation.model.world import World
from simulation.rules.kernels import add_at, employment_block, hire_scales
from simulation.rules.keyed_draws import purpose_key
from simulation.rules.parallel import over_blocks


class LabourMarket:
    """Employment of everyone in a world: the treated path and the untreated twin."""

    def __init__(self, world: World):
        params: Labour = world.scenario.labour
        people = world.participants
        self.params = params
        self.seed = world.seed
        self.key = purpose_key(world.seed, "labour")
        self.n = len(people)
        self.weeks = world.scenario.weeks
        n = len(people)
        regions = len(world.scenario.regions)
        self.group = world.labour_group  # shared by the world's schemes, read-only
        self.group_logit = self._group_logits(world)  # [week, group]
        self.find_odds_factor = np.ones(n, dtype=np.float32)  # exp(-skill_effect * skill)
        self.loss = np.full(n, params.job_loss_weekly, dtype=np.float32)
        self.cell = world.labour_cell
        self.cells = len(world.scenario.sectors) * regions
        self.business_odds_factor = np.ones(n, dtype=np.float32)  # exp(business_skill_effect * skill)
        self.employed = people.employed_at_entry.copy()  # working for a wage or running a business
        self.twin_employed = people.employed_at_entry.copy()
        self.business = people.business_at_entry.copy()  # running a business (self-employed)
        self.twin_business = people.business_at_entry.copy()
        self.liquidity = np.zeros(n, dtype=np.float32)  # programme cash held, millions of IDR
        self.cash_received_idr = np.zeros(n, dtype=np.float64)  # programme cash received in all
        self.cash_keep = np.float32(cash_kept_weekly(params.cash_half_life_weeks))
        self.endline_weeks_employed = np.zeros(n, dtype=np.int16)
        self.twin_endline_weeks_employed = np.zeros(n, dtype=np.int16)
        self.endline_weeks_business = np.zeros(n, dtype=np.int16)
        self.twin_endline_weeks_business = np.zeros(n, dtype=np.int16)

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
        self.business_odds_factor[rows] = np.exp(p.business_skill_effect * matched_skill)

    def add_cash(self, rows: np.ndarray, amount_idr: float, liquid: bool = True) -> None:
        """Programme cash of ``amount_idr`` (IDR per real person) paid to each of ``rows`` this week
        (a row listed twice is paid twice): added to the cash they have received and, if
        ``liquid``, to their liquidity (millions of IDR). Cash paid to a brokered account is not
        its holder's job-search liquidity (``simulation.schemes.brokers``): ``liquid=False``."""
        add_at(self.cash_received_idr, rows, np.float64(amount_idr))
        if liquid:
            add_at(self.liquidity, rows, np.float32(amount_idr / 1e6))

    def step(self, week: int, in_course: np.ndarray) -> None:
        """Move everyone one week; ``in_course`` marks the treated paths locked into a course.
        Liquidity then decays by one week's spending, and in the endline window each path's weeks
        employed and in business are counted. One compiled pass, block by block on the cores
        (``simulation.rules.parallel``); each person's uniform is their keyed draw (``keyed_draws.uniform32``
        of the person, the week and slot 0)."""
        p = self.params
        inverse_odds = np.exp(-self.group_logit[week]).astype(np.float32)  # per group, no skill
        crowding = p.displacement.crowding if p.displacement.enabled else 0.0
        rates = np.array(
            [
                start_odds(p.business_start_weekly),
                p.business_exit_weekly,
                p.cash_search_effect,
                p.cash_business_effect,
                crowding,
            ],
            dtype=np.float32,
        )
        lock_in_keep = np.float32(1.0 - p.lock_in)
        scale_hire = hire_scales(
            self.group, inverse_odds, self.find_odds_factor, in_course, lock_in_keep, self.employed,
            self.twin_employed, self.liquidity, rates, self.cell, self.cells,
        )  # fmt: skip
        over_blocks(
            employment_block, self.n, week, self.key, np.zeros(0, dtype=np.float32),
            self.group, inverse_odds, self.find_odds_factor, self.loss, in_course, lock_in_keep,
            np.float32(p.job_loss_weekly), self.employed, self.twin_employed, self.business,
            self.twin_business, self.liquidity, self.business_odds_factor, rates, self.cell,
            scale_hire, self.cash_keep, week >= self.weeks - p.endline_weeks,
            self.endline_weeks_employed, self.twin_endline_weeks_employed,
            self.endline_weeks_business, self.twin_endline_weeks_business,
        )  # fmt: skip

    def endline_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of endline weeks employed, per person: (treated path, twin)."""
        return self.endline_share(self.endline_weeks_employed), self.endline_share(
            self.twin_endline_weeks_employed
        )

    def business_rate(self) -> tuple[np.ndarray, np.ndarray]:
        """Share of endline weeks running a business, per person: (treated path, twin)."""
        return self.endline_share(self.endline_weeks_business), self.endline_share(
            self.twin_endline_weeks_business
        )

    def endline_share(self, weeks_counted: np.ndarray) -> np.ndarray:
        """``weeks_counted`` (one of the endline counters, weeks per person) as a share of the
        endline weeks, float64 per person."""
        return weeks_counted / float(self.params.endline_weeks)


def start_odds(weekly: float) -> float:
    """Odds of a weekly probability, p / (1 - p): the business-start odds without skill or cash."""
    return weekly / (1.0 - weekly)


def cash_kept_weekly(half_life_weeks: float) -> float:
    """Share of the liquidity held that is still held a week later, 0.5 ** (1 / half life):
    a stock that halves every ``half_life_weeks`` weeks."""
    return 0.5 ** (1.0 / half_life_weeks)
