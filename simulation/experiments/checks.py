"""The checks of an experiment's report: each expectation measured on the runs, with its 95%
confidence interval over replications, and whether it holds.

The runs are a tidy table (one row per arm, replication and scheme; the metrics as columns). On
common random numbers replication ``r`` of every arm ran on the same world, so a difference
between arms, or between schemes in one arm, and a slope across arms are taken replication by
replication and their intervals come from the spread of these paired values:

* ``level``: the metric's mean in the arm (a ratio metric, e.g. cost per additional job: the
  ratio of the means, with Fieller's interval);
* ``difference``: mean of (metric in the arm - metric in ``versus``), paired by replication (a
  ratio metric: the difference of the ratios of means, delta-method interval);
* ``slope``: mean over replications of the least-squares slope of the metric on the arms' x
  (metric units per unit of x).

A check passes (``expect``): ``positive`` if the interval's lower end is above 0; ``negative`` if
its upper end is below 0 (with ``min_effect`` the mean must also be at least that far from 0);
``within`` if the mean (not its interval) lies in [low, high]; ``covers`` if the interval contains
``value``. A check whose value cannot be measured (no finite values, fewer than two
replications for an interval) fails, and says why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from simulation.experiments.experiment import Check, Experiment, Plan
from simulation.experiments.formatting import format_value
from simulation.experiments.variants import level_and_difference
from simulation.reporting import registry
from simulation.reporting.compare import replication_stats

PASS, FAIL, NOT_RUN = "pass", "fail", "not run"


def evaluate(experiment: Experiment, found: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per check and arm: the measured value, its 95% CI and the verdict."""
    rows = []
    arms = [a.name for a in found.arms]
    for check in experiment.checks:
        for arm in _arms_of(check, found):
            row = {
                "check": check.name,
                "kind": check.kind,
                "metric": check.metric,
                "unit": registry.BY_NAME[check.metric].unit,
                "scheme": check.scheme,
                "arm": arm,
                "versus": _versus_text(check),
                "expectation": check.expectation,
                "rule": rule_text(check, _bound_format(check)),
                "source": check.source,
            }
            named = [] if check.kind == "slope" else [arm, check.versus.arm if check.versus else None]
            missing = [a for a in named if a and a not in arms]
            if missing:
                rows.append({**row, **_empty(), "verdict": NOT_RUN, "reason": "arm not in the quick version"})
                continue
            stats = measure(check, found, runs, arm)
            verdict, reason = judge(check, stats)
            rows.append({**row, **stats, "verdict": verdict, "reason": reason})
    return pd.DataFrame(rows)


def _arms_of(check: Check, found: Plan) -> list[str]:
    if check.kind == "slope":
        return ["(all with x)"]
    return list(check.arm) if check.arm else [found.reference]


def _versus_text(check: Check) -> str:
    if check.versus is None:
        return ""
    return f"arm {check.versus.arm}" if check.versus.arm is not None else f"scheme {check.versus.scheme}"


def _empty() -> dict:
    return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}


def measure(check: Check, found: Plan, runs: pd.DataFrame, arm: str) -> dict:
    """The check's value in ``arm``: mean, ci_low, ci_high, n (replications used)."""
    if check.kind == "slope":
        return _pick(slope_stats(check.metric, check.scheme, found, runs))
    mine = part(runs, arm, check.scheme)
    if check.kind == "level":
        return _pick(level_and_difference(check.metric, mine, mine)[0])
    assert check.versus is not None  # the spec's validation ensures it
    other = (
        part(runs, check.versus.arm, check.scheme)
        if check.versus.arm is not None
        else part(runs, arm, str(check.versus.scheme))
    )
    return _pick(level_and_difference(check.metric, *_paired(mine, other))[1])


def part(runs: pd.DataFrame, arm: str, scheme: str) -> pd.DataFrame:
    """The rows of one arm and scheme, by replication."""
    return runs[(runs.arm == arm) & (runs.scheme == scheme)].sort_values("replication")


