"""``run.py decompose``: which modelling asymmetry decides the voucher-tender gap.

The scenario as written is run, then run again with one asymmetry removed at a time, in a fixed
order (:data:`FACTORS`), every configuration on the same replication seeds (common random
numbers), so that each factor's contribution to the gap comes with a paired confidence interval
(:mod:`simulation.reporting.decomposition` has the arithmetic). A factor is removed by scenario
overrides (``KEY.PATH=VALUE``, as ``--set``), listed in :data:`FACTORS` and written to
``decomposition.csv``; the last two factors (the lottery's error, and who is measured) are changes
of measurement only. What is simulated: quality shading, course length and mode, the cash channel,
cash payments and the tender's supply response (five factors, 2^5 configurations for Shapley).

The order matters when factors interact (the later one is credited with the interaction); the
order is fixed and documented, and ``--shapley`` also reports each factor's average contribution
over every order (2^K simulated configurations for K scenario factors).

Outputs (one folder, written atomically): ``decomposition.csv`` (one row per step and question),
``shapley.csv`` (with ``--shapley``), ``runs.csv`` (every configuration, replication and scheme,
the metrics used), ``waterfall.png`` and ``provenance.json``.
"""

from __future__ import annotations

import copy
import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.config.scenario import ScenarioError, validate
from simulation.experiments.paired import build_scenario, run_tasks
from simulation.reporting import decomposition as dec
from simulation.reporting.compare import replication_seeds
from simulation.reporting.outputs import write_folder

METRICS = (
    *dec.EFFECTS,
    *dec.COST,
    dec.COST_NET[0],
    "cost_per_additional_job_idr",
    "participants_offered",
    "itt_offered_covered_share",
    "mean_shading",
    "cash_paid_idr",
    "budget_absorption",
)


@dataclass(frozen=True)
class Factor:
    """One difference between the schemes as modelled, and the overrides that remove it."""

    name: str
    label: str  # short, for tables and the figure
    removes: str  # what removing it means, for the README and the CSV
    overrides: tuple[str, ...]  # KEY.PATH=VALUE; empty for a measurement (lottery, population)


FACTORS: tuple[Factor, ...] = (
    Factor(
        "shading",
        "quality shading",
        "no provider shades quality under either scheme: nothing is saved by shading, so every "
        "provider delivers its course's potential quality (removes the mechanism; the asymmetry it "
        "carries is the cost of quality, far higher per trainee offline than online)",
        (
            "providers.quality_saving_idr.online=0",
            "providers.quality_saving_idr.offline=0",
            "providers.quality_saving_idr.hybrid=0",
        ),
    ),
    Factor(
        "skill",
        "course length and mode",
        "skill ignores course hours and mode: a 6-hour webinar teaches as much as a 140-hour "
        "residential course (the same rule serves both schemes; what differs is what each buys)",
        (
            "skill.hours_elasticity=0",
            "skill.mode_factor.online=1",
            "skill.mode_factor.offline=1",
            "skill.mode_factor.hybrid=1",
        ),
    ),
    Factor(
        "cash_channel",
        "cash channel",
        "cash still paid, but it no longer affects employment (no liquidity effect on business "
        "starts or job search); the incentive still motivates completion",
        ("labour.cash_business_effect=0", "labour.cash_search_effect=0"),
    ),
    Factor(
        "cash_payments",
        "cash payments",
        "neither scheme pays cash: no voucher incentive or surveys, no tender allowance (less "
        "spending, and no incentive or allowance to complete)",
        ("voucher.incentive.amount_idr=0", "voucher.survey.amount_idr=0", "tender.allowance_idr=0"),
    ),
    Factor(
        "capacity",
        "supply response",
        "tender supply as elastic as the online market's: centres add capacity (up to 10x a cycle) "
        "and private centres open at no cost and at once, public centres unbound by their budget",
        (
            "tender.max_expansion_share=10",
            "tender.public_expansion_share=1",
            "tender.capacity_cost_idr=0",
            "tender.capacity_lead_weeks=0",
            "tender.entry.cost_idr=0",
            "tender.entry.lead_weeks=0",
        ),
    ),
    Factor(
        dec.LOTTERY,
        "lottery error",
        "the effect measured by what the lottery's ITT estimates (the twins' effect with the ITT's "
        "strata and weights) instead of the ITT itself: removes the evaluation's sampling error",
        (),
    ),
    Factor(
        dec.POPULATION,
        "who is measured",
        "the effect on everyone offered (the twins), instead of on the offered in lottery strata "
        "that also hold a comparison group, weighted as the ITT weighs them",
        (),
    ),
)


