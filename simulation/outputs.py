"""Writing a run's results: an output folder that appears whole or not at all.

Everything is written into a hidden temporary folder beside the destination, then renamed into
place in one step, so an interrupted run leaves no half-written results and an existing folder is
never overwritten.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from simulation.runner import RunResult

PACKAGES = ("mesa", "numpy", "scipy", "pandas", "matplotlib", "pydantic", "pyyaml", "tqdm")


class OutputError(OSError):
    """The output folder cannot be created (exists already, or is not writable)."""


def default_out_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """``results/<scenario>-<timestamp>``, with a numeric suffix if that exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{scenario_name}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{scenario_name}-{stamp}-{suffix}"
        suffix += 1
    return candidate


def write_results(result: RunResult, out_dir: Path, provenance: dict) -> Path:
    """Write summary, tables, provenance and figures into ``out_dir`` atomically."""
    from simulation.figures import save_figures  # matplotlib only when writing

    out_dir = Path(out_dir)
    if out_dir.exists():
        raise OutputError(f"{out_dir}: already exists; results are never overwritten (choose another --out)")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        write_json(staging / "summary.json", result.summary)
        result.timeseries.to_csv(staging / "timeseries.csv", index=False)
        result.courses.to_csv(staging / "courses.csv", index=False)
        save_figures(result, staging / "figures")
        provenance = {**provenance, "end_time": now_iso()}
        write_json(staging / "provenance.json", provenance)
        os.rename(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


def write_json(path: Path, data: dict) -> None:
    """JSON with NaN and infinities written as null."""
    path.write_text(json.dumps(_clean(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _clean(value):
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalar
        return _clean(value.item())
    return value


def provenance(result_scenario, seed: int, command: list[str], start_time: str) -> dict:
    """Who ran what, with which code and packages."""
    return {
        "scenario": result_scenario.model_dump(mode="json"),
        "seed": seed,
        "command": command,
        "python": sys.version.split()[0],
        "packages": {name: _version(name) for name in PACKAGES},
        "git_commit": git_commit(),
        "start_time": start_time,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def git_commit() -> str | None:
    """The commit of the code that ran (with ``-dirty`` if it had local changes), if in git."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{commit}-dirty" if dirty else commit


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
