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


def test_tender_counts_are_the_tenders_record_counts(population):
    """The tender's weekly record: the seated, employed among them and their twins, and the
    comparison group (applied, never seated) and employed among it."""
    p = population
    first_cell = np.where(np.random.default_rng(9).random(N) < 0.6, 3, -1).astype(np.int16)
    seated = p["selected_week"] >= 0
    comparison = (first_cell >= 0) & ~seated
    counts = census.tender_counts(p["selected_week"], first_cell, p["employed"], p["twin_employed"])
    assert counts.tolist() == [
        np.count_nonzero(seated),
        np.count_nonzero(p["employed"] & seated),
        np.count_nonzero(p["twin_employed"] & seated),
        np.count_nonzero(comparison),
        np.count_nonzero(p["employed"] & comparison),
    ]
    assert counts.min() > 0


def test_lock_in_is_the_enrolled_less_the_absent(population):
    """The rows a week's courses lock in (enrolled, unless absent: a brokered account's holder)
    and the count of the enrolled, as the weekly step computed them in numpy."""
    status = population["status"]
    absent = np.random.default_rng(5).random(N) < 0.2
    locked = np.ones(N, dtype=bool)  # every entry is written
    in_course = census.lock_in(status, ENROLLED, absent, locked)
    np.testing.assert_array_equal(locked, (status == ENROLLED) & ~absent)
    assert in_course == np.count_nonzero(status == ENROLLED) > np.count_nonzero(locked) > 0


def test_hearing_of_lots_is_the_keyed_draw_of_the_free(population):
    """Free to apply: not selected, no pending application, arrived; they hear with their region's
    probability on their keyed uniform of slot 0, as the tender's outreach drew it in numpy."""
    from simulation.rules.keyed_draws import Draws
    from simulation.rules.parallel import over_blocks

    rng = np.random.default_rng(3)
    status = population["status"]
    applied = np.where(rng.random(N) < 0.3, rng.integers(0, 40, N), -1).astype(np.int32)
    arrival = rng.integers(0, 20, N).astype(np.int16)
    region = rng.integers(0, 6, N).astype(np.int8)
    hearing = np.array([0.05, 0.2, 0.5, 0.7, 0.9, 1.0])
    draws = Draws.of(11, "tender:outreach", 12)
    free = np.flatnonzero((status == NOT_SELECTED) & (applied < 0) & (arrival <= 12))
    expected = np.zeros(N, dtype=bool)
    expected[free] = draws.uniforms(free, 0) < hearing[region[free]]
    heard = np.empty(N, dtype=bool)
    over_blocks(
        census.hear_of_lots, N, heard, status, NOT_SELECTED, applied, arrival, region, hearing, 12, draws.key
    )
    np.testing.assert_array_equal(heard, expected)
    assert 0 < heard.sum() < free.size


@pytest.mark.parametrize("outcome_dtype", [np.float64, np.int16, bool])
def test_stratum_sums_are_the_bincounts_they_replace(outcome_dtype):
    rng = np.random.default_rng(3)
    outcome = (rng.random(N) * 13).astype(outcome_dtype)  # shares, week counts or 0/1
    rows = np.sort(rng.choice(N, N // 2, replace=False)).astype(np.int32)
    number = rng.integers(0, 40, rows.size).astype(np.int16)
    total, squares = census.stratum_sums(outcome, rows, number, 45)  # strata 40..44 are empty
    y = outcome[rows].astype(np.float64)
    assert np.array_equal(total, np.bincount(number, y, minlength=45))  # the same to the last bit
    assert np.array_equal(squares, np.bincount(number, y**2, minlength=45))
    assert (total[40:] == 0).all()


def test_stratum_sums_by_hand():
    outcome = np.array([0.5, 2.0, 1.0, 3.0])
    total, squares = census.stratum_sums(outcome, np.array([0, 1, 3]), np.array([1, 0, 1]), 3)
    assert total.tolist() == [2.0, 3.5, 0.0]  # stratum 1: rows 0 and 3, 0.5 + 3
    assert squares.tolist() == [4.0, 9.25, 0.0]
