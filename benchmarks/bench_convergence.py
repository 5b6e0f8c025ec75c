"""Convergence benchmark: do a scenario's results depend on the number of simulated people?

Usage::

    uv run benchmarks/bench_convergence.py SCENARIO --sizes 20000,100000,500000 --replications R
                                           [--seed N] [--schemes voucher,tender] [--set KEY=VALUE ...]
                                           [--out DIR] [--headline m1,m2,...] [--rel-tol X]

Each simulated person stands for ``scale`` real ones, so results should not depend on ``--size``
beyond sampling noise. For every size (ascending) this runs, in this process and one size after
the other, ``run_scenario(load_scenario(SCENARIO, overrides, size=size, seed=seed),
replications=R)`` through the public API: the base run at the root seed, then R replications at
seeds derived from it (the same seeds at every size). The replication statistics (mean and 95%
confidence interval of every metric of every scheme and every paired difference) are compared
with those of the largest size by :mod:`simulation.reporting.convergence`: a smaller size whose
interval misses the largest size's is flagged, and so is a metric defined at one size and
undefined at another. ``--rel-tol 0.001`` would let intervals less than 0.1% of the reference
mean apart pass (deterministic metrics have zero-width intervals that rounding to ``scale`` can
separate); the default, 0, flags every gap.

The markdown table goes to stdout, then one "FLAGGED: ..." line per flagged cell and a last line
"no headline metric flagged" or "headline metrics flagged: ...". The exit status is 0 whatever
is flagged (non-zero only if a run fails or the arguments are wrong). The output folder
(default ``results/convergence-<scenario>-<timestamp>``) appears whole at the end or not at all:
``convergence.md``, ``convergence.csv``, ``convergence.png``, ``bench.json`` (arguments, wall times,
verdict) and ``size-<N>/summary.json`` for every size. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import re
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from tqdm.auto import tqdm

ROOT = Path(__file__).resolve().parent.parent
SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000}


def parse_size(text: str) -> int:
    """``"20000"`` -> 20000; ``"20k"`` -> 20000; ``"0.5m"`` -> 500000."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", text.strip().lower().replace("_", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"size {text!r}: expected e.g. 20000, 20k or 0.5m")
    size = round(float(match.group(1)) * SUFFIX[match.group(2)])
    if size < 1:
        raise argparse.ArgumentTypeError(f"size {text!r}: at least 1 recipient")
    return size


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({parse_size(part) for part in text.split(",") if part.strip()})
    if len(sizes) < 2:
        raise argparse.ArgumentTypeError("--sizes: give at least two different sizes")
    return sizes


def parse_names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def build_parser() -> argparse.ArgumentParser:
    from simulation.reporting.convergence import DEFAULT_HEADLINE

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", help="scenario file, e.g. scenarios/prakerja_2020.yaml")
    parser.add_argument("--sizes", type=parse_sizes, required=True, help="e.g. 20000,100000,500000")
    parser.add_argument("--replications", type=int, required=True, help="replications per size (>= 2)")
    parser.add_argument("--seed", type=int, default=None, help="root seed (default: the scenario's)")
    parser.add_argument("--schemes", type=parse_names, default=None, help="e.g. voucher,tender")
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help="override"
    )
    parser.add_argument(
        "--rel-tol",
        type=float,
        default=0.0,
        help="count intervals less than this share of the reference mean apart as overlapping (default 0)",
    )
    parser.add_argument("--out", type=Path, default=None, help="output folder (must not exist)")
    parser.add_argument(
        "--headline",
        type=parse_names,
        default=list(DEFAULT_HEADLINE),
        help="comma-separated headline metrics (default: %(default)s)",
    )
    return parser


