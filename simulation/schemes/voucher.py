"""The voucher scheme (Kartu Prakerja): credit to the job seeker, courses sold on platforms.

Weekly process (DESIGN §3, voucher), every step vectorised over participants:

1. lottery waves select recipients among arrived applicants; the never-selected are the control;
   under guided or structured choice (``voucher.counselling``) each recipient is counselled at
   selection, at a cost booked in the ledger, and may first buy ``delay_weeks`` later;
2. courses ending this week: completion, compulsory rating (which can be gamed:
   ``simulation.rules.rating_gaming``), skill gain, first-completion date;
3. cash: the incentive (amount x months, every ``interval_weeks`` from the first completion) and
   paid surveys; the programme office charges its share of the money paid out;
4. revocation (no purchase by the deadline), expiry of the credit, and cards that can afford
   nothing more: unspent credit is forfeited to the treasury;
5. shopping: holders of credit who visit this week (every first-time buyer; a returning buyer
   with probability ``choice.revisit_share``) see their platform's ranked page for their sector
   plus a few other courses and buy one or wait (``simulation.rules.choice``; how they appraise a
   course beyond its stars, free alternatives and counselling: ``simulation.rules.appraisal``);
   enrolment pays the
   provider the price less the platform's commission, the credit paying (1 - s) x price and
   the buyer s x price plus any top-up (co-payment ``voucher.copay_share`` = s, 0 by default;
   the tender has none); the same step tallies each course's
   impressions and expected sales and receipts (the providers' evidence, see
   ``simulation.schemes.platform_market``);
6. the platform market closes the week (``simulation.schemes.platform_market``): providers settle,
   review prices, exit or enter, and the platforms re-rank.

Listing rules (``simulation.rules.listing``: modes, minimum hours, price caps by hours, curation
and its cost) apply to the courses on sale at the start and to entrants' courses. Sales to a
platform's own affiliates are tallied against their share of its listing and listed quality
(``simulation.rules.self_preferencing``).

Issue 10's integrity mechanisms, each off by default (``simulation.schemes.voucher_integrity``,
``simulation.schemes.voucher_outcome_pay``): at enrolment a buyer and the seller may fake the
course (``voucher.fake_completion``); when courses end, a completion check may catch fakes
(``voucher.completion_check``); after the cash, audits on price-review weeks claw back and
blacklist (``voucher.audits``) and placement checks settle the pay withheld under
``voucher.outcome_pay``.

Gaming by applicants (issue 10, every part off by default): applicants who joined for the cash
shop as incentive seekers (``choice.incentive_seekers``, ``simulation.rules.choice``); account
brokers and the identity check against them (``voucher.brokers``, ``voucher.identity_check``,
``simulation.schemes.brokers``) act in the lottery (1), completion (2), cash (3) and shopping (5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from simulation.config.codes import MODE_NAMES
from simulation.config.streams import stream
from simulation.market.participants import ENROLLED, FINISHED, HOLDING, NOT_SELECTED, REVOKED
from simulation.rules import census, kernels, listing, rating_gaming
from simulation.rules.appraisal import appraisal
from simulation.rules.choice import INCENTIVE_SEEKER, ORDINARY, Market, Shoppers, shop
from simulation.rules.free_content import free_content, skill_quality
from simulation.rules.keyed_draws import Draws
from simulation.rules.parallel import over_blocks
from simulation.rules.self_preferencing import AffiliateTally
from simulation.rules.statistics import herfindahl, mean, median, rate, rating_quality_correlation, share
from simulation.rules.training import completion_probability, expected_stars, stars
from simulation.schemes import register
from simulation.schemes.base import Evaluation
from simulation.schemes.brokers import Brokerage, broker_choice
from simulation.schemes.platform_market import PlatformMarket
from simulation.schemes.voucher_integrity import IntegrityControls
from simulation.schemes.voucher_outcome_pay import OutcomePayment

if TYPE_CHECKING:
    from simulation.config.scenario import Choice, Scenario, Voucher
    from simulation.model.market import MarketModel

# Real ratings (simulated ratings x scale) a course needs to enter the rating-quality correlation:
# about 5 simulated ratings at the calibrated scale of 55 real recipients per simulated one.
MIN_REAL_RATINGS_FOR_CORRELATION = 250
TOP_SELLERS_SHARE = 0.1  # the best sellers: this share of the courses offered, by enrolments


@register("voucher")
class VoucherScheme:
    """Kartu Prakerja-style credit scheme; parameters from ``scenario.voucher``."""

    name: ClassVar[str]  # set by register

    def __init__(self, model: MarketModel):
        self.model = model
        self.params: Voucher = _voucher(model.params)
        self.seed = model.world.seed
        self.price_cap_idr = float(self.params.cap_idr)
        self.recipients = affordable_recipients(model.params)
        self.quota = wave_quotas(self.recipients, self.params.waves.count)
        self.wave_weeks = [
            self.params.waves.first_week + w * self.params.waves.interval_weeks
            for w in range(self.params.waves.count)
        ]
        self.purchases = PurchaseTally(self.price_cap_idr)
        owning = [p for p, spec in enumerate(model.params.platforms) if spec.affiliated_providers > 0]
        self.affiliates = AffiliateTally(np.array(owning, dtype=np.int64))
        self.ratings_counted = 0  # simulated ratings shown (after the platforms' filter)
        self.ratings_non_genuine = 0  # of which bought or pressured (rules.rating_gaming)
        self._leniency: np.ndarray | None = None  # each course's own leniency, stars (None: none)
        self.appraised = AppraisalTally()
        self.first_completers: dict[int, np.ndarray] = {}  # week -> rows completing a first course
        self._holders = np.zeros(0, dtype=np.int64)  # rows holding credit once the week's cards closed
        self.others = model.params.choice.other_courses_shown
        self.week_flows: dict[str, float] = {}
        self.brokerage = Brokerage(
            self.seed,
            len(model.people),
            self.params.brokers,
            self.params.identity_check,
            identity_check_per_applicant_idr(model.params, len(model.people)),
        )
        model.absent |= self.brokerage.brokered  # their holders take no course themselves
        self.admit_courses(np.arange(len(model.courses)), week=0)
        self.market = PlatformMarket(
            model,
            self.price_cap_idr,
            self.params.commission_cap,
            self.admit_courses,
            per_hour_cap_idr=self.params.price_cap_per_hour_idr,
        )
        courses = model.courses
        offered = courses.active & courses.listed.any(axis=1)  # after modes and curation
        self.quality_available = mean(courses.true_quality[offered])  # what the scheme offers, 0-1
        self.integrity = IntegrityControls(self)  # fake completions, checks, audits (issue 10)
        self.outcome = OutcomePayment(self)  # pay withheld until placement (issue 10)
        if self.params.outcome_pay.enabled:
            self.market.placement_value = self.outcome.quality_value_idr
        seekers = model.params.choice.incentive_seekers.enabled
        if self.params.free_alternatives.enabled or self.params.counselling.active or seekers:
            self.market.course_facts = self.course_facts  # the shading rule reads the shoppers' slope

    # ------------------------------------------------------------------ scheme interface
    def trading(self, week: int) -> bool:
        """True while anyone holds credit or is in a course: the platform market is open."""
        status = self.model.state.status
        return week <= self.wave_weeks[-1] or bool(((status == HOLDING) | (status == ENROLLED)).any())

    def admit_courses(self, course_ids: np.ndarray, week: int) -> None:
        """New courses: designed to the minimum hours (``rules.listing``), an entrant's
        (``week`` > 0) always and the courses on sale at the opening unless
        ``voucher.min_hours_incumbents`` is "delist" (the rule is assumed announced with notice);
        prices capped at each course's cap; each course's first price move up or down at random
        (so that courses do not all cycle in step); courses of a mode the scheme does not allow,
        or shorter than the minimum hours, are not listed; with curation, a noisy review of each
        course and those below the minimum are not listed (its cost is booked for the courses
        offered to a platform, not for training centres' tender-only courses)."""
        courses = self.model.courses
        v = self.params
        if v.min_hours > 0 and (week > 0 or v.min_hours_incumbents == "redesign"):
            courses.hours[course_ids] = listing.designed_hours(courses.hours[course_ids], v.min_hours)
        caps = listing.course_price_caps(
            courses.hours[course_ids], self.price_cap_idr, v.price_cap_per_hour_idr
        )
        courses.price_idr[course_ids] = np.minimum(courses.price_idr[course_ids], caps)
        first_move = stream(self.seed, "voucher:price_directions", week).random(course_ids.size) < 0.5
        courses.price_direction[course_ids] = np.where(first_move, 1, -1)
        allowed = [MODE_NAMES.index(mode) for mode in self.params.modes_allowed]
        courses.listed[course_ids[~np.isin(courses.mode[course_ids], allowed)], :] = False
        courses.listed[course_ids[listing.too_short(courses.hours[course_ids], v.min_hours)], :] = False
        curation = self.params.curation
        if not curation.enabled or course_ids.size == 0:
            return
        offered = np.count_nonzero(courses.listed[course_ids].any(axis=1))  # not centres' tender courses
        self.model.ledger.record_curation(curation.cost_per_review_idr * offered / self.model.scale)
        rng = stream(self.seed, "voucher:curation", week)
        review = courses.true_quality[course_ids] + rng.normal(0.0, curation.review_noise_sd, course_ids.size)
        rejected = course_ids[review < curation.min_quality]
        courses.listed[rejected, :] = False

    def step(self, week: int) -> None:
        self.week_flows = dict.fromkeys(
            ("selected", "enrolments", "completions", "revoked", "credit_spent_idr"), 0.0
        )
        if week in self.wave_weeks:
            self._lottery(week, self.wave_weeks.index(week))
        self._finish_courses(week)
        self._pay_cash(week)
        self.integrity.audit(week)
        self.outcome.settle(week)
        self._close_cards(week)
        self.market.open_week(week)
        self._shop(week)
        self.market.close_week(week, self.trading(week))

    def record(self, week: int) -> dict:
        """This week's flows and stocks (real people and IDR, i.e. scaled), and employment rates
        by lottery group."""
        state, scale, labour = self.model.state, self.model.scale, self.model.labour
        n_selected, employed_selected, twins_employed, employed, holding = (
            int(count)
            for count in census.employment_counts(
                state.selected_week, labour.employed, labour.twin_employed, state.status, HOLDING
            )
        )
        n_control = state.selected_week.size - n_selected
        listed = self.market.listed_courses()
        return {
            **{name: value * scale for name, value in self.week_flows.items()},
            "active_providers": sum(p.active for p in self.market.sellers),
            "active_courses": listed.size,
            "median_listed_price_idr": median(self.model.courses.price_idr[listed]),
            "holding_credit": holding * scale,
            "employment_rate_selected": rate(employed_selected, n_selected),
            "employment_rate_twin_selected": rate(twins_employed, n_selected),
            "employment_rate_control": rate(employed - employed_selected, n_control),
        }

    def evaluation(self) -> Evaluation:
        """The lottery: winners against the never selected, stratified by the week an applicant
        entered the pool (applicants who arrive earlier face more draws)."""
        state = self.model.state
        selected = state.selected_week >= 0
        return Evaluation(
            offered=selected,
            comparison=~selected & ~self.brokerage.detected,  # the lottery is among verified applicants
            stratum=self.model.people.arrival_week,  # int16: no per-person copy
            trained=state.courses_bought > 0,
        )

    def metrics(self) -> dict[str, float | int | None]:
        """Voucher-specific summary metrics (purchases, prices, ratings, cards, sellers).

        ``median_listed_price_idr``, ``mean_listed_price_idr``, ``listed_price_cv``: over courses
        on sale on at least one platform at the end (``listed_price_metrics``);
        ``price_paid_cv``: over purchases (``PurchaseTally.price_cv``);
        ``top_sellers_true_quality``: the delivered quality the best sellers' buyers received
        (``PurchaseTally.top_sellers_quality``) among the courses ever offered on a platform (on
        sale now, or bought);
        ``mean_true_quality_available``: mean true quality (0-1) of the courses listed on at least
        one platform at the start, after the scheme's admission rules (modes, curation), i.e. what
        the scheme offers; ``active_providers``: sellers on the platforms still active in the last
        week the market traded.
        """
        model = self.model
        state, courses, tally = model.state, model.courses, self.purchases
        selected = state.selected_week >= 0
        trained = state.courses_bought > 0
        waited = state.first_purchase_week[trained] - state.selected_week[trained]
        per_purchase = (lambda total: total / tally.count) if tally.count else (lambda total: None)
        return {
            "bought_share": share(trained, selected),
            "revoked_share": share(state.status == REVOKED, selected),
            "incentive_received_share": share(state.incentive_received_idr > 0, selected),
            "mean_price_paid_idr": per_purchase(tally.price_sum_idr),
            "price_paid_cv": tally.price_cv(),
            "median_listed_price_idr": median(courses.price_idr[courses.active & courses.listed.any(axis=1)]),
            **listed_price_metrics(courses.price_idr[courses.active & courses.listed.any(axis=1)]),
            "top_sellers_true_quality": tally.top_sellers_quality(
                courses.enrolments, courses.listed.any(axis=1) | (courses.enrolments > 0)
            ),
            "share_purchases_at_cap": per_purchase(tally.at_cap),
            "share_purchases_with_topup": per_purchase(tally.with_topup),
            "mean_true_quality_enrolled": per_purchase(tally.quality_sum),
            "mean_shading": per_purchase(tally.shading_sum),
            "rating_quality_correlation": self._rating_quality_correlation(),
            "credit_forfeited_idr": model.ledger.credit_forfeited * model.scale,
            "mean_true_quality_available": self.quality_available,
            "active_providers": self.market.sellers_active_last_trading_week,
            "provider_hhi": herfindahl(
                np.bincount(courses.provider, courses.net_revenue_idr, minlength=len(model.providers))
            ),
            "mismatch_rate": per_purchase(tally.mismatched),
            "median_weeks_to_first_training": float(np.median(waited)) if waited.size else None,
            "courses_delisted": self.market.delisted,
            "non_genuine_rating_share": self.ratings_non_genuine / self.ratings_counted
            if self.ratings_counted
            else None,
            "curation_cost_idr": model.ledger.curation * model.scale,
            **self.affiliates.metrics(),
            "spending_on_free_content_share": self.appraised.free_content_share(),
            "counselling_cost_idr": model.ledger.counselling * model.scale,
            "vetoed_option_share": self.appraised.vetoed_share(),
            **self.integrity.metrics(),
            **self.outcome.metrics(),
            **self.brokerage.metrics(selected, model.scale),
            **self._identity_check_metrics(),
        }

    def _identity_check_metrics(self) -> dict[str, float]:
        """What the identity check cost (real IDR), when it is on."""
        if not self.params.identity_check.enabled:
            return {}
        return {"identity_check_cost_idr": self.model.ledger.identity_checks * self.model.scale}

    def _rating_quality_correlation(self) -> float | None:
        """Correlation across courses with at least ``MIN_REAL_RATINGS_FOR_CORRELATION`` real
        ratings of the mean rating a platform shows (with the sampling spread of the real ratings,
        ``Courses.mean_rating``) and the true quality its raters received (the delivered quality,
        averaged over the ratings: a seller that shades once nobody buys any more does not change
        what its ratings were worth)."""
        model = self.model
        courses = model.courses
        return rating_quality_correlation(
            courses.mean_rating(model.scale, courses.expected_mean_rating()),
            model.scale * courses.rating_count,
            courses.rated_quality(),
            MIN_REAL_RATINGS_FOR_CORRELATION,
        )

    # ------------------------------------------------------------------ weekly steps
    def _lottery(self, week: int, wave: int) -> None:
        """Select this wave's quota at random among applicants who have arrived; places a
        thin pool left unfilled in earlier waves are added to this one."""
        state = self.model.state
        pool = np.flatnonzero((state.status == NOT_SELECTED) & (self.model.people.arrival_week <= week))
        pool = self.brokerage.screen(pool, self.model.ledger)  # detected accounts are not drawn
        due = sum(self.quota[: wave + 1]) - int(np.count_nonzero(state.selected_week >= 0))
        winners = Draws.of(self.seed, "lottery", wave).chosen(pool, due)  # in the pool's order: by row
        state.status[winners] = HOLDING
        state.selected_week[winners] = week
        state.credit_left_idr[winners] = self.params.credit_idr
        self.model.ledger.credit_issued += self.params.credit_idr * winners.size
        if self.params.counselling.active:  # every recipient is counselled once, at selection
            self.model.ledger.record_counselling(self.params.counselling.cost_idr * winners.size)
        self.week_flows["selected"] = winners.size

    def _finish_courses(self, week: int) -> None:
        """Courses ending this week: completion, rating, skill, and the return to shopping. Fake
        completions that pass the checks (``voucher_integrity``) complete unrated, with no skill."""
        model = self.model
        state, courses = model.state, model.courses
        done, fakes = self.integrity.finish(week, model.end_courses(week, HOLDING))
        course = state.course[done]
        self._rate(week, done, course)
        taught = skill_quality(
            courses.true_quality[course], self.free_content()[course], self.params.free_alternatives
        )
        if self.brokerage.brokers.enabled:  # a brokered account's holder learns nothing
            taught = np.where(self.brokerage.brokered[done], np.float32(0.0), taught)
        first = model.complete(week, done, taught)
        if fakes.size:
            first_fakes = model.complete(week, fakes, np.zeros(fakes.size, dtype=np.float32))
            self.integrity.mark_unlocked(first_fakes)
            first = np.concatenate([first, first_fakes])
        self.first_completers[week] = first
        self.outcome.courses_ended(week, np.concatenate([done, fakes]) if fakes.size else done)
        respond = Draws.of(self.seed, "voucher:surveys", week).uniforms(first)
        state.survey_respondent[first] = respond < self.params.survey.response_rate
        self.week_flows["completions"] = done.size + fakes.size

    def _rate(self, week: int, done: np.ndarray, course: np.ndarray) -> None:
        """The completers ``done`` rate the courses ``course`` they finished: honest stars from the
        delivered quality, the course's own leniency and noise; with gaming on, a share of them
        are bought or pressured 5s and the platforms filter some out (``rules.rating_gaming``).
        The counted ratings, and the stars each earned in expectation, join the course's sums."""
        model = self.model
        courses, ratings = model.courses, model.params.ratings
        n = len(courses)
        leniency = self.course_leniency()
        noise = Draws.of(self.seed, "voucher:ratings", week).normals(done)
        shift = None if leniency is None else leniency[course]
        given = stars(courses.true_quality[course], noise, ratings, shift)
        earned = expected_stars(courses.true_quality, ratings, leniency)  # at the delivered quality
        fakes = self.market.fake_rating_shares()
        if fakes is not None:
            phi, phi_counted = fakes
            draws = Draws.of(self.seed, "voucher:rating_fakes", week)
            filter_rate = ratings.gaming.filter_rate
            given, counted, non_genuine = rating_gaming.gamed(
                given, draws.uniforms(done, 0), draws.uniforms(done, 1), phi[course], filter_rate
            )
            earned = rating_gaming.expected_counted_stars(earned, phi_counted)
            self.ratings_non_genuine += int(np.count_nonzero(non_genuine))
            course, given = course[counted], given[counted]
        self.ratings_counted += course.size
        courses.rating_sum += np.bincount(course, given, minlength=n)
        courses.rating_count += np.bincount(course, minlength=n)
        courses.rating_expected_sum += np.bincount(course, earned[course], minlength=n)
        courses.rated_quality_sum += np.bincount(course, courses.true_quality[course], minlength=n)

    def course_leniency(self) -> np.ndarray | None:
        """Each course's own leniency, stars (``rules.rating_gaming.course_leniency``; None when
        ``ratings.gaming.leniency_sd`` is 0), drawn once per course, entrants when they come."""
        sd = self.model.params.ratings.gaming.leniency_sd
        n = len(self.model.courses)
        if sd > 0 and (self._leniency is None or self._leniency.size != n):
            self._leniency = rating_gaming.course_leniency(self.seed, np.arange(n), sd)
        return self._leniency

    def _pay_cash(self, week: int) -> None:
        """Incentive tranches and survey payments due this week, booked in the ledger and paid to
        each person's cash (``LabourMarket.add_cash``: liquidity); office cost on the outflow.

        Tranche k (k = 0 .. months - 1) is paid k * interval weeks after the first completion;
        survey round r (r = 1 .. count) r * interval weeks after it, to respondents.
        """
        state = self.model.state
        incentive, survey = self.params.incentive, self.params.survey
        paid = self._completers_since(week, [k * incentive.interval_weeks for k in range(incentive.months)])
        state.incentive_received_idr[paid] += incentive.amount_idr
        asked = self._completers_since(week, [r * survey.interval_weeks for r in range(1, survey.count + 1)])
        answered = asked[state.survey_respondent[asked]]
        incentives = incentive.amount_idr * paid.size
        surveys = survey.amount_idr * answered.size
        self.integrity.count_cash(paid, answered)
        ledger = self.model.ledger
        for rows, amount in ((paid, incentive.amount_idr), (answered, survey.amount_idr)):
            self._pay(rows, amount)
        ledger.record_cash(incentives, surveys)
        ledger.charge_admin(incentives + surveys, self.params.admin_cost_share)

    def _pay(self, rows: np.ndarray, amount_idr: float) -> None:
        """Cash of ``amount_idr`` to each of ``rows``: the job seekers' liquidity; a brokered
        account's cash is received but is not its holder's liquidity, and the broker's cut is
        booked (``Brokerage.pay``)."""
        labour = self.model.labour
        if not self.brokerage.brokers.enabled:
            labour.add_cash(rows, amount_idr)
            return
        brokered = self.brokerage.pay(rows, amount_idr, self.model.ledger)
        labour.add_cash(rows[~brokered], amount_idr)
        labour.add_cash(rows[brokered], amount_idr, liquid=False)

    def _completers_since(self, week: int, lags: list[int]) -> np.ndarray:
        """Rows whose first completion was exactly one of ``lags`` weeks before ``week``."""
        cohorts = [self.first_completers.get(week - lag) for lag in lags]
        found = [rows for rows in cohorts if rows is not None]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def credit_needed(self, price_idr: np.ndarray | float) -> np.ndarray | float:
        """Credit courses of ``price_idr`` need (float32 IDR, any shape): (1 - copay_share) x price,
        as the shoppers reckon it (``choice.copay_shares``); the prices themselves (unchanged) when
        there is no co-payment, and where a price is not finite (no course on sale)."""
        share = self.params.copay_share
        price = np.asarray(price_idr, dtype=np.float32)
        if share == 0:
            return price_idr
        keep = np.float32(1.0) - np.float32(share)
        return np.where(np.isfinite(price), keep * np.where(np.isfinite(price), price, 0), price)

    def _close_cards(self, week: int) -> None:
        """Revoke cards unused by the deadline; end cards past validity or unable to buy. One pass
        over everyone finds the holders; the rules are then applied to them alone, and the rows
        still holding are kept for ``_shop``."""
        state, courses, v = self.model.state, self.model.courses, self.params
        holders = np.flatnonzero(state.status == HOLDING)
        age = week - state.selected_week[holders]
        deadline = v.purchase_deadline_weeks + v.counselling.wait_weeks
        revoke = (state.courses_bought[holders] == 0) & (age >= deadline)
        cheapest = _min(courses.price_idr[courses.active & courses.listed.any(axis=1)])
        topup = v.max_topup_idr * v.topup_allowed
        broke = state.credit_left_idr[holders] + topup < self.credit_needed(cheapest)
        expire = ~revoke & ((age >= v.credit_validity_weeks) | broke)
        closing = revoke | expire
        closed = holders[closing]
        self.model.ledger.credit_forfeited += float(state.credit_left_idr[closed].sum(dtype=np.float64))
        state.credit_left_idr[closed] = 0.0
        state.status[holders[revoke]] = REVOKED
        state.status[holders[expire]] = FINISHED
        self._holders = holders[~closing]
        self.week_flows["revoked"] = int(revoke.sum())

    def _shop(self, week: int) -> None:
        """Holders of credit pick a course from their page or wait; buyers enrol."""
        model = self.model
        state = model.state
        holders = self._holders  # still holding after _close_cards, ascending
        returning = state.courses_bought[holders] > 0
        back = holders[returning]  # a returning buyer visits with probability revisit_share
        revisit = Draws.of(self.seed, "voucher:revisit", week).uniforms(back)
        visits = ~returning
        visits[returning] = revisit < model.params.choice.revisit_share
        shoppers = holders[visits]
        delay = self.params.counselling.wait_weeks
        if delay > 0:  # in counselling: first purchases wait delay_weeks after selection
            shoppers = shoppers[
                (state.courses_bought[shoppers] > 0) | (week - state.selected_week[shoppers] >= delay)
            ]
        shoppers = shoppers[~(self.brokerage.brokered[shoppers] & (state.courses_bought[shoppers] > 0))]
        if shoppers.size == 0:
            return
        basket = self.shoppers(shoppers, week)
        keep = 1.0 - self.market.commission_rates()[model.people.platform[shoppers]]
        noise = Draws.of(self.seed, "voucher:shopping", week)
        facts = self.course_facts(week)
        impressions = self.market.week_demand.impressions  # the kernel counts every slot shown
        shown_before = int(impressions.sum())
        brokered = self.brokerage.brokered[shoppers]
        pick = np.empty(shoppers.size, dtype=np.int64)
        choice = model.params.choice
        for who, params in ((~brokered, choice), (brokered, broker_choice(choice, self.params.brokers))):
            if who.all():  # everyone shops alike (always so with brokers off): one call
                pick = self._picks(basket, facts, keep, params, noise)
            elif who.any():
                pick[who] = self._picks(basket.subset(who), facts, keep[who], params, noise)
        self.appraised.add_options(basket, facts, int(impressions.sum()) - shown_before)
        bought = pick >= 0
        buyers = shoppers[bought]
        course = basket.options[bought, pick[bought]]
        self._enrol(week, buyers, course)

    def _picks(
        self, basket: Shoppers, facts: Market, keep: np.ndarray, params: Choice, noise: Draws
    ) -> np.ndarray:
        """The column each shopper of ``basket`` picks (-1 = wait) from the courses ``facts``
        under the weights ``params``; adds what the choice sets are expected to bring to the
        week's demand tally (``keep``: the provider's share of each shopper's purchase)."""
        tally = (self.market.week_demand, keep, self.market.alternative_prices())
        return shop(basket, facts, params, noise, *tally)

    def shoppers(self, rows: np.ndarray, week: int) -> Shoppers:
        """The participants ``rows`` as the shoppers of ``week``, with the courses each one sees.
        Every draw of a shopper is keyed by the person and the week
        (:mod:`simulation.rules.keyed_draws`)."""
        state, people = self.model.state, self.model.people
        return Shoppers(
            options=self.choice_sets(rows, week),
            sector=people.sector[rows],
            region=people.region[rows],
            internet=people.internet[rows],
            weekly_hours=people.weekly_hours[rows],
            credit_left_idr=state.credit_left_idr[rows],
            courses_bought=state.courses_bought[rows],
            last_course=state.course[rows],
            person=rows,
            motive=self._motives(rows),
        )

    def _motives(self, rows: np.ndarray) -> np.ndarray | None:
        """Each shopper's motive (``simulation.rules.choice``): incentive seekers are those who
        joined for the cash, when ``choice.incentive_seekers`` is on (else None: all ordinary)."""
        if not self.model.params.choice.incentive_seekers.enabled:
            return None
        motivated = self.model.people.incentive_motivated[rows]
        return np.where(motivated, INCENTIVE_SEEKER, ORDINARY).astype(np.int8)

    def choice_sets(self, shoppers: np.ndarray, week: int) -> np.ndarray:
        """Course ids each shopper sees [n, page + others] (int32, -1 = empty slot): their
        platform's ranked page for their sector, then ``other_courses_shown`` courses drawn at
        random from the same platform's listing (``simulation.rules.kernels.choice_sets_block``,
        in blocks on the cores)."""
        model = self.model
        draws = Draws.of(self.seed, "voucher:choice_sets", week)
        market = self.market
        options = np.empty((shoppers.size, market.pages.shape[2] + self.others), dtype=np.int32)
        over_blocks(
            kernels.choice_sets_block, shoppers.size, options, shoppers.astype(np.int64), draws.week,
            draws.key, model.people.platform[shoppers], model.people.sector[shoppers], market.pages,
            market.listing_start, market.listing_flat,
        )  # fmt: skip
        return options

    def course_facts(self, week: int) -> Market:
        """Course-level facts a shopper sees this week."""
        model = self.model
        courses = model.courses
        regions = model.params.regions
        return Market(
            course_sector=courses.sector,
            course_mode=courses.mode,
            course_hours=courses.hours,
            course_difficulty=courses.difficulty,
            price_idr=courses.price_idr,
            displayed_stars=self.market.displayed_stars(),
            log_vacancies=np.log(model.world.vacancies[week]).astype(np.float32),
            travel_cost_idr=np.array([r.travel_cost_idr for r in regions], dtype=np.float32),
            credit_idr=self.params.credit_idr,
            cap_idr=self.price_cap_idr,
            max_topup_idr=self.params.max_topup_idr if self.params.topup_allowed else 0.0,
            copay_share=self.params.copay_share,
            appraisal=appraisal(
                self.seed,
                courses.true_quality,
                courses.sector,
                model.world.vacancies[week],
                self.params.free_alternatives,
                self.params.counselling,
                model.params.ratings.leniency,
            ),
        )

    def free_content(self) -> np.ndarray:
        """Whether each course's content is free elsewhere [courses] (bool; all False when the
        mechanism is off): ``simulation.rules.free_content``."""
        return free_content(self.seed, len(self.model.courses), self.params.free_alternatives)

    def _enrol(self, week: int, buyers: np.ndarray, course: np.ndarray) -> None:
        """Pay for and start the chosen courses; draw whether each will be completed."""
        model = self.model
        state, people, courses = model.state, model.people, model.courses
        price = courses.price_idr[course]
        needed = np.asarray(self.credit_needed(price), dtype=np.float32)
        credit_used = np.minimum(needed, state.credit_left_idr[buyers])
        topup = price - credit_used  # own money: the co-payment and any top-up above the credit
        state.credit_left_idr[buyers] -= credit_used
        brokered = self.brokerage.brokered[buyers]
        self.brokerage.credit_spent_idr += float(credit_used[brokered].sum(dtype=np.float64))
        state.topup_paid_idr[buyers] += topup
        commission = price.astype(np.float64) * self.market.commission_rates()[people.platform[buyers]]
        receipts = self.outcome.withhold(buyers, price - commission)  # less any pay held for placement
        self.market.book_sales(course, receipts)
        on_sale = courses.listed & courses.active[:, np.newaxis]
        owner = model.provider_affiliation[courses.provider]
        self.affiliates.add(people.platform[buyers], course, owner, on_sale, courses.true_quality)
        spent = float(credit_used.sum(dtype=np.float64))
        self.appraised.add_spending(credit_used, self.free_content()[course])
        model.ledger.record_purchases(spent, float(topup.sum(dtype=np.float64)), float(commission.sum()))
        model.ledger.charge_admin(spent, self.params.admin_cost_share)
        weeks = np.maximum(np.ceil(courses.hours[course] / people.weekly_hours[buyers]), 1)
        fit = (courses.sector[course] == people.sector[buyers]).astype(np.float32)
        pending = (state.courses_completed[buyers] == 0) & (self.params.incentive.amount_idr > 0)
        p_complete = completion_probability(
            people.motivation[buyers],
            pending,
            courses.true_quality[course],
            fit,
            courses.difficulty[course],
            model.params.completion,
        )
        fake = self.integrity.collude(
            week, buyers, course, receipts, credit_used, price - commission, p_complete
        )
        if fake.any():  # a fake course ends the following week and is certified
            weeks = np.where(fake, 1, weeks)
            p_complete = np.where(fake, 1.0, p_complete)
        if self.brokerage.brokers.enabled:  # the broker clicks through the course
            p_complete = np.where(brokered, np.float32(1.0), p_complete)
        model.enrol(week, buyers, course, weeks.astype(np.int16), p_complete)
        self.purchases.add(
            price,
            courses.true_quality[course],
            fit == 0,
            needed - credit_used,  # the top-up above the credit left (0 with a co-payment alone)
            courses.potential_quality[course],
            _at(self.market.course_caps_idr(), course),
            course,
        )
        self.week_flows["enrolments"] = buyers.size
        self.week_flows["credit_spent_idr"] = spent


class AppraisalTally:
    """Running sums for the free-alternatives and counselling metrics: credit spent (simulated
    IDR) in all and on courses whose content is free elsewhere; options shown and vetoed."""

    def __init__(self) -> None:
        self.credit_spent_idr = 0.0
        self.free_credit_idr = 0.0
        self.options_shown = 0
        self.options_vetoed = 0

    def add_spending(self, credit_used: np.ndarray, free: np.ndarray) -> None:
        """One week's purchases: credit used [purchases], IDR, and whether each course is free."""
        self.credit_spent_idr += float(credit_used.sum(dtype=np.float64))
        self.free_credit_idr += float(credit_used[free].sum(dtype=np.float64))

    def add_options(self, shoppers: Shoppers, market: Market, shown_slots: int) -> None:
        """One week's choice sets: ``shown_slots``, the non-empty slots shown (the shopping
        kernel's impressions), and those vetoed for the shopper's region (structured choice)."""
        self.options_shown += shown_slots
        if market.appraisal is None or market.appraisal.veto is None:
            return
        shown = shoppers.options >= 0
        region = np.broadcast_to(shoppers.region[:, None], shown.shape)[shown]
        self.options_vetoed += int(np.count_nonzero(market.appraisal.veto[shoppers.options[shown], region]))

    def free_content_share(self) -> float | None:
        """Share of credit spent on courses whose content is free elsewhere (None: none spent)."""
        return self.free_credit_idr / self.credit_spent_idr if self.credit_spent_idr > 0 else None

    def vetoed_share(self) -> float | None:
        """Share of the options shown that the counsellor vetoed (None: none shown)."""
        return self.options_vetoed / self.options_shown if self.options_shown else None


class PurchaseTally:
    """Running sums over purchases, enough for the summary without a purchase log, and a
    histogram of prices paid (``PRICE_BINS`` equal bins from 0 to the cap)."""

    PRICE_BINS = 40

    def __init__(self, cap_idr: float) -> None:
        self.cap_idr = cap_idr
        self.count = 0
        self.price_sum_idr = 0.0
        self.at_cap = 0
        self.quality_sum = 0.0
        self.shading_sum = 0.0  # potential less delivered quality, summed over purchases
        self.mismatched = 0
        self.with_topup = 0
        self.price_square_sum = 0.0  # IDR^2, for the spread of prices paid
        self.course_quality_sum = np.zeros(0)  # per course: delivered quality summed over its purchases
        self.price_edges_idr = np.linspace(0.0, max(cap_idr, 1000.0), self.PRICE_BINS + 1)
        self.price_counts = np.zeros(self.PRICE_BINS, dtype=np.int64)

    def add(
        self,
        price: np.ndarray,
        quality: np.ndarray,
        mismatched: np.ndarray,
        topup: np.ndarray,
        potential: np.ndarray | None = None,
        cap_idr: np.ndarray | None = None,
        course: np.ndarray | None = None,
    ) -> None:
        """Add one week's purchases (arrays over purchases); ``quality`` is the delivered quality,
        ``potential`` the quality at full effort (default: the delivered one, no shading),
        ``cap_idr`` each bought course's price cap (default: the scheme's single cap), ``course``
        the course bought (for the best sellers' quality; default: not tallied by course)."""
        self.count += price.size
        self.price_sum_idr += float(price.sum(dtype=np.float64))
        self.price_square_sum += float(np.square(price, dtype=np.float64).sum())
        if course is not None:
            self.add_course_quality(course, quality)
        cap = self.cap_idr if cap_idr is None else cap_idr
        self.at_cap += int(np.count_nonzero(price >= cap - 0.5))
        self.quality_sum += float(quality.sum(dtype=np.float64))
        if potential is not None:
            self.shading_sum += float((potential.astype(np.float64) - quality).sum())
        self.mismatched += int(np.count_nonzero(mismatched))
        self.with_topup += int(np.count_nonzero(topup > 0))
        clipped = np.minimum(price, self.price_edges_idr[-1])  # top-ups may exceed the cap
        self.price_counts += np.histogram(clipped, bins=self.price_edges_idr)[0]

    def add_course_quality(self, course: np.ndarray, quality: np.ndarray) -> None:
        """Add each purchase's delivered quality to its course's sum (the array grows with entrants)."""
        n = max(self.course_quality_sum.size, int(course.max(initial=-1)) + 1)
        if n > self.course_quality_sum.size:
            self.course_quality_sum = np.concatenate(
                [self.course_quality_sum, np.zeros(n - self.course_quality_sum.size)]
            )
        self.course_quality_sum += np.bincount(course, quality.astype(np.float64), minlength=n)

    def price_cv(self) -> float | None:
        """Coefficient of variation (population sd / mean) of the prices paid over all purchases,
        from the running sums: sqrt(max(E[p^2] - E[p]^2, 0)) / E[p] (None: no purchase, or a mean
        of 0)."""
        if self.count == 0 or self.price_sum_idr <= 0:
            return None
        mean_price = self.price_sum_idr / self.count
        variance = max(self.price_square_sum / self.count - mean_price**2, 0.0)
        return float(np.sqrt(variance) / mean_price)

    def top_sellers_quality(self, enrolments: np.ndarray, offered: np.ndarray) -> float | None:
        """Enrolment-weighted mean delivered quality (0-1) of the best sellers: the
        k = max(1, ceil(TOP_SELLERS_SHARE x courses offered)) courses ``offered`` [courses] with
        the most ``enrolments`` [courses] (ties: the lower course id), each weighted by its
        enrolments and valued at the mean quality its buyers received (``course_quality_sum`` /
        enrolments). The catalogue does not grow with the sample (--size), enrolments do in
        proportion, so k and the ranking are the same at every size but for sampling noise.
        None when the best sellers sold nothing."""
        candidates = np.flatnonzero(offered)
        if candidates.size == 0:
            return None
        k = max(1, int(np.ceil(TOP_SELLERS_SHARE * candidates.size)))
        top = candidates[np.argsort(-enrolments[candidates], kind="stable")[:k]]
        sold = float(enrolments[top].sum())
        if sold <= 0:
            return None
        quality = np.zeros(enrolments.size)
        quality[: self.course_quality_sum.size] = self.course_quality_sum[: enrolments.size]
        return float(quality[top].sum() / sold)


def listed_price_metrics(price_idr: np.ndarray) -> dict[str, float | None]:
    """Mean (IDR) and coefficient of variation (population sd / mean) of the listed prices
    ``price_idr`` [courses listed]; None for both when no course is listed (the cv also when the
    mean is 0)."""
    if price_idr.size == 0:
        return {"mean_listed_price_idr": None, "listed_price_cv": None}
    price = price_idr.astype(np.float64)
    mean_price = float(price.mean())
    return {
        "mean_listed_price_idr": mean_price,
        "listed_price_cv": float(price.std() / mean_price) if mean_price > 0 else None,
    }


def affordable_recipients(scenario: Scenario) -> int:
    """Simulated recipients the voucher selects: the target intake (``scenario.size``), or fewer
    if the budget cannot pay their packages (credit, incentive, surveys and office cost) once the
    identity checks are paid for (``identity_checks_idr``). Each still stands for
    ``scenario.scale`` real people: the programme then reaches fewer real recipients and stays
    within its budget."""
    per_recipient = _package_cost_idr(scenario)
    if per_recipient <= 0:
        return scenario.size
    available = max(_voucher(scenario).budget_idr - identity_checks_idr(scenario), 0.0)
    return int(min(scenario.size, np.floor(available / per_recipient)))


def budget_in_use_idr(scenario: Scenario) -> float:
    """The part of the voucher's budget its recipients' packages and the identity checks can take
    (real IDR): the budget, or less when the intake (``size`` recipients) costs less than it."""
    packages = _package_cost_idr(scenario) * affordable_recipients(scenario)
    return float(min(_voucher(scenario).budget_idr, packages + identity_checks_idr(scenario)))


def _package_cost_idr(scenario: Scenario) -> float:
    """Real IDR one simulated recipient's package commits: credit, incentive and surveys, with the
    office's share, and counselling (0 under maximum choice), for the ``scenario.scale`` real
    recipients it stands for."""
    v = _voucher(scenario)
    return (v.package_idr * (1.0 + v.admin_cost_share) + v.counselling.cost_idr) * scenario.scale


def identity_checks_idr(scenario: Scenario) -> float:
    """Real IDR the identity check of every real applicant costs (0 when it is off):

        cost_per_check_idr x applicants_per_recipient x size x scale

    (size x scale: the real recipients of the intake). It does not depend on the evaluation's
    control sample (``population.control_per_recipient``), which only decides how many simulated
    applicants share this cost (``identity_check_per_applicant_idr``). The budget pays it before
    any package."""
    check = _voucher(scenario).identity_check
    if not check.enabled:
        return 0.0
    return check.cost_per_check_idr * check.applicants_per_recipient * scenario.size * scenario.scale


def identity_check_per_applicant_idr(scenario: Scenario, applicants: int) -> float:
    """Simulated IDR booked for checking one of the ``applicants`` simulated applicants (the
    world's people: recipients and controls; 0 when the check is off):

        cost_per_check_idr x applicants_per_recipient x size / applicants

    so that checking all of them books ``identity_checks_idr`` / scale, whatever the control
    sample: each simulated applicant stands for applicants_per_recipient x size x scale /
    applicants real ones."""
    check = _voucher(scenario).identity_check
    if not check.enabled or applicants <= 0:
        return 0.0
    return check.cost_per_check_idr * check.applicants_per_recipient * scenario.size / applicants


def _voucher(scenario: Scenario) -> Voucher:
    if scenario.voucher is None:
        raise ValueError("the voucher scheme needs a 'voucher:' block in the scenario")
    return scenario.voucher


def wave_quotas(recipients: int, waves: int) -> list[int]:
    """Recipients per wave, as equal as whole numbers allow (they sum to ``recipients``)."""
    return [recipients * (w + 1) // waves - recipients * w // waves for w in range(waves)]


def _at(caps: float | np.ndarray, rows: np.ndarray) -> np.ndarray | None:
    """Per-course caps at ``rows``, or None for the scheme's single cap."""
    return None if isinstance(caps, float) else caps[rows]


def _min(values: np.ndarray) -> float:
    return float(values.min()) if values.size else float("inf")
