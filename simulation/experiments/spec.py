"""Sweep specifications: a YAML file in, one validated and frozen :class:`SweepSpec` out, and from
it the design (every run, with its parameter values and seed).

A sweep varies named scenario values (``voucher.credit_idr``) over a base scenario file::

    name: credit_level                    # results folder default: results/<name>
    description: Voucher credit level on the tiny world
    base: ../tiny.yaml                    # scenario file, relative to the spec file
    seed: 12345                           # root seed of the sweep
    sampler: grid                         # grid | random | lhs | sobol | morris
    samples: 16                           # random/lhs: points; sobol: Saltelli base N; morris: trajectories
    replications: 3                       # runs per point: replications 0, 1, 2, each its own seed
    common_random_numbers: true           # default; replication r uses one seed at every point
    schemes: [voucher]                    # default: every scheme the base scenario defines
    metrics: [itt_employment_pp, total_cost_idr]   # default: all
    set: ["size=500"]                     # fixed overrides, applied to every run before the parameters
    parameters:
      - {path: voucher.credit_idr, values: [500000, 1000000, 2000000]}   # a list of values
      - {path: choice.revisit_share, low: 0.1, high: 0.9}               # a range

Samplers: ``grid`` runs every combination of the parameters' ``values`` (the first parameter varies
slowest); ``random`` draws ``samples`` points, each parameter uniformly from its values or its range;
``lhs`` is a Latin hypercube over the ranges; ``sobol`` is Saltelli's scheme for first- and
total-order Sobol indices (``samples`` x (parameters + 2) points, ``samples`` a power of two);
``morris`` is ``samples`` elementary-effects trajectories on a 4-level grid (``samples`` x
(parameters + 1) points).

Value types: a parameter's listed ``values`` are used as written (integers stay integers, strings
stay strings; ``1e6``, which YAML 1.1 would read as a string, is read as a number); a range always
gives floats, so a range over an integer-typed scenario field (e.g. ``providers.count``) is refused
when the spec is loaded: list its values instead.

Seeds (common random numbers): by default (``common_random_numbers: true``) replication ``r`` of
every design point runs with the same seed, ``SeedSequence(seed, spawn_key=(r,)).generate_state(1)[0]``
(if two replications would get the same 32-bit seed, the later one moves on to the next spawned
child: these are the seeds of ``run.py run --seed SEED --replications N``, see
:func:`simulation.reporting.compare.replication_seeds`). Every point of replication ``r`` is thus
simulated on the same world with the same random draws, so the difference between two points,
replication by replication, is *paired*: the world-to-world noise common to both cancels, and its
confidence interval comes from the spread of the paired differences (``run.py analyze`` writes
them to ``differences.csv``). This is the right default for Sobol and Morris designs too: the
points' differences, from which the indices are estimated, then carry less noise.

With ``common_random_numbers: false`` each run has its own seed, from the sweep's seed and its run
id ``run_id = point * replications + replication``:
``SeedSequence(seed, spawn_key=(run_id,)).generate_state(1)[0]`` (the seeds of sweeps made before
the option existed, whose results such a spec reproduces); differences between points are then
unpaired. Either way a seed is a function of the spec only, never of which worker runs it or when.
The design's own random draws (random, lhs, sobol, morris) come from ``SeedSequence(seed)``, a
stream distinct from every run's. The base scenario's ``seed`` is not used.

Limits: ``replications`` at most ``MAX_REPLICATIONS``, ``samples`` at most ``MAX_SAMPLES``, at most
``MAX_PARAMETERS`` parameters and ``MAX_RUNS`` runs in all (design points times replications), so
that a spec which validates can run and ``--dry-run`` answers at once; the spec file is read with
the scenario reader's limits (:func:`simulation.config.scenario.read_yaml`), and ``name`` follows
the scenario name rule (:data:`simulation.config.scenario.NAME_RULE`).

Errors never escape as tracebacks: :func:`load_sweep_spec` raises :class:`SweepSpecError`, whose
message names the spec file and the key path (``parameters.1.path``) and, for unknown keys,
suggests the nearest valid key, as scenario errors do.
"""

