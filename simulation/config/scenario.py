"""Scenario files: YAML in, one validated and frozen :class:`Scenario` out.

Every parameter of a run lives in the scenario. Money is in IDR, time in weeks, shares in [0, 1].
Errors never escape as tracebacks: :func:`load_scenario` raises :class:`ScenarioError`, whose message
names the file and the key path (``voucher.credit_idr``) and, for unknown keys, suggests the nearest
valid key.
"""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

Share = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
SHARE_TOLERANCE = 1e-6
SCHEME_BLOCKS = ("voucher", "tender")  # scenario blocks that define a scheme, in default order


def _scheme_name(name: str) -> str:
    if name not in SCHEME_BLOCKS:
        raise ValueError(f"unknown scheme {name!r}; known: {', '.join(SCHEME_BLOCKS)}")
    return name


SchemeName = Annotated[str, AfterValidator(_scheme_name)]


class ScenarioError(ValueError):
    """A scenario (file, override or value) that cannot be run; the message says where and why."""


class Frozen(BaseModel):
    """Base for every scenario block: unknown keys are errors and values cannot change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_sum_to_one(values: list[float], what: str) -> None:
    total = sum(values)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"{what} must sum to 1 (they sum to {total:.6g})")


class Region(Frozen):
    """A region of Indonesia as the labour market sees it."""

    name: str
    population_share: Share
    urban_share: Share
    internet_access: Share = Field(description="share of people with usable mobile internet")
    travel_cost_idr: NonNegative = Field(description="cost of one trip to a training centre, IDR")
    job_finding_shift: float = Field(0.0, description="log-odds shift of the weekly job-finding hazard")


class Sector(Frozen):
    """An occupational sector: its labour demand and its 2020 shock."""

    name: str
    demand_index: Positive = Field(description="vacancies relative to the average sector (1 = average)")
    shock_depth: Share = Field(0.0, description="fall of vacancies at the shock week, share of normal")
    participant_interest_weight: Positive = 1.0


class Intake(Frozen):
    """When applications reach the programme: ``count`` equal batches, ``interval_weeks`` apart
    from ``first_week``; each applicant's batch is drawn at random."""

    count: int = Field(1, ge=1, le=520)
    first_week: int = Field(0, ge=0)
    interval_weeks: int = Field(1, ge=1)


class Population(Frozen):
    """Who applies. Shares are of eligible applicants (CALIBRATION.md, participants).

    The world holds ``size`` simulated people of the programme's target intake (the recipients a
    voucher would select), each standing for ``scale`` = recipients_represented / size real ones,
    plus ``control_per_recipient`` as many applicants beyond it (the never-selected control of a
    voucher lottery; under a tender, more job seekers who may apply). Nothing here depends on a
    scheme: every scheme runs on the same people.
    """

    recipients_represented: Positive = Field(
        description="real people of the target intake the sample stands for"
    )
    control_per_recipient: Annotated[float, Field(ge=0.0, le=5.0)] = Field(
        0.25, description="simulated applicants beyond the target intake, per simulated recipient"
    )
    intake: Intake = Intake()
    female_share: Share
    senior_high_or_more_share: Share
    age_18_35_share: Share
    employed_at_entry_share: Share
    incentive_motivated_share: Share = Field(description="joined mainly for the cash incentive")
    weekly_hours_min: int = Field(4, ge=1, le=80, description="whole hours per week for courses")
    weekly_hours_max: int = Field(20, ge=1, le=80)
    ability_sd: NonNegative = 0.5
    sector_interest_noise: Share = Field(0.3, description="share choosing a sector at random")


class Labour(Frozen):
    """Weekly two-state employment chain (DESIGN §4). Hazards are per week."""

    job_finding_logit: float = Field(description="log-odds of finding a job in a week, baseline")
    job_loss_weekly: Share = Field(description="weekly probability of losing a job")
    senior_high_effect: float = 0.2
    age_18_35_effect: float = 0.1
    demand_elasticity: float = Field(0.8, description="d logit(find) / d log(vacancy index)")
    skill_effect: float = Field(description="d logit(find) / d matched skill")
    skill_protects_job: NonNegative = Field(0.0, description="d log(job loss) / d skill, negative")
    lock_in: Share = Field(0.3, description="fall of the job-finding hazard while in a course")
    shock_week: int = Field(0, ge=0)
    recovery_weeks: int = Field(40, ge=1)
    endline_weeks: int = Field(13, ge=1, description="final weeks averaged for the evaluation")


