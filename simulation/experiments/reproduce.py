"""``run.py reproduce NAME``: run a named experiment and write its report.

The experiment (:mod:`simulation.experiments.experiment`) becomes a list of runs, one per arm and
replication on common random numbers, executed by the sweep machinery
(:func:`simulation.experiments.execute.execute`): in this process or on Dask (``--workers``),
each finished run stored at once, so that the same command resumes an interrupted experiment.
From the stored runs the report is made:

    <folder>/report.md        the question, the set-up, the checks (expectation, measured value
                              with its 95% CI, pass or fail, source), the results and figures
    <folder>/checks.csv       the checks table
    <folder>/summary.csv      every arm, scheme and metric: mean, 95% CI, paired difference from
                              the reference arm and its CI
    <folder>/runs.csv         every arm, replication and scheme (tidy)
    <folder>/figures/*.png    the figures the report shows
    <folder>/manifest.json, runs/   the sweep store (the runs, resumable)

The report is a function of the stored runs: making it again gives the same files, so it is
rewritten in place (each file atomically) when the same command runs again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.experiments import checks as ch
from simulation.experiments.execute import Design, SweepResult, execute
from simulation.experiments.experiment import Experiment, Plan, decompose_arm_name, plan
from simulation.experiments.spec import RunSpec
from simulation.experiments.store import ResultStore
from simulation.experiments.variants import level_and_difference
from simulation.reporting import registry
from simulation.reporting.compare import replication_seeds
from simulation.reporting.outputs import git_commit, package_versions

FORMAT = 1  # bump when the meaning of a fingerprinted field changes
HEADLINE = ("true_effect_offered_pp", "additional_jobs", "total_cost_idr", "cost_per_additional_job_idr")
MAX_TABLE_METRICS = 8  # columns of the report's results table


@dataclass
class Reproduction:
    """A finished (or partly failed) experiment: where, the runs' outcome, and the tables."""

    folder: Path
    sweep: SweepResult
    checks: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None

    @property
    def ok(self) -> bool:
        return self.sweep.ok


def default_folder(experiment: Experiment, quick: bool) -> Path:
    """``results/experiments/<name>`` (``<name>-quick`` for the quick version)."""
    return Path("results") / "experiments" / (experiment.name + ("-quick" if quick else ""))


def run_specs(experiment: Experiment, found: Plan) -> list[RunSpec]:
    """One run per arm and replication: replication r has the same seed in every arm."""
    seeds = replication_seeds(experiment.seed, found.replications)
    return [
        RunSpec(
            run_id=point * found.replications + r,
            point=point,
            replication=r,
            values={},
            seed=seed,
            arm=arm.name,
            settings=tuple(arm.overrides),
            schemes=found.schemes_of(arm),
        )
        for point, arm in enumerate(found.arms)
        for r, seed in enumerate(seeds)
    ]


def collected_metrics(experiment: Experiment) -> list[str]:
    """Every metric the report needs, with the parts of each ratio."""
    names = [*experiment.all_metrics, *HEADLINE, *_view_metrics(experiment)]
    out = list(names)
    for name in names:
        out.extend(registry.BY_NAME[name].ratio or ())
    return list(dict.fromkeys(out))


def _view_metrics(experiment: Experiment) -> tuple[str, ...]:
    kind = experiment.design.kind
    if kind == "decompose":
        from simulation.experiments.decompose import METRICS as decompose_metrics

        return tuple(decompose_metrics)
    if kind == "budgets":
        from simulation.experiments.cost_curve import METRICS as curve_metrics

        return tuple(curve_metrics)
    if kind == "variants":
        from simulation.experiments.variants import METRICS as variant_metrics

        return tuple(variant_metrics)
    return ()


