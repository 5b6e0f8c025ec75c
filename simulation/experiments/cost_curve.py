"""``run.py curve``: additional jobs against money spent, for every scheme, across budget levels.

Each budget level multiplies every scheme's ``budget_idr`` by the same factor; every level runs on
the same replication seeds (common random numbers). For each scheme and level the curve reports
realised spending (``total_cost_idr``, real IDR: what left the treasury, not the budget), the
additional jobs at the endline (real jobs above the untreated twins) and the cost per additional
job (ratio of the means over replications, with Fieller's interval), each with a 95% confidence
interval over replications. Plotted as jobs against spending, two schemes can be compared at equal
spending wherever their curves overlap on the spending axis, whatever their budgets.

A voucher selects as many recipients as its budget pays for, up to the scenario's intake
(``size``), so above the stated budget its curve stops growing; a tender spends what its
contractors' capacity lets it, so its spending can stay below its budget at every level (budget
absorption).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.config.scenario import ScenarioError, validate
from simulation.experiments.paired import build_scenario, run_tasks
from simulation.reporting.compare import ratio_stats, replication_seeds, replication_stats
from simulation.reporting.outputs import write_folder

MULTIPLIERS = (0.25, 0.5, 1.0)
METRICS = ("total_cost_idr", "additional_jobs", "participants_trained", "true_effect_offered_pp")


def level_overrides(raw: dict, schemes: Sequence[str], multiplier: float) -> tuple[str, ...]:
    """Overrides setting every scheme's budget to ``multiplier`` x its stated budget (IDR)."""
    return tuple(f"{s}.budget_idr={multiplier * float(raw[s]['budget_idr'])!r}" for s in schemes)


def check(raw: dict, source: str, multipliers: Sequence[float]) -> list[str]:
    """The scenario's schemes, after checking that every budget level validates (ScenarioError
    names the file and the key otherwise)."""
    schemes = list(validate(raw, source=source).scheme_names)
    for m in multipliers:
        if not (np.isfinite(m) and m > 0):
            raise ScenarioError(f"{source}: --budgets: each multiplier must be a positive number (got {m!r})")
        build_scenario(raw, source, level_overrides(raw, schemes, m))
    return schemes


def curve(
    raw: dict,
    source: str,
    multipliers: Sequence[float],
    replications: int,
    seed: int,
    client: Any = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(curve table, tidy runs) over ``multipliers`` and ``replications`` seeds from ``seed``."""
    schemes = check(raw, source, multipliers)
    seeds = replication_seeds(seed, replications)
    levels = [(m, s) for m in multipliers for s in seeds]
    tasks = [(level_overrides(raw, schemes, m), s) for m, s in levels]
    results = run_tasks(raw, source, tasks, schemes, METRICS, client, progress, "curve")
    rows = []
    for (m, s), found in zip(levels, results, strict=True):
        for scheme, metrics in found.items():
            budget = m * float(raw[scheme]["budget_idr"])
            rows.append({"multiplier": m, "seed": s, "scheme": scheme, "budget_idr": budget, **metrics})
    runs = pd.DataFrame(rows)
    return summarise(runs), runs


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """One row per scheme and budget level: means and 95% CIs over replications."""
    rows = []
    for (scheme, m), part in runs.groupby(["scheme", "multiplier"], sort=False):
        spent = replication_stats(part["total_cost_idr"].tolist())
        jobs = replication_stats(part["additional_jobs"].tolist())
        cost = ratio_stats([part["total_cost_idr"].tolist()], [part["additional_jobs"].tolist()], [1.0])
        rows.append(
            {
                "scheme": scheme,
                "multiplier": m,
                "budget_idr": float(part["budget_idr"].iloc[0]),
                "spent_idr": spent["mean"],
                "spent_ci_low": spent["ci_low"],
                "spent_ci_high": spent["ci_high"],
                "budget_absorption": spent["mean"] / float(part["budget_idr"].iloc[0]),
                "additional_jobs": jobs["mean"],
                "additional_jobs_ci_low": jobs["ci_low"],
                "additional_jobs_ci_high": jobs["ci_high"],
                "cost_per_additional_job_idr": cost["mean"],
                "cost_ci_low": cost["ci_low"],
                "cost_ci_high": cost["ci_high"],
                "cost_undefined": cost.get("reason", ""),
                "replications": spent["n"],
            }
        )
    return pd.DataFrame(rows)


def figure(table: pd.DataFrame):
    """Additional jobs (thousands) against money spent (Rp trillion), one line per scheme, with 95%
    CIs on both axes; each point labelled with its budget multiplier."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for scheme, part in table.groupby("scheme", sort=False):
        part = part.sort_values("spent_idr")
        x, y = part["spent_idr"] / 1e12, part["additional_jobs"] / 1e3
        xerr = _err(part, "spent_idr", "spent_ci", 1e12)
        yerr = _err(part, "additional_jobs", "additional_jobs_ci", 1e3)
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, marker="o", capsize=3, label=scheme)
        for xi, yi, m in zip(x, y, part["multiplier"], strict=True):
            ax.annotate(f"x{m:g}", (xi, yi), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xlabel("money spent (Rp trillion)")
    ax.set_ylabel("additional jobs at the endline (thousands)")
    ax.set_title("Cost-effectiveness: jobs against spending (labels: budget multiplier)")
    ax.legend()
    fig.tight_layout()
    return fig


def _err(part: pd.DataFrame, mean: str, ci: str, scale: float) -> np.ndarray | None:
    low, high = part[f"{ci}_low"].astype(float), part[f"{ci}_high"].astype(float)
    if low.isna().any() or high.isna().any():
        return None
    return np.vstack([part[mean] - low, high - part[mean]]) / scale


def write(
    table: pd.DataFrame, runs: pd.DataFrame, out_dir: Path, provenance: dict, unique: bool, staging=None
):
    """Write curve.csv, runs.csv, cost_curve.png and provenance.json atomically."""

    def files(folder: Path) -> None:
        table.to_csv(folder / "curve.csv", index=False)
        runs.to_csv(folder / "runs.csv", index=False)
        figure(table).savefig(folder / "cost_curve.png", dpi=120)

    return write_folder(out_dir, files, provenance, unique, staging)


def format_curve(table: pd.DataFrame) -> str:
    """The curve as a console table."""
    lines = [f"{'scheme':<9} {'budget':>10} {'spent':>10} {'absorbed':>9} {'add. jobs':>12} {'cost/job':>12}"]
    for _, r in table.iterrows():
        cost = (
            "n/a"
            if pd.isna(r["cost_per_additional_job_idr"])
            else f"Rp{r['cost_per_additional_job_idr'] / 1e6:,.0f} m"
        )
        lines.append(
            f"{r['scheme']:<9} Rp{r['budget_idr'] / 1e12:>6.2f} T Rp{r['spent_idr'] / 1e12:>6.2f} T "
            f"{r['budget_absorption']:>9.0%} {r['additional_jobs']:>12,.0f} {cost:>12}"
        )
    return "\n".join(lines)
