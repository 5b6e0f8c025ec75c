"""The levers of the page and the tuning notebook, and one paired comparison under them.

A lever is a scenario value a user moves (``voucher.credit_idr``, ``tender.price_weight``, ...).
:func:`run_comparison` builds the scenario with the levers' values as overrides (through
:func:`simulation.load_scenario`, so a bad value is a :class:`~simulation.ScenarioError` naming the
key), runs every scheme on ``replications`` paired seeds, exactly the seeds and statistics of
``run.py run --replications N`` (means and 95% confidence intervals of every metric and of every
paired difference), and returns the comparison table and what the figures need. Plain Python: no
Solara here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulation.config.scenario import ScenarioError, load_scenario, scenario_dir

if TYPE_CHECKING:
    import pandas as pd

    from simulation.config.scenario import Scenario

DEFAULT_SCENARIO = "prakerja_2020"
DEFAULT_SIZE = 5_000  # simulated recipients: a comparison in seconds, not minutes
DEFAULT_REPLICATIONS = 3  # paired seeds; 2 is the fewest that gives a confidence interval
SIZE_RANGE = (1_000, 50_000, 1_000)  # (lowest, highest, step) simulated recipients on the page
REPLICATIONS_RANGE = (2, 10)
TOPUP_KEY = "voucher.max_topup_idr"

# The metrics of the comparison table, in this order (names of simulation.reporting.registry).
TABLE_METRICS = (
    "participants_trained",
    "completion_rate",
    "mean_price_paid_idr",
    "mean_true_quality_enrolled",
    "mean_shading",
    "itt_employment_pp",
    "true_effect_offered_pp",
    "additional_jobs",
    "total_cost_idr",
    "cost_per_additional_job_idr",
)
# The panels of the comparison figure: (metric, label).
FIGURE_METRICS = (
    ("true_effect_offered_pp", "true effect on the offered (pp)"),
    ("itt_employment_pp", "effect of the offer, ITT (pp)"),
    ("mean_true_quality_enrolled", "true quality enrolled (0-1)"),
    ("cost_per_additional_job_idr", "cost per additional job (IDR)"),
)


@dataclass(frozen=True)
class Lever:
    """A scenario value on a slider: its key path, a label with its unit, and the slider's range
    (``low``, ``high``, ``step``, in the value's unit). ``scheme`` is the scheme block it needs."""

    key: str
    label: str
    low: float
    high: float
    step: float
    scheme: str
    whole: bool = True  # a whole number (IDR); else a share

    def clamp(self, value: float) -> float:
        """``value`` moved into the slider's range."""
        return min(max(value, self.low), self.high)


LEVERS: tuple[Lever, ...] = (
    Lever("voucher.credit_idr", "voucher credit (IDR)", 0, 5_000_000, 100_000, "voucher"),
    Lever("voucher.incentive.amount_idr", "cash incentive (IDR/month)", 0, 2_000_000, 50_000, "voucher"),
    Lever(TOPUP_KEY, "top-up above the credit (IDR; 0 = none)", 0, 2_000_000, 100_000, "voucher"),
    Lever("tender.price_weight", "tender: price weight in the score (0-1)", 0, 1, 0.05, "tender", False),
    Lever("tender.monitoring", "tender: monitoring probability (0-1)", 0, 1, 0.05, "tender", False),
    Lever(
        "tender.reference_cost_idr",
        "tender: reference cost (IDR/trainee)",
        500_000,
        10_000_000,
        250_000,
        "tender",
    ),
)
LEVERS_BY_KEY = {lever.key: lever for lever in LEVERS}


# --------------------------------------------------------------------------- scenarios and levers


def scenario_choices() -> dict[str, Path]:
    """The bundled scenarios, by name (the file's stem): ``{"prakerja_2020": Path(...), ...}``."""
    return {path.stem: path for path in sorted(scenario_dir().glob("*.yaml"))}


def scenario_path(scenario: str | Path) -> Path:
    """A bundled scenario's name (``"tiny"``) or a file's path, as a path; a ScenarioError if it
    is neither."""
    choices = scenario_choices()
    if str(scenario) in choices:
        return choices[str(scenario)]
    path = Path(scenario)
    if not path.is_file():
        raise ScenarioError(f"{scenario}: no such scenario (bundled: {', '.join(choices)})")
    return path


def levers_for(scenario: Scenario) -> list[Lever]:
    """The levers that apply to ``scenario``: those of the schemes it runs."""
    return [lever for lever in LEVERS if lever.scheme in scenario.scheme_names]


def lever_defaults(scenario: str | Path) -> dict[str, float]:
    """The scenario's own value of each lever that applies to it (the top-up: 0 unless top-ups
    are allowed)."""
    loaded = load_scenario(scenario_path(scenario))
    values = {}
    for lever in levers_for(loaded):
        value: Any = loaded
        for part in lever.key.split("."):
            value = getattr(value, part)
        if lever.key == TOPUP_KEY and loaded.voucher is not None and not loaded.voucher.topup_allowed:
            value = 0.0
        values[lever.key] = float(value)
    return values


def default_size(scenario: str | Path) -> int:
    """The page's default size for ``scenario``: the scenario's, at most DEFAULT_SIZE."""
    return min(load_scenario(scenario_path(scenario)).size, DEFAULT_SIZE)


def lever_overrides(values: Mapping[str, float]) -> list[str]:
    """``--set`` overrides (``KEY.PATH=VALUE``) for the levers' values.

    A top-up above 0 allows top-ups up to that amount and raises the price cap to the credit
    plus the top-up, so that courses may cost more than the credit and the buyer pays the rest.
    Raises ScenarioError for an unknown lever or a value that is not a finite number.
    """
    overrides = []
    for key, value in values.items():
        if key not in LEVERS_BY_KEY:
            raise ScenarioError(f"{key}: not a lever (levers: {', '.join(LEVERS_BY_KEY)})")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ScenarioError(f"{key}: expected a finite number (got {value!r})")
        overrides.append(f"{key}={value!r}")
    topup = values.get(TOPUP_KEY, 0)
    if topup > 0:
        credit = values.get("voucher.credit_idr")
        overrides.append("voucher.topup_allowed=true")
        if credit is not None:
            overrides.append(f"voucher.price_cap_idr={credit + topup!r}")
    return overrides


def build_scenario(
    scenario: str | Path,
    values: Mapping[str, float],
    size: int,
    seed: int | None = None,
    extra_overrides: Iterable[str] = (),
) -> Scenario:
    """The scenario (a bundled name or a path) with the levers' ``values`` and ``extra_overrides``
    (``KEY.PATH=VALUE`` lines, as ``--set``) applied, at ``size`` simulated recipients and
    ``seed`` (default: the scenario's). Raises ScenarioError, naming the file and key, if any value
    is refused."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ScenarioError(
            f"size: expected a whole number of simulated recipients, 1 or more (got {size!r})"
        )
    extra = [line.strip() for line in extra_overrides if line.strip()]
    return load_scenario(scenario_path(scenario), [*lever_overrides(values), *extra], seed=seed, size=size)


# --------------------------------------------------------------------------- the comparison


@dataclass
class Comparison:
    """A paired comparison of the schemes under the levers.

    ``replications`` is :func:`simulation.reporting.compare.summarise_replications`'s result (with
    ``seeds``); ``table`` has one row per metric of TABLE_METRICS that some scheme reports: the
    label, then one column per scheme and per paired difference ("tender - voucher") holding
    "mean ± 95% CI half-width". ``courses`` and ``timeseries`` are those of the first
    replication's run (as :class:`simulation.RunResult`'s)."""

    scenario: str
    seed: int
    size: int
    schemes: list[str]
    replications: dict
    table: pd.DataFrame
    courses: pd.DataFrame
    timeseries: pd.DataFrame
    overrides: list[str] = field(default_factory=list)

    def stat(self, metric: str, column: str) -> dict:
        """The statistics (mean, sd, n, ci_low, ci_high) of ``metric`` for a scheme or a
        difference ("tender - voucher")."""
        group = "difference" if " - " in column else "schemes"
        return self.replications[group][column].get(metric) or {}


def run_comparison(
    scenario: str | Path,
    lever_values: Mapping[str, float],
    size: int = DEFAULT_SIZE,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    extra_overrides: Iterable[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Every scheme of ``scenario`` under ``lever_values`` on ``replications`` paired seeds.

    The seeds are those ``run.py run --replications N`` derives from the root seed (``seed``, by
    default the scenario's), so the statistics equal that command's ``replications`` block.
    ``on_progress(done, total)`` is called after each replication (it may raise to stop the run).
    Raises ScenarioError for a bad value (with the key), fewer than 2 replications or a bad size.
    """
    from simulation.reporting.compare import replication_seeds, summarise_replications
    from simulation.runner import replicate, run_scenario

    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 2:
        raise ScenarioError(
            f"replications: expected 2 or more, for confidence intervals (got {replications!r})"
        )
    extra = list(extra_overrides)
    built = build_scenario(scenario, lever_values, size, seed, extra)
    seeds = replication_seeds(built.seed, replications)
    first = run_scenario(built, seed=seeds[0])  # the figures' run: replication 1, with its tables
    runs = [first.summary["schemes"]]
    if on_progress is not None:
        on_progress(1, replications)
    for done, s in enumerate(seeds[1:], start=2):
        runs.append(replicate(built, first.schemes, s))
        if on_progress is not None:
            on_progress(done, replications)
    stats = {"seeds": seeds, **summarise_replications(runs)}
    return Comparison(
        scenario=built.name,
        seed=built.seed,
        size=built.size,
        schemes=first.schemes,
        replications=stats,
        table=comparison_table(stats),
        courses=first.courses,
        timeseries=first.timeseries,
        overrides=[*lever_overrides(lever_values), *extra],
    )


