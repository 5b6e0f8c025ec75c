"""Self-preferencing measured (issue 10, point 6; ``simulation.rules.self_preferencing``): the share
of a platform's sales that go to its own affiliates, against their share of its listing and of
its listed quality."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation.config.scenario import load_scenario
from simulation.model.market import MarketModel
from simulation.model.world import build_world
from simulation.reporting.metrics import summarise
from simulation.rules.self_preferencing import AffiliateTally, affiliate_week

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def hand_case():
    """Two platforms; platform 1 owns the provider of courses 0 and 1. Platform 1 lists courses
    0, 1, 2, 3 (qualities 0.2, 0.2, 0.8, 0.8); platform 0 lists 2 and 3 only."""
    owner = np.array([1, 1, -1, -1])
    listed = np.array([[False, True], [False, True], [True, True], [True, True]])
    quality = np.array([0.2, 0.2, 0.8, 0.8], dtype=np.float32)
    return owner, listed, quality


def test_affiliate_week_by_hand():
    # Five purchases on platform 1 (courses 0, 0, 1, 2, 3) and two on platform 0 (2, 3).
    # Platform 1: S = 5, A = 3 (courses 0, 0, 1 are its own); its affiliates list 2 of its 4
    # courses (L = 0.5) and 0.4 of its 2.0 of listed quality (Q = 0.2).
    owner, listed, quality = hand_case()
    buyer_platform = np.array([1, 1, 1, 1, 1, 0, 0])
    course = np.array([0, 0, 1, 2, 3, 2, 3])
    s, a, share_l, share_q = affiliate_week(buyer_platform, course, owner, listed, quality, np.array([1]))
    np.testing.assert_allclose([s[0], a[0], share_l[0], share_q[0]], [5, 3, 0.5, 0.2])


def test_tally_pools_weeks_weighted_by_sales():
    # Week 1 as above (S = 5, A = 3, L = 0.5, Q = 0.2). Week 2: platform 1 sells course 2 and 3
    # only, while its affiliates' courses are off sale (L = 0, Q = 0). Pooled: S = 7, A = 3,
    # listing share (5 x 0.5 + 2 x 0) / 7 = 2.5 / 7, quality share (5 x 0.2) / 7 = 1 / 7,
    # sales share 3 / 7, ratio 3 / 7 / (1 / 7) = 3: affiliates sell three times their quality share.
    owner, listed, quality = hand_case()
    tally = AffiliateTally(np.array([1]))
    tally.add(np.array([1, 1, 1, 1, 1, 0, 0]), np.array([0, 0, 1, 2, 3, 2, 3]), owner, listed, quality)
    off = listed.copy()
    off[:2, :] = False
    tally.add(np.array([1, 1]), np.array([2, 3]), owner, off, quality)
    m = tally.metrics()
    assert m["affiliate_sales_share"] == pytest.approx(3 / 7)
    assert m["affiliate_listing_share"] == pytest.approx(2.5 / 7)
    assert m["affiliate_quality_share"] == pytest.approx(1 / 7)
    assert m["self_preferencing_ratio"] == pytest.approx(3.0)


def test_no_affiliates_no_measure():
    owner, listed, quality = hand_case()
    tally = AffiliateTally(np.array([], dtype=np.int64))
    tally.add(np.array([0]), np.array([2]), owner, listed, quality)
    assert set(tally.metrics().values()) == {None}


def run(overrides: list[str]):
    scenario = load_scenario(TINY, overrides, schemes=["voucher"])
    return summarise(MarketModel(build_world(scenario), "voucher").run())


def test_sponsored_ranking_raises_the_affiliates_sales_share_not_their_quality():
    # tiny's platform "small" owns one provider and ranks by rating; ranking its own first
    # (sponsored) sells more of its affiliates' courses relative to their share of its quality
    # (the listing and quality shares change only through entry and exit, the sales share through
    # the ranking).
    fair = run([])
    sponsored = run(["platforms.1.ranking=sponsored"])
    assert sponsored["affiliate_sales_share"] > fair["affiliate_sales_share"]
    assert sponsored["self_preferencing_ratio"] > fair["self_preferencing_ratio"]
    independent = run(["platforms.1.affiliated_providers=0"])
    assert independent["affiliate_sales_share"] is None and independent["self_preferencing_ratio"] is None
