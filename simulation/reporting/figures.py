"""Figures of one run (PNG): prices against the cap, the weekly flows, price against quality."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from simulation.reporting.compare import comparison_figure  # noqa: E402
from simulation.reporting.registry import METRICS  # noqa: E402

if TYPE_CHECKING:
    from simulation.runner import RunResult


def save_figures(result: RunResult, folder: Path, run_figures_drawn: bool = False) -> list[Path]:
    """Write every figure of ``result`` into ``folder`` (with replications, also the comparison of
    schemes with confidence intervals); returns the paths. ``run_figures_drawn``: the root seed's
    figures are in ``folder`` already (``save_run_figures``, drawn while the replications ran)."""
    paths = (
        [folder / f"{name}.png" for name in RUN_FIGURES]
        if run_figures_drawn
        else save_run_figures(result, folder)
    )
    if "replications" in result.summary:
        fig = comparison_figure(result.summary["replications"], COMPARISON_METRICS)
        path = folder / "comparison.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths


def save_run_figures(result: RunResult, folder: Path) -> list[Path]:
    """Write the figures of the root seed's run (``RUN_FIGURES``: none needs the replications)
    into ``folder``; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, draw in RUN_FIGURES.items():
        fig = draw(result)
        path = folder / f"{name}.png"
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths


FIGURE_METRICS = (
    "participants_trained",
    "completion_rate",
    "mean_true_quality_enrolled",
    "itt_employment_pp",
    "true_effect_offered_pp",
    "cost_per_additional_job_idr",
)
COMPARISON_METRICS = [(m.name, m.label) for m in METRICS if m.name in FIGURE_METRICS]


def price_distribution(result: RunResult):
    """Histogram of prices paid and of listed prices, with each scheme's price cap marked."""
    fig, axes = plt.subplots(
        1, len(result.models), figsize=(6.5 * len(result.models), 4), squeeze=False, layout="constrained"
    )
    for ax, (name, model) in zip(axes[0], result.models.items(), strict=True):
        cap = model.scheme.price_cap_idr
        listed = model.courses.price_idr[model.courses.active] / 1e3
        tally = getattr(model.scheme, "purchases", None)
        edges = tally.price_edges_idr / 1e3 if tally is not None else np.linspace(0, listed.max(), 31)
        if tally is not None and tally.count:
            ax.stairs(
                tally.price_counts / tally.count / np.diff(edges),
                edges,
                fill=True,
                alpha=0.6,
                label="paid (all purchases)",
            )
        ax.hist(listed, bins=edges, alpha=0.6, density=True, label="listed (active courses, end)")
        if np.isfinite(cap):
            ax.axvline(cap / 1e3, color="crimson", linestyle="--", label=f"cap Rp{cap / 1e3:,.0f}k")
        ax.set_xlabel("course price (thousand IDR)")
        ax.set_ylabel("density")
        ax.set_title(f"{name}: price distribution")
        ax.legend(fontsize=8)
    return fig


def weekly(result: RunResult):
    """Weekly enrolments and completions (real people), and employment rates by group."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True)
    for name in result.models:
        ts = result.timeseries[result.timeseries["scheme"] == name]
        top.plot(ts["week"], ts["enrolments"] / 1e3, label=f"{name}: enrolments")
        top.plot(ts["week"], ts["completions"] / 1e3, linestyle="--", label=f"{name}: completions")
        bottom.plot(ts["week"], 100 * ts["employment_rate_selected"], label=f"{name}: selected")
        bottom.plot(
            ts["week"],
            100 * ts["employment_rate_twin_selected"],
            linestyle=":",
            label=f"{name}: selected, untreated twin",
        )
    ts = result.timeseries[result.timeseries["scheme"] == result.schemes[0]]
    bottom.plot(
        ts["week"], 100 * ts["employment_rate_control"], color="grey", label="never selected (control)"
    )
    top.set_ylabel("thousand people per week")
    top.legend(fontsize=8)
    bottom.set_ylabel("employed (%)")
    bottom.set_xlabel("week")
    bottom.legend(fontsize=8)
    return fig


def price_vs_quality(result: RunResult):
    """Price against quality: for a market, each course's final price against its true quality
    (area = enrolments); for a tender, each contract's price per trainee against the quality
    declared (hollow) and delivered (filled) (area = seats)."""
    fig, axes = plt.subplots(
        1, len(result.models), figsize=(6.5 * len(result.models), 4.5), squeeze=False, layout="constrained"
    )
    for ax, (name, model) in zip(axes[0], result.models.items(), strict=True):
        contracts = getattr(model.scheme, "contracts", None)
        if contracts is not None:
            _contracts(ax, contracts)
            ax.set_title(f"{name}: contract price vs quality (area = seats)")
        else:
            _courses(ax, model)
            ax.set_title(f"{name}: price vs quality (area = sales; grey = exited)")
        ax.set_ylabel("price (thousand IDR)")
    return fig


def _courses(ax, model) -> None:
    c = model.courses
    sales = c.enrolments.astype(float)
    size = 5 + 300 * sales / max(sales.max(), 1.0)
    colour = np.where(c.active, "tab:blue", "tab:grey")
    ax.scatter(c.true_quality, c.price_idr / 1e3, s=size, alpha=0.4, c=colour, edgecolors="none")
    if np.isfinite(model.scheme.price_cap_idr):
        ax.axhline(model.scheme.price_cap_idr / 1e3, color="crimson", linestyle="--", label="cap")
        ax.legend(fontsize=8, loc="upper left")  # a fixed corner: "best" would test every point
    ax.set_xlabel("true quality (expected skill gain, 0-1)")


def _contracts(ax, contracts) -> None:
    if not contracts:
        ax.text(0.5, 0.5, "no contract awarded", ha="center", va="center", transform=ax.transAxes)
        return
    seats = np.array([c.seats for c in contracts], dtype=float)
    size = 10 + 300 * seats / seats.max()
    price = np.array([c.price_idr for c in contracts]) / 1e3
    declared = np.array([c.declared_quality for c in contracts])
    delivered = np.array([c.delivered_quality for c in contracts])
    ax.scatter(declared, price, s=size, facecolors="none", edgecolors="tab:orange", label="declared")
    ax.scatter(delivered, price, s=size, alpha=0.5, c="tab:orange", edgecolors="none", label="delivered")
    ax.legend(fontsize=8, loc="upper left")  # a fixed corner: "best" would test every point
    ax.set_xlabel("quality (0-1): declared in the bid, delivered after shading")


RUN_FIGURES = {
    "price_distribution": price_distribution,
    "weekly": weekly,
    "price_vs_quality": price_vs_quality,
}
