"""Do results depend on the number of simulated people? A table of every metric across sizes.

Each simulated person stands for ``scale`` real ones, so a scenario run at 20,000 or at 500,000
simulated recipients should give the same results up to sampling noise. This module compares,
for every metric of every scheme and of every paired difference, the mean and confidence interval
over replications at each size with those at the largest size (the *reference*, the least noisy).

Everything here is pure (it imports only the metric registry): it reads the summary dicts of
:func:`simulation.runner.run_scenario` (their ``"replications"`` block, as
:func:`simulation.reporting.compare.summarise_replications` writes it) and returns plain rows,
text and a figure; it runs nothing.

A row is one (group, metric): the group is a scheme (``kind`` "scheme") or a difference such as
"tender - voucher" (``kind`` "difference"). Its ``cells`` map each size to
``{"mean", "ci_low", "ci_high", "n", "status"}``, the status being one of

* ``"reference"``: the largest size, where the metric is defined;
* ``"ok"``: the interval overlaps the reference's (touching end points count as overlapping);
* ``"disjoint"``: the interval and the reference's do not overlap (**flagged**);
* ``"not_compared"``: defined, but this size or the reference has no interval (one usable
  replication) or the reference is undefined, so nothing can be said;
* ``"undefined"``: the metric is in the summary but None in every replication at this size,
  while defined at another size (**flagged**);
* ``"missing"``: the metric (or the whole group) is absent from this size's summary, while
  defined at another size (**flagged**);
* ``"none"``: undefined or absent at every size (nothing to compare, not flagged).

A row is ``flagged`` if any of its cells is. Metrics named in ``headline`` are marked in every
group (a scheme's value and its differences alike), so that a report can say "no headline metric
flagged". Flags are a screen, not a test: with many metrics, some 95% intervals will miss each
other by chance, and intervals from few replications are wide.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping
from numbers import Real
from typing import TYPE_CHECKING, SupportsInt

from simulation.reporting.registry import METRICS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# The headline metrics of the convergence benchmark: the registry's (simulation.reporting.registry);
# a scheme without one of them simply has no row for it.
DEFAULT_HEADLINE = tuple(m.name for m in METRICS if m.headline)

STATUSES = ("reference", "ok", "disjoint", "not_compared", "undefined", "missing", "none")
FLAGGED = frozenset({"disjoint", "undefined", "missing"})
CELL_KEYS = ("mean", "ci_low", "ci_high", "n", "status")
NO_HEADLINE_FLAGGED = "no headline metric flagged"


# --------------------------------------------------------------------------- reading summaries


def replication_block(summary: Mapping) -> Mapping:
    """The replication statistics of a run summary: its ``"replications"`` block if it has one,
    else ``summary`` itself (taken to be such a block, or a single run's ``{"schemes": ...}``)."""
    return summary.get("replications") or summary


def _number(value) -> float | None:
    """``value`` as a float if it is a finite real (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _stat(value) -> dict | None:
    """A replication_stats dict from a summary entry; a bare number (a single run's metric) is
    read as one replication without an interval. None if the metric is absent."""
    if isinstance(value, Mapping):
        mean, low, high = (_number(value.get(k)) for k in ("mean", "ci_low", "ci_high"))
        n = value.get("n")
        # Every Real has __int__, but typeshed's numbers.Real does not say so: hence SupportsInt.
        if isinstance(n, Real) and isinstance(n, SupportsInt) and not isinstance(n, bool):
            n = int(n)
        else:
            n = 0 if mean is None else 1
        if low is None or high is None:
            low = high = None
        return {"mean": mean, "ci_low": low, "ci_high": high, "n": n}
    mean = _number(value)
    return {"mean": mean, "ci_low": None, "ci_high": None, "n": 0 if mean is None else 1}


def _groups(blocks: Iterable[Mapping]) -> dict[tuple[str, str], dict[str, None]]:
    """(kind, group) -> ordered metric names, in order of first appearance: schemes, then differences."""
    found: dict[tuple[str, str], dict[str, None]] = {}
    blocks = list(blocks)
    for kind, key in (("scheme", "schemes"), ("difference", "difference")):
        for block in blocks:
            for group, metrics in (block.get(key) or {}).items():
                found.setdefault((kind, group), {}).update(dict.fromkeys(metrics))
    return found


# --------------------------------------------------------------------------- the table


def intervals_overlap(a: tuple[float, float], b: tuple[float, float], slack: float = 0.0) -> bool:
    """Whether closed intervals ``a`` and ``b`` share a point (touching end points do), or are at
    most ``slack`` apart."""
    return a[0] <= b[1] + slack and b[0] <= a[1] + slack


def convergence_rows(
    summaries: Mapping[int, Mapping], headline: Iterable[str] = DEFAULT_HEADLINE, rel_tol: float = 0.0
) -> list[dict]:
    """One row per (group, metric) comparing every size with the largest.

    ``summaries`` maps a size (simulated recipients) to that size's run summary (or directly to
    its replication block, see :func:`replication_block`). Rows list the schemes first, then the
    differences, each in order of first appearance from the smallest size up. Each row is
    ``{"kind", "group", "metric", "headline", "flagged", "cells": {size: cell}}`` with sizes in
    ascending order and cells as described in the module docstring.

    With ``rel_tol`` > 0, intervals less than ``rel_tol * |reference mean|`` apart still count as
    overlapping: deterministic metrics have zero-width intervals, and rounding people to
    ``scale`` makes them differ slightly between sizes (e.g. ``rel_tol=0.001`` ignores gaps under
    0.1% of the value).
    """
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be zero or more (got {rel_tol})")
    if not summaries:
        return []
    sizes = sorted(summaries)
    reference = sizes[-1]
    blocks = {size: replication_block(summaries[size]) for size in sizes}
    headline = set(headline)
    rows = []
    for (kind, group), metrics in _groups(blocks[s] for s in sizes).items():
        source = "schemes" if kind == "scheme" else "difference"
        for metric in metrics:
            stats = {}
            for size in sizes:
                metrics_here = (blocks[size].get(source) or {}).get(group)
                if metrics_here is not None and metric in metrics_here:
                    stats[size] = _stat(metrics_here[metric])
                else:
                    stats[size] = None
            cells = _cells(stats, reference, rel_tol)
            rows.append(
                {
                    "kind": kind,
                    "group": group,
                    "metric": metric,
                    "headline": metric in headline,
                    "flagged": any(cell["status"] in FLAGGED for cell in cells.values()),
                    "cells": cells,
                }
            )
    return rows


def _cells(stats: dict[int, dict | None], reference: int, rel_tol: float = 0.0) -> dict[int, dict]:
    """The cells of one row: ``stats`` per size (None where the metric is absent)."""
    defined = {size for size, stat in stats.items() if stat is not None and stat["mean"] is not None}
    ref = stats[reference] if reference in defined else None
    cells = {}
    for size, stat in stats.items():
        cell = dict.fromkeys(CELL_KEYS)
        if stat is not None:
            cell.update(stat)
        else:
            cell["n"] = 0
        if not defined:
            cell["status"] = "none"
        elif size not in defined:
            cell["status"] = "missing" if stat is None else "undefined"
        elif size == reference:
            cell["status"] = "reference"
        elif stat is None or ref is None or ref["ci_low"] is None or stat["ci_low"] is None:
            cell["status"] = "not_compared"
        else:
            here = (stat["ci_low"], stat["ci_high"])
            there = (ref["ci_low"], ref["ci_high"])
            slack = rel_tol * abs(ref["mean"])
            cell["status"] = "ok" if intervals_overlap(here, there, slack) else "disjoint"
        cells[size] = cell
    return cells


def sizes_of(rows: list[dict]) -> list[int]:
    """The sizes of a table, ascending."""
    return sorted({size for row in rows for size in row["cells"]})


def flagged_rows(rows: list[dict], headline_only: bool = False) -> list[dict]:
    """The flagged rows (only those of headline metrics with ``headline_only``)."""
    return [row for row in rows if row["flagged"] and (row["headline"] or not headline_only)]


def headline_verdict(rows: list[dict]) -> str:
    """``"no headline metric flagged"`` or ``"headline metrics flagged: voucher/x, ..."``."""
    flagged = flagged_rows(rows, headline_only=True)
    if not flagged:
        return NO_HEADLINE_FLAGGED
    return "headline metrics flagged: " + ", ".join(f"{r['group']}/{r['metric']}" for r in flagged)


def missing_headline(rows: list[dict], headline: Iterable[str]) -> list[str]:
    """Headline names that no row has (misspelt, renamed, or of a scheme that was not run)."""
    present = {row["metric"] for row in rows}
    return [name for name in dict.fromkeys(headline) if name not in present]


def flag_messages(rows: list[dict]) -> list[str]:
    """One line per flagged cell, e.g.
    ``"voucher / completion_rate at 5,000: 95% CI [0.91, 0.92] misses [0.93, 0.94] at 20,000"``."""
    lines = []
    for row in flagged_rows(rows):
        reference = max(row["cells"])
        ref = row["cells"][reference]
        star = " (headline)" if row["headline"] else ""
        for size, cell in row["cells"].items():
            where = f"{row['group']} / {row['metric']}{star} at {size:,}"
            if cell["status"] == "disjoint":
                lines.append(
                    f"{where}: CI {_interval(cell)} (mean {format_number(cell['mean'])}) misses "
                    f"{_interval(ref)} (mean {format_number(ref['mean'])}) at {reference:,}"
                )
            elif cell["status"] == "undefined":
                lines.append(f"{where}: undefined (None in every replication), defined at other sizes")
            elif cell["status"] == "missing":
                lines.append(f"{where}: absent from the summary, defined at other sizes")
    return lines


# --------------------------------------------------------------------------- markdown


def format_number(value: float | None, digits: int = 4) -> str:
    """``digits`` significant digits, large numbers with a suffix: ``0.9312``, ``-6.4``, ``1884``,
    ``19.45 k``, ``127.3 m``, ``32.63 bn``, ``1.2 tn``; "n/a" for None."""
    if value is None:
        return "n/a"
    rounded = float(f"{value:.{digits}g}")
    for factor, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " m"), (1e4, " k")):
        if abs(rounded) >= factor:
            unit = 1e3 if suffix == " k" else factor
            return f"{rounded / unit:.{digits}g}{suffix}"
    return f"{rounded:.{digits}g}"


def _interval(cell: dict) -> str:
    return f"[{format_number(cell['ci_low'])}, {format_number(cell['ci_high'])}]"


def _markdown_cell(cell: dict, replications: int) -> str:
    status = cell["status"]
    if status == "none":
        return "n/a"
    if status == "undefined":
        return "**undefined** ✗"
    if status == "missing":
        return "**absent** ✗"
    text = format_number(cell["mean"])
    if cell["ci_low"] is not None:
        text += f" {_interval(cell)}"
    if cell["n"] < replications:
        text += f" (n={cell['n']})"
    return f"**{text}** ✗" if status == "disjoint" else text


def markdown_table(
    rows: list[dict],
    title: str | None = None,
    confidence: float = 0.95,
    replications: int | None = None,
    hide_undefined: bool = True,
) -> str:
    """The table in GitHub markdown: one column per size, "mean [CI]" in each cell.

    Flagged cells are bold and marked ✗; headline metrics are bold; "(n=k)" follows a mean made of
    fewer than ``replications`` replications (default: the row's most), the metric having been None
    in the others. With ``hide_undefined``, rows undefined at every size (mostly differences of a
    metric that only one scheme has) are left out and counted below the table. A legend and the
    headline verdict follow the table.
    """
    sizes = sizes_of(rows)
    level = f"{100 * confidence:g}%"
    shown = [r for r in rows if not (hide_undefined and _undefined_everywhere(r))]
    lines = [f"### {title}", ""] if title else []
    if sizes:
        header = ["group", "metric", *(f"{s:,}" + (" (reference)" if s == sizes[-1] else "") for s in sizes)]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * 2 + "---:|" * len(sizes)]
    for row in shown:
        most = replications or max(cell["n"] for cell in row["cells"].values())
        metric = f"**{row['metric']}**" if row["headline"] else row["metric"]
        cells = [_markdown_cell(row["cells"][s], most) if s in row["cells"] else "" for s in sizes]
        lines.append("| " + " | ".join([row["group"], metric, *cells]) + " |")
    lines += [
        "",
        f"Cells: mean [{level} CI] over replications; **bold** metrics are headline metrics. "
        f"✗ marks a size whose CI misses the reference's (the largest size), or a metric defined at "
        f"one size and undefined (None in every replication) or absent at another.",
    ]
    if len(shown) < len(rows):
        hidden = len(rows) - len(shown)
        lines.append(f"Not shown: {hidden} row{'' if hidden == 1 else 's'} undefined at every size.")
    lines += ["", f"{len(flagged_rows(rows))} of {len(rows)} rows flagged; {headline_verdict(rows)}."]
    return "\n".join(lines) + "\n"


def _undefined_everywhere(row: dict) -> bool:
    return all(cell["status"] == "none" for cell in row["cells"].values())


# --------------------------------------------------------------------------- CSV


def csv_columns(sizes: Iterable[int]) -> list[str]:
    """``kind, group, metric, headline, flagged`` then ``mean_<size>``, ``ci_low_<size>`` ... per size."""
    return ["kind", "group", "metric", "headline", "flagged"] + [
        f"{key}_{size}" for size in sizes for key in CELL_KEYS
    ]


def to_csv(rows: list[dict]) -> str:
    """The table as CSV, one line per row (numbers in full precision, None as an empty field)."""
    sizes = sizes_of(rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(csv_columns(sizes))
    for row in rows:
        fields = [row["kind"], row["group"], row["metric"], str(row["headline"]), str(row["flagged"])]
        for size in sizes:
            cell = row["cells"].get(size) or {}
            fields += ["" if cell.get(key) is None else repr(cell[key]) for key in CELL_KEYS[:-1]]
            fields.append(cell.get("status") or "")
        writer.writerow(fields)
    return out.getvalue()


def from_csv(text: str) -> list[dict]:
    """Rows read back from :func:`to_csv`."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    sizes = list(dict.fromkeys(int(name.rsplit("_", 1)[1]) for name in header[5:]))
    rows = []
    for fields in reader:
        kind, group, metric, headline, flagged = fields[:5]
        cells = {}
        for i, size in enumerate(sizes):
            mean, low, high, n, status = fields[5 + len(CELL_KEYS) * i : 5 + len(CELL_KEYS) * (i + 1)]
            if not status:
                continue
            cells[size] = {
                "mean": float(mean) if mean else None,
                "ci_low": float(low) if low else None,
                "ci_high": float(high) if high else None,
                "n": int(n) if n else 0,
                "status": status,
            }
        rows.append(
            {
                "kind": kind,
                "group": group,
                "metric": metric,
                "headline": headline == "True",
                "flagged": flagged == "True",
                "cells": cells,
            }
        )
    return rows


# --------------------------------------------------------------------------- figure


def convergence_figure(
    rows: list[dict], metrics: Iterable[str] | None = None, confidence: float = 0.95
) -> Figure:
    """Mean and CI against size (log x) for each metric, one panel per metric, one line per scheme.

    ``metrics`` default to the rows' headline metrics that some scheme has; differences are not
    drawn; schemes are shifted a little sideways so that their bars do not hide each other. Flagged
    sizes get a hollow red ring. The figure is not attached to pyplot: the caller
    saves it (``fig.savefig``) and need not close it.
    """
    schemes = [row for row in rows if row["kind"] == "scheme"]
    if metrics is None:
        metrics = [row["metric"] for row in schemes if row["headline"]]
    metrics = [m for m in dict.fromkeys(metrics) if any(row["metric"] == m for row in schemes)]
    if not metrics:
        raise ValueError("convergence_figure: none of the metrics is in the table")
    from matplotlib.figure import Figure  # loaded when first needed

    columns = min(4, len(metrics))
    lines = math.ceil(len(metrics) / columns)
    fig = Figure(figsize=(3.2 * columns + 0.4, 2.7 * lines + 0.6), layout="constrained")
    axes = fig.subplots(lines, columns, squeeze=False).ravel()
    sizes = sizes_of(rows)
    groups = list(dict.fromkeys(row["group"] for row in schemes))
    colours = {group: f"C{i}" for i, group in enumerate(groups)}
    for ax, metric in zip(axes, metrics, strict=False):
        for row in (r for r in schemes if r["metric"] == metric):
            points = [(s, c) for s, c in sorted(row["cells"].items()) if c["mean"] is not None]
            if not points:
                continue
            dodge = 1 + 0.03 * (groups.index(row["group"]) - (len(groups) - 1) / 2)  # bars side by side
            x = [s * dodge for s, _ in points]
            y = [c["mean"] for _, c in points]
            low = [c["mean"] - c["ci_low"] if c["ci_low"] is not None else 0.0 for _, c in points]
            high = [c["ci_high"] - c["mean"] if c["ci_high"] is not None else 0.0 for _, c in points]
            colour = colours[row["group"]]
            ax.errorbar(x, y, yerr=[low, high], fmt="o-", color=colour, capsize=3, label=row["group"])
            bad = [(s * dodge, c["mean"]) for s, c in points if c["status"] in FLAGGED]
            if bad:
                ax.scatter(*zip(*bad, strict=True), s=120, facecolors="none", edgecolors="red", zorder=3)
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{s:,}" for s in sizes], minor=False)
        ax.set_xticks([], minor=True)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("simulated recipients", fontsize=8)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    level = f"{100 * confidence:g}%"
    fig.suptitle(f"mean and {level} CI over replications against size (red ring: flagged)", fontsize=10)
    return fig
