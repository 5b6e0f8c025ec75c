"""Comparing schemes: paired differences, statistics over replications, a table and a figure.

Everything here works on plain dicts of metrics (metric name -> float | int | None), as written by
:func:`simulation.reporting.metrics.summarise`, never on model objects. Every scheme of one replication runs
on the same world with the same seed, so a scheme's difference from the baseline is *paired*: its
spread across replications excludes the world-to-world variation common to both schemes.

Differences keep the metric's own unit: shares stay in [0, 1] (the table shows them in percentage
points), money in IDR, effects in pp.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

LABEL_WIDTH = 34
MIN_COLUMN_WIDTH = 20
STAT_KEYS = ("mean", "sd", "n", "ci_low", "ci_high")


# --------------------------------------------------------------------------- numbers


def _number(value) -> float | int | None:
    """``value`` as a Python number if it is a finite real (not a bool), else None."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        return None
    value = value.item() if hasattr(value, "item") else value  # numpy scalar -> Python
    return value if math.isfinite(value) else None


def difference_name(scheme: str, baseline: str) -> str:
    """The key of a difference: ``"tender - voucher"``."""
    return f"{scheme} - {baseline}"


def _subtract(metrics: dict, baseline: dict) -> dict[str, float | int | None]:
    """``metrics - baseline`` metric by metric (baseline's metrics first); None unless both are
    finite numbers."""
    out = {}
    for key in dict.fromkeys([*baseline, *metrics]):
        a, b = _number(metrics.get(key)), _number(baseline.get(key))
        out[key] = None if a is None or b is None else a - b
    return out


def _baseline(schemes: Iterable[str], baseline: str | None) -> str:
    names = list(schemes)
    if baseline is None:
        return names[0]
    if baseline not in names:
        raise ValueError(f"baseline {baseline!r} is not one of the schemes ({', '.join(names)})")
    return baseline


# --------------------------------------------------------------------------- one run


def paired_difference(schemes: dict[str, dict], baseline: str | None = None) -> dict[str, dict]:
    """Each scheme minus the baseline (default: the first scheme listed), metric by metric.

    ``{"tender - voucher": {metric: value_tender - value_voucher}}``, in the units of the metric.
    A metric that is missing, None, NaN, infinite or a bool in either scheme is None. The baseline
    itself is not listed; no schemes give ``{}``. Raises ValueError for an unknown baseline.
    """
    if not schemes:
        return {}
    base = _baseline(schemes, baseline)
    return {
        difference_name(name, base): _subtract(metrics, schemes[base])
        for name, metrics in schemes.items()
        if name != base
    }


# --------------------------------------------------------------------------- replications


