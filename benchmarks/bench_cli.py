"""Start-up of the command line: how long ``run.py --help``, ``list``, ``check`` and ``run --help`` take.

    uv run benchmarks/bench_cli.py [--repeat 5] [--imports] [--as-is]

Runs each command ``--repeat`` times in a fresh process with this Python (``sys.executable``, the
project's virtual environment: ``uv run`` itself adds ~0.1-0.3 s that is not the program's) and
prints, per command, the median and best wall time (seconds) and the largest peak resident memory
(MB, ``ru_maxrss`` of the child), against the goal of 0.5 s. ``--imports`` also prints the ten
slowest imports of ``check`` (``python -X importtime``, cumulative milliseconds).

Bytecode: Python normally caches compiled modules in ``__pycache__`` on first import. Where
``PYTHONDONTWRITEBYTECODE`` is set and the environment was installed without bytecode (``uv sync``
compiles none by default), every process compiles its modules from source again, which costs more
than the imports themselves. So each command first runs once untimed with bytecode writing allowed,
as any first run would; ``--as-is`` skips that and measures the environment exactly as it is.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_S = 0.5
COMMANDS = {
    "--help": ["--help"],
    "list": ["list"],
    "check": ["check", "scenarios/prakerja_2020.yaml"],
    "run --help": ["run", "--help"],
}


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak resident MB) of ``python run.py ARGV`` in a fresh process."""
    start = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "run.py", *argv], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    ) as proc:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"run.py {' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in kB on Linux


def measure(argv: list[str], repeat: int, warm_up: bool) -> dict[str, float]:
    """Median and best wall time (s) and the largest peak memory (MB) over ``repeat`` runs."""
    if warm_up:  # compile and cache the bytecode, as a first run does
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        timed(argv, env)
    walls, peaks = zip(*(timed(argv, dict(os.environ)) for _ in range(repeat)), strict=True)
    return {
        "median_s": round(statistics.median(walls), 3),
        "best_s": round(min(walls), 3),
        "peak_mb": round(max(peaks), 1),
    }


def slowest_imports(argv: list[str], top: int = 10) -> list[tuple[str, float]]:
    """The ``top`` imports of ``run.py ARGV`` with the largest cumulative time (ms)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "run.py", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|")
            if cumulative.strip().isdigit():
                rows.append((name.rstrip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--imports", action="store_true", help="also list the slowest imports of check")
    parser.add_argument("--as-is", action="store_true", help="no untimed warm-up run (see above)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"python {sys.executable}; {os.cpu_count()} cores, load average {load:.2f}; goal {GOAL_S} s")
    results = {}
    for name, argv in COMMANDS.items():
        found = measure(argv, args.repeat, warm_up=not args.as_is)
        results[name] = found
        verdict = "meets" if found["median_s"] < GOAL_S else "MISSES"
        print(
            f"run.py {name:<12} median {found['median_s']:.3f} s  best {found['best_s']:.3f} s  "
            f"peak {found['peak_mb']:6.1f} MB  ({verdict} the goal)"
        )
    out = {"goal_s": GOAL_S, "repeat": args.repeat, "warm_up": not args.as_is, "load": load, **results}
    if args.imports:
        print("\nslowest imports of run.py check (cumulative ms, one run):")
        rows = slowest_imports(COMMANDS["check"])
        for module, ms in rows:
            print(f"  {ms:8.1f}  {module}")
        out["check_imports_ms"] = {module.strip(): ms for module, ms in rows}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
