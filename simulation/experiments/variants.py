"""``run.py variants``: one scenario under named sets of overrides, compared on paired seeds.

A variants file (YAML) names configurations of one scenario, each a list of ``KEY.PATH=VALUE``
overrides (as ``--set``): e.g. 2020 without gaming, 2020 with gaming, and 2020 with gaming plus
each control a ministry can switch on. Every variant runs on the same replication seeds (common
random numbers), so its difference from the ``reference`` variant is paired replication by
replication, with a 95% confidence interval; so is each variant's gap to the other scheme.

A variant may run only some schemes (``schemes: [voucher]``) when its overrides touch only blocks
the other schemes never read (:data:`SCHEME_BLOCKS`); the schemes it does not run are taken from
the reference variant's runs on the same seeds, which are what they would have given (checked
when the file is loaded, so that no comparison rests on a reuse that is not exact).

Outputs (one folder, written atomically, never over earlier results): ``variants.csv`` (one row
per variant, scheme and metric: mean and CI, the paired difference from the reference and its
CI), ``runs.csv`` (every variant, replication and scheme), ``variants.png`` and
``provenance.json``.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import Field, ValidationError, model_validator

from simulation.config.scenario import Frozen, ScenarioError, SchemeName, read_yaml, validate
from simulation.experiments.paired import build_scenario, run_tasks
from simulation.reporting import registry
from simulation.reporting.compare import ratio_stats, replication_seeds, replication_stats
from simulation.reporting.outputs import write_folder

# Top-level scenario blocks only one scheme reads: a variant whose overrides all lie in the blocks
# of the schemes it runs leaves the other schemes' runs unchanged (tests/test_variants.py checks it).
SCHEME_BLOCKS: dict[str, tuple[str, ...]] = {
    "voucher": ("voucher", "choice", "ratings", "platforms", "pricing"),
    "tender": ("tender",),
}

# Tabulated for every variant (with the file's own ``metrics``).
METRICS = (
    "true_effect_offered_pp",
    "itt_employment_pp",
    "itt_self_employment_pp",
    "additional_jobs",
    "total_cost_idr",
    "cash_paid_idr",
    "cost_per_additional_job_idr",
    "cost_per_additional_job_net_of_cash_idr",
    "mean_true_quality_enrolled",
    "completion_rate",
)


class Variant(Frozen):
    """One named configuration: overrides of the scenario, and the schemes it runs."""

    name: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+-]+$")]
    label: str = Field("", description="short label for tables and the figure (default: the name)")
    overrides: tuple[str, ...] = Field((), description="KEY.PATH=VALUE, as --set")
    schemes: tuple[SchemeName, ...] | None = Field(
        None, description="schemes to run (default: every scheme of the scenario)"
    )

    @property
    def title(self) -> str:
        return self.label or self.name


class VariantsSpec(Frozen):
    """A variants file: the variants, the one the others are compared with, extra metrics."""

    description: str = ""
    reference: str = Field(description="name of the variant the others are compared with")
    metrics: tuple[str, ...] = Field(
        (), description="registered metrics to tabulate besides the default ones"
    )
    variants: tuple[Variant, ...] = Field(min_length=2, max_length=64)

    @model_validator(mode="after")
    def _names(self) -> VariantsSpec:
        names = [v.name for v in self.variants]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"variants: the name {repeated[0]!r} is used twice")
        if self.reference not in names:
            raise ValueError(f"reference: {self.reference!r} is not one of the variants ({', '.join(names)})")
        unknown = [m for m in self.metrics if m not in registry.BY_NAME]
        if unknown:
            raise ValueError(f"metrics: {unknown[0]!r} is not a registered metric")
        ref = self.variant(self.reference)
        if ref.schemes is not None:
            raise ValueError("reference: the reference variant runs every scheme (no 'schemes:' list)")
        return self

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    @property
    def all_metrics(self) -> list[str]:
        return list(dict.fromkeys((*METRICS, *self.metrics)))


@dataclass
class Comparison:
    """A finished comparison: the summary, every run, the seeds."""

    table: pd.DataFrame  # variants.csv
    runs: pd.DataFrame  # runs.csv
    seeds: list[int]
    spec: VariantsSpec


def load_variants(path: Path) -> VariantsSpec:
    """Read and validate a variants file; ScenarioError names the file and the key."""
    raw = read_yaml(path, what="variants file")
    try:
        return VariantsSpec.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ScenarioError(f"{path}: {where + ': ' if where else ''}{message}") from None


def check(raw: dict, source: str, spec: VariantsSpec, spec_source: str) -> list[str]:
    """The scenario's schemes, after checking every variant: its overrides give a valid scenario,
    its schemes are the scenario's, and a variant that runs only some schemes changes only their
    blocks. ScenarioError names the file and the key."""
    schemes = list(validate(copy.deepcopy(raw), source=source).scheme_names)
    for k, variant in enumerate(spec.variants):
        where = f"{spec_source}: variants.{k} ({variant.name})"
        try:
            build_scenario(raw, source, variant.overrides)
        except ScenarioError as err:
            raise ScenarioError(f"{where}: {err}") from None
        if variant.schemes is None:
            continue
        missing = [s for s in variant.schemes if s not in schemes]
        if missing:
            raise ScenarioError(f"{where}: schemes: the scenario has no {missing[0]!r} block")
        allowed = tuple(b for s in variant.schemes for b in SCHEME_BLOCKS.get(s, ()))
        for override in variant.overrides:
            block = override.split("=", 1)[0].strip().split(".", 1)[0]
            if block not in allowed:
                raise ScenarioError(
                    f"{where}: overrides: {override!r} changes the {block!r} block, which the schemes "
                    f"it does not run may read; run every scheme (drop 'schemes:')"
                )
    return schemes


def compare_variants(
    raw: dict,
    source: str,
    spec: VariantsSpec,
    replications: int,
    seed: int,
    client: Any = None,
    progress: bool = False,
    spec_source: str = "<variants>",
) -> Comparison:
    """Run every variant on ``replications`` seeds from ``seed`` and compare (in this process, or
    on a ``distributed.Client``); each run is a pure function of its configuration and seed."""
    schemes = check(raw, source, spec, spec_source)
    seeds = replication_seeds(seed, replications)
    metrics = _collected(spec.all_metrics)
    plan = [(v, tuple(v.schemes or schemes)) for v in spec.variants]
    groups: dict[tuple[str, ...], list[tuple[Variant, int]]] = {}
    for variant, runs_schemes in plan:
        groups.setdefault(runs_schemes, []).extend((variant, s) for s in seeds)
    found: dict[tuple[str, int], dict] = {}
    for runs_schemes, items in groups.items():
        tasks = [(v.overrides, s) for v, s in items]
        results = run_tasks(raw, source, tasks, runs_schemes, metrics, client, progress, "variants")
        for (v, s), result in zip(items, results, strict=True):
            found[(v.name, s)] = result
    rows = []
    for variant, _ in plan:
        for r, s in enumerate(seeds):
            result = {**found[(spec.reference, s)], **found[(variant.name, s)]}
            for scheme in schemes:
                ran = variant.schemes is None or scheme in variant.schemes
                rows.append(
                    {
                        "variant": variant.name,
                        "replication": r,
                        "seed": s,
                        "scheme": scheme,
                        "reused_from_reference": not ran,
                        **result[scheme],
                    }
                )
    runs = pd.DataFrame(rows)
    return Comparison(summarise(runs, spec, schemes), runs, seeds, spec)


def _collected(names: Sequence[str]) -> list[str]:
    """The metrics to collect: ``names`` and the parts of each ratio among them."""
    out = list(names)
    for name in names:
        ratio = registry.BY_NAME[name].ratio
        if ratio:
            out.extend(ratio)
    return list(dict.fromkeys(out))


def summarise(runs: pd.DataFrame, spec: VariantsSpec, schemes: Sequence[str]) -> pd.DataFrame:
    """One row per variant, scheme and metric: the mean and 95% CI over replications, and the
    paired difference from the reference variant (ratios: ratio of means, delta-method CI)."""
    rows = []
    reference = runs[runs.variant == spec.reference]
    for variant in spec.variants:
        part = runs[runs.variant == variant.name]
        for scheme in schemes:
            mine = part[part.scheme == scheme].sort_values("seed")
            ref = reference[reference.scheme == scheme].sort_values("seed")
            for name in spec.all_metrics:
                level, diff = level_and_difference(name, mine, ref)
                rows.append(
                    {
                        "variant": variant.name,
                        "label": variant.title,
                        "scheme": scheme,
                        "metric": name,
                        "unit": registry.BY_NAME[name].unit,
                        "mean": level["mean"],
                        "ci_low": level["ci_low"],
                        "ci_high": level["ci_high"],
                        "diff_vs_reference": diff["mean"],
                        "diff_ci_low": diff["ci_low"],
                        "diff_ci_high": diff["ci_high"],
                        "replications": level["n"],
                        "reason": level.get("reason") or diff.get("reason") or "",
                        "reused_from_reference": bool(mine["reused_from_reference"].all()),
                    }
                )
    return pd.DataFrame(rows)


def level_and_difference(name: str, mine: pd.DataFrame, ref: pd.DataFrame) -> tuple[dict, dict]:
    """(level, paired difference from the reference) of one metric."""
    ratio = registry.BY_NAME[name].ratio
    if ratio:
        num, den = ratio
        level = ratio_stats([mine[num].tolist()], [mine[den].tolist()], [1.0])
        diff = ratio_stats(
            [mine[num].tolist(), ref[num].tolist()], [mine[den].tolist(), ref[den].tolist()], [1.0, -1.0]
        )
        return level, diff
    values = pd.to_numeric(mine[name], errors="coerce").to_numpy(dtype=float)
    base = pd.to_numeric(ref[name], errors="coerce").to_numpy(dtype=float)
    return replication_stats(values.tolist()), replication_stats((values - base).tolist())


FIGURE_METRICS = (
    ("true_effect_offered_pp", 1.0, "true effect on the offered, pp"),
    ("cost_per_additional_job_idr", 1e6, "cost per additional job, Rp million"),
    ("total_cost_idr", 1e12, "total cost, Rp trillion"),
)


def figure(result: Comparison, scheme: str = "voucher"):
    """One panel per headline metric: each variant's mean with its 95% CI (``scheme``), the
    reference variant's value as a dashed line and the other schemes' as dotted lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = result.table
    labels = [v.title for v in result.spec.variants]
    fig, axes = plt.subplots(1, len(FIGURE_METRICS), figsize=(6 * len(FIGURE_METRICS), 0.5 * len(labels) + 2))
    for ax, (name, scale, title) in zip(axes, FIGURE_METRICS, strict=True):
        part = table[(table.metric == name) & (table.scheme == scheme)].set_index("variant")
        y = np.arange(len(labels))[::-1]
        for k, variant in enumerate(result.spec.variants):
            row = part.loc[variant.name]
            mean = _scaled(row["mean"], scale)
            low, high = _scaled(row["ci_low"], scale), _scaled(row["ci_high"], scale)
            colour = "#4c72b0" if variant.name != result.spec.reference else "#dd8452"
            ax.barh(y[k], mean, color=colour)
            if np.isfinite(low) and np.isfinite(high):
                ax.errorbar(mean, y[k], xerr=[[mean - low], [high - mean]], color="black", capsize=3)
        for other in sorted(set(table.scheme) - {scheme}):
            ref = table[
                (table.metric == name) & (table.scheme == other) & (table.variant == result.spec.reference)
            ]
            if len(ref) and np.isfinite(_scaled(ref["mean"].iloc[0], scale)):
                ax.axvline(_scaled(ref["mean"].iloc[0], scale), color="grey", linestyle=":", label=other)
                ax.legend(loc="lower right", fontsize=8)
        ax.set_yticks(y, labels)
        ax.set_title(title)
    fig.suptitle(f"{scheme}: variants on {len(result.seeds)} paired replications (bars: 95% CI)")
    fig.tight_layout()
    return fig