def replication_stats(values: list[float | None], confidence: float = 0.95) -> dict:
    """Mean, standard deviation (ddof=1) and a Student-t confidence interval for the mean.

    ``{"mean", "sd", "n", "ci_low", "ci_high"}`` in the units of ``values``; ``n`` counts the finite
    values used (None, NaN, infinities and bools are dropped). The interval is two-sided at level
    ``confidence``: mean +/- t((1 + confidence) / 2, n - 1) * sd / sqrt(n). With n == 1 the sd and
    the interval are None; with n == 0 everything but n is None.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    x = np.array([v for v in map(_number, values) if v is not None], dtype=float)
    n = len(x)
    out: dict = dict.fromkeys(STAT_KEYS)
    out["n"] = n
    if n == 0:
        return out
    out["mean"] = float(x.mean())
    if n == 1:
        return out
    sd = float(x.std(ddof=1))
    from scipy import stats  # loaded when first needed: keeps the command line quick

    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    out.update(sd=sd, ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out


def ratio_stats(
    numerators: list[list], denominators: list[list], signs: list[float], confidence: float = 0.95
) -> dict:
    """Statistics of a ratio metric over replications: the ratio of the means, not the mean of the
    ratios, or a signed sum of such ratios (a paired difference: ``signs`` [1, -1]).

    ``numerators[k]`` and ``denominators[k]`` are the per-replication values of ratio k. The
    estimate is sum_k sign_k mean(N_k) / mean(D_k). Its confidence interval: for one ratio,
    Fieller's (exact for normal means, and unbounded, hence None with a reason, when the mean
    denominator is not significantly above zero); for a difference of ratios, the delta method on
    the replications' linearised values z_i = sum_k sign_k (N_ki - R_k D_ki) / mean(D_k), with
    half-width t((1 + confidence) / 2, n - 1) * sd(z) / sqrt(n), and None with a reason when a
    denominator is not significantly above zero. ``sd`` is sd(z). Every replication counts; if one
    lacks a value, or a mean denominator is not positive, the estimate is None and ``reason``
    says why.
    """
    n = len(numerators[0]) if numerators else 0
    out: dict = dict.fromkeys(STAT_KEYS)
    out["n"] = n
    values = [[_number(v) for v in series] for series in (*numerators, *denominators)]
    missing = sum(any(series[i] is None for series in values) for i in range(n))
    if n == 0 or missing:
        out["reason"] = f"undefined in {missing} of {n} replications" if n else "no replication"
        return out
    num = np.array(values[: len(numerators)], dtype=float)
    den = np.array(values[len(numerators) :], dtype=float)
    mean_den = den.mean(axis=1)
    if np.any(mean_den <= 0):
        out["reason"] = "the mean denominator over the replications is not positive"
        return out
    ratios = num.mean(axis=1) / mean_den
    sign = np.asarray(signs, dtype=float)
    out["mean"] = float(np.sum(sign * ratios))
    if n == 1:
        return out
    z = np.sum(sign[:, None] * (num - ratios[:, None] * den) / mean_den[:, None], axis=0)
    out["sd"] = float(z.std(ddof=1))
    from scipy import stats  # loaded when first needed: keeps the command line quick

    t = float(stats.t.ppf((1 + confidence) / 2, n - 1))
    if np.any(mean_den**2 <= t**2 * den.var(axis=1, ddof=1) / n):
        out["reason"] = (
            "the mean denominator is not significantly above zero: the confidence interval is unbounded"
        )
        return out
    if len(signs) == 1:
        out["ci_low"], out["ci_high"] = fieller(num[0], den[0], t)
    else:
        half = t * out["sd"] / math.sqrt(n)
        out.update(ci_low=out["mean"] - half, ci_high=out["mean"] + half)
    return out


def fieller(numerator: np.ndarray, denominator: np.ndarray, t: float) -> tuple[float, float]:
    """Fieller's interval for mean(numerator) / mean(denominator) from paired replications, at the
    Student quantile ``t``: the theta with (a - theta b)^2 <= t^2 var(a - theta b), a and b the
    means and var the variance of the means. Requires b^2 > t^2 var(b) (a bounded interval)."""
    n = numerator.size
    a, b = numerator.mean(), denominator.mean()
    covariance = np.cov(numerator, denominator, ddof=1) / n
    s_aa, s_ab, s_bb = covariance[0, 0], covariance[0, 1], covariance[1, 1]
    quadratic = b * b - t * t * s_bb
    linear = a * b - t * t * s_ab
    constant = a * a - t * t * s_aa
    root = math.sqrt(max(linear * linear - quadratic * constant, 0.0))
    return float((linear - root) / quadratic), float((linear + root) / quadratic)


def summarise_replications(
    runs: list[dict[str, dict]],
    baseline: str | None = None,
    confidence: float = 0.95,
    ratios: dict[str, tuple[str, str]] | None = None,
) -> dict:
    """Statistics of every metric over replications, per scheme and per paired difference.

    ``runs`` holds one ``{scheme: {metric: value}}`` per replication, every scheme of a replication
    run with the same seed. Returns ``{"n", "confidence", "schemes": {scheme: {metric: stats}},
    "difference": {"B - A": {metric: stats}}}`` with stats as :func:`replication_stats`; the
    difference stats are of the per-replication differences B - A. Schemes and metrics follow the
    first run (any appearing only later are appended); a scheme or metric absent from a run counts
    as None there. The baseline defaults to the first scheme of the first run.

    Ratio metrics (``ratios``: metric -> (numerator, denominator) metrics; by default those of the
    metric registry) are the ratio of the means over replications (:func:`ratio_stats`), for the
    schemes and for the paired differences.
    """
    if ratios is None:
        from simulation.reporting.registry import ratio_metrics

        ratios = ratio_metrics()
    schemes: dict[str, dict[str, None]] = {}
    for run in runs:
        for name, metrics in run.items():
            schemes.setdefault(name, {}).update(dict.fromkeys(metrics))
    summary: dict[str, Any] = {"n": len(runs), "confidence": confidence, "schemes": {}, "difference": {}}
    if not schemes:
        return summary

    def series(scheme: str, key: str) -> list:
        return [run.get(scheme, {}).get(key) for run in runs]

    def scheme_stats(scheme: str, key: str) -> dict:
        if key in ratios:
            top, bottom = ratios[key]
            return ratio_stats([series(scheme, top)], [series(scheme, bottom)], [1.0], confidence)
        return replication_stats(series(scheme, key), confidence)

    summary["schemes"] = {
        name: {key: scheme_stats(name, key) for key in metrics} for name, metrics in schemes.items()
    }
    base = _baseline(schemes, baseline)
    for name in schemes:
        if name == base:
            continue
        diffs = [_subtract(run.get(name, {}), run.get(base, {})) for run in runs]
        keys = dict.fromkeys([*schemes[base], *schemes[name]])
        block = {}
        for key in keys:
            if key in ratios:
                top, bottom = ratios[key]
                block[key] = ratio_stats(
                    [series(name, top), series(base, top)],
                    [series(name, bottom), series(base, bottom)],
                    [1.0, -1.0],
                    confidence,
                )
            else:
                block[key] = replication_stats([d[key] for d in diffs], confidence)
        summary["difference"][difference_name(name, base)] = block
    return summary


def replication_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` distinct 32-bit seeds derived from ``root_seed``, the same on every machine.

    Seed i is ``SeedSequence(root_seed).spawn(n)[i].generate_state(1)[0]``; in the (rare, about
    n**2 / 2**33) case of a repeat, the repeat is skipped and the next spawned child used instead.
    """
    if n < 0:
        raise ValueError(f"n must be zero or more (got {n})")
    parent = np.random.SeedSequence(root_seed)
    seeds: dict[int, None] = {}  # ordered and fast to test
    while len(seeds) < n:
        for child in parent.spawn(n - len(seeds)):  # spawn continues where it left off
            seeds.setdefault(int(child.generate_state(1)[0]))
    return list(seeds)


