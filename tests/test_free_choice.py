"""Free alternatives and counselling before purchase (issue 10 points 5 and 10).

Hand-worked cases of each rule (numbers derived in the comments from the rules stated in
``simulation.rules.free_content`` and ``simulation.rules.counselling``), limiting cases (the
mechanism on at zero strength, and maximum choice, reproduce the model without it bit for bit),
and model-level runs of the tiny scenario showing what each changes and what it leaves alone.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import build_world, load_scenario, run_scenario
from simulation.config.codes import ONLINE
from simulation.config.scenario import Choice, Counselling, FreeAlternatives, ScenarioError
from simulation.market.ledger import Ledger
from simulation.model.market import MarketModel
from simulation.rules import counselling, free_content
from simulation.rules.appraisal import Appraisal, appraisal
from simulation.rules.choice import (
    ExpectedDemand,
    Market,
    Shoppers,
    choose,
    expected_demand,
    logit_probabilities,
    outside_utility,
    shop,
    utilities,
)
from simulation.rules.keyed_draws import Draws
from simulation.schemes.voucher import affordable_recipients

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"

FREE_ON = "voucher.free_alternatives={enabled: true}"
GUIDED = "voucher.counselling={regime: guided, cost_per_recipient_idr: 300000}"

# Only quality (and, where said, local demand) matters: every other utility weight is 0.
QUALITY_ONLY = Choice(
    outside_utility=0.0,
    quality_weight=2.0,
    relevance_weight=0.0,
    demand_weight=0.0,
    effort_weight=0.0,
    weeks_weight=0.0,
    price_signal_weight=0.0,
)


def two_courses(
    stars: tuple[float, float], appraised: Appraisal | None = None, vacancies=(1.0, 1.0)
) -> Market:
    # Two online courses, in sectors 0 and 1, at 500,000 IDR each (credit 1,000,000), 10 hours;
    # one region, whose vacancy index is ``vacancies`` by sector.
    return Market(
        course_sector=np.array([0, 1], dtype=np.int8),
        course_mode=np.full(2, ONLINE, dtype=np.int8),
        course_hours=np.full(2, 10.0, dtype=np.float32),
        course_difficulty=np.full(2, 0.4, dtype=np.float32),
        price_idr=np.full(2, 500_000.0, dtype=np.float32),
        displayed_stars=np.array(stars),
        log_vacancies=np.log(np.array(vacancies, dtype=np.float32))[:, None],
        travel_cost_idr=np.zeros(1, dtype=np.float32),
        credit_idr=1_000_000.0,
        cap_idr=1_000_000.0,
        max_topup_idr=0.0,
        appraisal=appraised,
    )


def one_shopper() -> Shoppers:
    # Region 0, internet, interested in sector 0, 5 hours a week, full credit, sees both courses.
    return Shoppers(
        options=np.array([[0, 1]], dtype=np.int32),
        sector=np.zeros(1, dtype=np.int8),
        region=np.zeros(1, dtype=np.int8),
        internet=np.ones(1, dtype=bool),
        weekly_hours=np.full(1, 5.0, dtype=np.float32),
        credit_left_idr=np.full(1, 1_000_000.0, dtype=np.float32),
        courses_bought=np.zeros(1, dtype=np.int16),
        last_course=np.full(1, -1, dtype=np.int32),
    )


def probabilities(market: Market, params: Choice = QUALITY_ONLY) -> np.ndarray:
    shopper = one_shopper()
    return logit_probabilities(utilities(shopper, market, params), outside_utility(shopper, params))[0]


def summary(overrides: list[str]) -> dict:
    return run_scenario(load_scenario(TINY, overrides=overrides)).summary["schemes"]["voucher"]


@pytest.fixture(scope="module")
def tiny_off() -> dict:
    return summary([])


# ====================================================================== free alternatives (rules)


def test_free_content_quality_term_by_hand():
    # quality_weight 2, free material of quality 0.4, certificate worth 0.3:
    # E[q] 0.6, free: 2 x (0.6 - 0.4) + 0.3 = 0.7; not free: 2 x 0.6 = 1.2;
    # E[q] 0.3 (below the free material), free: 2 x 0 + 0.3 = 0.3.
    params = FreeAlternatives(enabled=True, free_quality=0.4, certificate_value=0.3)
    term = free_content.quality_term(np.array([0.6, 0.6, 0.3]), np.array([True, False, True]), 2.0, params)
    assert term == pytest.approx([0.7, 1.2, 0.3], abs=1e-6)


def test_a_free_alternative_moves_the_logit_by_hand():
    # Course 0 at 5 stars (E[q] = 1), course 1 at 3 stars (E[q] = 0.5); waiting is worth 0.
    # Without free material: u = (2, 1); P = e^2 / (1 + e^2 + e) = 7.38906 / 11.10734 = 0.66524,
    # e / 11.10734 = 0.24473, waiting 0.09003.
    # Course 0's content is free (quality 0.4, no certificate value): u0 = 2 x 0.6 = 1.2;
    # weights 3.32012 and 2.71828, total 7.03840: P = (0.47171, 0.38620), waiting 0.14208.
    p = probabilities(two_courses((5.0, 3.0)))
    assert p == pytest.approx([0.66524, 0.24473, 0.09003], abs=1e-4)
    free = Appraisal(np.array([True, False]), FreeAlternatives(enabled=True, free_quality=0.4))
    p = probabilities(two_courses((5.0, 3.0), free))
    assert p == pytest.approx([0.47171, 0.38620, 0.14208], abs=1e-4)


def test_skill_counted_from_a_free_content_course_by_hand():
    # q 0.6, free quality 0.4: skill_counted 0 -> 0.6 - 0.4 = 0.2; 0.5 -> 0.6 - 0.5 x 0.4 = 0.4;
    # q 0.3 (below the free material), counted 0 -> 0; a course whose content is not free keeps q.
    q = np.array([0.6, 0.3, 0.6], dtype=np.float32)
    free = np.array([True, True, False])
    none = FreeAlternatives(enabled=True, free_quality=0.4, skill_counted=0.0)
    half = FreeAlternatives(enabled=True, free_quality=0.4, skill_counted=0.5)
    assert free_content.skill_quality(q, free, none) == pytest.approx([0.2, 0.0, 0.6], abs=1e-6)
    assert free_content.skill_quality(q, free, half) == pytest.approx([0.4, 0.15, 0.6], abs=1e-6)
    full = FreeAlternatives(enabled=True, free_quality=0.4, skill_counted=1.0)
    assert free_content.skill_quality(q, free, full) is q  # the full gain: untouched


def test_free_flags_are_keyed_by_course_and_off_means_none():
    on = FreeAlternatives(enabled=True, free_share=0.89)
    flags = free_content.free_content(7, 20_000, on)
    assert flags.mean() == pytest.approx(0.89, abs=0.01)
    assert (free_content.free_content(7, 500, on) == flags[:500]).all()  # entrants move nobody's flag
    assert not free_content.free_content(7, 500, FreeAlternatives(free_share=1.0)).any()


def test_zero_strength_free_alternatives_leave_utilities_bit_for_bit():
    # Nothing free (free_share 0), or free material worthless with no certificate value: the
    # quality term is quality_weight x E[q] exactly, as without the mechanism.
    market = two_courses((4.3, 2.2))
    base = utilities(one_shopper(), market, QUALITY_ONLY)
    for flags, params in (
        (np.zeros(2, bool), FreeAlternatives(enabled=True, free_share=0.0)),
        (np.ones(2, bool), FreeAlternatives(enabled=True, free_quality=0.0)),
    ):
        appraised = replace(market, appraisal=Appraisal(flags, params))
        assert np.array_equal(utilities(one_shopper(), appraised, QUALITY_ONLY), base)


@settings(max_examples=200, deadline=None)
@given(
    q=st.floats(0.0, 1.0),
    free_quality=st.floats(0.0, 1.0),
    counted=st.floats(0.0, 1.0),
    weight=st.floats(0.0, 10.0),
)
def test_free_material_never_adds_value_and_skill_stays_between_value_added_and_full(
    q, free_quality, counted, weight
):
    params = FreeAlternatives(enabled=True, free_quality=free_quality, skill_counted=counted)
    both = np.array([q, q], dtype=np.float32)
    term = free_content.quality_term(both, np.array([True, False]), weight, params)
    assert term[0] <= term[1] + 1e-6  # without a certificate, free material only takes value away
    skill = free_content.skill_quality(both, np.array([True, False]), params)
    q32 = float(both[0])
    assert q32 - min(q32, free_quality) - 1e-6 <= skill[0] <= q32 + 1e-6
    assert skill[1] == both[1]


# ====================================================================== counselling (rules)


def test_counselling_information_mix_by_hand():
    # 5 stars (1 on the star scale) read by the counsellor at 0.2, weight 0.5: 0.5 + 0.1 = 0.6.
    assert counselling.informed_quality(np.array([1.0]), np.array([0.2]), 0.5) == pytest.approx([0.6])


def test_guided_choice_moves_the_logit_by_hand():
    # Stars say course 0 is better (5 stars, E[q] 1; course 1 at 3 stars, 0.5); the counsellor reads
    # true qualities 0.2 and 0.8. Without counselling: P = (0.66524, 0.24473), waiting 0.09003
    # (test_a_free_alternative_moves_the_logit_by_hand). Guided, weight 0.5:
    # E[q] = (0.5 + 0.1, 0.25 + 0.4) = (0.6, 0.65), u = (1.2, 1.3); weights 3.32012, 3.66930,
    # total 7.98942: P = (0.41556, 0.45927), waiting 0.12517. Counselling turns the choice round.
    reading = np.array([0.2, 0.8], dtype=np.float32)
    guided = Appraisal(np.zeros(2, bool), FreeAlternatives(), reading, information_weight=0.5)
    p = probabilities(two_courses((5.0, 3.0), guided))
    assert p == pytest.approx([0.41556, 0.45927, 0.12517], abs=1e-4)
    # Local demand weighs more: vacancies e^1 in sector 0, e^0 in sector 1 and an extra weight of
    # 0.3 add 0.3 to course 0 only: u = (1.5, 1.3); weights 4.48169, 3.66930, total 9.15099:
    # P = (0.48975, 0.40097), waiting 0.10928.
    demand = replace(guided, extra_demand_weight=0.3)
    p = probabilities(two_courses((5.0, 3.0), demand, vacancies=(math.e, 1.0)))
    assert p == pytest.approx([0.48975, 0.40097, 0.10928], abs=1e-4)


def test_structured_choice_vetoes_weak_courses_and_low_demand_sectors_by_hand():
    # Readings 0.2 and 0.8, bar 0.3: course 0 is vetoed everywhere. Vacancies by sector (rows) in
    # two regions: region 0 (1, 3), mean 2, bar 0.6 x 2 = 1.2: sector 0 is low there;
    # region 1 (2, 2), mean 2: nothing low. Course 1 (sector 1) is never vetoed for demand.
    params = Counselling(regime="structured", veto_min_quality=0.3, veto_min_demand_ratio=0.6)
    vacancies = np.array([[1.0, 2.0], [3.0, 2.0]])
    veto = counselling.vetoes(np.array([0.2, 0.8]), np.array([0, 1]), vacancies, params)
    assert veto.tolist() == [[True, True], [False, False]]
    veto = counselling.vetoes(np.array([0.5, 0.8]), np.array([0, 1]), vacancies, params)
    assert veto.tolist() == [[True, False], [False, False]]  # a good course, but no local jobs
    assert counselling.vetoes(np.array([0.0]), np.array([0]), vacancies, Counselling(regime="guided")) is None
    # In the logit: the vetoed course is infeasible, its probability goes to the others.
    vetoed = Appraisal(np.zeros(2, bool), FreeAlternatives(), veto=np.array([[True], [False]]))
    shopper = one_shopper()
    u = utilities(shopper, two_courses((5.0, 3.0), vetoed), QUALITY_ONLY)
    assert np.isneginf(u[0, 0]) and u[0, 1] == pytest.approx(1.0)
    # P(course 1) = e / (1 + e) = 0.73106.
    p = logit_probabilities(u, outside_utility(shopper, QUALITY_ONLY))[0]
    assert p == pytest.approx([0.0, 0.73106, 0.26894], abs=1e-4)


def test_readings_are_true_quality_without_noise_and_keyed_by_course():
    quality = np.array([0.1, 0.5, 0.95], dtype=np.float32)
    exact = counselling.readings(7, quality, Counselling(regime="guided", reading_noise_sd=0.0))
    assert np.array_equal(exact, quality)
    noisy = counselling.readings(7, np.full(20_000, 0.5, np.float32), Counselling(reading_noise_sd=0.1))
    assert noisy.std() == pytest.approx(0.1, rel=0.05) and noisy.mean() == pytest.approx(0.5, abs=0.005)
    first = counselling.readings(7, np.full(10, 0.5, np.float32), Counselling(reading_noise_sd=0.1))
    assert np.array_equal(first, noisy[:10])  # a course's reading does not depend on the others


def test_no_appraisal_when_both_mechanisms_are_off():
    args = (7, np.zeros(3, np.float32), np.zeros(3, np.int8), np.ones((1, 1)))
    assert appraisal(*args, FreeAlternatives(), Counselling()) is None
    assert appraisal(*args, FreeAlternatives(), Counselling(regime="guided")).veto is None


def test_counselling_config_is_validated():
    with pytest.raises(ScenarioError):
        load_scenario(TINY, overrides=["voucher.counselling={regime: nudged}"])
    with pytest.raises(ScenarioError):
        load_scenario(TINY, overrides=["voucher.counselling={regime: guided, cost_per_recipient_idr: .nan}"])
    with pytest.raises(ScenarioError):
        load_scenario(TINY, overrides=["voucher.free_alternatives={enabled: true, free_share: 1.5}"])


@settings(max_examples=100, deadline=None)
@given(amounts=st.lists(st.floats(0.0, 1e12), max_size=5), spent=st.floats(0.0, 1e12))
def test_counselling_is_in_treasury_out_and_received(amounts, spent):
    ledger = Ledger()
    ledger.record_purchases(spent, 0.0, 0.1 * spent)
    for amount in amounts:
        ledger.record_counselling(amount)
    assert ledger.treasury_out == pytest.approx(spent + sum(amounts), rel=1e-12, abs=1e-3)
    assert ledger.treasury_out + ledger.topups == pytest.approx(ledger.received, rel=1e-12, abs=1e-3)


# ====================================================================== model level (tiny scenario)


def test_zero_strength_free_alternatives_and_maximum_choice_reproduce_the_model(tiny_off):
    # Free alternatives on but nothing free; maximum choice with every other counselling
    # parameter changed: the summary is the model's, bit for bit.
    assert summary(["voucher.free_alternatives={enabled: true, free_share: 0.0}"]) == tiny_off
    maximum = (
        "voucher.counselling={regime: maximum, information_weight: 1.0, cost_per_recipient_idr: 1.0e6,"
        " delay_weeks: 3, veto_min_quality: 0.9}"
    )
    assert summary([maximum]) == tiny_off


def test_free_alternatives_lower_take_up_and_count_spending_on_free_content(tiny_off):
    on = summary([FREE_ON])
    assert tiny_off["spending_on_free_content_share"] == 0.0
    assert 0.0 < on["spending_on_free_content_share"] <= 1.0
    assert summary(["voucher.free_alternatives={enabled: true, free_share: 1.0}"])[
        "spending_on_free_content_share"
    ] == pytest.approx(1.0)
    # The same recipients are selected (the lottery does not move); fewer of them find a course
    # worth buying once free material is the benchmark, so less credit is spent.
    assert on["participants_offered"] == tiny_off["participants_offered"]
    assert on["bought_share"] < tiny_off["bought_share"]
    assert on["total_cost_idr"] < tiny_off["total_cost_idr"]
    assert on["counselling_cost_idr"] == 0.0 and on["vetoed_option_share"] == 0.0
    # A certificate the free material lacks brings buyers back.
    certified = summary(["voucher.free_alternatives={enabled: true, certificate_value: 0.8}"])
    assert certified["bought_share"] > on["bought_share"]


def test_counting_only_value_added_lowers_skill_not_purchases():
    def run(counted: float) -> MarketModel:
        free = f"voucher.free_alternatives={{enabled: true, skill_counted: {counted}}}"
        s = load_scenario(TINY, overrides=[free])
        model = MarketModel(build_world(s))
        model.run()
        return model

    full, added = run(1.0), run(0.0)
    assert np.array_equal(full.state.courses_bought, added.state.courses_bought)
    assert np.array_equal(full.state.courses_completed, added.state.courses_completed)
    assert added.state.skill.sum() < full.state.skill.sum()


def test_counselling_cost_is_booked_and_committed_under_the_budget():
    # Guided choice at Rp300,000 a recipient: every simulated recipient (scale 10) costs
    # 300,000 simulated IDR at selection, in treasury out, and Rp3 m real per simulated recipient.
    s = load_scenario(TINY, overrides=[GUIDED])
    model = MarketModel(build_world(s))
    model.run()
    selected = int(np.count_nonzero(model.state.selected_week >= 0))
    ledger = model.ledger
    assert ledger.counselling == 300_000 * selected
    assert ledger.treasury_out + ledger.topups == pytest.approx(ledger.received, rel=1e-12)
    metrics = model.scheme.metrics()
    assert metrics["counselling_cost_idr"] == 300_000 * selected * model.scale
    # A budget of exactly 1,000 packages (credit 1 m + incentive 2.4 m + surveys 0.15 m, with the
    # office's 0.59 %, + counselling 0.3 m = 3,870,945 real IDR each) selects 1,000 / scale = 100.
    package = (1_000_000 + 600_000 * 4 + 50_000 * 3) * 1.0059 + 300_000
    budget = f"voucher.budget_idr={package * 1000}"
    tight = load_scenario(TINY, overrides=[GUIDED, budget])
    assert affordable_recipients(tight) == 100


def test_structured_choice_vetoes_options_and_raises_quality_enrolled(tiny_off):
    structured = summary(["voucher.counselling={regime: structured}"])
    assert 0.0 < structured["vetoed_option_share"] < 1.0
    assert structured["mean_true_quality_enrolled"] > tiny_off["mean_true_quality_enrolled"]
    assert structured["counselling_cost_idr"] == 300_000 * structured["participants_offered"]
    assert structured["participants_offered"] == tiny_off["participants_offered"]  # budget not binding


def test_vetoed_share_counts_every_slot_shown_and_every_veto(monkeypatch):
    """The vetoed share's two counts, kept week by week, are those of the shoppers' own choice
    sets: the non-empty slots shown (which the scheme takes from the shopping kernel's
    impressions) and, of them, those vetoed for the shopper's region."""
    from simulation.schemes.voucher import VoucherScheme

    shown, vetoed = [], []
    own_shoppers = VoucherScheme.shoppers

    def counted(self, rows, week):
        basket = own_shoppers(self, rows, week)
        slots = basket.options >= 0
        veto = self.course_facts(week).appraisal.veto
        region = np.broadcast_to(basket.region[:, None], slots.shape)[slots]
        shown.append(int(slots.sum()))
        vetoed.append(int(veto[basket.options[slots], region].sum()))
        return basket

    monkeypatch.setattr(VoucherScheme, "shoppers", counted)
    s = load_scenario(TINY, overrides=["voucher.counselling={regime: structured}"])
    model = MarketModel(build_world(s))
    model.run()
    tally = model.scheme.appraised
    assert tally.options_shown == sum(shown) > 0
    assert tally.options_vetoed == sum(vetoed) > 0


