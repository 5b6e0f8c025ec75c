"""Every notebook in notebooks/ runs from top to bottom at small sizes, and what it computes holds.

Each notebook has one code cell tagged ``parameters`` (sizes, replications, samples, folders); the
test replaces its source with the small values in :data:`NOTEBOOKS`, executes the notebook in a
fresh Jupyter kernel (nbclient) with notebooks/ as the working folder, then runs one probe cell in
the same kernel that prints, as JSON, the values the notebook computed. A notebook missing from
:data:`NOTEBOOKS` fails the coverage test, so a new notebook cannot rot unnoticed.
"""

from __future__ import annotations

import ast
import asyncio
import json
import math
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT, TENDER_ARM

try:
    import nbformat
    from nbclient import NotebookClient
except ImportError as err:  # a failure, not a skip: the notebooks would rot unnoticed
    raise ImportError(
        f"tests/test_notebooks.py runs the notebooks with nbclient and ipykernel ({err}): `uv sync` "
        f"installs them (dev dependencies); with pip: pip install nbclient ipykernel"
    ) from err

FOLDER = ROOT / "notebooks"
CELL_TIMEOUT = 300  # seconds per cell: a stuck kernel fails the test instead of hanging it
MAX_BYTES = 1_000_000  # a committed notebook, with its outputs

# File name -> the parameters it runs with here (every name of its parameters cell, no other).
# OUT, where a notebook has it, is set by the test to a new temporary folder.
NOTEBOOKS: dict[str, dict] = {
    "01_quickstart.ipynb": {  # the tiny world with a tender arm: the 2020 tender costs ~10 s a run
        "SCENARIO": "scenarios/tiny.yaml",
        "OVERRIDES": TENDER_ARM,
        "SIZE": 3000,
        "LEVER_SIZE": 3000,
        "CREDITS_IDR": [500_000, 1_000_000, 2_000_000],
    },
    "02_tuning.ipynb": {"SCENARIO": "tiny", "SIZE": 1000, "REPLICATIONS": 2},
    "03_sensitivity.ipynb": {
        "SIZE": 2000,
        "SAMPLES": 4,
        "REPLICATIONS": 2,
        "SEED": 2026,
        "WORKERS": 0,
        "OUT": None,
    },
    "04_decomposition.ipynb": {
        "SCENARIO": "scenarios/tiny.yaml",
        "OVERRIDES": TENDER_ARM,
        "SIZE": 2000,
        "REPLICATIONS": 2,
        "SHAPLEY": False,
        "WORKERS": 0,
        "OUT": None,
    },
}

# The values a notebook's probe cell reports (an expression over the notebook's names); a notebook
# without a probe reports nothing but the kernel's environment.
PROBES = {
    "01_quickstart.ipynb": """{
        "schemes": result.schemes,
        "bought_share": summary["bought_share"],
        "credits": lever["credit_idr"].tolist(),
        "spent_per_buyer": lever["spent_per_buyer_idr"].tolist(),
    }""",
    "02_tuning.ipynb": """{
        "base": voucher_mean(baseline, "mean_price_paid_idr"),
        "moved": voucher_mean(moved, "mean_price_paid_idr"),
        "credit": levers["voucher.credit_idr"],
    }""",
    "03_sensitivity.ipynb": """{
        "runs": outcome.runs, "finished": outcome.finished, "failed": len(outcome.failed),
        "rows": len(frame), "levers": list(spec.names), "metrics": METRICS,
        "seeds_per_replication": frame.groupby("replication")["seed"].nunique().tolist(),
        "indices": indices.to_dict(orient="records"),
    }""",
    "04_decomposition.ipynb": """{
        "written": str(written),
        "twins": twins[["mean", "n"]].astype(float).to_dict(orient="index"),
    }""",
}


def parameters_cell(notebook) -> int:
    """The index of the one code cell tagged ``parameters``."""
    tagged = [
        k
        for k, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", [])
    ]
    assert len(tagged) == 1, f"expected one code cell tagged 'parameters', found {len(tagged)}"
    return tagged[0]


def assigned_names(source: str) -> set[str]:
    """The names a cell assigns at its top level."""
    names = set()
    for node in ast.parse(source).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def prepare(name: str, parameters: dict) -> NotebookClient:
    """Notebook ``name`` with ``parameters`` in its parameters cell and the probe cell appended,
    ready to run in a fresh kernel with notebooks/ as the working folder."""
    notebook = nbformat.read(FOLDER / name, as_version=4)
    cell = notebook.cells[parameters_cell(notebook)]
    assert assigned_names(cell.source) == set(parameters), "NOTEBOOKS must name every parameter"
    cell.source = "\n".join(f"{key} = {value!r}" for key, value in parameters.items())
    values = f"{{'prefix': _sys.prefix, **{PROBES.get(name, '{}')}}}"
    probe = f"import json as _json, sys as _sys\nprint(_json.dumps({values}))"
    notebook.cells.append(nbformat.v4.new_code_cell(probe))
    return NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}
    )


