"""Analysing a finished (or partial) sweep: effects along each parameter, and sensitivity indices.

For every kept metric, per scheme and for each paired difference between schemes (same run, same
seed), the mean and its 95% confidence interval across replications are reported along each
parameter (grid values, or quantile bins of sampled values). For Sobol designs the first- and
total-order indices, and for Morris designs mu* and sigma, are estimated with SALib on the
replication means of each design point, with their confidence intervals. Figures go into
``<folder>/figures``.

For grid designs, each design point minus the baseline point (the first: every parameter at its
first value), per scheme (and scheme difference) and metric, goes into ``differences.csv``. Where
the sweep used common random numbers (replication r has one seed at every point, as the stored
seeds show), the difference is paired: its 95% CI is Student's t over the per-replication
differences, which excludes the world-to-world noise both points share. Where each run had its
own seed (``common_random_numbers: false``), the two points are independent samples and the CI is
Welch's.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from simulation.experiments.spec import SweepSpec, design_matrix, salib_problem  # noqa: E402
from simulation.experiments.store import MANIFEST, RUNS, ResultStore, StoreError  # noqa: E402
from simulation.reporting.compare import difference_name, replication_stats  # noqa: E402

ID_COLUMNS = ("run_id", "point", "replication", "seed", "scheme", "wall_s")
BINS = 5
CONFIDENCE = 0.95


def analyze(folder: Path | str) -> dict:
    """Analyse the sweep in ``folder``; returns {"text": report, "figures": [paths],
    "effects": DataFrame, "differences": DataFrame | None (grid designs), "sensitivity":
    DataFrame | None, "warnings": [text]} and writes the figures and CSVs.

    Every run file is checked first: a corrupt one (changed bytes, truncated, another run's) stops
    the analysis with :class:`~simulation.experiments.store.CorruptRuns` (a StoreError: exit 2),
    since an answer without it would be silently partial; stray files in ``runs/`` are ignored and
    listed in "warnings". A manifest missing a key, or with an invalid spec, is a StoreError naming
    the file and the key."""
    folder = Path(folder)
    store = ResultStore(folder)
    spec = _manifest_spec(store)
    total = store.manifest_value("runs")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise StoreError(f"{folder / MANIFEST}: runs: expected the number of runs, not {total!r}")
    strays = store.strays()
    warnings = []
    if strays:
        listed = ", ".join(strays)
        warnings.append(
            f"{folder / RUNS}: ignored {len(strays)} file(s) that are not runs of this sweep: {listed}"
        )
    rows = store.load()  # CorruptRuns (a StoreError) if any run file fails its check
    if rows.empty:
        return {
            "text": f"{folder}: no finished runs yet",
            "figures": [],
            "effects": rows,
            "differences": None,
            "sensitivity": None,
            "warnings": warnings,
        }
    params = [p.path for p in spec.parameters]
    metrics = [c for c in rows.columns if c not in ID_COLUMNS and c not in params]
    long = with_differences(rows, metrics)
    effects = effects_along_parameters(long, params, metrics)
    figures = folder / "figures"
    figures.mkdir(exist_ok=True)
    paths = [
        save(effect_figure(effects, param, metrics), figures / f"effect_{_slug(param)}.png")
        for param in params
    ]
    effects.to_csv(folder / "effects.csv", index=False)
    text = [
        f"{spec.name}: {rows['run_id'].nunique():,} of {total:,} runs finished",
        "",
        format_effects(effects),
    ]
    differences = None
    if spec.sampler == "grid":
        differences = point_differences(long, params, metrics, paired=common_seeds(rows))
        if not differences.empty:
            differences.to_csv(folder / "differences.csv", index=False)
            baseline = long.loc[long["point"] == 0, params].iloc[0]
            text += ["", format_differences(differences, params, baseline)]
    sensitivity = None
    if spec.sampler in ("sobol", "morris"):
        sensitivity, note = sensitivity_indices(spec, long, metrics)
        if sensitivity is not None:
            sensitivity.to_csv(folder / "sensitivity.csv", index=False)
            paths.append(save(sensitivity_figure(sensitivity, spec.sampler), figures / "sensitivity.png"))
            text += ["", sensitivity.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
        else:
            text += ["", note]
    return {
        "text": "\n".join(text),
        "figures": paths,
        "effects": effects,
        "differences": differences,
        "sensitivity": sensitivity,
        "warnings": warnings,
    }


def _manifest_spec(store: ResultStore) -> SweepSpec:
    """The sweep's spec as its manifest records it; StoreError naming the file and key if not valid."""
    try:
        return SweepSpec.model_validate(store.manifest_value("spec"))
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in ("spec", *first["loc"]))
        raise StoreError(f"{store.folder / MANIFEST}: {where}: {first['msg']}") from None