class ProviderTypeShares(Frozen):
    online_only: Share
    blended: Share
    offline_centre: Share
    public_blk: Share

    @model_validator(mode="after")
    def _sums(self) -> ProviderTypeShares:
        _check_sum_to_one(list(self.model_dump().values()), "provider type shares")
        return self


class ModeShares(Frozen):
    online: Share
    offline: Share
    hybrid: Share

    @model_validator(mode="after")
    def _sums(self) -> ModeShares:
        _check_sum_to_one(list(self.model_dump().values()), "course mode shares")
        return self


class Providers(Frozen):
    """Training providers and their courses at the start of the programme."""

    count: int = Field(ge=1)
    courses_per_provider: Positive = Field(description="mean courses owned by a provider")
    types: ProviderTypeShares
    course_modes: ModeShares
    quality_alpha: Positive = Field(2.0, description="Beta(alpha, beta) of true course quality")
    quality_beta: Positive = 2.0
    hours_min: Positive = Field(6.0, description="minimum course length, hours")
    hours_max: Positive = 20.0
    initial_price_median_idr: Positive
    initial_price_sd_log: NonNegative = 0.5
    marginal_cost_online_idr: NonNegative
    marginal_cost_offline_idr: NonNegative
    fixed_cost_weekly_idr: NonNegative = Field(description="per provider, IDR per week")
    initial_cash_idr: NonNegative
    knightly_share: Share = Field(0.2, description="providers weighting trainee outcomes")
    knightly_weight_idr: NonNegative = Field(
        0.0, description="value a knightly provider puts on one unit of trainee skill, IDR"
    )
    offline_capacity_per_year: NonNegative = Field(
        500.0, description="trainees a provider other than online-only can teach offline per year"
    )
    exit_after_loss_weeks: int = Field(
        12, ge=1, description="weeks over which a provider's summed expected losses make it exit"
    )
    entry_review_weeks: int = Field(8, ge=1)
    entry_rate: NonNegative = Field(0.0, description="entrants per review per unit profit ratio")
    entry_cost_idr: Positive = 1.0e8


class Centre(Frozen):
    """A tier of training centres (public BLKs or private offline centres) that can bid in a
    tender; they sell nothing on the voucher platforms."""

    name: str
    kind: Literal["public_blk", "offline_centre"] = "public_blk"
    count: int = Field(ge=0)
    capacity_per_year: NonNegative = Field(description="trainees per centre per year")
    sectors_taught: int = Field(2, ge=1, description="sectors each centre can teach")
    quality_alpha: Positive = 2.0
    quality_beta: Positive = 2.0
    marginal_cost_idr: NonNegative = Field(description="cost per trainee of an offline course, IDR")
    course_hours: Positive = Field(140.0, description="length of a centre's course, hours")


class Pricing(Frozen):
    """The providers' price-learning rule (see simulation.rules.pricing)."""

    review_weeks: int = Field(4, ge=1)
    step_share: Annotated[float, Field(gt=0.0, le=0.5)] = 0.1
    tolerance_share: Share = Field(0.02, description="profit change treated as noise")


class Platform(Frozen):
    """A digital marketplace that lists and ranks courses."""

    name: str
    participant_share: Share
    commission: Share
    ranking: Literal["popularity", "rating", "price", "sponsored"] = "popularity"
    page_size: int = Field(10, ge=1, le=50)
    affiliated_providers: int = Field(0, ge=0, description="providers owned by the platform")
    listing_share: Share = Field(0.5, description="chance a provider lists on this platform")


class Wave(Frozen):
    count: int = Field(ge=1)
    first_week: int = Field(0, ge=0)
    interval_weeks: int = Field(2, ge=1)


