"""The programme's books: every IDR that leaves the treasury and where it goes.

Amounts are simulated IDR (multiply by the world's scale for national totals). The identities

    treasury out + participants' top-ups = providers + platforms + participants + admin
                                           + identity checks
    (treasury out = credit spent + contract payments + incentives + surveys + allowances + admin
    + identity checks - penalties; providers' receipts are net of the penalties they paid back)
    credit issued = credit spent + credit forfeited + credit still on cards
    broker fees <= incentives + surveys (the part of participants' cash that brokers keep)

hold at every week; tests check them against independent sums over agents and participants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class Ledger:
    """Running totals of money flows, simulated IDR."""

    credit_issued: float = 0.0
    credit_spent: float = 0.0
    credit_forfeited: float = 0.0
    topups: float = 0.0  # participants' own money paid on top of credit
    provider_receipts: float = 0.0
    platform_commission: float = 0.0
    incentives: float = 0.0  # post-training cash incentive
    surveys: float = 0.0  # survey payments
    admin: float = 0.0  # programme office cost
    contract_payments: float = 0.0  # paid to contractors under a tender
    penalties: float = 0.0  # paid back to the treasury by contractors found shading (tender)
    allowances: float = 0.0  # the tender's allowance to trainees (cash to participants)
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

    def record_cash(self, incentives: float, surveys: float) -> None:
        """Cash paid to participants."""
        self.incentives += incentives
        self.surveys += surveys

    def record_allowances(self, amount: float) -> None:
        """The tender's allowance paid to trainees: out of the treasury, to participants."""
        self.allowances += amount

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
        identity checks, less the penalties contractors paid back."""
        return (
            self.credit_spent
            + self.contract_payments
            + self.cash_paid
            + self.admin
            + self.identity_checks
            - self.penalties
        )

    @property
    def received(self) -> float:
        """Money received by providers, platforms, participants (cash, of which brokers kept
        ``broker_fees``), the office and the identity checks."""
        return (
            self.provider_receipts
            + self.platform_commission
            + (self.cash_paid - self.broker_fees)
            + self.broker_fees
            + self.admin
            + self.identity_checks
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)
