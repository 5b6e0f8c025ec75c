"""Docking: the vectorised shopping step against the plain-Mesa reference (simulation.model.reference).

Two implementations of the same weekly decision must agree:

* exactly, given the same inputs and the same Gumbel noise: the same utilities (up to float32
  rounding), the same infeasible options and the same choice for every shopper. The vectorised
  step works in float32 and the reference in float64, so the two totals ``utility + noise`` differ
  by ~1e-6; a shopper whose two best totals lie closer than ``NEAR_TIE`` could legitimately flip,
  so such near-ties are excluded from the choice comparison (they are counted, and must be rare);
* statistically, given independent draws: choice frequencies of many identical shoppers agree with
  each other (chi-square test of homogeneity) and with the closed-form logit probabilities.

"The vectorised step" is checked in both forms: ``choose(utilities(...), outside_utility(...),
noise)`` and the production ``simulation.rules.choice.shop`` (what ``VoucherScheme._shop`` calls), whose
noise is each shopper's keyed draw (``keyed_draws.Draws.gumbels``).

Each check is also run against a deliberately perturbed reference, to show it would fail.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chi2_contingency, chisquare

from simulation import MarketModel, build_world, load_scenario
from simulation.config.codes import HYBRID, OFFLINE, ONLINE
from simulation.config.scenario import Choice
from simulation.market.participants import HOLDING
from simulation.model.reference import ReferenceShoppingModel, ShopperAgent
from simulation.rules.choice import (
    OUTSIDE,
    Market,
    Shoppers,
    choose,
    gumbel,
    logit_probabilities,
    outside_utility,
    shop,
    utilities,
)
from simulation.rules.keyed_draws import Draws
from simulation.schemes import voucher

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"
NEAR_TIE = 1e-4  # utility units; float32 rounding of the totals is ~1e-6
UTILITY_TOL = 1e-5  # absolute and relative, utility units
P_MIN = 0.001  # significance level of the statistical docking
MAX_NEAR_TIE_SHARE = 0.001

# Distinct, non-default weights so that every term of the utility matters.
PARAMS = Choice(
    outside_utility=0.8,
    outside_shift_per_course=0.6,
    quality_weight=1.7,
    relevance_weight=0.9,
    demand_weight=0.35,
    effort_weight=0.45,
    weeks_weight=0.15,
    price_signal_weight=0.25,
    credit_shadow_value=0.4,
    copay_weight=1.8,
    no_internet_penalty=1.6,
    travel_weight=1.1,
)


# --------------------------------------------------------------------------- helpers


class PerturbedShopper(ShopperAgent):
    """A wrong reference: the first course on every page looks ``SHIFT`` utility units better."""

    SHIFT = 0.5

    def utilities(self) -> list[float]:
        u = super().utilities()
        if u:
            u[0] += self.SHIFT
        return u


def copy_market(market: Market) -> Market:
    """A snapshot of a market (the model keeps mutating its course arrays)."""
    return dataclasses.replace(
        market,
        **{
            f.name: np.array(value)
            for f in dataclasses.fields(Market)
            if isinstance(value := getattr(market, f.name), np.ndarray)
        },
    )


def assert_docked(
    shoppers: Shoppers,
    market: Market,
    params: Choice,
    noise: np.ndarray,
    recorded: np.ndarray | None = None,
    agent_class: type[ShopperAgent] = ShopperAgent,
    limit_near_ties: bool = True,
) -> dict[str, int]:
    """Assert the reference reproduces the vectorised step given the same noise; return counts.

    The reference is compared with ``choose(utilities, outside_utility, noise)`` and, when given,
    with ``recorded``: choices the production step made with this noise (e.g. in a model run).
    ``limit_near_ties`` bounds the near-ties of this call; a caller docking many small calls
    bounds their total instead (one call of a few hundred shoppers may hold two by chance).
    """
    u = utilities(shoppers, market, params)
    outside = outside_utility(shoppers, params)
    vectorised = {"choose(utilities)": choose(u, outside, noise)}
    if recorded is not None:
        vectorised["recorded"] = recorded
    reference = ReferenceShoppingModel(shoppers, market, params, noise=noise, rng=11, agent_class=agent_class)
    reference.step()
    ref_u, ref_outside = reference.utilities(), reference.outside_utilities()

    infeasible = np.isneginf(u)
    assert np.array_equal(infeasible, np.isneginf(ref_u)), "the two disagree on infeasible options"
    np.testing.assert_allclose(u[~infeasible], ref_u[~infeasible], rtol=UTILITY_TOL, atol=UTILITY_TOL)
    np.testing.assert_allclose(outside, ref_outside, rtol=UTILITY_TOL, atol=UTILITY_TOL)

    # Near-ties: the two best totals (options and waiting) closer than rounding could separate.
    totals = np.concatenate([ref_u, ref_outside[:, None]], axis=1) + noise.astype(np.float64)
    top_two = np.sort(totals, axis=1)[:, -2:]
    near_tie = (top_two[:, 1] - top_two[:, 0]) < NEAR_TIE
    if limit_near_ties:
        assert near_tie.sum() <= max(1, MAX_NEAR_TIE_SHARE * len(shoppers))
    ref_choice = reference.choices()
    for name, choice in vectorised.items():
        differ = np.flatnonzero((ref_choice != choice) & ~near_tie)
        assert differ.size == 0, (
            f"{differ.size} of {len(shoppers)} shoppers choose differently, e.g. row {differ[0]}: "
            f"{name} {choice[differ[0]]}, reference {ref_choice[differ[0]]}"
        )
    choice = vectorised["choose(utilities)"]
    return {
        "shoppers": len(shoppers),
        "near_ties": int(near_tie.sum()),
        "buy": int((choice != OUTSIDE).sum()),
        "wait": int((choice == OUTSIDE).sum()),
        "infeasible": int(infeasible.sum()),
    }


def noise_and_shop(
    shoppers: Shoppers, market: Market, params: Choice, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Keyed Gumbel noise [n, J + 1] from ``seed``, and the production step's picks on the same draws."""
    draws = Draws.of(seed, "voucher:shopping", 0)
    noise = draws.gumbels(shoppers.persons(), shoppers.options.shape[1])
    return noise, shop(shoppers, market, params, draws)