def with_differences(rows: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """The rows plus, for each run, each scheme minus the first scheme (paired: same seed)."""
    schemes = list(dict.fromkeys(rows["scheme"]))
    if len(schemes) < 2:
        return rows
    base = rows[rows["scheme"] == schemes[0]].set_index("run_id")
    extra = []
    for scheme in schemes[1:]:
        other = rows[rows["scheme"] == scheme].set_index("run_id")
        joined = other.index.intersection(base.index)
        diff = other.loc[joined].copy()
        diff[metrics] = other.loc[joined, metrics].astype(float) - base.loc[joined, metrics].astype(float)
        diff["scheme"] = difference_name(scheme, schemes[0])
        extra.append(diff.reset_index())
    return pd.concat([rows, *extra], ignore_index=True)


def effects_along_parameters(long: pd.DataFrame, params: list[str], metrics: list[str]) -> pd.DataFrame:
    """Mean and 95% CI across runs of each metric, per scheme, along each parameter."""
    out = []
    for param in params:
        level = _levels(long[param])
        for (scheme, value), group in long.assign(level=level).groupby(["scheme", "level"], sort=False):
            for metric in metrics:
                stats = replication_stats(group[metric].tolist())
                out.append({"parameter": param, "value": value, "scheme": scheme, "metric": metric, **stats})
    return pd.DataFrame(out).sort_values(["parameter", "metric", "scheme", "value"], kind="stable")


def _levels(values: pd.Series) -> pd.Series:
    """Grid values as they are; many distinct values binned into quantile bins (bin midpoints)."""
    if values.nunique() <= 2 * BINS:
        return values
    bins = pd.qcut(values, BINS, duplicates="drop")
    return bins.map(lambda interval: float(interval.mid)).astype(float)


def common_seeds(rows: pd.DataFrame) -> bool:
    """Whether the runs used common random numbers: each replication has one seed at every point."""
    return bool(rows.groupby("replication")["seed"].nunique().le(1).all())


def point_differences(
    long: pd.DataFrame, params: list[str], metrics: list[str], paired: bool, baseline: int = 0
) -> pd.DataFrame:
    """Each design point minus the ``baseline`` point, per scheme and metric, with a 95% CI.

    ``paired``: the replications of both points share their seeds (common random numbers), so
    replication r of the point is compared with replication r of the baseline; the mean, sd, n and
    Student-t CI are those of the per-replication differences (:func:`replication_stats`).
    Otherwise the points are independent samples: the difference of their means, and Welch's CI.
    Columns: point, the parameters' values, scheme, metric, pairing, mean, sd (of the paired
    differences; None unpaired), se, df, n, n_baseline, ci_low, ci_high; no row for the baseline.
    """
    values = long.drop_duplicates("point").set_index("point")[params]
    out = []
    for scheme, group in long.groupby("scheme", sort=False):
        for metric in metrics:
            table = group.set_index(["replication", "point"])[metric].astype(float).unstack("point")
            if baseline not in table.columns:
                continue
            base = table[baseline].astype(float)
            for point in table.columns:
                if point == baseline:
                    continue
                other = table[point].astype(float)
                stats = _paired(other, base) if paired else _welch(other, base)
                out.append(
                    {
                        "point": int(point),
                        **values.loc[point].to_dict(),
                        "scheme": scheme,
                        "metric": metric,
                        "pairing": "paired" if paired else "unpaired",
                        **stats,
                    }
                )
    return pd.DataFrame(out)


def _paired(other: pd.Series, base: pd.Series) -> dict:
    diffs = (other - base).tolist()
    stats = replication_stats(diffs, CONFIDENCE)
    se = None if stats["sd"] is None else stats["sd"] / np.sqrt(stats["n"])
    df = stats["n"] - 1 if stats["n"] > 1 else None
    return {
        "mean": stats["mean"],
        "sd": stats["sd"],
        "se": se,
        "df": df,
        "n": stats["n"],
        "n_baseline": stats["n"],
        "ci_low": stats["ci_low"],
        "ci_high": stats["ci_high"],
    }


def _welch(other: pd.Series, base: pd.Series) -> dict:
    """The difference of two independent means with Welch's t interval (unequal variances)."""
    a = other[np.isfinite(other)].to_numpy(dtype=float)
    b = base[np.isfinite(base)].to_numpy(dtype=float)
    out: dict[str, float | None] = {"mean": None, "sd": None, "se": None, "df": None}
    out.update(n=len(a), n_baseline=len(b))
    out.update(ci_low=None, ci_high=None)
    if len(a) == 0 or len(b) == 0:
        return out
    mean = out["mean"] = float(a.mean() - b.mean())
    if len(a) < 2 or len(b) < 2:
        return out
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = float(np.sqrt(va + vb))
    if se > 0:
        df = float((va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)))
    else:
        df = float(len(a) + len(b) - 2)
    from scipy import stats

    half = float(stats.t.ppf((1 + CONFIDENCE) / 2, df)) * se
    out.update(se=se, df=df, ci_low=mean - half, ci_high=mean + half)
    return out