class Incentive(Frozen):
    amount_idr: NonNegative = Field(description="per monthly payment, IDR")
    months: int = Field(ge=0)
    interval_weeks: int = Field(4, ge=1)


class Survey(Frozen):
    amount_idr: NonNegative
    count: int = Field(ge=0)
    response_rate: Share = 0.9
    interval_weeks: int = Field(4, ge=1)


class CommissionCap(Frozen):
    share: Share
    from_week: int = Field(0, ge=0)


class Curation(Frozen):
    enabled: bool = False
    min_quality: Share = 0.3
    review_noise_sd: NonNegative = 0.1


class Voucher(Frozen):
    """The demand-side scheme: credit to participants, courses sold on platforms (DESIGN §3)."""

    budget_idr: Positive
    credit_idr: NonNegative
    price_cap_idr: NonNegative | None = Field(None, description="defaults to the credit")
    topup_allowed: bool = False
    max_topup_idr: NonNegative = 0.0
    purchase_deadline_weeks: int = Field(4, ge=1)
    credit_validity_weeks: int = Field(26, ge=1)
    waves: Wave
    incentive: Incentive
    survey: Survey
    commission_cap: CommissionCap | None = None
    curation: Curation = Curation()
    modes_allowed: tuple[Literal["online", "offline", "hybrid"], ...] = ("online", "offline", "hybrid")
    admin_cost_share: Share = Field(0.0059, description="office cost, share of money paid out")

    @property
    def cap_idr(self) -> float:
        """Highest price a course may list at, IDR."""
        return self.credit_idr if self.price_cap_idr is None else self.price_cap_idr

    @property
    def package_idr(self) -> float:
        """Money committed per recipient: credit, incentive and surveys, IDR."""
        return (
            self.credit_idr
            + self.incentive.amount_idr * self.incentive.months
            + self.survey.amount_idr * self.survey.count
        )


class Tender(Frozen):
    """The supply-side scheme: the office buys seats by tender (DESIGN §3, tender)."""

    budget_idr: Positive
    cycles: int = Field(1, ge=1, description="contract cycles; the budget is split evenly")
    cycle_weeks: int = Field(52, ge=1)
    reference_cost_idr: Positive = Field(description="planning cost per trainee, IDR")
    planning_lag_weeks: int = Field(8, ge=0, description="age of the demand data used to plan")
    forecast_noise_sd: NonNegative = 0.3
    min_seats: int = Field(1, ge=1, description="smallest lot worth tendering, real seats")
    procurement_weeks: int = Field(12, ge=0)
    bid_markup: NonNegative = Field(0.4, description="margin over cost of a bidder with no rivals")
    quality_inflation: NonNegative = Field(0.1, description="declared minus true quality")
    assessment_noise_sd: NonNegative = 0.1
    price_weight: Share = 0.6
    quality_floor: Share = 0.3
    abnormal_share: Share = Field(0.6, description="bids under this share of the median are screened")
    favouritism: Share = Field(0.1, description="chance the award ignores the score")
    monitoring: Share = Field(0.2, description="chance a contract is inspected")
    penalty_idr: NonNegative = Field(description="penalty per trainee per unit of quality shaded, IDR")
    shading_saving_idr: NonNegative = Field(description="cost saved per trainee per unit shaded, IDR")
    payment: Literal["per_trainee", "per_seat", "outcome"] = "per_trainee"
    placement_share: Share = Field(0.0, description="share of the price paid only on placement")
    course_weeks: int = Field(4, ge=1, description="length of one cohort's course")
    awareness_weekly: Share = Field(0.05, description="weekly chance a local job seeker hears of a lot")
    other_sector_apply: Share = Field(0.1, description="chance to apply to a lot outside own sector")
    travel_tolerance_idr: Positive = Field(200000.0, description="travel cost halving take-up, IDR")
    seat_rule: Literal["lottery", "queue"] = "lottery"
    allowance_idr: NonNegative = Field(0.0, description="transport and meal allowance per trainee")
    completion_travel: NonNegative = Field(1.0, description="log-odds lost per travel tolerance")
    past_performance_weight: Share = 0.5
    admin_cost_share: Share = 0.0059


