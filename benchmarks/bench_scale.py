"""Scale benchmark: where the time goes at growing sizes, how far the hot kernels are from their
floors, how time and memory grow with size, and the shopping step against Mesa agents.

Usage::

    uv run benchmarks/bench_scale.py [--tiers 10k,100k,1m,national] [--schemes voucher,tender]
                                     [--scenario scenarios/prakerja_2020.yaml] [--weeks N]
                                     [--repeats 3] [--plot phases.png]

For each tier (simulated recipients: ``10k``, ``100k``, ``1m``, ``national`` = 5,509,055, or a
plain integer) a fresh Python process does what ``run.py run`` does: imports the package, loads
the scenario at that size, ``run_scenario`` (builds the world, runs each scheme, summarises), and
writes the results folder with its figures (``write_results``, into a temporary folder). Its
peak resident memory (``ru_maxrss``) belongs to that tier alone.

**Phases.** The child runs the schemes one after the other (``run_schemes`` sees one thread; the
kernels' blocks still use every core) and times each phase: ``imports``, ``world``
(``load_scenario`` and ``build_world``), per scheme ``setup`` (the model) and every weekly
component of ``COMPONENTS`` (each method wrapped in the child only, nothing in ``simulation/`` is
edited; only what runs on the scheme's own thread: the kernels' blocks run on pool threads),
``metrics`` (what ``run_scenario`` does after the weeks), ``outputs`` and ``figures``
(``write_results``), and ``other``, the rest, so that the phases add up to the total. Every row
is exclusive time: a component nested in another (``shop/choice.shop`` inside ``shop``) is
counted in its own row only.

**At once.** Then, with every wrapper removed, the same scenario is loaded and ``run_scenario``
run again as a user runs it, the schemes at once on threads: ``schemes_at_once_s`` is its world
(with the loading) + runs, next to ``total_s`` (the same, one after the other, from the phases),
and against the goals at national scale (both schemes at once <= 30 s, world + voucher alone <=
15 s). It runs second, so its kernels are already loaded: the first calls' cost is in the phases.

**Floors** (``benchmarks/floors.py``). The arguments of the labour step's
``over_blocks(employment_block, n, ...)`` in the middle week and of the voucher's largest
``shop`` call are saved during the run (to disk, so that memory is not inflated; the time taken
is reported apart and not counted). After the outputs: ``employment_block(0, n, ...)`` on one
thread against a floor kernel that draws the same random numbers and streams the same bytes but
does no model arithmetic (ratio = achieved throughput / floor throughput, 1.0 = at the floor),
and both through ``over_blocks`` on the default threads (the threads' speed-up); ``shop`` once
more on one thread to collect its blocks, the largest block's ``choose_courses`` against the
shopping floor (ratio), and the whole ``shop`` call on the default threads and on one thread.

**Growth.** Over the tiers run, least squares of log(seconds) and log(peak MB) on log(rows) give
the exponents (1 = linear); small tiers carry fixed costs (imports, organisations, compilation),
so the fit over the tiers of at least 100k recipients is given too when there are two of them.

Then the weekly shopping decision is timed on realistic inputs (participants of the scenario after
its first lottery waves, each with its real page of courses, rows replicated to the sizes wanted):
the vectorised numpy path ``utilities + outside_utility + gumbel + choose``, the fused production
kernel ``simulation.rules.choice.shop``, and the plain-Mesa reference
(``simulation.model.reference``: one agent per shopper, scalar Python, each drawing its own noise).

The last line is one JSON object with every figure; see benchmarks/README.md for the keys and goals.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import inspect
import json
import math
import pickle
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "prakerja_2020.yaml"
NATIONAL = 5_509_055  # Kartu Prakerja recipients in 2020
SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000}
GOALS = {
    "default_size_s": 10.0,
    "national_s": 60.0,  # per scheme, run one after the other
    "national_mb": 4096.0,
    "speedup": 50.0,
    "national_both_at_once_s": 30.0,  # world + voucher and tender at once, wall
    "national_voucher_s": 15.0,  # world + the voucher alone, wall
}
LARGE_TIER = 100_000  # recipients: the growth fit is also given over tiers at least this large

# The weekly components timed, per scheme ("*": every scheme): (phase, module, attribute). Each
# attribute (a function, or a method as "Class.method") is replaced in the child by a timed
# wrapper; a name that no longer exists stops the benchmark with a message naming it. A "/" in a
# phase marks a component called inside the one before the "/" (its time is counted in its own
# row only). Functions imported by name are wrapped where they are called from.
COMPONENTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "*": (("setup", "simulation.model.market", "MarketModel.__init__"),),
    "voucher": (
        ("lottery", "simulation.schemes.voucher", "VoucherScheme._lottery"),
        ("finish courses", "simulation.schemes.voucher", "VoucherScheme._finish_courses"),
        ("pay cash", "simulation.schemes.voucher", "VoucherScheme._pay_cash"),
        ("integrity.audit", "simulation.schemes.voucher_integrity", "IntegrityControls.audit"),
        ("outcome.settle", "simulation.schemes.voucher_outcome_pay", "OutcomePayment.settle"),
        ("close cards", "simulation.schemes.voucher", "VoucherScheme._close_cards"),
        ("market.open_week", "simulation.schemes.platform_market", "PlatformMarket.open_week"),
        ("shop", "simulation.schemes.voucher", "VoucherScheme._shop"),
        ("shop/choice sets", "simulation.schemes.voucher", "VoucherScheme.choice_sets"),
        ("shop/choice.shop", "simulation.schemes.voucher", "shop"),
        ("market.close_week", "simulation.schemes.platform_market", "PlatformMarket.close_week"),
    ),
    "tender": (
        ("plan", "simulation.schemes.tender", "TenderScheme._plan"),
        ("procure", "simulation.schemes.tender", "TenderScheme._procure"),
        ("finish cohorts", "simulation.schemes.tender", "TenderScheme._finish_cohorts"),
        ("close contracts", "simulation.schemes.tender", "TenderScheme._close_contracts"),
        ("outreach", "simulation.schemes.tender", "TenderScheme._outreach"),
        ("seat cohorts", "simulation.schemes.tender", "TenderScheme._seat_cohorts"),
    ),
    "**": (
        ("labour", "simulation.model.labour", "LabourMarket.step"),
        ("record", "simulation.model.market", "MarketModel._record"),
    ),
}
# Only what runs on the scheme's own thread is timed: the labour step's kernel
# (kernels.employment_block) and the shopping kernel (kernels.choose_courses) run block by block
# on pool threads, where a wrapper would see several calls at once; "labour" and "shop/choice.shop"
# are nearly all kernel.
#
# The calls whose arguments are saved for the floors (and whose shoppers are counted), wrapped
# where the scheme's thread calls them: the labour step's over_blocks(employment_block, n, ...)
# and the voucher's shop(...). FLOOR_KERNELS: the kernels the floors are compared with.
FLOOR_TARGETS = {
    "labour": ("simulation.model.labour", "over_blocks"),
    "shopping": ("simulation.schemes.voucher", "shop"),
}
FLOOR_KERNELS = {
    "labour": ("simulation.rules.kernels", "employment_block"),
    "shopping": ("simulation.rules.choice", "choose_courses"),
}
CAPTURE = "(capture for the floors)"  # not a phase: excluded from every total


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


# --------------------------------------------------------------------------- phase clock (child)


class PhaseClock:
    """Exclusive wall seconds per phase: time inside a phase and not inside a phase opened within
    it. ``scheme`` prefixes the weekly components' phases."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.nested: list[float] = []  # per open phase, the seconds of the phases opened within it
        self.scheme = ""

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        self.nested.append(0.0)
        try:
            yield
        finally:
            inclusive = time.perf_counter() - start
            self.seconds[name] += inclusive - self.nested.pop()
            self.calls[name] += 1
            if self.nested:
                self.nested[-1] += inclusive

    def timed(self, function: Callable, label: str) -> Callable:
        """``function`` timed as the current scheme's phase ``label``."""

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with self.phase(f"{self.scheme}: {label}"):
                return function(*args, **kwargs)

        return wrapper