@dataclass
class Decomposition:
    """A finished decomposition: the tables and every run behind them."""

    steps: pd.DataFrame  # decomposition.csv
    shapley: pd.DataFrame | None  # shapley.csv
    runs: pd.DataFrame  # runs.csv
    seeds: list[int]
    factors: tuple[Factor, ...]


def factor_names(factors: Sequence[Factor] = FACTORS) -> list[str]:
    return [f.name for f in factors]


def configurations(factors: Sequence[Factor], shapley: bool) -> list[dec.Configuration]:
    """The configurations to simulate (measurements need none of their own): the sequential path,
    or every subset of the scenario factors with ``shapley``; in a fixed order."""
    names = [f.name for f in factors if f.name not in dec.MEASUREMENTS]
    if shapley:
        subsets = [frozenset(c) for k in range(len(names) + 1) for c in itertools.combinations(names, k)]
    else:
        subsets = [frozenset(names[:k]) for k in range(len(names) + 1)]
    return list(dict.fromkeys(subsets))


def overrides_of(configuration: dec.Configuration, factors: Sequence[Factor]) -> list[str]:
    """The overrides that remove the factors of ``configuration``, in the factors' order."""
    return [o for f in factors if f.name in configuration for o in f.overrides]


def check(raw: dict, source: str, factors: Sequence[Factor] = FACTORS) -> None:
    """Refuse, before anything runs, a scenario that cannot be decomposed: it must define both
    schemes, and every configuration must validate. ScenarioError names the file and the key."""
    scenario = validate(copy.deepcopy(raw), source=source)
    missing = [s for s in dec.SCHEMES if s not in scenario.scheme_names]
    if missing:
        raise ScenarioError(
            f"{source}: decompose compares the voucher with the tender; it has no {missing[0]!r} block"
        )
    for configuration in configurations(factors, shapley=True):
        build_scenario(raw, source, overrides_of(configuration, factors))


def decompose(
    raw: dict,
    source: str,
    replications: int,
    seed: int,
    shapley: bool = False,
    factors: Sequence[Factor] = FACTORS,
    client: Any = None,
    progress: bool = False,
) -> Decomposition:
    """Run every configuration on ``replications`` seeds derived from ``seed`` and decompose.

    ``raw`` is the scenario mapping (with the user's overrides applied), ``source`` its file for
    messages; ``client`` a ``distributed.Client`` (None: in this process). Each run is a pure
    function of its configuration and seed, so the results do not depend on where it ran."""
    seeds = replication_seeds(seed, replications)
    configs = configurations(factors, shapley)
    tasks = [(tuple(overrides_of(c, factors)), s) for c in configs for s in seeds]
    results = run_tasks(raw, source, tasks, dec.SCHEMES, METRICS, client, progress, "decompose")
    n = len(seeds)
    runs = {c: results[k * n : (k + 1) * n] for k, c in enumerate(configs)}
    names = factor_names(factors)
    steps = steps_table(dec.sequential(names), runs, names, "sequential")
    table_shapley = steps_table(dec.shapley(names), runs, names, "shapley") if shapley else None
    return Decomposition(steps, table_shapley, _runs_table(runs, seeds, factors), seeds, tuple(factors))


def steps_table(
    contributions: list[tuple[str, dec.Combination]],
    runs: dict[dec.Configuration, list[dict]],
    names: list[str],
    method: str,
) -> pd.DataFrame:
    """One row per question and line: the gap as written, each factor's contribution, the gap
    with every factor removed."""
    everything = frozenset(names)
    lines = [("as written", dec.level(())), *contributions, ("level field", dec.level(everything))]
    rows = []
    questions = (
        ("effect", dec.effect_stats, "pp per person offered"),
        ("cost_per_additional_job", dec.cost_stats, "IDR"),
        ("cost_per_additional_job_net_of_cash", functools.partial(dec.cost_stats, cost=dec.COST_NET), "IDR"),
    )
    for question, stats_of, unit in questions:
        for k, (line, combination) in enumerate(lines):
            stats = stats_of(combination, runs)
            kind = "gap" if k in (0, len(lines) - 1) else "contribution"
            rows.append(
                {
                    "method": method,
                    "question": question,
                    "unit": unit,
                    "line": line,
                    "kind": kind,
                    "mean": stats["mean"],
                    "ci_low": stats["ci_low"],
                    "ci_high": stats["ci_high"],
                    "sd": stats["sd"],
                    "replications": stats["n"],
                    "reason": stats.get("reason", ""),
                }
            )
    return pd.DataFrame(rows)


