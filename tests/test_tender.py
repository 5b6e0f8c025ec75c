"""The tender scheme end to end: books, seats, unfilled lots, shading, and the limiting case in
which a voucher and a tender must coincide."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import MarketModel, build_world, load_scenario, run_scenario
from simulation.config.streams import stream
from simulation.market.participants import NOT_SELECTED
from simulation.reporting.metrics import summarise
from simulation.rules.keyed_draws import Draws
from simulation.rules.procurement import affordable_seats, cohort_target, systematic_round
from simulation.schemes.tender_contracts import take_from_queues
from tests.conftest import ROOT, TENDER_ARM, TINY

PRAKERJA = ROOT / "scenarios" / "prakerja_2020.yaml"


@pytest.fixture(scope="module")
def both(tiny_both):
    return run_scenario(tiny_both)


def test_both_schemes_run_on_the_same_world(both):
    assert both.schemes == ["voucher", "tender"]
    tender = both.summary["schemes"]["tender"]
    assert tender["seats_contracted"] > 0
    assert 0 < tender["seat_fill_rate"] <= 1
    # seated <= simulated seats, whose total is within one of real seats / scale
    assert tender["participants_trained"] <= tender["seats_contracted"] + both.summary["scale"]
    # same labour shocks: the untreated twins' paths are identical under both schemes
    v, t = both.models["voucher"].labour, both.models["tender"].labour
    np.testing.assert_array_equal(v.twin_endline_weeks_employed, t.twin_endline_weeks_employed)


def test_tender_books_balance_and_budget_holds(both):
    model = both.models["tender"]
    ledger = model.ledger
    assert ledger.treasury_out == pytest.approx(ledger.received, rel=1e-12)
    assert ledger.provider_receipts == pytest.approx(model.courses.net_revenue_idr.sum(), rel=1e-12)
    assert ledger.treasury_out * model.scale <= model.params.tender.budget_idr
    assert ledger.credit_spent == 0 and ledger.platform_commission == 0


def test_seats_within_contracts_and_capacity(both):
    model = both.models["tender"]
    scheme = model.scheme
    course_weeks = model.params.tender.course_weeks
    for k, c in enumerate(scheme.contracts):
        seated = np.count_nonzero((scheme.contract_of == k) & (model.state.selected_week >= 0))
        assert seated == c.seated <= c.sim_seats
        assert 1 <= c.cohorts <= c.seats  # at most one cohort per real seat
    # real seats awarded within the real capacity of the cohorts the cycle had left
    for provider in model.providers:
        for start in {c.start_week for c in scheme.contracts}:
            mine = [
                c for c in scheme.contracts if c.provider == provider.provider_id and c.start_week == start
            ]
            if mine:
                weeks = (mine[0].end_week - start) // course_weeks * course_weeks
                assert sum(c.seats for c in mine) <= provider.capacity_per_year * weeks / 52


def test_a_lot_without_eligible_bidder_stays_unfilled():
    # Only online-only providers (no offline capacity) and one BLK: lots in the region without the
    # BLK, and in sectors it does not teach, find no bidder; the run completes.
    overrides = [
        *TENDER_ARM,
        "providers.types={online_only: 1.0, blended: 0, offline_centre: 0, public_blk: 0}",
        "centres.0.count=1",
        "centres.0.sectors_taught=1",
    ]
    scenario = load_scenario(TINY, overrides, schemes=["tender"])
    summary = run_scenario(scenario).summary["schemes"]["tender"]
    assert summary["lots_without_bidder"] >= 1
    assert summary["lots_without_bidder"] < summary["lots_tendered"]
    assert summary["seats_contracted"] < summary["seats_planned"]


@pytest.mark.parametrize("payment", ["per_trainee", "per_seat", "outcome"])
def test_payment_rules_conserve_money(payment):
    overrides = [*TENDER_ARM, f"tender.payment={payment}", "tender.placement_share=0.3"]
    model = MarketModel(build_world(load_scenario(TINY, overrides)), "tender").run()
    ledger = model.ledger
    contracts = model.scheme.contracts
    assert ledger.treasury_out == pytest.approx(ledger.received, rel=1e-12)
    paid = ledger.contract_payments
    if payment == "per_seat":  # the whole lot, trained or not
        assert paid == pytest.approx(sum(c.price_idr * c.sim_seats for c in contracts))
    elif payment == "per_trainee":
        assert paid == pytest.approx(sum(c.price_idr * c.seated for c in contracts))
    else:  # 70% on enrolment, 30% only for completers in work at the contract's end
        assert sum(0.7 * c.price_idr * c.seated for c in contracts) <= paid + 1e-6
        assert paid < sum(c.price_idr * c.seated for c in contracts)


def test_shading_falls_as_monitoring_rises():
    shading = {}
    for monitoring in (0.05, 0.5):
        overrides = [*TENDER_ARM, f"tender.monitoring={monitoring}"]
        model = MarketModel(build_world(load_scenario(TINY, overrides)), "tender").run()
        shading[monitoring] = summarise(model)["mean_shading"]
    # saving 1,000,000, penalty 5,000,000: s* = 1e6 / (2 m 5e6) = 0.1 / m, capped at the declared
    # quality: monitoring 0.5 -> 0.2 at most; 0.05 -> 2, i.e. everything declared.
    assert shading[0.5] <= 0.2 + 1e-9
    assert shading[0.05] > shading[0.5]


LIMIT = [
    "regions=[{name: one, population_share: 1.0, urban_share: 1.0, internet_access: 1.0,"
    " travel_cost_idr: 0}]",
    "sectors=[{name: only, demand_index: 1.0}]",
    "population.control_per_recipient=0",
    "population.intake={count: 1, first_week: 0, interval_weeks: 1}",
    "providers={count: 1, courses_per_provider: 1, types: {online_only: 0, blended: 1, offline_centre: 0,"
    " public_blk: 0}, course_modes: {online: 1, offline: 0, hybrid: 0}, hours_min: 1, hours_max: 1,"
    " initial_price_median_idr: 500000, initial_price_sd_log: 0, marginal_cost_online_idr: 500000,"
    " marginal_cost_offline_idr: 500000, fixed_cost_weekly_idr: 0, initial_cash_idr: 0,"
    " offline_capacity_per_year: 1.0e9}",
    "platforms=[{name: one, participant_share: 1.0, commission: 0, page_size: 1, listing_share: 1.0}]",
    "choice={outside_utility: -50, other_courses_shown: 0}",
    "completion={intercept: 50}",
    "voucher.waves={count: 1, first_week: 0, interval_weeks: 1}",
    "voucher.credit_idr=500000",
    "tender={budget_idr: 1.0e13, reference_cost_idr: 500000, cycle_weeks: 1, procurement_weeks: 0,"
    " bid_markup: 0, quality_inflation: 0, assessment_noise_sd: 0, quality_floor: 0, abnormal_share: 0,"
    " favouritism: 0, monitoring: 1, penalty_idr: 1, course_weeks: 1,"
    " awareness_weekly: 1, min_seats: 1, admin_cost_share: 0}",
]


def test_voucher_and_tender_coincide_in_the_limit():
    """One provider, one course, everyone assigned at once, no frictions: a voucher everyone spends
    on that course and a tender buying a seat for everyone train the same people in the same week
    in the same course, so enrolment and every employment path are identical."""
    scenario = load_scenario(TINY, LIMIT, size=300)
    result = run_scenario(scenario)
    voucher, tender = result.models["voucher"], result.models["tender"]
    for field in ("selected_week", "courses_bought", "courses_completed", "course", "matched_skill"):
        np.testing.assert_array_equal(
            getattr(voucher.state, field), getattr(tender.state, field), err_msg=field
        )
    assert (voucher.state.courses_completed == 1).all()
    np.testing.assert_array_equal(voucher.labour.endline_weeks_employed, tender.labour.endline_weeks_employed)
    v, t = result.summary["schemes"]["voucher"], result.summary["schemes"]["tender"]
    for metric in (
        "participants_offered",
        "participants_trained",
        "completion_rate",
        "true_effect_offered_pp",
        "additional_jobs",
        "mean_true_quality_enrolled",
    ):
        assert v[metric] == pytest.approx(t[metric]), metric
    assert v["true_effect_offered_pp"] > 0  # the training did something, identically


def test_contract_cycles_retender_with_past_performance_and_split_the_budget():
    overrides = [*TENDER_ARM, "tender.cycles=2", "tender.cycle_weeks=13", "tender.procurement_weeks=2"]
    scenario = load_scenario(TINY, overrides, schemes=["tender"])
    model = MarketModel(build_world(scenario), "tender").run()
    scheme = model.scheme
    starts = sorted({c.start_week for c in scheme.contracts})
    assert starts == [2, 15]  # planning at weeks 0 and 13, awards two weeks later
    # every contractor of the first cycle has a record the office weighs in the second
    first = {c.provider for c in scheme.contracts if c.start_week == 2}
    assert first and first <= set(scheme.record_quality)
    per_cycle = scenario.tender.budget_idr / 2 / (1 + scenario.tender.admin_cost_share)  # real IDR
    for start in starts:
        cycle = [c for c in scheme.contracts if c.start_week == start]
        assert sum(c.price_idr * c.seats for c in cycle) <= per_cycle * (1 + 1e-12)  # real seats
        paid = sum(c.price_idr * c.seated for c in cycle)  # simulated trainees, per-trainee pay
        assert paid * model.scale <= per_cycle * (1 + 1e-12)


def test_queue_seats_first_come_first_served():
    overrides = [*TENDER_ARM, "tender.seat_rule=queue"]
    model = MarketModel(build_world(load_scenario(TINY, overrides, schemes=["tender"])), "tender")
    for _ in range(4):  # planning at week 0; procurement at week 4
        model.step()
    scheme = model.scheme
    scheme._procure(4, 0)
    contract = scheme.contracts[0]
    cell = scheme._cell(contract)
    rows = np.flatnonzero(model.people.region == contract.region)[:60]
    scheme.applied[rows] = cell
    scheme.applied_week[rows] = np.arange(60)[::-1]  # the last rows applied first
    scheme._seat_cohorts(4)
    seated = rows[model.state.selected_week[rows] == 4]
    size = len(seated)
    assert 0 < size < 60
    # the `size` earliest applicants, i.e. the last `size` rows, and nobody else
    np.testing.assert_array_equal(np.sort(seated), rows[60 - size :])


def run_tender(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, [*TENDER_ARM, *overrides], schemes=["tender"], **top_level)
    return MarketModel(build_world(scenario), "tender").run()


def test_active_providers_are_those_running_when_contracts_last_ran():
    # One cycle of 26 weeks in a 30-week run: every contract has ended by the last week, yet the
    # contractors running in week 25, the last week any contract ran, are all of them.
    model = run_tender([])
    contracts, metrics = model.scheme.contracts, summarise(model)
    assert max(c.end_week for c in contracts) == 26 < model.params.weeks
    assert metrics["active_providers"] == metrics["contractors"] == len({c.provider for c in contracts}) > 0
    assert "active_providers_end" not in model.scheme.metrics()
    weekly = {row["week"]: row["active_providers"] for row in model.records}
    assert weekly[25] == metrics["active_providers"] and weekly[26] == 0
    # Two cycles of 13 weeks: the second cycle's contractors, who may differ from the first's.
    model = run_tender(["tender.cycles=2", "tender.cycle_weeks=13", "tender.procurement_weeks=2"])
    second = {c.provider for c in model.scheme.contracts if c.cycle == 1}
    assert second and model.scheme.metrics()["active_providers"] == len(second)


def test_true_quality_available_is_what_the_contracts_offer():
    # No inflation and nothing to gain from shading: each contract delivers its course's true
    # quality; the metric is their mean weighted by the real seats each contract offers.
    model = run_tender(["tender.quality_inflation=0", "providers.quality_saving_idr.offline=0"])
    contracts = model.scheme.contracts
    true_quality = model.courses.true_quality[[c.course for c in contracts]].astype(np.float64)
    np.testing.assert_allclose([c.delivered_quality for c in contracts], true_quality, rtol=1e-6)
    metrics = model.scheme.metrics()
    seats = np.array([c.seats for c in contracts])
    assert metrics["mean_true_quality_available"] == pytest.approx(np.average(true_quality, weights=seats))
    assert len(set(seats)) > 1  # unequal contracts: the plain mean would differ


def test_evaluation_strata_are_lotteries_among_applicants_of_a_lot():
    # Scarce seats (a budget for ~1,000 real seats, 100 simulated) and many applicants: within a
    # stratum (lot and week of the first application, own sector) the offer is a lottery,
    # so the offered and the comparison group have the same pre-programme attributes up to noise.
    model = run_tender(
        ["tender.budget_idr=3.0e9", "tender.awareness_weekly=0.3", "tender.seat_rule=lottery"], size=4000
    )
    groups, scheme = model.scheme.evaluation(), model.scheme
    applied = scheme.first_cell >= 0
    assert ((groups.stratum >= 0) == applied).all()
    assert (groups.offered | groups.comparison == applied).all()
    assert groups.offered.sum() > 50 and groups.comparison.sum() > 500
    people = model.people
    for attribute in (people.employed_at_entry.astype(np.float64), people.ability.astype(np.float64)):
        difference, se = stratified_difference(attribute, groups.offered, groups.comparison, groups.stratum)
        assert abs(difference) < 3.5 * se, (difference, se)
    # a stratum is one lot, one first week and one own-sector flag
    sectors = len(model.params.sectors)
    own = scheme.first_cell % sectors == people.sector
    for stratum in np.unique(groups.stratum[applied])[:50]:
        rows = groups.stratum == stratum
        for column in (scheme.first_cell, scheme.first_week, own):
            assert np.unique(column[rows]).size == 1


def stratified_difference(values, offered, comparison, stratum) -> tuple[float, float]:
    """Mean offered-minus-comparison difference within strata, weighted by stratum size, with its
    standard error (within-stratum variances)."""
    total, weights, variance = 0.0, 0.0, 0.0
    for s in np.unique(stratum[offered | comparison]):
        a, b = values[offered & (stratum == s)], values[comparison & (stratum == s)]
        if a.size < 2 or b.size < 2:
            continue
        w = a.size + b.size
        total += w * (a.mean() - b.mean())
        variance += w**2 * (a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        weights += w
    return total / weights, float(np.sqrt(variance)) / weights


def test_organisations_quantities_do_not_depend_on_the_sample_size():
    """Seats and contractors belong to real organisations: the same at 2,000 and 8,000 simulated
    recipients (scales 2,754 and 689). When they were counted in simulated seats, the smaller
    sample lost every centre below one simulated seat (no contract at all at 2,000; 21 contractors
    and 39 of 48 lots without a bidder at 8,000)."""
    summaries = {}
    # supply as it stood (no added capacity, no entrants, a plan that ignores capacity), so that
    # spending is bound by the seats; with supply that grows, trainees are bound by applicants,
    # whose sampling noise at 2,000 recipients is ~5% (tests/test_tender_supply.py checks the
    # added capacity and the entrants at two sizes)
    fixed_supply = [
        "tender.max_expansion_share=0",
        "tender.entry.max_centres=0",
        "tender.capacity_knowledge=0",
    ]
    for size in (2000, 8000):
        scenario = load_scenario(PRAKERJA, fixed_supply, size=size, weeks=60)
        summaries[size] = run_scenario(scenario, schemes=["tender"]).summary["schemes"]["tender"]
    small, large = summaries[2000], summaries[8000]
    assert small["seats_planned"] == large["seats_planned"]
    assert small["seats_contracted"] == pytest.approx(large["seats_contracted"], rel=0.03)
    assert small["contractors"] == pytest.approx(large["contractors"], rel=0.03)
    assert small["lots_without_bidder"] == large["lots_without_bidder"] == 0
    # what the budget pays for in real terms agrees too (simulated seats rounded without bias)
    assert small["total_cost_idr"] == pytest.approx(large["total_cost_idr"], rel=0.05)


def test_budget_guard_stops_paying_when_rounding_would_overspend():
    # A reference cost under the bids plans more seats than the budget buys, so the awards use the
    # real budget to the last seat; at 7 people per simulated one, rounding real seats to
    # simulated ones sometimes draws more simulated seats than the budget / scale pays for, and the
    # office then pays for fewer. The seeds where it does are found, not assumed.
    overrides = [
        "population.recipients_represented=2800",
        "tender.budget_idr=4.0e8",
        "tender.reference_cost_idr=400000",
        "tender.payment=per_seat",
        "tender.cycle_weeks=12",
        "tender.procurement_weeks=0",
        "tender.course_weeks=1",
    ]
    overspending = 0
    for seed in range(12):
        model = run_tender(overrides, size=400, weeks=20, seed=seed)
        contracts, t = model.scheme.contracts, model.params.tender
        budget = t.budget_idr / (1 + t.admin_cost_share)  # real IDR for contractors
        price = np.array([c.price_idr for c in contracts])
        real = np.array([c.seats for c in contracts])
        assert price @ real <= budget and price @ real > budget - price.max()  # the budget binds
        drawn = systematic_round(real / model.scale, stream(model.world.seed, "tender:seat_rounding", 0))
        overspending += price @ drawn * model.scale > budget  # what rounding alone would have paid
        assert price @ [c.sim_seats for c in contracts] * model.scale <= budget
        assert model.ledger.treasury_out * model.scale <= t.budget_idr * (1 + 1e-12)
    assert overspending >= 2  # the guard was needed, more than once


def test_applicants_arrive_with_the_population_and_waitlisted_are_the_never_seated():
    # prakerja_2020's intake: applications arrive in 11 batches, 3 weeks apart. Nobody applies to
    # a lot before arriving; "waitlisted" counts each applicant never seated once.
    scenario = load_scenario(
        ROOT / "scenarios" / "prakerja_2020.yaml", size=3000, weeks=40, schemes=["tender"]
    )
    model = MarketModel(build_world(scenario), "tender").run()
    scheme, people = model.scheme, model.people
    applied = scheme.first_cell >= 0
    assert applied.sum() > 100 and (people.arrival_week[applied] > 0).any()
    assert (scheme.first_week[applied] >= people.arrival_week[applied]).all()
    never_seated = applied & (model.state.selected_week < 0)
    assert scheme.metrics()["waitlisted"] == pytest.approx(never_seated.sum() * model.scale)


def test_take_from_queues_by_hand():
    # queues: cell 0 holds positions 0-2, cell 2 positions 3-4, cell 5 position 5
    queued_cells = np.array([0, 0, 0, 2, 2, 5])
    # due contracts in award order: (cell, seats wanted)
    first, taken = take_from_queues(queued_cells, np.array([2, 0, 0, 2, 5, 0]), np.array([1, 2, 2, 3, 1, 1]))
    # cell 0: the second contract takes 0-1, the third what is left (2), the sixth nothing;
    # cell 2: the first takes 3, the fourth the one left (4); cell 5: the fifth takes 5
    np.testing.assert_array_equal(taken, [1, 2, 1, 1, 1, 0])
    np.testing.assert_array_equal(first[taken > 0], [3, 0, 2, 4, 5])


def seating_contract_by_contract(scheme, week: int) -> tuple[dict[int, int], np.ndarray]:
    """The week's seating done the plain way, one due contract after another (what the tender did
    before it seated a week's cohorts in one batch): {row: contract} and the budget promised."""
    p, state = scheme.params, scheme.model.state
    committed = scheme.committed_idr.copy()
    budget = scheme._cycle_budget_idr() / scheme.model.scale
    waiting = np.flatnonzero((scheme.applied >= 0) & (state.status == NOT_SELECTED))
    lottery = Draws.of(scheme.seed, "tender:seats", week)
    queues: dict[int, np.ndarray] = {}
    seated: dict[int, int] = {}
    for k, c in enumerate(scheme.contracts):
        index = c.cohort_index(week, p.course_weeks)
        size = max(cohort_target(c.sim_seats, c.cohorts, index, c.phase) - c.seated, 0) if index >= 0 else 0
        if size == 0:
            continue
        cell = scheme._cell(c)
        if cell not in queues:
            queue = waiting[scheme.applied[waiting] == cell]
            queues[cell] = (
                lottery.shuffled(queue)
                if p.seat_rule == "lottery"
                else queue[np.argsort(scheme.applied_week[queue], kind="stable")]
            )
        taken, queues[cell] = queues[cell][:size], queues[cell][size:]
        if p.payment != "per_seat":
            per_seat = c.price_idr + p.allowance_idr
            n = min(taken.size, affordable_seats(budget - committed[c.cycle], per_seat))
            committed[c.cycle] += n * per_seat
            taken = taken[:n]
        seated.update(dict.fromkeys(taken.tolist(), k))
    return seated, committed