from __future__ import annotations

import copy
import difflib
import functools
import hashlib
import itertools
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from simulation.config.scenario import (
    EXPONENT_NUMBER,
    MAX_SEED,
    Frozen,
    Name,
    Scenario,
    ScenarioError,
    _describe,
    _model_of,
    apply_override,
    parse_yaml,
    read_yaml,
    real_bounds,
    whole_bounds,
)
from simulation.reporting.compare import replication_seeds

Sampler = Literal["grid", "random", "lhs", "sobol", "morris"]
RANGE_SAMPLERS = ("lhs", "sobol", "morris")  # samplers that need a range (low, high) for every parameter
MORRIS_LEVELS = 4  # grid levels of the Morris trajectories (the analysis must use the same)
FINGERPRINT_FORMAT = 1  # bump when the meaning of a fingerprinted field changes
# Bounds of a sweep, so that a spec that validates can run (and --dry-run answers at once).
MAX_REPLICATIONS = 10_000
MAX_SAMPLES = 2**20  # random/lhs points, Sobol base N, Morris trajectories
MAX_PARAMETERS = 100
MAX_RUNS = 1_000_000  # design points x replications


class SweepSpecError(ScenarioError):
    """A sweep specification that cannot be run; the message names the spec file and the key."""


# --------------------------------------------------------------------------- the specification