# --------------------------------------------------------------------------- console table


def format_pp_share(value) -> str:
    """A difference of two shares in percentage points, with a sign: 0.012 -> '+1.20 pp'."""
    if value is None or value != value:
        return "n/a"
    return f"{100 * value:+.2f} pp"


def format_difference(value, kind: str, format_value: Callable) -> str:
    """A difference with a sign: shares in pp (kind 'pp_share'), others as ``format_value``."""
    if value is None or value != value:
        return "n/a"
    if kind in ("share", "pp_share"):
        return format_pp_share(value)
    if kind == "pp":  # format_value signs pp already
        return format_value(value, kind)
    sign = "-" if value < 0 else "+" if value > 0 else ""
    return sign + format_value(abs(value), kind)


def _with_half_width(stat: dict | None, fmt: Callable[[object], str]) -> str:
    """``"mean ± half-width"`` of a replication_stats dict (just the mean if there is no CI)."""
    if not stat or stat.get("mean") is None:
        return "n/a"
    if stat.get("ci_low") is None or stat.get("ci_high") is None:
        return fmt(stat["mean"]) + (" (CI unbounded)" if "unbounded" in stat.get("reason", "") else "")
    half = (stat["ci_high"] - stat["ci_low"]) / 2
    return f"{fmt(stat['mean'])} ± {fmt(half).lstrip('+')}"