def resolve(module: str, attribute: str) -> tuple[Any, str, Callable]:
    """(owner, name, current value) of ``module:attribute`` (``Class.method`` allowed); stops the
    benchmark with a message naming it if it does not exist."""
    owner: Any = importlib.import_module(module)
    *path, name = attribute.split(".")
    try:
        for part in path:
            owner = getattr(owner, part)
        return owner, name, getattr(owner, name)
    except AttributeError:
        raise SystemExit(
            f"bench_scale.py: {module}.{attribute} no longer exists; update COMPONENTS, FLOOR_TARGETS "
            "or FLOOR_KERNELS in benchmarks/bench_scale.py"
        ) from None


def components(schemes: list[str]) -> list[tuple[str, str, str]]:
    """The components timed for ``schemes``: ``COMPONENTS`` rows in table order, each once."""
    keys = ["*", *[s for s in COMPONENTS if s in schemes], "**"]
    return [row for key in keys for row in COMPONENTS[key]]


def phase_order(schemes: list[str]) -> list[str]:
    """Every phase of a tier, in the order printed."""
    order = ["imports", "world"]
    for scheme in schemes:
        keys = ["*", scheme, "**"] if scheme in COMPONENTS else ["*", "**"]
        order += [f"{scheme}: {label}" for key in keys for label, _, _ in COMPONENTS[key]]
        order.append(f"{scheme}: other")
    return [*order, "metrics", "outputs", "figures", "other"]


