"""The voucher's integrity: fake completions and the controls that catch them (issue 10).

The decision rules are in :mod:`simulation.rules.integrity`; this module applies them to the
voucher's participants, courses and sellers and books the money:

* at enrolment (``collude``), each buyer and the course's seller decide whether to fake the
  course; a fake ends the following week, will complete, and its seller books no delivery cost;
* when courses end (``finish``), with ``voucher.completion_check`` every completion is checked
  (its cost booked); a fake is caught with the detection rate (keyed draw ``completion_check``):
  no completion, no incentive, the seller repays its receipts (``clawback``), the card may be
  revoked (``revoke_card``, credit left forfeited); fakes that pass complete with no skill;
* every price-review week (``audit``), with ``voucher.audits``, each active seller is audited with
  chance ``share`` (stream ``voucher:audits``); it repays ``catch_rate`` of the receipts of its
  fakes since its last audit (the expected share found) and is found faking with chance
  1 - (1 - pi)^E (``rules.integrity.found_faking_chance``: E its expected real fakes since its
  last audit: its expected sales x scale x its buyers' mean chance of colluding, not a lumpy count
  of simulated fakes x scale); found, with ``blacklist``, it is delisted from every platform and
  exits.

Money: checks and audits are out of the treasury (``Ledger.record_controls``), clawbacks back into
it (``Ledger.record_clawback``); the seller's cash and its courses' net revenue fall by what it
repays. Every draw is new (keyed ``fake_completion:honesty`` and ``completion_check``, stream
``voucher:audits``): switched off, nothing is drawn and the run is bit for bit the one without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.config.streams import stream
from simulation.market.participants import REVOKED
from simulation.rules import integrity
from simulation.rules.keyed_draws import Draws

if TYPE_CHECKING:
    from simulation.schemes.voucher import VoucherScheme


class IntegrityControls:
    """Fake completions and the controls of one voucher run (``scheme.params``)."""

    def __init__(self, scheme: VoucherScheme):
        self.scheme = scheme
        self.model = model = scheme.model
        v = scheme.params
        self.fake, self.check, self.audits = v.fake_completion, v.completion_check, v.audits
        n = len(model.state.status)
        self.faked = np.zeros(n, dtype=bool)  # the current course is a fake
        self.unlocked = np.zeros(n, dtype=bool)  # the first completion was a fake
        self.fake_receipts_idr = np.zeros(n)  # the seller's net receipts for the current fake
        self.course_fakes = np.zeros(len(model.courses))  # fakes passed since the seller's last audit
        self.course_fake_receipts_idr = np.zeros(len(model.courses))  # their receipts, simulated IDR
        self.course_expected_sales = np.zeros(len(model.courses))  # expected sales since the last audit
        self.seller_chance = np.zeros(len(model.providers))  # sum of its buyers' collusion chances
        self.seller_buyers = np.zeros(len(model.providers))  # its buyers (simulated), since the start
        self.honesty_idr = np.zeros(0)
        self.honesty_scale_idr = np.zeros(0)  # each person's median honesty cost (times the factor)
        if self.fake.enabled:
            self.honesty_scale_idr = integrity.honesty_cost_idr(
                np.zeros(n),
                model.people.incentive_motivated,
                self.fake.honesty_cost_median_idr,
                0.0,
                self.fake.incentive_motivated_factor,
            )
            rows = np.arange(n, dtype=np.int64)
            z = Draws.of(scheme.seed, "fake_completion:honesty", 0).normals(rows)
            self.honesty_idr = integrity.honesty_cost_idr(
                z,
                model.people.incentive_motivated,
                self.fake.honesty_cost_median_idr,
                self.fake.honesty_cost_sd_log,
                self.fake.incentive_motivated_factor,
            )
        self.totals = dict.fromkeys(
            ("fakes", "caught", "credit_idr", "incentives_idr", "surveys_idr", "audits", "blacklisted"), 0.0
        )

    # ------------------------------------------------------------------ enrolment
    def detection(self) -> float:
        """Chance the completion check catches a fake (0 without the check)."""
        return self.check.detection_rate if self.check.enabled else 0.0

    def collude(
        self,
        week: int,
        buyers: np.ndarray,
        course: np.ndarray,
        receipts_idr: np.ndarray,
        credit_idr: np.ndarray,
        net_idr: np.ndarray,
        p_honest: np.ndarray,
    ) -> np.ndarray:
        """Which of this week's purchases are faked (bool per buyer; ``rules.integrity``).
        ``receipts_idr`` is what the seller is paid now per purchase (what a clawback takes back),
        ``credit_idr`` the credit it used, ``net_idr`` the price net of commission (with outcome
        pay, the receipts plus the pay held for placement); IDR per person. ``p_honest`` is each
        buyer's chance of completing the course honestly (what the fake is weighed against)."""
        fake = np.zeros(buyers.size, dtype=bool)
        if not self.fake.enabled:
            return fake
        self._grow(len(self.model.courses))
        self.course_expected_sales += self.scheme.market.week_demand.sales
        if buyers.size == 0:
            return fake
        before_honesty = self._buyer_gain(buyers, course, p_honest)
        seller = self._seller_gain(week, course, receipts_idr, net_idr)
        fake = integrity.colludes(before_honesty - self.honesty_idr[buyers], seller, self.fake.side_payment)
        chance = integrity.collusion_chance(
            before_honesty,
            seller,
            self.honesty_scale_idr[buyers],
            self.fake.honesty_cost_sd_log,
            self.fake.side_payment,
        )
        owner, n = self.model.courses.provider[course], len(self.model.providers)
        self.seller_chance += np.bincount(owner, chance, minlength=n)
        self.seller_buyers += np.bincount(owner, minlength=n)
        self.faked[buyers] = fake
        self.fake_receipts_idr[buyers] = np.where(fake, receipts_idr, 0.0)
        self.totals["credit_idr"] += float(credit_idr[fake].sum(dtype=np.float64))
        market = self.scheme.market  # a fake costs its seller nothing to deliver
        market.week_trainees -= np.bincount(course[fake], minlength=market.week_trainees.size)
        return fake

    def _buyer_gain(self, buyers: np.ndarray, course: np.ndarray, p_honest: np.ndarray) -> np.ndarray:
        """Each buyer's gain from faking before its honesty cost, IDR (``participant_gain_idr``)."""
        v, state = self.scheme.params, self.model.state
        cash = v.incentive.amount_idr * v.incentive.months
        cash += v.survey.amount_idr * v.survey.count * v.survey.response_rate
        pending = np.where(state.courses_completed[buyers] == 0, cash, 0.0)
        sanction = state.credit_left_idr[buyers] if self.check.revoke_card else 0.0
        return integrity.participant_gain_idr(
            pending,
            self.detection(),
            np.asarray(p_honest, dtype=np.float64),
            sanction,
            self.model.courses.hours[course],
            self.fake.time_value_idr_per_hour,
            np.zeros(buyers.size),
        )

    def _seller_gain(
        self, week: int, course: np.ndarray, receipts_idr: np.ndarray, net_idr: np.ndarray
    ) -> np.ndarray:
        """Each seller's gain from faking, IDR per trainee; a fake forgoes the placement pay that
        the quality it would teach earns (outcome pay: like a mission, ``rules.outcome_pay``).
        With ``blacklist`` the listing term is L = (1 - pi)^F V (``rules.integrity``): V the
        seller's mean expected weekly profit over its last weeks (real IDR, ``Provider.
        recent_expected_profits_idr``; before its first week, this week's expected profit; 0 when
        negative: a seller expecting losses has no listing to lose) x the weeks left,
        F its expected real fakes since its last audit."""
        model, market = self.model, self.scheme.market
        courses, providers = model.courses, model.providers
        owner = courses.provider[course]
        mission = model.provider_mission_idr[owner]
        refusing = np.array(
            [
                p.kind in self.fake.refusing_types or (self.fake.mission_refuses and p.mission_weight_idr > 0)
                for p in providers
            ]
        )[owner]
        review_weeks = model.params.pricing.review_weeks
        weeks_left = market.weeks_left(week)
        audited = audit_catch = 0.0
        if self.audits.enabled:
            periods = weeks_left / review_weeks
            audited = integrity.audit_catch_chance(self.audits.share, 1.0, periods)
            audit_catch = integrity.audit_catch_chance(self.audits.share, self.audits.catch_rate, periods)
        listing: np.ndarray | float = 0.0
        if self.audits.enabled and self.audits.blacklist:
            demand = market.week_demand  # this week's expected margin: a seller with no history yet
            margin_now = demand.net_revenue_idr - demand.sales * market.delivery_cost_idr()
            now = np.bincount(courses.provider, margin_now, minlength=len(providers)) * model.scale
            now -= model.params.providers.fixed_cost_weekly_idr
            weekly = np.array(
                [
                    np.mean(p.recent_expected_profits_idr)
                    if p.recent_expected_profits_idr
                    else now[p.provider_id]
                    for p in providers
                ]
            )
            value = np.maximum(weekly, 0.0) * weeks_left
            pi = integrity.fake_found_chance(self.detection(), self.audits.catch_rate)
            listing = integrity.listing_loss_idr(value, self._expected_fakes_by_provider(), pi)[owner]
        sanction = integrity.expected_sanction_idr(
            self.detection(),
            receipts_idr if self.check.clawback else 0.0,
            audited,
            audit_catch,
            receipts_idr,
            listing,
        )
        cost_saved = market.delivery_cost_idr()[course]
        mission = mission + self.scheme.outcome.quality_value_idr(net_idr)
        gain = integrity.provider_gain_idr(cost_saved, mission, courses.true_quality[course], sanction)
        return np.where(refusing, -np.inf, gain)

    # ------------------------------------------------------------------ end of courses
    def finish(self, week: int, done: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split this week's completers ``done`` into honest completions and fakes that pass the
        completion check (which checks every completion, at its cost); fakes caught fail."""
        if self.check.enabled and done.size:
            self.model.ledger.record_controls(self.check.cost_per_check_idr * done.size, 0.0)
        if not self.fake.enabled:
            return done, done[:0]
        fake = self.faked[done]
        fakes = done[fake]
        self.faked[fakes] = False
        caught = np.zeros(fakes.size, dtype=bool)
        if self.check.enabled and fakes.size:
            caught = (
                Draws.of(self.scheme.seed, "completion_check", week).uniforms(fakes)
                < self.check.detection_rate
            )
            self._punish_caught(fakes[caught])
        passed = fakes[~caught]
        course = self.model.state.course[passed]
        n = len(self.model.courses)
        self._grow(n)
        self.course_fakes += np.bincount(course, minlength=n)
        self.course_fake_receipts_idr += np.bincount(course, self.fake_receipts_idr[passed], minlength=n)
        self.totals["fakes"] += passed.size
        self.totals["caught"] += int(caught.sum())
        return done[~fake], passed

    def mark_unlocked(self, first_fakes: np.ndarray) -> None:
        """People whose first completion was a fake: the cash it unlocks is paid without training."""
        self.unlocked[first_fakes] = True

    def _punish_caught(self, rows: np.ndarray) -> None:
        """Fakes the check caught: the seller repays (``clawback``), the card may be revoked."""
        model = self.model
        if self.check.clawback:
            self._claw_back(model.state.course[rows], self.fake_receipts_idr[rows])
        if self.check.revoke_card and rows.size:
            state = model.state
            model.ledger.credit_forfeited += float(state.credit_left_idr[rows].sum(dtype=np.float64))
            state.credit_left_idr[rows] = 0.0
            state.status[rows] = REVOKED

    def _claw_back(self, course: np.ndarray, amount_idr: np.ndarray) -> None:
        """Sellers repay ``amount_idr`` (simulated IDR) of their receipts for ``course`` (one
        entry each): out of the courses' net revenue and the sellers' cash, into the treasury."""
        model = self.model
        n = len(model.courses)
        per_course = np.bincount(course, amount_idr, minlength=n)
        model.courses.net_revenue_idr -= per_course
        model.ledger.record_clawback(float(per_course.sum()))
        per_provider = np.bincount(model.courses.provider, per_course, minlength=len(model.providers))
        for p in np.flatnonzero(per_provider):  # the sellers that repay: a few, not participants
            model.providers[p].book(-per_provider[p] * model.scale)

    def _grow(self, n: int) -> None:
        """Extend the per-course tallies to ``n`` courses (entrants)."""
        extra = n - self.course_fakes.size
        if extra > 0:
            self.course_fakes = np.concatenate([self.course_fakes, np.zeros(extra)])
            self.course_fake_receipts_idr = np.concatenate([self.course_fake_receipts_idr, np.zeros(extra)])
            self.course_expected_sales = np.concatenate([self.course_expected_sales, np.zeros(extra)])
        sellers = len(self.model.providers) - self.seller_buyers.size  # entrants
        if sellers > 0:
            self.seller_chance = np.concatenate([self.seller_chance, np.zeros(sellers)])
            self.seller_buyers = np.concatenate([self.seller_buyers, np.zeros(sellers)])

    def _expected_fakes_by_provider(self) -> np.ndarray:
        """Each seller's expected real fakes since its last audit [providers]: its expected sales
        since then (the sum of the logit probabilities of the shoppers shown its courses, smooth in
        the sample) x scale x its buyers' mean chance of colluding (since the start)."""
        model = self.model
        self._grow(len(model.courses))
        sales = np.bincount(
            model.courses.provider, self.course_expected_sales, minlength=len(model.providers)
        )
        rate = np.divide(
            self.seller_chance, self.seller_buyers, out=np.zeros(sales.size), where=self.seller_buyers > 0
        )
        return sales * rate * model.scale

    # ------------------------------------------------------------------ cash and audits
    def count_cash(self, paid: np.ndarray, answered: np.ndarray) -> None:
        """Incentives and surveys paid this week to people a fake completion unlocked."""
        if not self.fake.enabled:
            return
        v = self.scheme.params
        self.totals["incentives_idr"] += v.incentive.amount_idr * int(self.unlocked[paid].sum())
        self.totals["surveys_idr"] += v.survey.amount_idr * int(self.unlocked[answered].sum())

    def audit(self, week: int) -> None:
        """Audits of a review week: each active seller with chance ``share``. An audited seller
        repays ``catch_rate`` x the receipts of its passed fakes since its last audit (the share
        an audit finds, in expectation), and is found faking with chance 1 - (1 - pi)^E
        (``rules.integrity.found_faking_chance``, uniform ``u_find``), pi = d + (1 - d) c, E its
        expected real fakes since its last audit; with ``blacklist`` a seller found is delisted
        everywhere and exits."""
        spec, model = self.audits, self.model
        if not spec.enabled or week == 0 or week % model.params.pricing.review_weeks:
            return
        courses, providers = model.courses, model.providers
        self._grow(len(courses))
        rng = stream(self.scheme.seed, "voucher:audits", week)
        u_audit, u_find = rng.random(len(providers)), rng.random(len(providers))
        active = np.zeros(len(providers), dtype=bool)
        active[[p.provider_id for p in self.scheme.market.sellers if p.active]] = True
        audited = active & (u_audit < spec.share)
        chance = integrity.found_faking_chance(
            self._expected_fakes_by_provider(), self.detection(), spec.catch_rate
        )
        found_faking = audited & (u_find < chance)  # an audit reads the failed checks too
        cleared = audited[courses.provider]  # an audit clears the record since the last one
        self._claw_back(
            np.arange(len(courses)), np.where(cleared, spec.catch_rate * self.course_fake_receipts_idr, 0.0)
        )
        self.course_fakes[cleared] = 0.0
        self.course_fake_receipts_idr[cleared] = 0.0
        self.course_expected_sales[cleared] = 0.0
        model.ledger.record_controls(0.0, spec.cost_per_audit_idr * int(audited.sum()) / model.scale)
        self.totals["audits"] += int(audited.sum())
        if spec.blacklist:
            for p in np.flatnonzero(found_faking):  # sellers found faking: a few organisations
                courses.listed[providers[p].courses, :] = False
                providers[p].exit_market()
                self.totals["blacklisted"] += 1

    # ------------------------------------------------------------------ metrics
    def metrics(self) -> dict[str, float | int | None]:
        """The integrity metrics of the mechanisms switched on (registry: optional)."""
        model, t = self.model, self.totals
        scale, ledger = model.scale, model.ledger
        out: dict[str, float | int | None] = {}
        if self.fake.enabled:
            unlocked = t["incentives_idr"]
            out["fake_completions"] = t["fakes"] * scale
            out["fakes_caught_by_check"] = t["caught"] * scale
            out["paid_without_training_idr"] = (
                t["credit_idr"] + unlocked + t["surveys_idr"] - ledger.clawbacks
            ) * scale
            out["incentive_without_training_share"] = (
                unlocked / ledger.incentives if ledger.incentives else None
            )
        if self.audits.enabled:
            out["audits"] = int(t["audits"])
            out["providers_blacklisted"] = int(t["blacklisted"])
        if self.fake.enabled or self.check.enabled or self.audits.enabled:
            out["clawbacks_idr"] = ledger.clawbacks * scale
            out["integrity_controls_cost_idr"] = (ledger.checks + ledger.audits) * scale
        return out