def run_sizes(args: argparse.Namespace, staging: Path) -> tuple[dict[int, dict], dict[int, float]]:
    """Run every size in turn, writing each summary.json into ``staging``; returns the summaries
    (without the models, which are dropped after each size) and the wall seconds per size."""
    from simulation import load_scenario, run_scenario
    from simulation.reporting.outputs import write_json

    summaries, seconds = {}, {}
    bar = tqdm(args.sizes, desc="sizes", unit="size", file=sys.stderr)
    for size in bar:
        bar.set_postfix_str(f"size {size:,}: base run + {args.replications} replications")
        start = time.perf_counter()
        scenario = load_scenario(args.scenario, args.overrides, size=size, seed=args.seed)
        result = run_scenario(scenario, args.schemes, replications=args.replications, progress=True)
        summary = result.summary
        del result, scenario  # the models of the base run: free them before the next size
        gc.collect()
        seconds[size] = time.perf_counter() - start
        (staging / f"size-{size}").mkdir()
        write_json(staging / f"size-{size}" / "summary.json", summary)
        summaries[size] = summary
        tqdm.write(
            f"size {size:>10,}: {summary['simulated_participants']:>10,} participants, "
            f"{args.replications} replications + base run in {seconds[size]:8.1f} s "
            f"| peak memory so far {peak_mb():8.1f} MB",
            file=sys.stdout,
        )
    return summaries, seconds


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from simulation import load_scenario
    from simulation.reporting import convergence
    from simulation.reporting.outputs import git_commit, now_iso, package_versions, write_json

    if args.rel_tol < 0:
        raise SystemExit("--rel-tol: zero or more")
    if args.replications < 1:
        raise SystemExit("--replications: at least 1 (at least 2 for confidence intervals)")
    if args.replications < 2:
        print("warning: with one replication there are no confidence intervals: nothing is compared")
    scenario = load_scenario(args.scenario, args.overrides, seed=args.seed)  # fail early on bad input
    name = scenario.name
    out = args.out or ROOT / "results" / f"convergence-{name}-{datetime.now():%Y%m%d-%H%M%S}"
    if out.exists():
        raise SystemExit(f"{out}: already exists; results are never overwritten (choose another --out)")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    started = now_iso()
    try:
        summaries, seconds = run_sizes(args, staging)
        rows = convergence.convergence_rows(summaries, args.headline, args.rel_tol)
        confidence = convergence.replication_block(summaries[args.sizes[-1]]).get("confidence", 0.95)
        title = (
            f"Convergence in size: {name}, {args.replications} replications per size "
            f"(root seed {summaries[args.sizes[-1]]['seed']})"
        )
        table = convergence.markdown_table(rows, title, confidence, args.replications)
        (staging / "convergence.md").write_text(table, encoding="utf-8")
        (staging / "convergence.csv").write_text(convergence.to_csv(rows), encoding="utf-8")
        metrics = [m for m in args.headline if any(r["metric"] == m and r["kind"] == "scheme" for r in rows)]
        if metrics:
            convergence.convergence_figure(rows, metrics, confidence).savefig(
                staging / "convergence.png", dpi=120
            )
        missing = convergence.missing_headline(rows, args.headline)
        verdict = convergence.headline_verdict(rows)
        bench = {
            "scenario": args.scenario,
            "scenario_name": name,
            "sizes": args.sizes,
            "replications": args.replications,
            "seed": summaries[args.sizes[-1]]["seed"],
            "schemes": args.schemes,
            "overrides": args.overrides,
            "rel_tol": args.rel_tol,
            "headline": args.headline,
            "headline_not_found": missing,
            "wall_s_by_size": {str(size): round(s, 2) for size, s in seconds.items()},
            "peak_mb": round(peak_mb(), 1),
            "rows": len(rows),
            "rows_flagged": len(convergence.flagged_rows(rows)),
            "verdict": verdict,
            "command": [Path(sys.argv[0]).name, *(sys.argv[1:] if argv is None else argv)],
            "git_commit": git_commit(),
            "packages": package_versions(),
            "start_time": started,
            "end_time": now_iso(),
        }
        write_json(staging / "bench.json", bench)
        if out.exists():
            raise SystemExit(f"{out}: appeared while the benchmark ran; results left unpublished")
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    print(table)
    for line in convergence.flag_messages(rows):
        print(f"FLAGGED: {line}")
    if missing:
        print(f"note: headline metrics in no summary: {', '.join(missing)}")
    print(f"results in {out}")
    print(verdict)
    return 0


if __name__ == "__main__":
    sys.exit(main())
