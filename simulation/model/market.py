"""One Mesa model runs one scheme on one world, week by week.

Each week the scheme acts (its selection, courses ending, payments, and, for the voucher, the
platform market), the labour market moves everyone (treated path and untreated twin), and the
week is recorded. The model holds what every scheme shares: the participants' programme state,
the course table, the providers (Mesa agents), the labour market and the books, and the one path
by which any scheme enrols people in courses and completes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
from tqdm.auto import tqdm

from simulation.config.streams import stream
from simulation.market.agents import Provider
from simulation.market.courses import Courses
from simulation.market.ledger import Ledger
from simulation.market.participants import ENROLLED, Participant, ProgrammeState
from simulation.market.providers import ProviderSpecs
from simulation.model.labour import LabourMarket
from simulation.model.world import World, draw_centre_entrants, draw_providers
from simulation.rules import census
from simulation.rules.keyed_draws import Draws
from simulation.rules.training import match_weight, skill_gain
from simulation.schemes import get_scheme
from simulation.schemes.base import Scheme

if TYPE_CHECKING:
    from simulation.config.scenario import Centre


class MarketModel(mesa.Model):
    """A scheme (``"voucher"``) run on a world. ``run()`` simulates every week of the scenario."""

    def __init__(self, world: World, scheme: str = "voucher"):
        super().__init__(rng=stream(world.seed, f"{scheme}:agents"))
        self.world = world
        self.params = world.scenario
        self.scheme_name = scheme
        self.week = 0
        self.scale = world.scale
        self.people = world.participants
        self.state = ProgrammeState.empty(len(world.participants))
        self.courses: Courses = world.courses.copy()
        self.labour = LabourMarket(world)
        self.ledger = Ledger()
        # Rows enrolled on paper who take no course themselves (a brokered account's holder,
        # simulation.schemes.brokers): not locked into the course in the labour market.
        self.absent = np.zeros(len(world.participants), dtype=bool)
        self._locked: np.ndarray | None = None  # a week's scratch: in a course and not absent
        self.providers: list[Provider] = []
        self.provider_affiliation = np.zeros(0, dtype=np.int64)
        self.provider_mission_idr = np.zeros(0)  # each provider's mission weight, IDR per unit of skill
        self.providers_entered = 0
        self.records: list[dict] = []
        self._add_providers(world.providers, np.arange(len(self.courses)))
        self.scheme: Scheme = get_scheme(scheme)(self)

    # ------------------------------------------------------------------ the weekly process
    def step(self) -> None:
        week = self.week
        self.scheme.step(week)
        if self._locked is None:
            self._locked = np.empty(len(self.people), dtype=bool)
        in_course = int(census.lock_in(self.state.status, ENROLLED, self.absent, self._locked))
        self.labour.step(week, self._locked)
        self.records.append(self._record(week, in_course))
        self.week += 1

    def run(self, progress: bool = False, label: str | None = None) -> MarketModel:
        """Simulate every remaining week; ``progress`` shows a bar on a terminal."""
        weeks = range(self.week, self.params.weeks)
        bar = tqdm(weeks, desc=label or self.scheme_name, unit="wk", disable=not progress, leave=False)
        for _ in bar:
            self.step()
        self._locked = None  # not kept once the weeks are run (the summaries' peak is the run's)
        return self

    # ------------------------------------------------------------------ enrolment and completion
    def enrol(
        self,
        week: int,
        rows: np.ndarray,
        course: np.ndarray,
        course_weeks: np.ndarray | int,
        p_complete: np.ndarray,
    ) -> None:
        """Start ``rows`` in ``course`` (one per row) for ``course_weeks`` weeks; each will complete
        with probability ``p_complete``, drawn now from the person's keyed draw (purpose
        ``completion``, the same under every scheme). Every scheme enrols this way."""
        state = self.state
        u = Draws.of(self.world.seed, "completion", week).uniforms(rows)
        state.will_complete[rows] = u < p_complete
        state.status[rows] = ENROLLED
        state.course[rows] = course
        state.course_end_week[rows] = week + np.asarray(course_weeks, dtype=np.int16)
        first = rows[state.courses_bought[rows] == 0]
        state.first_purchase_week[first] = week
        state.courses_bought[rows] += 1

    def end_courses(self, week: int, status_after: int) -> np.ndarray:
        """Courses ending by ``week``: their trainees leave the course (``status_after``); returns
        the rows that completed (drawn at enrolment, ``state.will_complete``)."""
        state = self.state
        ending = np.flatnonzero((state.status == ENROLLED) & (state.course_end_week <= week))
        state.status[ending] = status_after
        return ending[state.will_complete[ending]]

    def complete(
        self, week: int, rows: np.ndarray, quality: np.ndarray, mode: np.ndarray | int | None = None
    ) -> np.ndarray:
        """Completers ``rows`` of their current course, taught at ``quality`` (0-1) in ``mode`` (a
        mode code, or one per row; by default each course's own), gain skill
        (``simulation.rules.training``) and are counted; returns those completing a first course."""
        state = self.state
        course = state.course[rows]
        self._add_skill(rows, course, quality, self.courses.mode[course] if mode is None else mode)
        first = rows[state.courses_completed[rows] == 0]
        state.first_completion_week[first] = week
        state.courses_completed[rows] += 1
        self.courses.completions += np.bincount(course, minlength=len(self.courses))
        return first

    def record_sales(self, course: np.ndarray, net_receipts_idr: np.ndarray) -> None:
        """Book enrolments in ``course`` (one entry per trainee) and the provider's receipts."""
        n = len(self.courses)
        counts = np.bincount(course, minlength=n)
        receipts = np.bincount(course, net_receipts_idr, minlength=n)
        self.courses.enrolments += counts
        self.courses.net_revenue_idr += receipts

    def _add_skill(
        self, rows: np.ndarray, course: np.ndarray, quality: np.ndarray, mode: np.ndarray | int
    ) -> None:
        """Add to completers ``rows`` the skill of their ``course`` (one per row): its hours of
        instruction (``self.courses.hours``), taught at ``quality`` in ``mode``; the matched share
        counts in the labour market."""
        skill, state, courses = self.params.skill, self.state, self.courses
        gain = skill_gain(
            quality,
            self.people.ability[rows],
            state.courses_completed[rows],
            courses.hours[course],
            mode,
            skill,
        )
        state.skill[rows] += gain
        state.matched_skill[rows] += gain * match_weight(
            courses.sector[course], self.people.sector[rows], skill
        )
        self.labour.set_skill(rows, state.matched_skill[rows])

    # ------------------------------------------------------------------ organisations
    def add_entrants(self, count: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``count`` new providers and their courses (``simulation.model.world``); returns
        the new course ids."""
        specs, courses = draw_providers(rng, self.params, count, len(self.providers))
        first = len(self.courses)
        self.courses.append(courses)
        new = np.arange(first, len(self.courses))
        self._add_providers(specs, new)
        self.providers_entered += count
        return new

    def add_centre_entrants(
        self, tier: Centre, region: np.ndarray, sector: np.ndarray, rngs: list[np.random.Generator]
    ) -> np.ndarray:
        """Open new training centres of ``tier`` (Mesa agents, ids contiguous from the last
        provider's): centre k in ``region[k]``, teaching ``sector[k]`` among its sectors, drawn
        from ``rngs[k]`` (``simulation.model.world.draw_centre_entrants``). Counted in
        ``providers_entered``; returns the new provider ids."""
        first = len(self.providers)
        specs, courses = draw_centre_entrants(rngs, self.params, tier, region, sector, first)
        first_course = len(self.courses)
        self.courses.append(courses)
        self._add_providers(specs, np.arange(first_course, len(self.courses)))
        self.providers_entered += len(specs)
        return np.arange(first, first + len(specs))

    def provider_agents(self) -> mesa.agent.AgentSet:
        """Every provider, as a Mesa AgentSet."""
        return self.agents_by_type[Provider]

    def _add_providers(self, specs: ProviderSpecs, course_ids: np.ndarray) -> None:
        first = len(self.providers)
        owners = self.courses.provider[course_ids]
        order = np.argsort(owners, kind="stable")
        bounds = np.searchsorted(owners[order], np.arange(first, first + len(specs) + 1))
        for k in range(len(specs)):  # hundreds to thousands of organisations, not participants
            owned = course_ids[order[bounds[k] : bounds[k + 1]]]
            Provider(self, first + k, specs, k, owned)
        self.providers = sorted(self.agents_by_type[Provider], key=lambda p: p.provider_id)
        self.provider_affiliation = np.array([p.affiliated_platform for p in self.providers])
        self.provider_mission_idr = np.array([p.mission_weight_idr for p in self.providers], dtype=float)

    # ------------------------------------------------------------------ inspection and records
    def participant(self, row: int) -> Participant:
        """A read-only view of one participant."""
        return Participant.of(row, self.people, self.state, self.labour.employed, self.labour.twin_employed)

    def _record(self, week: int, in_course: int) -> dict:
        """The week's record: its flows and stocks (real people, real IDR), with ``in_course``
        the simulated participants in a course."""
        row = {
            "week": week,
            "scheme": self.scheme_name,
            "in_course": in_course * self.scale,
            "treasury_out_idr": self.ledger.treasury_out * self.scale,
        }
        row.update(self.scheme.record(week))
        return row
