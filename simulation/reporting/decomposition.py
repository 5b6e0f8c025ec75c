"""Decomposing the voucher-tender gap: how much of it each modelling asymmetry accounts for.

A *configuration* is the set of factors removed from the scenario (a ``frozenset`` of factor
names); the empty set is the scenario as written. The *gap* of a configuration is voucher minus
tender, for two questions:

* the effect: percentage points per person offered, measured by the lottery ITT
  (``itt_employment_pp``); with the measurement factor ``lottery`` removed, by what the ITT
  estimates (``true_effect_itt_target_pp``: the twins' effect with the ITT's strata and weights,
  so the step is the lottery's sampling error); with ``population`` removed, by the twins' effect
  on everyone offered (``true_effect_offered_pp``: the step is who the ITT covers and how it
  weighs them). These are choices of measurement, not of model, so they cost no extra runs;
* the cost per additional job (IDR): over replications, the ratio of mean total cost to mean
  additional jobs, for each scheme (:func:`simulation.reporting.compare.ratio_stats`).

Every reported number is a linear combination sum_c w_c gap(c) over configurations:

* **Sequential** (a fixed order f_1 ... f_K): step k contributes gap({f_1..f_k}) - gap({f_1..f_k-1}).
  The contributions add up exactly to gap(all removed) - gap(none), but each depends on the order:
  a factor that interacts with another is credited with the interaction if it comes second.
* **Shapley**: factor i gets the average of its sequential contribution over all K! orders,
  phi_i = sum over S not containing i of |S|! (K - |S| - 1)! / K! [gap(S + i) - gap(S)]; the
  values also add up to gap(all) - gap(none), and do not depend on any order (2^K configurations).

Confidence intervals are paired: every configuration runs on the same replication seeds, so for
the effect each replication gives one value of the combination and the interval is Student's t
over replications (:func:`simulation.reporting.compare.replication_stats`); for the cost per job,
the combination of ratios of means takes the delta method over the same replications
(:func:`simulation.reporting.compare.ratio_stats`), undefined with a reason when a scheme's mean
additional jobs are not significantly above zero.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence

from simulation.reporting.compare import ratio_stats, replication_stats

LOTTERY = "lottery"  # measurement factor: the ITT's target instead of the ITT
POPULATION = "population"  # measurement factor: the effect on everyone offered
MEASUREMENTS = frozenset({LOTTERY, POPULATION})
ITT = "itt_employment_pp"
ITT_TARGET = "true_effect_itt_target_pp"
TRUE_EFFECT = "true_effect_offered_pp"
EFFECTS = (ITT, ITT_TARGET, TRUE_EFFECT)
COST = ("total_cost_idr", "additional_jobs")  # numerator, denominator of the cost per additional job
COST_NET = ("cost_net_of_cash_idr", "additional_jobs")  # the same with cash counted as a transfer
SCHEMES = ("voucher", "tender")

Configuration = frozenset[str]
Combination = dict[Configuration, float]  # configuration -> weight
Replications = Sequence[Mapping[str, Mapping[str, float | int | None]]]  # [{scheme: {metric: value}}]


def sequential(order: Sequence[str]) -> list[tuple[str, Combination]]:
    """Each factor of ``order`` with its sequential contribution, as a combination of
    configurations: step k is {f_1..f_k}: +1, {f_1..f_k-1}: -1."""
    steps = []
    for k, name in enumerate(order):
        before, after = frozenset(order[:k]), frozenset(order[: k + 1])
        steps.append((name, {after: 1.0, before: -1.0}))
    return steps


def shapley(factors: Sequence[str]) -> list[tuple[str, Combination]]:
    """Each factor's Shapley value as a combination of configurations (see the module docstring);
    2^K configurations for K factors."""
    k = len(factors)
    out = []
    for name in factors:
        others = [f for f in factors if f != name]
        weights: Combination = {}
        for size in range(k):
            weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
            for subset in itertools.combinations(others, size):
                without = frozenset(subset)
                weights[without | {name}] = weights.get(without | {name}, 0.0) + weight
                weights[without] = weights.get(without, 0.0) - weight
        out.append((name, weights))
    return out


def level(configuration: Iterable[str]) -> Combination:
    """The gap of one configuration, as a combination."""
    return {frozenset(configuration): 1.0}


def apply(combination: Combination, gap: Mapping[Configuration, float]) -> float:
    """The value of ``combination`` given the gap of each configuration (a number)."""
    return sum(weight * gap[configuration] for configuration, weight in combination.items())


def runs_of(configuration: Configuration) -> Configuration:
    """The configuration that is simulated: the measurement factors are not runs."""
    return configuration - MEASUREMENTS


def effect_metric(configuration: Configuration) -> str:
    """The effect a configuration measures: the twins' effect on everyone offered once
    ``population`` is removed; else the ITT's target once ``lottery`` is; else the ITT."""
    if POPULATION in configuration:
        return TRUE_EFFECT
    return ITT_TARGET if LOTTERY in configuration else ITT


def effect_stats(
    combination: Combination, runs: Mapping[Configuration, Replications], confidence: float = 0.95
) -> dict:
    """Statistics over replications of sum_c w_c (voucher effect - tender effect)(c), in pp.
    Each replication gives one value (the configurations share its seed, so the value is paired)."""
    n = _replications(combination, runs)
    values: list[float | None] = []
    for r in range(n):
        total: float | None = 0.0
        for configuration, weight in combination.items():
            if weight == 0.0:
                continue
            metrics = runs[runs_of(configuration)][r]
            name = effect_metric(configuration)
            voucher, tender = metrics["voucher"].get(name), metrics["tender"].get(name)
            if voucher is None or tender is None or total is None:
                total = None
                continue
            total += weight * (float(voucher) - float(tender))
        values.append(total)
    return replication_stats(values, confidence)


def cost_stats(
    combination: Combination,
    runs: Mapping[Configuration, Replications],
    confidence: float = 0.95,
    cost: tuple[str, str] = COST,
) -> dict:
    """Statistics of sum_c w_c (voucher - tender cost per additional job)(c), IDR, each cost per
    job the ratio of mean total cost to mean additional jobs over the replications (delta method);
    ``cost`` names the (numerator, denominator) metrics (:data:`COST_NET`: cost net of cash)."""
    n = _replications(combination, runs)
    simulated: dict[Configuration, float] = {}  # measurements change no cost: merge by the runs
    for configuration, weight in combination.items():
        key = runs_of(configuration)
        simulated[key] = simulated.get(key, 0.0) + weight
    numerators, denominators, signs = [], [], []
    for configuration, weight in simulated.items():
        if abs(weight) < 1e-12:
            continue
        replications = runs[configuration]
        for scheme, sign in zip(SCHEMES, (1.0, -1.0), strict=True):
            numerators.append([replications[r][scheme].get(cost[0]) for r in range(n)])
            denominators.append([replications[r][scheme].get(cost[1]) for r in range(n)])
            signs.append(sign * weight)
    if not signs:  # e.g. a measurement factor's contribution: exactly zero
        return replication_stats([0.0] * n, confidence)
    return ratio_stats(numerators, denominators, signs, confidence)


def _replications(combination: Combination, runs: Mapping[Configuration, Replications]) -> int:
    counts = {len(runs[runs_of(c)]) for c in combination}
    if len(counts) != 1:
        raise ValueError(f"configurations have different numbers of replications: {sorted(counts)}")
    return counts.pop()