class Parameter(Frozen):
    """One swept scenario value: a list of ``values``, or a range ``low`` < ``high``."""

    path: str = Field(min_length=1, description="scenario key path, e.g. voucher.credit_idr")
    values: tuple[Any, ...] | None = Field(None, min_length=1, description="numbers, strings, booleans")
    low: Annotated[float, *real_bounds()] | None = None
    high: Annotated[float, *real_bounds()] | None = None

    @field_validator("path")
    @classmethod
    def _key_path(cls, path: str) -> str:
        path = path.strip()
        if "=" in path or any(not part.strip() for part in path.split(".")):
            raise ValueError("expected a scenario key path such as voucher.credit_idr")
        return path

    @field_validator("values", mode="before")
    @classmethod
    def _scalars(cls, values: Any) -> Any:
        if not isinstance(values, list | tuple):
            return values  # the type check reports it
        out: list[Any] = []
        for value in values:
            if isinstance(value, np.generic):
                value = value.item()
            if isinstance(value, str) and EXPONENT_NUMBER.fullmatch(value.strip()):
                value = float(value)
            if value is not None and not isinstance(value, bool | int | float | str):
                raise ValueError(f"each value must be a number, a string, true/false or null (got {value!r})")
            if any(value == seen and type(value) is type(seen) for seen in out):
                raise ValueError(f"{value!r} is listed twice")
            out.append(value)
        return tuple(out)

    @model_validator(mode="after")
    def _values_or_range(self) -> Parameter:
        has_range = self.low is not None or self.high is not None
        if self.values is not None and has_range:
            raise ValueError("give either 'values' or a range ('low' and 'high'), not both")
        if self.values is None:
            if self.low is None or self.high is None:
                raise ValueError("give 'values' (a list) or a range ('low' and 'high')")
            if not (math.isfinite(self.low) and math.isfinite(self.high)) or not self.low < self.high:
                raise ValueError(f"'low' must be below 'high' (got {self.low!r} and {self.high!r})")
        return self

    @property
    def is_range(self) -> bool:
        return self.values is None

    @property
    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a range."""
        if self.low is None or self.high is None:
            raise ValueError(f"parameter {self.path} is a list of values, not a range")
        return self.low, self.high

    @property
    def listed(self) -> tuple[Any, ...]:
        """The ``values`` of a list."""
        if self.values is None:
            raise ValueError(f"parameter {self.path} is a range, not a list of values")
        return self.values


class SweepSpec(Frozen):
    """One complete, validated sweep: a base scenario, the parameters to vary and how to sample them.

    ``base`` is the scenario file's absolute path; ``spec_file`` the spec file it was read from (None
    if built in code). A relative ``base`` is resolved against the spec file's folder (else the
    current folder). The checks against the base scenario (:func:`check_against_base`) run when the
    spec is loaded, not here, so that a spec stored in a results folder validates without its base.
    """

    name: Name = Field(description="also the results folder name")
    description: str = ""
    base: Path
    seed: Annotated[int, *whole_bounds(0, MAX_SEED)] = Field(0, description="root seed of the sweep")
    sampler: Sampler = "grid"
    samples: Annotated[int, *whole_bounds(1, MAX_SAMPLES)] | None = Field(
        None, description="random/lhs: points; sobol: Saltelli base N; morris: trajectories"
    )
    replications: Annotated[int, *whole_bounds(1, MAX_REPLICATIONS)] = Field(
        1, description="runs per design point, each with its own seed"
    )
    common_random_numbers: bool = Field(
        True, strict=True, description="replication r uses the same seed at every design point"
    )
    schemes: tuple[Literal["voucher", "tender"], ...] | None = Field(None, min_length=1)
    metrics: tuple[str, ...] | None = Field(None, min_length=1)
    set: tuple[str, ...] = Field((), description="fixed KEY.PATH=VALUE overrides for every run")
    parameters: tuple[Parameter, ...] = Field(min_length=1, max_length=MAX_PARAMETERS)
    spec_file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _resolve_base(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not isinstance(data.get("base"), str | Path):
            return data
        base = Path(data["base"]).expanduser()
        if not base.is_absolute():
            spec_file = data.get("spec_file")
            root = Path(spec_file).parent if isinstance(spec_file, str | Path) else Path.cwd()
            base = root / base
        return {**data, "base": base.resolve()}

    @field_validator("schemes", "metrics")
    @classmethod
    def _unique_names(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names is None:
            return names
        for k, name in enumerate(names):
            if not name.strip():
                raise ValueError(f"item {k} is empty")
            if name in names[:k]:
                raise ValueError(f"'{name}' is listed twice")
        return names

    @field_validator("set")
    @classmethod
    def _overrides(cls, overrides: tuple[str, ...]) -> tuple[str, ...]:
        for k, override in enumerate(overrides):
            key, sep, _ = override.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"item {k} ({override!r}): expected KEY.PATH=VALUE, e.g. size=500")
        return overrides

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        problems = []
        if self.sampler != "grid" and self.samples is None:
            problems.append(f"samples: the {self.sampler} sampler needs 'samples'")
        if self.sampler == "sobol" and self.samples is not None and self.samples & (self.samples - 1):
            lower = 1 << (self.samples.bit_length() - 1)
            problems.append(
                f"samples: the sobol sampler needs a power of two (Sobol' sequences balance only "
                f"then), got {self.samples}; try {lower} or {2 * lower}"
            )
        fixed = [override.partition("=")[0].strip() for override in self.set]
        for k, parameter in enumerate(self.parameters):
            if self.sampler == "grid" and parameter.is_range:
                problems.append(f"parameters.{k}: the grid sampler needs 'values' (a list), not a range")
            if self.sampler in RANGE_SAMPLERS and not parameter.is_range:
                problems.append(
                    f"parameters.{k}: the {self.sampler} sampler needs a range ('low' and 'high'), not values"
                )
            for j, other in enumerate(self.parameters[:k]):
                if _overlap(parameter.path, other.path):
                    problems.append(f"parameters.{k}.path: '{parameter.path}' overlaps parameters.{j}.path")
            if parameter.path == "seed":
                problems.append(f"parameters.{k}.path: runs take their seeds from the sweep's 'seed'")
            for j, key in enumerate(fixed):
                if _overlap(parameter.path, key):
                    problems.append(f"parameters.{k}.path: '{parameter.path}' is also fixed by set.{j}")
        for j, key in enumerate(fixed):
            if key == "seed":
                problems.append(f"set.{j}: runs take their seeds from the sweep's 'seed'")
        if not problems and run_count(self) > MAX_RUNS:
            what = "the parameters' values" if self.sampler == "grid" else "samples"
            problems.append(
                f"replications: the design has {point_count(self):,} points x {self.replications:,} "
                f"replications = {run_count(self):,} runs; at most {MAX_RUNS:,} (lower replications "
                f"or {what})"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def names(self) -> list[str]:
        """The parameters' key paths, in order (the design matrix's columns)."""
        return [parameter.path for parameter in self.parameters]


def _overlap(a: str, b: str) -> bool:
    """Whether two key paths set the same value (equal, or one inside the other)."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