def synthetic_market(rng: np.random.Generator, n_courses: int = 40, max_topup_idr: float = 2.0e5) -> Market:
    """A random market of ``n_courses`` courses, 4 sectors, 3 regions, all three modes."""
    price = np.round(rng.uniform(50, 1000, n_courses)) * 1000.0
    price[:3] = [0.0, 1.0e6, 1.2e6]  # free (log guarded at 1 IDR), at the cap, above the cap
    return Market(
        course_sector=rng.integers(0, 4, n_courses).astype(np.int8),
        course_mode=rng.choice([ONLINE, OFFLINE, HYBRID], n_courses).astype(np.int8),
        course_hours=rng.uniform(6, 20, n_courses).astype(np.float32),
        course_difficulty=rng.uniform(0, 1, n_courses).astype(np.float32),
        price_idr=price.astype(np.float32),
        displayed_stars=np.round(rng.uniform(1, 5, n_courses), 1),
        log_vacancies=rng.normal(0, 1, (4, 3)).astype(np.float32),
        travel_cost_idr=np.array([0.0, 50000.0, 250000.0], dtype=np.float32),
        credit_idr=1.0e6,
        cap_idr=1.0e6,
        max_topup_idr=max_topup_idr,
    )


def synthetic_shoppers(rng: np.random.Generator, n: int, n_options: int, n_courses: int) -> Shoppers:
    """Random shoppers; some empty slots, some empty pages, some last courses on the page."""
    options = rng.integers(0, n_courses, (n, n_options)).astype(np.int64)
    options[rng.random((n, n_options)) < 0.15] = -1
    options[: n // 50] = -1  # whole pages empty
    last = np.where(rng.random(n) < 0.3, rng.integers(0, n_courses, n), -1)
    on_page = rng.random(n) < 0.3
    last[on_page] = options[on_page, rng.integers(0, n_options, on_page.sum())]
    credit = np.round(rng.uniform(0, 1000, n)) * 1000.0
    credit[rng.random(n) < 0.2] = 1.0e6
    credit[rng.random(n) < 0.05] = 0.0
    return Shoppers(
        options=options,
        sector=rng.integers(0, 4, n).astype(np.int8),
        region=rng.integers(0, 3, n).astype(np.int8),
        internet=rng.random(n) < 0.7,
        weekly_hours=rng.integers(4, 21, n).astype(np.float32),
        credit_left_idr=credit.astype(np.float32),
        courses_bought=rng.integers(0, 4, n).astype(np.int16),
        last_course=last.astype(np.int32),
    )


def replicate(shoppers: Shoppers, rows: np.ndarray, fresh: bool = False) -> Shoppers:
    """The shoppers at ``rows`` (with repeats); ``fresh`` makes each copy a new person (its own
    draws) rather than the same person again."""
    columns = {
        f.name: getattr(shoppers, f.name)[rows]
        for f in dataclasses.fields(Shoppers)
        if f.name != "person" and getattr(shoppers, f.name) is not None
    }
    person = np.arange(len(rows), dtype=np.int64) if fresh else shoppers.persons()[rows]
    return Shoppers(**columns, person=person)


@pytest.fixture(scope="module")
def recorded_run() -> list[dict]:
    """Every weekly shopping call of a full tiny voucher run: inputs, noise and the model's picks.

    ``simulation.rules.choice.shop`` draws each shopper's noise keyed by person, week and slot, so
    the noise is recomputed from the call's ``Draws`` (``Draws.gumbels``).
    """
    calls: list[dict] = []
    real_shop = voucher.shop

    def spy_shop(basket: Shoppers, market: Market, params: Choice, draws: Draws, *tally) -> np.ndarray:
        pick = real_shop(basket, market, params, draws, *tally)  # tally: the expected demand
        calls.append(
            {
                "shoppers": replicate(basket, np.arange(len(basket))),
                "market": copy_market(market),
                "params": params,
                "noise": draws.gumbels(basket.persons(), basket.options.shape[1]),
                "pick": pick.copy(),
            }
        )
        return pick

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(voucher, "shop", spy_shop)
        MarketModel(build_world(load_scenario(TINY)), "voucher").run()
    return calls


# --------------------------------------------------------------------------- exact docking


def test_reference_reproduces_every_purchase_of_a_tiny_run(recorded_run):
    """The shopping of a real run (VoucherScheme._shop), week by week, with the run's own noise."""
    assert recorded_run, "VoucherScheme._shop no longer calls simulation.rules.choice.shop"
    totals = {"shoppers": 0, "near_ties": 0, "buy": 0, "wait": 0}
    for call in recorded_run:
        counts = assert_docked(
            call["shoppers"],
            call["market"],
            call["params"],
            call["noise"],
            recorded=call["pick"],
            limit_near_ties=False,
        )
        for key in totals:
            totals[key] += counts[key]
    assert totals["buy"] > 500 and totals["wait"] > 500  # not a vacuous comparison
    assert totals["near_ties"] <= max(1, MAX_NEAR_TIE_SHARE * totals["shoppers"])


def test_docking_with_topups_on_tiny_inputs():
    """Inputs built through the scheme (choice_sets, market) after a few weeks, top-ups allowed."""
    scenario = load_scenario(TINY, ["voucher.topup_allowed=true", "voucher.max_topup_idr=300000"])
    model = MarketModel(build_world(scenario), "voucher")
    topups = 0
    for _ in range(3):
        model.step()
        state = model.state
        # Everyone selected, not only holders: enrolled and finished cards add low and zero credit.
        rows = np.flatnonzero(state.selected_week >= 0)
        shoppers = model.scheme.shoppers(rows, model.week)
        market = model.scheme.course_facts(model.week)
        noise, picks = noise_and_shop(shoppers, market, model.params.choice, seed=model.week)
        counts = assert_docked(shoppers, market, model.params.choice, noise, recorded=picks)
        assert counts["buy"] > 0 and counts["wait"] > 0 and counts["infeasible"] > 0
        price = market.price_idr[np.maximum(shoppers.options, 0)]
        u = utilities(shoppers, market, model.params.choice)
        topups += int((np.isfinite(u) & (price > shoppers.credit_left_idr[:, None])).sum())
        assert (state.status == HOLDING).any()
    assert topups > 0  # some feasible options do need a top-up


@pytest.mark.parametrize(
    ("max_topup_idr", "copay_share"), [(0.0, 0.0), (2.0e5, 0.0), (0.0, 0.3), (2.0e5, 0.25), (0.0, 1.0)]
)
def test_docking_on_synthetic_market(max_topup_idr, copay_share):
    """Empty slots and pages, top-ups, co-payments (up to the whole price), last courses on the
    page, all modes, free and capped prices."""
    rng = np.random.default_rng(7)
    market = dataclasses.replace(synthetic_market(rng, max_topup_idr=max_topup_idr), copay_share=copay_share)
    shoppers = synthetic_shoppers(rng, 4000, 12, len(market.price_idr))
    noise, picks = noise_and_shop(shoppers, market, PARAMS, seed=9)
    counts = assert_docked(shoppers, market, PARAMS, noise, recorded=picks)
    assert counts["buy"] > 500 and counts["wait"] > 500 and counts["infeasible"] > 4000


def test_exact_docking_detects_a_perturbed_reference():
    rng = np.random.default_rng(8)
    market = synthetic_market(rng)
    shoppers = synthetic_shoppers(rng, 500, 12, len(market.price_idr))
    noise = gumbel(rng, (len(shoppers), 13))
    with pytest.raises(AssertionError):
        assert_docked(shoppers, market, PARAMS, noise, agent_class=PerturbedShopper)


# --------------------------------------------------------------------------- statistical docking

REPLICAS = 8000  # shoppers per type


def shopper_types() -> tuple[Shoppers, Market]:
    """Three distinct shopper types on one synthetic market, each with a spread of choices."""
    market = synthetic_market(np.random.default_rng(3), n_courses=12)
    options = np.array(
        [
            [3, 4, 5, 6, 7, -1],  # an empty slot
            [8, 9, 10, 11, 3, 4],  # course 10 was the last one taken: infeasible
            [5, 6, 1, 2, 7, 8],  # 1 and 2 cost 1.0 m and 1.2 m: a top-up
        ],
        dtype=np.int64,
    )
    shoppers = Shoppers(
        options=options,
        sector=np.array([0, 1, 2], dtype=np.int8),
        region=np.array([0, 1, 2], dtype=np.int8),
        internet=np.array([True, False, True]),
        weekly_hours=np.array([5.0, 10.0, 8.0], dtype=np.float32),
        credit_left_idr=np.array([1.0e6, 6.0e5, 9.5e5], dtype=np.float32),
        courses_bought=np.array([0, 1, 0], dtype=np.int16),
        last_course=np.array([-1, 10, 2], dtype=np.int32),
    )
    return shoppers, market


def frequencies(choices: np.ndarray, n_options: int) -> np.ndarray:
    """Counts per column, the outside option last [J + 1]."""
    return np.bincount(np.where(choices == OUTSIDE, n_options, choices), minlength=n_options + 1)


def simulate_all(agent_class: type[ShopperAgent] = ShopperAgent) -> list[dict]:
    """Independent draws for REPLICAS copies of each type: the counts of each implementation
    (``choose(utilities)``, the production ``shop`` and the reference) and the logit probabilities."""
    types, market = shopper_types()
    n_types, n_options = types.options.shape
    crowd = replicate(types, np.repeat(np.arange(n_types), REPLICAS), fresh=True)
    u = utilities(crowd, market, PARAMS)
    outside = outside_utility(crowd, PARAMS)
    vectorised = choose(u, outside, gumbel(np.random.default_rng(101), (len(crowd), n_options + 1)))
    kernel = shop(crowd, market, PARAMS, Draws.of(303, "voucher:shopping", 0))
    reference = ReferenceShoppingModel(crowd, market, PARAMS, rng=202, agent_class=agent_class)
    reference.step()
    ref_choice = reference.choices()
    probs = logit_probabilities(u, outside)
    results = []
    for t in range(n_types):
        rows = slice(t * REPLICAS, (t + 1) * REPLICAS)
        results.append(
            {
                "vectorised": frequencies(vectorised[rows], n_options),
                "shop": frequencies(kernel[rows], n_options),
                "reference": frequencies(ref_choice[rows], n_options),
                "probabilities": probs[t * REPLICAS],
            }
        )
    return results


def homogeneity_p(result: dict) -> float:
    """p-value of the chi-square test that the three implementations share one distribution."""
    table = np.vstack([result["vectorised"], result["shop"], result["reference"]])
    return float(chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue)


def fit_p(counts: np.ndarray, probabilities: np.ndarray) -> float:
    """p-value of the chi-square goodness of fit of ``counts`` to the logit ``probabilities``
    (over the feasible choices; infeasible ones are checked to be never chosen)."""
    possible = probabilities > 0
    expected = probabilities[possible] / probabilities[possible].sum() * counts[possible].sum()
    return float(chisquare(counts[possible], expected).pvalue)


def test_choice_frequencies_agree_with_each_other_and_with_the_logit():
    results = simulate_all()
    for t, result in enumerate(results):
        probs = result["probabilities"]
        impossible = probs == 0
        assert impossible.sum() == 1, f"type {t} should have exactly one infeasible option"
        for name in ("vectorised", "shop", "reference"):
            assert result[name][impossible].sum() == 0, f"type {t}: {name} chose an infeasible option"
            assert fit_p(result[name], probs) > P_MIN, f"type {t}: {name} does not follow the logit"
        assert (probs[~impossible] * REPLICAS > 50).all(), "every feasible choice should be common"
        assert probs[-1] < 0.9  # waiting does not swamp the test
        assert homogeneity_p(result) > P_MIN, f"type {t}: implementations differ"


def test_statistical_docking_detects_a_perturbed_reference():
    results = simulate_all(PerturbedShopper)
    assert all(homogeneity_p(r) < 1e-6 for r in results)
    assert all(fit_p(r["reference"], r["probabilities"]) < 1e-6 for r in results)
