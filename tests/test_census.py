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
