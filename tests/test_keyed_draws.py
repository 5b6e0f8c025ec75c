"""The counter-based generator: Philox4x32-10 against Random123's published answers, and uniforms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation.rules.keyed_draws import (
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
