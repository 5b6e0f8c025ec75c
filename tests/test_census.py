"""The compiled weekly scans (simulation.rules.census) against the numpy statements they replace."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.market.participants import ENROLLED, FINISHED, HOLDING, NOT_SELECTED, REVOKED
from simulation.rules import census

N = 5_000


@pytest.fixture
def population():
    """Statuses, weeks, purchases, credit and employment of N made-up rows."""
    rng = np.random.default_rng(17)
    status = rng.choice([NOT_SELECTED, HOLDING, ENROLLED, FINISHED, REVOKED], N).astype(np.int8)
    selected_week = np.where(status == NOT_SELECTED, -1, rng.integers(0, 30, N)).astype(np.int16)
    return {
        "status": status,
        "selected_week": selected_week,
        "course_end_week": rng.integers(0, 40, N).astype(np.int16),
        "courses_bought": rng.integers(0, 3, N).astype(np.int16),
        "credit_left_idr": np.round(rng.uniform(0, 1e6, N), -3).astype(np.float32),
        "employed": rng.random(N) < 0.5,
        "twin_employed": rng.random(N) < 0.5,
    }


def test_courses_ending_are_those_enrolled_whose_end_has_come(population):
    status = population["status"].copy()
    expected = np.flatnonzero((status == ENROLLED) & (population["course_end_week"] <= 20))
    ending = census.end_courses(status, population["course_end_week"], ENROLLED, 20, HOLDING)
    np.testing.assert_array_equal(ending, expected)
    assert expected.size > 100
    after = population["status"].copy()
    after[expected] = HOLDING
    np.testing.assert_array_equal(status, after)


@pytest.mark.parametrize("topup", [0.0, 200_000.0])
def test_cards_close_as_the_numpy_rule_closes_them(population, topup):
    """Worked as the voucher did it before the scan: revoke unused cards past the deadline (6
    weeks), end the rest past validity (20 weeks) or short of the cheapest course (Rp 450k,
    compared in float32 with the credit plus the top-up allowed)."""
    p = population
    status = p["status"].copy()
    week, deadline, validity, cheapest = 30, 6, 20, 450_000.0
    holding = status == HOLDING
    age = week - p["selected_week"]
    revoke = holding & (p["courses_bought"] == 0) & (age >= deadline)
    broke = p["credit_left_idr"] + topup < cheapest
    expire = holding & ~revoke & ((age >= validity) | broke)
    closed, revoked, still = census.close_cards(
        status, p["selected_week"], p["courses_bought"], p["credit_left_idr"], week, deadline, validity,
        np.float32(topup), np.float32(cheapest), np.array([HOLDING, REVOKED, FINISHED], dtype=np.int64),
    )  # fmt: skip
    np.testing.assert_array_equal(closed, np.flatnonzero(revoke | expire))
    np.testing.assert_array_equal(revoked, revoke[closed])
    np.testing.assert_array_equal(still, np.flatnonzero(holding & ~revoke & ~expire))
    assert revoke.any() and expire.any() and still.size > 0
    np.testing.assert_array_equal(
        np.flatnonzero(status == REVOKED), np.flatnonzero((p["status"] == REVOKED) | revoke)
    )
    np.testing.assert_array_equal(
        np.flatnonzero(status == FINISHED), np.flatnonzero((p["status"] == FINISHED) | expire)
    )


def test_employment_counts_are_the_records_counts(population):
    p = population
    selected = p["selected_week"] >= 0
    counts = census.employment_counts(
        p["selected_week"], p["employed"], p["twin_employed"], p["status"], HOLDING
    )
    assert counts.tolist() == [
        np.count_nonzero(selected),
        np.count_nonzero(p["employed"] & selected),
        np.count_nonzero(p["twin_employed"] & selected),
        np.count_nonzero(p["employed"]),
        np.count_nonzero(p["status"] == HOLDING),
    ]
