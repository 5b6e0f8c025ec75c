"""An experiment's report: ``report.md`` with its tables, figures and tidy data.

The report says what was asked (the question), how (the base scenario, the fixed overrides, the
arms, the schemes, the replications and seeds, the command that reproduces it), what was expected
and what came out (the checks: expectation, measured value with its 95% CI, pass or fail, and the
source of the expectation), the results of every arm with their paired differences from the
reference arm, and the figures. Every file is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simulation.experiments import checks as ch
from simulation.experiments.experiment import Experiment, Plan
from simulation.experiments.formatting import format_value
from simulation.experiments.reproduce import (
    HEADLINE,
    MAX_TABLE_METRICS,
    decomposition_runs,
    write_atomic,
)
from simulation.reporting import registry

FIGURE_DPI = 100


def write_report(
    experiment: Experiment,
    found: Plan,
    folder: Path,
    runs: pd.DataFrame,
    checks: pd.DataFrame,
    summary: pd.DataFrame,
    command: str,
) -> Path:
    """Write report.md, checks.csv, summary.csv, runs.csv and figures/ into ``folder``."""
    for name, table in (("checks.csv", checks), ("summary.csv", summary), ("runs.csv", runs)):
        _write_csv(folder / name, table)
    figures = _figures(experiment, found, folder, runs, summary)
    extra = _view_tables(experiment, found, folder, runs)
    text = markdown(experiment, found, checks, summary, figures, extra, command)
    write_atomic(folder / "report.md", lambda path: _write_text(path, text))
    return folder / "report.md"


def _jobs(row: pd.Series) -> str:
    low, high = row["additional_jobs_ci_low"], row["additional_jobs_ci_high"]
    return _with_ci(row["additional_jobs"], low, high, "count")


def _write_csv(path: Path, table: pd.DataFrame) -> None:
    write_atomic(path, lambda temp: table.to_csv(temp, index=False))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- markdown


def markdown(
    experiment: Experiment,
    found: Plan,
    checks: pd.DataFrame,
    summary: pd.DataFrame,
    figures: list[tuple[str, str]],
    extra: list[str],
    command: str,
) -> str:
    passed = int((checks.verdict == ch.PASS).sum())
    judged = int((checks.verdict != ch.NOT_RUN).sum())
    version = "quick version (reduced: not the experiment's answer)" if found.quick else "full version"
    lines = [
        f"# {experiment.name}: {experiment.title}",
        "",
        f"**{passed} of {judged} checks pass** ({version}; {found.replications} paired replications).",
        "",
        "## Question",
        "",
        experiment.question.strip(),
        "",
        "## Set-up",
        "",
        *_setup(experiment, found, command),
        "",
        "## Checks",
        "",
        "A check passes by its rule: for `95% CI above/below 0` the whole 95% confidence interval over "
        "replications lies on the expected side of zero (and, where a size is given, the mean is at least "
        "that large: an effect too small to matter fails); for `95% CI contains` it contains the published "
        "value; for `mean >= / <=` the mean alone lies in the expected range. Differences and slopes are "
        "paired replication by replication (common random numbers).",
        "",
        *_checks_table(checks),
        "",
        "## Results",
        "",
        *_results_tables(experiment, found, summary),
        *(_spread_table(experiment, found, summary) if experiment.spread else []),
        *extra,
        "",
        "## Figures",
        "",
    ]
    for file, caption in figures:
        lines += [f"![{caption}]({file})", "", f"*{caption}*", ""]
    if experiment.notes.strip():
        lines += ["## Reading", "", experiment.notes.strip(), ""]
    lines += [
        "## Files",
        "",
        "`checks.csv` (the checks), `summary.csv` (every arm, scheme and metric: mean, 95% CI, paired "
        "difference from the reference arm), `runs.csv` (every arm, replication and scheme), `figures/`, "
        "and the sweep store (`manifest.json`, `runs/`: the same command resumes an interrupted run).",
        "",
    ]
    return "\n".join(lines)


def _setup(experiment: Experiment, found: Plan, command: str) -> list[str]:
    base = _shown_path(experiment.base)
    fixed = ", ".join(f"`{o}`" for o in found.fixed) or "none"
    lines = [
        f"- Base scenario: `{base}`; fixed overrides: {fixed}.",
        f"- Schemes: {', '.join(found.schemes)}; {found.replications} replications per arm, the same "
        f"seeds in every arm (root seed {experiment.seed}).",
        f"- Reproduce: `{command or 'uv run run.py reproduce ' + experiment.name}`.",
        "",
        "| arm | overrides | schemes run |",
        "|---|---|---|",
    ]
    for arm in found.arms:
        overrides = "<br>".join(f"`{o}`" for o in arm.overrides) or "(as written)"
        ran = ", ".join(found.schemes_of(arm))
        if len(found.schemes_of(arm)) < len(found.schemes):
            ran += " (others: the reference arm's runs)"
        mark = " (reference)" if arm.name == found.reference else ""
        lines.append(f"| {_escape(arm.title)}{mark} | {overrides} | {ran} |")
    return lines


def _shown_path(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _checks_table(checks: pd.DataFrame) -> list[str]:
    lines = [
        "| check | scheme, arm | expectation | rule | measured (95% CI) | result | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, row in checks.iterrows():
        kind = registry.BY_NAME[row["metric"]].kind
        unit = " per unit of x" if row["kind"] == "slope" else ""
        if unit and kind == "idr" and row["mean"] is not None and abs(float(row["mean"])) < 1000:
            kind = "number"  # IDR per IDR (a pass-through), not an amount of money
        measured = _with_ci(row["mean"], row["ci_low"], row["ci_high"], kind, diff=row["kind"] != "level")
        result = {"pass": "**pass**", "fail": "**FAIL**"}.get(row["verdict"], row["verdict"])
        if row.get("reason"):
            result += f" ({row['reason']})"
        where = f"{row['scheme']}, {row['arm']}" + (f" vs {row['versus']}" if row["versus"] else "")
        lines.append(
            f"| {_escape(row['check'])} (`{row['metric']}`) | {where} | {_escape(row['expectation'])} | "
            f"{row['rule']} | {measured}{unit} | {result} | {_escape(row['source'])} |"
        )
    return lines


def _results_tables(experiment: Experiment, found: Plan, summary: pd.DataFrame) -> list[str]:
    names = list(dict.fromkeys([*experiment.all_metrics, *HEADLINE]))[:MAX_TABLE_METRICS]
    lines = [
        f"Mean and 95% CI over replications; in brackets the paired difference from the reference arm "
        f"({found.reference}) and its 95% CI.",
        "",
    ]
    for scheme in found.schemes:
        lines += _arm_table(found, summary[summary.scheme == scheme], names, _cell, f"**{scheme}**")
    return lines


def _spread_table(experiment: Experiment, found: Plan, summary: pd.DataFrame) -> list[str]:
    """The standard deviation of each metric over replications (one history of the market each)."""
    names = experiment.all_metrics[:MAX_TABLE_METRICS]
    lines = ["**Spread across replications** (standard deviation over replications)", ""]
    for scheme in found.schemes:
        lines += _arm_table(found, summary[summary.scheme == scheme], names, _sd_cell, f"*{scheme}*")
    return lines


def _arm_table(found: Plan, part: pd.DataFrame, names: list[str], cell, title: str) -> list[str]:
    """One row per arm, one column per metric the scheme defines; ``cell(rows, kind)`` fills a cell."""
    shown = [n for n in names if (part.metric == n).any()]
    if not shown:
        return []
    lines = [
        title,
        "",
        "| arm | " + " | ".join(registry.BY_NAME[n].label for n in shown) + " |",
        "|---|" + "---|" * len(shown),
    ]
    for arm in found.arms:
        mine = part[part.arm == arm.name]
        cells = [cell(mine[mine.metric == name], registry.BY_NAME[name].kind) for name in shown]
        reused = " (reused)" if len(mine) and bool(mine.reused_from_reference.all()) else ""
        lines.append(f"| {_escape(arm.title)}{reused} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _sd_cell(row: pd.DataFrame, kind: str) -> str:
    sd = None if row.empty else row.iloc[0]["sd"]
    return "—" if sd is None or pd.isna(sd) else format_value(float(sd), "number" if kind == "pp" else kind)


def _cell(row: pd.DataFrame, kind: str) -> str:
    if row.empty:
        return "—"
    r = row.iloc[0]
    text = _with_ci(r["mean"], r["ci_low"], r["ci_high"], kind)
    if r["diff_vs_reference"] is not None and not pd.isna(r["diff_vs_reference"]):
        text += f" ({_with_ci(r['diff_vs_reference'], r['diff_ci_low'], r['diff_ci_high'], kind, diff=True)})"
    return text


def _with_ci(mean, low, high, kind: str, diff: bool = False) -> str:
    if mean is None or pd.isna(mean):
        return "n/a"
    text = format_value(float(mean), kind, diff)
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return text
    return f"{text} [{format_value(float(low), kind, diff)}, {format_value(float(high), kind, diff)}]"


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# --------------------------------------------------------------------------- figures and views


def _figures(
    experiment: Experiment, found: Plan, folder: Path, runs: pd.DataFrame, summary: pd.DataFrame
) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    out = []
    kind = experiment.design.kind
    if kind == "decompose":
        out.append(
            _save(
                folder, "waterfall.png", _waterfall(found, runs), "The voucher-tender gap, factor by factor"
            )
        )
    elif kind == "budgets":
        out.append(
            _save(folder, "cost_curve.png", _curve_figure(found, runs), "Additional jobs against money spent")
        )
    metrics = [m for m in experiment.all_metrics if (summary.metric == m).any()][:6]
    if metrics:
        fig = arms_figure(found, summary, metrics)
        out.append(_save(folder, "arms.png", fig, "Each metric by arm (mean, 95% CI)"))
    return out


def _save(folder: Path, name: str, fig, caption: str) -> tuple[str, str]:
    import matplotlib.pyplot as plt

    path = folder / "figures" / name
    write_atomic(path, lambda p: fig.savefig(p, dpi=FIGURE_DPI, format="png"))
    plt.close(fig)
    return f"figures/{name}", caption


def arms_figure(found: Plan, summary: pd.DataFrame, metrics: list[str]):
    """One panel per metric: each scheme's mean and 95% CI by arm (a line over the arms' x where
    every arm has one, else bars by arm)."""
    import matplotlib.pyplot as plt

    numeric = all(a.x is not None for a in found.arms)
    cols = min(3, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, metrics, strict=False):
        metric = registry.BY_NAME[name]
        scale, unit = _axis_scale(summary[summary.metric == name]["mean"], metric.kind, metric.unit)
        shown = [
            s
            for s in found.schemes
            if summary[(summary.metric == name) & (summary.scheme == s)]["mean"].notna().any()
        ]
        for k, scheme in enumerate(shown):
            part = summary[(summary.metric == name) & (summary.scheme == scheme)]
            part = part.set_index("arm").reindex([a.name for a in found.arms])
            mean = part["mean"].astype(float).to_numpy() / scale
            low = part["ci_low"].astype(float).to_numpy() / scale
            high = part["ci_high"].astype(float).to_numpy() / scale
            err = np.vstack([mean - low, high - mean])
            err = np.where(np.isfinite(err), err, 0.0)
            if numeric:
                x = np.array([a.x for a in found.arms], dtype=float)
                ax.errorbar(x, mean, yerr=err, marker="o", capsize=3, label=scheme)
            else:
                x = np.arange(len(found.arms)) + 0.4 * k - 0.2 * (len(shown) - 1)
                ax.bar(x, mean, width=0.38, yerr=err, capsize=3, label=scheme)
        if not numeric:
            ax.set_xticks(
                range(len(found.arms)), [a.title for a in found.arms], rotation=30, ha="right", fontsize=8
            )
        ax.set_title(metric.label, fontsize=10)
        ax.set_ylabel(unit, fontsize=8)
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def _axis_scale(values: pd.Series, kind: str, unit: str) -> tuple[float, str]:
    """(divisor, axis label): IDR in Rp thousand/million/billion/trillion by the largest value."""
    if kind != "idr":
        return 1.0, unit
    largest = float(np.nanmax(np.abs(values.astype(float)))) if values.notna().any() else 0.0
    for scale, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if largest >= scale:
            return scale, f"Rp {word}" + (" per " + unit.split(" per ", 1)[1] if " per " in unit else "")
    return 1.0, unit


def _waterfall(found: Plan, runs: pd.DataFrame):
    from simulation.experiments.decompose import FACTORS, Decomposition, waterfall

    steps = decomposition_table(found, runs)
    seeds = sorted(set(runs.seed))
    return waterfall(Decomposition(steps, None, runs, seeds, FACTORS))


def decomposition_table(found: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    """The sequential decomposition of the voucher-tender gap (as ``run.py decompose``)."""
    from simulation.experiments.decompose import FACTORS, factor_names, steps_table
    from simulation.reporting import decomposition as dec

    names = factor_names(FACTORS)
    return steps_table(dec.sequential(names), decomposition_runs(found, runs), names, "sequential")


def _curve_table(found: Plan, runs: pd.DataFrame) -> pd.DataFrame:
    from simulation.experiments.cost_curve import summarise as curve_summary

    multipliers = {a.name: float(a.x) for a in found.arms if a.x is not None}
    rows = runs.assign(multiplier=runs.arm.map(multipliers))
    budgets = {s: float(found.raw[s]["budget_idr"]) for s in found.schemes}
    rows["budget_idr"] = rows.multiplier * rows.scheme.map(budgets)
    return curve_summary(rows)


def _curve_figure(found: Plan, runs: pd.DataFrame):
    from simulation.experiments.cost_curve import figure

    return figure(_curve_table(found, runs))


def _view_tables(experiment: Experiment, found: Plan, folder: Path, runs: pd.DataFrame) -> list[str]:
    """The decomposition's steps or the cost curve, as tables in the report and CSV files."""
    kind = experiment.design.kind
    if kind == "decompose":
        table = decomposition_table(found, runs)
        write_atomic(folder / "decomposition.csv", lambda p: table.to_csv(p, index=False))
        lines = [
            "",
            "**The gap (voucher − tender), factor by factor** (sequential: each factor removed "
            "in turn, in the order listed; `decomposition.csv`)",
            "",
            "| line | effect, pp per person offered | cost per additional job |",
            "|---|---|---|",
        ]
        effect = table[table.question == "effect"].reset_index(drop=True)
        cost = table[table.question == "cost_per_additional_job"].reset_index(drop=True)
        for k in range(len(effect)):
            e, c = effect.iloc[k], cost.iloc[k]
            lines.append(
                f"| {e['line']} | {_with_ci(e['mean'], e['ci_low'], e['ci_high'], 'pp')} | "
                f"{_with_ci(c['mean'], c['ci_low'], c['ci_high'], 'idr', diff=True)} |"
            )
        return lines
    if kind == "budgets":
        table = _curve_table(found, runs)
        write_atomic(folder / "curve.csv", lambda p: table.to_csv(p, index=False))
        lines = [
            "",
            "**Additional jobs against money spent** (`curve.csv`)",
            "",
            "| scheme | budget | spent | additional jobs | cost per additional job |",
            "|---|---|---|---|---|",
        ]
        for _, r in table.iterrows():
            lines.append(
                f"| {r['scheme']} | {format_value(r['budget_idr'], 'idr')} | "
                f"{_with_ci(r['spent_idr'], r['spent_ci_low'], r['spent_ci_high'], 'idr')} | "
                f"{_jobs(r)} | "
                f"{_with_ci(r['cost_per_additional_job_idr'], r['cost_ci_low'], r['cost_ci_high'], 'idr')} |"
            )
        return lines
    return []
