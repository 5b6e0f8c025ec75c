"""Running a sweep: every run of a design, in-process or on Dask, streamed into a result store.

A run is a pure function of the base scenario, the run's overrides and its seed
(:func:`run_one`), so its result never depends on which worker ran it or when. Finished runs are
written at once; re-running the same sweep skips them (resume), and a run that raises is recorded
with its error while the others go on. Dask does the distribution, retries and worker loss.
"""

from __future__ import annotations

import copy
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from simulation.config.scenario import apply_override, read_yaml, validate
from simulation.experiments.spec import RunSpec, SweepSpec, design, fingerprint
from simulation.experiments.store import ResultStore, encode_run
from simulation.reporting.outputs import git_commit, now_iso, package_versions
from simulation.runner import run_scenario


@dataclass(frozen=True)
class SweepResult:
    """Where a sweep's results are and how its runs ended."""

    folder: Path
    runs: int
    finished: int
    failed: dict[int, str]

    @property
    def ok(self) -> bool:
        return not self.failed and self.finished == self.runs


def run_one(
    base_raw: dict,
    source: str,
    fixed: list[str],
    run: RunSpec,
    schemes: list[str] | None,
    metrics: list[str] | None,
) -> list[dict[str, Any]]:
    """Run one point of a sweep: the base scenario with the fixed and the run's overrides, at the
    run's seed. Returns one flat row per scheme: ids, parameter values, seed, metrics, wall time."""
    start = time.perf_counter()
    raw = copy.deepcopy(base_raw)
    for override in [*fixed, *run.overrides]:
        apply_override(raw, override)
    scenario = validate(raw, source=source)
    summary = run_scenario(scenario, schemes=schemes, seed=run.seed).summary
    wall = time.perf_counter() - start
    rows = []
    for scheme, values in summary["schemes"].items():
        kept = values if metrics is None else {name: values.get(name) for name in metrics}
        rows.append(
            {
                "run_id": run.run_id,
                "point": run.point,
                "replication": run.replication,
                "seed": run.seed,
                "scheme": scheme,
                **run.values,
                **kept,
                "wall_s": wall,
            }
        )
    return rows


def sweep(
    spec: SweepSpec, folder: Path | str | None = None, executor: Any = None, progress: bool = False
) -> SweepResult:
    """Run every pending run of ``spec`` into ``folder`` (default ``results/<spec name>``).

    ``executor`` is None (in-process) or a ``distributed.Client`` (a LocalCluster or a remote
    scheduler; see :func:`dask_client`). On Dask, runs travel in small batches (:func:`batches`);
    each finished batch's runs are stored at once, so a killed sweep loses only the batches in
    flight.
    """
    folder = Path(folder) if folder is not None else Path("results") / spec.name
    runs = design(spec)
    store = ResultStore.open(folder, fingerprint(spec), _manifest(spec, runs))
    pending_ids = set(store.pending([run.run_id for run in runs]))
    pending = [run for run in runs if run.run_id in pending_ids]
    base_raw = read_yaml(Path(spec.base))
    args = (
        base_raw,
        str(spec.base),
        list(spec.set),
    )
    schemes = list(spec.schemes) if spec.schemes else None
    metrics = list(spec.metrics) if spec.metrics else None
    bar = tqdm(
        total=len(runs), initial=len(runs) - len(pending), desc=spec.name, unit="run", disable=not progress
    )
    failures = 0
    if executor is None:
        for run in pending:
            failures += _record(store, run.run_id, lambda run=run: run_one(*args, run, schemes, metrics))
            _tick(bar, failures)
    else:
        from distributed import as_completed

        tag = fingerprint(spec)[:12]
        futures = {
            executor.submit(
                run_batch,
                *args,
                batch,
                schemes,
                metrics,
                key=f"runs-{tag}-{batch[0].run_id}",
                pure=False,
                retries=1,
            ): batch
            for batch in batches(pending, _worker_count(executor))
        }
        for future in as_completed(futures):
            try:
                outcomes = future.result()
            except Exception as err:  # the batch itself was lost (e.g. a worker died twice)
                outcomes = [(run.run_id, None, f"{type(err).__name__}: {err}") for run in futures[future]]
            for run_id, content, error in outcomes:
                failures += _record(store, run_id, lambda c=content, e=error: _or_raise(c, e), encoded=True)
                _tick(bar, failures)
    bar.close()
    store.write_status([run.run_id for run in runs])
    return SweepResult(folder, len(runs), len(store.finished()), store.failed())


def run_batch(
    base_raw: dict,
    source: str,
    fixed: list[str],
    runs: list[RunSpec],
    schemes: list[str] | None,
    metrics: list[str] | None,
) -> list[tuple[int, bytes | None, str | None]]:
    """Several runs in one Dask task (fewer round trips to the scheduler): for each run its rows
    encoded as Parquet (so the client only writes files), or the error and traceback if it
    raised; one failing run does not stop the others."""
    outcomes = []
    for run in runs:
        try:
            rows = run_one(base_raw, source, fixed, run, schemes, metrics)
            outcomes.append((run.run_id, encode_run(run.run_id, rows), None))
        except Exception as err:
            outcomes.append((run.run_id, None, f"{type(err).__name__}: {err}\n{traceback.format_exc()}"))
    return outcomes


def batches(runs: list[RunSpec], workers: int, per_worker: int = 4, largest: int = 16) -> list[list[RunSpec]]:
    """Split runs into about ``per_worker`` batches per worker (at most ``largest`` runs each), in
    order, so that the scheduler's cost per task is shared by several runs while every worker
    stays busy to the end."""
    size = max(1, min(largest, -(-len(runs) // max(workers * per_worker, 1))))
    return [runs[k : k + size] for k in range(0, len(runs), size)]


def _worker_count(client) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


def _or_raise(rows, error):
    if error is not None:
        raise RunFailed(error)
    return rows


class RunFailed(RuntimeError):
    """A run that raised on a worker; the message carries its error and traceback."""


def _record(store: ResultStore, run_id: int, result, encoded: bool = False) -> int:
    """Store a run's rows (or its Parquet content), or its error; returns 1 if it failed."""
    try:
        if encoded:
            store.write_encoded(run_id, result())
        else:
            store.write_run(run_id, result())
        return 0
    except Exception as err:  # a failing run is recorded and the sweep goes on
        store.write_failure(
            run_id, err.args[0] if isinstance(err, RunFailed) else err, traceback.format_exc()
        )
        return 1


def _tick(bar, failures: int) -> None:
    bar.update(1)
    bar.set_postfix(failed=failures, remaining=bar.total - bar.n, refresh=False)


def _manifest(spec: SweepSpec, runs: list[RunSpec]) -> dict:
    return {
        "spec": spec.model_dump(mode="json"),
        "base_scenario": read_yaml(Path(spec.base)),
        "runs": len(runs),
        "seeds": [run.seed for run in runs],
        "packages": package_versions(),
        "git_commit": git_commit(),
        "created": now_iso(),
    }


def dask_client(workers: int | None = None, scheduler: str | None = None):
    """A Dask client: an existing cluster at ``scheduler``, or a LocalCluster of ``workers``
    single-threaded worker processes on the loopback interface."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_, which fixes glibc's mmap threshold: every large
    # numpy temporary is then mapped and unmapped afresh, and a run takes ~1.6x as long. Unset it.
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        )
    return Client(cluster)
