"""The estimands (ITT, first stage, TOT, true effects) and ratio metrics over replications, by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulation.reporting.compare import ratio_stats, summarise_replications
from simulation.reporting.estimands import effects, stratified_difference


def test_stratified_difference_by_hand():
    # Stratum 0: offered outcomes 1, 1, 0 (mean 2/3), comparison 0 (mean 0): h = 3 * 1 / 4 = 0.75.
    # Stratum 1: offered 1 (mean 1), comparison 1, 0 (mean 1/2): h = 1 * 2 / 3 = 2/3.
    # ITT = (0.75 * 2/3 + 2/3 * 1/2) / (0.75 + 2/3) = (0.5 + 1/3) / (17/12) = 10/17.
    y = np.array([1, 1, 0, 0, 1, 1, 0], dtype=float)
    offered = np.array([1, 1, 1, 0, 1, 0, 0], dtype=bool)
    stratum = np.array([0, 0, 0, 0, 1, 1, 1])
    found = stratified_difference(y, offered, ~offered, stratum)
    assert found.estimate == pytest.approx(10 / 17)
    # Variances (ddof 1): stratum 0 offered 1/3; stratum 1 comparison 1/2. The two groups of one
    # take the pooled within-group variance: sums of squares 2/3 (df 2) and 1/2 (df 1), so
    # (2/3 + 1/2) / 3 = 7/18. w = (9/17, 8/17).
    w0, w1, pooled = 9 / 17, 8 / 17, 7 / 18
    by_hand = math.sqrt(w0**2 * (1 / 3 / 3 + pooled / 1) + w1**2 * (pooled / 1 + 0.5 / 2))
    assert found.standard_error == pytest.approx(by_hand)
    assert found.covered == 1.0


def test_the_standard_error_matches_the_spread_when_many_strata_hold_one_person():
    """Like a tender's lots: 300 strata of one to three people offered and one to six not. Over
    repeated draws of i.i.d. outcomes the reported standard error must match the estimate's
    spread (a group of one contributes the pooled variance, not zero)."""
    rng = np.random.default_rng(5)
    sizes = rng.integers(1, 4, 300), rng.integers(1, 7, 300)
    stratum = np.concatenate([np.repeat(np.arange(300), sizes[0]), np.repeat(np.arange(300), sizes[1])])
    offered = np.arange(stratum.size) < sizes[0].sum()
    estimates, errors = [], []
    for _ in range(600):
        found = stratified_difference(rng.random(stratum.size) < 0.6, offered, ~offered, stratum)
        estimates.append(found.estimate)
        errors.append(found.standard_error)
    assert np.mean(errors) == pytest.approx(np.std(estimates), rel=0.1)


def test_one_stratum_is_the_difference_in_means_with_its_welch_error():
    rng = np.random.default_rng(1)
    y = rng.normal(size=200)
    offered = rng.random(200) < 0.3
    found = stratified_difference(y, offered, ~offered, np.zeros(200, dtype=np.int64))
    a, b = y[offered], y[~offered]
    assert found.estimate == pytest.approx(a.mean() - b.mean())
    assert found.standard_error == pytest.approx(math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size))


def test_strata_without_a_comparison_are_left_out_and_coverage_says_so():
    # Stratum 5 has three offered and nobody to compare with; stratum 6 one offered, one not.
    y = np.array([9, 9, 9, 1, 0], dtype=float)
    offered = np.array([1, 1, 1, 1, 0], dtype=bool)
    stratum = np.array([5, 5, 5, 6, 6])
    found = stratified_difference(y, offered, ~offered, stratum)
    assert found.estimate == pytest.approx(1.0)
    assert found.covered == pytest.approx(1 / 4)
    nobody = stratified_difference(y, offered, np.zeros(5, dtype=bool), stratum)
    assert nobody.estimate is None and nobody.covered == 0.0


def test_people_in_neither_group_do_not_count():
    y = np.array([1.0, 0.0, 100.0])
    offered = np.array([True, False, False])
    comparison = np.array([False, True, False])
    assert stratified_difference(y, offered, comparison, np.zeros(3, np.int64)).estimate == 1.0


def test_tot_is_the_itt_over_the_first_stage_and_true_effects_use_the_twins():
    # Half of the offered train and gain 0.4; nobody in the comparison trains. ITT = 0.2,
    # first stage = 0.5, TOT = 0.4: the gain of those trained.
    n = 8
    offered = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    trained = np.array([1, 1, 0, 0, 0, 0, 0, 0], dtype=bool)
    twin = np.full(n, 0.5)
    outcome = twin + 0.4 * trained
    found = effects(outcome, twin, offered, ~offered, np.zeros(n, np.int64), trained)
    assert found.itt.estimate == pytest.approx(0.2)
    assert found.first_stage.estimate == pytest.approx(0.5)
    assert found.tot == pytest.approx(0.4)
    assert found.true_offered == pytest.approx(0.2)
    assert found.true_trained == pytest.approx(0.4)
    assert found.true_itt_target == pytest.approx(0.2)  # one stratum: the effect on the offered


def test_reusing_the_twins_array_gives_the_same_effects_and_leaves_the_gains_in_it():
    rng = np.random.default_rng(5)
    n = 400
    offered = rng.random(n) < 0.6
    trained = offered & (rng.random(n) < 0.7)
    twin = rng.integers(0, 13, n) / 12.0
    outcome = np.minimum(twin + trained * rng.integers(0, 3, n) / 12.0, 1.0)
    stratum = rng.integers(0, 6, n)
    kept = effects(outcome, twin.copy(), offered, ~offered, stratum, trained)
    scratch = twin.copy()
    reused = effects(outcome, scratch, offered, ~offered, stratum, trained, reuse_twin=True)
    assert reused == kept  # every estimand, to the last bit
    assert np.array_equal(scratch, outcome - twin)


def test_no_take_up_difference_leaves_the_tot_undefined():
    offered = np.array([True, False])
    found = effects(np.ones(2), np.ones(2), offered, ~offered, np.zeros(2, np.int64), np.zeros(2, bool))
    assert found.tot is None and found.true_trained is None


def test_cost_per_job_over_replications_is_a_ratio_of_means_with_a_fieller_interval():
    cost = np.array([10.0, 12.0, 14.0, 9.0])
    jobs = np.array([1.0, 4.0, 2.0, 3.0])
    got = ratio_stats([list(cost)], [list(jobs)], [1.0])
    assert got["mean"] == pytest.approx(11.25 / 2.5)  # 4.5, not the mean of the ratios (5.92)
    assert got["n"] == 4
    # Fieller: the thetas with (mean cost - theta mean jobs)^2 <= t^2 var(mean cost - theta mean
    # jobs), the roots of a quadratic, found here with numpy from the sample moments.
    t = stats.t.ppf(0.975, 3)
    v = np.cov(cost, jobs, ddof=1) / 4
    a, b = cost.mean(), jobs.mean()
    quadratic = [b**2 - t**2 * v[1, 1], -2 * (a * b - t**2 * v[0, 1]), a**2 - t**2 * v[0, 0]]
    low, high = sorted(np.roots(quadratic).real)
    assert got["ci_low"] == pytest.approx(low) and got["ci_high"] == pytest.approx(high)
    assert low < 4.5 < high


def test_a_ratio_whose_denominator_is_not_clearly_positive_has_no_interval():
    # Additional jobs of 1, -1 and 3: a mean of 1 but a standard error of 1.15 at t(2) = 4.30,
    # so any cost per job is compatible with the data: the interval is unbounded.
    got = ratio_stats([[10.0, 12.0, 14.0]], [[1.0, -1.0, 3.0]], [1.0])
    assert got["mean"] == pytest.approx(12.0)
    assert got["ci_low"] is None and got["ci_high"] is None and "unbounded" in got["reason"]


def test_a_ratio_whose_mean_denominator_is_not_positive_is_null_with_a_reason():
    got = ratio_stats([[1.0, 2.0]], [[1.0, -3.0]], [1.0])
    assert got["mean"] is None and "not positive" in got["reason"]
    missing = ratio_stats([[1.0, None]], [[1.0, 1.0]], [1.0])
    assert missing["mean"] is None and missing["reason"] == "undefined in 1 of 2 replications"


def test_replications_use_ratios_of_means_for_schemes_and_paired_differences():
    runs = [
        {"a": {"cost": c, "jobs": j, "per_job": c / j}, "b": {"cost": 2 * c, "jobs": j, "per_job": 2 * c / j}}
        for c, j in [(10.0, 1.0), (12.0, 1.5), (14.0, 2.5), (9.0, 1.2)]
    ]
    out = summarise_replications(runs, ratios={"per_job": ("cost", "jobs")})
    cost, jobs = np.array([10.0, 12, 14, 9]), np.array([1.0, 1.5, 2.5, 1.2])
    ratio = cost.mean() / jobs.mean()
    assert out["schemes"]["a"]["per_job"]["mean"] == pytest.approx(ratio)  # no run dropped
    assert out["schemes"]["a"]["per_job"]["n"] == 4
    assert out["schemes"]["b"]["per_job"]["mean"] == pytest.approx(2 * ratio)
    assert out["difference"]["b - a"]["per_job"]["mean"] == pytest.approx(ratio)
    # The paired difference's interval comes from the linearised differences, replication by
    # replication: z_i = (Nb_i - Rb Db_i) / mean(Db) - (Na_i - Ra Da_i) / mean(Da).
    z = (2 * cost - 2 * ratio * jobs) / jobs.mean() - (cost - ratio * jobs) / jobs.mean()
    half = stats.t.ppf(0.975, 3) * z.std(ddof=1) / 2
    assert out["difference"]["b - a"]["per_job"]["ci_high"] == pytest.approx(ratio + half)