def fingerprint(experiment: Experiment, found: Plan, metrics: list[str]) -> str:
    """sha256 of what determines the runs: the base scenario with its fixed overrides, the arms,
    schemes, metrics (in the order collected: checks' metrics first), seed and replications. Not
    the checks' rules, expectations or sources, the title or the notes: they make the report only,
    so editing them and running the same command rewrites the report from the stored runs."""
    content = {
        "format": FORMAT,
        "base": found.raw,
        "arms": [[a.name, list(a.overrides), list(found.schemes_of(a))] for a in found.arms],
        "schemes": list(found.schemes),
        "metrics": metrics,
        "seed": experiment.seed,
        "replications": found.replications,
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reproduce(
    experiment: Experiment,
    quick: bool = False,
    folder: Path | str | None = None,
    executor: Any = None,
    progress: bool = False,
    command: str = "",
) -> Reproduction:
    """Run (or resume) the experiment into ``folder`` and, if every run finished, write the report."""
    found = plan(experiment, quick)
    folder = Path(folder) if folder is not None else default_folder(experiment, quick)
    metrics = collected_metrics(experiment)
    runs = run_specs(experiment, found)
    design = Design(
        label=experiment.name + (" (quick)" if quick else ""),
        runs=runs,
        fingerprint=fingerprint(experiment, found, metrics),
        manifest={
            "experiment": experiment.model_dump(mode="json"),
            "quick": quick,
            "runs": len(runs),
            "seeds": [run.seed for run in runs],
            "packages": package_versions(),
            "git_commit": git_commit(),
        },
        base_raw=found.raw,
        source=str(experiment.base),
        fixed=[],
        schemes=list(found.schemes),
        metrics=metrics,
    )
    outcome = execute(design, folder, executor, progress)
    if not outcome.ok:
        return Reproduction(folder, outcome)
    table = with_reused(ResultStore(folder).load(), found)
    checks = ch.evaluate(experiment, found, table)
    summary = summarise(experiment, found, table)
    from simulation.experiments.report import write_report

    write_report(experiment, found, folder, table, checks, summary, command)
    return Reproduction(folder, outcome, checks, summary)


def with_reused(runs: pd.DataFrame, found: Plan) -> pd.DataFrame:
    """The runs, with the schemes an arm does not run taken from the reference arm's runs on the
    same seeds (a variant that changes only the voucher's blocks leaves the tender's runs as they
    are: :mod:`simulation.experiments.variants` checks it); a ``reused`` column says which."""
    runs = runs.assign(reused=False)
    reference = runs[runs.arm == found.reference]
    extra = []
    for arm in found.arms:
        for scheme in found.schemes:
            if scheme in found.schemes_of(arm):
                continue
            rows = reference[reference.scheme == scheme].copy()
            rows["arm"], rows["reused"] = arm.name, True
            extra.append(rows)
    if extra:
        runs = pd.concat([runs, *extra], ignore_index=True)
    order = {a.name: k for k, a in enumerate(found.arms)}
    keys = runs.arm.map(order).to_numpy() * 10**6 + runs.replication.to_numpy()
    return runs.iloc[np.argsort(keys, kind="stable")].reset_index(drop=True)


def summarise(experiment: Experiment, found: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    """One row per arm, scheme and metric: the mean and 95% CI over replications, and the paired
    difference from the reference arm with its CI (ratios: ratio of means, delta-method CI)."""
    rows = []
    names = list(dict.fromkeys([*experiment.all_metrics, *HEADLINE]))
    for arm in found.arms:
        for scheme in found.schemes:
            mine = ch.part(runs, arm.name, scheme)
            ref = ch.part(runs, found.reference, scheme)
            for name in names:
                undefined = name not in mine or pd.to_numeric(mine[name], errors="coerce").isna().all()
                if undefined and not registry.BY_NAME[name].ratio:
                    continue  # not defined for this scheme
                level, diff = level_and_difference(name, mine, ref)
                if level["mean"] is None or not np.isfinite(level["mean"]):
                    continue
                rows.append(
                    {
                        "arm": arm.name,
                        "label": arm.title,
                        "x": arm.x,
                        "scheme": scheme,
                        "metric": name,
                        "unit": registry.BY_NAME[name].unit,
                        "mean": level["mean"],
                        "ci_low": level["ci_low"],
                        "ci_high": level["ci_high"],
                        "sd": level.get("sd"),
                        "replications": level["n"],
                        "diff_vs_reference": None if arm.name == found.reference else diff["mean"],
                        "diff_ci_low": None if arm.name == found.reference else diff["ci_low"],
                        "diff_ci_high": None if arm.name == found.reference else diff["ci_high"],
                        "reused_from_reference": bool(mine["reused"].all()) if len(mine) else False,
                    }
                )
    return pd.DataFrame(rows)


def decomposition_runs(found: Plan, runs: pd.DataFrame) -> dict:
    """The runs as :mod:`simulation.experiments.decompose` holds them: for each configuration (the
    factors removed), one ``{scheme: {metric: value}}`` per replication."""
    from simulation.experiments.decompose import FACTORS, configurations

    ran = {a.name for a in found.arms}
    out = {}
    for configuration in configurations(FACTORS, shapley=True):  # every subset; keep those that ran
        name = decompose_arm_name(configuration)
        if name not in ran:
            continue
        part = runs[runs.arm == name]
        replications = []
        for _, rep in part.groupby("replication", sort=True):
            replications.append({row["scheme"]: row.to_dict() for _, row in rep.iterrows()})
        out[configuration] = replications
    return out


def write_atomic(path: Path, write: Callable[[Path], None]) -> None:
    """Write a file through ``write(temporary path)`` and rename it into place in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temp))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
