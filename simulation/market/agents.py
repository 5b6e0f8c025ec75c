"""Providers and platforms: the market's organisations, as Mesa agents.

An agent holds state and applies its decision rule (``simulation.rules.pricing`` for prices); the
scheme decides when they act. Course data stay in the model's columnar catalogue; an agent keeps
the indices of the courses it owns or lists.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa
import numpy as np

from simulation.config.codes import PROVIDER_TYPES
from simulation.market.providers import ProviderSpecs
from simulation.rules.pricing import next_prices

if TYPE_CHECKING:
    from simulation.model.market import MarketModel
    from simulation.schemes.platform_market import PlatformMarket

SPONSORED_BOOST = 1.0e9


class Provider(mesa.Agent):
    """A training provider: owns courses, sets their prices, books profits, may exit."""

    def __init__(
        self, model: MarketModel, provider_id: int, specs: ProviderSpecs, row: int, courses: np.ndarray
    ):
        """Provider ``provider_id`` from row ``row`` of ``specs``, owning ``courses`` (ids)."""
        super().__init__(model)
        spec = model.params.providers
        self.provider_id = provider_id
        self.kind = PROVIDER_TYPES[specs.kind[row]]
        self.region = int(specs.region[row])
        # What the provider values one unit of a trainee's skill at, IDR per trainee: a knightly
        # provider's ``providers.knightly_weight_idr``, a centre's tier ``mission_weight_idr``, 0 for
        # a for-profit one. It enters its prices (``rules.pricing``) and its shading (``rules.quality``).
        self.mission_weight_idr = float(specs.mission_weight_idr[row])
        self.affiliated_platform = int(specs.affiliated_platform[row])
        self.capacity_per_year = float(specs.capacity_per_year[row])  # offline trainees, tenders
        self.courses = courses.astype(np.int64)
        self.cash_idr = float(spec.initial_cash_idr)
        self.profit_idr = 0.0  # cumulative, real IDR
        window = model.params.providers.exit_after_loss_weeks
        self.recent_expected_profits_idr: deque[float] = deque(maxlen=window)  # the last weeks' profits
        self.active = True

    @property
    def knightly_weight_idr(self) -> float:
        """The provider's mission weight (``mission_weight_idr``) under its older name."""
        return self.mission_weight_idr

    def settle_week(self, realised_margin_idr: float, expected_margin_idr: float) -> None:
        """Book one open-market week; margins are simulated receipts after commission less
        variable costs (IDR), scaled here to real IDR, less the fixed weekly cost.

        Cash and cumulative profit book the realised margin: the money actually paid, so that the
        books balance. Exit follows sustained losses: the provider leaves once its expected profit
        summed over the last ``exit_after_loss_weeks`` open-market weeks is negative. Expected
        margins are what a real provider with ``scale`` times more customers would see (law of
        large numbers); a window's sum, unlike a run of loss weeks in a row, does not depend on
        the week-to-week noise that a smaller simulated market adds.
        """
        if not self.active:
            return
        scale, spec = self.model.scale, self.model.params.providers
        profit = scale * realised_margin_idr - spec.fixed_cost_weekly_idr
        self.cash_idr += profit
        self.profit_idr += profit
        expected_profit = scale * expected_margin_idr - spec.fixed_cost_weekly_idr
        recent = self.recent_expected_profits_idr
        recent.append(expected_profit)
        if len(recent) == recent.maxlen and sum(recent) < 0:
            self.exit_market()

    def book(self, profit_idr: float) -> None:
        """Book a profit (or loss) earned outside the weekly market, e.g. on a contract, real IDR."""
        self.cash_idr += profit_idr
        self.profit_idr += profit_idr

    def exit_market(self) -> None:
        """Leave: stop selling every course (trainees already enrolled finish)."""
        self.active = False
        self.model.courses.active[self.courses] = False

    def review_prices(self, market: PlatformMarket) -> None:
        """Move each course's price one learning step (``simulation.rules.pricing``): the last
        move is judged on the course's expected profit per impression over the review period, at
        its price against its alternative price (one step back) for the same shoppers
        (``market.evidence``, per course), within [marginal cost, the course's cap]. A course not
        shown during the period learnt nothing: price and direction stay."""
        if not self.active:
            return
        c = self.courses
        courses = self.model.courses
        pricing = self.model.params.pricing
        objective, alt_objective, shown, sellable = (evidence[c] for evidence in market.evidence)
        caps = market.course_caps_idr()  # the single cap, or each course's (rules.listing)
        courses.price_idr[c], courses.price_direction[c] = next_prices(
            courses.price_idr[c],
            courses.price_direction[c],
            objective,
            alt_objective,
            shown,
            sellable,
            step_share=pricing.step_share,
            tolerance_share=pricing.tolerance_share,
            floor_idr=courses.marginal_cost_idr[c],
            cap_idr=caps if isinstance(caps, float) else caps[c],
        )


class Platform(mesa.Agent):
    """A digital marketplace: lists courses, ranks them per sector, takes a commission."""

    def __init__(self, model: MarketModel, platform_id: int, market: PlatformMarket):
        super().__init__(model)
        self.market = market
        spec = model.params.platforms[platform_id]
        self.platform_id = platform_id
        self.name = spec.name
        self.ranking = spec.ranking
        self.page_size = spec.page_size
        self.base_commission = spec.commission
        self.commission = spec.commission
        self.listing = np.zeros(0, dtype=np.int64)  # course ids currently sold here
        self.page = np.zeros((0, spec.page_size), dtype=np.int64)  # [sector, slot], -1 = empty

    def apply_commission_cap(self, cap: float | None) -> None:
        """Set the commission charged this week: the platform's own rate, or the cap if lower."""
        self.commission = self.base_commission if cap is None else min(self.base_commission, cap)

    def update(self) -> None:
        """Rebuild the listing and the ranked pages."""
        courses = self.model.courses
        sold = courses.active & courses.listed[:, self.platform_id]
        self.listing = np.flatnonzero(sold)
        score = self.scores()
        sectors = len(self.model.params.sectors)
        self.page = np.full((sectors, self.page_size), -1, dtype=np.int64)
        for sector in range(sectors):
            here = self.listing[courses.sector[self.listing] == sector]
            best = here[np.argsort(-score[here], kind="stable")[: self.page_size]]
            self.page[sector, : best.shape[0]] = best

    def scores(self) -> np.ndarray:
        """Ranking score of every course under this platform's rule (higher shows first)."""
        courses = self.model.courses
        stars = self.market.displayed_stars()
        popularity = courses.recent_enrolments + 1e-3 * stars
        if self.ranking == "rating":
            return stars + 1e-6 * courses.recent_enrolments
        if self.ranking == "price":
            return -courses.price_idr.astype(np.float64)
        if self.ranking == "sponsored":
            owner_platform = self.model.provider_affiliation[courses.provider]
            return popularity + SPONSORED_BOOST * (owner_platform == self.platform_id)
        return popularity
