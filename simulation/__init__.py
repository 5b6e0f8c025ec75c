"""Training-voucher market simulator: Kartu Prakerja-style vouchers on a synthetic labour market.

Public API::

    from simulation import load_scenario, run_scenario
    result = run_scenario(load_scenario("scenarios/tiny.yaml"))
    result.summary, result.timeseries, result.courses

    from simulation import sweep, load_sweep
    outcome = sweep("scenarios/sweeps/credit_level.yaml", executor=None)   # or a distributed.Client
    frame = load_sweep(outcome.folder)                                     # one row per run and scheme
"""

from pathlib import Path

from simulation.model import MarketModel
from simulation.runner import RunResult, run_scenario, run_scheme
from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.world import World, build_world


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
