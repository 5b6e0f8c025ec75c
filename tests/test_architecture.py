"""The package's layers and the scheme interface.

Layers, lowest first: config, rules, market, schemes, model, reporting, runner, experiments, cli.
A module may import (at run time, lazily or not) only from its own layer and those below it;
imports under ``if TYPE_CHECKING:`` are for type hints and do not count.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from simulation.config.scenario import SCHEME_BLOCKS, load_scenario
from simulation.schemes import BUILTIN, get_scheme, register
from simulation.schemes.base import Evaluation

PACKAGE = Path(__file__).resolve().parent.parent / "simulation"
LAYERS = ["config", "rules", "market", "schemes", "model", "reporting", "runner", "experiments", "cli"]
HEAVY = ("mesa", "scipy", "pandas", "matplotlib", "numba", "distributed", "pyarrow", "SALib")


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "simulation" or len(parts) < 2:
        return None
    return parts[1]


def runtime_imports(path: Path) -> list[str]:
    """Modules of the package imported by ``path``, skipping ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [m for m in found if m.startswith("simulation.")]


def modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        out.append((".".join(rel.parts), path))
    return out


@pytest.mark.parametrize("module, path", modules(), ids=lambda v: str(v) if isinstance(v, str) else "")
def test_a_module_imports_only_from_its_layer_and_below(module, path):
    own = layer_of(module)
    if own not in LAYERS:
        return  # the package's own __init__ (the lazy public API)
    rank = LAYERS.index(own)
    for imported in runtime_imports(path):
        target = layer_of(imported)
        if target in LAYERS:
            assert LAYERS.index(target) <= rank, f"{module} ({own}) imports {imported} ({target})"


def test_importing_the_package_and_the_command_line_loads_no_heavy_library():
    code = f"import sys, simulation, simulation.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api_still_resolves():
    import simulation

    for name in simulation.__all__:
        assert getattr(simulation, name) is not None


def test_every_scheme_block_has_a_registered_scheme_and_back():
    assert set(BUILTIN) == set(SCHEME_BLOCKS)
    for name in SCHEME_BLOCKS:
        assert get_scheme(name).name == name


def test_registering_a_scheme_checks_the_protocol():
    class NoMetrics:
        price_cap_idr = 0.0

        def __init__(self, model): ...
        def step(self, week): ...
        def record(self, week): ...
        def evaluation(self): ...

    with pytest.raises(TypeError, match="lacks metrics"):
        register("voucher")(NoMetrics)

    class WrongSignature(NoMetrics):
        def metrics(self, week): ...

    with pytest.raises(TypeError, match=r"metrics takes \(self, week\)"):
        register("voucher")(WrongSignature)

    class Complete(NoMetrics):
        def metrics(self): ...

    with pytest.raises(TypeError, match="no 'lottery:' block"):
        register("lottery")(Complete)
    assert get_scheme("voucher").__name__ == "VoucherScheme"  # the failed registrations left it alone


def test_evaluation_groups_cannot_overlap():
    yes = np.array([True, False])
    with pytest.raises(ValueError, match="both offered and in the comparison"):
        Evaluation(offered=yes, comparison=yes, stratum=np.zeros(2, np.int64), trained=yes)


def test_the_platform_market_does_not_run_under_a_tender(tiny_tender_world):
    from simulation.market.agents import Platform
    from simulation.model.market import MarketModel

    model = MarketModel(tiny_tender_world, "tender")
    model.run()
    assert Platform not in model.agents_by_type
    voucher = MarketModel(tiny_tender_world, "voucher")
    assert len(voucher.agents_by_type[Platform]) == len(tiny_tender_world.scenario.platforms)


@pytest.fixture
def tiny_tender_world():
    from simulation.model.world import build_world

    scenario = load_scenario(PACKAGE.parent / "scenarios" / "prakerja_2020.yaml", size=2000, weeks=30)
    return build_world(scenario)
