"""Running a sweep: every run of a design, in-process or on Dask, streamed into a result store.

A run is a pure function of the base scenario, the run's overrides and its seed
(:func:`run_one`), so its result never depends on which worker ran it or when. Finished runs are
written at once; re-running the same sweep skips them (resume), and a run that raises is recorded
with its error while the others go on. Dask does the distribution, retries and worker loss.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import ssl
import time
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tqdm.auto import tqdm

from simulation.config.scenario import apply_override, read_yaml, validate
from simulation.experiments.spec import RunSpec, SweepSpec, design, fingerprint
from simulation.experiments.store import ResultStore, StoreError, encode_run
from simulation.reporting.outputs import DiskFull, git_commit, is_disk_full, now_iso, package_versions
from simulation.rules import parallel
from simulation.runner import run_scenario


@dataclass(frozen=True)
class SweepResult:
    """Where a sweep's results are and how its runs ended."""

    folder: Path
    runs: int
    finished: int
    failed: dict[int, str]
    corrupt: dict[int, str] = field(default_factory=dict)  # run id -> problem, of files moved aside
    moved: dict[int, Path] = field(default_factory=dict)  # run id -> where its corrupt file went
    strays: list[str] = field(default_factory=list)  # files in runs/ that are not runs of the design

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
    run_schemes = list(run.schemes) if run.schemes is not None else schemes
    summary = run_scenario(scenario, schemes=run_schemes, seed=run.seed).summary
    wall = time.perf_counter() - start
    rows = []
    arm = {} if run.arm is None else {"arm": run.arm}
    for scheme, values in summary["schemes"].items():
        kept = values if metrics is None else {name: values.get(name) for name in metrics}
        rows.append(
            {
                "run_id": run.run_id,
                "point": run.point,
                "replication": run.replication,
                "seed": run.seed,
                "scheme": scheme,
                **arm,
                **run.values,
                **kept,
                "wall_s": wall,
            }
        )
    return rows


@dataclass(frozen=True)
class Design:
    """Everything a results folder runs: the runs, the base scenario and what is kept of each run.

    ``fingerprint`` identifies the design (a folder holding another is refused) and ``manifest``
    is written once, when the folder is created (it must hold ``runs``, the number of runs)."""

    label: str  # the progress bar's
    runs: list[RunSpec]
    fingerprint: str
    manifest: dict
    base_raw: dict
    source: str
    fixed: list[str]
    schemes: list[str] | None
    metrics: list[str] | None


def sweep(
    spec: SweepSpec, folder: Path | str | None = None, executor: Any = None, progress: bool = False
) -> SweepResult:
    """Run every pending run of ``spec`` into ``folder`` (default ``results/<spec name>``).

    ``executor`` is None (in-process) or a ``distributed.Client`` (a LocalCluster or a remote
    scheduler; see :func:`dask_client`). On Dask, runs travel in small batches (:func:`batches`);
    each finished batch's runs are stored at once, so a killed sweep loses only the batches in
    flight. Before running, every stored run file is checked (:meth:`ResultStore.repair`): corrupt
    ones are moved into ``corrupt/`` and run again; the result lists them and any stray files.
    """
    folder = Path(folder) if folder is not None else Path("results") / spec.name
    runs = design(spec)
    plan = Design(
        label=spec.name,
        runs=runs,
        fingerprint=fingerprint(spec),
        manifest=_manifest(spec, runs),
        base_raw=read_yaml(Path(spec.base)),
        source=str(spec.base),
        fixed=list(spec.set),
        schemes=list(spec.schemes) if spec.schemes else None,
        metrics=list(spec.metrics) if spec.metrics else None,
    )
    return execute(plan, folder, executor, progress)


def execute(plan: Design, folder: Path | str, executor: Any = None, progress: bool = False) -> SweepResult:
    """Run every pending run of ``plan`` into ``folder`` (see :func:`sweep`): a run with a stored
    result is not run again (resume), a corrupt one is moved aside and run again."""
    folder = Path(folder)
    runs = plan.runs
    try:
        store = ResultStore.open(folder, plan.fingerprint, plan.manifest)
        integrity = store.repair()  # corrupt run files are moved aside: their runs are pending again
    except OSError as err:
        if not is_disk_full(err) or isinstance(err, StoreError):
            raise
        raise DiskFull(err.errno, f"{folder}: {err.strerror} while preparing the sweep folder") from None
    pending_ids = set(store.pending([run.run_id for run in runs]))
    pending = [run for run in runs if run.run_id in pending_ids]
    args = (plan.base_raw, plan.source, plan.fixed)
    bar = tqdm(
        total=len(runs), initial=len(runs) - len(pending), desc=plan.label, unit="run", disable=not progress
    )
    try:
        _execute(store, pending, args, plan.schemes, plan.metrics, executor, plan.fingerprint[:12], bar)
    except KeyboardInterrupt:
        bar.close()
        _save_status(store, runs)
        raise SweepInterrupted(folder, len(runs), len(store.finished())) from None
    except OSError as err:
        if not is_disk_full(err):
            raise
        bar.close()
        _save_status(store, runs)
        saved = len(store.finished())
        raise DiskFull(
            err.errno,
            f"{folder}: {err.strerror or 'no space left'} while saving a run; {saved:,} of {len(runs):,} "
            f"runs are saved (whole files only): free some space and run the same command to resume",
        ) from None
    bar.close()
    try:
        store.write_status([run.run_id for run in runs])
    except OSError as err:
        if not is_disk_full(err):
            raise
        raise DiskFull(
            err.errno, f"{folder}: {err.strerror} while writing status.json (every finished run is saved)"
        ) from None
    return SweepResult(
        folder,
        len(runs),
        len(store.finished()),
        store.failed(),
        integrity.corrupt,
        integrity.moved,
        integrity.strays,
    )


