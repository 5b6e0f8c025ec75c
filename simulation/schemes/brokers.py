"""Account brokers ("joki") and the identity check against them, in the voucher scheme.

Brokers register voucher accounts for people outside the target group (or borrowed identities),
take the course for them and keep a cut of the cash (CALIBRATION.md, "Quality, gaming and
leakage": a fee from Rp300k or a cut after acceptance, one broker claimed 400 accounts; the state
auditor found 119,494 ineligible participants with wages above Rp3.5 m a month, Rp289.85 bn, 2021).
Both mechanisms are off by default (``voucher.brokers``, ``voucher.identity_check``). The rules:

* **Who is brokered.** Applicant i is a brokered account iff U_i < ``brokers.share``, with U_i the
  person's keyed uniform of purpose ``voucher:brokered`` (drawn for every applicant, before and
  independently of the lottery): brokered accounts are applicants in both arms of the lottery,
  in the same expected share, and no other draw moves.
* **Identity check.** Every applicant is checked once, when first in a lottery's pool. The check
  covers the programme's real applicants, ``applicants_per_recipient`` per real recipient, not the
  evaluation's sample: each simulated applicant checked books ``cost_per_check_idr`` x
  ``applicants_per_recipient`` x size / (simulated applicants) simulated IDR
  (``voucher.identity_check_per_applicant_idr``), so that checking them all costs
  cost_per_check_idr x applicants_per_recipient x real recipients, whatever
  ``population.control_per_recipient`` (the ledger's ``identity_checks``, part of the treasury's
  outflow). Applicants who never enter a pool are never checked;
  a brokered account is detected iff V_i < ``detection_rate`` (keyed uniform ``voucher:identity_
  check``; nobody else is flagged). Detected accounts are never selected: their places go to the
  next applicants of the draw. They also leave the evaluation: the lottery is among verified
  applicants, so a detected account is neither offered nor in the comparison group, and the
  undetected brokered accounts are in both arms at the same rate.
* **Shopping.** A brokered account buys once, at its first visit, and never again: the logit of
  ``simulation.rules.choice`` on the same keyed noise with the utility

      u_j = - price_weight * price_j / credit - weeks_weight * ceil(hours_j / weekly hours)
            - travel and co-payment terms as for anyone,

  and waiting at -UTILITY_LIMIT (``broker_choice``), i.e. (almost surely) the cheapest, shortest
  course on its page. The broker clicks through the course: it is completed with probability 1.
* **Outcomes.** The holder of a brokered account is outside the target group and takes no course:
  completing one adds no skill (it is taught at quality 0), the cash is not the holder's job-search
  liquidity (recorded as received, ``LabourMarket.add_cash(..., liquid=False)``) and the course
  locks nobody in (``MarketModel.absent``). A brokered row's employment path is therefore its
  untreated twin's, exactly: it adds zero to every true effect and, being in both arms, nothing
  but dilution to the ITT; its employment never counts as a programme effect.
* **Money.** Credit spent on and cash paid to brokered accounts is mis-targeted spending; the
  broker keeps ``fee_share`` of the cash (incentive and surveys) paid to them: the ledger's
  ``broker_fees``, a part of the cash paid to participants that ends with brokers.

The tender has no such channel: its seats are taken in person at a centre, after a placement
test, so registration brokers are not modelled there (an asymmetry in the voucher's disfavour,
stated in the README's comparison).
"""

from __future__ import annotations

import numpy as np

from simulation.config.scenario import UTILITY_LIMIT, Brokers, Choice, IdentityCheck, IncentiveSeekers
from simulation.market.ledger import Ledger
from simulation.rules.keyed_draws import Draws


class Brokerage:
    """Which applicants are brokered accounts, which were checked and detected, and what the
    accounts received (simulated IDR: multiply by the scale for national totals)."""

    def __init__(
        self, seed: int, n: int, brokers: Brokers, check: IdentityCheck, check_cost_idr: float = 0.0
    ):
        """``check_cost_idr``: simulated IDR booked per applicant checked
        (``voucher.identity_check_per_applicant_idr``)."""
        self.seed = seed
        self.brokers = brokers
        self.check = check
        self.check_cost_idr = check_cost_idr
        rows = np.arange(n, dtype=np.int64)
        self.brokered = np.zeros(n, dtype=bool)
        if brokers.enabled:
            self.brokered = Draws.of(seed, "voucher:brokered", 0).uniforms(rows) < brokers.share
        self.checked = np.zeros(n, dtype=bool)
        self.detected = np.zeros(n, dtype=bool)
        self.credit_spent_idr = 0.0  # credit spent on courses by brokered accounts
        self.cash_idr = 0.0  # incentive and survey cash paid to brokered accounts
        self.fees_idr = 0.0  # the brokers' cut of that cash

    @property
    def active(self) -> bool:
        """True when either mechanism is on."""
        return self.brokers.enabled or self.check.enabled

    def screen(self, pool: np.ndarray, ledger: Ledger) -> np.ndarray:
        """The rows of ``pool`` that may be selected: with the identity check on, those not yet
        checked are checked (booked in ``ledger``) and every detected account is left out."""
        if not self.check.enabled:
            return pool
        new = pool[~self.checked[pool]]
        self.checked[new] = True
        draw = Draws.of(self.seed, "voucher:identity_check", 0).uniforms(new)
        self.detected[new[self.brokered[new] & (draw < self.check.detection_rate)]] = True
        ledger.record_identity_checks(self.check_cost_idr * new.size)
        return pool[~self.detected[pool]]

    def pay(self, rows: np.ndarray, amount_idr: float, ledger: Ledger) -> np.ndarray:
        """Cash of ``amount_idr`` each to ``rows`` (a row listed twice is paid twice): the part
        paid to brokered accounts is tallied, the brokers' cut booked in ``ledger``. Returns the
        mask of ``rows`` that are brokered."""
        mask = self.brokered[rows]
        cash = amount_idr * int(np.count_nonzero(mask))
        self.cash_idr += cash
        self.fees_idr += self.brokers.fee_share * cash
        ledger.record_broker_fees(self.brokers.fee_share * cash)
        return mask

    def metrics(self, selected: np.ndarray, scale: float) -> dict[str, float | None]:
        """The summary metrics of whichever mechanism is on (real people and IDR)."""
        values: dict[str, float | None] = {}
        if self.brokers.enabled:
            recipients = int(np.count_nonzero(selected))
            brokered = int(np.count_nonzero(self.brokered & selected))
            values["brokered_share"] = brokered / recipients if recipients else None
            values["mistargeted_spending_idr"] = (self.credit_spent_idr + self.cash_idr) * scale
            values["broker_fees_idr"] = self.fees_idr * scale
        if self.check.enabled:
            values["brokered_detected"] = int(np.count_nonzero(self.detected)) * scale
        return values


def broker_choice(params: Choice, brokers: Brokers) -> Choice:
    """The shopping weights of a brokered account: price and weeks only (steep), no quality,
    relevance, demand, effort, price signal or internet terms; waiting is never worth it."""
    return params.model_copy(
        update={
            "outside_utility": -UTILITY_LIMIT,
            "outside_shift_per_course": 0.0,
            "quality_weight": 0.0,
            "relevance_weight": 0.0,
            "demand_weight": 0.0,
            "effort_weight": 0.0,
            "price_signal_weight": 0.0,
            "credit_shadow_value": brokers.price_weight,
            "weeks_weight": brokers.weeks_weight,
            "no_internet_penalty": 0.0,
            "incentive_seekers": IncentiveSeekers(),
        }
    )
