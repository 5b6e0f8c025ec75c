"""Command line: ``run``, ``check`` and ``list`` (``python run.py SCENARIO`` means ``run``).

Exit codes: 0 success; 2 bad input (a one-paragraph message, no traceback); 1 internal error;
3 a sweep finished with failed runs (each recorded in the results folder).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from simulation.config.scenario import ScenarioError, load_scenario, read_yaml, scenario_dir
from simulation.reporting.outputs import OutputError, already_exists, default_out_dir, now_iso, provenance

if TYPE_CHECKING:
    from simulation.runner import RunResult

EXIT_OK, EXIT_INTERNAL, EXIT_BAD_INPUT, EXIT_RUNS_FAILED = 0, 1, 2, 3
COMMANDS = ("run", "check", "list", "sweep", "analyze")


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
    run.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    check = sub.add_parser("check", help="validate a scenario without running it")
    _scenario_options(check)
    sub.add_parser("list", help="list the bundled scenarios")
    sweep = sub.add_parser("sweep", help="run a parameter sweep (resumable; Dask for parallel runs)")
    sweep.add_argument("spec", type=Path, help="sweep specification YAML")
    sweep.add_argument("--out", type=Path, help="results folder (default results/<sweep name>)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=_positive_int, help="start a local Dask cluster of N processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="use a Dask cluster, e.g. tcp://host:8786")
    sweep.add_argument("--dry-run", action="store_true", help="print the number of runs and stop")
    sweep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    analyze = sub.add_parser("analyze", help="effects and sensitivity indices of a sweep's results")
    analyze.add_argument("folder", type=Path, help="a sweep's results folder")
    return parser


def _scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario YAML file")
    p.add_argument("--seed", type=_non_negative_int, help="root seed (default: the scenario's)")
    p.add_argument("--size", type=_positive_int, help="simulated recipients")
    p.add_argument("--weeks", type=_positive_int, help="weeks to simulate")
    p.add_argument(
        "--scheme", action="append", dest="schemes", metavar="NAME", help="run only this scheme (repeatable)"
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


def _non_negative_int(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be zero or more (got {text!r})")
    return value


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
        }
        return commands[args.command](args, argv)
    except (BadInput, ScenarioError, OutputError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except Exception:  # an internal error: show it, it is a bug
        traceback.print_exc()
        print("internal error: please report it with the scenario file", file=sys.stderr)
        return EXIT_INTERNAL


def _load(args: argparse.Namespace):
    scenario = load_scenario(args.scenario, args.overrides, seed=args.seed, size=args.size, weeks=args.weeks)
    if args.schemes:
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
    for path in sorted(scenario_dir().glob("*.yaml")):
        try:
            description = read_yaml(path).get("description", "")
        except ScenarioError as err:
            description = f"(unreadable: {err})"
        print(f"{path.stem:<20} {description}")
    return EXIT_OK


def cmd_run(args: argparse.Namespace, argv: list[str]) -> int:
    start = now_iso()
    scenario = _load(args)
    out_dir = args.out or default_out_dir(scenario.name)
    if out_dir.exists():
        raise already_exists(out_dir)
    progress = not args.no_progress and sys.stderr.isatty()
    from simulation.reporting.outputs import write_results
    from simulation.runner import run_scenario

    result = run_scenario(scenario, schemes=args.schemes, progress=progress, replications=args.replications)
    command = ["run.py", *argv]
    written = write_results(
        result, out_dir, provenance(scenario, result.seed, command, start), unique=args.out is None
    )
    print(format_table(result))
    print(f"\nresults written to {written}/")
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments import load_sweep_spec, run_count
    from simulation.experiments.execute import dask_client, sweep
    from simulation.experiments.store import StoreError

    spec = load_sweep_spec(args.spec)
    runs = run_count(spec)
    if args.dry_run:
        print(f"{args.spec}: {runs:,} runs ({spec.sampler} design, {spec.replications} replications each)")
        return EXIT_OK
    client = dask_client(args.workers, args.scheduler) if (args.workers or args.scheduler) else None
    try:
        result = sweep(spec, args.out, executor=client, progress=not args.no_progress and sys.stderr.isatty())
    except StoreError as err:
        raise BadInput(str(err)) from None
    finally:
        if client is not None:
            client.close()
            if args.workers:
                client.cluster.close()
    print(
        f"{result.folder}: {result.finished:,} of {result.runs:,} runs finished, "
        f"{len(result.failed):,} failed"
    )
    for run_id, error in sorted(result.failed.items())[:10]:
        print(f"  run {run_id}: {error}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_RUNS_FAILED


def cmd_analyze(args: argparse.Namespace, argv: list[str]) -> int:
    from simulation.experiments.analyze import analyze
    from simulation.experiments.store import StoreError

    try:
        report = analyze(args.folder)
    except StoreError as err:
        raise BadInput(str(err)) from None
    print(report["text"])
    for path in report["figures"]:
        print(f"figure: {path}")
    return EXIT_OK


# --------------------------------------------------------------------------- console table

ROWS = (
    ("participants_selected", "recipients", "count"),
    ("participants_trained", "bought >= 1 course", "count"),
    ("bought_share", "bought / selected", "share"),
    ("revoked_share", "revoked / selected", "share"),
    ("completion_rate", "completed >= 1 / buyers", "share"),
    ("courses_per_participant", "courses per buyer", "number"),
    ("mean_price_paid_idr", "mean price paid", "idr"),
    ("median_listed_price_idr", "median listed price", "idr"),
    ("share_purchases_at_cap", "purchases at the cap", "share"),
    ("mean_true_quality_enrolled", "true quality enrolled (0-1)", "number"),
    ("mean_true_quality_available", "true quality available (0-1)", "number"),
    ("rating_quality_correlation", "rating-quality correlation", "number"),
    ("employment_effect_pp", "employment effect, true (pp)", "pp"),
    ("itt_employment_pp", "employment ITT, lottery (pp)", "pp"),
    ("itt_standard_error_pp", "  ITT standard error (pp)", "pp"),
    ("total_cost_idr", "total cost", "idr"),
    ("cost_per_participant_idr", "cost per recipient", "idr"),
    ("cost_per_additional_job_idr", "cost per additional job", "idr"),
    ("credit_forfeited_idr", "credit forfeited", "idr"),
    ("platform_revenue_idr", "platform revenue", "idr"),
    ("provider_hhi", "provider HHI (0-10,000)", "number"),
    ("active_providers", "active sellers, last trading week", "count"),
    ("active_providers_end", "active providers at end", "count"),
    ("mismatch_rate", "courses outside own sector", "share"),
    ("median_weeks_to_first_training", "weeks to first course (median)", "number"),
    ("rural_share_trained", "rural share of trained", "share"),
    ("female_share_trained", "female share of trained", "share"),
    ("seats_contracted", "seats contracted (tender)", "count"),
    ("seat_fill_rate", "seats filled", "share"),
    ("mean_winning_bid_idr", "mean winning bid per trainee", "idr"),
    ("mean_shading", "quality shaded (0-1)", "number"),
    ("waitlisted", "waitlisted applicants", "count"),
    ("procurement_weeks", "procurement (weeks)", "number"),
)


def format_table(result: RunResult) -> str:
    """The summary as a text table: a column per scheme, then the paired differences."""
    summary = result.summary
    header = (
        f"{summary['scenario']} (seed {summary['seed']}, "
        f"{summary['simulated_participants']:,} simulated participants, "
        f"1 = {summary['scale']:,.1f} people)"
    )
    from simulation.reporting.compare import comparison_table

    untitled = {key: value for key, value in summary.items() if key not in ("scenario", "seed")}
    return header + "\n" + comparison_table(untitled, list(ROWS), format_value)


def format_value(value, kind: str) -> str:
    """A metric for people: IDR with units (m, bn, T), shares as %, pp with a sign."""
    if value is None or value != value:
        return "n/a"
    if kind == "share":
        return f"{100 * value:.1f}%"
    if kind == "pp":
        return f"{value:+.2f} pp"
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "idr":
        for div, unit in ((1e12, "T"), (1e9, "bn"), (1e6, "m")):
            if abs(value) >= div:
                return f"Rp{value / div:,.2f} {unit}"
        return f"Rp{value:,.0f}"
    return f"{value:,.3f}"