def format_differences(differences: pd.DataFrame, params: list[str], baseline: pd.Series | dict) -> str:
    """The differences from the baseline point as text: how they were paired, then one block per
    metric with a line per scheme."""

    def label(values) -> str:
        return ", ".join(f"{param}={_fmt_value(values[param])}" for param in params)

    paired = (differences["pairing"] == "paired").all()
    how = (
        "paired by replication (common random numbers): 95% CI over the per-replication differences"
        if paired
        else "unpaired (each run had its own seed, common_random_numbers: false): 95% CI from the "
        "two independent samples (Welch)"
    )
    lines = [f"Each design point minus the baseline point {label(baseline)}, {how}"]
    for metric, block in differences.groupby("metric", sort=False):
        lines.append(f"{metric} (mean [95% CI])")
        for scheme, rows in block.groupby("scheme", sort=False):
            cells = [
                f"{label(row)}: {_fmt(row['mean'])} [{_fmt(row['ci_low'])}, {_fmt(row['ci_high'])}]"
                for _, row in rows.iterrows()
            ]
            lines.append(f"  {scheme}: " + "; ".join(cells))
    return "\n".join(lines)


def sensitivity_indices(spec: SweepSpec, long: pd.DataFrame, metrics: list[str]):
    """Sobol S1/ST or Morris mu*/sigma per scheme and metric, from replication means per point.
    Returns (DataFrame, None), or (None, reason) when design points are missing."""
    from SALib.analyze import morris, sobol

    problem = salib_problem(spec)
    X = design_matrix(spec)
    out = []
    for scheme, group in long.groupby("scheme", sort=False):
        means = group.groupby("point")[metrics].mean()
        if len(means) < X.shape[0]:
            return None, (
                f"sensitivity indices need every design point: {X.shape[0] - len(means):,} of "
                f"{X.shape[0]:,} points have no finished run yet"
            )
        for metric in metrics:
            Y = means[metric].reindex(range(X.shape[0])).to_numpy(dtype=float)
            if not np.isfinite(Y).all():
                continue
            if spec.sampler == "sobol":
                r = sobol.analyze(problem, Y, calc_second_order=False, seed=spec.seed)
                keys: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
            else:
                r = morris.analyze(problem, X, Y, num_levels=4, seed=spec.seed)
                keys = ("mu_star", "mu_star_conf", "sigma")
            for k, name in enumerate(problem["names"]):
                out.append(
                    {
                        "scheme": scheme,
                        "metric": metric,
                        "parameter": name,
                        **{key: float(r[key][k]) for key in keys},
                    }
                )
    return pd.DataFrame(out), None


