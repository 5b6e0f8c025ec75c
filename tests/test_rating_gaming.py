"""Ratings that can be gamed (issue 10, point 3; ``simulation.rules.rating_gaming``): course
leniency, bought or pressured 5-star ratings, the platforms' filter, and what they do to the
rating-quality correlation and to the sellers' quality discipline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulation.config.scenario import RatingGaming, Ratings, load_scenario
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.reporting.metrics import summarise
from simulation.rules import quality, rating_gaming
from simulation.rules.training import expected_stars, stars

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def run_voucher(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, overrides, schemes=["voucher"], **top_level)
    return MarketModel(build_world(scenario), "voucher").run()


# ====================================================================== the rule, by hand


def test_counted_fake_share_by_hand():
    # phi = 0.3 of ratings bought, the filter removes f = 0.5 of them: of 100 ratings, 30 fake, 15
    # removed, 85 shown of which 15 fake: phi' = 15 / 85 = 0.17647...
    assert rating_gaming.counted_fake_share(0.3, 0.5) == pytest.approx(15 / 85)
    assert rating_gaming.counted_fake_share(0.3, 0.0) == pytest.approx(0.3)  # no filter
    assert rating_gaming.counted_fake_share(0.3, 1.0) == 0.0  # a perfect filter
    assert rating_gaming.counted_fake_share(1.0, 1.0) == 0.0  # nothing left to show


def test_expected_counted_stars_by_hand():
    # An honest mean of 3 stars with a quarter of the shown ratings fake 5s: 0.75 x 3 + 0.25 x 5 = 3.5.
    got = rating_gaming.expected_counted_stars(np.array([3.0, 4.0]), np.array([0.25, 0.0]))
    np.testing.assert_allclose(got, [3.5, 4.0])


def test_gamed_ratings_by_hand():
    # Four completers with honest stars 2, 3, 4, 1; phi = 0.3, f = 0.5. The first and third draw a
    # fake-draw below 0.3: their stars are 5. The first's filter draw 0.2 < 0.5: removed; the
    # third's 0.8 is not: shown. So counted = [F, T, T, T], stars [5, 3, 5, 1], shown fakes [F, F, T, F].
    honest = np.array([2, 3, 4, 1], dtype=np.int8)
    given_, counted, fake = rating_gaming.gamed(
        honest, np.array([0.1, 0.5, 0.05, 0.9]), np.array([0.2, 0.1, 0.8, 0.1]), np.full(4, 0.3), 0.5
    )
    assert given_.dtype == np.int8
    np.testing.assert_array_equal(given_, [5, 3, 5, 1])
    np.testing.assert_array_equal(counted, [False, True, True, True])
    np.testing.assert_array_equal(fake, [False, False, True, False])


def test_fake_share_by_provider_type():
    params = RatingGaming(fake_share_for_profit=0.4, fake_share_mission=0.1)
    np.testing.assert_allclose(rating_gaming.fake_share(np.array([True, False]), params), [0.4, 0.1])


def test_course_leniency_shifts_stars_by_hand():
    # Quality 0.5, no common leniency, no noise: 1 + 4 x 0.5 = 3 stars; a course leniency of +0.6
    # gives a latent of 3.6, which rounds to 4; -0.6 gives 2.4, rounded 2.
    params = Ratings(leniency=0.0, noise_sd=0.0)
    q = np.array([0.5, 0.5, 0.5], dtype=np.float32)
    shift = np.array([0.6, -0.6, 0.0])
    np.testing.assert_array_equal(stars(q, np.zeros(3), params, shift), [4, 2, 3])
    np.testing.assert_array_equal(expected_stars(q, params, shift), [4.0, 2.0, 3.0])
    # With noise, the expected stars rise with the shift.
    noisy = Ratings(leniency=0.0, noise_sd=1.0)
    e = expected_stars(q, noisy, shift)
    assert e[0] > e[2] > e[1]


def test_course_leniency_is_keyed_by_course_and_off_at_zero():
    assert rating_gaming.course_leniency(7, np.arange(5), 0.0) is None
    all_ten = rating_gaming.course_leniency(7, np.arange(10), 0.8)
    assert all_ten is not None
    some = rating_gaming.course_leniency(7, np.array([3, 4]), 0.8)
    np.testing.assert_array_equal(all_ten[3:5], some)  # entrants shift no one's leniency
    many = rating_gaming.course_leniency(7, np.arange(20_000), 0.8)
    assert many.std() == pytest.approx(0.8, rel=0.03) and abs(many.mean()) < 0.03


@settings(max_examples=60, deadline=None)
@given(phi=st.floats(0.0, 1.0), f=st.floats(0.0, 1.0), honest=st.floats(1.0, 5.0))
def test_counted_share_is_a_share_and_stars_stay_within_1_and_5(phi, f, honest):
    counted = float(rating_gaming.counted_fake_share(phi, f))
    assert 0.0 <= counted <= phi + 1e-12  # filtering never raises the fake share
    e = float(rating_gaming.expected_counted_stars(np.array(honest), np.array(counted)))
    assert honest - 1e-9 <= e <= 5.0 + 1e-9


def test_diluted_stars_discipline_less():
    # The seller's expected loss per unit shaded is linear in the share of its stars the ratings
    # carry; with phi' of the shown ratings fake, a unit of quality moves them (1 - phi') as much.
    honest = quality.voucher_future_loss_idr(np.array([0.8]), 4.0, np.array([0.1]), np.array([1e5]), 4, 4)
    diluted = quality.voucher_future_loss_idr(
        np.array([0.8]) * (1 - 0.5), 4.0, np.array([0.1]), np.array([1e5]), 4, 4
    )
    assert diluted[0] == pytest.approx(0.5 * honest[0])


# ====================================================================== the model


GAMING = "ratings.gaming={leniency_sd: 0.8, fake_share_for_profit: 0.5, fake_share_mission: 0.1}"


@pytest.fixture(scope="module")
def honest_and_gamed():
    return run_voucher([]), run_voucher([GAMING])


def test_off_and_zero_strength_reproduce_honest_ratings_bit_for_bit(honest_and_gamed):
    # Fakes switched on only for mission-driven providers, of which tiny's scenario with
    # knightly_share 0 has none: every draw is made but no rating changes.
    honest, _ = honest_and_gamed
    zero = run_voucher(
        ["providers.knightly_share=0", "ratings.gaming={fake_share_mission: 0.9, filter_rate: 0.5}"]
    )
    base = run_voucher(["providers.knightly_share=0"])
    assert summarise(zero) == summarise(base)
    np.testing.assert_array_equal(zero.courses.rating_sum, base.courses.rating_sum)
    off = run_voucher(["ratings.gaming={leniency_sd: 0, fake_share_for_profit: 0, filter_rate: 0.9}"])
    assert summarise(off) == summarise(honest)


def test_gaming_lowers_the_rating_quality_correlation_and_counts_fakes(honest_and_gamed):
    honest, gamed = honest_and_gamed
    h, g = summarise(honest), summarise(gamed)
    assert h["non_genuine_rating_share"] == 0.0
    mission = np.array([p.mission_weight_idr for p in gamed.providers])[gamed.courses.provider]
    phi = np.where(mission > 0, 0.1, 0.5)
    per_rating = float((phi * gamed.courses.rating_count).sum() / gamed.courses.rating_count.sum())
    assert g["non_genuine_rating_share"] == pytest.approx(per_rating, abs=0.03)
    assert g["rating_quality_correlation"] < h["rating_quality_correlation"] - 0.1
    # What gaming must not touch: the lottery, and the money committed.
    assert g["participants_offered"] == h["participants_offered"]
    assert gamed.ledger.credit_issued == honest.ledger.credit_issued


def test_filter_removes_fakes_and_the_ratings_they_were():
    filtered = run_voucher(
        ["ratings.gaming={fake_share_for_profit: 0.5, fake_share_mission: 0.5, filter_rate: 1.0}"]
    )
    m = summarise(filtered)
    assert m["non_genuine_rating_share"] == 0.0
    completions = int(filtered.courses.completions.sum())
    assert 0.4 * completions < int(filtered.courses.rating_count.sum()) < 0.6 * completions


def test_expected_sums_track_the_gamed_ratings(honest_and_gamed):
    # rating_expected_sum adds, per shown rating, the stars it earns in expectation (honest mean
    # with the course's leniency, mixed with fake 5s): summed over all ratings it must match the
    # stars actually given within sampling error, so displayed stars keep the real sampling spread.
    _, gamed = honest_and_gamed
    c = gamed.courses
    n = int(c.rating_count.sum())
    assert n > 1000
    gap = float(c.rating_sum.sum() - c.rating_expected_sum.sum()) / n
    assert abs(gap) < 4 * 1.2 / np.sqrt(n)  # per-rating sd of stars is at most about 1.2 here


def test_gaming_weakens_quality_discipline():
    # Online shading saves Rp40,000 per unit of quality: the sellers' honest stars make shading a
    # loss for many courses; with 90% of ratings fake 5s the stars barely move with quality, and
    # sellers shade more.
    common = ["providers.quality_saving_idr.online=40000", "providers.reputation_weeks=8"]
    honest = summarise(run_voucher(common))
    gamed = summarise(
        run_voucher([*common, "ratings.gaming={fake_share_for_profit: 0.9, fake_share_mission: 0.9}"])
    )
    assert gamed["mean_shading"] > honest["mean_shading"]


def test_gamed_ratings_and_listing_rules_give_one_answer_at_every_size():
    # Scale: course leniency is drawn per course, fakes and the filter per rating, with the
    # expected-sum bookkeeping carrying the real sampling spread; listing rules act on courses
    # (real units) and curation's cost is per course. Two sizes, four replications each: none of
    # these metrics, nor the headline ones, may lie outside the other size's 95% interval.
    from simulation import run_scenario
    from simulation.reporting.convergence import convergence_rows, flag_messages, flagged_rows

    overrides = [
        GAMING.replace("}", ", filter_rate: 0.3}"),
        "voucher.min_hours=9",
        "voucher.price_cap_per_hour_idr=60000",
        "voucher.curation={enabled: true, min_quality: 0.2, cost_per_review_idr: 1.0e6}",
    ]
    summaries = {
        size: run_scenario(load_scenario(TINY, overrides, size=size), replications=4).summary
        for size in (600, 2400)
    }
    table = convergence_rows(summaries, rel_tol=0.001)
    watched = {
        "non_genuine_rating_share",
        "rating_quality_correlation",
        "affiliate_sales_share",
        "self_preferencing_ratio",
        "mean_price_paid_idr",
        "curation_cost_idr",
    }
    assert watched <= {row["metric"] for row in table}
    flagged = [r for r in flagged_rows(table) if r["headline"] or r["metric"] in watched]
    assert not flagged, "\n".join(flag_messages(flagged))
