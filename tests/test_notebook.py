"""The quick-start notebook runs from top to bottom (its code cells, in order)."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs(monkeypatch):
    matplotlib.use("Agg")
    monkeypatch.chdir(NOTEBOOK.parent)
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] == "code":
            exec(compile("".join(cell["source"]), str(NOTEBOOK), "exec"), namespace)  # noqa: S102
    assert namespace["summary"]["bought_share"] > 0.5
    rows = namespace["rows"]
    spend = [row["mean_price_paid_idr"] * row["courses_per_participant"] for row in rows]
    assert spend == sorted(spend), "a larger credit must buy more training per buyer"
