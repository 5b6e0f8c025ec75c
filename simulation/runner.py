"""The public entry point: run every scheme of a scenario on one world and collect the results.

>>> from simulation import load_scenario, run_scenario
>>> result = run_scenario(load_scenario("scenarios/tiny.yaml"))
>>> result.summary["schemes"]["voucher"]["completion_rate"]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import ctypes
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from simulation.config.codes import MODE_NAMES
from simulation.config.scenario import Scenario
from simulation.model.market import MarketModel
from simulation.model.world import World, build_world
from simulation.reporting.compare import paired_difference, replication_seeds, summarise_replications
from simulation.reporting.metrics import summarise, undefined
from simulation.rules.parallel import threads


@dataclass
class RunResult:
    """Everything a run produces: the summary, the weekly series and the course table."""

    scenario: Scenario
    seed: int
    summary: dict
    timeseries: pd.DataFrame
    courses: pd.DataFrame
    models: dict[str, MarketModel] = field(repr=False)

    @property
    def schemes(self) -> list[str]:
        return list(self.models)


def run_scenario(
    scenario: Scenario,
    schemes: list[str] | None = None,
    seed: int | None = None,
    progress: bool = False,
    replications: int = 0,
    client: Any = None,
    before_replications: Callable[[RunResult], object] | None = None,
) -> RunResult:
    """Build the world once and run each scheme on it with common random numbers.

    ``schemes`` defaults to the scenario's; ``seed`` to ``scenario.seed``. With two schemes or
    more the summary has a ``difference`` block (each scheme minus the first, paired on the same
    world). ``replications`` > 0 adds a ``replications`` block: means, standard deviations and
    95% confidence intervals of every metric and every paired difference over that many further
    seeds derived from the root seed (numpy SeedSequence). With a ``distributed.Client`` the
    replications run on its workers (submitted first, so that they run while this process runs
    the root seed, whose models it keeps); the block is the same as in-process, value for value,
    since each replication is a pure function of the scenario, the schemes and its seed.
    ``before_replications`` is called with the root seed's result (no ``replications`` block yet)
    before the replications are run or waited for: on Dask, its work (e.g. drawing the figures)
    is done while the workers run.
    """
    seed = scenario.seed if seed is None else seed
    schemes = list(schemes or scenario.scheme_names)
    seeds = replication_seeds(seed, replications) if replications > 0 else []
    pending = [client.submit(replicate, scenario, schemes, s, pure=False) for s in seeds] if client else []
    world = build_world(scenario, seed)
    models = run_schemes(world, schemes, progress)
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "simulated_participants": len(world.participants),
        "scale": world.scale,
        "schemes": summarise_all(models),
    }
    summary["undefined"] = {name: undefined(metrics) for name, metrics in summary["schemes"].items()}
    if len(schemes) > 1:
        summary["difference"] = paired_difference(summary["schemes"])
    timeseries = pd.DataFrame([row for m in models.values() for row in m.records])
    courses = pd.concat([course_table(m) for m in models.values()], ignore_index=True)
    result = RunResult(scenario, seed, summary, timeseries, courses, models)
    if before_replications is not None:
        before_replications(result)
    if replications > 0:  # last: on Dask, the tables above are built while the workers run
        runs = _replications(scenario, schemes, seeds, pending, client, progress)
        summary["replications"] = {"seeds": seeds, **summarise_replications(runs)}
    return result


def _replications(
    scenario: Scenario, schemes: list[str], seeds: list[int], pending: list, client: Any, progress: bool
) -> list[dict[str, dict]]:
    """Each seed's {scheme: metrics}, in the seeds' order: run here, one after another, or
    gathered from the futures ``pending`` on ``client``."""
    bar = tqdm(total=len(seeds), desc="replications", disable=not progress)
    try:
        if client is None:
            runs = []
            for s in seeds:
                runs.append(replicate(scenario, schemes, s))
                bar.update()
            return runs
        from distributed import as_completed

        for _ in as_completed(pending):
            bar.update()
        return client.gather(pending)
    finally:
        bar.close()


@dataclass(frozen=True)
class SpendingMatch:
    """How ``match_spending`` set the budgets: realised spending (real IDR) at the stated budgets,
    the target (the smallest), and each scheme's budget before and after."""

    spent_at_stated_idr: dict[str, float]
    target_idr: float
    budgets_before_idr: dict[str, float]
    budgets_after_idr: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": "matched",
            "spent_at_stated_budgets_idr": self.spent_at_stated_idr,
            "target_idr": self.target_idr,
            "budgets_before_idr": self.budgets_before_idr,
            "budgets_after_idr": self.budgets_after_idr,
        }