def _paired(mine: pd.DataFrame, other: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The two sets of rows on the replications both hold, in the same order."""
    common = sorted(set(mine.replication) & set(other.replication))
    return mine[mine.replication.isin(common)], other[other.replication.isin(common)]


def slope_stats(metric: str, scheme: str, found: Plan, runs: pd.DataFrame) -> dict:
    """Least-squares slope of ``metric`` on the arms' x, per replication (metric units per unit of
    x), and its mean and 95% CI over replications."""
    axis = {a.name: float(a.x) for a in found.arms if a.x is not None}
    rows = runs[(runs.scheme == scheme) & runs.arm.isin(list(axis))]
    slopes: list[float | None] = []
    for _, rep in rows.groupby("replication", sort=True):
        x = rep.arm.map(axis).to_numpy(dtype=float)
        y = pd.to_numeric(rep[metric], errors="coerce").to_numpy(dtype=float)
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.sum() >= 2 and np.ptp(x[keep]) > 0:
            slopes.append(float(np.polyfit(x[keep], y[keep], 1)[0]))
    return replication_stats(slopes)


def _pick(stats: dict) -> dict:
    out = {key: stats.get(key) for key in ("mean", "ci_low", "ci_high", "n")}
    if stats.get("reason"):
        out["why_no_value"] = stats["reason"]
    return out


def judge(check: Check, stats: dict) -> tuple[str, str]:
    """(verdict, reason) of a measured check."""
    mean, low, high = (_finite(stats.get(k)) for k in ("mean", "ci_low", "ci_high"))
    if mean is None:
        return FAIL, str(stats.get("why_no_value") or "no finite value")
    if check.expect == "within":
        inside = (check.low is None or mean >= check.low) and (check.high is None or mean <= check.high)
        return (PASS, "") if inside else (FAIL, "the mean lies outside the expected range")
    if low is None or high is None:
        why = stats.get("why_no_value") or "fewer than two replications with a value"
        return FAIL, f"no confidence interval ({why})"
    material = check.min_effect or 0.0
    if check.expect == "positive":
        if low <= 0:
            return FAIL, "the 95% CI reaches 0 or below"
        return (PASS, "") if mean >= material else (FAIL, f"the mean is below the material size {material:g}")
    if check.expect == "negative":
        if high >= 0:
            return FAIL, "the 95% CI reaches 0 or above"
        return (
            (PASS, "")
            if mean <= -material
            else (FAIL, f"the mean is above -{material:g}, too small to matter")
        )
    assert check.value is not None  # the spec's validation ensures it
    inside = low <= check.value <= high
    return (PASS, "") if inside else (FAIL, f"the 95% CI does not contain {check.value:g}")


def rule_text(check: Check, fmt: Callable[[float], str] = "{:g}".format) -> str:
    """How the check passes, in words; ``fmt`` writes its bounds."""
    if check.expect in ("positive", "negative"):
        positive = check.expect == "positive"
        text = f"95% CI {'above' if positive else 'below'} 0"
        if check.min_effect:
            bound = check.min_effect if positive else -check.min_effect
            text += f" and mean {'>=' if positive else '<='} {fmt(bound)}"
        return text
    if check.expect == "covers":
        return f"95% CI contains {fmt(float(check.value or 0.0))}"
    bounds = [
        f">= {fmt(check.low)}" if check.low is not None else "",
        f"<= {fmt(check.high)}" if check.high is not None else "",
    ]
    return "mean " + " and ".join(b for b in bounds if b)


def _bound_format(check: Check) -> Callable[[float], str]:
    """Bounds in the metric's units (money in Rp, shares in percent); a slope of IDR on IDR, such
    as a pass-through, stays a plain number."""
    kind = registry.BY_NAME[check.metric].kind

    def fmt(value: float) -> str:
        plain = check.kind == "slope" and kind == "idr" and abs(value) < 1000
        return format_value(value, "number" if plain else kind, signed=check.kind != "level" and value != 0)

    return fmt


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None