def test_counselling_delay_postpones_first_purchases_and_the_deadline():
    s = load_scenario(TINY, overrides=["voucher.counselling={regime: guided, delay_weeks: 2}"])
    model = MarketModel(build_world(s))
    model.run()
    state = model.state
    bought = state.courses_bought > 0
    assert (state.first_purchase_week[bought] - state.selected_week[bought] >= 2).all()
    assert bought.any()


def test_kernel_matches_numpy_twin_with_free_alternatives_and_vetoes():
    """The compiled kernel reads the appraisal through the taste table only: its picks and its
    expected-demand tally equal the numpy twin's, vetoed options included (shown, never bought)."""
    both = [
        "voucher.free_alternatives={enabled: true, certificate_value: 0.5}",
        "voucher.counselling={regime: structured}",
    ]
    model = MarketModel(build_world(load_scenario(TINY, overrides=both)))
    for _ in range(3):
        model.step()
    rows = np.flatnonzero(model.state.selected_week >= 0)
    basket, market = model.scheme.shoppers(rows, model.week), model.scheme.course_facts(model.week)
    assert market.appraisal is not None and market.appraisal.veto is not None
    params, draws = model.params.choice, Draws.of(11, "voucher:shopping", 3)
    share = np.ones(len(rows))
    tally = ExpectedDemand.zeros(len(model.courses))
    picks = shop(basket, market, params, draws, tally, share)
    noise = draws.gumbels(basket.persons(), basket.options.shape[1])
    u = utilities(basket, market, params)
    np.testing.assert_array_equal(picks, choose(u, outside_utility(basket, params), noise))
    twin = expected_demand(basket, market, params, share)
    np.testing.assert_array_equal(tally.impressions, twin.impressions)
    np.testing.assert_allclose(tally.sales, twin.sales, rtol=1e-9, atol=1e-12)
    vetoed = market.appraisal.veto[np.maximum(basket.options, 0), basket.region[:, None]] & (
        basket.options >= 0
    )
    assert vetoed.any() and np.isneginf(u[vetoed]).all()
    bought = picks >= 0
    assert bought.any() and not vetoed[bought, picks[bought]].any()


