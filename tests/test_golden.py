"""Golden run: ``scenarios/tiny.yaml`` through the CLI must reproduce the stored summary.

The stored file is ``tests/golden/tiny_summary.json``. When a change to the model is *meant* to
change the results, regenerate it deliberately and review the diff before committing::

    UPDATE_GOLDEN=1 uv run pytest tests/test_golden.py   # rewrites the file, then fails on purpose
    git diff tests/golden/                                # check that every change is intended
    uv run pytest tests/test_golden.py                    # passes again

See ``tests/golden/README.md``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden" / "tiny_summary.json"
REL_TOL = 1e-9
ABS_TOL = 1e-12  # for values that should be exactly zero
UPDATE = os.environ.get("UPDATE_GOLDEN", "") == "1"
HOW_TO_UPDATE = "UPDATE_GOLDEN=1 uv run pytest tests/test_golden.py"


def differences(expected: object, actual: object, path: str = "") -> list[str]:
    """Every place where ``actual`` differs from ``expected`` (keys exactly, numbers to REL_TOL)."""
    where = path.rstrip(".") or "(top level)"
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for key in sorted(expected.keys() - actual.keys()):
            found.append(f"{path}{key}: missing (golden has {expected[key]!r})")
        for key in sorted(actual.keys() - expected.keys()):
            found.append(f"{path}{key}: new key (value {actual[key]!r}) not in the golden file")
        for key in expected.keys() & actual.keys():
            found += differences(expected[key], actual[key], f"{path}{key}.")
        return sorted(found)
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{where}: length {len(actual)} != golden {len(expected)}"]
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in differences(e, a, f"{path}{i}.")
        ]
    numbers = (int, float)
    if (
        isinstance(expected, numbers)
        and isinstance(actual, numbers)
        and not isinstance(expected, bool)
        and not isinstance(actual, bool)
    ):
        if math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return []
        return [f"{where}: {actual!r} != golden {expected!r}"]
    if type(expected) is not type(actual) or expected != actual:
        return [f"{where}: {actual!r} != golden {expected!r}"]
    return []


def test_differences_helper():
    golden = {"a": 1.0, "b": {"c": None, "d": [1, 2]}, "e": "x"}
    assert differences(golden, {"a": 1.0 + 1e-12, "b": {"c": None, "d": [1, 2]}, "e": "x"}) == []
    assert differences({"z": 0.0}, {"z": 1e-15}) == []
    assert differences(golden, {"a": 1.001, "b": {"c": 0.0, "d": [1]}, "f": "x"}) == [
        "a: 1.001 != golden 1.0",
        "b.c: 0.0 != golden None",
        "b.d: length 1 != golden 2",
        "e: missing (golden has 'x')",
        "f: new key (value 'x') not in the golden file",
    ]
    assert differences({"flag": True}, {"flag": 1}) == ["flag: 1 != golden True"]


@pytest.fixture(scope="module")
def tiny_summary(tmp_path_factory) -> tuple[dict, bytes]:
    """Run ``python run.py run scenarios/tiny.yaml`` (default size and weeks) once."""
    out = tmp_path_factory.mktemp("golden") / "tiny"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "run", str(TINY), "--out", str(out)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    raw = (out / "summary.json").read_bytes()
    return json.loads(raw), raw


def test_tiny_summary_matches_golden(tiny_summary):
    summary, raw = tiny_summary
    if UPDATE:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        old = GOLDEN.read_bytes() if GOLDEN.exists() else None
        GOLDEN.write_bytes(raw)
        state = "unchanged" if old == raw else "rewritten"
        pytest.fail(
            f"UPDATE_GOLDEN=1: {GOLDEN.relative_to(ROOT)} {state}. Review `git diff tests/golden/`, "
            "commit it if every change is intended, and rerun without UPDATE_GOLDEN.",
            pytrace=False,
        )
    if not GOLDEN.exists():
        pytest.fail(f"{GOLDEN.relative_to(ROOT)} is missing; create it with: {HOW_TO_UPDATE}", pytrace=False)
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    found = differences(golden, summary)
    if found:
        pytest.fail(
            f"tiny.yaml summary differs from {GOLDEN.relative_to(ROOT)} in {len(found)} place(s):\n  "
            + "\n  ".join(found)
            + f"\nIf the change is intended, regenerate with: {HOW_TO_UPDATE} (then review the diff).",
            pytrace=False,
        )


def test_golden_file_is_a_tiny_voucher_summary():
    """The stored file itself: the scenario, seed and every scheme present (catches a bad update)."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["scenario"] == "tiny"
    assert golden["seed"] == 7
    assert list(golden["schemes"]) == ["voucher"]
    assert golden["schemes"]["voucher"]["participants_offered"] > 0
