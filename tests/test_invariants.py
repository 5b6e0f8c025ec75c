"""Invariants that must hold after any run (DESIGN §7), checked on generated small scenarios.

Each scenario varies the voucher's rules (credit, price cap, top-ups, commission and its cap,
incentive, deadline, validity, waves, curation, budget), the seed, the size and the length. After
the full run the books are audited against independent sums over participants and courses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from simulation.config.scenario import load_scenario
from simulation.market.participants import ENROLLED, HOLDING, NOT_SELECTED
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.schemes.voucher import wave_quotas
from tests.conftest import TENDER_ARM

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"
PACKAGE_SHARE = st.sampled_from([0.4, 0.7, 1.0, 3.0])  # budget / cost of every recipient's package

SETTINGS = dict(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failing run is already small
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def scenarios(draw):
    """A small scenario as (overrides of tiny.yaml, size, weeks, seed): readable when a case fails.
    Money in whole thousands of IDR (as prices are), so that float32 credit arithmetic is exact."""
    credit = 1000 * draw(st.integers(100, 2000))
    topup = draw(st.booleans())
    max_topup = 1000 * draw(st.integers(0, 800))
    cap = draw(st.sampled_from([None, 1.0, 1.3, 2.0]))
    months = draw(st.integers(0, 5))
    amount = 1000 * draw(st.integers(0, 1000))
    survey_count = draw(st.integers(0, 3))
    size = draw(st.integers(50, 400))
    weeks = draw(st.integers(10, 30))
    overrides = [
        f"voucher.credit_idr={credit}",
        f"voucher.topup_allowed={str(topup).lower()}",
        f"voucher.max_topup_idr={max_topup}",
        f"voucher.price_cap_idr={'null' if cap is None else int(credit * cap)}",
        f"platforms.0.commission={draw(st.sampled_from([0.0, 0.05, 0.2, 0.35]))}",
        f"platforms.1.commission={draw(st.sampled_from([0.0, 0.1, 0.25]))}",
        "voucher.commission_cap="
        + draw(st.sampled_from(["null", "{share: 0.1, from_week: 0}", "{share: 0.15, from_week: 5}"])),
        f"voucher.incentive={{amount_idr: {amount}, months: {months}, "
        f"interval_weeks: {draw(st.integers(1, 6))}}}",
        f"voucher.survey={{amount_idr: 50000, count: {survey_count}, interval_weeks: 4}}",
        f"voucher.purchase_deadline_weeks={draw(st.integers(1, 8))}",
        f"voucher.credit_validity_weeks={draw(st.integers(1, 20))}",
        f"voucher.waves={{count: {draw(st.integers(1, 5))}, first_week: {draw(st.integers(0, 3))}, "
        f"interval_weeks: {draw(st.integers(1, 4))}}}",
        f"voucher.curation.enabled={str(draw(st.booleans())).lower()}",
        f"choice.outside_utility={draw(st.sampled_from([0.0, 1.5, 2.5, 4.0]))}",
        f"completion.intercept={draw(st.sampled_from([-1.0, 1.0, 3.0]))}",
        f"voucher.admin_cost_share={draw(st.sampled_from([0.0, 0.0059, 0.05]))}",
    ]
    seed = draw(st.integers(0, 10_000))
    s = load_scenario(TINY, overrides=overrides, size=size, weeks=weeks, seed=seed)
    # Budget as a share of the cost of funding all `size` recipients' packages: below 1 it binds.
    v = s.voucher
    funded = v.package_idr * (1 + v.admin_cost_share) * s.population.recipients_represented
    budget = max(draw(PACKAGE_SHARE) * funded, 1.0)
    copay = draw(st.sampled_from([0.0, 0.0, 0.2, 0.5, 1.0]))  # co-payment share (0: off, the default)
    return [*overrides, f"voucher.budget_idr={budget!r}", f"voucher.copay_share={copay}"], size, weeks, seed


def run(case) -> tuple:
    overrides, size, weeks, seed = case
    s = load_scenario(TINY, overrides=overrides, size=size, weeks=weeks, seed=seed)
    model = MarketModel(build_world(s))
    assert model.scheme.recipients >= 1
    return s, model.run()


def close(a: float, b: float, scale: float = 1.0) -> bool:
    """Equal up to float rounding of sums of IDR amounts."""
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b), scale) + 1e-6


@settings(**SETTINGS)
@given(case=scenarios())
def test_books_balance_and_credit_is_accounted_for(case):
    s, model = run(case)
    state, courses, ledger = model.state, model.courses, model.ledger
    v = s.voucher
    selected = state.selected_week >= 0

    # No negative credit, and nobody holds credit (or bought, or was paid) without being selected.
    assert (state.credit_left_idr >= 0).all()
    assert not (state.credit_left_idr[~selected] > 0).any()
    assert (state.status[~selected] == NOT_SELECTED).all()
    assert (state.courses_bought[~selected] == 0).all()
    assert (state.incentive_received_idr[~selected] == 0).all()
    assert (state.credit_left_idr[~np.isin(state.status, [HOLDING, ENROLLED])] == 0).all()

    # The lottery selects the waves' quotas, each person at most once.
    assert selected.sum() <= sum(wave_quotas(model.scheme.recipients, v.waves.count))

    # Money conserved: government out + participants' top-ups = everyone's receipts ...
    assert close(ledger.treasury_out + ledger.topups, ledger.received)
    # ... and each ledger line equals an independent sum over the agents that received it.
    assert close(float(courses.net_revenue_idr.sum()), ledger.provider_receipts)
    assert close(float(state.incentive_received_idr.sum(dtype=np.float64)), ledger.incentives)
    assert close(float(state.topup_paid_idr.sum(dtype=np.float64)), ledger.topups)
    assert close(
        ledger.admin, v.admin_cost_share * (ledger.credit_spent + ledger.incentives + ledger.surveys)
    )
    # Cash to participants: every IDR booked reached a person's cash (the labour market's), only
    # the selected's; per person, the incentive plus whole survey payments; no allowance here.
    cash = model.labour.cash_received_idr
    assert close(float(cash.sum()), ledger.cash_paid) and ledger.allowances == 0
    assert close(ledger.cash_paid, ledger.incentives + ledger.surveys)
    assert (cash[~selected] == 0).all()
    surveys_each = cash - state.incentive_received_idr
    if v.survey.amount_idr > 0:
        rounds = surveys_each / v.survey.amount_idr
        assert np.allclose(rounds, np.round(rounds)) and (rounds <= v.survey.count + 1e-9).all()
    # Commission: between the lowest and highest rate in force (a cap can only lower a rate).
    rates = [p.commission for p in s.platforms]
    floor_rates = [min(r, v.commission_cap.share) for r in rates] if v.commission_cap else rates
    paid = ledger.credit_spent + ledger.topups
    assert min(floor_rates) * paid - 1e-6 <= ledger.platform_commission <= max(rates) * paid + 1e-6

    # Credit identity: issued = spent + forfeited + still on cards; issued = credit x recipients.
    on_cards = float(state.credit_left_idr.sum(dtype=np.float64))
    assert ledger.credit_issued == v.credit_idr * int(selected.sum())
    assert close(ledger.credit_issued, ledger.credit_spent + ledger.credit_forfeited + on_cards)

    # Courses: completions never exceed purchases, person by person and course by course.
    assert (state.courses_completed <= state.courses_bought).all()
    assert int(courses.enrolments.sum()) == int(state.courses_bought.sum())
    assert int(courses.completions.sum()) == int(state.courses_completed.sum())
    assert (courses.completions <= courses.enrolments).all()

    # The incentive goes only to completers, at most amount x months each; no top-up without leave.
    completed = state.courses_completed > 0
    assert (state.incentive_received_idr[~completed] == 0).all()
    assert (state.incentive_received_idr <= v.incentive.amount_idr * v.incentive.months).all()
    # Own money: the co-payment share of every price at least, exactly that without top-ups.
    if not v.topup_allowed and v.copay_share == 0:
        assert ledger.topups == 0
    bought = ledger.credit_spent + ledger.topups
    assert ledger.topups >= v.copay_share * bought * (1 - 1e-6) - 1e-6  # float32 prices x (1 - s)
    if not v.topup_allowed:
        assert abs(ledger.topups - v.copay_share * bought) <= 1e-6 * bought + 1e-6

    # Prices stay within [0, cap] (cap = the price cap, else the credit).
    assert (courses.price_idr >= 0).all()
    assert (courses.price_idr <= v.cap_idr).all()


@settings(**{**SETTINGS, "max_examples": 15})
@given(case=scenarios())
def test_spend_never_exceeds_budget(case):
    # The budget is in real IDR; the simulated ledger times the run's scale is what the programme
    # spends. Budgets from 40 % to 300 % of the cost of funding every simulated recipient.
    s, model = run(case)
    assert model.ledger.treasury_out * model.scale <= s.voucher.budget_idr * (1 + 1e-9)
    # Nor can it reach more real recipients than the budget pays packages for.
    v = s.voucher
    per_recipient = v.package_idr * (1 + v.admin_cost_share)
    selected = int((model.state.selected_week >= 0).sum())
    assert selected * model.scale * per_recipient <= v.budget_idr * (1 + 1e-9)


@st.composite
def tenders(draw):
    """A small tender scenario as (overrides of tiny.yaml with a tender arm, size, weeks, seed),
    with scales from 1 to 10,000 real people per simulated one and budgets from a fraction of a
    seat to more than the centres can teach, binding or not, so that rounding simulated seats up
    would overspend the budget if the office did not stop paying. (Hypothesis starts from the
    first value of each list: the first ones make the budget bind.)"""
    size = draw(st.integers(100, 400))
    scale = draw(st.sampled_from([7, 55, 1, 1000, 10_000]))
    weeks = draw(st.integers(12, 30))
    overrides = [
        *TENDER_ARM,
        f"population.recipients_represented={size * scale}",
        f"tender.budget_idr={draw(st.sampled_from([4.0e8, 3.0e9, 3.1e7, 1.0e11, 2.0e6]))}",
        # a reference cost under the bids plans more seats than the budget buys: the budget binds
        f"tender.reference_cost_idr={draw(st.sampled_from([4.0e5, 3.0e6]))}",
        f"tender.payment={draw(st.sampled_from(['per_seat', 'per_trainee', 'outcome']))}",
        "tender.placement_share=0.3",
        f"tender.cycles={draw(st.integers(1, 3))}",
        f"tender.cycle_weeks={draw(st.integers(4, 12))}",
        f"tender.procurement_weeks={draw(st.integers(0, 2))}",
        f"tender.course_weeks={draw(st.integers(1, 3))}",
        f"tender.min_seats={draw(st.sampled_from([1, 20, 300]))}",
        f"tender.admin_cost_share={draw(st.sampled_from([0.0059, 0.0, 0.05]))}",
        f"tender.awareness_weekly={draw(st.sampled_from([0.5, 0.05]))}",
        f"tender.allowance_idr={draw(st.sampled_from([500000, 0, 3000000]))}",
    ]
    return overrides, size, weeks, draw(st.integers(0, 10_000))


@settings(**{**SETTINGS, "max_examples": 30})
@given(case=tenders())
def test_tender_spend_never_exceeds_budget(case):
    overrides, size, weeks, seed = case
    s = load_scenario(TINY, overrides=overrides, size=size, weeks=weeks, seed=seed, schemes=["tender"])
    model = MarketModel(build_world(s), "tender").run()
    t, ledger, contracts = s.tender, model.ledger, model.scheme.contracts
    # The budget (real IDR) holds whatever the rounding of simulated seats: the ledger (simulated
    # IDR) times the scale never exceeds it, in all and cycle by cycle (awards in real IDR).
    assert ledger.treasury_out * model.scale <= t.budget_idr * (1 + 1e-9)
    per_cycle = t.budget_idr / t.cycles / (1 + t.admin_cost_share)
    for cycle in range(t.cycles):
        mine = [c for c in contracts if c.cycle == cycle]
        assert sum(c.price_idr * c.seats for c in mine) <= per_cycle * (1 + 1e-9)
    # Money conserved; seated within each contract's simulated seats; whole real seats only.
    assert close(ledger.treasury_out, ledger.received)
    # The allowance: paid once to each person seated, booked, in their cash, charged office cost.
    seated = model.state.selected_week >= 0
    assert close(ledger.allowances, t.allowance_idr * int(seated.sum()))
    assert close(ledger.cash_paid, ledger.allowances) and ledger.incentives == ledger.surveys == 0
    assert np.array_equal(model.labour.cash_received_idr, np.where(seated, t.allowance_idr, 0.0))
    assert close(ledger.admin, t.admin_cost_share * (ledger.contract_payments + ledger.allowances))
    assert close(float(model.courses.net_revenue_idr.sum()), ledger.provider_receipts)
    for k, c in enumerate(contracts):
        assert c.seated == np.count_nonzero(model.scheme.contract_of == k) <= c.sim_seats
        assert isinstance(c.seats, int) and c.seats >= 1
    # Simulated seats stand for real ones: the total within one seat of real / scale (rounding),
    # less only what the budget guard refused.
    real = sum(c.seats for c in contracts)
    assert sum(c.sim_seats for c in contracts) <= real / model.scale + t.cycles
