"""Shared fixtures: the tiny scenario, its world and a finished voucher run."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulation import build_world, load_scenario, run_scenario

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


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
