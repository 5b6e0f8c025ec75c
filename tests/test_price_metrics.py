"""The price and best-seller metrics (``simulation.schemes.voucher``), worked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.schemes.voucher import PurchaseTally, listed_price_metrics


def test_listed_price_mean_and_cv_by_hand():
    # 200k, 400k, 600k: mean 400k; population sd sqrt((200k^2 + 0 + 200k^2) / 3) = 163,299;
    # cv 163,299 / 400,000 = 0.408248.
    got = listed_price_metrics(np.array([200_000.0, 400_000.0, 600_000.0], dtype=np.float32))
    assert got["mean_listed_price_idr"] == pytest.approx(400_000.0)
    assert got["listed_price_cv"] == pytest.approx(0.408248, abs=1e-6)
    assert listed_price_metrics(np.zeros(0, dtype=np.float32)) == {
        "mean_listed_price_idr": None,
        "listed_price_cv": None,
    }
    assert listed_price_metrics(np.full(4, 500_000.0, dtype=np.float32))["listed_price_cv"] == 0.0


def test_price_paid_cv_by_hand_over_weeks():
    # Purchases in two weeks: 200k and 600k, then 400k: the same three prices as above, cv 0.408248;
    # running sums give the same as the whole list.
    tally = PurchaseTally(1_000_000.0)
    assert tally.price_cv() is None
    for prices in ([200_000.0, 600_000.0], [400_000.0]):
        price = np.array(prices, dtype=np.float32)
        tally.add(
            price, np.full(price.size, 0.5, np.float32), np.zeros(price.size, bool), np.zeros(price.size)
        )
    assert tally.price_cv() == pytest.approx(0.408248, abs=1e-6)


def sellers_tally(copies: int) -> tuple[PurchaseTally, np.ndarray]:
    # 12 courses; courses 1, 3 and 7 sold 5 each, course 5 sold 4 and course 11 sold 100 (copies
    # times each: a larger sample of the same market). Qualities delivered to their buyers:
    # course 1 at 0.5 each, course 3 at 0.8, course 7 at 0.2, 0.2, 0.4, 0.4, 0.3, course 5 at
    # 0.9, course 11 at 0.1.
    bought = {1: [0.5] * 5, 3: [0.8] * 5, 7: [0.2, 0.2, 0.4, 0.4, 0.3], 5: [0.9] * 4, 11: [0.1] * 100}
    tally = PurchaseTally(1_000_000.0)
    enrolments = np.zeros(12, dtype=np.int64)
    for _ in range(copies):
        for course, qualities in bought.items():
            n = len(qualities)
            tally.add(
                np.full(n, 100_000.0, np.float32),
                np.array(qualities, np.float32),
                np.zeros(n, bool),
                np.zeros(n),
                course=np.full(n, course, dtype=np.int64),
            )
            enrolments[course] += n
    return tally, enrolments


def test_top_sellers_quality_by_hand():
    # Course 11 was never offered on a platform: 11 courses offered, k = ceil(0.1 x 11) = 2. The
    # most enrolled: 1, 3 and 7 tie at 5; the lower ids, 1 and 3, are the best sellers. Their
    # buyers' quality weighted by enrolments: (5 x 0.5 + 5 x 0.8) / 10 = 0.65.
    offered = np.ones(12, dtype=bool)
    offered[11] = False
    tally, enrolments = sellers_tally(copies=1)
    assert tally.top_sellers_quality(enrolments, offered) == pytest.approx(0.65)
    # Offered too, course 11 (100 sales at 0.1) leads: 12 courses, k = ceil(1.2) = 2: courses 11
    # and 1: (100 x 0.1 + 5 x 0.5) / 105 = 12.5 / 105 = 0.119048.
    assert tally.top_sellers_quality(enrolments, np.ones(12, bool)) == pytest.approx(12.5 / 105)
    # A sample three times larger of the same market: the same answer (k does not scale).
    bigger, enrolled = sellers_tally(copies=3)
    assert bigger.top_sellers_quality(enrolled, offered) == pytest.approx(0.65)
    # Nothing sold, or nothing offered: undefined.
    assert PurchaseTally(1.0).top_sellers_quality(np.zeros(12, np.int64), offered) is None
    assert tally.top_sellers_quality(enrolments, np.zeros(12, bool)) is None