def comparison_table(replications: dict) -> pd.DataFrame:
    """The comparison as a table of text: a row per metric of TABLE_METRICS that some scheme
    reports, a column per scheme and per paired difference, cells "mean ± CI half-width"."""
    import pandas as pd

    from simulation.cli import format_value
    from simulation.reporting.compare import format_difference
    from simulation.reporting.registry import metric

    columns = {**replications["schemes"], **replications.get("difference", {})}
    rows = []
    for name in TABLE_METRICS:
        if not any(name in values for values in replications["schemes"].values()):
            continue
        m = metric(name)
        row = {"metric": m.label}
        for column, values in columns.items():
            difference = " - " in column

            def fmt(value: Any, kind: str = m.kind, signed: bool = difference) -> str:
                return format_difference(value, kind, format_value) if signed else format_value(value, kind)

            row[column] = with_half_width(values.get(name), fmt)
        rows.append(row)
    return pd.DataFrame(rows, columns=["metric", *columns])


def with_half_width(stat: dict | None, fmt: Callable[[Any], str]) -> str:
    """``"mean ± half-width"`` of a statistics dict; the mean alone without an interval, "n/a"
    without a mean."""
    if not stat or stat.get("mean") is None:
        return "n/a"
    if stat.get("ci_low") is None or stat.get("ci_high") is None:
        return fmt(stat["mean"])
    half = (stat["ci_high"] - stat["ci_low"]) / 2
    return f"{fmt(stat['mean'])} ± {fmt(half).lstrip('+')}"
