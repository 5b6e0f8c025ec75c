"""The figures of a comparison: price against quality, the weekly flows, the paired comparison.

Each function returns a :class:`matplotlib.figure.Figure` that is not attached to pyplot, so the
server can draw in several threads at once and nothing needs closing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulation.app.levers import FIGURE_METRICS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simulation.app.levers import Comparison


def price_quality_figure(comparison: Comparison) -> Figure:
    """The voucher market's courses at the end of the first replication: final price (thousand
    IDR) against true quality (0-1), area by enrolments, courses that exited in grey."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 3.9), layout="constrained")
    ax = fig.subplots()
    courses = comparison.courses[comparison.courses["scheme"] == "voucher"]
    if courses.empty:
        ax.text(
            0.5, 0.5, "no voucher market in this scenario", ha="center", va="center", transform=ax.transAxes
        )
        ax.set_axis_off()
        return fig
    sales = courses["enrolments"].to_numpy(dtype=float)
    size = 5 + 300 * sales / max(sales.max(), 1.0)
    colour = np.where(courses["active"].to_numpy(), "tab:blue", "tab:grey")
    ax.scatter(
        courses["true_quality"], courses["price_idr"] / 1e3, s=size, c=colour, alpha=0.45, edgecolors="none"
    )
    ax.set_xlabel("true quality of the course (0-1)")
    ax.set_ylabel("price (thousand IDR)")
    ax.set_title("voucher: price against quality (area = sales; grey = exited)", fontsize=10)
    return fig


def weekly_figure(comparison: Comparison) -> Figure:
    """Weekly enrolments (thousand real people) and the employment rate of those offered (%),
    each scheme, with the never-selected comparison group, in the first replication."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 3.9), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    series = comparison.timeseries
    for i, name in enumerate(comparison.schemes):
        ts = series[series["scheme"] == name]
        top.plot(ts["week"], ts["enrolments"] / 1e3, color=f"C{i}", label=name)
        bottom.plot(ts["week"], 100 * ts["employment_rate_selected"], color=f"C{i}", label=f"{name}: offered")
    first = series[series["scheme"] == comparison.schemes[0]]
    bottom.plot(first["week"], 100 * first["employment_rate_control"], color="grey", label="never selected")
    top.set_ylabel("enrolments\n(thousand a week)")
    top.legend(fontsize=8)
    bottom.set_ylabel("employed (%)")
    bottom.set_xlabel("week")
    bottom.legend(fontsize=8)
    return fig


def comparison_figure(comparison: Comparison) -> Figure:
    """Each scheme's mean and 95% confidence interval, and each paired difference, of the
    effects, quality and cost per additional job (:func:`simulation.reporting.compare.comparison_figure`)."""
    from simulation.reporting.compare import comparison_figure as draw

    return draw(comparison.replications, list(FIGURE_METRICS))