def comparison_table(summary: dict, rows: Sequence[tuple[str, str, str]], format_value: Callable) -> str:
    """A console table: one column per scheme, then one per difference ("B - A").

    ``summary`` has ``"schemes"`` ({scheme: {metric: value}}) and optionally ``"difference"``
    (as :func:`paired_difference`) and ``"replications"`` (as :func:`summarise_replications`).
    ``rows`` are (metric key, label, kind) like ``simulation.cli.ROWS``; ``format_value(value,
    kind)`` formats one scheme cell, differences are signed and shares' differences in pp. With
    ``"replications"`` every cell is "mean ± CI half-width" over the replications (schemes and
    differences then come from there). Difference columns appear only when there are differences
    to show. Rows whose metric is missing from every scheme are skipped.
    """
    reps = summary.get("replications")
    if reps:
        schemes, diffs = reps["schemes"], reps.get("difference", {})
    else:
        schemes, diffs = summary["schemes"], summary.get("difference") or {}
    headers = [*schemes, *diffs]

    def cell(source: dict, key: str, kind: str, fmt: Callable[[object, str], str]) -> str:
        if reps:
            return _with_half_width(source.get(key), lambda value: fmt(value, kind))
        return fmt(source.get(key), kind)

    def signed(value: object, kind: str) -> str:
        return format_difference(value, kind, format_value)

    body = []
    for key, label, kind in rows:
        if not any(key in metrics for metrics in schemes.values()):
            continue
        cells = [cell(m, key, kind, format_value) for m in schemes.values()]
        cells += [cell(d, key, kind, signed) for d in diffs.values()]
        body.append((label, cells))
    widths = [
        max(MIN_COLUMN_WIDTH, len(h), *(len(cells[i]) for _, cells in body)) for i, h in enumerate(headers)
    ]

    lines = []
    if "scenario" in summary:
        seed = f" (seed {summary['seed']})" if "seed" in summary else ""
        lines.append(f"{summary['scenario']}{seed}")
    if reps:
        level = f"{100 * reps['confidence']:g}%"
        plural = "" if reps["n"] == 1 else "s"
        lines.append(f"mean ± {level} CI half-width over {reps['n']} replication{plural}")
    lines.append(
        f"{'metric':<{LABEL_WIDTH}}" + "".join(f"  {h:>{w}}" for h, w in zip(headers, widths, strict=True))
    )
    lines.append("-" * len(lines[-1]))
    for label, cells in body:
        lines.append(
            f"{label:<{LABEL_WIDTH}}" + "".join(f"  {c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- figure


def comparison_figure(replications: dict, metrics: list[tuple[str, str]]) -> Figure:
    """Mean and confidence interval of each metric per scheme, and of each paired difference.

    ``replications`` is a :func:`summarise_replications` result; ``metrics`` are (metric key,
    label) pairs, one column of panels each. The top row shows every scheme's mean with its CI as
    error bars; the bottom row (only if there are differences) every difference "B - A" with a
    zero line. Values are plotted in the metric's own units. The figure is not attached to pyplot:
    the caller saves it (``fig.savefig``) and need not close it.
    """
    if not metrics:
        raise ValueError("comparison_figure needs at least one metric")
    groups = [replications["schemes"]]
    if replications.get("difference"):
        groups.append(replications["difference"])
    colours = _colours(list(replications["schemes"]), list(replications.get("difference", {})))
    from matplotlib.figure import Figure  # loaded when first needed

    fig = Figure(figsize=(2.8 * len(metrics) + 0.6, 2.9 * len(groups)), layout="constrained")
    axes = fig.subplots(len(groups), len(metrics), squeeze=False)
    for row, (group, panels) in enumerate(zip(groups, axes, strict=True)):
        for ax, (key, label) in zip(panels, metrics, strict=True):
            _errorbars(ax, {name: values.get(key) for name, values in group.items()}, colours)
            if row == 1:
                ax.axhline(0, color="grey", linewidth=0.8, linestyle="--")
            ax.set_title(label if row == 0 else f"{label}: difference", fontsize=9)
        panels[0].set_ylabel("mean by scheme" if row == 0 else "paired difference")
    level = f"{100 * replications['confidence']:g}%"
    fig.suptitle(f"mean and {level} confidence interval over {replications['n']} replications", fontsize=10)
    return fig


def _colours(schemes: list[str], differences: list[str]) -> dict[str, str]:
    """A colour per scheme, and for difference "B - A" the colour of B."""
    colours = {name: f"C{i}" for i, name in enumerate(schemes)}
    for diff in differences:
        first = next((s for s in schemes if diff.startswith(f"{s} - ")), None)
        colours[diff] = "C0" if first is None else colours[first]
    return colours


def _errorbars(ax, stats_by_name: dict[str, dict | None], colours: dict[str, str]) -> None:
    """One point with CI error bars per name (the point alone without a CI; nothing if no mean)."""
    names = list(stats_by_name)
    if all((stat or {}).get("mean") is None for stat in stats_by_name.values()):
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="grey")
    for x, name in enumerate(names):
        stat = stats_by_name[name] or {}
        mean = stat.get("mean")
        if mean is None:
            continue
        low, high = stat.get("ci_low"), stat.get("ci_high")
        yerr = None if low is None or high is None else [[mean - low], [high - mean]]
        ax.errorbar([x], [mean], yerr=yerr, fmt="o", color=colours.get(name, "C0"), capsize=4)
    ax.set_xticks(range(len(names)), names, fontsize=8, rotation=15 if len(names) > 2 else 0)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.tick_params(axis="y", labelsize=8)
