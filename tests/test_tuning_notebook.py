"""notebooks/02_tuning.ipynb runs top to bottom in a Jupyter kernel (nbclient), at a small size.

Its ``parameters`` cell is replaced by the tiny scenario at 1,000 recipients and 2 replications; a
cell appended at the end prints the voucher's mean price paid at the scenario's credit and at
twice the credit, which must rise.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_tuning.ipynb"
SMALL = 'SCENARIO = "tiny"\nSIZE = 1000\nREPLICATIONS = 2'
PROBE = (
    "import json\n"
    'print(json.dumps({"base": voucher_mean(baseline, "mean_price_paid_idr"), '
    '"moved": voucher_mean(moved, "mean_price_paid_idr"), "levers": levers}))'
)


def test_tuning_notebook_runs_and_doubling_the_credit_raises_prices():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [cell for cell in nb.cells if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "the notebook needs one cell tagged 'parameters'"
    tagged[0].source = SMALL
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()

    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    tables = [
        o
        for o in outputs
        if "text/html" in o.get("data", {}) and "true effect on the offered" in o.data["text/html"]
    ]
    assert len(tables) == 2  # the comparison at the scenario's values and with the credit doubled
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # the comparison, prices, weekly
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in outputs)
    probe = json.loads(nb.cells[-1].outputs[-1].text)
    assert probe["levers"]["voucher.credit_idr"] == 1_000_000
    assert probe["moved"] > probe["base"] > 0
