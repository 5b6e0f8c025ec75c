"""The voucher's marketplace: platforms list and rank courses; providers sell, price, exit, enter.

It belongs to the voucher scheme and runs only under it (a tender has no platform market). Each
week the scheme opens the market (the commission cap in force), its shoppers buy through it, and
it closes the week: providers settle their books and may exit, review prices on the review weeks,
entrants arrive on the entry weeks, and the platforms re-rank.

Two accounts of each week's trade are kept per course. The realised one (purchases drawn, receipts
paid) is what moves money: cash, profits, the ledger. The expected one (impressions, expected
sales and expected net receipts, tallied by the shopping kernel; ``choice.ExpectedDemand``) is
what a real provider with ``scale`` times more customers would observe, by the law of large
numbers: providers judge price moves, losses and exit on it, so that these decisions do not
depend on the size of the simulated sample.

Hidden quality. At each price review every seller also re-chooses how much of each course's
quality to shade (``simulation.rules.quality``, the rule every provider follows under every
scheme), on the same expected evidence: the cost it saves per trainee (by mode), its mission, and
the sales lower stars would cost it (``rules.quality.voucher_future_loss_idr``: how much a unit of
delivered quality moves its displayed stars given its real ratings, how much stars move its
expected demand, its margin per sale, over ``providers.reputation_weeks``, or the weeks left until
the last cards expire). Without curation's re-reviews nothing detects shading on the platforms and
the choice is all or nothing; with them (``voucher.curation.rereview_weekly``), a course reviewed
below the minimum quality is delisted, and sellers shade only as far as the risk of losing the
listing allows (``rules.quality.shading_under_review``). The ratings follow the delivered quality,
with the lag of the ratings already given (``Courses.expected_mean_rating``).

Hidden ratings (``ratings.shown`` false, an experiment's lever). Completers still rate and the
ratings are still counted (the rating metrics read them), but the platforms display none: every
course shows what an unrated course shows, ``prior_stars`` (rounded as stars are), so

* every shopper's expected quality from stars is (prior_stars - 1) / 4 for every course;
* the ``rating`` ranking, whose score is stars + 1e-6 x recent enrolments, ranks as it ranks
  unrated courses, by popularity (the neutral fallback; ``popularity`` and ``sponsored`` lose only
  their tie-break on stars);
* a counsellor's reading (``voucher.counselling``) is unaffected: it reads delivered quality;
* sellers' shading sees that stars no longer move demand: the stars' slope of the shoppers'
  utility in quality is 0 (``quality_slopes``), so only the mission, the counsellor's reading
  and the checks restrain shading.

The tender has no ratings to hide: its past-performance record is the office's, not shown to
trainees (no asymmetry).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mesa
import numpy as np

from simulation.config.scenario import CommissionCap
from simulation.config.streams import stream
from simulation.market.agents import Platform
from simulation.rules import listing, quality, rating_gaming
from simulation.rules.choice import ExpectedDemand, Market, quality_slopes
from simulation.rules.pricing import alternative_prices, objective_per_impression

RECENT_DECAY = 0.8  # weekly decay of the enrolment count that drives popularity ranking


class PlatformMarket:
    """Platforms (Mesa agents) and the weekly upkeep of the course market they run.

    ``model`` is the :class:`~simulation.model.market.MarketModel` the scheme runs in; the market
    reads and writes its course table and its providers.
    """

    def __init__(
        self,
        model: Any,
        cap_idr: float,
        commission_cap: CommissionCap | None,
        admit: Callable[[np.ndarray, int], None],
        per_hour_cap_idr: float | None = None,
    ):
        self.model = model
        self.admit = admit  # the scheme's rule for new courses (price cap, modes, curation)
        self.price_cap_idr = cap_idr
        self.per_hour_cap_idr = per_hour_cap_idr  # price cap per hour of a course (rules.listing)
        self.cap = commission_cap
        self.week_receipts_idr = np.zeros(len(model.courses))  # net of commission, simulated IDR
        self.week_trainees = np.zeros(len(model.courses))
        self.week_demand = ExpectedDemand.zeros(len(model.courses))  # expected, simulated units
        self.last_trading_week = -1  # the last week the market traded (shoppers or trainees)
        self.delisted = 0  # courses delisted by curation's re-reviews
        self.sellers_active_last_trading_week = 0  # sellers still active at its close
        self._stars: np.ndarray | None = None
        self.evidence: tuple[np.ndarray, ...] = ()  # per course, at a price review (review_evidence)
        # Outcome pay (voucher.outcome_pay): the placement pay a seller expects per trainee per unit
        # of quality, from its receipts per sale (IDR); None when the scheme pays none.
        self.placement_value: Callable[[np.ndarray], np.ndarray] | None = None
        # What shoppers see this week (the scheme's ``course_facts``): the shading rule reads the
        # demand side's slope in quality from it (``rules.choice.quality_slopes``); None: stars only.
        self.course_facts: Callable[[int], Market] | None = None
        self.platforms = [Platform(model, p, self) for p in range(len(model.params.platforms))]
        self.sellers = self._sellers()
        self.refresh()

    # ------------------------------------------------------------------ the week
    def open_week(self, week: int) -> None:
        """Start a week: clear its takings and apply the commission cap in force."""
        self._stars = None
        self.week_receipts_idr = np.zeros(len(self.model.courses))
        self.week_trainees = np.zeros(len(self.model.courses))
        self.week_demand = ExpectedDemand.zeros(len(self.model.courses))
        for platform in self.platforms:
            platform.apply_commission_cap(self.commission_cap(week))

    def close_week(self, week: int, trading: bool) -> None:
        """End a week: while ``trading``, providers settle, review prices and may enter; then the
        week's expected sales join the popularity counts (a platform counting ``scale`` times more
        sales sees almost exactly their expectation), which decay, and the platforms re-rank."""
        model = self.model
        if trading:
            self._settle_providers()
            self._add_to_period()
            if week > 0 and week % model.params.pricing.review_weeks == 0:
                self._review_prices(week)
            self._rereview(week)
            if week > 0 and week % model.params.providers.entry_review_weeks == 0:
                self._enter(week)
            self.last_trading_week = week
            self.sellers_active_last_trading_week = sum(p.active for p in self.sellers)
        model.courses.recent_enrolments += self.week_demand.sales  # what a real platform counts
        model.courses.recent_enrolments *= RECENT_DECAY
        self.refresh()

    def book_sales(self, course: np.ndarray, net_receipts_idr: np.ndarray) -> None:
        """Purchases of ``course`` (one entry per trainee): the course table and this week's takings."""
        self.model.record_sales(course, net_receipts_idr)
        n = len(self.model.courses)
        self.week_receipts_idr += np.bincount(course, net_receipts_idr, minlength=n)
        self.week_trainees += np.bincount(course, minlength=n)

    def commission_cap(self, week: int) -> float | None:
        """The platform commission cap in force in ``week``, if any."""
        return self.cap.share if self.cap is not None and week >= self.cap.from_week else None

    def commission_rates(self) -> np.ndarray:
        """Commission each platform charges this week [platform]."""
        return np.array([p.commission for p in self.platforms])

    def displayed_stars(self) -> np.ndarray:
        """Stars shown for every course this week, as a platform with the real number of raters
        shows them (``Courses.displayed_stars``): the mean rating with the sampling spread of the
        real ratings, shrunk toward the prior by the real rating count; one decimal. The sampling
        spread is taken about the mean the ratings earned in expectation when they were given
        (``Courses.expected_mean_rating``), so a change of delivered quality shows in the stars
        only as new ratings come."""
        courses = self.model.courses
        if self._stars is None or self._stars.shape[0] != len(courses):
            r = self.model.params.ratings
            if not r.shown:  # hidden: every course shows what an unrated course shows
                self._stars = np.full(len(courses), np.round(r.prior_stars, 1))
                return self._stars
            self._stars = courses.displayed_stars(
                r.prior_stars, r.prior_count, self.model.scale, courses.expected_mean_rating()
            )
        return self._stars

    def course_caps_idr(self) -> float | np.ndarray:
        """Each course's price cap, IDR (``rules.listing.course_price_caps``): the single cap (a
        float) unless the scheme caps prices by hours."""
        return listing.course_price_caps(self.model.courses.hours, self.price_cap_idr, self.per_hour_cap_idr)

    def fake_rating_shares(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Per course, the share phi of its ratings that are not genuine and the share phi' of its
        counted (shown) ratings that are, after the platforms' filter (``rules.rating_gaming``);
        None when ratings are all genuine."""
        gaming = self.model.params.ratings.gaming
        if gaming.fake_share_for_profit <= 0 and gaming.fake_share_mission <= 0:
            return None
        model = self.model
        mission = model.provider_mission_idr[model.courses.provider]
        phi = rating_gaming.fake_share(mission <= 0, gaming)
        return phi, rating_gaming.counted_fake_share(phi, gaming.filter_rate)

    def listed_courses(self) -> np.ndarray:
        """Ids of the courses on sale on at least one platform now."""
        courses = self.model.courses
        return np.flatnonzero(courses.active & courses.listed.any(axis=1))

    # ------------------------------------------------------------------ upkeep
    def refresh(self) -> None:
        """Platforms re-rank; their pages and listings are stacked for vectorised shopping."""
        self._stars = None
        for platform in self.platforms:
            platform.update()
        width = max(p.page_size for p in self.platforms)
        self.pages = np.full((len(self.platforms), len(self.model.params.sectors), width), -1, np.int32)
        for p in self.platforms:
            self.pages[p.platform_id, :, : p.page_size] = p.page
        sizes = [p.listing.size for p in self.platforms]
        self.listing_start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.listing_flat = np.concatenate([p.listing for p in self.platforms]).astype(np.int32)

    def _settle_providers(self) -> None:
        """Each seller books the week: realised and expected margins (simulated IDR) per provider."""
        cost = self.delivery_cost_idr()
        realised = self._per_provider(self.week_receipts_idr - self.week_trainees * cost)
        expected = self._per_provider(self.week_demand.net_revenue_idr - self.week_demand.sales * cost)
        for provider in self.sellers:  # hundreds of agents, not participants
            provider.settle_week(realised[provider.provider_id], expected[provider.provider_id])

    def _per_provider(self, per_course: np.ndarray) -> np.ndarray:
        """Sum of a per-course amount over each provider's courses [providers]."""
        model = self.model
        return np.bincount(model.courses.provider, per_course, minlength=len(model.providers))

    def _add_to_period(self) -> None:
        """Add the week's expected demand to the evidence for the next price review."""
        courses, week = self.model.courses, self.week_demand
        courses.period_impressions += week.impressions
        courses.period_expected_sales += week.sales
        courses.period_expected_net_revenue_idr += week.net_revenue_idr
        courses.period_alt_expected_sales += week.alt_sales
        courses.period_alt_expected_net_revenue_idr += week.alt_net_revenue_idr

    def _review_prices(self, week: int) -> None:
        """Every seller reviews its courses' prices (``Provider.review_prices``, in random order)
        on the period's evidence (``review_evidence``) and the quality it delivers; then a new
        review period starts."""
        self.evidence = self.review_evidence()
        self.sellers.shuffle_do("review_prices", self)
        self._review_quality(week)
        courses = self.model.courses
        courses.period_impressions[:] = 0
        for evidence in (
            courses.period_expected_sales,
            courses.period_expected_net_revenue_idr,
            courses.period_alt_expected_sales,
            courses.period_alt_expected_net_revenue_idr,
        ):
            evidence[:] = 0.0

    def _review_quality(self, week: int) -> None:
        """Each seller re-chooses the quality it shades on every course shown in the review period
        (``rules.quality.shading``; a course not shown learnt nothing and keeps its shading), on
        the period's expected evidence: margin per expected sale (receipts per expected sale, or
        for a course expected to sell nothing what a sale at its price would bring, so that a
        course whose sales dry up still guards the stars its next buyers will see), mean choice
        probability when shown, and the real ratings that will carry its stars (those given, and
        the period's expected sales, each rated on completion). The reputation lasts
        ``providers.reputation_weeks``, or the weeks left until the last cards expire if fewer (the
        end game: stars read by nobody discipline nobody). The shoppers' utility lost per unit
        shaded is the choice's own slope (``quality_slopes``: free content, counselling's reading,
        incentive seekers), and curation's re-reviews and structured counselling's veto add their
        listing losses (``quality_checks``). Delivered quality = potential - shading;
        the stars shown are recomputed. Until a course's first review its provider gives full
        effort."""
        model = self.model
        courses, spec = model.courses, model.params.providers
        by_mode = spec.quality_saving_idr
        saving = quality.saving_by_mode(courses.mode, by_mode.online, by_mode.offline, by_mode.hybrid)
        if not saving.any():  # nothing to save: every course delivers its potential
            return
        sales = courses.period_expected_sales
        shown = (courses.period_impressions > 0) & courses.active
        # margin per sale: expected receipts per expected sale, or where nothing was expected to
        # sell, the price net of the highest commission among the course's platforms, less cost
        commission = (courses.listed * self.commission_rates()[np.newaxis, :]).max(axis=1)
        listed_net = courses.price_idr * (1.0 - commission)
        receipts = np.divide(
            courses.period_expected_net_revenue_idr, sales, out=listed_net.astype(np.float64), where=sales > 0
        )
        margin = receipts - courses.marginal_cost_idr
        choice_share = np.divide(sales, courses.period_impressions, out=np.zeros(sales.shape), where=shown)
        shrinkage = quality.rating_shrinkage(
            model.scale * (courses.rating_count + sales), model.params.ratings.prior_count
        )
        fakes = self.fake_rating_shares()
        if fakes is not None:  # non-genuine 5s dilute how far delivered quality moves the stars
            shrinkage = shrinkage * (1.0 - fakes[1])
        facts = self.course_facts(week) if self.course_facts is not None else None
        stars_slope, delivered_slope = self.quality_slopes(facts)
        future = quality.voucher_future_loss_idr(
            shrinkage,
            stars_slope,
            choice_share,
            margin,
            min(spec.reputation_weeks, self.weeks_left(week)),
            model.params.pricing.review_weeks,
            delivered_slope,
        )
        mission = model.provider_mission_idr[courses.provider]
        if self.placement_value is not None:  # placement pay lost per unit shaded, like a mission
            mission = mission + self.placement_value(receipts)
        checks = self.quality_checks(week, margin)
        if checks:
            net = saving - mission - future
            shaded = quality.shading_under_checks(courses.potential_quality, net, checks)
        else:
            shaded = quality.shading(courses.potential_quality, saving, mission, future, 0.0)
        delivered = np.where(shown, courses.potential_quality - shaded, courses.true_quality)
        courses.true_quality[:] = delivered.astype(np.float32)
        self._stars = None

    def quality_slopes(self, facts: Market | None) -> tuple[float | np.ndarray, np.ndarray | None]:
        """The shoppers' utility lost per unit of quality shaded, through the stars and (when
        counselled) at once through the counsellor's reading: ``rules.choice.quality_slopes`` on
        this week's course facts, the one rule the shoppers' choice also uses, so the two cannot
        drift (free content, counselling and incentive seekers included). Evaluated at the
        course's present stars and delivered quality (a local, first-order slope). With the
        ratings hidden (``ratings.shown`` false) the stars' slope is 0: shading moves no stars
        anyone sees."""
        params = self.model.params
        if facts is None:
            stars, delivered = params.choice.quality_weight, None
        else:
            stars, delivered = quality_slopes(
                facts, params.choice, params.population.incentive_motivated_share
            )
        if not params.ratings.shown:
            stars = 0.0 * stars
        return stars, delivered

    def quality_checks(self, week: int, margin: np.ndarray) -> tuple[quality.Check, ...]:
        """The checks of delivered quality a seller shading weighs (``quality.shading_under_checks``):

        * curation's re-reviews (``voucher.curation.rereview_weekly`` > 0): reviewed while the
          choice holds with chance 1 - (1 - rereview_weekly)^review_weeks, noise
          ``review_noise_sd``, delisted below ``min_quality``, at a loss of max(margin, 0) x
          weeks left / review_weeks per trainee of the period (the listing's future margin);
        * structured counselling's veto: every shopper is counselled (chance 1), the reading has
          noise ``reading_noise_sd`` (the seller does not know the counsellor's error), a course
          read below ``veto_min_quality`` is vetoed for every shopper, at a loss of max(margin, 0)
          per trainee of the period (the period's sales, until the seller's next review restores
          its quality). The veto of courses in sectors of low local demand does not depend on
          quality and is left out. First order, like curation: the expected losses are added."""
        v = self.model.params.voucher
        review_weeks = self.model.params.pricing.review_weeks
        margin = np.maximum(margin, 0.0)
        checks = []
        curation = v.curation
        if curation.enabled and curation.rereview_weekly > 0:
            catch = 1.0 - (1.0 - curation.rereview_weekly) ** review_weeks  # reviewed while it holds
            listing_value = margin * self.weeks_left(week) / review_weeks  # per trainee of the period
            checks.append(quality.Check(catch, curation.review_noise_sd, curation.min_quality, listing_value))
        counsel = v.counselling
        if counsel.active and counsel.regime == "structured":
            checks.append(quality.Check(1.0, counsel.reading_noise_sd, counsel.veto_min_quality, margin))
        return tuple(checks)

    def _rereview(self, week: int) -> None:
        """Curation's re-reviews (``voucher.curation.rereview_weekly`` > 0): each listed course is
        reviewed with that chance this week (stream ``voucher:curation_rereview``: one uniform and
        one normal per course), and a course whose delivered quality plus review noise falls below
        the minimum is delisted from every platform."""
        curation = self.model.params.voucher.curation
        if not curation.enabled or curation.rereview_weekly <= 0:
            return
        courses = self.model.courses
        rng = stream(self.model.world.seed, "voucher:curation_rereview", week)
        n = len(courses)
        reviewed = rng.random(n) < curation.rereview_weekly
        review = courses.true_quality + curation.review_noise_sd * rng.standard_normal(n)
        on_sale = courses.listed.any(axis=1)
        caught = reviewed & on_sale & (review < curation.min_quality)
        reviews = np.count_nonzero(reviewed & on_sale & courses.active)
        self.model.ledger.record_curation(curation.cost_per_review_idr * reviews / self.model.scale)
        courses.listed[caught, :] = False
        self.delisted += int(np.count_nonzero(caught))

    def weeks_left(self, week: int) -> float:
        """Weeks after ``week`` in which anyone may still shop: until the last wave's cards expire
        (its week plus ``voucher.credit_validity_weeks``)."""
        v = self.model.params.voucher
        last_wave = v.waves.first_week + (v.waves.count - 1) * v.waves.interval_weeks
        return float(max(last_wave + v.credit_validity_weeks - week, 0))

    def delivery_cost_idr(self) -> np.ndarray:
        """Each course's cost per trainee as it is delivered, IDR: its marginal cost less what its
        shading saves (``providers.quality_saving_idr`` of its mode x (potential - delivered
        quality)), never below zero; the tender books its contractors' cost the same way."""
        courses = self.model.courses
        by_mode = self.model.params.providers.quality_saving_idr
        saving = quality.saving_by_mode(courses.mode, by_mode.online, by_mode.offline, by_mode.hybrid)
        shaded = courses.potential_quality.astype(np.float64) - courses.true_quality
        return np.maximum(courses.marginal_cost_idr - saving * shaded, 0.0)

    def review_evidence(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What each course's provider learnt over the review period [courses]: expected profit
        per impression (``rules.pricing.objective_per_impression``, IDR) at the price and at the
        alternative price; whether it was shown; whether anyone shown it could buy it at either."""
        courses, model = self.model.courses, self.model
        knightly = model.provider_mission_idr[courses.provider]
        sales, alt_sales = courses.period_expected_sales, courses.period_alt_expected_sales
        facts = (courses.period_impressions, self.delivery_cost_idr(), courses.true_quality, knightly)
        return (
            objective_per_impression(courses.period_expected_net_revenue_idr, sales, *facts),
            objective_per_impression(courses.period_alt_expected_net_revenue_idr, alt_sales, *facts),
            courses.period_impressions > 0,
            (sales > 0) | (alt_sales > 0),
        )

    def alternative_prices(self) -> np.ndarray:
        """The price each course's last move is judged against (``rules.pricing``), IDR."""
        courses, pricing = self.model.courses, self.model.params.pricing
        return alternative_prices(
            courses.price_idr,
            courses.price_direction,
            step_share=pricing.step_share,
            floor_idr=courses.marginal_cost_idr,
            cap_idr=self.course_caps_idr(),
        )

    def _enter(self, week: int) -> None:
        """Entry: new providers arrive when incumbents' recent profits beat the entry cost. Recent
        profit: the active sellers' mean expected weekly profit over their exit window (expected,
        as a real market's would be, so that entry does not rise with a small sample's noise)."""
        model = self.model
        spec = model.params.providers
        active = [p for p in self.sellers if p.active and p.recent_expected_profits_idr]
        if spec.entry_rate <= 0 or not active:
            return
        weekly_profit = np.mean([np.mean(p.recent_expected_profits_idr) for p in active])
        ratio = max(0.0, weekly_profit * spec.entry_review_weeks / spec.entry_cost_idr)
        entrants = int(
            stream(model.world.seed, f"{model.scheme_name}:entry", week).poisson(spec.entry_rate * ratio)
        )
        if entrants == 0:
            return
        rng = stream(model.world.seed, f"{model.scheme_name}:entrants", week)
        new = model.add_entrants(entrants, rng)
        self.admit(new, week)
        grow = np.zeros(new.size)
        self.week_receipts_idr = np.concatenate([self.week_receipts_idr, grow])
        self.week_trainees = np.concatenate([self.week_trainees, grow])
        self.week_demand = self.week_demand.extended(new.size)
        self.sellers = self._sellers()

    def _sellers(self) -> mesa.agent.AgentSet:
        """Providers with a course on some platform: they take part in the weekly market (prices,
        fixed costs, exit); training centres that only bid in tenders do not."""
        listed = self.model.courses.listed.any(axis=1)
        return self.model.provider_agents().select(lambda p: bool(listed[p.courses].any()))
