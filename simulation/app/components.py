"""Solara components of the comparison: the lever panel, the table, the figures, and the whole
explorer (levers, a run button with progress, and the results). They render in the page served by
``run.py app`` and in Jupyter (through ipywidgets) alike: ``display(Explorer(auto_run=True))``.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

import solara
import solara.lab

from simulation.app import figures
from simulation.app.levers import (
    DEFAULT_REPLICATIONS,
    DEFAULT_SCENARIO,
    LEVERS_BY_KEY,
    REPLICATIONS_RANGE,
    SIZE_RANGE,
    Comparison,
    Lever,
    default_size,
    lever_defaults,
    run_comparison,
    scenario_choices,
)
from simulation.config.scenario import ScenarioError


class Superseded(Exception):
    """A run stopped because a newer one started."""


@solara.component
def LeverPanel(values: solara.Reactive[dict[str, float]], disabled: bool = False):
    """A slider for each lever in ``values`` (lever key -> value), writing back into it."""
    for key, value in values.value.items():
        lever = LEVERS_BY_KEY[key]
        LeverSlider(lever, value, lambda v, key=key: values.set({**values.value, key: float(v)}), disabled)


@solara.component
def LeverSlider(lever: Lever, value: float, on_value: Callable[[float], None], disabled: bool = False):
    """One lever: its label and value on a line, its slider below (whole numbers for IDR, two
    decimals for shares). The slider's container has the class ``lever-<key with dashes>``."""
    shown = f"{value:,.0f}" if lever.whole else f"{value:.2f}"
    with solara.Column(gap="0px", classes=["lever", css_name(lever.key)]):
        solara.Text(f"{lever.label}: {shown}", style={"font-size": "0.9em"})
        if lever.whole:
            solara.SliderInt(
                "",
                value=int(round(lever.clamp(value))),
                min=int(lever.low),
                max=int(lever.high),
                step=int(lever.step),
                on_value=on_value,
                disabled=disabled,
                thumb_label=False,
            )
        else:
            solara.SliderFloat(
                "",
                value=lever.clamp(value),
                min=lever.low,
                max=lever.high,
                step=lever.step,
                on_value=on_value,
                disabled=disabled,
                thumb_label=False,
            )


def css_name(key: str) -> str:
    """The CSS class of a lever's container: ``voucher.credit_idr`` -> ``lever-voucher-credit_idr``."""
    return "lever-" + key.replace(".", "-")


TABLE_STYLE = "border-collapse: collapse; font-size: 0.9em"
CELL_STYLE = "padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right"


def table_html(comparison: Comparison) -> str:
    """The comparison table as an HTML table (cells escaped): a row per metric, a column per
    scheme and per paired difference."""
    html = comparison.table.to_html(index=False, border=0, escape=True)
    html = html.replace("<table", f'<table style="{TABLE_STYLE}"', 1)
    for tag in ("th", "td"):
        html = html.replace(f"<{tag}>", f'<{tag} style="{CELL_STYLE}">')
    return html


@solara.component
def ComparisonTable(comparison: Comparison):
    """The comparison table with its heading: means and 95% CI half-widths over the replications.
    (HTML, not Markdown: Solara's Markdown fetches a maths library from the internet.)"""
    n = comparison.replications["n"]
    solara.Text(
        f"{comparison.scenario}, {comparison.size:,} simulated recipients, root seed {comparison.seed}: "
        f"mean ± 95% CI half-width over {n} paired replications",
        style={"font-weight": "bold"},
    )
    solara.HTML(tag="div", unsafe_innerHTML=table_html(comparison), classes=["comparison-table"])


@solara.component
def ComparisonFigures(comparison: Comparison):
    """Price against quality, the weekly flows, and the paired comparison with CIs."""
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FigureMatplotlib(figures.price_quality_figure(comparison), format="png", dpi=80)
        solara.FigureMatplotlib(figures.weekly_figure(comparison), format="png", dpi=80)
    solara.FigureMatplotlib(figures.comparison_figure(comparison), format="png", dpi=80)