# --------------------------------------------------------------------------- patches (child)


class Patches:
    """Attributes replaced in the child, each with its original, to put back with ``restore``."""

    def __init__(self) -> None:
        self.originals: list[tuple[Any, str, Any]] = []

    def set(self, owner: Any, name: str, value: Any) -> None:
        self.originals.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    def restore(self) -> None:
        """Every original back, the last replaced first."""
        while self.originals:
            owner, name, original = self.originals.pop()
            setattr(owner, name, original)


# --------------------------------------------------------------------------- kernel inputs (child)


class KernelInputs:
    """Inputs of the hot kernels saved during the run for the floors, to files in ``folder`` (so
    that holding them costs no memory): per scheme the arguments of the labour step's
    ``over_blocks(employment_block, n, ...)`` in week ``week`` (arrays as .npy, written before the
    call changes them), and the voucher's largest ``shop`` call (pickled, without the demand tally
    it adds to). Also counts the shoppers. The wrapped calls run on the scheme's thread."""

    def __init__(self, clock: PhaseClock, folder: Path) -> None:
        self.clock, self.folder = clock, folder
        self.week = -1  # the week whose labour inputs are saved: set once the scenario is loaded
        self.originals: dict[str, Callable] = {}
        self.labour: dict[str, tuple] = {}  # scheme -> (n, employment_block's args after start, stop)
        self.shopping: dict[str, dict] = {}  # scheme -> {"shoppers", "week", "path"} of the largest call
        self.shoppers: dict[str, int] = defaultdict(int)  # scheme -> shoppers over all calls

    def install(self, patches: Patches) -> None:
        """Wrap the calls of ``FLOOR_TARGETS`` where they are made; note ``FLOOR_KERNELS``."""
        for target, (module, attribute) in FLOOR_KERNELS.items():
            self.originals[f"{target} kernel"] = resolve(module, attribute)[2]
        for target, (module, attribute) in FLOOR_TARGETS.items():
            owner, name, original = resolve(module, attribute)
            self.originals[target] = original
            patches.set(owner, name, getattr(self, f"_{target}")(original))

    def _labour(self, original: Callable) -> Callable:
        @functools.wraps(original)
        def over_blocks(kernel, n, *args):
            scheme = self.clock.scheme
            if (
                kernel is self.originals["labour kernel"]
                and args[0] == self.week
                and scheme not in self.labour
            ):
                self.labour[scheme] = (n, self.save(args))
            return original(kernel, n, *args)

        return over_blocks

    def _shopping(self, original: Callable) -> Callable:
        signature = inspect.signature(original)

        @functools.wraps(original)
        def shop(*args, **kwargs):
            scheme, n = self.clock.scheme, len(args[0])
            self.shoppers[scheme] += n
            largest = self.shopping.get(scheme)
            if largest is None or n > largest["shoppers"]:
                call = signature.bind(*args, **kwargs).arguments
                self.shopping[scheme] = self.pickle(scheme, call, n)
            return original(*args, **kwargs)

        return shop

    def pickle(self, scheme: str, call: dict, n: int) -> dict:
        """``shop``'s arguments ``call`` but the demand tally, pickled to the folder."""
        with self.clock.phase(CAPTURE):
            path = self.folder / f"shop-{scheme}.pickle"
            kept = {name: value for name, value in call.items() if name != "demand"}
            path.write_bytes(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
            return {"shoppers": n, "week": int(call["draws"].week), "path": path}

    def save(self, values: tuple) -> tuple:
        """``values`` with every array written to a file and loaded back lazily (a LazyArray)."""
        import numpy as np

        with self.clock.phase(CAPTURE):
            saved: list = []
            for value in values:
                if isinstance(value, tuple):
                    saved.append(self.save(value))
                elif isinstance(value, np.ndarray):
                    path = Path(tempfile.mkstemp(suffix=".npy", dir=self.folder)[1])
                    np.save(path, value)
                    saved.append(LazyArray(path, len(value)))
                else:
                    saved.append(value)
            return tuple(saved)


class LazyArray:
    """An array saved to ``path``: ``len`` without loading it, ``load`` to read it."""

    def __init__(self, path: Path, length: int) -> None:
        self.path, self.length = path, length

    def __len__(self) -> int:
        return self.length

    def load(self):
        import numpy as np

        return np.load(self.path)


def loaded(values: tuple) -> tuple:
    """``values`` saved by ``KernelInputs.save`` with every array read back."""
    return tuple(
        loaded(v) if isinstance(v, tuple) else v.load() if isinstance(v, LazyArray) else v for v in values
    )


# --------------------------------------------------------------------------- one tier (child)


def install_phases(clock: PhaseClock, schemes: list[str], patches: Patches) -> None:
    """Wrap every component of ``schemes``, and the runner's world and per-scheme runs; the
    schemes run one after the other (``runner.threads`` is 1 for ``run_schemes``: ``clock`` has
    one stack; the kernels' blocks still use every core, as ``parallel.threads`` is untouched)."""
    import simulation.runner as runner

    for label, module, attribute in components(schemes):
        owner, name, original = resolve(module, attribute)
        patches.set(owner, name, clock.timed(original, label))
    build_world, run_scheme = runner.build_world, runner.run_scheme

    def world(*args, **kwargs):
        with clock.phase("world"):
            return build_world(*args, **kwargs)

    def run(world, scheme, *args, **kwargs):
        clock.scheme = scheme
        try:
            with clock.phase(f"{scheme}: other"):
                return run_scheme(world, scheme, *args, **kwargs)
        finally:
            clock.scheme = ""

    patches.set(runner, "build_world", world)
    patches.set(runner, "run_scheme", run)
    patches.set(runner, "threads", lambda: 1)


def simulate_and_write(
    clock: PhaseClock,
    patches: Patches,
    inputs: KernelInputs,
    scenario_path: str,
    size: int,
    weeks: int | None,
    schemes: list[str],
    out: Path,
):
    """What ``run.py run`` does after its imports, each part in its phase (the labour inputs of
    the middle week saved in ``inputs``); returns the result and the peak memory (MB) after the
    runs and the summary."""
    from simulation.cli import format_table
    from simulation.reporting import outputs
    from simulation.runner import run_scenario

    with clock.phase("figures"):  # matplotlib loads here, as in write_results
        from simulation.reporting import figures
    save_figures = figures.save_figures

    def timed_figures(*args, **kwargs):
        with clock.phase("figures"):
            return save_figures(*args, **kwargs)

    patches.set(figures, "save_figures", timed_figures)
    with clock.phase("world"):
        scenario = load(scenario_path, size, weeks)
    inputs.week = scenario.weeks // 2
    with clock.phase("metrics"):
        result = run_scenario(scenario, schemes=schemes)
    ran_mb = peak_mb()
    with clock.phase("outputs"):
        record = outputs.provenance(scenario, result.seed, ["bench_scale.py"], outputs.now_iso(), schemes)
        outputs.write_results(result, out / "results", record)
        format_table(result)
    return result, ran_mb


def reset_peak() -> bool:
    """Reset this process's peak resident memory (Linux: ``VmHWM``); False where not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_since_reset_mb() -> float | None:
    """``VmHWM`` of /proc/self/status, MB: the peak since ``reset_peak`` (None if unreadable)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    return None if match is None else int(match.group(1)) / 2**10


def schemes_at_once(scenario_path: str, size: int, weeks: int | None, schemes: list[str]) -> dict:
    """What a user gets: ``load_scenario`` and ``run_scenario`` with the schemes at once (the
    default ``run_schemes``), unwrapped but for a clock around ``build_world`` and
    ``run_schemes``; seconds of the world (with the scenario's loading), of the runs, their sum,
    of the whole ``run_scenario``, and the process's peak memory during this run (MB, from the
    resident memory at its start; None if the peak cannot be reset)."""
    import simulation.runner as runner

    seconds: dict[str, float] = {}
    patches = Patches()

    def clocked(name: str, function: Callable) -> Callable:
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

        return call

    patches.set(runner, "build_world", clocked("world", runner.build_world))
    patches.set(runner, "run_schemes", clocked("runs", runner.run_schemes))
    gc.collect()
    reset = reset_peak()
    try:
        start = time.perf_counter()
        scenario = load(scenario_path, size, weeks)
        loaded_s = time.perf_counter() - start
        result = runner.run_scenario(scenario, schemes=schemes)
        whole = time.perf_counter() - start
    finally:
        patches.restore()
    peak = peak_since_reset_mb() if reset else None
    del result
    world = loaded_s + seconds["world"]
    return {
        "threads": runner.threads(),
        "world_s": round(world, 3),
        "runs_s": round(seconds["runs"], 3),
        "schemes_at_once_s": round(world + seconds["runs"], 3),
        "run_scenario_s": round(whole, 3),
        "peak_mb": None if peak is None else round(peak, 1),
    }


def run_tier(scenario_path: str, size: int, weeks: int | None, schemes: list[str], repeats: int) -> dict:
    """Everything ``run.py run`` does at ``size``, by phase, with the schemes one after the other;
    then ``run_scenario`` again unwrapped with the schemes at once; then the floors. Called in a
    fresh process per tier."""
    start = time.perf_counter()
    clock, patches = PhaseClock(), Patches()
    with tempfile.TemporaryDirectory(prefix="bench_scale-") as folder:
        with clock.phase("imports"):
            import simulation.cli  # noqa: F401  what run.py imports first
            import simulation.runner  # noqa: F401  and then to run

            inputs = KernelInputs(clock, Path(folder))
            inputs.install(patches)
            install_phases(clock, schemes, patches)
        result, ran_mb = simulate_and_write(
            clock, patches, inputs, scenario_path, size, weeks, schemes, Path(folder)
        )
        whole = time.perf_counter() - start
        peak_with_outputs = peak_mb()
        ran = {
            "size": result.scenario.size,
            "participants": int(result.summary["simulated_participants"]),
            "weeks": result.scenario.weeks,
        }
        del result  # the second run starts from the memory of a fresh run's
        patches.restore()
        at_once = schemes_at_once(scenario_path, size, weeks, schemes)
        floors = measure_floors(inputs, schemes, repeats)
    result = tier_result(clock, ran, schemes, whole, ran_mb, peak_with_outputs, floors, inputs)
    if schemes == ["voucher"]:  # the voucher alone, unwrapped
        result["voucher_alone_s"] = at_once["schemes_at_once_s"]
    return result | {"schemes_at_once_s": at_once["schemes_at_once_s"], "at_once": at_once}


def tier_result(clock, ran, schemes, whole, ran_mb, peak_with_outputs, floors, inputs) -> dict:
    """The child's figures of the run by phase (``ran``: size, participants, weeks): phases
    (adding up to ``end_to_end_s``), the former summary keys, memory and floors."""
    phases = {name: clock.seconds.get(name, 0.0) for name in phase_order(schemes)}
    capture = clock.seconds.get(CAPTURE, 0.0)
    phases["other"] = whole - capture - sum(phases.values())
    by_scheme = {s: sum(v for k, v in phases.items() if k.startswith(f"{s}: ")) for s in schemes}
    rows, weeks = ran["participants"], ran["weeks"]
    run_s = sum(by_scheme.values())
    for scheme, labour in floors["labour"].items():
        labour["in_run_rows_per_s"] = round(rows * weeks / phases[f"{scheme}: labour"])
    for scheme, shopping in floors["shopping"].items():
        shop_s = phases[f"{scheme}: shop/choice.shop"]
        shopping["in_run_shoppers"] = inputs.shoppers[scheme]
        shopping["in_run_shoppers_per_s"] = round(inputs.shoppers[scheme] / shop_s) if shop_s else None
    voucher = by_scheme.get("voucher")  # world + the voucher's run, one after the other
    return {
        **ran,
        "schemes": schemes,
        "import_s": round(phases["imports"], 3),
        "build_s": round(phases["world"], 3),
        "run_s": round(run_s, 3),
        "run_s_by_scheme": {s: round(v, 3) for s, v in by_scheme.items()},
        "total_s": round(phases["world"] + run_s, 3),
        "voucher_alone_s": None if voucher is None else round(phases["world"] + voucher, 3),
        "end_to_end_s": round(whole - capture, 3),
        "participant_weeks_per_s": round(rows * weeks * len(schemes) / run_s),
        "peak_mb": round(ran_mb, 1),
        "peak_mb_with_outputs": round(peak_with_outputs, 1),
        "phases": {name: round(s, 4) for name, s in phases.items()},
        "phase_calls": {name: clock.calls.get(name, 0) for name in phases},
        "capture_s": round(capture, 3),
        "floors": floors,
    }


def measure_floors(inputs: KernelInputs, schemes: list[str], repeats: int) -> dict:
    """The labour kernel of each scheme's middle week and each scheme's largest ``shop`` call,
    again on their saved inputs, against their floors (``benchmarks/floors.py``)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import floors

    from simulation.rules import choice

    labour = {}
    for scheme in schemes:
        if scheme in inputs.labour:
            n, args = inputs.labour[scheme]
            kernel, over_blocks = inputs.originals["labour kernel"], inputs.originals["labour"]
            labour[scheme] = floors.labour_floor_ratio(n, loaded(args), kernel, over_blocks, repeats)
    shopping = {}
    for scheme, saved in inputs.shopping.items():
        call = shop_call(inputs.originals["shopping"], pickle.loads(saved["path"].read_bytes()))
        kernel = inputs.originals["shopping kernel"]
        shopping[scheme] = {"week": saved["week"]} | floors.shopping_floor_of_shop(
            call, choice, kernel, repeats
        )
    return {"labour": labour, "shopping": shopping}


def shop_call(shop: Callable, arguments: dict) -> Callable[[], object]:
    """``shop(**arguments)`` with a fresh demand tally (``ExpectedDemand.zeros``) at each call."""
    from simulation.rules.choice import ExpectedDemand

    courses = len(arguments["market"].price_idr)
    return lambda: shop(**arguments, demand=ExpectedDemand.zeros(courses))


def tier_in_subprocess(
    name: str, size: int, scenario_path: str, weeks: int | None, schemes: list[str], repeats: int
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
        "--repeats",
        str(repeats),
    ]
    if weeks is not None:
        command += ["--weeks", str(weeks)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.stderr.write(done.stdout)
        raise SystemExit(f"tier {name} failed (exit code {done.returncode})")
    return {"tier": name, **json.loads(done.stdout.strip().splitlines()[-1])}


# --------------------------------------------------------------------------- printing


def tier_line(r: dict) -> str:
    return (
        f"tier {r['tier']:>8}: {r['participants']:>10,} participants x {r['weeks']} weeks "
        f"({'+'.join(r['schemes'])}) | "
        f"build {r['build_s']:7.2f} s  run {r['run_s']:7.2f} s  total {r['total_s']:7.2f} s | "
        f"{r['participant_weeks_per_s']:>12,} participant-weeks/s | peak {r['peak_mb']:8.1f} MB"
    )


def tier_block(r: dict) -> list[str]:
    """The tier's phase table (seconds, share of the end-to-end total) and its floor lines."""
    total = r["end_to_end_s"]
    lines = [
        tier_line(r),
        f"  end to end {total:.2f} s (imports, run.py's work, outputs); peak {r['peak_mb']:.1f} MB "
        f"through the runs, {r['peak_mb_with_outputs']:.1f} MB with the outputs",
        f"  {'phase':<40} {'seconds':>9} {'share':>7} {'calls':>7}",
    ]
    for name, seconds in r["phases"].items():
        share = seconds / total if total > 0 else 0.0
        lines.append(f"  {name:<40} {seconds:9.3f} {share:7.1%} {r['phase_calls'][name]:7,}")
    lines.append(f"  {'total':<40} {sum(r['phases'].values()):9.3f} {1:7.1%}")
    lines.append(f"  (saving the kernels' inputs for the floors took {r['capture_s']:.2f} s, not counted)")
    return lines + wall_lines(r) + floor_lines(r["floors"])


def wall_lines(r: dict) -> list[str]:
    """World + runs with the schemes one after the other (the phases) and at once (what a user
    gets), and the voucher alone, against the goals at national scale."""
    a = r["at_once"]
    peak = "-" if a["peak_mb"] is None else f"{a['peak_mb']:.1f} MB"
    national = r["size"] == NATIONAL
    both = {"voucher", "tender"} <= set(r["schemes"])

    def against(seconds: float | None, goal: float, applies: bool) -> str:
        if seconds is None:
            return "-"
        verdict = ("met" if seconds <= goal else "NOT met") if applies else "applies at national scale"
        return f"{seconds:.2f} s (goal <= {goal:g} s: {verdict})"

    return [
        f"  world + runs, wall: schemes one after the other {r['total_s']:.2f} s (the phases above); "
        f"at once {a['schemes_at_once_s']:.2f} s ({a['threads']} threads; world {a['world_s']:.2f} s + "
        f"runs {a['runs_s']:.2f} s; whole run_scenario {a['run_scenario_s']:.2f} s; peak {peak} "
        "during that run)",
        "  goals: world + voucher and tender at once "
        + (against(a["schemes_at_once_s"], GOALS["national_both_at_once_s"], national) if both else "-")
        + "; world + voucher alone "
        + against(r["voucher_alone_s"], GOALS["national_voucher_s"], national),
    ]


def floor_lines(floors: dict) -> list[str]:
    """The floor lines: per scheme the labour kernel's and the shopping kernel's (rates in
    millions a second)."""
    lines = []
    for scheme, f in floors["labour"].items():
        m = {k: v / 1e6 for k, v in f.items() if k.endswith("_per_s")}
        lines.append(
            f"  floor, labour ({scheme}, week {f['week']}, {f['rows']:,} rows): employment_block on "
            f"one thread {m['achieved_rows_per_s']:8.1f} m rows/s, floor {m['floor_rows_per_s']:8.1f} m "
            f"rows/s, ratio {f['ratio']:.2f}; on the default threads {m['threads_rows_per_s']:.1f} m "
            f"rows/s (x{f['threads_speedup']:.2f}; floor {m['floor_threads_rows_per_s']:.1f} m rows/s, "
            f"x{f['floor_threads_speedup']:.2f}); in the run (labour step) {m['in_run_rows_per_s']:.1f} m "
            "rows/s"
        )
    for scheme, f in floors["shopping"].items():
        m = {k: None if v is None else v / 1e6 for k, v in f.items() if k.endswith("_per_s")}
        in_run = "-" if m["in_run_shoppers_per_s"] is None else f"{m['in_run_shoppers_per_s']:.2f} m"
        lines.append(
            f"  floor, shopping ({scheme}, week {f['week']}, largest of {f['blocks']} blocks: "
            f"{f['shoppers']:,} shoppers x {f['slots']} slots): choose_courses "
            f"{m['achieved_shoppers_per_s']:6.2f} m shoppers/s, floor {m['floor_shoppers_per_s']:6.2f} m "
            f"shoppers/s, ratio {f['ratio']:.2f}; whole shop ({f['shop_shoppers']:,} shoppers) "
            f"{m['shop_shoppers_per_s']:.2f} m shoppers/s on the default threads, "
            f"x{f['shop_threads_speedup']:.2f} one thread's (in the run {in_run} shoppers/s)"
        )
    return lines


# --------------------------------------------------------------------------- growth with size


def growth_exponent(rows: list[float], values: list[float]) -> float | None:
    """Least-squares slope of log(value) on log(rows): value ~ rows ** slope (1 = linear). None
    with fewer than two distinct sizes or a value that is not positive."""
    if len(set(rows)) < 2 or any(v <= 0 for v in values) or len(rows) != len(values):
        return None
    x = [math.log(r) for r in rows]
    y = [math.log(v) for v in values]
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxx = sum((a - mx) ** 2 for a in x)
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / sxx


def growth(tiers: list[dict]) -> dict:
    """Exponents over every tier and over the tiers of at least ``LARGE_TIER`` recipients (when
    two or more): world, each scheme's run, world + runs, end to end, peak memory."""

    def exponents(chosen: list[dict]) -> dict | None:
        if len({t["participants"] for t in chosen}) < 2:
            return None
        rows = [t["participants"] for t in chosen]
        series = {"world": [t["build_s"] for t in chosen]}
        for scheme in chosen[0]["schemes"]:
            series[scheme] = [t["run_s_by_scheme"][scheme] for t in chosen]
        series |= {
            "total": [t["total_s"] for t in chosen],
            **(
                {"at_once": [t["schemes_at_once_s"] for t in chosen]}
                if all("schemes_at_once_s" in t for t in chosen)
                else {}
            ),
            "end_to_end": [t["end_to_end_s"] for t in chosen],
            "peak_mb": [t["peak_mb"] for t in chosen],
        }
        fitted = {name: growth_exponent(rows, values) for name, values in series.items()}
        return {"tiers": [t["tier"] for t in chosen], **{k: _round(v) for k, v in fitted.items()}}

    return {"all": exponents(tiers), "large": exponents([t for t in tiers if t["size"] >= LARGE_TIER])}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def growth_lines(fits: dict) -> list[str]:
    lines = ["growth with size: exponent of rows, least squares of log value on log rows (1 = linear)"]
    for key, note in (("all", "every tier (small ones carry fixed costs)"), ("large", "tiers >= 100k")):
        fit = fits[key]
        if fit is None:
            lines.append(f"  {note}: fewer than two sizes, no fit")
            continue
        values = ", ".join(f"{k} {'-' if v is None else f'{v:.2f}'}" for k, v in fit.items() if k != "tiers")
        lines.append(f"  {note} ({','.join(fit['tiers'])}): {values}")
    return lines


def plot_phases(tiers: list[dict], path: str, smallest: float = 2.0) -> None:
    """A stacked bar per tier of each phase's share of the end-to-end time, % (matplotlib, Agg);
    phases under ``smallest`` % in every tier are stacked together as "smaller phases"."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shares = {
        name: [100 * t["phases"].get(name, 0.0) / t["end_to_end_s"] for t in tiers]
        for name in dict.fromkeys(name for t in tiers for name in t["phases"])
    }
    shown = {name: s for name, s in shares.items() if max(s) >= smallest}
    rest = [100 - sum(s[k] for s in shown.values()) for k in range(len(tiers))]
    fig, ax = plt.subplots(figsize=(2.0 + 1.4 * len(tiers), 7))
    colours = plt.get_cmap("tab20").colors
    bottom = [0.0] * len(tiers)
    for k, (name, share) in enumerate([*shown.items(), ("smaller phases", rest)]):
        colour = "lightgrey" if name == "smaller phases" else colours[k % len(colours)]
        ax.bar(range(len(tiers)), share, bottom=bottom, color=colour, label=name)
        bottom = [b + s for b, s in zip(bottom, share, strict=True)]
    ax.set_xticks(range(len(tiers)), [f"{t['tier']}\n{t['end_to_end_s']:.1f} s" for t in tiers])
    ax.set_ylabel("share of the end-to-end time, %")
    ax.legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left", reverse=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


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
    """``n`` shoppers: the rows of ``shoppers`` repeated in order (a field left None stays None)."""
    import dataclasses

    import numpy as np

    rows = np.resize(np.arange(len(shoppers)), n)
    columns = {
        f.name: None if getattr(shoppers, f.name) is None else getattr(shoppers, f.name)[rows]
        for f in dataclasses.fields(shoppers)
        if f.name != "person"
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
        "national_both_at_once_within_30s": None
        if national is None or not {"voucher", "tender"} <= set(national["schemes"])
        else national["schemes_at_once_s"] <= GOALS["national_both_at_once_s"],
        "national_voucher_within_15s": None
        if national is None or national["voucher_alone_s"] is None
        else national["voucher_alone_s"] <= GOALS["national_voucher_s"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiers", type=parse_tiers, default=parse_tiers("10k,100k"))
    parser.add_argument("--scenario", default=str(DEFAULT_SCENARIO))
    parser.add_argument("--weeks", type=int, default=None, help="override the scenario's weeks")
    parser.add_argument("--schemes", default="voucher", help="comma-separated schemes run per tier")
    parser.add_argument("--repeats", type=int, default=3, help="the floors: best of at least this many calls")
    parser.add_argument("--plot", default=None, help="write a stacked bar of phases per tier (PNG)")
    parser.add_argument("--vectorised-shoppers", type=int, default=1_000_000)
    parser.add_argument("--reference-shoppers", type=int, default=20_000)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scenario_path = str(Path(args.scenario).resolve())
    schemes = args.schemes.split(",")

    if args.child is not None:
        print(json.dumps(run_tier(scenario_path, args.child, args.weeks, schemes, args.repeats)))
        return

    tiers = []
    for name, size in args.tiers:
        tiers.append(tier_in_subprocess(name, size, scenario_path, args.weeks, schemes, args.repeats))
        print("\n".join(tier_block(tiers[-1])), flush=True)
    fits = growth(tiers)
    print("\n".join(growth_lines(fits)))
    if args.plot:
        plot_phases(tiers, args.plot)
        print(f"phases plotted to {args.plot}")
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
        "growth": fits,
        "shopping": shopping,
        "speedup_vs_agent_reference": round(speedup, 1),
        "speedup_numpy_twin_vs_agent_reference": round(shopping["vectorised_shoppers_per_s"] / reference, 1),
    }
    result["goals"] = goals(tiers, load(scenario_path, None, None).size, speedup)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
