"""Writing a run's results: an output folder that appears whole or not at all.

Everything is written into a hidden temporary folder beside the destination, then renamed into
place in one step, so an interrupted run leaves no half-written results and an existing folder is
never overwritten.
"""

from __future__ import annotations

import errno
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulation.runner import RunResult

PACKAGES = (
    "mesa",
    "numpy",
    "numba",
    "scipy",
    "pandas",
    "matplotlib",
    "pydantic",
    "pyyaml",
    "tqdm",
    "distributed",
    "pyarrow",
    "salib",
)


class OutputError(OSError):
    """The output folder cannot be created (exists already, or is not writable)."""


def already_exists(out_dir: Path) -> OutputError:
    """The error for an output folder that exists already."""
    return OutputError(f"{out_dir}: already exists; results are never overwritten (choose another --out)")


def default_out_dir(scenario_name: str, root: Path = Path("results")) -> Path:
    """``results/<scenario>-<timestamp>``, with a numeric suffix if that exists already."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = root / f"{scenario_name}-{stamp}"
    suffix = 2
    while candidate.exists():
        candidate = root / f"{scenario_name}-{stamp}-{suffix}"
        suffix += 1
    return candidate


def write_results(result: RunResult, out_dir: Path, provenance: dict, unique: bool = False) -> Path:
    """Write summary, tables, provenance and figures into ``out_dir`` atomically.

    With ``unique`` (the default folder), a folder that appeared meanwhile gets a -2, -3 ... suffix
    instead of an error. Returns the folder written.
    """
    from simulation.reporting.figures import save_figures  # matplotlib only when writing

    out_dir = Path(out_dir)
    if out_dir.exists() and not unique:
        raise already_exists(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    except OSError as err:
        raise OutputError(f"{out_dir}: cannot create the output folder ({err.strerror or err})") from None
    try:
        write_json(staging / "summary.json", result.summary)
        result.timeseries.to_csv(staging / "timeseries.csv", index=False)
        result.courses.to_csv(staging / "courses.csv", index=False)
        save_figures(result, staging / "figures")
        provenance = {**provenance, "end_time": now_iso()}
        write_json(staging / "provenance.json", provenance)
        return _publish(staging, out_dir, unique)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _publish(staging: Path, out_dir: Path, unique: bool) -> Path:
    """Rename ``staging`` to ``out_dir`` without ever replacing a results folder."""
    base, suffix = out_dir, 2
    while True:
        if not out_dir.exists():
            try:
                os.rename(staging, out_dir)  # fails if out_dir appeared meanwhile with files in it
                return out_dir
            except OSError as err:
                if err.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                    raise
        if not unique:
            raise already_exists(out_dir)
        out_dir = base.with_name(f"{base.name}-{suffix}")
        suffix += 1


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
        "packages": package_versions(),
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


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape results."""
    return {name: _version(name) for name in PACKAGES}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