def format_effects(effects: pd.DataFrame) -> str:
    """The effects as text: one block per parameter and metric."""
    lines = []
    for (param, metric), block in effects.groupby(["parameter", "metric"], sort=False):
        lines.append(f"{metric} along {param} (mean [95% CI])")
        for scheme, rows in block.groupby("scheme", sort=False):
            cells = [
                f"{_fmt(v)}: {_fmt(m)} [{_fmt(lo)}, {_fmt(hi)}]"
                for v, m, lo, hi in zip(
                    rows["value"], rows["mean"], rows["ci_low"], rows["ci_high"], strict=True
                )
            ]
            lines.append(f"  {scheme}: " + "; ".join(cells))
    return "\n".join(lines)


def effect_figure(effects: pd.DataFrame, param: str, metrics: list[str]) -> Figure:
    """One panel per metric: each scheme's (and difference's) mean along ``param`` with its CI."""
    data = effects[effects["parameter"] == param]
    fig = Figure(figsize=(4.2 * min(len(metrics), 4), 3.4 * int(np.ceil(len(metrics) / 4))))
    axes = fig.subplots(int(np.ceil(len(metrics) / 4)), min(len(metrics), 4), squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        for scheme, rows in data[data["metric"] == metric].groupby("scheme", sort=False):
            x = rows["value"].astype(float)
            ax.plot(x, rows["mean"], marker="o", label=scheme)
            ax.fill_between(x, rows["ci_low"].astype(float), rows["ci_high"].astype(float), alpha=0.2)
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel(param, fontsize=8)
    axes[0].legend(fontsize=7)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle(f"mean and 95% CI across replications along {param}")
    fig.tight_layout()
    return fig


def sensitivity_figure(table: pd.DataFrame, sampler: str) -> Figure:
    """Bars of S1 and ST (Sobol) or mu* (Morris) with CIs, one panel per scheme and metric."""
    panels = list(table.groupby(["scheme", "metric"], sort=False))
    cols = min(len(panels), 3)
    fig = Figure(figsize=(4.5 * cols, 3.2 * int(np.ceil(len(panels) / cols))))
    axes = fig.subplots(int(np.ceil(len(panels) / cols)), cols, squeeze=False).ravel()
    for ax, ((scheme, metric), rows) in zip(axes, panels, strict=False):
        y = np.arange(len(rows))
        if sampler == "sobol":
            ax.barh(y - 0.2, rows["S1"], 0.4, xerr=rows["S1_conf"], label="first order")
            ax.barh(y + 0.2, rows["ST"], 0.4, xerr=rows["ST_conf"], label="total order")
        else:
            ax.barh(y, rows["mu_star"], 0.6, xerr=rows["mu_star_conf"], label="mu*")
        ax.set_yticks(y, rows["parameter"], fontsize=7)
        ax.set_title(f"{scheme}: {metric}", fontsize=9)
    axes[0].legend(fontsize=7)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def save(fig: Figure, path: Path) -> Path:
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text)


def _fmt_value(value) -> str:
    """A parameter's value: numbers as :func:`_fmt`, anything else (a rule's name) as it is."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        return str(value)
    return _fmt(value)


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "n/a"
    value = float(value)
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