# --------------------------------------------------------------------------- loading and errors


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Read, validate and check a sweep spec file against its base scenario.

    Raises :class:`SweepSpecError` naming the file and the key path."""
    path = Path(path)
    raw = _read_spec_yaml(path)
    raw.pop("spec_file", None)  # set here, never by the file
    spec = parse_sweep_spec(raw, source=str(path), spec_file=path.resolve())
    check_against_base(spec, source=str(path))
    return spec


def parse_sweep_spec(
    raw: dict[str, Any], source: str = "<sweep spec>", spec_file: Path | None = None
) -> SweepSpec:
    """Validate a raw mapping into a SweepSpec (structure only; see :func:`check_against_base`)."""
    data = copy.deepcopy(raw)
    if spec_file is not None:
        data["spec_file"] = spec_file
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as err:
        errors = err.errors()
        # A list whose items failed also reports itself too short: keep only the items' errors.
        locs = [tuple(error["loc"]) for error in errors]
        errors = [
            error
            for error, loc in zip(errors, locs, strict=True)
            if error["type"] != "too_short"
            or not any(len(o) > len(loc) and o[: len(loc)] == loc for o in locs)
        ]
        lines = [_describe_spec(error) for error in errors]
        raise SweepSpecError(f"{source}: " + "; ".join(lines)) from None


def check_against_base(spec: SweepSpec, source: str | None = None) -> Scenario:
    """Check the spec against its base scenario; return the base scenario with the ``set`` overrides.

    The base must be a valid scenario; each ``set`` override, alone and all together, must give a
    valid scenario; every value of every parameter (for a range: low, high and the midpoint, so that
    an integer field swept by a range is caught), applied on top of the ``set`` overrides, must too;
    the ``schemes`` must be defined by the base. Parameters are checked one at a time: combinations
    of values that break a cross-field rule (e.g. hours min above max) fail at run time.
    """
    source = source or str(spec.spec_file or "<sweep spec>")
    try:
        base = read_yaml(spec.base)
    except ScenarioError as err:
        raise SweepSpecError(f"{source}: base: {err}") from None
    base_errors = _scenario_errors(base)
    if base_errors:
        raise SweepSpecError(f"{source}: base: {spec.base}: {base_errors}")
    problems = [
        f"set.{k}: {override}: {error}"
        for k, override in enumerate(spec.set)
        if (error := _override_errors(base, [override]))
    ]
    if problems:
        raise SweepSpecError(f"{source}: " + "; ".join(problems))
    error = _override_errors(base, list(spec.set))
    if error:
        raise SweepSpecError(f"{source}: set: {error}")
    fixed = copy.deepcopy(base)
    for override in spec.set:
        apply_override(fixed, override)
    for k, parameter in enumerate(spec.parameters):
        problems.extend(_parameter_errors(fixed, k, parameter))
    scenario = Scenario.model_validate(copy.deepcopy(fixed))
    defined = [name for name in ("voucher", "tender") if getattr(scenario, name) is not None]
    for k, scheme in enumerate(spec.schemes or ()):
        if scheme not in defined:
            problems.append(
                f"schemes.{k}: the base scenario has no '{scheme}:' block (it defines: {', '.join(defined)})"
            )
    if problems:
        raise SweepSpecError(f"{source}: " + "; ".join(problems))
    return scenario


def _parameter_errors(fixed: dict[str, Any], k: int, parameter: Parameter) -> list[str]:
    """Problems of parameter ``k`` against the base with the fixed overrides (empty if none)."""
    if parameter.is_range:
        low, high = parameter.bounds
        mid = low + 0.5 * (high - low)
        trials = [("low", low), ("high", high), ("", mid)]
    else:
        trials = [(f"values.{j}", value) for j, value in enumerate(parameter.listed)]
    problems = []
    for trial, (where, value) in enumerate(trials):
        override = f"{parameter.path}={render_value(value)}"
        raw = copy.deepcopy(fixed)
        try:
            apply_override(raw, override)
        except ScenarioError as err:
            return [f"parameters.{k}.path: {_strip_set_prefix(str(err), override)}"]
        try:
            Scenario.model_validate(copy.deepcopy(raw))
        except ValidationError as err:
            errors = err.errors()
            text = "; ".join(_describe(error) for error in errors)
            if trial == 0 and any(error["type"] in ("extra_forbidden", "missing") for error in errors):
                return [f"parameters.{k}.path: {text}"]  # the path, not the value, is wrong
            if parameter.is_range and any(
                error["type"] in ("int_from_float", "int_type") and isinstance(error.get("input"), float)
                for error in errors
            ):
                return [
                    f"parameters.{k}: {text}: a range gives non-integer values; list the values "
                    f"under 'values' instead"
                ]
            problems.append(f"parameters.{k}.{where}: {text}" if where else f"parameters.{k}: {text}")
    return problems


def _scenario_errors(raw: dict[str, Any]) -> str:
    """The scenario validation message for ``raw`` ('' if valid), without a source."""
    try:
        Scenario.model_validate(copy.deepcopy(raw))
    except ValidationError as err:
        return "; ".join(_describe(error) for error in err.errors())
    return ""


def _override_errors(base: dict[str, Any], overrides: list[str]) -> str:
    raw = copy.deepcopy(base)
    for override in overrides:
        try:
            apply_override(raw, override)
        except ScenarioError as err:
            return _strip_set_prefix(str(err), override)
    return _scenario_errors(raw)


def _strip_set_prefix(message: str, override: str) -> str:
    prefix = f"--set {override!r}: "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _read_spec_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping with the safe loader, or raise SweepSpecError naming the file."""
    return read_yaml(path, what="sweep spec", error=SweepSpecError)


