"""Scale benchmark: the voucher scheme at growing sizes, and the shopping step against Mesa agents.

Usage::

    uv run benchmarks/bench_scale.py [--tiers 10k,100k,1m,national]
                                     [--scenario scenarios/prakerja_2020.yaml] [--weeks N]

For each tier (simulated recipients: ``10k``, ``100k``, ``1m``, ``national`` = 5,509,055, or a
plain integer) a fresh Python process loads the scenario at that size, builds the world and runs
the voucher scheme through the public API (``load_scenario``, ``build_world``,
``MarketModel(world, "voucher").run()``), so that the peak resident memory it reports
(``ru_maxrss``) belongs to that tier alone. One line per tier gives the participants simulated
(recipients and never-selected controls), wall seconds (world build, run, total; imports are
excluded), participant-weeks per second of run time and peak memory in MB.

Then the weekly shopping decision is timed on realistic inputs (participants of the scenario after
its first lottery waves, each with its real page of courses, rows replicated to the sizes wanted):
the vectorised numpy path ``utilities + outside_utility + gumbel + choose``, the fused production
kernel ``simulation.rules.choice.shop`` when present, and the plain-Mesa reference
(``simulation.model.reference``: one agent per shopper, scalar Python, each drawing its own noise).
Rates are shoppers per second of the decision alone (building the inputs or the agents excluded).

The last line is one JSON object with every figure and ``speedup_vs_agent_reference``: the model's
shopping step (the kernel) in shoppers/s divided by the reference's; the numpy twin's ratio is
reported as ``speedup_numpy_twin_vs_agent_reference``. See benchmarks/README.md for the goals.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "prakerja_2020.yaml"
NATIONAL = 5_509_055  # Kartu Prakerja recipients in 2020
SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000}
GOALS = {"default_size_s": 10.0, "national_s": 60.0, "national_mb": 4096.0, "speedup": 50.0}


def parse_tier(text: str) -> tuple[str, int]:
    """``"10k"`` -> ("10k", 10000); ``"national"`` -> ("national", 5509055); ``"2500"`` -> 2500."""
    name = text.strip().lower()
    if name == "national":
        return name, NATIONAL
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([km]?)", name.replace("_", ""))
    if not match:
        raise argparse.ArgumentTypeError(f"tier {text!r}: expected e.g. 10k, 100k, 1m, national or 25000")
    size = round(float(match.group(1)) * SUFFIX[match.group(2)])
    if size < 10:
        raise argparse.ArgumentTypeError(f"tier {text!r}: at least 10 recipients")
    return name, size


def parse_tiers(text: str) -> list[tuple[str, int]]:
    return [parse_tier(part) for part in text.split(",") if part.strip()]


def peak_mb() -> float:
    """Peak resident memory of this process, MB (ru_maxrss is KB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def load(scenario_path: str, size: int | None, weeks: int | None):
    """The scenario at ``size`` recipients (and ``weeks``, shortening the endline window to fit)."""
    from simulation import load_scenario

    scenario = load_scenario(scenario_path, size=size)
    if weeks is None:
        return scenario
    endline = min(scenario.labour.endline_weeks, weeks)
    return load_scenario(scenario_path, [f"labour.endline_weeks={endline}"], size=size, weeks=weeks)


# --------------------------------------------------------------------------- one tier (child)


def run_tier(scenario_path: str, size: int, weeks: int | None, schemes: list[str]) -> dict:
    """Build the world at ``size`` and run each scheme on it; called in a fresh process per tier."""
    start = time.perf_counter()
    from simulation import MarketModel, build_world

    imported = time.perf_counter()
    scenario = load(scenario_path, size, weeks)
    world = build_world(scenario)
    built = time.perf_counter()
    run_s = {}
    for scheme in schemes:
        began = time.perf_counter()
        MarketModel(world, scheme).run()
        run_s[scheme] = round(time.perf_counter() - began, 3)
    ran = time.perf_counter()
    rows = len(world.participants)
    return {
        "size": size,
        "participants": rows,
        "weeks": scenario.weeks,
        "schemes": schemes,
        "import_s": round(imported - start, 3),
        "build_s": round(built - imported, 3),
        "run_s": round(ran - built, 3),
        "run_s_by_scheme": run_s,
        "total_s": round(ran - imported, 3),
        "participant_weeks_per_s": round(rows * scenario.weeks * len(schemes) / (ran - built)),
        "peak_mb": round(peak_mb(), 1),
    }


def tier_in_subprocess(
    name: str, size: int, scenario_path: str, weeks: int | None, schemes: list[str]
) -> dict:
    """Run one tier in a fresh interpreter and return its result (the child's last stdout line)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(size),
        "--scenario",
        scenario_path,
        "--schemes",
        ",".join(schemes),
    ]
    if weeks is not None:
        command += ["--weeks", str(weeks)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"tier {name} failed (exit code {done.returncode})")
    return {"tier": name, **json.loads(done.stdout.strip().splitlines()[-1])}


def tier_line(r: dict) -> str:
    return (
        f"tier {r['tier']:>8}: {r['participants']:>10,} participants x {r['weeks']} weeks "
        f"({'+'.join(r['schemes'])}) | "
        f"build {r['build_s']:7.2f} s  run {r['run_s']:7.2f} s  total {r['total_s']:7.2f} s | "
        f"{r['participant_weeks_per_s']:>12,} participant-weeks/s | peak {r['peak_mb']:8.1f} MB"
    )


# --------------------------------------------------------------------------- shopping step


def shopping_inputs(scenario_path: str, sample_size: int = 20_000, weeks: int = 4):
    """Realistic shoppers: everyone selected in the first ``weeks`` of the scenario at
    ``sample_size`` recipients, with their page of courses, credit left and last course."""
    import numpy as np

    from simulation import MarketModel, build_world

    scenario = load(scenario_path, sample_size, None)
    model = MarketModel(build_world(scenario), "voucher")
    for _ in range(min(weeks, scenario.weeks)):
        model.step()
    state = model.state
    rows = np.flatnonzero(state.selected_week >= 0)
    shoppers = model.scheme.shoppers(rows, model.week)
    return shoppers, model.scheme.course_facts(model.week), scenario.choice


def replicate(shoppers, n: int):
    """``n`` shoppers: the rows of ``shoppers`` repeated in order."""
    import dataclasses

    import numpy as np

    rows = np.resize(np.arange(len(shoppers)), n)
    columns = {
        f.name: getattr(shoppers, f.name)[rows] for f in dataclasses.fields(shoppers) if f.name != "person"
    }
    return type(shoppers)(**columns, person=np.arange(n, dtype=np.int64))  # each copy its own draws


def best_of(repeats: int, work) -> float:
    """Shortest wall time of ``repeats`` calls of ``work()``, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_shopping(scenario_path: str, vectorised_n: int, reference_n: int, repeats: int = 3) -> dict:
    """Shoppers per second of the weekly decision: vectorised, fused kernel and Mesa reference."""
    import numpy as np

    from simulation.model.reference import ReferenceShoppingModel
    from simulation.rules import choice
    from simulation.rules.keyed_draws import Draws

    sample, market, params = shopping_inputs(scenario_path)
    big = replicate(sample, vectorised_n)
    small = replicate(sample, reference_n)
    rng = np.random.default_rng(0)

    def vectorised(s=big):
        u = choice.utilities(s, market, params)
        noise = choice.gumbel(rng, (u.shape[0], u.shape[1] + 1))
        return choice.choose(u, choice.outside_utility(s, params), noise)

    vectorised(small)  # warm up
    vectorised_s = best_of(repeats, vectorised)
    result = {
        "distinct_shoppers": len(sample),
        "options_per_shopper": int(sample.options.shape[1]),
        "vectorised_shoppers": vectorised_n,
        "vectorised_s": round(vectorised_s, 4),
        "vectorised_shoppers_per_s": round(vectorised_n / vectorised_s),
    }
    draws = Draws.of(0, "voucher:shopping", 0)
    choice.shop(small, market, params, draws)  # compile or load the cached kernel
    shop_s = best_of(repeats, lambda: choice.shop(big, market, params, draws))
    result |= {
        "shop_kernel_s": round(shop_s, 4),
        "shop_kernel_shoppers_per_s": round(vectorised_n / shop_s),
    }

    start = time.perf_counter()
    agents = ReferenceShoppingModel(small, market, params, rng=0)
    built = time.perf_counter()
    agents.step()  # each agent draws its own noise from the model's rng
    stepped = time.perf_counter()
    noise = choice.gumbel(rng, (reference_n, small.options.shape[1] + 1))
    docked = ReferenceShoppingModel(small, market, params, noise=noise, rng=0)
    docked.step()
    u = choice.utilities(small, market, params)
    agree = docked.choices() == choice.choose(u, choice.outside_utility(small, params), noise)
    result |= {
        "reference_shoppers": reference_n,
        "reference_build_s": round(built - start, 4),
        "reference_step_s": round(stepped - built, 4),
        "reference_shoppers_per_s": round(reference_n / (stepped - built)),
        "docking_agreement": float(agree.mean()),
    }
    return result


def shopping_lines(s: dict) -> list[str]:
    lines = [
        f"shopping, vectorised numpy : {s['vectorised_shoppers_per_s']:>12,} shoppers/s "
        f"({s['vectorised_shoppers']:,} shoppers x {s['options_per_shopper']} options)",
        f"shopping, fused kernel shop: {s['shop_kernel_shoppers_per_s']:>12,} shoppers/s",
    ]
    lines.append(
        f"shopping, Mesa reference   : {s['reference_shoppers_per_s']:>12,} shoppers/s "
        f"({s['reference_shoppers']:,} agents; building them took {s['reference_build_s']:.2f} s); "
        f"same choices with shared noise: {s['docking_agreement']:.2%}"
    )
    return lines


# --------------------------------------------------------------------------- main


def goals(tiers: list[dict], default_size: int, speedup: float) -> dict:
    """Which goals of benchmarks/README.md the measured tiers meet (None: tier not run)."""
    default = next((t for t in tiers if t["size"] == default_size), None)
    national = next((t for t in tiers if t["size"] == NATIONAL), None)
    return {
        "default_size_within_10s": None if default is None else default["total_s"] <= GOALS["default_size_s"],
        "national_within_60s": None
        if national is None
        else national["total_s"] <= GOALS["national_s"] * len(national["schemes"]),
        "national_within_4gb": None if national is None else national["peak_mb"] <= GOALS["national_mb"],
        "speedup_at_least_50x": speedup >= GOALS["speedup"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiers", type=parse_tiers, default=parse_tiers("10k,100k"))
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    parser.add_argument("--weeks", type=int, default=None, help="override the scenario's weeks")
    parser.add_argument("--schemes", default="voucher", help="comma-separated schemes run per tier")
    parser.add_argument("--vectorised-shoppers", type=int, default=1_000_000)
    parser.add_argument("--reference-shoppers", type=int, default=20_000)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scenario_path = str(Path(args.scenario).resolve())

    if args.child is not None:
        print(json.dumps(run_tier(scenario_path, args.child, args.weeks, args.schemes.split(","))))
        return

    tiers = []
    for name, size in args.tiers:
        tiers.append(tier_in_subprocess(name, size, scenario_path, args.weeks, args.schemes.split(",")))
        print(tier_line(tiers[-1]), flush=True)
    shopping = bench_shopping(scenario_path, args.vectorised_shoppers, args.reference_shoppers)
    for line in shopping_lines(shopping):
        print(line)
    # The model's weekly shopping decision is the compiled kernel (choice.shop); its numpy twin
    # (utilities + gumbel + choose) is the readable specification, reported beside it.
    reference = shopping["reference_shoppers_per_s"]
    speedup = shopping["shop_kernel_shoppers_per_s"] / reference
    result = {
        "scenario": str(Path(scenario_path).relative_to(ROOT, walk_up=True)),
        "weeks": args.weeks,
        "tiers": tiers,
        "shopping": shopping,
        "speedup_vs_agent_reference": round(speedup, 1),
        "speedup_numpy_twin_vs_agent_reference": round(shopping["vectorised_shoppers_per_s"] / reference, 1),
    }
    result["goals"] = goals(tiers, load(scenario_path, None, None).size, speedup)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
