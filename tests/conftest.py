"""Shared fixtures: the tiny scenario, its world and a finished voucher run."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from simulation import build_world, load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


def load_benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/<name>.py`` as a module (benchmarks/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def tiny():
    """The validated tiny scenario."""
    return load_scenario(TINY)


@pytest.fixture(scope="session")
def tiny_world(tiny):
    return build_world(tiny)


@pytest.fixture(scope="session")
def tiny_run(tiny):
    """A finished voucher run of the tiny scenario (read-only: do not mutate)."""
    return run_scenario(tiny)


# A tender arm and public training centres for the tiny world, added by overrides (tiny.yaml itself
# stays voucher-only so that the voucher tests see one scheme).
TENDER_ARM = [
    "centres=[{name: blk, kind: public_blk, count: 4, capacity_per_year: 2000, sectors_taught: 2,"
    " marginal_cost_idr: 1500000}]",
    "tender={budget_idr: 1.0e10, cycle_weeks: 26, reference_cost_idr: 3000000, procurement_weeks: 4,"
    " penalty_idr: 5000000, course_weeks: 2, awareness_weekly: 0.1}",
    "providers.quality_saving_idr={offline: 1000000}",  # shading saves Rp1 m per unit of quality offline
]


@pytest.fixture(scope="session")
def tiny_both():
    """The tiny scenario with a tender arm beside the voucher."""
    return load_scenario(TINY, TENDER_ARM)


@pytest.fixture(scope="session")
def both_file(tmp_path_factory):
    """tiny.yaml with the tests' tender arm, as a scenario file (for the command line)."""
    import yaml

    from simulation.config.scenario import apply_override, read_yaml

    raw = read_yaml(TINY)
    for override in TENDER_ARM:
        apply_override(raw, override)
    path = tmp_path_factory.mktemp("scenario") / "tiny_both.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path