class Choice(Frozen):
    """Utility weights of the shopping logit (simulation.rules.choice). Utility units are arbitrary."""

    outside_utility: float = Field(description="utility of waiting this week")
    outside_shift_per_course: float = Field(1.0, description="extra outside utility per course bought")
    quality_weight: float = 2.0
    relevance_weight: float = 1.0
    demand_weight: float = 0.3
    effort_weight: float = 0.5
    weeks_weight: float = 0.2
    price_signal_weight: NonNegative = Field(0.3, description="per log(price / cap)")
    credit_shadow_value: NonNegative = Field(0.0, description="per credit spent, in credits")
    copay_weight: NonNegative = Field(2.0, description="per top-up, in credits")
    no_internet_penalty: NonNegative = 2.0
    travel_weight: NonNegative = Field(1.0, description="per travel cost, in credits")
    other_courses_shown: int = Field(4, ge=0, le=50)
    revisit_share: Share = Field(
        1.0, description="weekly chance that a holder who has bought a course visits again"
    )


class Completion(Frozen):
    """Log-odds of finishing a course once enrolled."""

    intercept: float
    motivation: float = 0.5
    incentive_pending: float = 1.0
    quality: float = 1.0
    fit: float = 0.5
    effort: float = 1.0


class Ratings(Frozen):
    """Compulsory 1-5 star ratings by completers."""

    leniency: float = Field(0.8, description="stars added to the quality-based rating")
    noise_sd: NonNegative = 0.7
    prior_stars: Annotated[float, Field(ge=1.0, le=5.0)] = Field(
        4.0, description="stars a course without ratings shows"
    )
    prior_count: NonNegative = Field(
        5.0, description="real pseudo-ratings at prior_stars in the displayed mean (not simulated ones)"
    )


class Skill(Frozen):
    """Skill gained from a completed course (DESIGN §3 step 6)."""

    gain_per_quality: NonNegative = 1.0
    diminishing: Share = Field(0.6, description="each further course adds this share of the last")
    cross_sector_match: Share = Field(0.3, description="value of skill outside one's own sector")