def _scaled(value: Any, scale: float) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value) / scale


def write(
    result: Comparison, out_dir: Path, provenance: dict, unique: bool, staging: Path | None = None
) -> Path:
    """Write the comparison's files into ``out_dir`` atomically (never over earlier results)."""

    def files(folder: Path) -> None:
        result.table.to_csv(folder / "variants.csv", index=False)
        result.runs.to_csv(folder / "runs.csv", index=False)
        scheme = "voucher" if "voucher" in set(result.table.scheme) else str(result.table.scheme.iloc[0])
        figure(result, scheme).savefig(folder / "variants.png", dpi=120)

    return write_folder(out_dir, files, provenance, unique, staging)


CONSOLE = (
    ("true_effect_offered_pp", "effect pp", lambda v: f"{v:+.2f}"),
    ("itt_employment_pp", "ITT pp", lambda v: f"{v:+.2f}"),
    ("cost_per_additional_job_idr", "Rp m/job", lambda v: f"{v / 1e6:,.1f}"),
    ("total_cost_idr", "cost Rp T", lambda v: f"{v / 1e12:.2f}"),
)


def format_table(result: Comparison) -> str:
    """The comparison as a console table: per variant and scheme, the headline metrics with the
    paired difference from the reference in brackets, and the file's own metrics below."""
    table = result.table
    lines = []
    for scheme in dict.fromkeys(table.scheme):
        lines.append(f"\n{scheme} (in brackets: paired difference from {result.spec.reference!r})")
        header = f"  {'variant':<32}" + "".join(f"{title:>26}" for _, title, _ in CONSOLE)
        lines.append(header)
        for variant in result.spec.variants:
            part = table[(table.scheme == scheme) & (table.variant == variant.name)].set_index("metric")
            cells = [
                _cell(part.loc[name], fmt, variant.name == result.spec.reference) for name, _, fmt in CONSOLE
            ]
            reused = " (reused)" if bool(part["reused_from_reference"].all()) else ""
            lines.append(f"  {(variant.title + reused)[:32]:<32}" + "".join(f"{c:>26}" for c in cells))
        for name in result.spec.metrics:
            rows = table[(table.scheme == scheme) & (table.metric == name)].set_index("variant")
            if rows["mean"].isna().all():  # not defined for this scheme
                continue
            lines.append(f"  {name}:")
            for variant in result.spec.variants:
                cell = _cell(rows.loc[variant.name], _plain, variant.name == result.spec.reference)
                lines.append(f"    {variant.title[:30]:<30} {cell}")
    return "\n".join(lines)


def _plain(value: float) -> str:
    return f"{value:,.4g}"


def _cell(row: pd.Series, fmt, is_reference: bool) -> str:
    mean, diff = row["mean"], row["diff_vs_reference"]
    if mean is None or pd.isna(mean):
        return "n/a"
    if is_reference or diff is None or pd.isna(diff):
        return fmt(float(mean))
    return f"{fmt(float(mean))} ({fmt(float(diff))})"