def _describe_spec(error: ErrorDetails) -> str:
    """One pydantic error of a SweepSpec as ``key.path: message``, with did-you-mean hints."""
    loc = tuple(error["loc"])
    if error["type"] == "extra_forbidden":
        path = ".".join(str(part) for part in loc)
        return f"{path}: unknown key{_did_you_mean(SweepSpec, loc)}"
    if not loc and error["type"] == "value_error":  # the model validators name their keys
        return str(error["msg"]).removeprefix("Value error, ")
    return _describe(error)


def _did_you_mean(root: type, loc: tuple[Any, ...]) -> str:
    """Suggest the closest valid key for an unknown key at ``loc`` under the model ``root``."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        found = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        model = _model_of(found.annotation) if found is not None else None
        if model is None:
            return ""
    valid = [name for name in model.model_fields if name != "spec_file"]
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; valid keys here: {', '.join(valid)}"


# --------------------------------------------------------------------------- the design


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: a design point, a replication, its parameter values and its seed.

    An experiment's run (:mod:`simulation.experiments.reproduce`) also names its ``arm`` (stored
    as a column of its rows), carries the arm's own ``settings`` (``KEY.PATH=VALUE``, applied
    after the sweep's ``set`` and before the values) and may run only some ``schemes``."""

    run_id: int
    point: int
    replication: int
    values: dict[str, float | int | str] = field(hash=False)
    seed: int
    arm: str | None = None
    settings: tuple[str, ...] = ()
    schemes: tuple[str, ...] | None = None

    @property
    def overrides(self) -> list[str]:
        """The arm's settings, then ``path=value`` strings of the values, for
        :func:`simulation.config.scenario.apply_override` (after ``set``)."""
        return [*self.settings, *(f"{path}={render_value(value)}" for path, value in self.values.items())]