def _runs_table(runs: dict, seeds: list[int], factors: Sequence[Factor]) -> pd.DataFrame:
    rows = []
    for configuration, replications in runs.items():
        removed = "+".join(f.name for f in factors if f.name in configuration) or "none"
        for r, found in enumerate(replications):
            for scheme, metrics in found.items():
                rows.append(
                    {"removed": removed, "replication": r, "seed": seeds[r], "scheme": scheme, **metrics}
                )
    return pd.DataFrame(rows)


def factors_table(factors: Sequence[Factor] = FACTORS) -> pd.DataFrame:
    """The factors in their order, what removing each means and its overrides."""
    return pd.DataFrame(
        [
            {"order": k + 1, "factor": f.name, "removes": f.removes, "overrides": "; ".join(f.overrides)}
            for k, f in enumerate(factors)
        ]
    )


def waterfall(result: Decomposition, method: str = "sequential"):
    """Waterfall of the gap: as written, each factor's contribution (with its 95% CI), level field;
    one panel per question."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.steps if method == "sequential" else result.shapley
    if table is None:
        raise ValueError(f"no {method} table")
    panels = (
        ("effect", 1.0, "pp per person offered"),
        ("cost_per_additional_job", 1e6, "Rp million"),
        ("cost_per_additional_job_net_of_cash", 1e6, "Rp million"),
    )
    fig, axes = plt.subplots(1, len(panels), figsize=(18, 5))
    for ax, (question, scale, unit) in zip(axes, panels, strict=True):
        part = table[table.question == question].reset_index(drop=True)
        _waterfall_panel(ax, part, scale)
        ax.set_title(f"voucher - tender: {question.replace('_', ' ')}")
        ax.set_ylabel(unit)
    fig.suptitle(f"Decomposition of the gap ({method}; bars: 95% CI over {len(result.seeds)} replications)")
    fig.tight_layout()
    return fig


def _waterfall_panel(ax, part: pd.DataFrame, scale: float) -> None:
    running = 0.0
    labels = []
    for k, row in part.iterrows():
        mean = np.nan if row["mean"] is None else float(row["mean"]) / scale
        low = np.nan if row["ci_low"] is None else float(row["ci_low"]) / scale
        high = np.nan if row["ci_high"] is None else float(row["ci_high"]) / scale
        labels.append(str(row["line"]))
        if row["kind"] == "gap":
            ax.bar(k, mean, color="#4c72b0")
            centre = mean
            running = mean
        else:
            bottom = running
            ax.bar(k, mean, bottom=bottom, color="#55a868" if mean >= 0 else "#c44e52")
            centre = bottom + mean
            running = centre if np.isfinite(centre) else running
        if np.isfinite(low) and np.isfinite(high):  # the interval of the bar's own length
            ax.errorbar(k, centre, yerr=[[mean - low], [high - mean]], color="black", capsize=3)
        if np.isfinite(mean):
            ax.annotate(f"{mean:+.3g}", (k, centre), textcoords="offset points", xytext=(8, 2), fontsize=8)
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")


def write(
    result: Decomposition, out_dir: Path, provenance: dict, unique: bool, staging: Path | None = None
) -> Path:
    """Write the decomposition's files into ``out_dir`` atomically (never over earlier results)."""

    def files(folder: Path) -> None:
        table = result.steps.merge(
            factors_table(result.factors).rename(columns={"factor": "line"}), on="line", how="left"
        )
        table.to_csv(folder / "decomposition.csv", index=False)
        result.runs.to_csv(folder / "runs.csv", index=False)
        waterfall(result).savefig(folder / "waterfall.png", dpi=120)
        if result.shapley is not None:
            result.shapley.to_csv(folder / "shapley.csv", index=False)
            waterfall(result, "shapley").savefig(folder / "waterfall_shapley.png", dpi=120)

    return write_folder(out_dir, files, provenance, unique, staging)


def format_steps(result: Decomposition) -> str:
    """The decomposition as a console table."""
    lines = []
    for question, fmt in (
        ("effect", _pp),
        ("cost_per_additional_job", _idr),
        ("cost_per_additional_job_net_of_cash", _idr),
    ):
        lines.append(f"\n{question.replace('_', ' ')} (voucher - tender)")
        part = result.steps[result.steps.question == question]
        for _, row in part.iterrows():
            value = fmt(row["mean"])
            interval = (
                f"[{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"
                if row["ci_low"] is not None and not pd.isna(row["ci_low"])
                else (f"({row['reason']})" if row["reason"] else "")
            )
            lines.append(f"  {row['line']:<28} {value:>14} {interval}")
    return "\n".join(lines)


def _pp(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value:+.2f} pp"


def _idr(value) -> str:
    return "n/a" if value is None or pd.isna(value) else f"Rp{value / 1e6:+,.1f} m"
