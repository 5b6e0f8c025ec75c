"""Named experiments: a YAML spec in ``scenarios/experiments/``, one validated :class:`Experiment`
out, and from it the arms that run (each a named set of scenario overrides) and the checks that
the report makes.

An experiment asks one question of one base scenario::

    name: tender_scoring
    title: Price weight in the tender score
    question: >
      As price weighs more in the tender's score, do winning bids fall and delivered quality fall?
    base: ../prakerja_2020.yaml          # relative to the spec file
    seed: 2026                           # root seed: replication r has the same seed in every arm
    replications: 10
    schemes: [tender]                    # default: every scheme of the base
    set: ["size=100000"]                 # fixed overrides of every run
    design:                              # exactly one of the five forms below
      parameter: {path: tender.price_weight, values: [0.2, 0.4, 0.6, 0.8]}
    metrics: [mean_winning_bid_idr, mean_true_quality_enrolled]
    checks:
      - name: winning bids fall as price weighs more
        kind: slope                      # level | difference | slope
        metric: mean_winning_bid_idr
        scheme: tender
        expect: negative                 # positive | negative | within | covers
        expectation: winning bids fall   # the expectation in words, for the report
        source: Asker & Cantillon (2008)
    quick: {replications: 2, set: ["size=2000"], arms: [...]}   # the --quick version
    notes: >
      How to read the result, and what it rests on.

Designs: ``parameter`` (one scenario value over listed values: one arm per value, its value the
arm's x), ``arms`` (named override sets, each with an optional ``x`` and ``schemes``),
``variants`` (a variants file of :mod:`simulation.experiments.variants`: its variants are the
arms, its reference the reference arm), ``budgets`` (multipliers of every scheme's budget, as
``run.py curve``) and ``decompose`` (the configurations of ``run.py decompose``: ``sequential``
or ``shapley``).

Checks (:mod:`simulation.experiments.checks` evaluates them): a ``level`` is a metric's mean in an
arm; a ``difference`` is the paired difference of a metric between two arms (``versus: {arm:
NAME}``) or two schemes on the same runs (``versus: {scheme: NAME}``); a ``slope`` is the least
squares slope of a metric on the arms' x, replication by replication. Each has a 95% confidence
interval over replications (common random numbers: the differences and slopes are paired).
``expect: positive`` passes when the whole interval lies above 0, ``negative`` below 0 (and, with
``min_effect``, the mean is at least that far from 0: an effect too small to matter fails);
``within`` when the mean (not its interval) lies in [``low``, ``high``]; ``covers`` when the
interval contains ``value`` (e.g. a published estimate). ``arm`` may list several arms: the check
is then made in each.

Errors never escape as tracebacks: :func:`load_experiment` raises :class:`ExperimentError` naming
the spec file and the key.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from simulation.config.scenario import (
    MAX_SEED,
    Frozen,
    Name,
    ScenarioError,
    SchemeName,
    apply_override,
    read_yaml,
    scenario_dir,
    validate,
    whole_bounds,
)
from simulation.experiments.spec import render_value
from simulation.reporting import registry

ArmName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.+=-]+$")]
MAX_ARMS = 64
MAX_REPLICATIONS = 200


class ExperimentError(ScenarioError):
    """An experiment spec that cannot be run; the message names the spec file and the key."""


def experiments_dir() -> Path:
    """The folder of bundled experiment specs (``scenarios/experiments/``)."""
    return scenario_dir() / "experiments"


# --------------------------------------------------------------------------- the specification


class Arm(Frozen):
    """One configuration of the base scenario: its overrides, its schemes, its place on an axis."""

    name: ArmName
    label: str = Field("", description="short label for tables and figures (default: the name)")
    overrides: tuple[str, ...] = Field((), description="KEY.PATH=VALUE, as --set")
    schemes: tuple[SchemeName, ...] | None = Field(None, description="default: the experiment's schemes")
    x: float | None = Field(None, description="the arm's value on a numeric axis (slopes, line figures)")

    @property
    def title(self) -> str:
        return self.label or self.name


class ParameterDesign(Frozen):
    """One scenario value over listed values: one arm per value."""

    path: str = Field(min_length=1)
    values: tuple[bool | int | float | str, ...] = Field(min_length=2, max_length=MAX_ARMS)
    label: str = Field("", description="axis label, with its unit (default: the path)")


class Design(Frozen):
    """What the arms are: exactly one of the five forms."""

    parameter: ParameterDesign | None = None
    arms: tuple[Arm, ...] | None = Field(None, min_length=1, max_length=MAX_ARMS)
    variants: Path | None = Field(None, description="a variants file, relative to the spec file")
    budgets: tuple[Annotated[float, Field(gt=0, le=100)], ...] | None = Field(
        None, min_length=2, description="multipliers of every scheme's budget"
    )
    decompose: Literal["sequential", "shapley"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Design:
        given = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of parameter, arms, variants, budgets, decompose"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self

    @property
    def kind(self) -> str:
        return next(name for name in type(self).model_fields if getattr(self, name) is not None)


class Versus(Frozen):
    """What a difference is taken from: another arm, or another scheme on the same runs."""

    arm: ArmName | None = None
    scheme: SchemeName | None = None

    @model_validator(mode="after")
    def _one(self) -> Versus:
        if (self.arm is None) == (self.scheme is None):
            raise ValueError("give either 'arm' or 'scheme'")
        return self


class Check(Frozen):
    """One expectation the report tests (see the module docstring)."""

    name: str = Field(min_length=1, max_length=200)
    kind: Literal["level", "difference", "slope"] = "level"
    metric: str
    scheme: SchemeName
    arm: tuple[ArmName, ...] | None = Field(None, description="default: the reference arm")
    versus: Versus | None = None
    expect: Literal["positive", "negative", "within", "covers"]
    low: float | None = None
    high: float | None = None
    value: float | None = None
    min_effect: float | None = Field(
        None,
        ge=0,
        description="positive/negative: the mean must also be at least this far from 0 (materiality)",
    )
    expectation: str = Field(min_length=1, description="the expectation in words, with its unit")
    source: str = Field(min_length=1, description="where the expectation comes from")

    @field_validator("arm", mode="before")
    @classmethod
    def _listed(cls, arm: Any) -> Any:
        return (arm,) if isinstance(arm, str) else arm

    @field_validator("metric")
    @classmethod
    def _registered(cls, metric: str) -> str:
        if metric not in registry.BY_NAME:
            raise ValueError(f"{metric!r} is not a registered metric (see the README's metric table)")
        return metric

    @model_validator(mode="after")
    def _consistent(self) -> Check:
        if self.kind == "difference" and self.versus is None:
            raise ValueError("a difference needs 'versus' (an arm or a scheme)")
        if self.kind != "difference" and self.versus is not None:
            raise ValueError(f"'versus' belongs to a difference, not a {self.kind}")
        if self.expect == "within" and (self.low is None and self.high is None):
            raise ValueError("expect: within needs 'low', 'high' or both")
        if self.min_effect is not None and self.expect not in ("positive", "negative"):
            raise ValueError("'min_effect' belongs to expect: positive or negative")
        if self.expect == "covers" and self.value is None:
            raise ValueError("expect: covers needs 'value'")
        if self.low is not None and self.high is not None and not self.low <= self.high:
            raise ValueError(f"'low' ({self.low}) must not exceed 'high' ({self.high})")
        if self.kind == "slope" and registry.BY_NAME[self.metric].ratio:
            raise ValueError(f"a slope needs a metric measured per run, not the ratio {self.metric!r}")
        return self


class Quick(Frozen):
    """The reduced version ``--quick`` runs (CI runs it for every experiment)."""

    replications: Annotated[int, *whole_bounds(2, MAX_REPLICATIONS)] = 2
    set: tuple[str, ...] = Field((), description="overrides applied after the experiment's own")
    arms: tuple[ArmName, ...] | None = Field(None, description="the arms kept (default: all)")


class Experiment(Frozen):
    """A validated experiment spec (see the module docstring)."""

    name: Name
    title: str = Field(min_length=1, max_length=120)
    question: str = Field(min_length=1)
    base: Path
    seed: Annotated[int, *whole_bounds(0, MAX_SEED)] = 0
    replications: Annotated[int, *whole_bounds(2, MAX_REPLICATIONS)] = 10
    schemes: tuple[SchemeName, ...] | None = Field(None, min_length=1)
    set: tuple[str, ...] = ()
    design: Design
    reference: ArmName | None = Field(None, description="default: the first arm (variants: the file's)")
    metrics: tuple[str, ...] = Field((), description="registered metrics tabulated besides the checks'")
    checks: tuple[Check, ...] = Field(min_length=1)
    quick: Quick = Quick()
    spread: bool = Field(False, strict=True, description="also tabulate each metric's sd over replications")
    notes: str = ""
    spec_file: Path | None = None

    @field_validator("metrics")
    @classmethod
    def _registered(cls, metrics: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [m for m in metrics if m not in registry.BY_NAME]
        if unknown:
            raise ValueError(f"{unknown[0]!r} is not a registered metric")
        return metrics

    @model_validator(mode="before")
    @classmethod
    def _resolve_paths(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        root = Path(data["spec_file"]).parent if isinstance(data.get("spec_file"), str | Path) else Path.cwd()
        data = dict(data)
        if isinstance(data.get("base"), str | Path):
            data["base"] = (root / Path(data["base"]).expanduser()).resolve()
        design = data.get("design")
        if isinstance(design, dict) and isinstance(design.get("variants"), str | Path):
            data["design"] = {**design, "variants": (root / Path(design["variants"])).resolve()}
        return data

    @property
    def all_metrics(self) -> list[str]:
        """The checks' metrics, then the listed ones, each once."""
        return list(dict.fromkeys([*(c.metric for c in self.checks), *self.metrics]))


