"""Reproducibility (DESIGN §2, §7): one root seed fixes everything; named streams keep the world
and the labour-market shocks identical whatever a scheme does."""

from __future__ import annotations

import json
import math
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simulation import build_world, load_scenario, run_scenario
from simulation.model.market import MarketModel
from simulation.model.world import labour_groups

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def small(overrides=(), seed=None):
    return load_scenario(TINY, overrides=list(overrides), size=300, weeks=16, seed=seed)


def same_value(a, b) -> bool:
    """Equal, counting NaN as equal to NaN (summaries may hold undefined rates)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b and type(a) is type(b)


def assert_same_dict(a: dict, b: dict, path: str = "") -> None:
    assert a.keys() == b.keys(), path
    for key in a:
        if isinstance(a[key], dict):
            assert_same_dict(a[key], b[key], f"{path}.{key}")
        else:
            assert same_value(a[key], b[key]), (f"{path}.{key}", a[key], b[key])


def assert_same_arrays(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        assert x.dtype == y.dtype, f.name
        assert np.array_equal(x, y), f.name


@pytest.fixture(scope="module")
def twice():
    s = small()
    return run_scenario(s), run_scenario(s)


def test_same_scenario_and_seed_give_identical_outputs(twice):
    first, second = twice
    assert_same_dict(first.summary, second.summary)
    pd.testing.assert_frame_equal(first.timeseries, second.timeseries, check_exact=True)
    pd.testing.assert_frame_equal(first.courses, second.courses, check_exact=True)
    a, b = first.models["voucher"], second.models["voucher"]
    assert a.ledger == b.ledger
    assert_same_arrays(a.state, b.state)
    # Not trivially equal: the run did something.
    assert first.summary["schemes"]["voucher"]["participants_trained"] > 0
    assert first.timeseries["enrolments"].sum() > 0


def test_another_seed_gives_different_outputs(twice):
    first, _ = twice
    other = run_scenario(small(), seed=first.seed + 1)
    assert other.seed == first.seed + 1
    a, b = first.summary["schemes"]["voucher"], other.summary["schemes"]["voucher"]
    differing = [k for k in a if not same_value(a[k], b[k])]
    assert len(differing) >= 5, differing
    assert a["mean_price_paid_idr"] != b["mean_price_paid_idr"]
    assert not first.courses["price_idr"].equals(other.courses["price_idr"])


def test_world_identical_across_builds_and_seed_argument():
    s = small()
    w1, w2 = build_world(s), build_world(s)
    assert w1.recipients == w2.recipients and w1.seed == w2.seed == s.seed
    assert_same_arrays(w1.participants, w2.participants)
    assert_same_arrays(w1.providers, w2.providers)
    assert_same_arrays(w1.courses, w2.courses)
    assert np.array_equal(w1.vacancies, w2.vacancies)
    # The seed argument and the scenario's seed are the same thing.
    w3 = build_world(small(seed=s.seed + 5))
    w4 = build_world(s, seed=s.seed + 5)
    assert_same_arrays(w3.participants, w4.participants)
    assert_same_arrays(w3.courses, w4.courses)
    assert not np.array_equal(w1.participants.ability, w3.participants.ability)


def test_world_does_not_depend_on_the_schemes_rules():
    # The world reads no scheme block: a different credit, a budget too small for everyone, or no
    # voucher at all leave the drawn world (people, arrivals, courses, list prices) unchanged.
    a = build_world(small(TENDER))
    variants = [
        small([*TENDER, "voucher.credit_idr=700000", "choice.outside_utility=0"]),
        small([*TENDER, "voucher.budget_idr=1e9"]),
        small([*TENDER, "voucher=", "schemes=[tender]"]),
    ]
    for scenario in variants:
        b = build_world(scenario)
        assert a.recipients == b.recipients
        assert_same_arrays(a.participants, b.participants)
        assert_same_arrays(a.courses, b.courses)
        assert np.array_equal(a.vacancies, b.vacancies)


TENDER = [
    "tender={budget_idr: 1e10, reference_cost_idr: 3e6, penalty_idr: 5e6}",
    "providers.quality_saving_idr={offline: 1e6}",
    "centres=[{name: blk, count: 6, capacity_per_year: 2000, marginal_cost_idr: 2e6}]",
]


def test_one_schemes_settings_cannot_change_another_schemes_run():
    """The voucher's run ignores the tender's block and the tender's ignores the voucher's."""
    from simulation.reporting.metrics import summarise

    base = small(TENDER)

    def run(scenario, scheme):  # as JSON text, so that undefined (NaN) metrics compare equal
        return json.dumps(summarise(MarketModel(build_world(scenario), scheme).run()), sort_keys=True)

    voucher = run(base, "voucher")
    assert run(small([*TENDER, "tender.monitoring=0.9", "tender.budget_idr=5e9"]), "voucher") == voucher
    tender = run(base, "tender")
    assert json.loads(tender)["participants_trained"] > 0
    changed = small(
        [*TENDER, "voucher.credit_idr=3500000", "voucher.budget_idr=1e9", "voucher.waves.count=1"]
    )
    assert run(changed, "tender") == tender


def twin_path(model: MarketModel) -> tuple[np.ndarray, np.ndarray]:
    """Weekly employment [week, person] of the untreated twin and of the treated path."""
    twin, treated = [], []
    for _ in range(model.params.weeks):
        model.step()
        twin.append(model.labour.twin_employed.copy())
        treated.append(model.labour.employed.copy())
    return np.array(twin), np.array(treated)


def test_labour_draws_identical_whatever_the_scheme_does():
    # Two independently built models of the same world under different rules: a 700,000 credit
    # with eager shoppers and strong skill effects vs the 1,000,000 credit of tiny.yaml. The
    # untreated twins see the same weekly shocks, hence the same paths, person by person.
    base = ["labour.skill_effect=3", "labour.lock_in=0.5"]
    a = MarketModel(build_world(small(base)))
    b = MarketModel(build_world(small([*base, "voucher.credit_idr=700000", "choice.outside_utility=0"])))
    twin_a, treated_a = twin_path(a)
    twin_b, treated_b = twin_path(b)
    assert np.array_equal(twin_a, twin_b)
    assert np.array_equal(a.labour.twin_endline_weeks_employed, b.labour.twin_endline_weeks_employed)
    # ... while the schemes really did differ, and so did the treated paths.
    assert a.ledger.credit_issued != b.ledger.credit_issued
    assert a.state.courses_bought.sum() != b.state.courses_bought.sum()
    assert not np.array_equal(treated_a, treated_b)
    # The twins also move: the shocks are not trivially zero.
    assert (twin_a[-1] != twin_a[0]).sum() > 0


def test_organisations_and_labour_demand_do_not_depend_on_the_number_of_simulated_people():
    """Providers, centres, their courses and the vacancy index come from their own streams, so
    a world of 300 or of 3,000 simulated recipients holds the same market."""
    a = build_world(load_scenario(TINY, TENDER, size=300, weeks=16))
    b = build_world(load_scenario(TINY, TENDER, size=3000, weeks=16))
    assert len(a.participants) != len(b.participants)
    assert_same_arrays(a.providers, b.providers)
    assert_same_arrays(a.courses, b.courses)
    assert np.array_equal(a.vacancies, b.vacancies)


def test_schemes_run_at_once_give_what_they_give_one_after_the_other(monkeypatch):
    """``run_schemes`` runs the schemes of one world on threads (two or more cores) and their
    kernels over blocks of rows: the same models, week by week, as one scheme after the other on
    one thread. Blocks of 300 rows make the kernels split even this small world."""
    from simulation.rules import parallel
    from simulation.runner import run_schemes

    scenario = load_scenario(
        Path(__file__).resolve().parent.parent / "scenarios" / "prakerja_2020.yaml", size=1500, weeks=30
    )
    world = build_world(scenario)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "1")
    alone = run_schemes(world, ["voucher", "tender"])
    monkeypatch.setenv("NUMBA_NUM_THREADS", "3")
    monkeypatch.setattr(parallel, "MIN_BLOCK_ROWS", 300)
    assert len(parallel.blocks(len(world.participants))) == 3
    together = run_schemes(world, ["voucher", "tender"])
    for name in ("voucher", "tender"):
        frames = (pd.DataFrame(m[name].records) for m in (together, alone))
        pd.testing.assert_frame_equal(*frames, check_exact=True)
        assert_same_arrays(together[name].state, alone[name].state)
        for column in ("employed", "twin_employed", "business", "liquidity", "endline_weeks_employed"):
            assert np.array_equal(getattr(together[name].labour, column), getattr(alone[name].labour, column))


def test_the_world_is_read_only():
    world = build_world(small())
    with pytest.raises(ValueError, match="read-only"):
        world.participants.motivation[0] = 0.5
    with pytest.raises(ValueError, match="read-only"):
        world.vacancies[0, 0, 0] = 2.0
    with pytest.raises(ValueError, match="read-only"):
        world.labour_group[0] = 0


def test_the_labour_groups_are_made_once_per_world_and_shared_by_its_schemes():
    world = build_world(small())
    people, regions = world.participants, len(world.scenario.regions)
    cell = people.sector.astype(np.int64) * regions + people.region
    assert np.array_equal(world.labour_cell, cell) and world.labour_cell.dtype == np.int16
    assert np.array_equal(world.labour_group, cell * 4 + people.senior_high * 2 + people.age_18_35)
    first, second = MarketModel(world, "voucher"), MarketModel(world, "voucher")
    assert first.labour.group is second.labour.group is world.labour_group  # one copy, not two
    assert first.labour.cell is second.labour.cell is world.labour_cell


def test_labour_groups_widen_to_int32_beyond_8191_cells():
    # 100 sectors x 100 regions = 10,000 cells: group numbers reach 39,999, past int16's 32,767.
    people = SimpleNamespace(
        sector=np.array([99, 0], np.int8), region=np.array([99, 0], np.int8),
        senior_high=np.array([True, False]), age_18_35=np.array([True, False]),
    )  # fmt: skip
    wide = SimpleNamespace(sectors=[None] * 100, regions=[None] * 100)
    cell, group = labour_groups(wide, people)
    assert cell.dtype == group.dtype == np.int32
    assert cell.tolist() == [9_999, 0] and group.tolist() == [39_999, 0]
