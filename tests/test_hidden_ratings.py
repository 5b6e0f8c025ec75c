"""Ratings collected but not shown (``ratings.shown`` false; ``simulation.schemes.platform_market``).

Hidden, every course shows what an unrated course shows (``prior_stars``), the ``rating`` ranking
ranks by popularity as it does unrated courses, and sellers' shading sees that the stars' channel
no longer moves demand (its slope is 0), so they shade more and buyers get less quality.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.config.scenario import load_scenario
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.reporting.metrics import summarise
from simulation.rules.choice import expected_quality, quality_slopes
from tests.conftest import TINY

PRAKERJA = Path(__file__).resolve().parent.parent / "scenarios" / "prakerja_2020.yaml"
GUIDED = "voucher.counselling={regime: guided, information_weight: 0.25}"


def tiny_model(*overrides: str) -> MarketModel:
    return MarketModel(build_world(load_scenario(TINY, list(overrides))), "voucher")


def test_hidden_stars_are_the_prior_for_every_course_by_hand():
    # prior_stars 4.0 (tiny): every course shows 4.0 stars, so every shopper expects quality
    # (4 - 1) / 4 = 0.75 of every course, however it was rated. The ratings are still given and
    # counted (the rating metrics read them).
    model = tiny_model("ratings.shown=false")
    for _ in range(12):
        model.step()
    facts = model.scheme.course_facts(model.week)
    assert model.courses.rating_count.sum() > 0  # ratings were collected...
    np.testing.assert_array_equal(facts.displayed_stars, np.full(len(model.courses), 4.0))  # ...not shown
    np.testing.assert_allclose(expected_quality(facts.displayed_stars), 0.75)
    shown = tiny_model()
    for _ in range(12):
        shown.step()
    assert np.unique(shown.scheme.course_facts(shown.week).displayed_stars).size > 1  # shown: they differ


def test_rating_ranking_falls_back_to_popularity_when_hidden():
    # stars + 1e-6 x recent enrolments with every course at the prior ranks by recent enrolments
    # (ties: the lower course id), as unrated courses are ranked.
    model = tiny_model("ratings.shown=false", "platforms.0.ranking=rating")
    for _ in range(8):
        model.step()
    platform = model.scheme.market.platforms[0]
    courses = model.courses
    for sector in range(len(model.params.sectors)):
        here = platform.listing[courses.sector[platform.listing] == sector]
        by_sales = here[np.argsort(-courses.recent_enrolments[here], kind="stable")][: platform.page_size]
        page = platform.page[sector][platform.page[sector] >= 0]
        np.testing.assert_array_equal(page, by_sales)


def test_shading_sees_no_star_channel_when_hidden():
    # Without counselling the sellers' slope through stars is quality_weight (2) shown and 0
    # hidden. Guided counselling (w = 0.25): the stars' slope (1 - w) x 2 = 1.5 becomes 0 while the
    # counsellor's reading (w x 2 = 0.5 where the reading is inside (0, 1)) is unaffected.
    for overrides, expect_shown in (((), 2.0), ((GUIDED,), 1.5)):
        shown, hidden = tiny_model(*overrides), tiny_model("ratings.shown=false", *overrides)
        facts = shown.scheme.course_facts(0)
        stars_shown, reading_shown = shown.scheme.market.quality_slopes(facts if overrides else None)
        stars_hidden, reading_hidden = hidden.scheme.market.quality_slopes(facts if overrides else None)
        np.testing.assert_allclose(stars_shown, expect_shown)
        np.testing.assert_array_equal(np.asarray(stars_hidden), 0.0)
        if overrides:
            _, reading = quality_slopes(
                facts, shown.params.choice, shown.params.population.incentive_motivated_share
            )
            assert reading is not None and np.max(reading) == pytest.approx(0.5)
            np.testing.assert_array_equal(reading_hidden, reading_shown)
        else:
            assert reading_shown is None and reading_hidden is None


def test_shown_is_the_default_bit_for_bit():
    # ratings.shown = true written out is the default run, metric for metric.
    default, explicit = tiny_model(), tiny_model("ratings.shown=true")
    default.run()
    explicit.run()
    assert summarise(default) == summarise(explicit)


def test_hidden_ratings_raise_shading_and_lower_quality_bought():
    # prakerja_2020 at 5,000 recipients: with stars hidden, for-profit sellers shade (nothing
    # reports it to the next buyers), the quality enrolled falls, and so does the best sellers'
    # quality; ratings are still collected, so their correlation with quality is still computed.
    # The lottery and the credit are untouched.
    runs = {}
    for shown in (True, False):
        scenario = load_scenario(PRAKERJA, [f"ratings.shown={str(shown).lower()}"], size=5000)
        model = MarketModel(build_world(scenario), "voucher")
        model.run()
        runs[shown] = summarise(model)
    on, off = runs[True], runs[False]
    assert off["mean_shading"] > on["mean_shading"] + 0.1
    assert off["mean_true_quality_enrolled"] < on["mean_true_quality_enrolled"] - 0.1
    assert off["top_sellers_true_quality"] < on["top_sellers_true_quality"]
    assert off["rating_quality_correlation"] is not None
    assert off["participants_offered"] == on["participants_offered"]
