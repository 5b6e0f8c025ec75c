"""Replications and the decomposition on a local Dask cluster: speed-up and parallel efficiency.

    uv run benchmarks/bench_parallel.py [--size 50000] [--replications 4] [--decompose-size 20000]
                                        [--decompose-replications 2] [--workers 2] [--only run|decompose]
                                        [--repeat 1] [--breakdown]

Times whole commands, each in a fresh process with this Python, as a user runs them:

* ``run.py run scenarios/prakerja_2020.yaml --size N --replications R`` (voucher and tender on
  the root seed's world, then R further seeds), in-process (T1) and with ``--workers K`` (TK);
* ``run.py decompose scenarios/prakerja_2020.yaml --size N --replications R``, likewise.

TK includes starting the cluster and its workers' imports (the cost a user pays). Numba, OpenMP
and BLAS are held to one thread in every process (``NUMBA_NUM_THREADS=1`` ...), so that one
process is one core in both runs. Prints, per command, T1, TK, the speed-up T1 / TK and the
parallel efficiency T1 / (K x TK) against the goal of 0.8 (with ``--repeat R``, the best of R
alternating runs of each), and checks that both runs wrote the
same results (summary.json for run, decomposition.csv for decompose). ``--breakdown`` also times
``run`` without replications (the part that does not parallelise: imports, the root seed, the
figures) and a cluster's start and stop alone, to explain a shortfall.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "scenarios/prakerja_2020.yaml"
GOAL = 0.8
ONE_THREAD = {
    name: "1" for name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}
CLUSTER_ALONE = (
    "from simulation.experiments.execute import dask_client\n"
    "if __name__ == '__main__':\n"
    "    client = dask_client({workers})\n"
    "    client.close()\n"
    "    client.cluster.close()\n"
)


def timed(argv: list[str]) -> float:
    """Wall seconds of ``python ARGV`` in a fresh process, one thread per process."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env={**os.environ, **ONE_THREAD}, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return time.perf_counter() - start


def compare(command: list[str], workers: int, folder: Path, results: str, repeat: int) -> dict[str, float]:
    """T1 and TK of ``run.py COMMAND`` (the best of ``repeat`` alternating runs of each, so that a
    passing load on a shared machine weighs less), the speed-up and efficiency, and whether
    ``results`` (a file both runs write) came out identical."""
    t1s, tks = [], []
    for k in range(repeat):
        t1s.append(timed(["run.py", *command, "--out", str(folder / f"serial{k}")]))
        tks.append(timed(["run.py", *command, "--workers", str(workers), "--out", str(folder / f"dask{k}")]))
    t1, tk = min(t1s), min(tks)
    same = (folder / "serial0" / results).read_bytes() == (folder / "dask0" / results).read_bytes()
    return {
        "t1_s": round(t1, 2),
        "tk_s": round(tk, 2),
        "speedup": round(t1 / tk, 3),
        "efficiency": round(t1 / (workers * tk), 3),
        "identical": same,
    }


def show(name: str, found: dict[str, float], workers: int) -> None:
    verdict = "meets" if found["efficiency"] >= GOAL else "misses"
    print(
        f"{name:<10} T1 {found['t1_s']:7.2f} s  T{workers} {found['tk_s']:7.2f} s  speed-up "
        f"{found['speedup']:.2f}  efficiency {found['efficiency']:.2f} ({verdict} {GOAL})  "
        f"results identical: {found['identical']}"
    )


def breakdown(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    """The serial part of ``run`` (no replications) and a cluster's start and stop alone."""
    base = ["run.py", "run", SCENARIO, "--size", str(args.size), "--no-progress"]
    serial = timed([*base, "--out", str(folder / "root-only")])
    cluster = timed(["-c", CLUSTER_ALONE.format(workers=args.workers)])
    print(f"breakdown  run without replications {serial:.2f} s; cluster start and stop {cluster:.2f} s")
    return {"root_only_s": round(serial, 2), "cluster_start_stop_s": round(cluster, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50_000, help="recipients for run (default 50,000)")
    parser.add_argument("--replications", type=int, default=4, help="replications of run (default 4)")
    parser.add_argument("--decompose-size", type=int, default=20_000, help="recipients (default 20,000)")
    parser.add_argument("--decompose-replications", type=int, default=2, help="seeds (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (default 2)")
    parser.add_argument("--only", choices=("run", "decompose"), help="measure one command only")
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each; best kept")
    parser.add_argument("--breakdown", action="store_true", help="also time the serial part alone")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f}; {args.workers} workers; goal {GOAL}")
    out: dict[str, object] = {"workers": args.workers, "goal": GOAL, "load": load}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if args.only in (None, "run"):
            command = ["run", SCENARIO, "--size", str(args.size), "--replications", str(args.replications)]
            found = compare(
                [*command, "--no-progress"], args.workers, folder / "run", "summary.json", args.repeat
            )
            show("run", found, args.workers)
            out["run"] = {"size": args.size, "replications": args.replications, **found}
        if args.only in (None, "decompose"):
            command = ["decompose", SCENARIO, "--size", str(args.decompose_size)]
            command += ["--replications", str(args.decompose_replications), "--no-progress"]
            found = compare(command, args.workers, folder / "decompose", "decomposition.csv", args.repeat)
            show("decompose", found, args.workers)
            size = {"size": args.decompose_size, "replications": args.decompose_replications}
            out["decompose"] = {**size, **found}
        if args.breakdown:
            out["breakdown"] = breakdown(args, folder)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