def render_value(value: Any) -> str:
    """``value`` as YAML text that ``yaml.safe_load`` reads back as the same value."""
    if isinstance(value, np.generic):
        value = value.item()
    text = yaml.safe_dump(value, default_flow_style=True).strip()
    return text.removesuffix("...").strip()


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem of a spec whose parameters are all ranges: names and bounds, in order."""
    lists = [k for k, parameter in enumerate(spec.parameters) if not parameter.is_range]
    if lists:
        raise SweepSpecError(
            f"{spec.spec_file or spec.name}: parameters.{lists[0]}: SALib needs a range ('low' and "
            f"'high') for every parameter"
        )
    return {
        "num_vars": len(spec.parameters),
        "names": spec.names,
        "bounds": [[parameter.low, parameter.high] for parameter in spec.parameters],
    }


def point_count(spec: SweepSpec) -> int:
    """Design points (before replications), computed without sampling."""
    d = len(spec.parameters)
    if spec.sampler == "grid":
        return math.prod(len(parameter.listed) for parameter in spec.parameters)
    if spec.sampler == "sobol":
        return _samples(spec) * (d + 2)
    if spec.sampler == "morris":
        return _samples(spec) * (d + 1)
    return _samples(spec)


def _samples(spec: SweepSpec) -> int:
    """``spec.samples``, which every sampler but grid needs (the spec's validation checks it)."""
    if spec.samples is None:
        raise SweepSpecError(
            f"{spec.spec_file or spec.name}: samples: the {spec.sampler} sampler needs 'samples'"
        )
    return spec.samples


def run_count(spec: SweepSpec) -> int:
    """Runs of the sweep: design points times replications."""
    return point_count(spec) * spec.replications


def run_seed(spec: SweepSpec, run_id: int) -> int:
    """The seed of run ``run_id`` without common random numbers: a function of the sweep's seed and
    the run id only."""
    return int(np.random.SeedSequence(spec.seed, spawn_key=(run_id,)).generate_state(1)[0])


def common_seeds(spec: SweepSpec) -> list[int]:
    """The seeds of replications 0, 1, ... with common random numbers, the same at every design
    point: ``SeedSequence(seed, spawn_key=(r,)).generate_state(1)[0]`` for replication ``r``,
    distinct (a repeat moves on to the next spawned child; seed ``r`` never depends on how many
    replications follow it)."""
    return replication_seeds(spec.seed, spec.replications)


def points(spec: SweepSpec) -> list[dict[str, Any]]:
    """The design points: for each, the parameter values by key path, in parameter order."""
    names = spec.names
    if spec.sampler == "grid":
        return [dict(zip(names, combo, strict=True)) for combo in _grid(spec)]
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))  # the design's own stream
    if spec.sampler == "random":
        columns = [_random_column(rng, parameter, _samples(spec)) for parameter in spec.parameters]
        return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]
    unit = None
    if spec.sampler == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(names), seed=rng).random(_samples(spec))
        low = np.array([p.low for p in spec.parameters])
        high = np.array([p.high for p in spec.parameters])
        matrix = low + unit * (high - low)
    elif spec.sampler == "sobol":
        from SALib.sample import sobol

        matrix = sobol.sample(salib_problem(spec), _samples(spec), calc_second_order=False, seed=rng)
    else:
        from SALib.sample import morris

        matrix = morris.sample(salib_problem(spec), _samples(spec), num_levels=MORRIS_LEVELS, seed=rng)
    return [dict(zip(names, (float(x) for x in row), strict=True)) for row in matrix]


