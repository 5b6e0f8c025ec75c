"""The 2023 "normal scheme" scenario: its rules are the published ones, and a run obeys them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation import build_world, load_scenario
from simulation.config.codes import MODE_NAMES
from simulation.model.market import MarketModel

ROOT = Path(__file__).resolve().parents[1]
P2023 = ROOT / "scenarios" / "prakerja_2023.yaml"


def test_the_2023_package_is_the_published_one():
    """Rp3.5 m credit + Rp600k once + Rp50k x 2 surveys = Rp4.2 m per recipient (Antara 2023);
    ~1 m recipients on Rp4.4-4.6 T; a 15-day first-purchase deadline (2 whole weeks); online,
    offline and hybrid courses of at least 15 hours (suar.grid.id Feb 2023)."""
    scenario = load_scenario(P2023)
    v = scenario.voucher
    assert v is not None
    assert (v.credit_idr, v.incentive.amount_idr, v.incentive.months) == (3_500_000, 600_000, 1)
    assert (v.survey.amount_idr, v.survey.count) == (50_000, 2)
    assert v.package_idr == 4_200_000
    assert scenario.population.recipients_represented == 1_000_000
    assert 4.4e12 <= v.budget_idr <= 4.6e12
    # the budget pays every recipient's package and the office's 0.59%
    assert v.package_idr * (1 + v.admin_cost_share) * 1_000_000 <= v.budget_idr
    assert v.purchase_deadline_weeks * 7 <= 15
    assert set(v.modes_allowed) == {"online", "offline", "hybrid"}
    assert scenario.providers.hours_min >= 15 and v.min_hours == 15
    assert all(s.shock_depth == 0 for s in scenario.sectors)


@pytest.fixture(scope="module")
def run_2023():
    scenario = load_scenario(P2023, size=3000, weeks=40)
    return MarketModel(build_world(scenario), "voucher").run()


def test_a_2023_run_follows_its_rules(run_2023):
    """Every course bought is at least 15 hours long; some are taught offline or in hybrid; nobody
    is paid more than one incentive and two surveys."""
    model = run_2023
    state, courses = model.state, model.courses
    bought = state.course[state.courses_bought > 0]
    assert bought.size > 0
    assert courses.hours[bought].min() >= 15
    modes = {MODE_NAMES[m] for m in np.unique(courses.mode[bought])}
    assert modes & {"offline", "hybrid"}
    assert state.incentive_received_idr.max() <= 600_000
    cash_cap = 600_000 + 2 * 50_000
    assert model.ledger.incentives + model.ledger.surveys <= cash_cap * np.count_nonzero(
        state.selected_week >= 0
    )
