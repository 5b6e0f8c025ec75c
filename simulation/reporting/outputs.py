"""Writing a run's results: an output folder that appears whole or not at all.

Everything is written into a hidden staging folder beside the destination, then renamed into
place in one step, so an interrupted run leaves no half-written results and an existing folder is
never overwritten. The staging folder is made before the simulation starts (:func:`start_output`),
so an unwritable destination is reported at once; its name carries the host and process id
(``.<name>.staging-<host>-<pid>-<random>``), so a staging folder left by a killed process (SIGKILL
leaves no chance to clean up) is removed by the next run into the same parent folder once that
process is gone. Folders and files follow the umask, as if made by ``mkdir`` and ``open``. A full
disk (or quota) while writing raises :class:`DiskFull`, leaving nothing partial.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.reporting.files import clean_json, umask

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


DISK_FULL = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if code is not None)
_STAGING = re.compile(r"^\..+\.staging-(?P<host>[0-9a-f]{8})-(?P<pid>\d+)-[A-Za-z0-9_]+$")


class OutputError(OSError):
    """The output folder cannot be created (exists already, or is not writable)."""


class DiskFull(OSError):
    """The disk filled up (or a quota was reached) while writing; nothing partial was left. Its
    text is the whole message (no "[Errno 28]")."""

    def __str__(self) -> str:
        return str(self.strerror)


def is_disk_full(err: BaseException) -> bool:
    """Whether ``err`` is "no space left on device" or "disk quota exceeded"."""
    return isinstance(err, OSError) and err.errno in DISK_FULL


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


def start_output(out_dir: Path, unique: bool = False) -> Path:
    """Before simulating: make the staging folder for ``out_dir`` beside it (which proves the
    parent writable), after removing stale staging folders there. OutputError (exit 2) if
    ``out_dir`` exists (unless ``unique``) or cannot be created; returns the staging folder."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not unique:
        raise already_exists(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(out_dir.parent)
        prefix = f".{out_dir.name}.staging-{_host_tag()}-{os.getpid()}-"
        return Path(tempfile.mkdtemp(prefix=prefix, dir=out_dir.parent))
    except OSError as err:
        if is_disk_full(err):
            raise DiskFull(err.errno, f"{out_dir}: {err.strerror}; nothing was written") from None
        raise OutputError(f"{out_dir}: cannot create the output folder ({err.strerror or err})") from None


def remove_stale_staging(parent: Path) -> list[Path]:
    """Remove the staging folders in ``parent`` left by processes of this host that are gone
    (e.g. killed with SIGKILL); returns those removed. Live processes' folders are kept."""
    removed: list[Path] = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    host = _host_tag()
    for name in names:
        match = _STAGING.match(name)
        if match is None or match["host"] != host or _alive(int(match["pid"])):
            continue
        path = Path(parent) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists (another user's), or cannot tell: keep its folder
    return True


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode('utf-8')):08x}"


def write_results(
    result: RunResult,
    out_dir: Path,
    provenance: dict,
    unique: bool = False,
    staging: Path | None = None,
    run_figures_drawn: bool = False,
) -> Path:
    """Write summary, tables, provenance and figures into ``out_dir`` atomically.
    ``run_figures_drawn``: the root seed's figures are in ``staging`` already
    (``figures.save_run_figures``, drawn while the replications ran).

    With ``unique`` (the default folder), a folder that appeared meanwhile gets a -2, -3 ... suffix
    instead of an error. ``staging`` is the folder made by :func:`start_output` (made here if
    None); it is renamed into place, or removed on any error. Raises :class:`DiskFull` if the disk
    fills up. Returns the folder written.
    """
    from simulation.reporting.figures import save_figures  # matplotlib only when writing

    out_dir = Path(out_dir)
    if staging is not None and out_dir.exists() and not unique:
        shutil.rmtree(staging, ignore_errors=True)
        raise already_exists(out_dir)

    def files(folder: Path) -> None:
        write_json(folder / "summary.json", result.summary)
        result.timeseries.to_csv(folder / "timeseries.csv", index=False)
        result.courses.to_csv(folder / "courses.csv", index=False)
        save_figures(result, folder / "figures", run_figures_drawn)

    return write_folder(out_dir, files, provenance, unique, staging)


def write_folder(
    out_dir: Path,
    write: Callable[[Path], None],
    provenance: dict,
    unique: bool = False,
    staging: Path | None = None,
) -> Path:
    """Write a results folder atomically: ``write(folder)`` fills a staging folder (made by
    :func:`start_output` if ``staging`` is None), ``provenance.json`` is added, and the folder is
    renamed into place, never over an earlier one (with ``unique``, a -2, -3 ... suffix instead of an
    error). On any error nothing is left; a full disk raises :class:`DiskFull`."""
    out_dir = Path(out_dir)
    staging = staging or start_output(out_dir, unique)
    try:
        write(staging)
        write_json(staging / "provenance.json", {**provenance, "end_time": now_iso()})
        os.chmod(staging, 0o777 & ~umask())  # mkdtemp made it 0700: as mkdir would have
        return publish(staging, out_dir, unique)
    except OSError as err:
        shutil.rmtree(staging, ignore_errors=True)
        if is_disk_full(err):
            raise DiskFull(
                err.errno,
                f"{out_dir}: {err.strerror or 'no space left'} while writing results; nothing was written",
            ) from None
        raise
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def publish(staging: Path, out_dir: Path, unique: bool) -> Path:
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
    path.write_text(json.dumps(clean_json(data), indent=2, allow_nan=False) + "\n", encoding="utf-8")


def provenance(
    result_scenario,
    seed: int,
    command: list[str],
    start_time: str,
    schemes: list[str] | None = None,
    replications: int = 0,
) -> dict:
    """Who ran what, with which code and packages: enough to run it again (``run.py rerun``): the
    resolved scenario, the root seed, the schemes run (in order) and the number of replications."""
    return {
        "scenario": result_scenario.model_dump(mode="json"),
        "seed": seed,
        "schemes": list(schemes) if schemes is not None else list(result_scenario.scheme_names),
        "replications": replications,
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
