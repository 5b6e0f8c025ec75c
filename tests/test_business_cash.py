"""The three-state labour market (not working, wage job, own business), the cash channel and
displacement (simulation.model.labour, simulation.rules.kernels.employment_week).

Kernel cases are worked on paper: a person's weekly uniform draw u and hazards are chosen so that
each transition can be checked by hand; the model-level cases recompute every transition of a run
in numpy, as tests/test_labour.py does for the two-state chain.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation import build_world, load_scenario
from simulation.market.participants import ENROLLED
from simulation.model.labour import cash_kept_weekly, start_odds
from simulation.model.market import MarketModel
from simulation.reporting.metrics import summarise
from simulation.rules.kernels import employment_week
from simulation.rules.keyed_draws import purpose_key, uniforms32_numpy

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
F32 = np.float32


def week(
    u,
    f_twin,
    f_factor=None,
    *,
    employed=None,
    business=None,
    twin_employed=None,
    twin_business=None,
    loss=0.0,
    twin_loss=0.0,
    in_course=None,
    keep=1.0,
    liquidity=None,
    business_factor=None,
    start=0.0,
    exit_rate=0.0,
    cash_search=0.0,
    cash_business=0.0,
    crowding=0.0,
    cell=None,
):
    """Run the kernel once on people given by their draws ``u`` and their twins' wage hazards
    ``f_twin`` (each person in a group of their own); returns (employed, business, twin employed,
    twin business) after the week."""
    u = np.asarray(u, dtype=F32)
    n = u.size
    f_twin = np.asarray(f_twin, dtype=np.float64)
    inverse_odds = ((1.0 - f_twin) / f_twin).astype(F32)

    def arr(value, default, dtype):
        return np.full(n, default, dtype=dtype) if value is None else np.array(value, dtype=dtype)  # a copy

    state = [
        arr(employed, False, bool),
        arr(business, False, bool),
        arr(twin_employed, False, bool),
        arr(twin_business, False, bool),
    ]
    cells = arr(cell, 0, np.int32)
    employment_week(
        u,
        np.arange(n, dtype=np.int16),
        inverse_odds,
        arr(f_factor, 1.0, F32),
        arr(None, loss, F32),
        arr(in_course, False, bool),
        F32(keep),
        F32(twin_loss),
        state[0],
        state[2],
        state[1],
        state[3],
        arr(liquidity, 0.0, F32),
        arr(business_factor, 1.0, F32),
        np.array([start_odds(start), exit_rate, cash_search, cash_business, crowding], dtype=F32),
        cells,
        int(cells.max()) + 1,
    )
    return tuple(state)


def factor_for(f_treated: float, f_twin: float) -> float:
    """The odds factor find_odds_factor that turns a twin's wage hazard into the treated one's."""
    return ((1.0 - f_treated) / f_treated) / ((1.0 - f_twin) / f_twin)


# --------------------------------------------------------------------------- hand-worked kernel cases


def test_business_start_with_cash_by_hand():
    # Base start probability 0.1: odds 1/9. Liquidity 2 (million IDR) with cash_business_effect =
    # ln 2 / 2 doubles the odds to 2/9, so b = (2/9) / (1 + 2/9) = 2/11 = 0.1818 and a business
    # starts iff u >= 1 - 2/11 = 0.8182. The wage hazard is 0.2 (twin and treated alike).
    # u = 0.85: business on the treated path (cash), not for the twin (needs u >= 0.9);
    # u = 0.80: neither starts a business nor finds a wage job (u >= 0.2);
    # u = 0.95: both start a business; u = 0.10: both find a wage job.
    u = [0.85, 0.80, 0.95, 0.10]
    employed, business, twin_employed, twin_business = week(
        u, [0.2] * 4, liquidity=[2.0] * 4, start=0.1, cash_business=math.log(2.0) / 2.0
    )
    assert business.tolist() == [True, False, True, False]
    assert employed.tolist() == [True, False, True, True]
    assert twin_business.tolist() == [False, False, True, False]
    assert twin_employed.tolist() == [False, False, True, True]


def test_skill_and_lock_in_in_business_starts_by_hand():
    # Start 0.1 (odds 1/9); a business skill factor of 3 gives odds 1/3 and b = 0.25: a start iff
    # u >= 0.75. In a course (keep 0.5) b = 0.125: a start iff u >= 0.875.
    u = [0.80, 0.80, 0.90]
    employed, business, *_ = week(
        u, [0.01] * 3, business_factor=[3.0] * 3, in_course=[False, True, True], keep=0.5, start=0.1
    )
    assert business.tolist() == [True, False, True]
    assert employed.tolist() == business.tolist()


def test_exits_by_hand():
    # A business closes iff u < exit (0.05); a wage job ends iff u < loss (0.01 treated, 0.02
    # twin). Rows: business u = 0.03 (closes), business u = 0.06 (stays), wage u = 0.015 (kept
    # on the treated path, lost by the twin), wage u = 0.005 (lost by both).
    u = [0.03, 0.06, 0.015, 0.005]
    employed = [True, True, True, True]
    business = [True, True, False, False]
    out = week(
        u,
        [1e-6] * 4,
        employed=employed,
        business=business,
        twin_employed=employed,
        twin_business=business,
        loss=0.01,
        twin_loss=0.02,
        exit_rate=0.05,
        start=0.0,
    )
    assert out[0].tolist() == [False, True, True, False]
    assert out[1].tolist() == [False, True, False, False]
    assert out[2].tolist() == [False, True, False, False]
    assert out[3].tolist() == [False, True, False, False]


def test_cash_pays_for_search_by_hand():
    # Twin's wage hazard 0.2 (odds 1/4). Liquidity 1 with cash_search_effect = ln 3 triples the
    # odds to 3/4: f = 3/7 = 0.4286. u = 0.4: a wage job on the treated path only.
    employed, business, twin_employed, _ = week([0.4], [0.2], liquidity=[1.0], cash_search=math.log(3.0))
    assert employed.tolist() == [True] and business.tolist() == [False]
    assert twin_employed.tolist() == [False]


def test_displacement_by_hand():
    # One cell, two people not working: twins' wage hazards 0.2 each (H0 = 0.4), treated 0.4 each
    # (H1 = 0.8 > H0). Crowding 1 scales the treated hazards by H0 / H1 = 0.5, to 0.2; crowding 0.5
    # by sqrt(0.5) = 0.7071, to 0.2828. Draws u = 0.3 and 0.25: a wage job iff u < the hazard.
    u = [0.30, 0.25]
    factor = [factor_for(0.4, 0.2)] * 2
    assert week(u, [0.2, 0.2], factor)[0].tolist() == [True, True]  # no displacement: 0.3, 0.25 < 0.4
    assert week(u, [0.2, 0.2], factor, crowding=1.0)[0].tolist() == [False, False]  # >= 0.2
    assert week(u, [0.2, 0.2], factor, crowding=0.5)[0].tolist() == [False, True]  # 0.2828 between
    # H1 <= H0: no rationing (here the treated hazards are the twins', H1 = H0).
    assert week(u, [0.35, 0.35], crowding=1.0)[0].tolist() == [True, True]
    # Cells apart: the second person (hazard 0.3, as the twin's) has no excess in their cell, so
    # only the first is rationed (to 0.2 as before; H0 and H1 now count one person each).
    assert week(u, [0.2, 0.3], [factor[0], 1.0], crowding=1.0, cell=[0, 1])[0].tolist() == [False, True]


def test_displacement_counts_only_people_not_working_and_spares_businesses():
    # Person 0 works (wage), so only person 1 enters the sums: H0 = 0.2, H1 = 0.4, factor 0.5 ->
    # f = 0.2 and u = 0.3 finds nothing. A business start (u >= 1 - b) is not rationed: person 2,
    # in another cell with the same excess, starts a business with u = 0.95 and b = 0.1.
    out = week(
        [0.5, 0.3, 0.95],
        [0.2, 0.2, 0.2],
        [factor_for(0.4, 0.2)] * 3,
        employed=[True, False, False],
        twin_employed=[True, False, False],
        start=0.1,
        crowding=1.0,
        cell=[0, 0, 1],
    )
    assert out[0].tolist() == [True, False, True] and out[1].tolist() == [False, False, True]


# --------------------------------------------------------------------------- limiting case and coupling


def old_two_state_week(u, inverse_odds, factor, loss, in_course, keep, twin_loss, employed, twin_employed):
    """The two-state chain before businesses and cash, in numpy float32 (the former kernel)."""
    one = F32(1.0)
    find = one / (one + inverse_odds * factor)
    find = np.where(in_course, find * keep, find).astype(F32)
    new = np.where(employed, u >= loss, u < find)
    new_twin = np.where(twin_employed, u >= twin_loss, u < one / (one + inverse_odds))
    return new, new_twin


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(seed=st.integers(0, 10_000), cash=st.sampled_from([0.0, 3.0]))
def test_defaults_are_the_two_state_chain_exactly(seed, cash):
    # No business starts, no exits, no cash effect, no crowding: the kernel is the former chain bit
    # for bit, whatever liquidity people hold (cash without effect), and nobody runs a business.
    rng = np.random.default_rng(seed)
    n = 500
    u = rng.random(n).astype(F32)
    inverse_odds = rng.lognormal(2.0, 1.0, n).astype(F32)
    factor = np.exp(-rng.random(n)).astype(F32)
    loss = (0.05 * rng.random(n)).astype(F32)
    in_course = rng.random(n) < 0.3
    employed, twin = rng.random(n) < 0.4, rng.random(n) < 0.4
    expected = old_two_state_week(
        u, inverse_odds, factor, loss, in_course, F32(0.7), F32(0.02), employed, twin
    )
    new_employed, new_twin = employed.copy(), twin.copy()
    business, twin_business = np.zeros(n, bool), np.zeros(n, bool)
    employment_week(
        u,
        np.arange(n, dtype=np.int16),
        inverse_odds,
        factor,
        loss,
        in_course,
        F32(0.7),
        F32(0.02),
        new_employed,
        new_twin,
        business,
        twin_business,
        np.full(n, cash, dtype=F32),
        np.ones(n, dtype=F32),
        np.zeros(5, dtype=F32),
        np.zeros(n, dtype=np.int32),
        1,
    )
    assert np.array_equal(new_employed, expected[0]) and np.array_equal(new_twin, expected[1])
    assert not business.any() and not twin_business.any()


@settings(max_examples=40, deadline=None, derandomize=True, database=None)
@given(
    seed=st.integers(0, 10_000),
    raise_by=st.floats(1.5, 50.0),
    start=st.sampled_from([0.01, 0.05, 0.2]),
    crowding=st.sampled_from([0.0, 1.0]),
)
def test_raising_the_wage_hazard_never_changes_a_business_start(seed, raise_by, start, crowding):
    # Twin-coupled draws: the same u for both runs. Raising everyone's wage odds (treated path) by
    # a factor leaves every business start as it was, with or without displacement.
    rng = np.random.default_rng(seed)
    n = 400
    u = rng.random(n)
    f_twin = rng.uniform(0.01, 0.3, n)
    factor = np.exp(-rng.random(n))
    cash = rng.exponential(1.0, n)
    low = week(u, f_twin, factor, liquidity=cash, start=start, cash_business=0.5, crowding=crowding)
    high = week(
        u, f_twin, factor / raise_by, liquidity=cash, start=start, cash_business=0.5, crowding=crowding
    )
    assert np.array_equal(low[1], high[1]) and np.array_equal(low[3], high[3])
    assert low[1].any()  # not vacuous
    if crowding == 0.0:  # person by person, a higher wage hazard never takes a wage job away
        assert not ((low[0] & ~low[1]) & ~(high[0] & ~high[1])).any()
        assert (high[0] & ~high[1]).sum() > (low[0] & ~low[1]).sum()


def test_displacement_is_scale_free():
    # The same people twice over (each with the same draws): every cell's sums double, their
    # ratio does not, so everyone's transition is the same as in the single copy.
    rng = np.random.default_rng(7)
    n = 300
    u = rng.random(n)
    f_twin = rng.uniform(0.05, 0.3, n)
    factor = np.exp(-2.0 * rng.random(n))
    cell = rng.integers(0, 5, n)
    employed = rng.random(n) < 0.3
    one = week(u, f_twin, factor, employed=employed, twin_employed=employed, crowding=0.7, cell=cell)
    two = week(
        np.tile(u, 2),
        np.tile(f_twin, 2),
        np.tile(factor, 2),
        employed=np.tile(employed, 2),
        twin_employed=np.tile(employed, 2),
        crowding=0.7,
        cell=np.tile(cell, 2),
    )
    for a, b in zip(one, two, strict=True):
        assert np.array_equal(np.tile(a, 2), b)
    free = week(u, f_twin, factor, employed=employed, twin_employed=employed, crowding=0.0, cell=cell)
    assert (free[0] & ~one[0]).sum() > 0  # the crowding bit


# --------------------------------------------------------------------------- liquidity


def test_liquidity_halves_every_half_life():
    assert cash_kept_weekly(4.0) == pytest.approx(0.5**0.25)
    assert cash_kept_weekly(4.0) ** 4 == pytest.approx(0.5)
    assert cash_kept_weekly(1.0) == 0.5
    assert start_odds(0.1) == pytest.approx(1.0 / 9.0) and start_odds(0.0) == 0.0


def test_add_cash_in_millions_and_decay_over_weeks():
    # Rp600,000 twice to row 3 (a row listed twice is paid twice) and Rp50,000 to row 5: their
    # liquidity is 1.2 and 0.05 million IDR; a week later, with a half-life of 2 weeks, 1.2 x
    # 0.5 ** 0.5 = 0.8485; what they received stays 1.2 million and 50,000 IDR.
    s = load_scenario(TINY, overrides=["labour.cash_half_life_weeks=2"], size=50, weeks=12)
    model = MarketModel(build_world(s))
    labour = model.labour
    labour.add_cash(np.array([3, 3]), 600000.0)
    labour.add_cash(np.array([5]), 50000.0)
    assert labour.liquidity[3] == pytest.approx(1.2) and labour.liquidity[5] == pytest.approx(0.05)
    labour.step(0, np.zeros(len(model.people), dtype=bool))
    assert labour.liquidity[3] == pytest.approx(1.2 * 0.5**0.5, rel=1e-6)
    assert labour.cash_received_idr[3] == 1.2e6 and labour.cash_received_idr[5] == 5e4
    assert labour.cash_received_idr.sum() == 1.25e6


# --------------------------------------------------------------------------- whole runs

BUSINESS = [
    "labour.business_start_weekly=0.01",
    "labour.business_exit_weekly=0.02",
    "labour.business_skill_effect=0.8",
    "labour.cash_business_effect=0.6",
    "labour.cash_search_effect=0.3",
    "labour.cash_half_life_weeks=3",
    "labour.skill_effect=1.5",
    "labour.job_loss_weekly=0.03",
    "labour.lock_in=0.4",
    "population.employed_at_entry_share=0.4",
    "population.self_employed_at_entry_share=0.5",
    "choice.outside_utility=0",
]


def model_of(overrides, size=600, weeks=16, seed=None, scheme="voucher") -> MarketModel:
    s = load_scenario(TINY, overrides=list(overrides), size=size, weeks=weeks, seed=seed)
    return MarketModel(build_world(s), scheme)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_every_transition_follows_the_stated_hazards():
    # Recompute every transition of a run in numpy from DESIGN §4 and the docstring of
    # simulation.model.labour, with the liquidity each person held this week (what they hold after
    # the week's decay / the weekly share kept). Draws within 1e-4 of a threshold are skipped.
    model = model_of(BUSINESS, size=600, weeks=16)
    p = model.params.labour
    state, labour, people = model.state, model.labour, model.people
    key = purpose_key(model.world.seed, "labour")
    keep = cash_kept_weekly(p.cash_half_life_weeks)
    shift = np.array([r.job_finding_shift for r in model.params.regions])
    checked = started = 0
    for w in range(model.params.weeks):
        before = (
            labour.employed.copy(),
            labour.business.copy(),
            labour.twin_employed.copy(),
            labour.twin_business.copy(),
        )
        model.step()
        u = uniforms32_numpy(np.arange(len(people)), w, 0, key).astype(np.float64)
        cash = labour.liquidity.astype(np.float64) / keep
        logit = (
            p.job_finding_logit
            + shift[people.region]
            + p.senior_high_effect * people.senior_high
            + p.age_18_35_effect * people.age_18_35
            + p.demand_elasticity * np.log(model.world.vacancies[w, people.sector, people.region])
        )
        skill = state.matched_skill.astype(np.float64)
        lock = np.where(state.status == ENROLLED, 1.0 - p.lock_in, 1.0)
        f = sigmoid(logit + p.skill_effect * skill + p.cash_search_effect * cash) * lock
        odds = start_odds(p.business_start_weekly) * np.exp(
            p.business_skill_effect * skill + p.cash_business_effect * cash
        )
        b = odds / (1.0 + odds) * lock
        loss = p.job_loss_weekly * np.exp(-p.skill_protects_job * skill)
        employed, business, twin_employed, twin_business = before
        exp_business = np.where(employed, business & (u >= p.business_exit_weekly), u >= 1.0 - b)
        exp_employed = np.where(
            employed, np.where(business, u >= p.business_exit_weekly, u >= loss), (u >= 1.0 - b) | (u < f)
        )
        thresholds = np.stack([f, 1.0 - b, loss, np.full_like(u, p.business_exit_weekly)])
        clear = (np.abs(u - thresholds) > 1e-4).all(axis=0)
        assert np.array_equal(labour.business[clear], exp_business[clear]), w
        assert np.array_equal(labour.employed[clear], exp_employed[clear]), w
        b0 = start_odds(p.business_start_weekly) / (1.0 + start_odds(p.business_start_weekly))
        f0 = sigmoid(logit)
        exp_twin_business = np.where(
            twin_employed, twin_business & (u >= p.business_exit_weekly), u >= 1.0 - b0
        )
        exp_twin = np.where(
            twin_employed,
            np.where(twin_business, u >= p.business_exit_weekly, u >= p.job_loss_weekly),
            (u >= 1.0 - b0) | (u < f0),
        )
        twin_thresholds = np.stack([f0, np.full_like(u, 1.0 - b0), np.full_like(u, p.job_loss_weekly)])
        twin_clear = (np.abs(u - twin_thresholds) > 1e-4).all(axis=0)
        assert np.array_equal(labour.twin_business[twin_clear], exp_twin_business[twin_clear]), w
        assert np.array_equal(labour.twin_employed[twin_clear], exp_twin[twin_clear]), w
        checked += clear.sum()
        started += (labour.business & ~business).sum()
    assert checked > 0.99 * len(people) * model.params.weeks
    assert started > 30 and (labour.liquidity > 0).sum() > 30  # businesses and cash were exercised
    # A business is a kind of work: nobody runs one without being employed.
    assert (
        not (labour.business & ~labour.employed).any()
        and not (labour.twin_business & ~labour.twin_employed).any()
    )


def test_self_employed_at_entry_is_a_new_draw_that_moves_nothing_else():
    base = build_world(load_scenario(TINY, size=400, weeks=12))
    assert not base.participants.business_at_entry.any()  # default: nobody
    world = build_world(
        load_scenario(TINY, overrides=["population.self_employed_at_entry_share=0.5"], size=400, weeks=12)
    )
    people, old = world.participants, base.participants
    for name in (
        "region",
        "sector",
        "employed_at_entry",
        "motivation",
        "ability",
        "arrival_week",
        "platform",
    ):
        assert np.array_equal(getattr(people, name), getattr(old, name)), name
    assert np.array_equal(world.vacancies, base.vacancies)
    business = people.business_at_entry
    assert not (business & ~people.employed_at_entry).any()  # only those working run a business
    working = int(people.employed_at_entry.sum())
    assert abs(business.sum() - 0.5 * working) <= 4 * math.sqrt(0.25 * working)
    everyone = build_world(
        load_scenario(TINY, overrides=["population.self_employed_at_entry_share=1"], size=400, weeks=12)
    )
    assert np.array_equal(everyone.participants.business_at_entry, everyone.participants.employed_at_entry)


def test_effects_on_wage_and_self_employment_add_up_and_cash_is_a_channel():
    model = model_of(BUSINESS, size=1500, weeks=24).run()
    summary = summarise(model)
    assert summary["itt_wage_employment_pp"] + summary["itt_self_employment_pp"] == pytest.approx(
        summary["itt_employment_pp"], abs=1e-9
    )
    assert summary["true_effect_offered_self_employment_pp"] > 0
    labour = model.labour
    business, twin = labour.business_rate()
    offered = model.state.selected_week >= 0
    assert summary["true_effect_offered_self_employment_pp"] == pytest.approx(
        100 * (business - twin)[offered].mean()
    )
    assert summary["additional_businesses"] == pytest.approx(
        (labour.endline_weeks_business.sum() - labour.twin_endline_weeks_business.sum())
        / model.params.labour.endline_weeks
        * model.scale
    )
    assert summary["self_employment_rate_endline_comparison"] == pytest.approx(business[~offered].mean())
    assert summary["cash_paid_idr"] == pytest.approx(labour.cash_received_idr.sum() * model.scale)
    # Without the cash channel (same draws) fewer businesses are started by the offered.
    no_cash = model_of(
        [*BUSINESS, "labour.cash_business_effect=0", "labour.cash_search_effect=0"], size=1500, weeks=24
    ).run()
    assert (
        summarise(no_cash)["true_effect_offered_self_employment_pp"]
        < summary["true_effect_offered_self_employment_pp"]
    )


def test_budget_absorption_is_cost_over_budget():
    model = model_of([], size=300, weeks=12).run()
    summary = summarise(model)
    assert summary["budget_absorption"] == pytest.approx(
        summary["total_cost_idr"] / model.params.voucher.budget_idr
    )
    assert 0.0 < summary["budget_absorption"] <= 1.0 + 1e-9


# --------------------------------------------------------------------------- displacement

DISPLACED = [
    "labour.skill_effect=3",
    "labour.lock_in=0",
    "choice.outside_utility=0",
    "labour.job_loss_weekly=0.05",
]


def individual_and_aggregate(model: MarketModel) -> tuple[float, float, np.ndarray]:
    """(sum over the offered of their individual effects, additional jobs over everyone), real
    jobs, and everyone's endline effect."""
    summary = summarise(model)
    offered = summary["participants_offered"]
    endline, twin = model.labour.endline_rate()
    return summary["true_effect_offered_pp"] / 100.0 * offered, summary["additional_jobs"], endline - twin


def test_with_displacement_aggregate_jobs_fall_below_the_sum_of_individual_effects():
    off = model_of(DISPLACED, size=1500, weeks=24).run()
    individual, aggregate, gain = individual_and_aggregate(off)
    untrained = off.state.courses_bought == 0
    assert untrained.sum() > 100
    assert np.array_equal(gain[untrained], np.zeros(untrained.sum()))  # off: nobody else is touched
    assert aggregate == pytest.approx(individual)  # every extra job is an offered person's
    on = model_of(
        [*DISPLACED, "labour.displacement.enabled=true", "labour.displacement.crowding=1"],
        size=1500,
        weeks=24,
    ).run()
    individual_on, aggregate_on, gain_on = individual_and_aggregate(on)
    assert aggregate_on < individual_on
    assert gain_on[on.state.selected_week < 0].mean() < 0  # the controls lose jobs to the trained
    assert aggregate_on < aggregate  # fewer jobs in all than without displacement
