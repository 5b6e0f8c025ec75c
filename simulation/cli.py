"""Command line: ``run``, ``check``, ``list``, ``sweep``, ``analyze``, ``rerun``, ``decompose``, ``curve``,
``variants``, ``reproduce`` and ``app`` (``python run.py SCENARIO`` means ``run``).

Exit codes: 0 success; 2 bad input (a one-paragraph message, no traceback); 1 internal error, or
the disk filled up while writing (one line; nothing partial is left); 3 a sweep finished with
failed runs (each recorded in the results folder; ``reproduce`` then writes no report); 4
``rerun`` reproduced a summary that differs from the recorded one; 130 interrupted (Ctrl-C), with
one line saying what was saved.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import shutil
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulation.runner import RunResult

# Heavy modules (pydantic, numpy, pandas, Mesa, Dask) are imported inside the commands that use
# them, so that --help, list and check start in a fraction of a second (benchmarks/bench_cli.py).

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_RUNS_FAILED = 0, 1, 2, 3
EXIT_DIFFERS = 4  # rerun: the summary reproduced differs from the recorded one
EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as shells report it
COMMANDS = (
    "run", "check", "list", "sweep", "analyze", "rerun", "decompose", "curve", "variants", "reproduce", "app",
)  # fmt: skip
RERUN_KEYS = ("scenario", "seed", "schemes", "replications")  # what provenance.json must hold to rerun


class BadInput(Exception):
    """A user error: reported in one paragraph, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as BadInput (exit 2, no traceback)."""

    def error(self, message: str):
        raise BadInput(f"{message}\n{self.format_usage().strip()}")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="run.py", description="Training-voucher market simulator.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    run = sub.add_parser("run", help="simulate a scenario and write results")
    _scenario_options(run)
    run.add_argument("--out", type=Path, help="output folder (default results/<scenario>-<time>)")
    run.add_argument(
        "--replications",
        type=_non_negative_int,
        default=0,
        metavar="N",
        help="also run N further seeds (derived from the root seed) and report means "
        "with 95%% confidence intervals of every metric and paired difference",
    )
    run.add_argument(
        "--equal-spending",
        action="store_true",
        help="compare at equal realised spending: a pilot run measures what each scheme spends and "
        "every budget is scaled to the smallest spender's (recorded in provenance.json)",
    )
    run.add_argument(
        "--workers",
        type=_positive_int,
        metavar="K",
        help="run the replications on a local Dask cluster of K processes (same results as without; "
        "needs --replications)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    check = sub.add_parser("check", help="validate a scenario without running it")
    _scenario_options(check)
    sub.add_parser("list", help="list the bundled scenarios")
    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; Dask for parallel runs)")
    sweep.add_argument("spec", type=Path, help="sweep specification YAML")
    sweep.add_argument("--out", type=Path, help="results folder (default results/<sweep name>)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="start a local Dask cluster of N processes")
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="use a Dask cluster you trust, e.g. tls://host:8786 (it can run code in this process)",
    )
    sweep.add_argument("--tls-ca-file", type=Path, metavar="FILE", help="CA certificate of a tls:// cluster")
    sweep.add_argument("--tls-cert", type=Path, metavar="FILE", help="this client's certificate (tls://)")
    sweep.add_argument("--tls-key", type=Path, metavar="FILE", help="this client's private key (tls://)")
    sweep.add_argument("--dry-run", action="store_true", help="print the number of runs and stop")
    sweep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    analyze = sub.add_parser("analyze", help="effects and sensitivity indices of a sweep's results")
    analyze.add_argument("folder", type=Path, help="a sweep's results folder")
    rerun = sub.add_parser(
        "rerun", help="run a results folder again from its provenance.json and compare summary.json"
    )
    rerun.add_argument("folder", type=Path, help="a results folder written by run.py run")
    rerun.add_argument("--out", type=Path, help="output folder (default FOLDER-rerun-<time>)")
    rerun.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    decompose = sub.add_parser(
        "decompose",
        help="remove one voucher-tender asymmetry at a time and attribute the gap to each (paired CIs)",
    )
    _scenario_options(decompose, schemes=False)
    decompose.add_argument(
        "--shapley", action="store_true", help="also average each factor's contribution over every order"
    )
    _experiment_options(decompose, "configuration", "decomposition")
    curve = sub.add_parser(
        "curve", help="additional jobs against money spent for every scheme, across budget levels"
    )
    _scenario_options(curve, schemes=False)
    curve.add_argument(
        "--budgets",
        type=_multipliers,
        default=(0.25, 0.5, 1.0),
        metavar="M1,M2,...",
        help="budget multipliers applied to every scheme's budget (default 0.25,0.5,1)",
    )
    _experiment_options(curve, "budget level", "curve")
    variants = sub.add_parser(
        "variants",
        help="one scenario under named sets of overrides (e.g. each control), on paired seeds",
    )
    _scenario_options(variants, schemes=False)
    variants.add_argument(
        "--variants",
        type=Path,
        required=True,
        metavar="FILE",
        help="a variants file (YAML): the variants, their overrides and the reference",
    )
    _experiment_options(variants, "variant", "variants")
    _reproduce_parser(sub)
    _app_parser(sub)
    return parser


def _reproduce_parser(sub) -> None:
    reproduce = sub.add_parser(
        "reproduce",
        help="run a named experiment (scenarios/experiments/) and write its report with checks",
        description="Run a named experiment and write report.md: the question, the set-up, the checks "
        "(expectation, measured value with its 95%% CI, pass or fail, source), results and figures. "
        "Exits 0 when the experiment ran, whether or not its checks pass; the same command resumes "
        "an interrupted experiment.",
    )
    reproduce.add_argument("name", nargs="?", help="experiment name (see --list) or a spec file")
    reproduce.add_argument("--list", action="store_true", help="list the experiments and stop")
    reproduce.add_argument(
        "--quick", action="store_true", help="the reduced version (fewer people, replications and arms)"
    )
    reproduce.add_argument(
        "--out", type=Path, help="results folder (default results/experiments/<name>[-quick])"
    )
    reproduce.add_argument("--workers", type=_positive_int, help="run on a local Dask cluster of N processes")
    reproduce.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _experiment_options(p: argparse.ArgumentParser, unit: str, folder: str) -> None:
    """The options every paired experiment shares: seeds per ``unit``, a local Dask cluster, the
    output folder (default results/<scenario>-``folder``-<time>) and the progress bar."""
    p.add_argument(
        "--replications", type=_at_least_two, default=5, metavar="N", help=f"seeds per {unit} (default 5)"
    )
    p.add_argument("--workers", type=_positive_int, help="run on a local Dask cluster of N processes")
    p.add_argument("--out", type=Path, help=f"output folder (default results/<scenario>-{folder}-<time>)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def _scenario_options(p: argparse.ArgumentParser, schemes: bool = True) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--seed", type=_seed, help="root seed (default: the scenario's)")
    p.add_argument("--size", type=_positive_int, help="simulated recipients")
    p.add_argument("--weeks", type=_positive_int, help="weeks to simulate")
    if schemes:
        p.add_argument(
            "--scheme",
            action="append",
            dest="schemes",
            metavar="NAME",
            help="run only this scheme (repeatable)",
        )
    p.add_argument(
        "--set",
        action="append",
        dest="overrides",
        default=[],
        metavar="KEY.PATH=VALUE",
        help="override a scenario value, e.g. voucher.credit_idr=500000 (repeatable)",
    )


def _positive_int(text: str) -> int:
    value = _int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number (got {text!r})")
    return value


def _multipliers(text: str) -> tuple[float, ...]:
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected numbers separated by commas (got {text!r})") from None
        if not (math.isfinite(value) and 0 < value <= 100):
            raise argparse.ArgumentTypeError(
                f"each multiplier must be above 0 and at most 100 (got {part!r})"
            )
        values.append(value)
    if len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(f"a multiplier is listed twice ({text!r})")
    return tuple(values)


def _at_least_two(text: str) -> int:
    value = _int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"must be 2 or more, for confidence intervals (got {text!r})")
    return value


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more (got {text!r})")
    return value


def _seed(text: str) -> int:
    """``--seed TEXT`` follows the scenario's rule for ``seed``, exactly as ``--set seed=TEXT`` does:
    the text is read as YAML, then checked against the scenario's field (type and bounds)."""
    import yaml
    from pydantic import TypeAdapter, ValidationError

    from simulation.config.scenario import Seed  # the type of Scenario.seed

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    try:
        return TypeAdapter(Seed).validate_python(value)
    except ValidationError as err:
        raise argparse.ArgumentTypeError(f"{err.errors()[0]['msg']} (got {text!r})") from None


