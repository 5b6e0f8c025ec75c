"""One Mesa model runs one scheme on one world, week by week.

Each week: the scheme acts (lottery, courses ending, payments, shopping); the providers settle
their week, review prices, and may exit or enter; the platforms re-rank; the labour market moves
everyone (treated path and twin); the week is recorded.
"""

from __future__ import annotations

import mesa
import numpy as np
from tqdm.auto import tqdm

from simulation.config.streams import stream
from simulation.market.agents import Platform, Provider
from simulation.market.courses import Courses
from simulation.market.ledger import Ledger
from simulation.market.participants import ENROLLED, Participant, ProgrammeState
from simulation.market.providers import ProviderSpecs
from simulation.model.labour import LabourMarket
from simulation.model.world import World, draw_providers
from simulation.rules.training import match_weight, skill_gain
from simulation.schemes import get_scheme

RECENT_DECAY = 0.8  # weekly decay of the enrolment count that drives popularity ranking


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
        self.providers: list[Provider] = []
        self.provider_affiliation = np.zeros(0, dtype=np.int64)
        self.week_receipts_idr = np.zeros(len(self.courses))
        self.week_trainees = np.zeros(len(self.courses))
        self.providers_entered = 0
        self.period_shopper_visits = 0  # shopper visits since the last price review
        self.market_period_visits = 0  # shopper visits in the last price-review period
        self.records: list[dict] = []
        self._stars: np.ndarray | None = None
        self._add_providers(world.providers, np.arange(len(self.courses)))
        self.platforms = [Platform(self, p) for p in range(len(self.params.platforms))]
        self.scheme = get_scheme(scheme)(self)
        self.price_cap_idr = self.scheme.price_cap_idr
        self._refresh_market()
        self.sellers = self._sellers()

    # ------------------------------------------------------------------ the weekly process
    def step(self) -> None:
        week = self.week
        self._stars = None
        self.week_receipts_idr = np.zeros(len(self.courses))
        self.week_trainees = np.zeros(len(self.courses))
        for platform in self.platforms:  # the commission cap in force for this week's sales
            platform.apply_commission_cap()
        self.scheme.step(week)
        if self.scheme.market_open(week):
            self._settle_providers()
            pricing = self.params.pricing
            if week > 0 and week % pricing.review_weeks == 0:
                self.market_period_visits = self.period_shopper_visits
                self.period_shopper_visits = 0
                self.sellers.shuffle_do("review_prices")
            if week > 0 and week % self.params.providers.entry_review_weeks == 0:
                self._enter(week)
        self.courses.recent_enrolments *= RECENT_DECAY
        self._refresh_market()
        in_course = self.state.status == ENROLLED
        self.labour.step(week, in_course)
        self.records.append(self._record(week, in_course))
        self.week += 1

    def run(self, progress: bool = False, label: str | None = None) -> MarketModel:
        """Simulate every remaining week; ``progress`` shows a bar on a terminal."""
        weeks = range(self.week, self.params.weeks)
        bar = tqdm(weeks, desc=label or self.scheme_name, unit="wk", disable=not progress, leave=False)
        for _ in bar:
            self.step()
        return self

    # ------------------------------------------------------------------ market upkeep
    def _settle_providers(self) -> None:
        n = len(self.providers)
        receipts = np.bincount(self.courses.provider, self.week_receipts_idr, minlength=n)
        costs = np.bincount(
            self.courses.provider, self.week_trainees * self.courses.marginal_cost_idr, minlength=n
        )
        for provider in self.sellers:  # hundreds of agents, not participants
            provider.settle_week(receipts[provider.provider_id] - costs[provider.provider_id])

    def _enter(self, week: int) -> None:
        """Entry: new providers arrive when incumbents' recent profits beat the entry cost."""
        spec = self.params.providers
        active = [p for p in self.providers if p.active]
        if spec.entry_rate <= 0 or not active:
            return
        weekly_profit = np.mean([p.profit_idr for p in active]) / max(week, 1)
        ratio = max(0.0, weekly_profit * spec.entry_review_weeks / spec.entry_cost_idr)
        entrants = stream(self.world.seed, f"{self.scheme_name}:entry", week).poisson(spec.entry_rate * ratio)
        if entrants == 0:
            return
        rng = stream(self.world.seed, f"{self.scheme_name}:entrants", week)
        specs, courses = draw_providers(rng, self.params, int(entrants), len(self.providers))
        first = len(self.courses)
        self.courses.append(courses)
        self.scheme.admit_courses(np.arange(first, len(self.courses)), week)
        self.week_receipts_idr = np.concatenate([self.week_receipts_idr, np.zeros(len(courses))])
        self.week_trainees = np.concatenate([self.week_trainees, np.zeros(len(courses))])
        self._add_providers(specs, np.arange(first, len(self.courses)))
        self.sellers = self._sellers()
        self.providers_entered += int(entrants)

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

    def _sellers(self) -> mesa.agent.AgentSet:
        """Providers with a course on some platform: they take part in the weekly market (prices,
        fixed costs, exit); training centres that only bid in tenders do not."""
        listed = self.courses.listed.any(axis=1)
        return self.agents_by_type[Provider].select(lambda p: bool(listed[p.courses].any()))

    def _refresh_market(self) -> None:
        """Platforms re-rank; their pages and listings are stacked for vectorised shopping."""
        self._stars = None
        for platform in self.platforms:
            platform.update()
        width = max(p.page_size for p in self.platforms)
        self.pages = np.full((len(self.platforms), len(self.params.sectors), width), -1, np.int32)
        for p in self.platforms:
            self.pages[p.platform_id, :, : p.page_size] = p.page
        sizes = [p.listing.size for p in self.platforms]
        self.listing_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.listing_flat = np.concatenate([p.listing for p in self.platforms]).astype(np.int32)

    # ------------------------------------------------------------------ helpers for agents
    def displayed_stars(self) -> np.ndarray:
        """Stars shown for every course this week (shrunk mean, one decimal)."""
        if self._stars is None or self._stars.shape[0] != len(self.courses):
            r = self.params.ratings
            self._stars = self.courses.displayed_stars(r.prior_stars, r.prior_count)
        return self._stars

    def commission_cap(self) -> float | None:
        """The platform commission cap in force this week, if any."""
        return self.scheme.commission_cap(self.week)

    def record_sales(self, course: np.ndarray, net_receipts_idr: np.ndarray) -> None:
        """Book purchases of ``course`` (one entry per trainee) for providers and rankings."""
        n = len(self.courses)
        counts = np.bincount(course, minlength=n)
        receipts = np.bincount(course, net_receipts_idr, minlength=n)
        self.courses.enrolments += counts
        self.courses.period_enrolments += counts
        self.courses.recent_enrolments += counts
        self.courses.period_net_revenue_idr += receipts
        self.courses.net_revenue_idr += receipts
        self.week_receipts_idr += receipts
        self.week_trainees += counts

    def end_courses(self, week: int, status_after: int) -> np.ndarray:
        """Courses ending by ``week``: their trainees leave the course (``status_after``); returns
        the rows that completed (drawn at enrolment, ``state.will_complete``)."""
        state = self.state
        ending = np.flatnonzero((state.status == ENROLLED) & (state.course_end_week <= week))
        state.status[ending] = status_after
        return ending[state.will_complete[ending]]

    def add_skill(self, rows: np.ndarray, quality: np.ndarray, course_sector: np.ndarray) -> None:
        """Completers ``rows`` gain skill from courses of ``quality`` in ``course_sector``
        (``simulation.rules.training``), and the labour market learns their new matched skill."""
        skill, state = self.params.skill, self.state
        gain = skill_gain(quality, self.people.ability[rows], state.courses_completed[rows], skill)
        state.skill[rows] += gain
        state.matched_skill[rows] += gain * match_weight(course_sector, self.people.sector[rows], skill)
        self.labour.set_skill(rows, state.matched_skill[rows])

    def participant(self, row: int) -> Participant:
        """A read-only view of one participant."""
        return Participant.of(row, self.people, self.state, self.labour.employed, self.labour.twin_employed)

    def _record(self, week: int, in_course: np.ndarray) -> dict:
        active = [p for p in self.providers if p.active]
        row = {
            "week": week,
            "scheme": self.scheme_name,
            "active_providers": len(active),
            "active_courses": int(self.courses.active.sum()),
            "median_listed_price_idr": _median(self.courses.price_idr[self.courses.active]),
            "in_course": np.count_nonzero(in_course) * self.scale,
            "treasury_out_idr": self.ledger.treasury_out * self.scale,
        }
        row.update(self.scheme.record(week))
        return row


def _median(values: np.ndarray) -> float:
    return float(np.median(values)) if values.size else float("nan")