def match_spending(
    scenario: Scenario, schemes: list[str] | None = None, seed: int | None = None, progress: bool = False
) -> tuple[Scenario, SpendingMatch]:
    """The scenario with each scheme's budget scaled so that every scheme spends about what the
    smallest spender spends at the stated budgets: a comparison at equal spending rather than at
    equal budget.

    A pilot run at the stated budgets measures each scheme's realised spending (``total_cost_idr``,
    real IDR); a scheme spending more than the smallest gets the budget it used x target / spent.
    The voucher selects as many recipients as its budget pays for, so its spending follows the
    budget its recipients' packages take (:func:`simulation.schemes.voucher.budget_in_use_idr`,
    less than the budget when the intake is the limit), and it then lands on the target up to the
    sampling of take-up; a tender bound by capacity spends less than its budget whatever it is, and
    is scaled from its budget (its realised spending is reported, not forced). The returned
    scenario is an ordinary scenario: run it (and record it) as any other, so that ``run.py
    rerun`` reproduces the comparison."""
    from simulation.config.scenario import apply_override, validate
    from simulation.schemes.voucher import budget_in_use_idr

    seed = scenario.seed if seed is None else seed
    schemes = list(schemes or scenario.scheme_names)
    pilot = run_scenario(scenario, schemes, seed, progress=progress).summary["schemes"]
    spent = {name: float(pilot[name]["total_cost_idr"]) for name in schemes}
    target = min(spent.values())
    before = {name: float(getattr(scenario, name).budget_idr) for name in schemes}
    after = dict(before)
    raw = scenario.model_dump(mode="json")
    in_use = {name: budget_in_use_idr(scenario) if name == "voucher" else before[name] for name in schemes}
    for name in schemes:
        if spent[name] > target > 0:
            after[name] = in_use[name] * target / spent[name]
            apply_override(raw, f"{name}.budget_idr={after[name]!r}")
    matched = validate(raw, source=f"{scenario.name} (budgets matched to spending)")
    return matched, SpendingMatch(spent, target, before, after)


def replicate(scenario: Scenario, schemes: list[str], seed: int) -> dict[str, dict]:
    """One replication: every scheme on the world of ``seed``; returns {scheme: metrics}."""
    world = build_world(scenario, seed)
    return summarise_all(run_schemes(world, schemes))


def summarise_all(models: dict[str, MarketModel]) -> dict[str, dict]:
    """Each model's summary metrics, one model after the other: at national scale a summary's
    temporary arrays take about 0.3 GB, so two at once would raise the peak memory more than they
    save time."""
    return {name: summarise(model) for name, model in models.items()}


def run_scheme(world: World, scheme: str, progress: bool = False) -> MarketModel:
    """Run one scheme on a world and return the finished model."""
    return MarketModel(world, scheme).run(progress=progress, label=scheme)


def run_schemes(world: World, schemes: list[str], progress: bool = False) -> dict[str, MarketModel]:
    """Run each scheme on the world, at the same time on threads when the machine has more than
    one core (``simulation.rules.parallel.threads``), and return the finished models in the order
    of ``schemes``. The schemes share only the world, which is read-only
    (``simulation.model.world.read_only``), and each draws from its own streams, so the models
    are the same as when run one after the other; their compiled kernels release the GIL."""
    if len(schemes) < 2 or threads() < 2:
        models = {name: run_scheme(world, name, progress) for name in schemes}
    else:
        with ThreadPoolExecutor(max_workers=len(schemes), thread_name_prefix="scheme") as pool:
            running = {name: pool.submit(run_scheme, world, name, progress) for name in schemes}
            models = {name: future.result() for name, future in running.items()}
    give_back_free_memory()
    return models


def give_back_free_memory() -> None:
    """Return the memory the weeks' temporary arrays freed to the operating system (glibc's
    ``malloc_trim``; nothing elsewhere). Arrays of a few megabytes are taken from malloc's heaps,
    which keep what is freed: at national scale about 160 MB, which would otherwise add to the
    summaries' peak. One call, a few milliseconds."""
    if sys.platform.startswith("linux"):  # not glibc (e.g. musl): nothing to give back this way
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL("libc.so.6").malloc_trim(0)


def course_table(model: MarketModel) -> pd.DataFrame:
    """One row per course: what it is, its final price, sales and ratings."""
    c = model.courses
    sector_names = [s.name for s in model.params.sectors]
    with np.errstate(invalid="ignore", divide="ignore"):
        rating_mean = np.where(c.rating_count > 0, c.rating_sum / c.rating_count, np.nan)
    return pd.DataFrame(
        {
            "scheme": model.scheme_name,
            "course_id": np.arange(len(c)),
            "provider_id": c.provider,
            "sector": np.array(sector_names)[c.sector],
            "mode": np.array(MODE_NAMES)[c.mode],
            "hours": c.hours.round(1),
            "price_idr": c.price_idr,
            "marginal_cost_idr": c.marginal_cost_idr,
            "true_quality": c.true_quality.round(4),
            "active": c.active,
            "listed_platforms": c.listed.sum(axis=1),
            "enrolments": c.enrolments,
            "enrolments_represented": (c.enrolments * model.scale).round(0),
            "completions": c.completions,
            "rating_mean": np.round(rating_mean, 3),
            "rating_count": c.rating_count,
            "net_revenue_idr": (c.net_revenue_idr * model.scale).round(0),
        }
    )
