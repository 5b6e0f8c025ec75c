"""Sweep throughput: parallel efficiency on Dask and the overhead of the store and the scheduler.

    uv run benchmarks/bench_sweep.py [--runs 40] [--workers 2] [--size 20000]

Runs the same sweep of the tiny scenario at ``--size`` recipients (credit levels x replications)
in-process and on a LocalCluster of ``--workers`` processes (started and warmed up beforehand, so
cluster start-up is reported apart). Prints:

* in-process and Dask wall seconds, and the parallel efficiency t_in_process / (workers x t_dask);
* the overhead per run, against one run of tiny.yaml at its default size: the result store's
  (one ``write_run`` of a run's rows, timed directly) and the store's plus the scheduler's (Dask
  worker-seconds minus the time spent inside the runs, per run).

The last line is one JSON object with every figure. Goals (benchmarks/README.md): efficiency
>= 0.8 with 2 workers on a 2-core machine; overhead <= 5% of a tiny run.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def write_spec(folder: Path, runs: int, size: int) -> Path:
    points = max(runs // 4, 1)
    credits = [250_000 * (k + 1) for k in range(points)]
    path = folder / "bench.yaml"
    path.write_text(
        f"name: bench\nbase: {ROOT / 'scenarios' / 'tiny.yaml'}\nseed: 3\nsampler: grid\n"
        f"replications: {runs // points}\nschemes: [voucher]\nset: ['size={size}']\n"
        f"parameters:\n  - {{path: voucher.credit_idr, values: {credits}}}\n",
        encoding="utf-8",
    )
    return path


def timed_sweep(spec, folder: Path, executor=None) -> tuple[float, float, int]:
    from simulation.experiments.execute import sweep
    from simulation.experiments.store import load_sweep

    start = time.perf_counter()
    outcome = sweep(spec, folder, executor=executor)
    wall = time.perf_counter() - start
    assert outcome.ok, outcome.failed
    inside = float(load_sweep(folder)["wall_s"].sum())
    return wall, inside, outcome.runs


def warm_up() -> None:
    """Run a very small model once so that a worker has loaded every compiled kernel."""
    from simulation import load_scenario, run_scenario

    run_scenario(
        load_scenario(
            ROOT / "scenarios" / "tiny.yaml", size=50, weeks=4, overrides=["labour.endline_weeks=2"]
        )
    )


def noop(batch: int) -> int:
    return batch


def scheduler_cost_per_run(client, runs: int) -> float:
    """Round-trip time of the sweep's Dask tasks with no work in them, per run, seconds."""
    from simulation.experiments.execute import batches

    tasks = len(batches(list(range(runs)), len(client.scheduler_info()["workers"])))
    start = time.perf_counter()
    client.gather(client.map(noop, range(tasks), pure=False))
    return (time.perf_counter() - start) / runs


def tiny_run_and_store_write(spec, work: Path, repeats: int = 5) -> tuple[float, float, float]:
    """Best-of wall time of one default-size tiny run (run_one); mean time of storing its rows
    in-process (encode and write), and of writing rows a Dask worker has already encoded."""
    from simulation.config.scenario import read_yaml
    from simulation.experiments import design
    from simulation.experiments.execute import run_one
    from simulation.experiments.store import ResultStore, encode_run

    run = design(spec)[0]
    base = read_yaml(Path(spec.base))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        rows = run_one(base, str(spec.base), [], run, ["voucher"], None)
        times.append(time.perf_counter() - start)
    store = ResultStore.open(work / "store_only", "bench", {"runs": repeats})
    start = time.perf_counter()
    for k in range(repeats * 4):
        store.write_run(k, [dict(row, run_id=k) for row in rows])
    write = (time.perf_counter() - start) / (repeats * 4)
    encoded = [encode_run(k, [dict(row, run_id=k) for row in rows]) for k in range(100, 100 + repeats * 4)]
    start = time.perf_counter()
    for k, content in enumerate(encoded, start=100):
        store.write_encoded(k, content)
    return min(times), write, (time.perf_counter() - start) / len(encoded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--size", type=int, default=20_000, help="recipients per run of the sweep")
    args = parser.parse_args()

    from simulation.experiments import load_sweep_spec
    from simulation.experiments.execute import dask_client

    work = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    spec = load_sweep_spec(write_spec(work, args.runs, args.size))
    serial, serial_inside, runs = timed_sweep(spec, work / "in_process")
    tiny_run, store_write, file_write = tiny_run_and_store_write(spec, work)

    started = time.perf_counter()
    client = dask_client(workers=args.workers)
    client.run(warm_up)  # imports and the compiled kernels' first load, in every worker
    startup = time.perf_counter() - started
    try:
        parallel, parallel_inside, _ = timed_sweep(spec, work / "dask", executor=client)
        scheduler = scheduler_cost_per_run(client, runs)
    finally:
        client.close()
        client.cluster.close()

    mean_run = serial_inside / runs
    dask_overhead = (args.workers * parallel - parallel_inside) / runs
    result = {
        "runs": runs,
        "workers": args.workers,
        "mean_run_s": round(mean_run, 4),
        "in_process_s": round(serial, 3),
        "dask_s": round(parallel, 3),
        "cluster_startup_s": round(startup, 3),
        "parallel_efficiency": round(serial / (args.workers * parallel), 3),
        "parallel_efficiency_with_startup": round(serial / (args.workers * (parallel + startup)), 3),
        "tiny_run_s": round(tiny_run, 4),
        "store_overhead_per_run_s": round(store_write, 5),
        "store_overhead_share_of_tiny_run": round(store_write / tiny_run, 4),
        "dask_store_overhead_per_run_s": round(file_write, 5),
        "dask_overhead_share_of_tiny_run": round((file_write + scheduler) / tiny_run, 4),
        "scheduler_overhead_per_run_s": round(scheduler, 5),
        "scheduler_overhead_share_of_tiny_run": round(scheduler / tiny_run, 4),
        "dask_wall_minus_work_per_run_s": round(dask_overhead, 4),
    }
    print(
        f"{runs} runs of ~{mean_run:.3f} s: in-process {serial:.2f} s; {args.workers} Dask workers "
        f"{parallel:.2f} s (+{startup:.1f} s cluster start-up)"
    )
    print(
        f"parallel efficiency {result['parallel_efficiency']:.2f} "
        f"({result['parallel_efficiency_with_startup']:.2f} counting start-up)"
    )
    print(
        f"overhead per run against a tiny run of {tiny_run * 1000:.0f} ms: in-process, store "
        f"{store_write * 1000:.1f} ms ({100 * result['store_overhead_share_of_tiny_run']:.1f}%); on Dask, "
        f"store {file_write * 1000:.2f} ms + scheduler {scheduler * 1000:.2f} ms "
        f"({100 * result['dask_overhead_share_of_tiny_run']:.1f}%)"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
