"""The voucher's outcome-based pay (``voucher.outcome_pay``; rule in ``rules.outcome_pay``).

At purchase a share of the seller's receipts is withheld (``Ledger.record_withheld``). When the
course ends, a completer's withheld pay is due ``placement_weeks`` later; a non-completer's (and a
fake caught by the completion check) returns to the treasury at once. When due, it is paid to the
seller if the trainee is then employed (wage or business, ``labour.employed``), else returned
(``Ledger.record_outcome``). Pay still due when the run ends stays withheld (not spent).

Tender asymmetry: the tender's ``payment: outcome`` pays ``placement_share`` of the price for each
completer employed when the contract ends; its sellers' shading rule does not count that pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.market.participants import ENROLLED
from simulation.rules import outcome_pay

if TYPE_CHECKING:
    from simulation.schemes.voucher import VoucherScheme


class OutcomePayment:
    """Withheld receipts and their placement checks in one voucher run."""

    def __init__(self, scheme: VoucherScheme):
        self.scheme = scheme
        self.model = model = scheme.model
        self.spec = scheme.params.outcome_pay
        self.held_idr = np.zeros(len(model.state.status)) if self.spec.enabled else np.zeros(0)
        self.due: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}  # week -> rows, course, IDR
        p = model.params
        self.slope = outcome_pay.placement_slope(
            p.labour.job_finding_logit,
            self.spec.placement_weeks,
            p.labour.skill_effect,
            p.skill.gain_per_quality,
        )

    def quality_value_idr(self, net_price_idr: np.ndarray) -> np.ndarray:
        """Placement pay a seller expects per trainee per unit of quality (0 when off), IDR."""
        if not self.spec.enabled:
            return np.zeros(np.shape(net_price_idr))
        return outcome_pay.quality_value_idr(self.spec.share, net_price_idr, self.slope)

    def withhold(self, buyers: np.ndarray, net_idr: np.ndarray) -> np.ndarray:
        """The receipts sellers are paid now for these purchases: ``net_idr`` less the share
        withheld (booked), unchanged when off."""
        if not self.spec.enabled:
            return net_idr
        withheld = self.spec.share * net_idr
        self.held_idr[buyers] = withheld
        self.model.ledger.record_withheld(float(withheld.sum()))
        return net_idr - withheld

    def courses_ended(self, week: int, completers: np.ndarray) -> None:
        """Schedule the completers' placement checks; return the pay of those whose course ended
        without completion."""
        if not self.spec.enabled:
            return
        state = self.model.state
        if completers.size:
            due_week = week + self.spec.placement_weeks
            self.due[due_week] = (
                completers,
                state.course[completers].copy(),
                self.held_idr[completers].copy(),
            )
            self.held_idr[completers] = 0.0
        ended = np.flatnonzero((self.held_idr > 0) & (state.status != ENROLLED))
        self.model.ledger.record_outcome(0.0, float(self.held_idr[ended].sum()))
        self.held_idr[ended] = 0.0

    def settle(self, week: int) -> None:
        """Placement checks due this week: pay the sellers of the employed, return the rest."""
        if not self.spec.enabled or week not in self.due:
            return
        model = self.model
        rows, course, amount = self.due.pop(week)
        placed = model.labour.employed[rows]
        paid = np.where(placed, amount, 0.0)
        model.ledger.record_outcome(float(paid.sum()), float(amount[~placed].sum()))
        n = len(model.courses)
        per_course = np.bincount(course, paid, minlength=n)
        model.courses.net_revenue_idr += per_course
        per_provider = np.bincount(model.courses.provider, per_course, minlength=len(model.providers))
        for p in np.flatnonzero(per_provider):  # the sellers paid: organisations, not participants
            model.providers[p].book(per_provider[p] * model.scale)

    def metrics(self) -> dict[str, float | int | None]:
        """Outcome-pay metrics (registry: optional), real IDR."""
        if not self.spec.enabled:
            return {}
        ledger, scale = self.model.ledger, self.model.scale
        return {
            "outcome_pay_withheld_idr": ledger.outcome_withheld * scale,
            "outcome_pay_paid_idr": ledger.outcome_paid * scale,
        }
