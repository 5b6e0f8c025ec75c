"""Training-voucher market simulator: Kartu Prakerja-style vouchers on a synthetic labour market.

Public API::

    from simulation import load_scenario, run_scenario
    result = run_scenario(load_scenario("scenarios/tiny.yaml"))
    result.summary, result.timeseries, result.courses
"""

from simulation.model import MarketModel
from simulation.runner import RunResult, run_scenario, run_scheme
from simulation.scenario import Scenario, ScenarioError, load_scenario
from simulation.world import World, build_world

__all__ = [
    "MarketModel",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "World",
    "build_world",
    "load_scenario",
    "run_scenario",
    "run_scheme",
]
__version__ = "0.1.0"