def _grid(spec: SweepSpec) -> Iterator[tuple[Any, ...]]:
    return itertools.product(*(parameter.listed for parameter in spec.parameters))


def _random_column(rng: np.random.Generator, parameter: Parameter, n: int) -> list[Any]:
    if parameter.is_range:
        low, high = parameter.bounds
        return [float(x) for x in rng.uniform(low, high, size=n)]
    values = parameter.listed
    picks = rng.integers(0, len(values), size=n)
    return [values[int(k)] for k in picks]


def design(spec: SweepSpec) -> list[RunSpec]:
    """Every run of the sweep, ordered by run id (point-major, then replication). With common random
    numbers replication ``r`` has the same seed at every point, else every run its own."""
    common = common_seeds(spec) if spec.common_random_numbers else None
    runs = []
    for point, values in enumerate(points(spec)):
        for replication in range(spec.replications):
            run_id = point * spec.replications + replication
            seed = common[replication] if common is not None else run_seed(spec, run_id)
            runs.append(RunSpec(run_id, point, replication, values, seed))
    return runs


def design_matrix(spec: SweepSpec) -> np.ndarray:
    """The design points as an array [points, parameters] of the sampled values: float when every
    value is a number (booleans as 0/1), else object (e.g. a grid over a ranking rule's name)."""
    rows = [list(values.values()) for values in points(spec)]
    numeric = all(isinstance(v, bool | int | float) for row in rows for v in row)
    return np.array(rows, dtype=float if numeric else object).reshape(len(rows), len(spec.parameters))


# --------------------------------------------------------------------------- identity


def fingerprint(spec: SweepSpec) -> str:
    """sha256 (hex) of everything that determines a sweep's results: the base scenario's content
    (parsed, so comments and layout do not count; its location does not either), seed, sampler,
    samples (not for grid), replications, common random numbers, schemes, metrics, ``set`` and the
    parameters. The name, description and file locations do not count. A spec with
    ``common_random_numbers: false`` has the fingerprint it had before the option existed, so that
    its earlier result folders still resume. Raises SweepSpecError if the base cannot be read."""
    try:
        data = spec.base.read_bytes()
    except OSError as err:
        raise SweepSpecError(f"{spec.spec_file or spec.name}: base: {spec.base}: {err.strerror}") from None
    return _fingerprint(spec, data)


@functools.lru_cache(maxsize=32)
def _fingerprint(spec: SweepSpec, base_bytes: bytes) -> str:
    """Cached by the base file's bytes, as the sweep runner asks once per run."""
    try:
        base = parse_yaml(base_bytes.decode("utf-8"))  # with the reader's limits
    except (yaml.YAMLError, ValueError) as err:
        raise SweepSpecError(
            f"{spec.spec_file or spec.name}: base: {spec.base}: cannot parse: {err}"
        ) from None
    content = fingerprint_content(spec, base)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fingerprint_content(spec: SweepSpec, base: Any) -> dict[str, Any]:
    """What the fingerprint hashes, given the parsed base scenario. ``common_random_numbers`` is
    there only when on: a spec that turns it off keeps the fingerprint of the seeds by run id."""
    content = {
        "format": FINGERPRINT_FORMAT,
        "base": base,
        "seed": spec.seed,
        "sampler": spec.sampler,
        "samples": None if spec.sampler == "grid" else spec.samples,
        "morris_levels": MORRIS_LEVELS if spec.sampler == "morris" else None,
        "replications": spec.replications,
        "schemes": list(spec.schemes) if spec.schemes is not None else None,
        "metrics": list(spec.metrics) if spec.metrics is not None else None,
        "set": list(spec.set),
        "parameters": [parameter.model_dump(mode="json") for parameter in spec.parameters],
    }
    if spec.common_random_numbers:
        content["common_random_numbers"] = True
    return content