def _int(text: str) -> int:
    try:
        return int(float(text)) if float(text).is_integer() else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (got {text!r})") from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "run")
    try:
        args = build_parser().parse_args(argv)
        commands = {
            "run": cmd_run,
            "check": cmd_check,
            "list": cmd_list,
            "sweep": cmd_sweep,
            "analyze": cmd_analyze,
            "rerun": cmd_rerun,
            "decompose": cmd_decompose,
            "curve": cmd_curve,
            "variants": cmd_variants,
            "reproduce": cmd_reproduce,
            "app": cmd_app,
        }
        return commands[args.command](args, argv)
    except BadInput as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as err:
        print(_interrupted(argv[0] if argv else "", err), file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001  (each kind is told apart in _failed)
        return _failed(err)


def _failed(err: Exception) -> int:
    """Report an exception that ended a command and return the exit code: a bad scenario or output
    folder is the user's (exit 2, one paragraph); a full disk is said in one line (exit 1); anything
    else is a bug (exit 1, with the traceback). Called inside the ``except`` block; the classes are
    imported here so that ``--help`` and ``list`` do not load pydantic or the output writer."""
    from simulation.config.reading import ScenarioError
    from simulation.reporting.outputs import DiskFull, OutputError, is_disk_full

    if isinstance(err, ScenarioError | OutputError):
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if isinstance(err, OSError) and is_disk_full(err):
        message = str(err) if isinstance(err, DiskFull) else f"{err.filename or 'writing'}: {err.strerror}"
        print(f"error: {message}", file=sys.stderr)
        return EXIT_INTERNAL
    traceback.print_exc()  # an internal error: show it, it is a bug
    print("internal error: please report it with the scenario file", file=sys.stderr)
    return EXIT_INTERNAL


def _interrupted(command: str, err: KeyboardInterrupt) -> str:
    """One line for Ctrl-C: what was saved, and how to go on."""
    execute = sys.modules.get("simulation.experiments.execute")  # not imported here: that takes seconds
    if execute is not None and isinstance(err, execute.SweepInterrupted):
        return (
            f"interrupted: {err.finished:,} of {err.runs:,} runs are saved in {err.folder} (status.json "
            f"lists them); run the same command again to resume"
        )
    if command in ("run", "rerun"):
        return "interrupted: no results were written"
    return "interrupted"


def _load(args: argparse.Namespace):
    from simulation.config.scenario import load_scenario  # pydantic: not for list or --help

    scenario = load_scenario(args.scenario, args.overrides, seed=args.seed, size=args.size, weeks=args.weeks)
    if getattr(args, "schemes", None):
        unknown = [s for s in args.schemes if s not in scenario.scheme_names]
        if unknown:
            raise BadInput(
                f"--scheme {unknown[0]}: {args.scenario} defines {', '.join(scenario.scheme_names)}"
            )
    return scenario


def cmd_check(args: argparse.Namespace, argv: list[str]) -> int:
    scenario = _load(args)
    print(
        f"{args.scenario}: valid scenario '{scenario.name}' "
        f"({scenario.size:,} recipients, {scenario.weeks} weeks, schemes: "
        f"{', '.join(scenario.scheme_names)})"
    )
    return EXIT_OK


def cmd_list(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.config.reading import ScenarioError, read_yaml, scenario_dir

    for path in sorted(scenario_dir().glob("*.yaml")):
        try:
            description = read_yaml(path).get("description", "")
        except ScenarioError as err:
            description = f"(unreadable: {err})"
        print(f"{path.stem:<20} {description}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.reporting import outputs

    if args.workers and not args.replications:
        raise BadInput("--workers runs the replications on a local Dask cluster: give --replications N too")
    start = outputs.now_iso()
    scenario = _load(args)
    out_dir = args.out or outputs.default_out_dir(scenario.name)
    # An unwritable --out: exit 2 before simulating.
    staging = outputs.start_output(out_dir, unique=args.out is None)
    try:
        progress = not args.no_progress and sys.stderr.isatty()
        with _cluster_starting(args.workers) as cluster:  # starts while this process imports
            from simulation.reporting.outputs import write_results
            from simulation.runner import match_spending, run_scenario

            match = None
            if args.equal_spending:
                scenario, match = match_spending(scenario, args.schemes, progress=progress)
            client = None if cluster is None else cluster.client()
            draw: Callable[[RunResult], object] | None = None
            if client is not None:  # the root seed's figures drawn while the workers run
                from simulation.reporting.figures import save_run_figures

                draw = functools.partial(save_run_figures, folder=staging / "figures")

            result = run_scenario(
                scenario,
                args.schemes,
                progress=progress,
                replications=args.replications,
                client=client,
                before_replications=draw,
            )
            if cluster is not None:
                cluster.close_soon()  # while the results are written
            command = ["run.py", *argv]
            record = outputs.provenance(
                scenario, result.seed, command, start, result.schemes, args.replications
            )
            if args.workers:
                record["workers"] = args.workers  # where the replications ran; not needed to rerun
            if match is not None:
                record["spending"] = match.as_dict()
            written = write_results(
                result,
                out_dir,
                record,
                unique=args.out is None,
                staging=staging,
                run_figures_drawn=draw is not None,
            )
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already if published
    print(format_table(result))
    if match is not None:
        print(f"\n{_spending_line(match)}")
    print(f"\nresults written to {written}/")
    return EXIT_OK


@contextlib.contextmanager
def _local_cluster(workers: int | None):
    """A local Dask cluster of ``workers`` processes for the block (None: run in this process)."""
    with _cluster_starting(workers) as cluster:
        yield None if cluster is None else cluster.client()


class _BackgroundCluster:
    """A local Dask cluster started, and closed, in a background thread, so that this process
    imports, loads and writes meanwhile (each takes a few seconds)."""

    def __init__(self, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dask")
        self._start = self._pool.submit(self._started, workers)
        self._closing = False

    @staticmethod
    def _started(workers: int):
        from simulation.experiments.execute import dask_client

        return dask_client(workers)

    def client(self):
        """The client, once the cluster has started (raises what the start raised)."""
        return self._start.result()

    def close_soon(self) -> None:
        """Close the cluster in the background (after its start, if that succeeded)."""
        if not self._closing:
            self._closing = True
            self._pool.submit(self._close)

    def _close(self) -> None:
        if self._start.exception() is None:
            client = self._start.result()
            client.close()
            client.cluster.close()

    def wait(self) -> None:
        """Wait until the cluster is closed."""
        self.close_soon()
        self._pool.shutdown(wait=True)


@contextlib.contextmanager
def _cluster_starting(workers: int | None):
    """A :class:`_BackgroundCluster` of ``workers`` processes for the block (None without workers),
    closed when the block ends at the latest."""
    if not workers:
        yield None
        return
    cluster = _BackgroundCluster(workers)
    try:
        yield cluster
    finally:
        cluster.wait()


def _paired_experiment(
    args: argparse.Namespace,
    argv: list[str],
    folder: str,
    check: Callable[[dict, str], object],
    run: Callable[..., Any],
    write: Callable[..., Path],
    show: Callable[[Any], str],
    files: str,
    record: Callable[[Any], dict] = lambda result: {},
    schemes: list[str] | None = None,
) -> int:
    """A paired experiment on the scenario (``decompose``, ``curve``, ``variants``): load and
    ``check`` it (exit 2 before anything runs), ``run(raw, source, seed, client, progress)`` in this
    process or on a local Dask cluster (``--workers``), ``write(result, out_dir, provenance,
    unique, staging)`` atomically into results/<scenario>-``folder``-<time> (or ``--out``), with
    ``record(result)`` added to the provenance, then print ``show(result)``."""
    from simulation.reporting import outputs

    start = outputs.now_iso()
    scenario = _load(args)  # the user's file, overrides, seed, size and weeks: exit 2 if bad
    raw = scenario.model_dump(mode="json")
    source = str(args.scenario)
    check(raw, source)
    out_dir = args.out or outputs.default_out_dir(f"{scenario.name}-{folder}")
    staging = outputs.start_output(out_dir, unique=args.out is None)
    try:
        with _cluster_starting(args.workers) as cluster:
            progress = not args.no_progress and sys.stderr.isatty()
            client = None if cluster is None else cluster.client()
            result = run(raw, source, scenario.seed, client, progress)
            if cluster is not None:
                cluster.close_soon()  # while the results are written
            command = ["run.py", *argv]
            base = outputs.provenance(scenario, scenario.seed, command, start, schemes, args.replications)
            written = write(result, out_dir, {**base, **record(result)}, args.out is None, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    print(show(result))
    print(f"\nresults written to {written}/ ({files})")
    return EXIT_OK


def cmd_curve(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments import cost_curve as cc

    return _paired_experiment(
        args,
        argv,
        "curve",
        check=lambda raw, source: cc.check(raw, source, args.budgets),
        run=lambda raw, source, seed, client, progress: cc.curve(
            raw, source, args.budgets, args.replications, seed, client=client, progress=progress
        ),
        write=lambda found, out, rec, unique, staging: cc.write(
            found[0], found[1], out, rec, unique, staging
        ),
        show=lambda found: cc.format_curve(found[0]),
        files="curve.csv, cost_curve.png",
        record=lambda found: {"budget_multipliers": list(args.budgets)},
    )


def cmd_variants(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments import variants as va

    spec = va.load_variants(args.variants)
    spec_source = str(args.variants)
    return _paired_experiment(
        args,
        argv,
        "variants",
        check=lambda raw, source: va.check(raw, source, spec, spec_source),
        run=lambda raw, source, seed, client, progress: va.compare_variants(
            raw, source, spec, args.replications, seed, client, progress, spec_source
        ),
        write=va.write,
        show=va.format_table,
        files="variants.csv, runs.csv, variants.png",
        record=lambda result: {
            "variants": spec.model_dump(mode="json"),
            "replication_seeds": result.seeds,
        },
    )


def cmd_reproduce(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.config.reading import ScenarioError
    from simulation.experiments import experiment as ex

    if args.list:
        for path in ex.list_experiments():
            try:
                found = ex.load_experiment(path)
                print(f"{found.name:<16} {found.title}")
            except ScenarioError as err:
                print(f"{path.stem:<16} (invalid: {err})")
        return EXIT_OK
    if not args.name:
        raise BadInput("reproduce: name an experiment (run.py reproduce --list shows them)")
    experiment = ex.load_experiment(ex.find_experiment(args.name))
    from simulation.experiments.reproduce import default_folder, reproduce
    from simulation.experiments.store import StoreError

    folder = args.out or default_folder(experiment, args.quick)
    try:
        with _local_cluster(args.workers) as client:
            result = reproduce(
                experiment,
                args.quick,
                folder,
                client,
                progress=not args.no_progress and sys.stderr.isatty(),
                command=" ".join(["uv run run.py", *argv]),
            )
    except StoreError as err:
        raise BadInput(str(err)) from None
    if not result.ok:
        print(
            f"{folder}: {len(result.sweep.failed):,} of {result.sweep.runs:,} runs failed (see "
            f"{folder}/failures/); no report written. Run the same command to retry them.",
            file=sys.stderr,
        )
        return EXIT_RUNS_FAILED
    assert result.checks is not None
    passed = int((result.checks.verdict == "pass").sum())
    judged = int((result.checks.verdict != "not run").sum())
    for _, row in result.checks.iterrows():
        print(f"  {row['verdict']:<8} {row['check']} ({row['scheme']}, {row['arm']})")
    print(f"{folder / 'report.md'}: {passed} of {judged} checks pass")
    return EXIT_OK


def _spending_line(match) -> str:
    """One line saying how ``--equal-spending`` set the budgets (Rp trillion)."""
    budgets = ", ".join(
        f"{name} Rp{before / 1e12:.3g} T -> Rp{match.budgets_after_idr[name] / 1e12:.3g} T"
        for name, before in match.budgets_before_idr.items()
    )
    target = f"Rp{match.target_idr / 1e12:.3g} T"
    return f"equal spending: target {target} (the smallest spender's); budgets {budgets}"


def cmd_sweep(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments import load_sweep_spec, run_count
    from simulation.experiments.execute import SchedulerError, dask_client, sweep
    from simulation.experiments.store import StoreError

    spec = load_sweep_spec(args.spec)
    try:
        security = _sweep_security(args)
    except SchedulerError as err:
        raise BadInput(str(err)) from None
    runs = run_count(spec)
    if args.dry_run:
        print(f"{args.spec}: {runs:,} runs ({spec.sampler} design, {spec.replications} replications each)")
        return EXIT_OK
    client = None
    if args.workers or args.scheduler is not None:
        try:
            client = dask_client(args.workers, args.scheduler, security=security, warn=_warn)
        except SchedulerError as err:
            raise BadInput(str(err)) from None
    try:
        result = sweep(spec, args.out, executor=client, progress=not args.no_progress and sys.stderr.isatty())
    except StoreError as err:
        raise BadInput(str(err)) from None
    finally:
        if client is not None:
            client.close()
            if args.workers:
                client.cluster.close()
    for run_id, problem in sorted(result.corrupt.items()):
        _warn(
            f"run {run_id}: its file failed its check ({problem}); moved to {result.moved[run_id]} "
            f"and run again"
        )
    if result.strays:
        _warn(
            f"{result.folder}/runs: ignored {len(result.strays)} file(s) that are not runs of this "
            f"sweep: {', '.join(result.strays)}"
        )
    print(
        f"{result.folder}: {result.finished:,} of {result.runs:,} runs finished, "
        f"{len(result.failed):,} failed"
    )
    for run_id, error in sorted(result.failed.items())[:10]:
        print(f"  run {run_id}: {error}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_RUNS_FAILED


def cmd_decompose(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments import decompose as dc

    return _paired_experiment(
        args,
        argv,
        "decomposition",
        check=dc.check,
        run=lambda raw, source, seed, client, progress: dc.decompose(
            raw, source, args.replications, seed, args.shapley, client=client, progress=progress
        ),
        write=dc.write,
        show=dc.format_steps,
        files="decomposition.csv, waterfall.png",
        record=lambda result: {
            "factors": dc.factors_table().to_dict(orient="records"),
            "replication_seeds": result.seeds,
        },
        schemes=list(dc.dec.SCHEMES),
    )


def _sweep_security(args: argparse.Namespace):
    """The TLS settings for ``--scheduler`` (None for tcp:// and local runs); the address's form is
    checked here, before anything connects."""
    from simulation.experiments.execute import parse_scheduler_address, scheduler_security

    tls = {"--tls-ca-file": args.tls_ca_file, "--tls-cert": args.tls_cert, "--tls-key": args.tls_key}
    if args.scheduler is None:
        named = [name for name, value in tls.items() if value is not None]
        if named:
            raise BadInput(f"{', '.join(named)}: only with --scheduler tls://HOST:PORT")
        return None
    address = parse_scheduler_address(args.scheduler)
    return scheduler_security(address, args.tls_ca_file, args.tls_cert, args.tls_key)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def cmd_analyze(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments.analyze import analyze
    from simulation.experiments.store import StoreError

    try:
        report = analyze(args.folder)
    except StoreError as err:
        raise BadInput(str(err)) from None
    for warning in report.get("warnings", []):
        _warn(warning)
    print(report["text"])
    for path in report["figures"]:
        print(f"figure: {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- app (the web page)


def _app_parser(sub: Any) -> None:
    app = sub.add_parser("app", help="serve a web page to compare the schemes under levers you move")
    app.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=_positive_int, default=8765, help="port to listen on (default 8765)")
    app.add_argument("--no-open", action="store_true", help="do not open a browser")


def cmd_app(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.app.serve import DEFAULT_HOST, ServeError, is_loopback, serve

    host = args.host or DEFAULT_HOST  # never another address unless --host says so
    if not is_loopback(host):
        _warn(f"serving on {host}: anyone who can reach this machine there can use the page and run models")
    try:
        serve(host, args.port, open_browser=not args.no_open)
    except ServeError as err:
        raise BadInput(str(err)) from None
    return EXIT_OK


# --------------------------------------------------------------------------- rerun


def cmd_rerun(args: argparse.Namespace, argv: list[str]) -> int:
    """Run a results folder again from its provenance.json; exit 0 if summary.json comes out
    identical (every value, bit for bit), else list the differences and exit 4."""
    import json

    from simulation.config.scenario import validate
    from simulation.reporting import outputs

    start = outputs.now_iso()
    folder = Path(args.folder)
    recorded = _read_provenance(folder)
    summary_path = folder / "summary.json"
    try:
        old_bytes = summary_path.read_bytes()
        old_summary = json.loads(old_bytes)
    except FileNotFoundError:
        raise BadInput(f"{summary_path}: no such file: nothing to compare the rerun with") from None
    except (OSError, ValueError) as err:
        raise BadInput(f"{summary_path}: cannot read it as JSON ({err})") from None
    source = f"{folder / 'provenance.json'} (key 'scenario')"
    scenario = validate(recorded["scenario"], source=source)
    schemes = recorded["schemes"]
    unknown = [name for name in schemes if name not in scenario.scheme_names]
    if unknown:
        raise BadInput(
            f"{folder / 'provenance.json'}: schemes: {unknown[0]!r} is not a scheme of the recorded "
            f"scenario ({', '.join(scenario.scheme_names)})"
        )
    for note in environment_notes(recorded):
        print(f"note: {note}", flush=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = args.out or folder.parent / f"{folder.name}-rerun-{stamp}"
    staging = outputs.start_output(out_dir, unique=args.out is None)
    try:
        from simulation.reporting.outputs import write_results
        from simulation.runner import run_scenario

        result = run_scenario(
            scenario,
            schemes=schemes,
            seed=recorded["seed"],
            progress=not args.no_progress and sys.stderr.isatty(),
            replications=recorded["replications"],
        )
        record = outputs.provenance(
            scenario, result.seed, ["run.py", *argv], start, result.schemes, recorded["replications"]
        )
        record["rerun_of"] = str(folder)
        written = write_results(result, out_dir, record, unique=args.out is None, staging=staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    new_bytes = (written / "summary.json").read_bytes()
    differences = summary_differences(old_summary, json.loads(new_bytes))
    print(f"rerun written to {written}/")
    if not differences:
        same = "bit for bit" if new_bytes == old_bytes else "value for value (only the file's layout differs)"
        print(f"summary.json matches the recorded one {same}")
        return EXIT_OK
    print(f"summary.json differs from the recorded one ({summary_path}) in {len(differences)} value(s):")
    for path, old, new in differences:
        print(f"  {path}: recorded {_shown(old)}, now {_shown(new)}")
    return EXIT_DIFFERS


def _read_provenance(folder: Path) -> dict:
    """provenance.json with the keys a rerun needs, checked; BadInput naming the file and key."""
    import json

    path = folder / "provenance.json"
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such results folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file: a folder written by run.py run has one") from None
    except (OSError, ValueError) as err:
        raise BadInput(f"{path}: not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: expected a JSON object with the keys {', '.join(RERUN_KEYS)}")
    missing = [key for key in RERUN_KEYS if key not in data]
    if missing:
        raise BadInput(
            f"{path}: no key {missing[0]!r} (a rerun needs {', '.join(RERUN_KEYS)}; folders written before "
            f"run.py recorded schemes and replications cannot be rerun)"
        )
    checks = {
        "scenario": (isinstance(data["scenario"], dict), "a mapping (the resolved scenario)"),
        "seed": (_whole(data["seed"]), "a whole number of 0 or more"),
        "schemes": (
            isinstance(data["schemes"], list)
            and bool(data["schemes"])
            and all(isinstance(x, str) for x in data["schemes"]),
            "a non-empty list of scheme names",
        ),
        "replications": (_whole(data["replications"]), "a whole number of 0 or more"),
    }
    for key, (ok, expected) in checks.items():
        if not ok:
            raise BadInput(f"{path}: {key}: expected {expected}, not {data[key]!r}")
    return data


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def environment_notes(recorded: dict) -> list[str]:
    """What differs between the recorded run's code and packages and this one's (said first, since
    a different result may come from there)."""
    import platform

    from simulation.reporting.outputs import git_commit, package_versions

    notes = []
    then, now = recorded.get("git_commit"), git_commit()
    if "git_commit" not in recorded:
        notes.append("provenance.json does not record the git commit: the code may differ")
    elif then != now:
        notes.append(f"the code differs from the recorded run's: git commit {then} then, {now} now")
    elif then is not None and then.endswith("-dirty"):
        notes.append(f"the recorded run had uncommitted changes ({then}): its code is not known exactly")
    packages = recorded.get("packages")
    if not isinstance(packages, dict):
        notes.append("provenance.json does not record package versions: they may differ")
    else:
        current = package_versions()
        changed = [
            f"{name} {packages.get(name)} then, {current.get(name)} now"
            for name in sorted(set(packages) | set(current))
            if packages.get(name) != current.get(name)
        ]
        if changed:
            notes.append("package versions differ from the recorded ones: " + "; ".join(changed))
    python = recorded.get("python")
    if python is not None and python != platform.python_version():
        notes.append(f"Python {python} then, {platform.python_version()} now")
    return notes


_ABSENT = object()


def summary_differences(old, new, path: str = "") -> list[tuple[str, object, object]]:
    """(key path, recorded value, new value) for every value that is not identical; numbers
    must be equal and of the same type (1 and 1.0 differ), missing keys show as absent."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in list(old) + [k for k in new if k not in old]:
            out += summary_differences(
                old.get(key, _ABSENT), new.get(key, _ABSENT), f"{path}.{key}" if path else str(key)
            )
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += summary_differences(a, b, f"{path}.{i}" if path else str(i))
        return out
    if type(old) is type(new) and old == new:
        return []
    return [(path or "(whole summary)", old, new)]


def _shown(value) -> str:
    if value is _ABSENT:
        return "(absent)"
    if value is None:
        return "null"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        text = json_text(value)
        return text if len(text) <= 80 else text[:77] + "..."
    return str(value)


def json_text(value) -> str:
    import json

    return json.dumps(value, sort_keys=True)


# --------------------------------------------------------------------------- console table


def format_table(result: RunResult) -> str:
    """The summary as a text table: a column per scheme, then the paired differences."""
    summary = result.summary
    header = (
        f"{summary['scenario']} (seed {summary['seed']}, "
        f"{summary['simulated_participants']:,} simulated participants, "
        f"1 = {summary['scale']:,.1f} people)"
    )
    from simulation.reporting.compare import comparison_table
    from simulation.reporting.registry import METRICS

    rows = [(m.name, m.label, m.kind) for m in METRICS]
    untitled = {key: value for key, value in summary.items() if key not in ("scenario", "seed")}
    return header + "\n" + comparison_table(untitled, rows, format_value)


def format_value(value, kind: str) -> str:
    """A metric for people: IDR with units (m, bn, T), shares as %, pp with a sign."""
    if value is None or value != value:
        return "n/a"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "pp":
        return f"{value:+.2f} pp"
    if kind in ("count", "whole"):
        return f"{value:,.0f}"
    if kind == "idr":
        for div, unit in ((1e12, "T"), (1e9, "bn"), (1e6, "m")):
            if abs(value) >= div:
                return f"Rp{value / div:,.2f} {unit}"
        return f"Rp{value:,.0f}"
    return f"{value:,.3f}"
