"""Labour outcomes (DESIGN §4): the employment chain, its untreated twin, and the two effects an
economist reads off a run (the true effect person by person, and the lottery ITT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from simulation import build_world, load_scenario
from simulation.market.participants import ENROLLED
from simulation.model.market import MarketModel
from simulation.reporting.estimands import stratified_difference
from simulation.reporting.metrics import summarise
from simulation.rules.keyed_draws import purpose_key, uniforms32_numpy

TINY = Path(__file__).resolve().parent.parent / "scenarios" / "tiny.yaml"


def model_of(overrides, size=600, weeks=20, seed=None) -> MarketModel:
    s = load_scenario(TINY, overrides=list(overrides), size=size, weeks=weeks, seed=seed)
    return MarketModel(build_world(s))


def weekly_paths(model: MarketModel):
    """Employment [week, person] on the treated path and for the twin, over the whole run."""
    treated, twin = [], []
    for _ in range(model.params.weeks):
        model.step()
        treated.append(model.labour.employed.copy())
        twin.append(model.labour.twin_employed.copy())
    return np.array(treated), np.array(twin)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def hand_logit(model: MarketModel, week: int) -> np.ndarray:
    """Job-finding log-odds without skill, per person, written out from DESIGN §4 and the scenario."""
    s, people = model.params, model.people
    p = s.labour
    shift = np.array([r.job_finding_shift for r in s.regions])
    return (
        p.job_finding_logit
        + shift[people.region]
        + p.senior_high_effect * people.senior_high
        + p.age_18_35_effect * people.age_18_35
        + p.demand_elasticity * np.log(model.world.vacancies[week, people.sector, people.region])
    )


def test_twin_never_differs_from_treated_path_for_the_never_selected():
    model = model_of(["labour.skill_effect=3", "choice.outside_utility=0"])
    treated, twin = weekly_paths(model)
    control = model.state.selected_week < 0
    assert control.sum() >= 150
    assert np.array_equal(treated[:, control], twin[:, control])
    # Not vacuous: for the selected the two paths do part, and the controls' employment moves.
    assert (treated[:, ~control] != twin[:, ~control]).any()
    assert (twin[-1, control] != model.people.employed_at_entry[control]).any()


def test_no_skill_effect_no_lock_in_means_true_effect_exactly_zero():
    overrides = [
        "labour.skill_effect=0",
        "labour.lock_in=0",
        "labour.skill_protects_job=0",
        "choice.outside_utility=0",
    ]
    model = model_of(overrides)
    treated, twin = weekly_paths(model)
    assert np.array_equal(treated, twin)  # every person, every week
    summary = summarise(model)
    assert summary["true_effect_offered_pp"] == 0.0
    # ... although people were trained, gained matched skill and sat in courses.
    assert (model.state.matched_skill > 0).sum() >= 100
    assert max(r["in_course"] for r in model.records) >= 50


def test_positive_skill_effect_gives_positive_true_effect():
    overrides = ["labour.skill_effect=2", "labour.lock_in=0", "choice.outside_utility=0"]
    model = model_of(overrides, size=1000, weeks=24)
    model.run()
    selected = model.state.selected_week >= 0
    endline, twin = model.labour.endline_rate()
    diff = (endline - twin)[selected]
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert diff.mean() > 3 * se > 0
    assert summarise(model)["true_effect_offered_pp"] == pytest.approx(100 * diff.mean())
    # Person by person the effect runs through skill: people without matched skill are unaffected.
    no_skill = selected & (model.state.matched_skill == 0)
    assert no_skill.sum() > 0
    assert np.array_equal(endline[no_skill], twin[no_skill])


def test_lock_in_alone_lowers_employment_while_in_course():
    # No skill effect, 90 % lock-in: a course only delays job finding, so the treated path is
    # employed less often than the twin, averaged over the selected and the weeks of the run.
    overrides = ["labour.skill_effect=0", "labour.lock_in=0.9", "choice.outside_utility=0"]
    model = model_of(overrides, size=1000, weeks=20)
    treated, twin = weekly_paths(model)
    selected = model.state.selected_week >= 0
    per_person = (treated[:, selected].astype(float) - twin[:, selected]).mean(axis=0)
    se = per_person.std(ddof=1) / np.sqrt(per_person.size)
    assert per_person.mean() < -3 * se < 0


def test_job_finding_and_loss_follow_the_stated_hazards():
    # Recompute every transition of a run by hand: with the week's uniform draw u (keyed by
    # person, week and the purpose "labour"), an unemployed person finds a job iff u < f and an
    # employed one keeps it iff u >= l, where (DESIGN §4)
    #   f = sigmoid(logit + skill_effect * matched skill) * (1 - lock_in if in a course),
    #   l = job_loss_weekly * exp(-skill_protects_job * matched skill);
    # the twin has no skill and no course. Draws within 1e-5 of a threshold are skipped (float32).
    overrides = [
        "labour.job_finding_logit=-1.5",
        "labour.job_loss_weekly=0.05",
        "labour.skill_effect=1.5",
        "labour.skill_protects_job=0.7",
        "labour.lock_in=0.4",
        "population.employed_at_entry_share=0.4",
        "choice.outside_utility=0",
    ]
    model = model_of(overrides, size=600, weeks=12)
    p = model.params.labour
    state, labour = model.state, model.labour
    checked = 0
    for week in range(model.params.weeks):
        employed, twin = labour.employed.copy(), labour.twin_employed.copy()
        model.step()
        u = uniforms32_numpy(np.arange(employed.size), week, 0, purpose_key(model.world.seed, "labour"))
        logit = hand_logit(model, week)
        skill = state.matched_skill.astype(np.float64)
        lock = np.where(state.status == ENROLLED, 1.0 - p.lock_in, 1.0)
        find = sigmoid(logit + p.skill_effect * skill) * lock
        loss = p.job_loss_weekly * np.exp(-p.skill_protects_job * skill)
        threshold = np.where(employed, loss, find)
        clear = np.abs(u - threshold) > 1e-5
        expected = np.where(employed, u >= loss, u < find)
        assert np.array_equal(labour.employed[clear], expected[clear]), week
        twin_threshold = np.where(twin, p.job_loss_weekly, sigmoid(logit))
        clear_twin = np.abs(u - twin_threshold) > 1e-5
        expected_twin = np.where(twin, u >= p.job_loss_weekly, u < sigmoid(logit))
        assert np.array_equal(labour.twin_employed[clear_twin], expected_twin[clear_twin]), week
        checked += clear.sum()
    assert checked > 0.999 * employed.size * model.params.weeks
    assert (state.matched_skill > 0).sum() > 50  # the skill and lock-in terms were exercised


def test_weekly_job_finding_rate_matches_the_logit():
    # Statistical version of the hazard: among the unemployed at entry, the number who find a job
    # in week 0 is a sum of Bernoulli(sigmoid(logit_i)) draws; it must lie within 4 standard
    # deviations of its expectation. Job losses likewise with probability job_loss_weekly.
    overrides = [
        "labour.job_finding_logit=-1",
        "labour.job_loss_weekly=0.1",
        "population.employed_at_entry_share=0.5",
        "choice.outside_utility=100",  # nobody trains: treated path = twin
    ]
    model = model_of(overrides, size=2000, weeks=10)
    employed = model.labour.twin_employed.copy()
    model.step()
    now = model.labour.twin_employed
    p_find = sigmoid(hand_logit(model, 0))[~employed]
    found = now[~employed].sum()
    assert abs(found - p_find.sum()) <= 4 * np.sqrt((p_find * (1 - p_find)).sum())
    n_employed = employed.sum()
    lost = (~now[employed]).sum()
    assert abs(lost - 0.1 * n_employed) <= 4 * np.sqrt(0.1 * 0.9 * n_employed)
    assert found > 200 and lost > 50


def test_itt_and_true_effect_agree_within_a_few_standard_errors():
    # The lottery makes selected and control alike in expectation, so the ITT (selected minus
    # control endline employment, stratum by stratum) estimates the true effect (treated minus
    # twin, selected). Within each stratum the control's outcome is its twin's, so ITT(outcome) -
    # ITT(twin) is exactly the stratified mean of (outcome - twin) over the selected, with the
    # same weights; and ITT(twin) is pure lottery noise.
    overrides = ["labour.skill_effect=2", "choice.outside_utility=0.5"]
    model = model_of(overrides, size=3000, weeks=30)
    model.run()
    summary = summarise(model)
    true, itt, se = (
        summary["true_effect_offered_pp"],
        summary["itt_employment_pp"],
        summary["itt_standard_error_pp"],
    )
    selected = model.state.selected_week >= 0
    stratum = model.people.arrival_week
    endline, twin = model.labour.endline_rate()
    twin_gap = 100 * stratified_difference(twin, selected, ~selected, stratum).estimate
    weighted_true = 100 * weighted_by_hand(endline - twin, selected, stratum)
    assert itt - twin_gap == pytest.approx(weighted_true, abs=1e-9)
    # The weights by hand: h_s = n_s n_c / (n_s + n_c) per arrival stratum; that is the metric
    # "the true effect the ITT estimates" (it differs from the plain mean over everyone offered
    # where the effect differs between strata).
    assert summary["true_effect_itt_target_pp"] == pytest.approx(weighted_true, abs=1e-9)
    # The ITT standard error by hand: sqrt(sum w_s^2 (var_s / n_s + var_c / n_c)), in pp.
    by_hand = 0.0
    h = {
        s: (selected & (stratum == s)).sum() * (~selected & (stratum == s)).sum() / (stratum == s).sum()
        for s in np.unique(stratum)
    }
    for s, weight in h.items():
        a, b = endline[selected & (stratum == s)], endline[~selected & (stratum == s)]
        by_hand += (weight / sum(h.values())) ** 2 * (a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    assert se == pytest.approx(100 * np.sqrt(by_hand))
    assert true > 2 * se and weighted_true > 2 * se  # a real effect to recover
    assert abs(itt - weighted_true) <= 3 * se, (itt, weighted_true, se)


def weighted_by_hand(gain: np.ndarray, offered: np.ndarray, stratum: np.ndarray) -> float:
    """Mean gain of the offered per stratum, weighted by n_offered n_comparison / n."""
    total = weights = 0.0
    for s in np.unique(stratum):
        here = stratum == s
        n_o, n_c = (offered & here).sum(), (~offered & here).sum()
        if n_o and n_c:
            h = n_o * n_c / (n_o + n_c)
            total += h * gain[offered & here].mean()
            weights += h
    return total / weights