def test_the_counsellors_reading_is_reported_on_the_stars_scale():
    """Leniency 1.5 stars lifts the stars' quality by 1.5 / 4 = 0.375. A course read at 0.2 and
    shown at 5 stars (star quality 1) is expected, at weight 0.5, at 0.5 x 1 + 0.5 x (0.2 + 0.375)
    = 0.7875 (the quality term: quality_weight 2 x 0.7875 = 1.575). A course rated honestly and
    unsaturated, q = 0.4, shows star quality 0.4 + 0.375 = 0.775, and the counsellor's reading 0.4
    reported as 0.775 leaves its expected quality unchanged: counselling adds the course's own
    deviation, not a shift of the whole scale."""
    from simulation.config.scenario import Counselling
    from simulation.rules.appraisal import appraisal

    counsel = Counselling(regime="guided", information_weight=0.5, reading_noise_sd=0.0)
    quality = np.array([0.2, 0.4], np.float32)
    vacancies = np.ones((2, 1))
    found = appraisal(0, quality, np.zeros(2, np.int8), vacancies, FreeAlternatives(), counsel, 1.5)
    assert found is not None
    term = found.quality_term(np.array([1.0, 0.775], np.float32), 2.0)
    assert term == pytest.approx([1.575, 2.0 * 0.775], abs=1e-6)