def probed(client: NotebookClient) -> dict:
    """The values the probe cell of an executed notebook printed."""
    outputs = client.nb.cells[-1].outputs
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    values = json.loads(printed.strip().splitlines()[-1])
    assert values["prefix"] == sys.prefix, f"the kernel ran {values['prefix']}, not this environment"
    return values


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """Every notebook of NOTEBOOKS run at once, one kernel each (they run in parallel: most of
    a small notebook's time is its kernel importing the package): name -> (parameters, the probe's
    values), or the exception its execution raised (re-raised by its test)."""
    parameters = {}
    for name, values in NOTEBOOKS.items():
        out = {"OUT": str(tmp_path_factory.mktemp(name.split("_")[0]) / "out")} if "OUT" in values else {}
        parameters[name] = {**values, **out}
    clients = {name: prepare(name, parameters[name]) for name in NOTEBOOKS}

    async def run_all():
        return await asyncio.gather(*(c.async_execute() for c in clients.values()), return_exceptions=True)

    def outcome(name: str, ended):  # the executed notebook, or the exception its run raised
        try:
            if isinstance(ended, BaseException):
                raise ended
            return parameters[name], probed(clients[name])
        except Exception as err:  # kept for the notebook's own test, which raises it
            return err

    ended = asyncio.run(run_all())
    return {name: outcome(name, end) for name, end in zip(clients, ended, strict=True)}


def run(executed: dict, name: str) -> tuple[dict, dict]:
    """The parameters and probed values of notebook ``name`` (its error, if it failed)."""
    outcome = executed[name]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def test_every_notebook_is_executed_here():
    """A notebook in notebooks/ that is not in NOTEBOOKS would never be run by the tests."""
    found = sorted(path.name for path in FOLDER.glob("*.ipynb"))
    assert found == sorted(NOTEBOOKS), "add each notebook, with small parameters, to NOTEBOOKS"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_committed_notebook_is_clean(name):
    """Committed with its outputs (every code cell run, none failed), its parameters cell near the
    top, no volatile metadata, and small enough to read on GitHub."""
    path = FOLDER / name
    assert path.stat().st_size < MAX_BYTES
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert parameters_cell(notebook) <= 2
    assert "widgets" not in notebook.metadata
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"not run: {cell.source[:60]!r}"
        assert not {"execution", "ExecuteTime"} & set(cell.metadata), "timing metadata"
        assert all(o.output_type != "error" for o in cell.outputs), f"failed: {cell.source[:60]!r}"
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs), "the committed outputs show no figure"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_top_to_bottom(executed, name):
    """Every code cell runs without an error, in a kernel of this environment."""
    run(executed, name)


def test_quickstart(executed):
    _, values = run(executed, "01_quickstart.ipynb")
    assert values["schemes"] == ["voucher", "tender"]
    assert values["bought_share"] > 0.5
    assert values["credits"] == sorted(values["credits"])
    spend = values["spent_per_buyer"]
    assert spend == sorted(spend), "a larger credit must buy more training per buyer"


def test_tuning(executed):
    """The plain-Python half of the tuning notebook: doubling the credit raises the price paid."""
    _, values = run(executed, "02_tuning.ipynb")
    assert values["credit"] == 1_000_000
    assert values["moved"] > values["base"] > 0


def test_sensitivity(executed):
    parameters, values = run(executed, "03_sensitivity.ipynb")
    levers = len(values["levers"])
    assert values["runs"] == parameters["SAMPLES"] * (levers + 2) * parameters["REPLICATIONS"]
    assert values["finished"] == values["runs"] and values["failed"] == 0
    assert values["rows"] == 2 * values["runs"]  # one row per run and scheme
    assert values["seeds_per_replication"] == [1] * parameters["REPLICATIONS"]  # common random numbers
    indices = pd.DataFrame(values["indices"])
    groups = indices.groupby(["scheme", "metric"], sort=False)
    assert len(groups) == 3 * len(values["metrics"])  # voucher, tender, tender - voucher
    for (scheme, metric), rows in groups:
        assert rows["parameter"].tolist() == values["levers"], (scheme, metric)
        assert all(math.isfinite(v) for v in rows[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy().ravel())
    # A lever of one scheme cannot move the other scheme's outcomes: its indices are exactly zero.
    for scheme, other in (("voucher", "tender."), ("tender", "voucher.")):
        foreign = indices[(indices["scheme"] == scheme) & indices["parameter"].str.startswith(other)]
        assert not foreign.empty and (foreign[["S1", "ST"]].abs() < 1e-9).all().all(), scheme
    saved = pd.read_csv(Path(parameters["OUT"]) / "sensitivity.csv")
    assert len(saved) == len(indices)


def test_decomposition(executed):
    parameters, values = run(executed, "04_decomposition.ipynb")
    written = Path(values["written"])
    assert written == Path(parameters["OUT"])
    assert {"decomposition.csv", "runs.csv", "waterfall.png", "provenance.json"} <= {
        p.name for p in written.iterdir()
    }
    steps = pd.read_csv(written / "decomposition.csv")
    replications = parameters["REPLICATIONS"]
    complete = 0
    for question, part in steps.groupby("question"):
        if part["mean"].isna().any() or (part["replications"] < replications).any():
            continue  # a line some replication leaves undefined: its mean is over fewer replications
        complete += 1
        gaps = part[part["kind"] == "gap"]["mean"].tolist()
        total = gaps[0] + part[part["kind"] == "contribution"]["mean"].sum()
        assert total == pytest.approx(gaps[-1], rel=1e-9, abs=1e-6), question
    assert complete >= 1, "no question had every line defined in every replication"
    twins = values["twins"]
    assert all(line["n"] == replications for line in twins.values())
    lines = list(twins)
    assert lines[0] == "as written" and lines[-1] == "level field"
    total = sum(twins[line]["mean"] for line in lines[:-1])
    assert total == pytest.approx(twins["level field"]["mean"], abs=1e-9)