# --------------------------------------------------------------------------- loading


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment spec, and check it against its base scenario (every arm's
    overrides, the checks' arms and schemes). Raises :class:`ExperimentError` naming the file."""
    path = Path(path)
    raw = read_yaml(path, what="experiment spec", error=ExperimentError)
    raw.pop("spec_file", None)
    try:
        experiment = Experiment.model_validate({**raw, "spec_file": path.resolve()})
    except ValidationError as err:
        lines = []
        for error in err.errors()[:5]:
            where = ".".join(str(p) for p in error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"{where}: {message}" if where else message)
        raise ExperimentError(f"{path}: " + "; ".join(lines)) from None
    plan(experiment, quick=False, source=str(path))
    plan(experiment, quick=True, source=str(path))
    return experiment


def find_experiment(name_or_path: str) -> Path:
    """The spec file of a bundled experiment by name, or a spec file's path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml"):
        return candidate
    path = experiments_dir() / f"{name_or_path}.yaml"
    if not path.is_file():
        known = ", ".join(p.stem for p in list_experiments()) or "none"
        raise ExperimentError(f"{name_or_path}: no such experiment (known: {known}; or give a spec file)")
    return path


def list_experiments() -> list[Path]:
    """The bundled experiment specs, by name."""
    return sorted(experiments_dir().glob("*.yaml"))


# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Plan:
    """What an experiment runs: the base scenario with its fixed overrides, the arms in order,
    the reference arm, the schemes and the replications (the full or the quick version)."""

    raw: dict  # the base scenario with the experiment's set (and quick.set) applied
    fixed: tuple[str, ...]  # those overrides, in order
    arms: tuple[Arm, ...]
    reference: str
    schemes: tuple[str, ...]
    replications: int
    quick: bool

    def schemes_of(self, arm: Arm) -> tuple[str, ...]:
        return tuple(arm.schemes) if arm.schemes is not None else self.schemes


def plan(experiment: Experiment, quick: bool, source: str | None = None) -> Plan:
    """The arms, schemes and replications of the full or quick version, checked: every arm's
    overrides give a valid scenario, and the checks name arms and schemes that run.
    ExperimentError names the spec file and the key."""
    where = source or str(experiment.spec_file or experiment.name)
    fixed = (*experiment.set, *(experiment.quick.set if quick else ()))
    raw = _base_with(experiment, fixed, where)
    defined = tuple(validate(copy.deepcopy(raw), source=str(experiment.base)).scheme_names)
    schemes = experiment.schemes or defined
    for k, scheme in enumerate(schemes):
        if scheme not in defined:
            raise ExperimentError(f"{where}: schemes.{k}: the base scenario has no {scheme!r} block")
    arms, reference = _arms(experiment, raw, schemes, where)
    if quick and experiment.quick.arms is not None:
        names = [a.name for a in arms]
        for k, name in enumerate(experiment.quick.arms):
            if name not in names:
                raise ExperimentError(f"{where}: quick.arms.{k}: no arm {name!r} (arms: {', '.join(names)})")
        if reference not in experiment.quick.arms:
            raise ExperimentError(f"{where}: quick.arms: must keep the reference arm {reference!r}")
        arms = tuple(a for a in arms if a.name in experiment.quick.arms)
    found = Plan(
        raw=raw,
        fixed=fixed,
        arms=arms,
        reference=reference,
        schemes=tuple(schemes),
        replications=experiment.quick.replications if quick else experiment.replications,
        quick=quick,
    )
    _check_arms(found, str(experiment.base), where)
    _check_checks(experiment, found, where)
    return found


def _base_with(experiment: Experiment, fixed: Sequence[str], where: str) -> dict:
    try:
        raw = read_yaml(experiment.base)
    except ScenarioError as err:
        raise ExperimentError(f"{where}: base: {err}") from None
    for k, override in enumerate(fixed):
        try:
            apply_override(raw, override)
        except ScenarioError as err:
            raise ExperimentError(f"{where}: set.{k}: {err}") from None
    try:
        validate(copy.deepcopy(raw), source=str(experiment.base))
    except ScenarioError as err:
        raise ExperimentError(f"{where}: base with set: {err}") from None
    return raw


def _arms(
    experiment: Experiment, raw: dict, schemes: Sequence[str], where: str
) -> tuple[tuple[Arm, ...], str]:
    """The arms of the design, and the reference arm's name."""
    design = experiment.design
    if design.parameter is not None:
        p = design.parameter
        arms = tuple(
            Arm(
                name=f"{p.path.rsplit('.', 1)[-1]}={render_value(v)}"[:64],
                label=f"{p.label or p.path} = {render_value(v)}",
                overrides=(f"{p.path}={render_value(v)}",),
                x=float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None,
            )
            for v in p.values
        )
    elif design.arms is not None:
        arms = design.arms
    elif design.variants is not None:
        arms, reference = _variant_arms(design.variants, raw, str(experiment.base), where)
        return arms, experiment.reference or reference
    elif design.budgets is not None:
        from simulation.experiments.cost_curve import level_overrides

        arms = tuple(
            Arm(
                name=f"budget-x{m:g}", label=f"budget x{m:g}", overrides=level_overrides(raw, schemes, m), x=m
            )
            for m in design.budgets
        )
    else:
        arms = _decompose_arms(design.decompose == "shapley")
    names = [a.name for a in arms]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ExperimentError(f"{where}: design: the arm name {repeated[0]!r} is used twice")
    reference = experiment.reference or arms[0].name
    if reference not in names:
        raise ExperimentError(f"{where}: reference: no arm {reference!r} (arms: {', '.join(names)})")
    return arms, reference


def _variant_arms(path: Path, raw: dict, source: str, where: str) -> tuple[tuple[Arm, ...], str]:
    from simulation.experiments import variants as va

    try:
        spec = va.load_variants(path)
        va.check(raw, source, spec, str(path))
    except ScenarioError as err:
        raise ExperimentError(f"{where}: design.variants: {err}") from None
    arms = tuple(
        Arm(name=v.name, label=v.title, overrides=v.overrides, schemes=v.schemes) for v in spec.variants
    )
    return arms, spec.reference


def decompose_arm_name(configuration: frozenset[str]) -> str:
    """An arm's name for a decomposition configuration: the factors removed, or ``as-written``."""
    from simulation.experiments.decompose import FACTORS

    removed = [f.name for f in FACTORS if f.name in configuration]
    return "no-" + "+".join(removed) if removed else "as-written"


def _decompose_arms(shapley: bool) -> tuple[Arm, ...]:
    from simulation.experiments.decompose import FACTORS, configurations, overrides_of

    return tuple(
        Arm(name=decompose_arm_name(c), overrides=tuple(overrides_of(c, FACTORS)))
        for c in configurations(FACTORS, shapley)
    )


def _check_arms(found: Plan, source: str, where: str) -> None:
    from simulation.experiments.paired import build_scenario

    for k, arm in enumerate(found.arms):
        try:
            build_scenario(found.raw, source, arm.overrides)
        except ScenarioError as err:
            raise ExperimentError(f"{where}: arm {k} ({arm.name}): {err}") from None
        for scheme in found.schemes_of(arm):
            if scheme not in found.schemes:
                raise ExperimentError(
                    f"{where}: arm {arm.name}: scheme {scheme!r} is not one the experiment runs"
                )


def _check_checks(experiment: Experiment, found: Plan, where: str) -> None:
    names = [a.name for a in found.arms]
    for k, check in enumerate(experiment.checks):
        at = f"{where}: checks.{k} ({check.name})"
        for name in check.arm or ():
            if name not in names:
                if found.quick and experiment.quick.arms is not None:
                    continue  # a check on an arm the quick version leaves out is reported as not run
                raise ExperimentError(f"{at}: arm: no arm {name!r} (arms: {', '.join(names)})")
        if check.scheme not in found.schemes:
            raise ExperimentError(f"{at}: scheme: the experiment does not run {check.scheme!r}")
        if check.versus is not None and check.versus.arm is not None and check.versus.arm not in names:
            raise ExperimentError(f"{at}: versus.arm: no arm {check.versus.arm!r}")
        versus_scheme = check.versus.scheme if check.versus is not None else None
        if versus_scheme is not None and versus_scheme not in found.schemes:
            raise ExperimentError(f"{at}: versus.scheme: the experiment does not run {versus_scheme!r}")
        if check.kind == "slope":
            axis = [a for a in found.arms if a.x is not None]
            if len(axis) < 2:
                raise ExperimentError(f"{at}: a slope needs at least two arms with an x value")