class Scenario(Frozen):
    """One complete, validated description of a world and the schemes to run on it."""

    name: str
    description: str = ""
    seed: int = Field(0, ge=0)
    weeks: int = Field(ge=1, le=520)
    size: int = Field(ge=10, le=50_000_000, description="simulated recipients")
    schemes: tuple[SchemeName, ...] | None = Field(
        None, description="schemes to run, by block name, in order"
    )
    regions: tuple[Region, ...] = Field(min_length=1)
    sectors: tuple[Sector, ...] = Field(min_length=1)
    population: Population
    labour: Labour
    providers: Providers
    pricing: Pricing = Pricing()
    platforms: tuple[Platform, ...] = Field(min_length=1)
    choice: Choice
    completion: Completion
    ratings: Ratings = Ratings()
    skill: Skill = Skill()
    centres: tuple[Centre, ...] = ()
    voucher: Voucher | None = None
    tender: Tender | None = None

    @field_validator("regions")
    @classmethod
    def _population_shares(cls, regions: tuple[Region, ...]) -> tuple[Region, ...]:
        _check_sum_to_one([r.population_share for r in regions], "population_share values")
        return regions

    @field_validator("platforms")
    @classmethod
    def _participant_shares(cls, platforms: tuple[Platform, ...]) -> tuple[Platform, ...]:
        _check_sum_to_one([p.participant_share for p in platforms], "participant_share values")
        return platforms

    @field_validator("schemes")
    @classmethod
    def _known_schemes(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if names and len(set(names)) != len(names):
            raise ValueError("a scheme is listed twice")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        for scheme in self.scheme_names:
            if getattr(self, scheme) is None:
                raise ValueError(f"scheme '{scheme}' is listed but has no '{scheme}:' block")
        if not self.scheme_names:
            raise ValueError("the scenario defines no scheme (add a 'voucher:' or 'tender:' block)")
        if self.labour.endline_weeks > self.weeks:
            raise ValueError("labour.endline_weeks exceeds weeks")
        if self.population.weekly_hours_min > self.population.weekly_hours_max:
            raise ValueError("population.weekly_hours_min exceeds weekly_hours_max")
        return self

    @property
    def scheme_names(self) -> list[str]:
        """Schemes to run, in order: the listed ones, else every scheme block present."""
        if self.schemes is not None:
            return list(self.schemes)
        return [name for name in SCHEME_BLOCKS if getattr(self, name) is not None]

    @property
    def scale(self) -> float:
        """Real recipients represented by one simulated recipient."""
        return self.population.recipients_represented / self.size


# --------------------------------------------------------------------------- loading and errors


def load_scenario(path: str | Path, overrides: list[str] | None = None, **top_level: Any) -> Scenario:
    """Read, override and validate a scenario file.

    ``overrides`` are ``KEY.PATH=VALUE`` strings (VALUE parsed as YAML); ``top_level`` sets top-level
    keys such as ``seed`` or ``size`` (None values are ignored). Raises :class:`ScenarioError`.
    """
    path = Path(path)
    raw = read_yaml(path)
    for override in overrides or []:
        apply_override(raw, override)
    for key, value in top_level.items():
        if value is not None:
            raw[key] = value
    return validate(raw, source=str(path))


def read_yaml(path: Path, what: str = "scenario", error: type[Exception] = ScenarioError) -> dict[str, Any]:
    """Parse a YAML mapping with the safe loader, or raise ``error`` naming the file (``what`` is
    the kind of file, for the message)."""
    if not path.is_file():
        raise error(f"{path}: no such {what} file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise error(f"{path}: malformed YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{path}: cannot read the file: {err}") from None
    if not isinstance(data, dict):
        raise error(f"{path}: a {what} must be a YAML mapping of keys to values")
    return data


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Set ``KEY.PATH=VALUE`` in a raw scenario mapping (list items by index: ``regions.0.name``)."""
    key_path, sep, text = override.partition("=")
    if not sep or not key_path.strip():
        raise ScenarioError(f"--set {override!r}: expected KEY.PATH=VALUE, e.g. voucher.credit_idr=5e5")
    try:
        value = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError:
        raise ScenarioError(f"--set {override!r}: the value is not valid YAML") from None
    keys = key_path.strip().split(".")
    node: Any = raw
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ScenarioError(f"--set {override!r}: {where}: no list item {key}")
            key = int(key)
        elif not isinstance(node, dict):
            raise ScenarioError(f"--set {override!r}: {where}: cannot set inside a value")
        if last:
            node[key] = value
        else:
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]


def validate(raw: dict[str, Any], source: str = "<scenario>") -> Scenario:
    """Validate a raw mapping into a Scenario, turning pydantic errors into one clear message."""
    try:
        return Scenario.model_validate(copy.deepcopy(raw))
    except ValidationError as err:
        lines = [_describe(error) for error in err.errors()]
        raise ScenarioError(f"{source}: " + "; ".join(lines)) from None


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(error["loc"])
    path = ".".join(str(part) for part in loc) or "(top level)"
    if error["type"] == "extra_forbidden":
        hint = _did_you_mean(loc)
        return f"{path}: unknown key{hint}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or error["type"] == "missing" else f" (got {got!r})"
    return f"{path}: {message}{shown}"


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """Suggest the closest valid key for an unknown key at ``loc``."""
    model: Any = Scenario
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if hasattr(model, "model_fields") else None
        if field is None:
            return ""
        model = _model_of(field.annotation)
        if model is None:
            return ""
    valid = list(model.model_fields)
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; valid keys here: {', '.join(valid)}"


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The BaseModel inside an annotation such as ``list[Region]`` or ``Voucher | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def scenario_dir() -> Path:
    """The folder of bundled scenario files (``scenarios/`` beside the package)."""
    return Path(__file__).resolve().parents[2] / "scenarios"