def _execute(
    store: ResultStore,
    pending: list[RunSpec],
    args: tuple[dict, str, list[str]],
    schemes: list[str] | None,
    metrics: list[str] | None,
    executor: Any,
    tag: str,
    bar: tqdm,
) -> None:
    """Run the pending runs in-process or on ``executor``, storing each as it ends."""
    failures = 0
    if executor is None:
        for run in pending:
            failures += _record(store, run.run_id, lambda run=run: run_one(*args, run, schemes, metrics))
            _tick(bar, failures)
        return
    from distributed import as_completed

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
    outcomes: list[tuple[int, bytes | None, str | None]] = []
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


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a sweep after ``status.json`` was written: ``finished`` of ``runs``
    runs are saved in ``folder``, and the same command resumes."""

    def __init__(self, folder: Path, runs: int, finished: int):
        super().__init__(f"{folder}: {finished:,} of {runs:,} runs saved")
        self.folder, self.runs, self.finished = folder, runs, finished


def _save_status(store: ResultStore, runs: list[RunSpec]) -> None:
    """Write status.json on the way out of an interrupted sweep, if the disk lets us."""
    with contextlib.suppress(OSError):
        store.write_status([run.run_id for run in runs])


def _record(store: ResultStore, run_id: int, result, encoded: bool = False) -> int:
    """Store a run's rows (or its Parquet content), or its error; returns 1 if it failed."""
    try:
        if encoded:
            store.write_encoded(run_id, result())
        else:
            store.write_run(run_id, result())
        return 0
    except OSError as err:
        if is_disk_full(err):
            raise  # not the run's fault: the sweep stops (see sweep)
        store.write_failure(run_id, err, traceback.format_exc())
        return 1
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


CONNECT_TIMEOUT = 10.0  # seconds to reach a --scheduler before giving up
SCHEDULER_FORM = "tls://HOST:PORT (or tcp://HOST:PORT on a trusted network)"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


class SchedulerError(ValueError):
    """A scheduler address, TLS setting or connection that cannot be used (a user error)."""


class InsecureSchedulerWarning(UserWarning):
    """Plain TCP to a scheduler on another machine: anyone on the path can run code here."""


@dataclass(frozen=True)
class SchedulerAddress:
    """A checked ``tcp://`` or ``tls://`` address of a Dask scheduler."""

    protocol: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.protocol}://{host}:{self.port}"

    @property
    def loopback(self) -> bool:
        """Whether the address is on this machine's loopback interface (by its form: no lookup)."""
        if self.host.lower() in _LOOPBACK_NAMES:
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False  # a host name: it may resolve anywhere


