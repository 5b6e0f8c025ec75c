"""The programme's books: every IDR that leaves the treasury and where it goes.

Amounts are simulated IDR (multiply by the world's scale for national totals). The identities

    treasury out + participants' top-ups = providers + platforms + participants + admin + curation
    + counselling + identity checks
    (treasury out = credit spent + contract payments + incentives + surveys + allowances + admin
    + curation + counselling + identity checks + completion checks + audits - penalties -
    clawbacks - outcome pay held (withheld, not paid); providers' receipts are net of the
    penalties and clawbacks they paid back and of the outcome pay withheld until placement;
    curation is what the office spends reviewing courses, paid to its reviewers; checks and audits
    are received by the office; brokers' fees are a transfer inside the cash paid to participants)
    credit issued = credit spent + credit forfeited + credit still on cards
    broker fees <= incentives + surveys (the part of participants' cash that brokers keep)

(participants' top-ups: all their own money, the co-payment share of each price and any top-up above
the credit left) hold at every week; tests check them against independent sums over agents and participants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Ledger:
    """Running totals of money flows, simulated IDR."""

    credit_issued: float = 0.0
    credit_spent: float = 0.0
    credit_forfeited: float = 0.0
    topups: float = 0.0  # participants' own money: co-payments (voucher.copay_share) and top-ups above credit
    provider_receipts: float = 0.0
    platform_commission: float = 0.0
    incentives: float = 0.0  # post-training cash incentive
    surveys: float = 0.0  # survey payments
    admin: float = 0.0  # programme office cost
    contract_payments: float = 0.0  # paid to contractors under a tender
    penalties: float = 0.0  # paid back to the treasury by contractors found shading (tender)
    allowances: float = 0.0  # the tender's allowance to trainees (cash to participants)
    curation: float = 0.0  # the office's cost of reviewing courses (voucher curation)
    counselling: float = 0.0  # counselling before purchase (voucher), paid to the counsellors
    checks: float = 0.0  # completion checks (voucher.completion_check): paid by the treasury
    audits: float = 0.0  # audits of sellers (voucher.audits): paid by the treasury
    clawbacks: float = 0.0  # receipts for faked courses repaid by sellers (voucher), to the treasury
    outcome_withheld: float = 0.0  # sellers' receipts withheld at purchase until placement (voucher)
    outcome_paid: float = 0.0  # withheld receipts paid to sellers on placement
    outcome_returned: float = 0.0  # withheld receipts returned to the treasury (no completion or placement)
    identity_checks: float = 0.0  # paid for verifying applicants' identities (voucher)
    broker_fees: float = 0.0  # of the cash paid to brokered accounts, what the brokers kept (voucher)

    def record_purchases(self, credit_used: float, topups: float, commission: float) -> None:
        """Course purchases: credit and top-ups in, split into commission and provider receipts."""
        self.credit_spent += credit_used
        self.topups += topups
        self.platform_commission += commission
        self.provider_receipts += credit_used + topups - commission

    def record_contract_payment(self, amount: float) -> None:
        """A payment to a contractor (tender): out of the treasury, into a provider's receipts."""
        self.contract_payments += amount
        self.provider_receipts += amount

    def record_penalty(self, amount: float) -> None:
        """A penalty a contractor pays back (tender): out of its receipts, back to the treasury."""
        self.penalties += amount
        self.provider_receipts -= amount

    def record_clawback(self, amount: float) -> None:
        """Receipts a seller repays for courses found faked (voucher): back to the treasury."""
        self.clawbacks += amount
        self.provider_receipts -= amount

    def record_withheld(self, amount: float) -> None:
        """Receipts withheld from sellers at purchase until placement (outcome pay): they stay in
        the treasury, out of the sellers' receipts."""
        self.outcome_withheld += amount
        self.provider_receipts -= amount

    def record_outcome(self, paid: float, returned: float) -> None:
        """Withheld receipts settled: ``paid`` to sellers on placement, ``returned`` for good."""
        self.outcome_paid += paid
        self.provider_receipts += paid
        self.outcome_returned += returned

    @property
    def outcome_held(self) -> float:
        """Withheld receipts not paid to sellers: returned, or still waiting for placement."""
        return self.outcome_withheld - self.outcome_paid

    def record_controls(self, checks: float, audits: float) -> None:
        """Cost of completion checks and audits: out of the treasury, to the office."""
        self.checks += checks
        self.audits += audits

    def record_cash(self, incentives: float, surveys: float) -> None:
        """Cash paid to participants."""
        self.incentives += incentives
        self.surveys += surveys

    def record_counselling(self, amount: float) -> None:
        """Counselling before purchase (voucher): out of the treasury, to the counselling service."""
        self.counselling += amount

    def record_allowances(self, amount: float) -> None:
        """The tender's allowance paid to trainees: out of the treasury, to participants."""
        self.allowances += amount

    def record_curation(self, amount: float) -> None:
        """The office's cost of reviewing courses: out of the treasury, to its reviewers."""
        self.curation += amount

    def record_identity_checks(self, amount: float) -> None:
        """Identity checks of applicants: out of the treasury, to whoever verifies them."""
        self.identity_checks += amount

    def record_broker_fees(self, amount: float) -> None:
        """Brokers' cut of cash paid to brokered accounts: a transfer from participants to
        brokers inside ``cash_paid``, which moves no total."""
        self.broker_fees += amount

    @property
    def cash_paid(self) -> float:
        """Cash paid to participants: incentives, surveys and allowances."""
        return self.incentives + self.surveys + self.allowances

    def charge_admin(self, outflow: float, admin_share: float) -> None:
        """Office cost as a share of money paid out (credit spent and cash)."""
        self.admin += admin_share * outflow

    @property
    def treasury_out(self) -> float:
        """Government money spent: credit used, contract payments, cash to participants, office,
        curation, counselling, identity checks, completion checks and audits, less the penalties
        contractors and the clawbacks sellers paid back, and less the receipts withheld for
        placement and not paid (``outcome_held``)."""
        spent = self.credit_spent + self.contract_payments + self.cash_paid + self.admin - self.penalties
        spent += self.curation + self.counselling + self.identity_checks
        if self.checks or self.audits or self.clawbacks:  # kept apart: the default sum stays bit for bit
            spent += self.checks + self.audits - self.clawbacks
        if self.outcome_withheld:
            spent -= self.outcome_held
        return spent

    @property
    def received(self) -> float:
        """Money received by providers, platforms, participants (cash, of which brokers kept
        ``broker_fees``), the office (its share, and the checks and audits it runs), its course
        reviewers, the counselling service and the identity checks."""
        received = self.provider_receipts + self.platform_commission + self.cash_paid + self.admin
        received += self.curation + self.counselling + self.identity_checks
        if self.checks or self.audits:
            received += self.checks + self.audits
        return received

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