@pytest.mark.parametrize("rule", ["lottery", "queue"])
def test_batched_seating_seats_whom_contract_by_contract_seating_would(rule):
    overrides = [*TENDER_ARM, f"tender.seat_rule={rule}", "tender.allowance_idr=600000"]
    model = MarketModel(build_world(load_scenario(TINY, overrides, schemes=["tender"])), "tender")
    scheme = model.scheme
    batched = scheme._seat_cohorts
    weeks_checked, bound = [], []

    def seat(week: int) -> None:
        due = [c for c in scheme.contracts if c.cohort_index(week, scheme.params.course_weeks) >= 0]
        if due and not bound and sum(1 for n in weeks_checked if n) == 3:
            # after three weeks of seating, leave the cycle's budget room for 5 trainees: it binds midway
            cycle, budget = due[0].cycle, scheme._cycle_budget_idr() / model.scale
            scheme.committed_idr[cycle] = budget - 5.5 * (due[0].price_idr + scheme.params.allowance_idr)
            bound.append(week)
        expected, committed = seating_contract_by_contract(scheme, week)
        batched(week)
        rows = np.flatnonzero(model.state.selected_week == week)
        assert dict(zip(rows.tolist(), scheme.contract_of[rows].tolist(), strict=True)) == expected
        np.testing.assert_array_equal(scheme.committed_idr, committed)  # the same floating sums
        assert [c.seated for c in scheme.contracts] == scheme.book.seated.tolist()
        weeks_checked.append(len(expected))

    scheme._seat_cohorts = seat
    model.run()
    assert bound and sum(1 for n in weeks_checked if n) > 3  # several weeks seated someone
