"""Listing rules a ministry can switch on (issue 10, point 7; ``simulation.rules.listing``):
minimum course hours, price caps that depend on hours, and the cost of curation's reviews."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.config.scenario import load_scenario
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.reporting.metrics import summarise
from simulation.rules import listing

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def model_of(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, overrides, schemes=["voucher"], **top_level)
    return MarketModel(build_world(scenario), "voucher")


# ====================================================================== the rules, by hand


def test_course_price_caps_by_hand():
    # Rp35,000 per hour under a Rp1 m cap: a 6 h course may charge 6 x 35,000 = Rp210,000; 15 h,
    # Rp525,000; 40 h would be Rp1.4 m, so the single cap binds; 7.3 h gives Rp255,500, rounded
    # down to the grain: Rp255,000.
    hours = np.array([6.0, 15.0, 40.0, 7.3], dtype=np.float32)
    caps = listing.course_price_caps(hours, 1_000_000.0, 35_000.0)
    np.testing.assert_array_equal(caps, [210_000.0, 525_000.0, 1_000_000.0, 255_000.0])
    assert listing.course_price_caps(hours, 1_000_000.0, None) == 1_000_000.0  # one cap for all


def test_minimum_hours_by_hand():
    hours = np.array([6.0, 14.9, 15.0, 20.0], dtype=np.float32)
    np.testing.assert_array_equal(listing.too_short(hours, 15.0), [True, True, False, False])
    np.testing.assert_array_equal(listing.too_short(hours, 0.0), [False] * 4)  # no rule
    np.testing.assert_array_equal(listing.designed_hours(hours, 15.0), [15.0, 15.0, 15.0, 20.0])


# ====================================================================== the scheme


def test_short_incumbents_are_redesigned_and_entrants_design_to_the_minimum():
    # A rule announced with notice (the default, "redesign"): a course on sale at the opening
    # shorter than 12 h is lengthened to 12 h and keeps its listing (before the review's fix it
    # was delisted: ``not listed0[start < 12].any()``); every other course keeps its hours.
    model = model_of(["voucher.min_hours=12", "providers.entry_cost_idr=1.0e6"], weeks=30)
    start = model.world.courses.hours
    n0 = start.size
    listed0 = model.courses.listed.any(axis=1)
    world_listed = model.world.courses.listed.any(axis=1)
    assert (start < 12).any() and (start >= 12).any()
    np.testing.assert_array_equal(model.courses.hours, np.maximum(start, np.float32(12.0)))
    np.testing.assert_array_equal(listed0, world_listed)  # nobody is delisted for being short
    assert listed0[start < 12].any()
    model.run()
    assert len(model.courses) > n0, "entrants are needed for this test"
    assert (model.courses.hours[n0:] >= 12).all()  # entrants know the rule


def test_short_incumbents_are_refused_when_the_rule_has_no_notice():
    # min_hours_incumbents "delist": the courses on sale at the opening shorter than 12 h are not
    # listed and keep their hours; the others keep the listing they had in the world.
    model = model_of(["voucher.min_hours=12", "voucher.min_hours_incumbents=delist"])
    start = model.world.courses.hours
    listed0 = model.courses.listed.any(axis=1)
    np.testing.assert_array_equal(model.courses.hours, start)
    assert not listed0[start < 12].any()
    np.testing.assert_array_equal(listed0[start >= 12], model.world.courses.listed.any(axis=1)[start >= 12])


def test_hours_caps_bind_prices_and_zero_strength_is_off():
    # A per-hour cap so high that it never binds reproduces the single cap bit for bit.
    base = summarise(model_of([]).run())
    loose = summarise(model_of(["voucher.price_cap_per_hour_idr=1.0e12"]).run())
    assert loose == base
    tight = model_of(["voucher.price_cap_per_hour_idr=20000"])
    caps = listing.course_price_caps(tight.courses.hours, 1_000_000.0, 20_000.0)
    assert (tight.courses.price_idr <= caps).all()
    tight.run()
    m = summarise(tight)
    assert m["mean_price_paid_idr"] < base["mean_price_paid_idr"]
    assert m["share_purchases_at_cap"] > base["share_purchases_at_cap"]  # at each course's own cap


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    per_hour=st.sampled_from([10_000, 25_000, 60_000, 200_000]),
    min_hours=st.sampled_from([0.0, 8.0, 14.0]),
    review_cost=st.sampled_from([0.0, 1.5e6]),
    seed=st.integers(0, 1000),
)
def test_no_purchase_exceeds_its_course_cap(per_hour, min_hours, review_cost, seed):
    # ... and the books balance with curation's cost inside treasury out.
    overrides = [
        f"voucher.price_cap_per_hour_idr={per_hour}",
        f"voucher.min_hours={min_hours}",
        "voucher.curation={enabled: true, min_quality: 0.1, rereview_weekly: 0.1,"
        f" cost_per_review_idr: {review_cost}}}",
    ]
    model = model_of([*overrides, "providers.entry_cost_idr=1.0e6"], size=300, weeks=20, seed=seed)
    scheme = model.scheme
    bought: list[tuple[np.ndarray, np.ndarray]] = []
    enrol = scheme._enrol

    def spy(week, buyers, course):
        bought.append((course.copy(), model.courses.price_idr[course].copy()))
        enrol(week, buyers, course)

    scheme._enrol = spy
    model.run()
    assert bought
    for course, price in bought:
        caps = listing.course_price_caps(model.courses.hours[course], 1_000_000.0, float(per_hour))
        assert (price <= caps).all()
        assert (model.courses.hours[course] >= min_hours).all()
    ledger = model.ledger
    assert ledger.treasury_out + ledger.topups == pytest.approx(ledger.received)
    assert (ledger.curation > 0) == (review_cost > 0)
    # the budget binds the recipients' packages; curation's cost comes on top of it
    budget = model.params.voucher.budget_idr
    assert ledger.treasury_out * model.scale <= budget + ledger.curation * model.scale


# ====================================================================== curation's cost


def test_curation_cost_is_booked_per_course_reviewed():
    # Rp2 m per course reviewed, reviewed only at listing, no entrants: the office spends
    # 2,000,000 x the number of courses, in real IDR, and nothing else changes but the cost.
    common = ["providers.entry_rate=0", "voucher.curation={enabled: true, min_quality: 0.2}"]
    free = model_of(common).run()
    costly = model_of(
        [*common[:1], "voucher.curation={enabled: true, min_quality: 0.2, cost_per_review_idr: 2.0e6}"]
    )
    n = int(costly.world.courses.listed.any(axis=1).sum())  # courses offered to the platforms
    assert n > 0
    costly.run()
    a, b = summarise(free), summarise(costly)
    assert b["curation_cost_idr"] == pytest.approx(2.0e6 * n)
    assert a["curation_cost_idr"] == 0.0
    assert b["total_cost_idr"] == pytest.approx(a["total_cost_idr"] + 2.0e6 * n)
    same = {k for k in a if k not in ("curation_cost_idr", "total_cost_idr") and "cost" not in k}
    same.discard("budget_absorption")
    assert {k: a[k] for k in same} == {k: b[k] for k in same}
    ledger = costly.ledger
    assert ledger.treasury_out + ledger.topups == pytest.approx(ledger.received)


def test_rereviews_cost_each_review_of_a_course_on_sale():
    over = [
        "providers.entry_rate=0",
        "voucher.curation={enabled: true, min_quality: 0.2, rereview_weekly: 0.25,"
        " cost_per_review_idr: 1.0e6}",
    ]
    model = model_of(over).run()
    n = len(model.courses)
    m = summarise(model)
    # At listing n reviews; then about a quarter of the courses on sale each trading week.
    assert m["curation_cost_idr"] > 1.0e6 * n
    weeks = model.scheme.market.last_trading_week + 1
    assert m["curation_cost_idr"] < 1.0e6 * (n + 0.4 * n * weeks)