@solara.component
def Explorer(
    scenario: str = DEFAULT_SCENARIO,
    size: int | None = None,
    replications: int = DEFAULT_REPLICATIONS,
    auto_run: bool = False,
):
    """Pick a scenario, move the levers, run the paired comparison in the background (with a
    progress bar) and see the table and figures. ``auto_run`` re-runs whenever a value changes
    (the tuning notebook); otherwise the Run button starts a run (the page). A refused value is
    shown as a message, never a traceback."""
    name = solara.use_reactive(scenario)
    values = solara.use_reactive(solara.use_memo(lambda: lever_defaults(scenario), []))
    recipients = solara.use_reactive(size or default_size(scenario))
    seeds = solara.use_reactive(replications)
    extra = solara.use_reactive("")
    runs = solara.use_reactive(0)  # Run presses, so that each result is told apart from the last

    def choose(chosen: str) -> None:
        name.set(chosen)
        values.set(lever_defaults(chosen))
        recipients.set(default_size(chosen))

    def work() -> tuple[int, Comparison]:
        def progress(done: int, total: int) -> None:
            if not task.is_current():
                raise Superseded
            task.progress = 100 * done / total

        number = runs.value  # the Run press this result answers
        try:
            return number, run_comparison(
                name.value,
                values.value,
                recipients.value,
                seeds.value,
                extra_overrides=extra.value.splitlines(),
                on_progress=progress,
            )
        except (ScenarioError, Superseded):
            raise
        except Exception:
            traceback.print_exc(file=sys.stderr)  # a bug: the full story goes to the server's log
            raise

    key = [name.value, repr(values.value), recipients.value, seeds.value, extra.value]
    task = solara.lab.use_task(work, dependencies=key if auto_run else None, raise_error=False)

    with solara.Columns([1, 2]):
        with solara.Column():
            solara.Select("scenario", values=list(scenario_choices()), value=name.value, on_value=choose)
            LeverPanel(values, disabled=task.pending)
            lo, hi, step = SIZE_RANGE
            size_lever = Lever("size", "simulated recipients", lo, hi, step, "")
            LeverSlider(size_lever, recipients.value, lambda v: recipients.set(int(v)), task.pending)
            seeds_lever = Lever("replications", "paired replications", *REPLICATIONS_RANGE, 1, "")
            LeverSlider(seeds_lever, seeds.value, lambda v: seeds.set(int(v)), task.pending)
            solara.InputTextArea(
                "other values (KEY.PATH=VALUE, one a line)",
                value=extra,
                continuous_update=True,
                disabled=task.pending,
            )
            if not auto_run:

                def start() -> None:
                    runs.set(runs.value + 1)  # first: the task's thread reads it
                    task()

                solara.Button("Run", on_click=start, color="primary", disabled=task.pending)
        with solara.Column():
            RunStatus(task, seeds.value)


@solara.component
def RunStatus(task: solara.lab.Task, replications: int):
    """What the task shows: a progress bar while it runs, the message of a refused value, or the
    results (the task's value: the number of the Run press, 0 when runs start by themselves, and
    the comparison)."""
    if task.pending:
        done = round((task.progress or 0) * replications / 100)
        solara.ProgressLinear(task.progress or True)
        solara.Text(f"running: {done} of {replications} replications done", classes=["run-status"])
    elif task.error:
        error = task.exception
        if isinstance(error, ScenarioError):
            solara.Error(f"Not run: {error}", classes=["run-error"])
        elif not isinstance(error, Superseded):
            solara.Error(
                f"Internal error ({type(error).__name__}: {error}); please report it with the values "
                f"used. The server's log has the details.",
                classes=["run-error"],
            )
    elif task.finished and task.value is not None:
        run, comparison = task.value
        number = f"run {run} " if run else ""
        solara.Text(f"{number}done: {comparison.replications['n']} replications", classes=["run-status"])
        ComparisonTable(comparison)
        ComparisonFigures(comparison)
    else:
        solara.Info("Pick a scenario, move the levers and press Run.")
