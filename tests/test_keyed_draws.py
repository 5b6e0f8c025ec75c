"""The counter-based generator: Philox4x32-10 against Random123's published answers, and uniforms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.rules.keyed_draws import (
    Draws,
    person_uniforms,
    person_uniforms32,
    philox_block,
    philox_numpy,
    purpose_key,
    uniforms32_numpy,
    uniforms_numpy,
)

# Random123's known-answer vectors for Philox4x32-10 (its tests/kat_vectors): counter, key, output.
KNOWN_ANSWERS = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    (
        (0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344),
        (0xA4093822, 0x299F31D0),
        (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1),
    ),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_philox_matches_random123(counter, key, expected):
    c, k = np.array(counter, dtype=np.uint32), np.array(key, dtype=np.uint32)
    assert tuple(int(w) for w in philox_block(c, k)) == expected
    assert tuple(int(w) for w in philox_numpy(c[None, :], k)[0]) == expected


def test_kernel_and_numpy_twin_agree_and_uniforms_are_inside_zero_one():
    key = purpose_key(2020, "labour")
    persons = np.arange(100_000, dtype=np.int64)
    u = person_uniforms(persons, 17, 3, key)
    np.testing.assert_array_equal(u, uniforms_numpy(persons, 17, 3, key))
    assert u.min() > 0.0 and u.max() < 1.0
    u32 = person_uniforms32(persons, 17, 3, key)
    np.testing.assert_array_equal(u32, uniforms32_numpy(persons, 17, 3, key))
    assert u32.dtype == np.float32 and u32.min() > 0.0 and u32.max() < 1.0


def test_a_persons_draw_depends_only_on_person_week_slot_and_purpose():
    key = purpose_key(7, "shopping")
    everyone = person_uniforms(np.arange(1000, dtype=np.int64), 5, 0, key)
    some = np.array([999, 3, 500], dtype=np.int64)
    np.testing.assert_array_equal(person_uniforms(some, 5, 0, key), everyone[some])
    assert not np.array_equal(person_uniforms(some, 6, 0, key), everyone[some])
    assert not np.array_equal(person_uniforms(some, 5, 1, key), everyone[some])
    assert not np.array_equal(person_uniforms(some, 5, 0, purpose_key(7, "ratings")), everyone[some])
    assert not np.array_equal(person_uniforms(some, 5, 0, purpose_key(8, "shopping")), everyone[some])


@pytest.mark.parametrize("draw", [person_uniforms, person_uniforms32])
def test_uniforms_are_uniform_and_uncorrelated_across_neighbours(draw):
    u = draw(np.arange(200_000, dtype=np.int64), 3, 0, purpose_key(11, "test")).astype(np.float64)
    counts, _ = np.histogram(u, bins=50, range=(0.0, 1.0))
    assert stats.chisquare(counts).pvalue > 1e-4
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 0.01
    later = draw(np.arange(200_000, dtype=np.int64), 4, 0, purpose_key(11, "test")).astype(np.float64)
    assert abs(np.corrcoef(u, later)[0, 1]) < 0.01


def test_a_shoppers_choice_does_not_depend_on_who_else_shops(tiny_world):
    """Drop every other shopper from the week's batch: the others choose exactly as before."""
    from simulation.market.participants import HOLDING
    from simulation.model.market import MarketModel
    from simulation.rules.choice import shop

    model = MarketModel(tiny_world)
    for _ in range(2):
        model.step()
    rows = np.flatnonzero(model.state.status == HOLDING)
    draws = Draws.of(model.world.seed, "voucher:shopping", model.week)
    market, params = model.scheme.course_facts(model.week), model.params.choice
    everyone = shop(model.scheme.shoppers(rows, model.week), market, params, draws)
    half = rows[::2]
    np.testing.assert_array_equal(
        shop(model.scheme.shoppers(half, model.week), market, params, draws), everyone[::2]
    )
    assert (everyone >= 0).any() and (everyone < 0).any()


def test_a_lottery_order_is_each_persons_own():
    draws = Draws.of(3, "lottery", 0)
    pool = np.arange(0, 5000, 3)
    order = draws.shuffled(pool)
    assert sorted(order.tolist()) == pool.tolist() and not np.array_equal(order, pool)
    fewer = draws.shuffled(pool[pool != order[10]])  # one applicant withdraws
    np.testing.assert_array_equal(fewer, order[order != order[10]])


@pytest.mark.parametrize("count", [0, 1, 7, 500, 1666, 1667, 5000])
def test_the_first_winners_are_the_head_of_the_lottery_order(count):
    draws = Draws.of(3, "lottery", 0)
    pool = np.arange(0, 5000, 3)  # 1,667 applicants
    np.testing.assert_array_equal(draws.first(pool, count), draws.shuffled(pool)[:count])


@pytest.mark.parametrize("count", [0, 1, 7, 500, 1666, 1667, 5000])
def test_the_chosen_are_the_first_winners_in_the_pools_order(count):
    """``chosen`` gives the people of ``first`` without their draw order: in the pool's order."""
    draws = Draws.of(3, "lottery", 0)
    pool = np.arange(5000, 0, -3)  # 1,667 applicants, rows descending
    chosen = draws.chosen(pool, count)
    first = draws.first(pool, count)
    assert sorted(chosen.tolist()) == sorted(first.tolist())
    np.testing.assert_array_equal(chosen, pool[np.isin(pool, first)])  # in the pool's order


class TiedDraws(Draws):
    """Uniforms rounded to tenths, so that many persons tie: ties must go by row."""

    def uniforms(self, persons, slot=0):
        return np.round(super().uniforms(persons, slot), 1)


@pytest.mark.parametrize("count", [1, 3, 40, 99])
def test_ties_at_the_cutoff_go_by_row_as_in_the_full_order(count):
    draws = TiedDraws(Draws.of(4, "lottery", 1).key, 1)
    pool = np.arange(300, 100, -2)  # rows not in order, 100 applicants
    order = draws.shuffled(pool)
    assert np.unique(draws.uniforms(pool)).size <= 11  # ties everywhere
    np.testing.assert_array_equal(draws.first(pool, count), order[:count])
    np.testing.assert_array_equal(draws.chosen(pool, count), pool[np.isin(pool, order[:count])])


def test_normals_are_standard_normal():
    z = Draws.of(5, "voucher:ratings", 2).normals(np.arange(100_000))
    assert abs(z.mean()) < 0.02 and abs(z.std() - 1.0) < 0.02
    assert stats.kstest(z, "norm").pvalue > 1e-4


def test_completion_draws_are_common_to_both_schemes():
    """A person enrolling in the same week under either scheme faces the same completion draw."""
    from pathlib import Path

    from simulation.config.scenario import load_scenario
    from simulation.model.market import MarketModel
    from simulation.model.world import build_world

    path = Path(__file__).resolve().parent.parent / "scenarios" / "prakerja_2020.yaml"
    world = build_world(load_scenario(path, size=1000, weeks=30))
    rows = np.arange(50, dtype=np.int64)
    chance = np.full(50, 0.5)
    outcomes = []
    for scheme in ("voucher", "tender"):
        model = MarketModel(world, scheme)
        model.enrol(7, rows, np.zeros(50, dtype=np.int64), 2, chance)
        outcomes.append(model.state.will_complete[rows].copy())
    np.testing.assert_array_equal(*outcomes)
    assert 10 < outcomes[0].sum() < 40
