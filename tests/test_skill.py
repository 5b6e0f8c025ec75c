"""Skill from training intensity (issue 9): a course teaches more the more hours of instruction it
has, with diminishing returns, and depends on its mode.

    skill_gain = gain_per_quality x quality x ability x mode_factor[mode]
                 x (hours / reference_hours) ** hours_elasticity x diminishing ** completed_before

Numbers are worked by hand in the comments; the defaults (elasticity 0, every mode factor 1) must
reproduce the rule before the change bit for bit.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from simulation import load_scenario, run_scenario
from simulation.config.codes import HYBRID, OFFLINE, ONLINE
from simulation.config.scenario import ScenarioError, Skill
from simulation.rules.training import intensity_factor, skill_gain
from tests.conftest import ROOT, TENDER_ARM, TINY

MODES = {"online": 0.8, "hybrid": 0.9, "offline": 1.0}
HAND = Skill(
    gain_per_quality=1.0, diminishing=0.6, reference_hours=15.0, hours_elasticity=0.5, mode_factor=MODES
)


# ====================================================================== the rule, by hand


def test_skill_gain_by_hand():
    # 60 h against a reference of 15 h at elasticity 0.5: (60 / 15) ** 0.5 = 4 ** 0.5 = 2.
    # Quality 0.5, ability 1: offline 0.5 x 1 x 1.0 x 2 = 1.0; online 0.8 x 1.0 = 0.8; hybrid 0.9.
    gain = skill_gain(0.5, 1.0, 0, np.full(3, 60.0), np.array([OFFLINE, ONLINE, HYBRID]), HAND)
    assert gain.dtype == np.float32
    assert gain.tolist() == pytest.approx([1.0, 0.8, 0.9], abs=1e-6)
    # A second course offline: 1.0 x 0.6 = 0.6; a 15-hour course: factor 1, gain 0.5; a 3.75-hour
    # course: (1/4) ** 0.5 = 0.5, gain 0.25; ability 2 and quality 0.8 at 60 h: 0.8 x 2 x 2 = 3.2.
    gain = skill_gain(
        np.array([0.5, 0.5, 0.5, 0.8]),
        np.array([1.0, 1.0, 1.0, 2.0]),
        np.array([1, 0, 0, 0]),
        np.array([60.0, 15.0, 3.75, 60.0]),
        OFFLINE,
        HAND,
    )
    assert gain.tolist() == pytest.approx([0.6, 0.5, 0.25, 3.2], abs=1e-6)


def test_intensity_factor_by_hand():
    # Elasticity 1: proportional. 30 h / 15 h = 2, online 0.8 x 2 = 1.6; 7.5 h: 0.5.
    linear = HAND.model_copy(update={"hours_elasticity": 1.0})
    assert intensity_factor(np.array([30.0, 7.5]), ONLINE, linear).tolist() == pytest.approx([1.6, 0.4])
    assert intensity_factor(np.array([30.0, 7.5]), OFFLINE, linear).tolist() == pytest.approx([2.0, 0.5])
    # Elasticity 0.3, reference 12 h: a 140-hour offline course (140 / 12) ** 0.3 = exp(0.3 x ln 11.667)
    # = exp(0.3 x 2.4567) = exp(0.7370) = 2.0897; 10 times the reference teaches 10 ** 0.3 = 1.9953
    # times as much.
    params = Skill(reference_hours=12.0, hours_elasticity=0.3)
    assert float(intensity_factor(140.0, OFFLINE, params)) == pytest.approx(2.0897, abs=1e-4)
    assert float(intensity_factor(120.0, OFFLINE, params)) == pytest.approx(1.9953, abs=1e-4)
    # Elasticity 0: hours do not matter, only the mode.
    flat = HAND.model_copy(update={"hours_elasticity": 0.0})
    hours = np.array([1.0, 15.0, 140.0, 2000.0])
    assert intensity_factor(hours, HYBRID, flat).tolist() == pytest.approx([0.9] * 4)


# ====================================================================== limiting case and shape


def old_skill_gain(quality, ability, completed_before, params: Skill) -> np.ndarray:
    """The rule before issue 9, verbatim: length and mode played no part."""
    return (params.gain_per_quality * quality * ability * params.diminishing**completed_before).astype(
        np.float32
    )


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 30),
    gain_per_quality=st.floats(0.0, 10.0),
    diminishing=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_defaults_reproduce_the_old_rule_exactly(n, gain_per_quality, diminishing, seed):
    rng = np.random.default_rng(seed)
    params = Skill(gain_per_quality=gain_per_quality, diminishing=diminishing)  # length, mode: defaults
    quality = rng.random(n).astype(np.float32)  # as the course table and the model hold them
    ability = rng.lognormal(0.0, 0.5, n).astype(np.float32)
    before = rng.integers(0, 5, n).astype(np.int16)
    hours = rng.uniform(0.5, 2000.0, n).astype(np.float32)
    mode = rng.integers(0, 3, n).astype(np.int8)
    new = skill_gain(quality, ability, before, hours, mode, params)
    np.testing.assert_array_equal(new, old_skill_gain(quality, ability, before, params))


QUARTER_HOURS = st.integers(2, 8000).map(lambda k: k / 4.0)  # 0.5 to 2,000 hours, a quarter hour apart


@settings(max_examples=60, deadline=None)
@given(
    hours=hnp.arrays(np.float64, st.integers(2, 20), elements=QUARTER_HOURS),
    other=QUARTER_HOURS,
    elasticity=st.floats(0.05, 0.95),
    reference=st.floats(1.0, 200.0),
    mode=st.sampled_from([ONLINE, OFFLINE, HYBRID]),
)
def test_more_hours_teach_more_with_diminishing_returns(hours, other, elasticity, reference, mode):
    params = HAND.model_copy(update={"hours_elasticity": elasticity, "reference_hours": reference})
    grid = np.unique(hours)
    factor = intensity_factor(grid, mode, params)
    assert np.all(np.diff(factor) > 0)  # strictly increasing in hours
    # Concave: the course halfway in length teaches at least the average of the two (more, unless
    # they are equally long), so each further hour adds less.
    middle = intensity_factor((hours + other) / 2, mode, params)
    average = (intensity_factor(hours, mode, params) + intensity_factor(other, mode, params)) / 2
    assert np.all(middle >= average * (1 - 1e-12))
    assert np.all((middle > average) | (hours == other))
    # Doubling the hours multiplies the skill by 2 ** elasticity, less than 2, wherever one starts.
    ratio = intensity_factor(2 * grid, mode, params) / factor
    np.testing.assert_allclose(ratio, 2.0**elasticity, rtol=1e-12)
    assert np.all(ratio < 2.0)


def test_elasticity_one_is_linear_and_zero_is_flat():
    hours = np.linspace(1.0, 300.0, 50)
    linear = intensity_factor(hours, OFFLINE, HAND.model_copy(update={"hours_elasticity": 1.0}))
    np.testing.assert_allclose(linear, hours / 15.0, rtol=1e-12)
    np.testing.assert_allclose(np.diff(linear, 2), 0.0, atol=1e-12)  # no diminishing returns
    flat = intensity_factor(hours, OFFLINE, HAND.model_copy(update={"hours_elasticity": 0.0}))
    assert np.all(flat == 1.0)


# ====================================================================== scenario values


def test_skill_parameters_defaults_and_bounds():
    skill = Skill()
    assert (skill.hours_elasticity, skill.reference_hours) == (0.0, 15.0)
    assert (skill.mode_factor.online, skill.mode_factor.offline, skill.mode_factor.hybrid) == (1.0, 1.0, 1.0)
    for override in (
        "skill.hours_elasticity=1.5",
        "skill.hours_elasticity=-0.1",
        "skill.reference_hours=0",
        "skill.reference_hours=5e-324",  # accepted once: hours / reference overflowed (fuzz test)
        "skill.reference_hours=0.5",
        "skill.mode_factor.online=0",
        "skill.mode_factor.offline=2.5",
        "skill.mode_factor.remote=1.0",
    ):
        with pytest.raises(ScenarioError):
            load_scenario(TINY, [override])
    # At the bounds (an hour of reference, the longest course, elasticity 1) the factor is finite.
    extreme = load_scenario(TINY, ["skill.reference_hours=1", "skill.hours_elasticity=1"]).skill
    assert float(intensity_factor(2000.0, OFFLINE, extreme)) == pytest.approx(2000.0)


def test_calibrated_scenarios_keep_the_2020_voucher_course_near_one():
    """The scenarios switch the mechanism on (values are assumptions); skill_effect was calibrated
    on the 2020 voucher's online courses, so an online course of the reference length, which lies
    inside the voucher's course lengths, must have factor 1, and a centre's 140-hour offline course
    must teach more."""
    for name in ("prakerja_2020", "blk_2022"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
        skill, providers = scenario.skill, scenario.providers
        assert 0.0 < skill.hours_elasticity < 1.0, name
        assert providers.hours_min <= skill.reference_hours <= providers.hours_max, name
        assert float(intensity_factor(skill.reference_hours, ONLINE, skill)) == 1.0, name
        low, high = intensity_factor(np.array([providers.hours_min, providers.hours_max]), ONLINE, skill)
        assert 0.7 < low < 1.0 < high < 1.5, name  # the voucher's courses stay near 1
        for tier in scenario.centres:
            assert intensity_factor(tier.course_hours, OFFLINE, skill) > high, (name, tier.name)


# ====================================================================== in a model run


@pytest.fixture(scope="module")
def intense():
    """The tiny world, voucher and tender, with length and mode switched on (distinct mode factors),
    and no quality shading, so that a course's delivered quality is the same all run long."""
    scenario = load_scenario(
        TINY,
        [
            *TENDER_ARM,
            "skill.hours_elasticity=0.5",
            "skill.reference_hours=15",
            "skill.mode_factor={online: 0.8, hybrid: 0.9, offline: 1.0}",
            "providers.quality_saving_idr={offline: 0}",
        ],
    )
    return run_scenario(scenario)


