"""The sellers' shading rule reads the shoppers' own slope in quality (review of issue 10, P2-3):
free content (a left derivative of 0 at and below the free material), counselling (the stars'
part scaled by 1 - w, an immediate term w through the counsellor's reading, the structured
veto's listing loss) and incentive seekers (their quality factor, by their share)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from simulation.config.codes import ONLINE
from simulation.config.scenario import Choice, FreeAlternatives, IncentiveSeekers, load_scenario
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.rules import free_content, quality
from simulation.rules.appraisal import Appraisal
from simulation.rules.choice import Market, quality_slopes, quality_term

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"
QUALITY = Choice(outside_utility=0.0, quality_weight=2.0)  # the other weights as their defaults
SAVING = "providers.quality_saving_idr={online: 20000, offline: 100000, hybrid: 60000}"


def market_of(stars: list[float], appraised: Appraisal | None = None) -> Market:
    n = len(stars)
    return Market(
        course_sector=np.zeros(n, dtype=np.int8),
        course_mode=np.full(n, ONLINE, dtype=np.int8),
        course_hours=np.full(n, 10.0, dtype=np.float32),
        course_difficulty=np.full(n, 0.4, dtype=np.float32),
        price_idr=np.full(n, 500_000.0, dtype=np.float32),
        displayed_stars=np.array(stars),
        log_vacancies=np.zeros((1, 1), dtype=np.float32),
        travel_cost_idr=np.zeros(1, dtype=np.float32),
        credit_idr=1_000_000.0,
        cap_idr=1_000_000.0,
        max_topup_idr=0.0,
        appraisal=appraised,
    )


# ====================================================================== the slope, by hand


def test_free_content_slope_is_the_left_derivative_by_hand():
    # quality_weight 2, free material 0.4, certificate 0.3. E[q] 0.6 free: term 2 x 0.2 + 0.3 =
    # 0.7, slope 2; not free: term 1.2, slope 2; E[q] 0.4 free, at the kink: term 0.3, and the
    # slope a seller faces shading DOWN is 0 (the right derivative would be 2); 0.3 free: 0.3, 0.
    params = FreeAlternatives(enabled=True, free_quality=0.4, certificate_value=0.3)
    e_q = np.array([0.6, 0.6, 0.4, 0.3], dtype=np.float32)
    free = np.array([True, False, True, True])
    term, slope = free_content.quality_response(e_q, free, 2.0, params)
    assert term == pytest.approx([0.7, 1.2, 0.3, 0.3], abs=1e-6)
    np.testing.assert_array_equal(slope, [2.0, 2.0, 0.0, 0.0])
    np.testing.assert_array_equal(free_content.quality_term(e_q, free, 2.0, params), term)


def test_counselled_slopes_by_hand():
    # Guided, w = 0.25, quality_weight 2, no free content: stars slope (1 - 0.25) x 2 = 1.5; the
    # counsellor reads delivered quality at once, slope 0.25 x 2 = 0.5, except where the reading
    # is clipped at 0 or 1 (shading a little leaves it there): readings 0.2, 1.0, 0.0 -> 0.5, 0, 0.
    # Free content at 0.4 on the first course, with E[q] = 0.75 x 0.5 + 0.25 x 0.2 = 0.425 > 0.4:
    # same slopes; on the second, E[q] = 0.75 x 0.25 + 0.25 x 1 = 0.4375 > 0.4 too.
    off = FreeAlternatives()
    appraised = Appraisal(np.zeros(3, bool), off, np.array([0.2, 1.0, 0.0], np.float32), 0.25)
    market = market_of([3.0, 2.0, 3.0], appraised)  # stars' quality 0.5, 0.25, 0.5
    stars, delivered = quality_slopes(market, QUALITY, seeker_share=0.27)
    np.testing.assert_allclose(stars, [1.5, 1.5, 1.5])
    assert delivered is not None
    np.testing.assert_allclose(delivered, [0.5, 0.0, 0.0])
    free = FreeAlternatives(enabled=True, free_quality=0.4, certificate_value=0.3)
    flags = np.array([True, True, False])
    with_free = replace(appraised, free=flags, free_alternatives=free)
    stars, delivered = quality_slopes(market_of([3.0, 2.0, 3.0], with_free), QUALITY, 0.0)
    np.testing.assert_allclose(stars, [1.5, 1.5, 1.5])
    # A free course read at 0.1 under 3 stars: E[q] = 0.75 x 0.5 + 0.25 x 0.1 = 0.4 (the kink): 0.
    at_kink = replace(with_free, reading=np.array([0.1, 1.0, 0.0], np.float32))
    stars, delivered = quality_slopes(market_of([3.0, 2.0, 3.0], at_kink), QUALITY, 0.0)
    np.testing.assert_allclose(stars, [0.0, 1.5, 1.5])
    np.testing.assert_allclose(delivered, [0.0, 0.0, 0.0])


def test_incentive_seekers_weigh_quality_by_their_share_by_hand():
    # 27% seekers who weigh quality half as much: m = 1 + 0.27 x (0.5 - 1) = 0.865, so the stars
    # slope is 0.865 x 2 = 1.73 (no appraisal: a number for every course). Off: 2, bit for bit.
    half = IncentiveSeekers(enabled=True, quality_factor=0.5)
    seekers = QUALITY.model_copy(update={"incentive_seekers": half})
    stars, delivered = quality_slopes(market_of([3.0]), seekers, seeker_share=0.27)
    assert stars == pytest.approx(1.73) and delivered is None
    assert quality_slopes(market_of([3.0]), QUALITY, 0.27) == (2.0, None)


def test_the_slopes_are_the_choice_terms_left_differences():
    # The same function gives the term and its slope: lowering every course's stars' quality by
    # a small h moves the choice's quality term by h x the stars slope (free content, counselled).
    rng = np.random.default_rng(3)
    n = 200
    free = FreeAlternatives(enabled=True, free_quality=0.5, certificate_value=0.2)
    reading = rng.uniform(0.05, 0.95, n).astype(np.float32)
    stars = 1.0 + 4.0 * rng.uniform(0.0, 1.0, n)
    appraised = Appraisal(rng.random(n) < 0.6, free, reading, 0.3)
    params = QUALITY
    h = 1e-3
    e_q = 0.7 * (stars - 1.0) / 4.0 + 0.3 * reading
    far = np.abs(e_q - 0.5) > 0.01  # away from the kink, where a finite step crosses it
    slope, delivered = quality_slopes(market_of(list(stars), appraised), params, 0.0)
    lower = quality_term(market_of(list(stars - 4.0 * h), appraised), params)
    base = quality_term(market_of(list(stars), appraised), params)
    np.testing.assert_allclose(((base - lower) / h)[far], np.asarray(slope)[far], atol=2e-2)
    lower_reading = quality_term(market_of(list(stars), replace(appraised, reading=reading - h)), params)
    assert delivered is not None
    np.testing.assert_allclose(((base - lower_reading) / h)[far], delivered[far], atol=2e-2)


def test_future_loss_with_an_immediate_term_by_hand():
    # slope 2, shrinkage 0.5, P 0.1, margin 100,000, 13 of 2 weeks: 2 x 0.5 x 0.9 x 1e5 x 6.5 =
    # 585,000; an immediate slope of 1 adds 1 x 0.9 x 1e5 = 90,000 (no rating lag).
    args = (np.array([0.5]), 2.0, np.array([0.1]), np.array([1e5]), 13, 2)
    assert quality.voucher_future_loss_idr(*args)[0] == pytest.approx(585_000.0)
    assert quality.voucher_future_loss_idr(*args, np.array([1.0]))[0] == pytest.approx(675_000.0)
    per_course = quality.voucher_future_loss_idr(np.array([0.5, 0.5]), np.array([2.0, 0.0]), *args[2:])
    assert per_course == pytest.approx([585_000.0, 0.0])


def test_shading_under_two_checks_by_hand():
    # Potential 1, net saving Rp100,000 per unit (grid of 0.01). A step check (noise 0) that costs
    # Rp10 m below 0.25 stops shading at s = 0.75 (delivered 0.25 is not below); a second, with
    # chance 0.5 below 0.5 and Rp10 m at stake (expected Rp5 m against a saving of at most
    # Rp25,000 more), stops it at 0.5; at stake nothing, it changes nothing.
    first = quality.Check(1.0, 0.0, 0.25, 1e7)
    s = quality.shading_under_checks(np.array([1.0]), 100_000.0, (first,))
    assert s[0] == pytest.approx(0.75)
    second = quality.Check(0.5, 0.0, 0.5, 1e7)
    assert quality.shading_under_checks(np.array([1.0]), 100_000.0, (first, second))[0] == pytest.approx(0.5)
    idle = replace(second, value_idr=0.0)
    assert quality.shading_under_checks(np.array([1.0]), 100_000.0, (first, idle))[0] == pytest.approx(0.75)
    # one check is shading_under_review, bit for bit
    np.testing.assert_array_equal(
        quality.shading_under_review(np.array([0.8, 0.4]), 50_000.0, 0.3, 0.05, 0.3, 2e6),
        quality.shading_under_checks(np.array([0.8, 0.4]), 50_000.0, (quality.Check(0.3, 0.05, 0.3, 2e6),)),
    )


# ====================================================================== in the model


def reviewed(overrides: list[str]) -> tuple[MarketModel, np.ndarray]:
    """A tiny voucher model whose every course had a period of 100 impressions and 10 expected
    sales at 80% of its price, 50 ratings, then one quality review: the model and the shading."""
    scenario = load_scenario(TINY, [SAVING, *overrides], schemes=["voucher"])
    model = MarketModel(build_world(scenario), "voucher")
    courses = model.courses
    courses.period_impressions[:] = 100
    courses.period_expected_sales[:] = 10.0
    courses.period_expected_net_revenue_idr[:] = 10.0 * courses.price_idr * 0.8
    courses.rating_count[:] = 50
    model.scheme.market._review_quality(5)
    return model, courses.potential_quality - courses.true_quality


def test_free_courses_below_the_free_material_shade_in_the_model():
    # Free material as good as the best course (free_quality 1): every free course sits at or
    # below the kink, where shading costs no appeal, so every for-profit free course shades all
    # (no discipline: all or nothing), while the same evidence keeps the others honest. Before
    # the fix the stars-only rule treated both alike (1 free course in 18 shaded, for its margin).
    free_half = "voucher.free_alternatives={enabled: true, free_share: 0.5, free_quality: 1.0}"
    model, shaded = reviewed([free_half])
    free = model.scheme.free_content()
    mission = np.array([p.mission_weight_idr for p in model.providers])[model.courses.provider]
    forprofit = (mission == 0) & model.courses.active & (model.courses.potential_quality > 0)
    assert (forprofit & free).sum() >= 10 and (forprofit & ~free).sum() >= 10
    assert (shaded[forprofit & free] == model.courses.potential_quality[forprofit & free]).all()
    assert (shaded[forprofit & ~free] == 0).all()


def test_the_structured_veto_stops_shading_at_its_threshold_in_the_model():
    # Every course's content free and the free material at 1 (no slope through stars or reading),
    # structured counselling with an exact reading (noise 0) that vetoes below 0.5: a for-profit
    # course whose potential exceeds 0.5 shades to the last grid point at or above 0.5 (grid step
    # potential / 100), instead of shading everything as under guided choice.
    free = "voucher.free_alternatives={enabled: true, free_share: 1.0, free_quality: 1.0}"
    counsel = "voucher.counselling={regime: %s, reading_noise_sd: 0.0, veto_min_quality: 0.5}"
    model, shaded = reviewed([free, counsel % "structured"])
    potential = model.courses.potential_quality
    forprofit = np.array([p.mission_weight_idr == 0 for p in model.providers])[model.courses.provider]
    strong = forprofit & model.courses.active & (potential > 0.55)
    assert strong.sum() >= 5
    delivered = (potential - shaded)[strong]
    assert (delivered >= 0.5 - 1e-6).all() and (delivered < 0.5 + potential[strong] / 100 + 1e-6).all()
    _, guided = reviewed([free, counsel % "guided"])
    assert (guided[strong] == potential[strong]).all()