def parse_scheduler_address(text: str) -> SchedulerAddress:
    """Check the form of a scheduler address (no connection is made): ``tcp://`` or ``tls://``,
    a host and a port. Raises :class:`SchedulerError` naming the address."""
    if not text or not text.strip():
        raise SchedulerError(f"--scheduler: the address is empty; expected {SCHEDULER_FORM}")
    if any(ch.isspace() for ch in text) or "://" not in text:
        raise SchedulerError(f"--scheduler {text!r}: not an address; expected {SCHEDULER_FORM}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise SchedulerError(
            f"--scheduler {text!r}: not a valid address ({err}); expected {SCHEDULER_FORM}"
        ) from None
    protocol = parts.scheme.lower()
    if protocol not in ("tcp", "tls"):
        raise SchedulerError(
            f"--scheduler {text!r}: {protocol or 'no'} protocol; a Dask scheduler is at {SCHEDULER_FORM}"
        )
    if not parts.hostname:
        raise SchedulerError(f"--scheduler {text!r}: no host; expected {SCHEDULER_FORM}")
    if port is None or port == 0:
        raise SchedulerError(
            f"--scheduler {text!r}: no port (Dask's default is 8786); expected {SCHEDULER_FORM}"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise SchedulerError(
            f"--scheduler {text!r}: unexpected text after the port; expected {SCHEDULER_FORM}"
        )
    return SchedulerAddress(protocol, parts.hostname, port)


def insecure_warning(address: SchedulerAddress) -> str | None:
    """The warning for plain TCP to a scheduler that is not on loopback, else None."""
    if address.protocol != "tcp" or address.loopback:
        return None
    return (
        f"{address} is plain TCP to another machine. Dask sends results back as Python pickles, so "
        f"whoever runs that scheduler or its workers, or can reach that network, can run code in this "
        f"process. Use only a cluster you trust, and tls:// with --tls-ca-file, --tls-cert and --tls-key."
    )


def scheduler_security(
    address: SchedulerAddress,
    ca_file: Path | str | None = None,
    cert: Path | str | None = None,
    key: Path | str | None = None,
):
    """The ``distributed.security.Security`` for ``address``: None for tcp://; for tls:// the given
    CA file, client certificate and key, or else Dask's config (``distributed.comm.tls.ca-file``,
    ``distributed.comm.tls.client.cert``, ``.key``). Encryption is required. SchedulerError if
    certificates are given for tcp://, missing for tls://, or unreadable."""
    from distributed.security import Security

    given = {"--tls-ca-file": ca_file, "--tls-cert": cert, "--tls-key": key}
    if address.protocol == "tcp":
        named = [name for name, value in given.items() if value is not None]
        if named:
            raise SchedulerError(f"{', '.join(named)}: certificates need a tls:// address, not {address}")
        return None
    for name, value in given.items():
        if value is not None and not Path(value).is_file():
            raise SchedulerError(f"{name} {value}: no such file")
    if ca_file is None and cert is None and key is None:
        security = Security(require_encryption=True)  # from Dask's config, if it names certificates
        # Security declares its fields in __slots__ only (set with setattr): mypy cannot see them.
        if not security.tls_ca_file or not security.tls_client_cert:  # type: ignore[attr-defined]
            raise SchedulerError(
                f"--scheduler {address}: tls:// needs certificates: --tls-ca-file CA.pem --tls-cert "
                f"CERT.pem [--tls-key KEY.pem] (or Dask's config distributed.comm.tls.ca-file, "
                f"distributed.comm.tls.client.cert and .key)"
            )
        return security
    if ca_file is None or cert is None:
        missing = "--tls-ca-file" if ca_file is None else "--tls-cert"
        raise SchedulerError(
            f"{missing} is missing: a tls:// scheduler needs the CA that signed the cluster's "
            f"certificates (--tls-ca-file) and this client's certificate (--tls-cert, --tls-key)"
        )
    return Security(
        tls_ca_file=str(ca_file),
        tls_client_cert=str(cert),
        tls_client_key=None if key is None else str(key),
        require_encryption=True,
    )


def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    security=None,
    timeout: float | None = None,
    warn=None,
):
    """A Dask client: an existing cluster at ``scheduler``, or a LocalCluster of ``workers``
    single-threaded worker processes on the loopback interface.

    Trust: results come back from the cluster as pickles, so a scheduler or worker can run code
    in this process (Dask's security model: the cluster must be trusted). ``scheduler`` is checked
    first (:func:`parse_scheduler_address`); plain TCP to another machine is reported to ``warn``
    (default: an :class:`InsecureSchedulerWarning`); for ``tls://`` pass ``security`` (see
    :func:`scheduler_security`). Connecting gives up after ``timeout`` seconds
    (:data:`CONNECT_TIMEOUT`): SchedulerError naming the address.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        address = parse_scheduler_address(scheduler)
        if address.protocol == "tls" and security is None:
            security = scheduler_security(address)
        message = insecure_warning(address)
        if message is not None:
            if warn is None:
                warnings.warn(message, InsecureSchedulerWarning, stacklevel=2)
            else:
                warn(message)
        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        try:
            return Client(str(address), security=security, timeout=timeout)
        except (OSError, TimeoutError, ssl.SSLError) as err:
            reason = str(err).strip() or type(err).__name__
            raise SchedulerError(
                f"--scheduler {address}: cannot connect within {timeout:g} s ({reason}); check that the "
                f"scheduler runs there, the port and, for tls://, the certificates"
            ) from None
    # Dask's nannies set MALLOC_TRIM_THRESHOLD_, which fixes glibc's mmap threshold: every large
    # numpy temporary is then mapped and unmapped afresh, and a run takes ~1.6x as long. Unset it.
    # A worker's statistical profiler walks the running task's stack every 10 ms while holding the
    # GIL: a replication then takes up to 1.3x as long (benchmarks/bench_parallel.py). Off.
    settings = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.worker.profile.enabled": False,
    }
    # Each worker process runs its model's kernels and schemes on threads
    # (simulation.rules.parallel): share the cores out between the workers, not each take them all.
    # Given to each nanny (set in its worker before anything is imported), not through Dask's
    # pre-spawn environment, which is written into this process's own and would then hold for
    # every later cluster and for this process's runs.
    threads = str(max(1, parallel.threads() // (workers or parallel.threads())))
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # not 8787: another cluster may hold it
            env={"NUMBA_NUM_THREADS": threads},
        )
    return Client(cluster)
