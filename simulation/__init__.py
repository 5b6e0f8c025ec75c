"""Training-voucher market simulator: Kartu Prakerja-style vouchers on a synthetic labour market.

Public API::

    from simulation import load_scenario, run_scenario
    result = run_scenario(load_scenario("scenarios/tiny.yaml"))
    result.summary, result.timeseries, result.courses

    from simulation import sweep, load_sweep
    outcome = sweep("scenarios/sweeps/credit_level.yaml", executor=None)   # or a distributed.Client
    frame = load_sweep(outcome.folder)                                     # one row per run and scheme

The package is layered (each layer imports only those before it):

    config/       the scenario (validated, frozen) and the named random streams
    rules/        pure decision rules over arrays: choice, pricing, training, procurement, demand
    market/       the population and market tables (participants, courses, books) and the agents
    schemes/      the mechanisms (voucher, tender), registered by name
    model/        the world, the labour market and the weekly loop (one Mesa model per scheme)
    reporting/    metrics, comparison statistics, figures and the output folder
    experiments/  sweeps and their analysis
    runner, cli   the public API and the command line

Importing ``simulation`` is cheap: the names below load their modules (and Mesa, SciPy, pandas,
matplotlib, numba) when first used.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.config.scenario import Scenario, ScenarioError, load_scenario
    from simulation.model.market import MarketModel
    from simulation.model.world import World, build_world
    from simulation.runner import RunResult, run_scenario, run_scheme

_LAZY = {
    "MarketModel": "simulation.model.market",
    "RunResult": "simulation.runner",
    "run_scenario": "simulation.runner",
    "run_scheme": "simulation.runner",
    "Scenario": "simulation.config.scenario",
    "ScenarioError": "simulation.config.scenario",
    "load_scenario": "simulation.config.scenario",
    "World": "simulation.model.world",
    "build_world": "simulation.model.world",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'simulation' has no attribute {name!r}")


def sweep(spec, folder: str | Path | None = None, executor=None, progress: bool = False):
    """Run a parameter sweep (a :class:`~simulation.experiments.SweepSpec` or the path of a sweep
    YAML) into ``folder`` (default ``results/<name>``), in-process or on a ``distributed.Client``;
    resumes a sweep already in the folder. Returns a ``SweepResult``."""
    from simulation.experiments import SweepSpec, load_sweep_spec
    from simulation.experiments.execute import sweep as run_sweep

    if not isinstance(spec, SweepSpec):
        spec = load_sweep_spec(spec)
    return run_sweep(spec, folder, executor=executor, progress=progress)


def load_sweep(folder: str | Path):
    """A sweep's results as one tidy pandas DataFrame: one row per run and scheme."""
    from simulation.experiments.store import load_sweep as load

    return load(folder)


__all__ = [
    "MarketModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "World",
    "build_world",
    "load_scenario",
    "load_sweep",
    "sweep",
    "run_scenario",
    "run_scheme",
]
__version__ = "0.1.0"