def single_course_completers(model) -> np.ndarray:
    """Rows that bought and completed exactly one course: their skill is that course's gain."""
    state = model.state
    return np.flatnonzero((state.courses_completed == 1) & (state.courses_bought == 1))


def test_voucher_completers_gain_by_their_course_hours_and_mode(intense):
    model = intense.models["voucher"]
    rows = single_course_completers(model)
    course, courses, params = model.state.course[rows], model.courses, model.params.skill
    hours, mode = courses.hours[course], courses.mode[course]
    assert rows.size > 100 and np.ptp(hours) > 10.0  # courses of many lengths were completed
    assert set(np.unique(mode)) == {ONLINE, OFFLINE, HYBRID}
    per_unit = model.state.skill[rows] / (courses.true_quality[course] * model.people.ability[rows])
    np.testing.assert_allclose(per_unit, intensity_factor(hours, mode, params), rtol=1e-5)
    # Same mode, longer course, more skill per unit of quality x ability.
    online = mode == ONLINE
    order = np.argsort(hours[online])
    assert np.all(np.diff(per_unit[online][order]) > -1e-5)
    assert per_unit[online][order[-1]] > per_unit[online][order[0]] * 1.3


def test_tender_completers_gain_by_their_course_hours_taught_offline(intense):
    model = intense.models["tender"]
    rows = single_course_completers(model)
    scheme, courses, params = model.scheme, model.courses, model.params.skill
    course = model.state.course[rows]
    delivered = np.array([c.delivered_quality for c in scheme.contracts])[scheme.contract_of[rows]]
    hours = courses.hours[course]
    # Contractors: the centres' 140-hour courses and blended providers' short courses, some of them
    # online in the course table; the tender teaches every one offline, at its own hours.
    taught = delivered > 0  # a contractor may shade quality to nothing: no skill, nothing to compare
    centre = hours == 140.0
    assert np.count_nonzero(taught & centre) > 20 and np.count_nonzero(taught & ~centre) > 5
    assert np.count_nonzero(taught & (courses.mode[course] == ONLINE)) > 5
    expected = skill_gain(delivered, model.people.ability[rows], 0, hours, OFFLINE, params)
    np.testing.assert_allclose(model.state.skill[rows], expected, rtol=1e-6)
    per_unit = model.state.skill[rows][taught] / (delivered * model.people.ability[rows])[taught]
    # (140 / 15) ** 0.5 = 3.055 for a centre's course, against at most (20 / 15) ** 0.5 = 1.155.
    assert np.allclose(per_unit[centre[taught]], np.sqrt(140.0 / 15.0), rtol=1e-5)
    np.testing.assert_allclose(per_unit[~centre[taught]], np.sqrt(hours[taught & ~centre] / 15.0), rtol=1e-5)
    assert per_unit[centre[taught]].min() > 2 * per_unit[~centre[taught]].max()
