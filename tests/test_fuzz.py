"""Fuzzing the scenario checks (issue 8, "hard to break"): mutated copies of the bundled scenarios
and ``--set`` overrides go through ``run.py check`` in-process; every case must exit 0 or 2, never
1 and never raise, and a rejected case prints one message naming the file (and the key or line).
A share of the accepted cases is also run (200 recipients, a few weeks) to a summary whose numbers
must all be finite and in range (shares in [0, 1], counts >= 0), or exit 2 with a message.

The number of cases comes from the environment (``FUZZ_EXAMPLES``, default 50, a few seconds, the
same cases every time); the slow job runs at least 1,000 new random cases and prints its figures
(about 3 minutes on two cores)::

    FUZZ_EXAMPLES=1000 uv run pytest -m slow -s -q tests/test_fuzz.py

``FUZZ_RUN_EVERY`` (default 4; 10 in the default suite) runs the first accepted case and then one
in that many. Cases: a bundled scenario with both schemes (tiny, prakerja_2020, its gaming variant,
prakerja_2023) with one to three ``--set`` overrides (values near the original, at a field's
bounds, or odd: NaN, infinities, huge, negative, wrong types, empty lists, unicode, YAML tags,
aliases inside themselves, alias bombs, deep nesting, bad key paths), or its file mutated (a value
replaced, every number of a block at its bounds, a key deleted, a list emptied, shares that do not
sum to one, a line inserted: duplicate keys, tags, bombs, deep nesting; the text cut, a character
inserted, bytes that are not UTF-8), or both; sometimes a bad ``--seed``, ``--size`` or
``--weeks``.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.cli import main
from simulation.config.scenario import (
    Scenario,
    ScenarioError,
    _model_of,
    load_scenario,
    memory_estimate,
    read_yaml,
)
from simulation.reporting.registry import METRICS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASES = {  # the bundled scenarios with both schemes (the file mutations reach into either block)
    "tiny": SCENARIOS / "tiny.yaml",
    "prakerja_2020": SCENARIOS / "prakerja_2020.yaml",
    "prakerja_2020_gaming": SCENARIOS / "prakerja_2020_gaming.yaml",
    "prakerja_2023": SCENARIOS / "prakerja_2023.yaml",
}
# just past each scenario's endline weeks
RUN_WEEKS = {"tiny": 8, "prakerja_2020": 14, "prakerja_2020_gaming": 14, "prakerja_2023": 14}
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
DERANDOMIZE = "FUZZ_EXAMPLES" not in os.environ  # the default suite sees the same cases every time

RUN_EVERY = int(os.environ.get("FUZZ_RUN_EVERY", "10" if DERANDOMIZE else "4"))
RUN_MEMORY_BYTES = 2 * 2**30  # accepted cases needing more, even at 200 recipients, are not run
RUN_PROVIDERS = 20_000  # nor those with more providers and centres (slow, not wrong)
KINDS = {metric.name: metric.kind for metric in METRICS if not metric.estimand}  # effects are signed


# --------------------------------------------------------------------------- what a case is


def leaves(data: Any, path: tuple = ()) -> list[tuple]:
    """Key paths (keys and list indices) of every value in ``data``, containers included."""
    found = [path] if path else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += leaves(value, (*path, key))
    elif isinstance(data, list):
        for k, value in enumerate(data):
            found += leaves(value, (*path, k))
    return found


RAW = {name: read_yaml(path) for name, path in BASES.items()}
TEXT = {name: path.read_text(encoding="utf-8") for name, path in BASES.items()}
PATHS = {name: leaves(raw) for name, raw in RAW.items()}


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


def deep_list(levels: int) -> list:
    value: list = [0]
    for _ in range(levels - 1):
        value = [value]
    return value


def alias_bomb(levels: int) -> str:
    """A flow mapping whose last list expands to 10^(levels + 1) strings."""
    items = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    items += [f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]" for k in range(1, levels + 1)]
    return "{" + ", ".join(items) + "}"


# YAML texts of odd values: non-finite, huge, negative, wrong types, empty, unicode, tags, aliases.
ODD_YAML = [
    ".nan", ".NaN", ".inf", "-.inf", "nan", "inf", "1e400", "-1e400", "1e300", "-1e300", "1e12",
    "2e9", "1e9", "1e6", "1.0e6", "-1", "-0.0", "0", "1", "2", "0.5", "1.5", "0.2999999", "1.0000001",
    "99999999999999999999999", "0x7fffffffffffffff", "1_000", "1:30", "true", "false", "yes", "null",
    "~", "''", "'1e6'", "'0.5'", "[]", "{}", "[1, 2]", "[online, online]", "{a: 1}", "abc", "voucher",
    "ñandú €😀", '"\\u202e\\u0000"', '"\\ud800"', "!!binary aGVsbG8=", "!!python/object:os.system {}",
    "!!python/name:os.system", "!!python/tuple [1, 2]", "!!float nan", "!!float '-inf'", "!!int '7'",
    "!!set {a, b}", "!!timestamp 2020-01-01", "!!str 1", "!custom 1", "*nowhere", "&a [*a]",
    "{a: 1, a: 2}", nested(31), nested(33), nested(490), nested(3000), alias_bomb(3), alias_bomb(8),
]  # fmt: skip

# Lines dropped into the file text: duplicate keys, tags, bombs, deep nesting, stray syntax.
ODD_LINES = [
    "weeks: 10", "name: tiny", "seed: 1", "voucher: {}", "x: " + nested(1000), "x: " + alias_bomb(9),
    "x: !!python/object/apply:os.system ['true']", "<<: {weeks: 3}", "  - ", "- a", "? [1, 2]\n: 3",
    "%YAML 1.1", "---", "...", "\t", "&anchor", "*alias", "x: &x [*x]", "[", "{", "'", '"', ":", "ñ😀",
]  # fmt: skip

odd_text = st.sampled_from(ODD_YAML)
plain_floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
yaml_numbers = st.one_of(
    plain_floats.map(lambda x: yaml.safe_dump(x).removesuffix("...\n").strip()),  # .nan, 1.0e+300
    plain_floats.map(repr),  # nan, 1e+300 (YAML 1.1 strings)
    st.integers(-(2**70), 2**70).map(str),
    st.floats(-10, 10).map(lambda x: f"{x:.6g}"),
)
yaml_text = st.text(max_size=12).map(lambda s: json.dumps(s))  # a double-quoted YAML string
any_value = st.one_of(odd_text, odd_text, yaml_numbers, yaml_numbers, yaml_text)
python_values = st.one_of(
    st.floats(),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.lists(st.floats(-2, 2), max_size=3),
    st.just([]),
    st.just({}),
    st.integers(1, 60).map(lambda n: deep_list(n)),
)


class Case:
    """One fuzz case: a scenario file (text or bytes), overrides and options."""

    def __init__(self, base: str, text: str | bytes, what: str = ""):
        self.base, self.text, self.what = base, text, what  # what: the file's mutation
        self.overrides: list[str] = []
        self.options: list[str] = []

    def __repr__(self) -> str:  # the file is long: show what was done to it
        file = self.what or "as bundled"
        return f"Case({self.base}, file: {file}, {self.overrides}, {self.options})"


def key_path(path: tuple) -> str:
    return ".".join(str(part) for part in path)


def set_at(raw: dict, path: tuple, value: Any) -> None:
    node = raw
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def bounds(keys: tuple) -> list[float]:
    """The bounds of the scenario field at ``keys`` (a value just inside an open bound), if numeric."""
    model: Any = Scenario
    found = None
    for part in keys:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return []
        found = model.model_fields[part]
        model = _model_of(found.annotation)
    out = []
    for rule in found.metadata if found is not None else ():
        for name, toward in (("ge", None), ("le", None), ("gt", math.inf), ("lt", -math.inf)):
            value = getattr(rule, name, None)
            if isinstance(value, int | float) and math.isfinite(value):
                out.append(value if toward is None else math.nextafter(value, toward))
    return out


@st.composite
def plausible(draw, original: Any) -> str:
    """A value near the original (YAML text): scaled, nudged, flipped, or another of its kind."""
    if isinstance(original, bool):
        return str(not original).lower()
    if isinstance(original, int | float):
        factor = draw(st.sampled_from([0, 0.5, 0.9, 0.999, 1, 1.001, 1.1, 2, 10, 100, -1]))
        value = original * factor
        return str(int(value)) if isinstance(original, int) and draw(st.booleans()) else repr(float(value))
    if isinstance(original, str):
        return draw(
            st.sampled_from([original, original.upper(), original + "_x", "online", "lottery", "rating"])
        )
    return yaml.safe_dump(original, default_flow_style=True).removesuffix("...\n").strip()


@st.composite
def overrides(draw, base: str) -> list[str]:
    out = []
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        keys = draw(st.sampled_from(PATHS[base]))
        path = key_path(keys)
        shape = draw(
            st.sampled_from(["near"] * 4 + ["bound", "bound", "odd", "odd", "bad path", "no equals"])
        )
        if shape == "bad path":  # a key that does not exist, or a path through a value
            path += "." + draw(st.sampled_from(["x", "0", "credit_idrr", "²", "-1", "99"]))
        if shape == "bound" and bounds(keys):  # a value at one of the field's bounds
            value = repr(draw(st.sampled_from(bounds(keys))))
        elif shape in ("near", "bound"):
            value = draw(plausible(_get(RAW[base], keys)))
        else:
            value = draw(any_value)
        out.append(path if shape == "no equals" else f"{path}={value}")
    return out


@st.composite
def file_text(draw, base: str) -> tuple[str | bytes, str]:
    """The scenario file: the bundled text mutated, as (text, what was done)."""
    kinds = [
        "value",
        "value",
        "corner",
        "corner",
        "delete",
        "empty",
        "shares",
        "line",
        "cut",
        "char",
        "bytes",
    ]
    how = draw(st.sampled_from(kinds))
    raw = copy.deepcopy(RAW[base])
    if how in ("value", "corner", "delete", "empty", "shares"):
        if how == "corner":  # every number of a block at one of its bounds: the ranges together
            blocks = [p for p in PATHS[base] if isinstance(_get(raw, p), dict | list)]
            path = draw(st.sampled_from(blocks))
            for leaf in leaves(_get(raw, path), path):
                if bounds(leaf) and draw(st.booleans()):
                    set_at(raw, leaf, draw(st.sampled_from(bounds(leaf))))
        elif how == "value":
            path = draw(st.sampled_from(PATHS[base]))
            near = plausible(_get(raw, path)).map(lambda text: yaml.safe_load(text) if text else None)
            set_at(raw, path, draw(st.one_of(python_values, near)))
        elif how == "delete":
            path = draw(st.sampled_from(PATHS[base]))
            node = raw
            for part in path[:-1]:
                node = node[part]
            del node[path[-1]]
        elif how == "empty":
            lists = [p for p in PATHS[base] if isinstance(_get(raw, p), list)]
            path = draw(st.sampled_from(lists + [("voucher", "modes_allowed"), ("schemes",)]))
            set_at(raw, path, [])
        else:
            path = ("regions",)
            shares = draw(
                st.lists(st.floats(0, 1), min_size=len(raw["regions"]), max_size=len(raw["regions"]))
            )
            for region, share in zip(raw["regions"], shares, strict=True):
                region["population_share"] = share
        return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), f"{how} {key_path(path)}"
    text = TEXT[base]
    lines = text.splitlines()
    if how == "line":
        at = draw(st.integers(0, len(lines)))
        line = draw(st.one_of(st.sampled_from(ODD_LINES), st.sampled_from(lines)))
        indent = draw(st.sampled_from(["", "  ", "    "]))
        lines.insert(at, indent + line)
        return "\n".join(lines) + "\n", f"line {at + 1}: {line[:40]!r}"
    if how == "cut":
        at = draw(st.integers(0, len(text)))
        return text[:at], f"cut at {at}"
    if how == "char":
        at = draw(st.integers(0, len(text)))
        char = draw(
            st.sampled_from(["\x00", "\x85", "\ufeff", "\u2028", "😀", "ñ", "\t", ":", "#", "&", "*", "!"])
        )
        return text[:at] + char + text[at:], f"char {char!r} at {at}"
    return draw(st.binary(max_size=64)) + text.encode("utf-8")[:200], "bytes"


def _get(raw: Any, path: tuple) -> Any:
    for part in path:
        raw = raw[part]
    return raw


@st.composite
def cases(draw) -> Case:
    base = draw(st.sampled_from(sorted(BASES)))
    mode = draw(st.sampled_from(["set", "set", "set", "file", "file", "both"]))
    text, what = (TEXT[base], "") if mode == "set" else draw(file_text(base))
    case = Case(base, text, what=what)
    if mode != "file":
        case.overrides = draw(overrides(base))
    if draw(st.integers(0, 9)) == 0:
        option = draw(st.sampled_from(["--seed", "--size", "--weeks"]))
        values = ["0", "7", "12", "40", "200", "500", "1e30", "-1", "abc", "1e3", "nan"]
        case.options = [option, draw(st.sampled_from(values))]
    return case


# --------------------------------------------------------------------------- checks


def model_keys(model: Any) -> set[str]:
    """Every key of a scenario block and the blocks inside it."""
    keys = set()
    for name, found in model.model_fields.items():
        keys.add(name)
        inner = _model_of(found.annotation)
        if inner is not None:
            keys |= model_keys(inner)
    return keys


KEYS = sorted(model_keys(Scenario))
WHOLE_FILE = ("a scenario must be a YAML mapping", "cannot read the file", "larger than")


def names_the_place(err: str, path: Path) -> bool:
    """A rejection is one line naming the file and then a key path, a line, or what is wrong with
    the whole file; or it is about a command-line option, which it names (with the usage)."""
    if err.startswith(("error: argument --", "error: --scheme")):
        return True
    prefix = f"error: {path}: "
    if not err.startswith(prefix) or "\n" in err.strip():  # one line
        return False
    rest = err[len(prefix) :]
    named = any(re.search(rf"\b{key}\b", rest) for key in KEYS)
    return named or " line " in rest or rest.startswith(WHOLE_FILE)


def check_summary(summary: dict) -> list[str]:
    """Problems of a summary: a number that is not finite, a share outside [0, 1], a negative count."""
    problems = []

    def walk(value: Any, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for k, item in enumerate(value):
                walk(item, f"{where}.{k}")
        elif isinstance(value, int | float) and not isinstance(value, bool) and not math.isfinite(value):
            problems.append(f"{where} = {value}")

    walk(summary, "")
    for scheme, metrics in summary.get("schemes", {}).items():
        for name, value in metrics.items():
            if not isinstance(value, int | float) or not math.isfinite(value):
                continue
            kind = KINDS.get(name)
            if kind == "share" and not -1e-9 <= value <= 1 + 1e-9:
                problems.append(f"schemes.{scheme}.{name} = {value}, a share outside [0, 1]")
            if kind in ("count", "whole") and value < 0:
                problems.append(f"schemes.{scheme}.{name} = {value}, a negative count")
    if not summary.get("scale", 0) > 0 or summary.get("simulated_participants", -1) < 0:
        problems.append("scale or simulated_participants out of range")
    return problems


def runnable(path: Path, case: Case, weeks: int) -> bool:
    """Whether an accepted case is small enough to run here (at 200 recipients)."""
    try:
        scenario = load_scenario(path, case.overrides, size=200, weeks=weeks)
    except ScenarioError:
        return True  # the run will report it (exit 2)
    providers = scenario.providers.count + sum(tier.count for tier in scenario.centres)
    return sum(memory_estimate(scenario).values()) < RUN_MEMORY_BYTES and providers <= RUN_PROVIDERS


@pytest.mark.slow
def test_mutated_scenarios_exit_0_or_2_and_accepted_ones_run_clean(tmp_path_factory, capsys):
    stats: Counter = Counter()
    start = time.perf_counter()

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=DERANDOMIZE,
        deadline=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )
    @given(case=cases())
    def one(case: Case) -> None:
        failures: list[str] = []
        folder = tmp_path_factory.mktemp("fuzz")
        path = folder / "scenario.yaml"
        if isinstance(case.text, bytes):
            path.write_bytes(case.text)
        else:
            path.write_text(case.text, encoding="utf-8", errors="surrogatepass")
        sets = [arg for override in case.overrides for arg in ("--set", override)]
        stats["tried"] += 1
        capsys.readouterr()
        where = f"{case.base} {case.what} {case.overrides} {case.options}"
        try:
            code = main(["check", str(path), *sets, *case.options])
        except BaseException as err:  # noqa: BLE001 - a crash of any kind is what we look for
            code = f"raised {type(err).__name__}: {err}"
        out, err = capsys.readouterr()
        if code == 2:
            stats["exit 2"] += 1
            if not (err.startswith("error: ") and names_the_place(err, path)) or "Traceback" in err:
                failures.append(f"{where}: a rejection that does not name the file: {err[:300]}")
            err.encode("utf-8")  # printable on any terminal
        elif code == 0:
            stats["accepted"] += 1
        else:
            stats["crashes"] += 1
            failures.append(f"{where}: check exited {code}: {err[-2000:]}")
        if code == 0 and stats["accepted"] % RUN_EVERY == 1 % RUN_EVERY:  # the first, then every nth
            weeks = RUN_WEEKS[case.base]
            if not runnable(path, case, weeks):
                stats["accepted, too big to run here"] += 1
                return
            out_dir = folder / "out"
            argv = ["run", str(path), *sets, *case.options, "--size", "200", "--weeks", str(weeks)]
            try:
                code = main([*argv, "--out", str(out_dir), "--no-progress"])
            except BaseException as err:  # noqa: BLE001
                code = f"raised {type(err).__name__}: {err}"
            out, err = capsys.readouterr()
            if code == 0:
                stats["accepted and run"] += 1
                problems = check_summary(json.loads((out_dir / "summary.json").read_text(encoding="utf-8")))
                if problems:
                    stats["runs with bad numbers"] += 1
                    failures.append(f"{where}: run: {'; '.join(problems[:5])}")
            elif code == 2 and err.startswith("error: ") and "Traceback" not in err:
                stats["accepted, run exit 2"] += 1
            else:
                stats["crashes"] += 1
                failures.append(f"{where}: run exited {code}: {err[-2000:]}")
        assert not failures, failures[-1]

    try:
        one()
    finally:
        seconds = time.perf_counter() - start
        with capsys.disabled():
            order = ["tried", "exit 2", "accepted", "accepted and run", "accepted, run exit 2"]
            order += ["accepted, too big to run here", "runs with bad numbers", "crashes"]
            figures = ", ".join(f"{name}: {stats[name]:,}" for name in order)
            print(f"\nfuzz: {figures} ({seconds:.0f} s)")
