"""Scenario files: YAML in, one validated and frozen :class:`Scenario` out.

Every parameter of a run lives in the scenario. Money is in IDR, time in weeks, shares in [0, 1].
Errors never escape as tracebacks: :func:`load_scenario` raises :class:`ScenarioError`, whose message
names the file and the key path (``voucher.credit_idr``) and, for unknown keys, suggests the nearest
valid key.

What validation guarantees (issue 8, "hard to break"):

* Numbers are finite and strict: NaN, infinity and ``true``/``false`` are refused where a number
  is expected; a whole number is accepted for a real one, and ``1e6`` (which YAML 1.1 reads as a
  string) is read as a number. Every real value has a documented range (the ``ge``/``le`` of its
  field, from the constants below): money within [0, ``MAX_IDR``], log-odds coefficients within
  ``LOGIT_LIMIT``, utility weights within ``UTILITY_LIMIT``, durations within ``MAX_WEEKS``, and
  so on, chosen so that no run can overflow (``exp`` of a log-odds stays below float32's limit).
* Shares that must sum to one are accepted within ``SHARE_TOLERANCE`` and then rescaled to sum
  to one to machine precision (numpy's samplers are stricter than the tolerance); others are
  refused.
* Sizes are bounded by hard caps where one is natural (regions, sectors, platforms, providers,
  weeks, waves...) and the whole run by an estimate of the memory it needs
  (:func:`memory_estimate`) against ``MEMORY_LIMIT_BYTES``.
* YAML is read with limits (:func:`read_yaml`): at most ``MAX_FILE_BYTES``, ``MAX_DEPTH`` levels
  of nesting, ``MAX_VALUES`` values once aliases are expanded (so an alias bomb is refused at
  once), no alias inside itself, no duplicate keys (the second is refused, naming the key and
  both lines) and only the safe tags.
* The scenario's ``name`` names its results folder: it must be a plain name (:data:`NAME_RULE`),
  the rule sweep names follow too.
"""

from __future__ import annotations

import copy
import difflib
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from simulation.config.reading import (  # noqa: F401  (re-exported: the scenario's reader and error)
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
    LimitedLoader,
    ScenarioError,
    YamlLimitError,
    _clip,
    parse_yaml,
    read_yaml,
    scenario_dir,
)

# --------------------------------------------------------------------------- limits

SHARE_TOLERANCE = 1e-6  # shares that must sum to 1 may miss it by this much (then are rescaled)
SCHEME_BLOCKS = ("voucher", "tender")  # scenario blocks that define a scheme, in default order

MAX_WEEKS = 520  # ten years: the longest run, and the bound of every duration or week number
MAX_SIZE = 50_000_000  # simulated recipients
MAX_SEED = 2**63 - 1
MAX_PEOPLE = 1e9  # real people (recipients represented, capacities, seats): above Indonesia's 280 m
MAX_IDR = 1e16  # Rp10,000 T, about three years of Indonesia's state budget: every money value
MAX_TRAVEL_IDR = 1e8  # Rp100 m for one trip to a training centre
MIN_ENTRY_COST_IDR = 1e6  # founding a provider costs at least Rp1 m (else entry is unbounded)
MIN_REFERENCE_COST_IDR = 1000.0  # a tender's planning cost per trainee, IDR
LOGIT_LIMIT = 5.0  # |log-odds per unit| of a coefficient (completion, labour)
INTERCEPT_LIMIT = 50.0  # |baseline log-odds| (completion intercept); the job-finding baseline: 30
JOB_FINDING_LIMIT = 30.0
UTILITY_LIMIT = 100.0  # |utility weight| of the shopping logit (Gumbel noise has scale 1)
MAX_SD = 3.0  # standard deviations of log-normal and normal noise
MAX_REGIONS = 100  # regions, sectors and platforms are stored in 8 bits
MAX_SECTORS = 100
MAX_CELLS = 8_000  # regions x sectors: the labour market indexes (cell, 4 groups) in 16 bits
MAX_PLATFORMS = 50
MAX_PAGE = 50  # courses on a platform page, and other courses shown
MAX_PROVIDERS = 100_000  # providers.count, centres per tier, affiliated providers
MAX_CENTRE_TIERS = 100
MAX_COURSES_PER_PROVIDER = 1_000.0
MAX_COURSE_HOURS = 2_000.0
MIN_REFERENCE_HOURS = 1.0  # skill.reference_hours: hours / reference then stays at most 2,000
MAX_TRAVEL_LOGIT = 100.0  # tender.completion_travel x travel cost / travel_tolerance_idr

# Memory a run needs (see memory_estimate); a scenario needing more is refused.
MEMORY_LIMIT_BYTES = 16 * 2**30
BASE_BYTES = 512 * 2**20  # interpreter, libraries, compiled kernels
PERSON_BYTES = 120  # per simulated person: attributes, programme state, labour chain, scheme arrays
PERSON_SECTOR_BYTES = 16  # per person and sector: drawing each person's sector of interest
PERSON_OPTION_BYTES = 4  # per person and course shown in a week (page plus other courses)
COURSE_BYTES = 700  # per course: the catalogue, provider state, sales, outputs
COURSE_CELL_BYTES = 16  # per course and (region, sector): the shopping logit's taste tables
PROVIDER_BYTES = 1_500  # per provider or centre: a Mesa agent
WEEK_CELL_BYTES = 72  # per week and (region, sector): vacancies and job-finding log-odds

MAX_KEY_PATH = MAX_DEPTH  # parts of a --set key path (YAML limits: simulation.config.reading)

NAME_RULE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # scenario and sweep names
MAX_NAME_LENGTH = 100
MAX_LABEL_LENGTH = 200  # names of regions, sectors, platforms and centres tiers
MAX_DESCRIPTION_LENGTH = 10_000
NAME_HELP = (
    "must be a plain name: letters, digits, '_', '.' and '-', starting with a letter or digit, "
    f"at most {MAX_NAME_LENGTH} characters (it names the results folder)"
)
# Strings PyYAML (YAML 1.1) leaves unparsed but a reader means as numbers: 1e6, 1.0e11, -2.5E-3.
EXPONENT_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


# --------------------------------------------------------------------------- value types


def as_number(value: Any) -> Any:
    """``1e6`` and ``1.0e11`` as floats (YAML 1.1 leaves them strings); anything else unchanged."""
    if isinstance(value, str) and EXPONENT_NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


def _whole(value: Any) -> Any:
    value = as_number(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def real_bounds(low: float = -math.inf, high: float = math.inf, *, above: bool = False) -> tuple[Any, ...]:
    """The metadata of a finite real number in [low, high] (in (low, high] if ``above``), for
    ``Annotated[float, *real_bounds(low, high)]``: ints are accepted, booleans and strings (but
    ``1e6``) are not. (Spelt this way, and not as a call in the annotation, so that type checkers
    read the field as a float.)"""
    bound = Field(strict=True, gt=low, le=high) if above else Field(strict=True, ge=low, le=high)
    return (BeforeValidator(as_number), bound)


def whole_bounds(low: int, high: int) -> tuple[Any, ...]:
    """The metadata of a whole number in [low, high], for ``Annotated[int, *whole_bounds(low, high)]``:
    3, 3.0 and 3e0 are accepted; 3.5, true and '3' are not."""
    return (BeforeValidator(_whole), Field(strict=True, ge=low, le=high))


def Real(low: float = -math.inf, high: float = math.inf, *, above: bool = False) -> Any:  # noqa: N802
    """A finite real number in [low, high] (in (low, high] if ``above``), as a type for pydantic:
    ``Annotated[float, *real_bounds(low, high, above=above)]``."""
    return Annotated[float, *real_bounds(low, high, above=above)]


def Whole(low: int, high: int) -> Any:  # noqa: N802
    """A whole number in [low, high], as a type for pydantic: ``Annotated[int, *whole_bounds(low, high)]``."""
    return Annotated[int, *whole_bounds(low, high)]


def safe_name(name: str) -> str:
    """Check a name that becomes a folder name (scenario and sweep names)."""
    if len(name) > MAX_NAME_LENGTH or not NAME_RULE.fullmatch(name):
        raise ValueError(NAME_HELP)
    return name


Share = Annotated[float, *real_bounds(0.0, 1.0)]
Money = Annotated[float, *real_bounds(0.0, MAX_IDR)]  # IDR
PositiveMoney = Annotated[float, *real_bounds(0.0, MAX_IDR, above=True)]
LogOdds = Annotated[float, *real_bounds(-LOGIT_LIMIT, LOGIT_LIMIT)]  # log-odds per unit of a variable
Utility = Annotated[float, *real_bounds(-UTILITY_LIMIT, UTILITY_LIMIT)]
# A utility weight with a sign fixed by its meaning.
Weight = Annotated[float, *real_bounds(0.0, UTILITY_LIMIT)]
Sd = Annotated[float, *real_bounds(0.0, MAX_SD)]
BetaShape = Annotated[float, *real_bounds(0.1, 100.0)]  # a parameter of a Beta distribution
Weeks = Annotated[int, *whole_bounds(1, MAX_WEEKS)]  # a duration
Week = Annotated[int, *whole_bounds(0, MAX_WEEKS)]  # a week number (or a duration that may be zero)
Count = Annotated[int, *whole_bounds(0, MAX_WEEKS)]  # a count of events over a run (payments, surveys)
Seed = Annotated[int, *whole_bounds(0, MAX_SEED)]  # a root seed (also the rule of the CLI's --seed)
Flag = Annotated[bool, Field(strict=True)]
Name = Annotated[str, AfterValidator(safe_name)]


def written_text(text: str, most: int, line_breaks: bool = False) -> str:
    """Check text that is written into the result files (tables, reports): at most ``most``
    characters, valid Unicode (YAML's escapes can make half a character, a lone surrogate such as
    ``"\\ud800"``, which no file can hold) and no control characters (but line breaks and tabs if
    ``line_breaks``)."""
    if len(text) > most:
        raise ValueError(f"at most {most:,} characters, got {len(text):,}")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ValueError("not valid text: it holds half a character (a lone surrogate, e.g. \\ud800)")
    allowed = "\n\t" if line_breaks else ""
    if any((ord(c) < 32 or 127 <= ord(c) < 160) and c not in allowed for c in text):
        raise ValueError("control characters are not allowed")
    return text


Label = Annotated[str, AfterValidator(lambda text: written_text(text, MAX_LABEL_LENGTH))]
Description = Annotated[str, AfterValidator(lambda text: written_text(text, MAX_DESCRIPTION_LENGTH, True))]


def _scheme_name(name: str) -> str:
    if name not in SCHEME_BLOCKS:
        raise ValueError(f"unknown scheme {name!r}; known: {', '.join(SCHEME_BLOCKS)}")
    return name


SchemeName = Annotated[str, AfterValidator(_scheme_name)]


class Frozen(BaseModel):
    """Base for every scenario block: unknown keys are errors, values cannot change, and no float
    is NaN or infinite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def normalised_shares(values: list[float], what: str) -> list[float]:
    """``values`` rescaled to sum to 1 to machine precision, if they sum to 1 within
    SHARE_TOLERANCE (values already within a few rounding errors are returned as they are);
    else ValueError."""
    total = math.fsum(values)
    if abs(total - 1.0) > SHARE_TOLERANCE:
        raise ValueError(f"{what} must sum to 1 (they sum to {total:.6g})")
    if abs(total - 1.0) <= 1e-12:
        return values
    return [value / total for value in values]


class _Shares(Frozen):
    """A block of shares summing to 1 (rescaled when within tolerance)."""

    what: ClassVar[str] = "shares"

    @model_validator(mode="after")
    def _sums(self) -> _Shares:
        names = list(type(self).model_fields)
        values = normalised_shares([getattr(self, name) for name in names], self.what)
        for name, value in zip(names, values, strict=True):
            object.__setattr__(self, name, value)  # still inside validation: nothing has seen it
        return self


class Region(Frozen):
    """A region of Indonesia as the labour market sees it."""

    name: Label
    population_share: Share
    urban_share: Share
    internet_access: Share = Field(description="share of people with usable mobile internet")
    travel_cost_idr: Annotated[float, *real_bounds(0.0, MAX_TRAVEL_IDR)] = Field(
        description="cost of one trip to a training centre, IDR"
    )
    job_finding_shift: LogOdds = Field(0.0, description="log-odds shift of the weekly job-finding hazard")


class Sector(Frozen):
    """An occupational sector: its labour demand and its 2020 shock."""

    name: Label
    demand_index: Annotated[float, *real_bounds(0.01, 100.0)] = Field(
        description="vacancies relative to the average sector (1 = average)"
    )
    shock_depth: Annotated[float, *real_bounds(0.0, 0.99)] = Field(
        0.0, description="fall of vacancies at the shock week, share of normal (vacancies never vanish)"
    )
    participant_interest_weight: Annotated[float, *real_bounds(0.01, 100.0)] = 1.0


class Intake(Frozen):
    """When applications reach the programme: ``count`` equal batches, ``interval_weeks`` apart
    from ``first_week``; each applicant's batch is drawn at random. The last batch arrives by
    week MAX_WEEKS."""

    count: Annotated[int, *whole_bounds(1, MAX_WEEKS)] = 1
    first_week: Week = 0
    interval_weeks: Weeks = 1

    @model_validator(mode="after")
    def _last_batch(self) -> Intake:
        last = self.first_week + self.interval_weeks * (self.count - 1)
        if last > MAX_WEEKS:
            raise ValueError(
                f"the last batch would arrive in week {last} (first_week + interval_weeks x "
                f"(count - 1)); at most {MAX_WEEKS}"
            )
        return self


class Population(Frozen):
    """Who applies. Shares are of eligible applicants (CALIBRATION.md, participants).

    The world holds ``size`` simulated people of the programme's target intake (the recipients a
    voucher would select), each standing for ``scale`` = recipients_represented / size real ones,
    plus ``control_per_recipient`` as many applicants beyond it (the never-selected control of a
    voucher lottery; under a tender, more job seekers who may apply). Nothing here depends on a
    scheme: every scheme runs on the same people.
    """

    recipients_represented: Annotated[float, *real_bounds(1.0, MAX_PEOPLE)] = Field(
        description="real people of the target intake the sample stands for"
    )
    control_per_recipient: Annotated[float, *real_bounds(0.0, 5.0)] = Field(
        0.25, description="simulated applicants beyond the target intake, per simulated recipient"
    )
    intake: Intake = Intake()
    female_share: Share
    senior_high_or_more_share: Share
    age_18_35_share: Share
    employed_at_entry_share: Share
    incentive_motivated_share: Share = Field(description="joined mainly for the cash incentive")
    weekly_hours_min: Annotated[int, *whole_bounds(1, 80)] = Field(
        4, description="whole hours per week for courses"
    )
    weekly_hours_max: Annotated[int, *whole_bounds(1, 80)] = 20
    ability_sd: Annotated[float, *real_bounds(0.0, 2.0)] = Field(
        0.5, description="sd of log ability (log-normal, mean 1)"
    )
    sector_interest_noise: Share = Field(0.3, description="share choosing a sector at random")
    self_employed_at_entry_share: Share = Field(
        0.0,
        description="share of those working at entry who run a business (self-employed) rather than "
        "work for a wage; drawn from its own stream (world:self_employment)",
    )


class Displacement(Frozen):
    """Trained job seekers crowding others out of the vacancies of their cell (sector x region).

    With it on, each week and cell the treated paths' wage-finding hazards are scaled down by
    (H0 / H1) ** crowding whenever H1 > H0, where H0 is the sum of the twins' wage hazards over
    the twins not working and H1 the same over the treated paths not working (see
    ``simulation.model.labour``). Only programme applicants are simulated, so the crowding falls
    on them. Crepon, Duflo, Gurgand, Rathelot & Zamora (2013, QJE) found that job-search help
    displaced other job seekers, most in weak labour markets."""

    enabled: Flag = Field(False, description="compete for the cell's vacancies (off: no displacement)")
    crowding: Share = Field(
        0.5,
        description="elasticity of the treated paths' wage hazards to the cell's excess hazard, 0-1: "
        "1 keeps the cell's expected wage hires at the no-programme level, 0 is no displacement",
    )


class Labour(Frozen):
    """Weekly employment chain (DESIGN §4): not working, working for a wage, or running a business.
    Hazards are per week. The business and cash parameters default to the two-state model (no
    business starts, cash without effect)."""

    job_finding_logit: Annotated[float, *real_bounds(-JOB_FINDING_LIMIT, JOB_FINDING_LIMIT)] = Field(
        description="log-odds of finding a job in a week, baseline"
    )
    job_loss_weekly: Share = Field(description="weekly probability of losing a job")
    senior_high_effect: LogOdds = 0.2
    age_18_35_effect: LogOdds = 0.1
    demand_elasticity: Annotated[float, *real_bounds(-3.0, 3.0)] = Field(
        0.8, description="d logit(find) / d log(vacancy index)"
    )
    skill_effect: Annotated[float, *real_bounds(0.0, 2 * LOGIT_LIMIT)] = Field(
        description="d logit(find) / d matched skill"
    )
    skill_protects_job: Annotated[float, *real_bounds(0.0, 2 * LOGIT_LIMIT)] = Field(
        0.0, description="d log(job loss) / d skill, negative"
    )
    lock_in: Share = Field(0.3, description="fall of the job-finding hazard while in a course")
    shock_week: Week = 0
    recovery_weeks: Weeks = 40
    endline_weeks: Weeks = Field(13, description="final weeks averaged for the evaluation")
    business_start_weekly: Annotated[float, *real_bounds(0.0, 0.5)] = Field(
        0.0,
        description="weekly probability that someone not working, without skill or programme cash, "
        "starts a business (0: no businesses, the two-state model)",
    )
    business_exit_weekly: Share = Field(0.0, description="weekly probability a business closes")
    business_skill_effect: Annotated[float, *real_bounds(0.0, 2 * LOGIT_LIMIT)] = Field(
        0.0, description="d logit(business start) / d matched skill"
    )
    cash_business_effect: LogOdds = Field(
        0.0,
        description="d logit(business start) / d liquidity, per million IDR of programme cash held: "
        "cash eases the capital constraint of starting a small business",
    )
    cash_search_effect: LogOdds = Field(
        0.0, description="d logit(wage job finding) / d liquidity, per million IDR: cash pays for search"
    )
    cash_half_life_weeks: Annotated[float, *real_bounds(0.0, MAX_WEEKS, above=True)] = Field(
        4.0, description="weeks in which half of the programme cash a person holds is spent"
    )
    displacement: Displacement = Displacement()


class ProviderTypeShares(_Shares):
    what: ClassVar[str] = "provider type shares"

    online_only: Share
    blended: Share
    offline_centre: Share
    public_blk: Share


class ModeShares(_Shares):
    what: ClassVar[str] = "course mode shares"

    online: Share
    offline: Share
    hybrid: Share


class QualitySaving(Frozen):
    """Cost a provider saves per trainee per unit of quality shaded (0-1), by course mode, IDR
    (``simulation.rules.quality``). The same for every provider under every scheme; 0 (the
    default) means nothing is saved by shading, so nobody shades."""

    online: Money = Field(0.0, description="online course, IDR per trainee per unit of quality")
    offline: Money = Field(0.0, description="offline course (and any course a tender buys), IDR")
    hybrid: Money = Field(0.0, description="hybrid course, IDR per trainee per unit of quality")


class Providers(Frozen):
    """Training providers and their courses at the start of the programme."""

    count: Annotated[int, *whole_bounds(1, MAX_PROVIDERS)]
    courses_per_provider: Annotated[float, *real_bounds(0.0, MAX_COURSES_PER_PROVIDER, above=True)] = Field(
        description="mean courses owned by a provider"
    )
    types: ProviderTypeShares
    course_modes: ModeShares
    quality_alpha: BetaShape = Field(2.0, description="Beta(alpha, beta) of true course quality")
    quality_beta: BetaShape = 2.0
    hours_min: Annotated[float, *real_bounds(0.0, MAX_COURSE_HOURS, above=True)] = Field(
        6.0, description="minimum course length, hours"
    )
    hours_max: Annotated[float, *real_bounds(0.0, MAX_COURSE_HOURS, above=True)] = 20.0
    initial_price_median_idr: PositiveMoney
    initial_price_sd_log: Sd = 0.5
    marginal_cost_online_idr: Money
    marginal_cost_offline_idr: Money
    fixed_cost_weekly_idr: Money = Field(description="per provider, IDR per week")
    initial_cash_idr: Money
    knightly_share: Share = Field(0.2, description="providers weighting trainee outcomes")
    knightly_weight_idr: Money = Field(
        0.0, description="value a knightly provider puts on one unit of trainee skill, IDR"
    )
    quality_saving_idr: QualitySaving = Field(
        QualitySaving(), description="cost saved per trainee per unit of quality shaded, by mode, IDR"
    )
    reputation_weeks: Weeks = Field(
        4,
        description="weeks over which a voucher seller expects lower stars to cost it sales, "
        "against the review period over which shading saves it money",
    )
    offline_capacity_per_year: Annotated[float, *real_bounds(0.0, MAX_PEOPLE)] = Field(
        500.0, description="trainees a provider other than online-only can teach offline per year"
    )
    exit_after_loss_weeks: Weeks = Field(
        12, description="weeks over which a provider's summed expected losses make it exit"
    )
    entry_review_weeks: Weeks = 8
    entry_rate: Annotated[float, *real_bounds(0.0, 10.0)] = Field(
        0.0, description="entrants per review per unit profit ratio"
    )
    entry_cost_idr: Annotated[float, *real_bounds(MIN_ENTRY_COST_IDR, MAX_IDR)] = 1.0e8


class Centre(Frozen):
    """A tier of training centres (public BLKs or private offline centres) that can bid in a
    tender; they sell nothing on the voucher platforms."""

    name: Label
    kind: Literal["public_blk", "offline_centre"] = "public_blk"
    count: Annotated[int, *whole_bounds(0, MAX_PROVIDERS)]
    capacity_per_year: Annotated[float, *real_bounds(0.0, MAX_PEOPLE)] = Field(
        description="trainees per centre per year"
    )
    sectors_taught: Annotated[int, *whole_bounds(1, MAX_SECTORS)] = Field(
        2, description="sectors each centre can teach"
    )
    quality_alpha: BetaShape = 2.0
    quality_beta: BetaShape = 2.0
    marginal_cost_idr: Money = Field(description="cost per trainee of an offline course, IDR")
    course_hours: Annotated[float, *real_bounds(0.0, MAX_COURSE_HOURS, above=True)] = Field(
        140.0, description="length of a centre's course, hours"
    )
    mission_weight_idr: Money = Field(
        0.0,
        description="value a centre of the tier puts on one unit of its trainees' skill (mission), "
        "IDR per trainee per unit of quality; 0 for a for-profit tier",
    )


class Pricing(Frozen):
    """The providers' price-learning rule (see simulation.rules.pricing)."""

    review_weeks: Weeks = 4
    step_share: Annotated[float, *real_bounds(0.0, 0.5, above=True)] = 0.1
    tolerance_share: Share = Field(
        0.0,
        description="a price move that lowers the objective by less than this share is kept; the "
        "evidence is noise-free (both prices are judged on the same shoppers), so 0 is natural",
    )


class Platform(Frozen):
    """A digital marketplace that lists and ranks courses."""

    name: Label
    participant_share: Share
    commission: Share
    ranking: Literal["popularity", "rating", "price", "sponsored"] = "popularity"
    page_size: Annotated[int, *whole_bounds(1, MAX_PAGE)] = 10
    affiliated_providers: Annotated[int, *whole_bounds(0, MAX_PROVIDERS)] = Field(
        0, description="providers owned by the platform"
    )
    listing_share: Share = Field(0.5, description="chance a provider lists on this platform")


class Wave(Frozen):
    count: Annotated[int, *whole_bounds(1, MAX_WEEKS)]
    first_week: Week = 0
    interval_weeks: Weeks = 2


class Incentive(Frozen):
    amount_idr: Money = Field(description="per monthly payment, IDR")
    months: Count
    interval_weeks: Weeks = 4


class Survey(Frozen):
    amount_idr: Money
    count: Count
    response_rate: Share = 0.9
    interval_weeks: Weeks = 4


class CommissionCap(Frozen):
    share: Share
    from_week: Week = 0


class Curation(Frozen):
    """The programme office's review of courses: at listing, and (``rereview_weekly`` > 0) again
    while they sell, of the quality they deliver; a course whose noisy review falls below
    ``min_quality`` is not listed, or is delisted."""

    enabled: Flag = False
    min_quality: Share = 0.3
    review_noise_sd: Sd = 0.1
    rereview_weekly: Share = Field(
        0.0,
        description="weekly chance a listed course's delivered quality is reviewed again; below "
        "min_quality it is delisted (0: reviewed only when listed)",
    )
    cost_per_review_idr: Money = Field(
        0.0,
        description="real IDR the office spends per course reviewed (at listing and at each "
        "re-review), booked in the ledger's ``curation`` inside treasury out; assumption",
    )


def _distinct(values: tuple[Any, ...]) -> tuple[Any, ...]:
    for k, value in enumerate(values):
        if value in values[:k]:
            raise ValueError(f"{value!r} is listed twice")
    return values


Mode = Literal["online", "offline", "hybrid"]


class RatingGaming(Frozen):
    """Ratings that can be gamed (issue 10, point 3; ``simulation.rules.rating_gaming``). All off
    (0) by default, which reproduces honest ratings bit for bit. No public figure exists on fake
    or pressured ratings in Kartu Prakerja: every value is an assumption, to be stated."""

    leniency_sd: Annotated[float, *real_bounds(0.0, 5.0)] = Field(
        0.0,
        description="sd of a course's own leniency, stars added to every rating of the course (its "
        "audience rates it kindly, or it asks for 5 stars); drawn once per course; assumption",
    )
    fake_share_for_profit: Share = Field(
        0.0,
        description="share of the ratings of a for-profit provider's course (mission weight 0) that "
        "are not genuine (bought or pressured): 5 stars whatever the quality; assumption",
    )
    fake_share_mission: Share = Field(
        0.0,
        description="the same share for a provider with a mission weight (knightly, public); assumption",
    )
    filter_rate: Share = Field(
        0.0,
        description="share of the non-genuine ratings the platforms detect and remove before they are "
        "shown; assumption",
    )


class FreeAlternatives(Frozen):
    """Course content that is free elsewhere (issue 10 point 5; ``simulation.rules.free_content``).
    A course's content is free elsewhere with probability ``free_share`` (one keyed draw per
    course); a buyer then values such a course by what it adds over the free material: the quality
    term of its appeal is ``quality_weight x max(expected quality - free_quality, 0) +
    certificate_value``. Off by default (the model before issue 10)."""

    enabled: Flag = False
    free_share: Share = Field(
        0.89,
        description="chance a course's content is available free online; sourced: 89% of a 327-course "
        "sample (KPK review, June 2020; CALIBRATION.md 'Quality, gaming and leakage')",
    )
    free_quality: Share = Field(
        0.4,
        description="expected quality (0-1, the scale of expected quality from stars) of the free "
        "material a buyer can use instead; assumption",
    )
    certificate_value: Weight = Field(
        0.0,
        description="utility (logit units) of the programme's certificate, which unlocks the incentive "
        "and which free material lacks, added to a free-content course's appeal; assumption",
    )
    skill_counted: Share = Field(
        1.0,
        description="share of the part of a free-content course's skill that free material could "
        "teach (min(quality, free_quality)) that counts as gained: 1, the full gain (nobody studies "
        "the free material without the programme); 0, only what it adds; assumption",
    )


CounsellingRegime = Literal["maximum", "guided", "structured"]


class Counselling(Frozen):
    """Counselling before purchase (issue 10 point 10; ``simulation.rules.counselling``): the arms
    of the US WIA ITA experiment (CALIBRATION.md). ``maximum`` (counselling optional, modelled as
    none: the model before issue 10); ``guided`` (mandatory counselling, the customer decides): the
    expected quality a shopper reads becomes (1 - information_weight) x stars-based + information_
    weight x the counsellor's noisy reading of true quality, and local demand weighs
    ``extra_demand_weight`` more; ``structured``: guided, and the counsellor vetoes courses whose
    reading is below ``veto_min_quality`` or whose sector's local vacancies are below
    ``veto_min_demand_ratio`` x the region's mean over sectors. Every recipient of a counselled
    regime is counselled once, at selection."""

    regime: CounsellingRegime = "maximum"
    information_weight: Share = Field(
        0.5, description="weight of the counsellor's reading in the expected quality; assumption"
    )
    reading_noise_sd: Sd = Field(
        0.15, description="sd of the counsellor's reading of a course's true quality (0-1); assumption"
    )
    extra_demand_weight: Weight = Field(
        0.3, description="utility added per log(local vacancies) in counselled regimes; assumption"
    )
    veto_min_quality: Share = Field(
        0.3, description="structured: courses read below this quality (0-1) are vetoed; assumption"
    )
    veto_min_demand_ratio: Annotated[float, *real_bounds(0.0, 10.0)] = Field(
        0.5,
        description="structured: courses in a sector whose local vacancies are below this multiple of "
        "the region's mean over sectors are vetoed; assumption",
    )
    cost_per_recipient_idr: Money = Field(
        300_000.0,
        description="cost of counselling one recipient, real IDR (a few ITA-style sessions at local "
        "counsellor wages); assumption",
    )
    delay_weeks: Week = Field(
        0,
        description="weeks of counselling before a recipient can first buy, under guided or structured "
        "choice (the purchase deadline moves by as much); assumption",
    )

    @property
    def active(self) -> bool:
        """True when recipients are counselled (guided or structured)."""
        return self.regime != "maximum"

    @property
    def cost_idr(self) -> float:
        """Cost per recipient, real IDR: 0 under maximum choice."""
        return self.cost_per_recipient_idr if self.active else 0.0

    @property
    def wait_weeks(self) -> int:
        """Weeks of counselling before a first purchase: 0 under maximum choice."""
        return self.delay_weeks if self.active else 0


class OutcomePay(Frozen):
    """Outcome-based pay (issue 10, point 11; ``simulation.rules.outcome_pay``): a share of the
    seller's receipts withheld at purchase and paid only if the trainee completes and is employed
    (wage or business) ``placement_weeks`` after completing; else returned to the treasury. Off by
    default."""

    enabled: Flag = False
    share: Share = Field(
        0.1,
        description="share of the seller's receipts (price net of commission) paid only on placement; "
        "0.1 as Chile Joven's +10% placement bonus (CALIBRATION.md)",
    )
    placement_weeks: Weeks = Field(
        13, description="weeks after completion at which placement is checked; assumption (3 months)"
    )


ProviderKind = Literal["online_only", "blended", "offline_centre", "public_blk"]


class FakeCompletion(Frozen):
    """Fake completion (issue 10, point 1; ``simulation.rules.integrity``): at enrolment a
    participant and the course's provider may collude to certify the course without training. Off
    by default. Every value is an assumption (no public prevalence figure exists; BPK 2023 found
    weak attendance control, CALIBRATION.md "Quality, gaming and leakage")."""

    enabled: Flag = False
    honesty_cost_median_idr: Money = Field(
        2_500_000.0,
        description="median of a person's cost of cheating (honesty, stigma), IDR; log-normal "
        "across people; assumption: with the other defaults, about 10% of incentive-motivated "
        "and 2% of other first-course buyers fake at 2020's Rp2.4 m incentive with no checks "
        "(prakerja_2020_gaming at --size 20000: 12.9% and 2.1%); the fake is weighed against an "
        "honest course's chance of the cash (rules.integrity), so the gain is small",
    )
    honesty_cost_sd_log: Sd = Field(1.0, description="sd of the log of the honesty cost; assumption")
    incentive_motivated_factor: Annotated[float, *real_bounds(0.0, 1.0)] = Field(
        0.5,
        description="multiplies the honesty cost of people who joined for the cash "
        "(people.incentive_motivated): they collude more readily; assumption",
    )
    time_value_idr_per_hour: Money = Field(
        10_000.0,
        description="what an hour not spent in a course is worth to a participant, IDR; assumption: "
        "about half the 2020 minimum wage per hour (jobseekers' time is worth less than a wage)",
    )
    side_payment: Flag = Field(
        True,
        description="the participant may pay the seller a cut of the cash (a kickback): the pair fakes "
        "when their joint gain is positive; false: each must gain on its own; assumption",
    )
    mission_refuses: Flag = Field(
        True,
        description="a seller with a mission (a knightly provider, mission_weight_idr > 0) never "
        "falsifies a certificate; false: it weighs the skill forgone like any cost; assumption",
    )
    refusing_types: tuple[ProviderKind, ...] = Field(
        ("public_blk",), description="provider types that never collude (public centres); assumption"
    )


class CompletionCheck(Frozen):
    """A post-test or attendance check required for completion (issue 10, point 8). Every
    completion is checked; a fake one is caught with ``detection_rate`` (an honest one always
    passes). Off by default."""

    enabled: Flag = False
    detection_rate: Share = Field(0.5, description="chance a fake completion fails the check; assumption")
    cost_per_check_idr: Money = Field(
        0.0, description="cost of checking one completion, real IDR, paid by the treasury; assumption"
    )
    clawback: Flag = Field(True, description="the provider repays its receipts for a course caught faked")
    revoke_card: Flag = Field(
        False, description="a participant caught faking loses the card (credit left forfeited)"
    )


class Audits(Frozen):
    """Audits of sellers with clawbacks and blacklisting (issue 10, point 9). Each price-review
    period every active seller is audited with chance ``share``; an audit finds each fake
    completion since the seller's last audit with chance ``catch_rate``; a seller found repays the
    receipts of the faked courses found and, with ``blacklist``, is delisted from every platform.
    Off by default."""

    enabled: Flag = False
    share: Share = Field(0.1, description="chance an active seller is audited in a review period; assumption")
    catch_rate: Share = Field(0.5, description="chance an audit finds a given fake completion; assumption")
    cost_per_audit_idr: Money = Field(0.0, description="cost of one audit, real IDR; assumption")
    blacklist: Flag = Field(True, description="a seller found faking is delisted from every platform")


TasteFactor = Annotated[float, *real_bounds(0.0, 10.0)]  # a multiplier of a shopping-logit weight


class IncentiveSeekers(Frozen):
    """Shoppers who joined for the cash (``population.incentive_motivated_share``, 27% in 2020,
    BPS) pick the course that unlocks the incentive with least effort: in their utility the
    ordinary weights of ``choice`` are multiplied by these factors around the catalogue's mean
    course, and their waiting utility is moved by the change in their page's inclusive value,
    LSE(u_seeker) - LSE(u_ordinary), so that the factors change which course a seeker buys but
    not their chance of buying one (``simulation.rules.choice``). Every factor is an assumption;
    all factors 1 is the same as off."""

    enabled: Flag = False
    quality_factor: TasteFactor = Field(
        0.5, description="times choice.quality_weight (assumption: quality matters half as much)"
    )
    relevance_factor: TasteFactor = Field(
        0.5, description="times choice.relevance_weight (assumption: own sector matters half as much)"
    )
    effort_factor: TasteFactor = Field(
        3.0, description="times choice.effort_weight (assumption: difficulty deters three times as much)"
    )
    weeks_factor: TasteFactor = Field(
        3.0, description="times choice.weeks_weight (assumption: each week of course, three times as much)"
    )


class Brokers(Frozen):
    """Account brokers ("joki", CALIBRATION.md "Quality, gaming and leakage"): a share of the
    voucher's applicants are accounts a broker registered for someone outside the target group
    (or a borrowed identity). A brokered account buys the cheapest, shortest course on its page
    (a steep logit), completes it, and the broker takes ``fee_share`` of the cash it is paid
    (``simulation.schemes.brokers``)."""

    enabled: Flag = False
    share: Share = Field(
        0.022,
        description="share of applicants that are brokered accounts (suggested: BPK found 119,494 "
        "ineligible high-wage participants of ~5.5 m in 2021, 2.2%)",
    )
    fee_share: Share = Field(
        0.12,
        description="share of a brokered account's cash (incentive and surveys) the broker keeps: "
        "the fee from Rp300k (kompas 2021) over the 2020 cash of Rp2.55 m, 12%, a lower bound (a cut "
        "after acceptance may be larger: assumption)",
    )
    price_weight: Weight = Field(
        20.0, description="disutility per credit of price, in credits (assumption: steep, the cheapest)"
    )
    weeks_weight: Weight = Field(
        5.0, description="disutility per week of course (assumption: steep, the shortest)"
    )


class IdentityCheck(Frozen):
    """Verification of each applicant's identity (against population records) when they first
    enter a lottery: a brokered account is detected with probability ``detection_rate`` and is
    not selected. The check covers the programme's real applicants, not the evaluation's sample:
    it costs ``cost_per_check_idr`` x ``applicants_per_recipient`` x the real recipients of the
    intake (``population.recipients_represented``), whatever ``population.control_per_recipient``
    (a new line of the ledger; ``simulation.schemes.brokers``)."""

    enabled: Flag = False
    detection_rate: Share = Field(0.5, description="chance a brokered account is detected (assumption)")
    cost_per_check_idr: Money = Field(
        5000.0, description="cost per applicant checked, IDR (assumption: Rp5,000 per record check)"
    )
    applicants_per_recipient: Annotated[float, *real_bounds(1.0, 100.0)] = Field(
        7.0,
        description="real applicants checked per recipient (2020: 40 m accounts by Oct 2020 for "
        "about 5.5 m recipients, acceptance about 14%, CALIBRATION.md: about 7)",
    )


class Voucher(Frozen):
    """The demand-side scheme: credit to participants, courses sold on platforms (DESIGN §3)."""

    budget_idr: PositiveMoney
    credit_idr: Money
    price_cap_idr: Money | None = Field(None, description="defaults to the credit")
    topup_allowed: Flag = False
    max_topup_idr: Money = 0.0
    copay_share: Share = Field(
        0.0,
        description="co-payment (coinsurance): share s of every course's price the participant pays "
        "from her own money, the credit paying (1 - s) x price; own money = s x price + max(0, "
        "(1 - s) x price - credit left) (the second part only with top-ups, at most max_topup_idr); "
        "0: off. Assumption, a design lever: Kartu Prakerja had none (CALIBRATION.md 'multiple "
        "courses': bought while total price <= credit, no own money)",
    )
    purchase_deadline_weeks: Weeks = 4
    credit_validity_weeks: Weeks = 26
    waves: Wave
    incentive: Incentive
    survey: Survey
    commission_cap: CommissionCap | None = None
    curation: Curation = Curation()
    modes_allowed: Annotated[tuple[Mode, ...], Field(min_length=1), AfterValidator(_distinct)] = Field(
        ("online", "offline", "hybrid"), description="course modes the voucher pays for (at least one)"
    )
    admin_cost_share: Share = Field(0.0059, description="office cost, share of money paid out")
    min_hours: Annotated[float, *real_bounds(0.0, MAX_COURSE_HOURS)] = Field(
        0.0,
        description="listing rule: courses shorter than this many hours are not listed (0: none; the "
        "2023 normal scheme: 15 h, CALIBRATION.md 'Kartu Prakerja 2023 normal scheme')",
    )
    min_hours_incumbents: Literal["redesign", "delist"] = Field(
        "redesign",
        description="listing rule: courses on sale when the scheme opens that are shorter than "
        "min_hours are redesigned to it (a rule announced with notice; assumption) or not listed",
    )
    price_cap_per_hour_idr: Money | None = Field(
        None,
        description="listing rule: a course's price cap is min(the cap, this x its hours), IDR per "
        "hour, rounded down to whole thousands (None: one cap for every course); assumption",
    )
    free_alternatives: FreeAlternatives = FreeAlternatives()
    counselling: Counselling = Counselling()
    fake_completion: FakeCompletion = FakeCompletion()
    completion_check: CompletionCheck = CompletionCheck()
    audits: Audits = Audits()
    outcome_pay: OutcomePay = OutcomePay()
    brokers: Brokers = Brokers()
    identity_check: IdentityCheck = IdentityCheck()

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


class TenderEntry(Frozen):
    """New private centres that open when a tender's lots are announced (issue 9): in a cell whose
    planned seats exceed what its centres can teach (after expanding), entrants drawn like a
    centres tier enter while the expected margin on the seats left unserved covers the entry cost.
    Off by default (``max_centres`` 0)."""

    max_centres: Annotated[int, *whole_bounds(0, MAX_PROVIDERS)] = Field(
        0, description="most new centres over the run, all cycles and cells together (0: no entry)"
    )
    cost_idr: Money = Field(0.0, description="one-off cost of opening a centre, real IDR")
    lead_weeks: Week = Field(
        0,
        description="weeks from the lots' announcement until an entrant can teach; it bids in the "
        "cycle's procurement only if this is at most tender.procurement_weeks",
    )
    tier: Label | None = Field(
        None, description="centres tier entrants are drawn like, by name (default: the first offline_centre)"
    )

    def tier_among(self, centres: tuple[Centre, ...]) -> Centre | None:
        """The centres tier entrants are drawn like: the one named ``tier``, else the first of kind
        ``offline_centre``; None if there is none (the scenario check refuses entry then)."""
        named = [t for t in centres if (t.name == self.tier if self.tier else t.kind == "offline_centre")]
        return named[0] if named else None


class Tender(Frozen):
    """The supply-side scheme: the office buys seats by tender (DESIGN §3, tender)."""

    budget_idr: PositiveMoney
    cycles: Annotated[int, *whole_bounds(1, MAX_WEEKS)] = Field(
        1, description="contract cycles; the budget is split evenly"
    )
    cycle_weeks: Weeks = 52
    reference_cost_idr: Annotated[float, *real_bounds(MIN_REFERENCE_COST_IDR, MAX_IDR)] = Field(
        description="planning cost per trainee, IDR"
    )
    planning_lag_weeks: Week = Field(8, description="age of the demand data used to plan")
    forecast_noise_sd: Sd = 0.3
    min_seats: Annotated[int, *whole_bounds(1, int(MAX_PEOPLE))] = Field(
        1, description="smallest lot worth tendering, real seats"
    )
    procurement_weeks: Week = 12
    bid_markup: Annotated[float, *real_bounds(0.0, 10.0)] = Field(
        0.4, description="margin over cost of a bidder with no rivals"
    )
    quality_inflation: Share = Field(0.1, description="declared minus true quality")
    assessment_noise_sd: Sd = 0.1
    price_weight: Share = 0.6
    quality_floor: Share = 0.3
    abnormal_share: Share = Field(0.6, description="bids under this share of the median are screened")
    favouritism: Share = Field(0.1, description="chance the award ignores the score")
    monitoring: Share = Field(0.2, description="chance a contract is inspected")
    penalty_idr: Money = Field(
        description="penalty per trainee of an inspected contract, IDR per unit of quality shaded "
        "per unit shaded (progressive: penalty_idr x shading**2 per trainee)"
    )
    payment: Literal["per_trainee", "per_seat", "outcome"] = "per_trainee"
    placement_share: Share = Field(0.0, description="share of the price paid only on placement")
    course_weeks: Weeks = Field(4, description="length of one cohort's course")
    awareness_weekly: Share = Field(0.05, description="weekly chance a local job seeker hears of a lot")
    other_sector_apply: Share = Field(0.1, description="chance to apply to a lot outside own sector")
    travel_tolerance_idr: PositiveMoney = Field(200000.0, description="travel cost halving take-up, IDR")
    seat_rule: Literal["lottery", "queue"] = "lottery"
    allowance_idr: Money = Field(0.0, description="transport and meal allowance per trainee")
    completion_travel: Annotated[float, *real_bounds(0.0, LOGIT_LIMIT)] = Field(
        1.0, description="log-odds lost per travel tolerance"
    )
    past_performance_weight: Share = 0.5
    admin_cost_share: Share = 0.0059
    # Supply that answers to money (issue 9): every default leaves supply as it is.
    max_expansion_share: Annotated[float, *real_bounds(0.0, 10.0)] = Field(
        0.0, description="yearly capacity a centre may add per cycle, share of its current capacity (0: none)"
    )
    public_expansion_share: Share = Field(
        1.0, description="share of that bound a public centre's budget lets it add (1: as a private one)"
    )
    capacity_cost_idr: Money = Field(
        0.0, description="one-off cost of one more trainee a year of capacity (a seat-year), real IDR"
    )
    capacity_lead_weeks: Week = Field(
        0, description="weeks from the lots' announcement until added capacity can teach (<= cycle_weeks)"
    )
    entry: TenderEntry = TenderEntry()
    capacity_knowledge: Share = Field(
        0.0,
        description="how far the office's plan knows what each cell can deliver: caps at deliverable / "
        "knowledge (0: plan ignores capacity)",
    )

    @model_validator(mode="after")
    def _capacity_ready_by_next_cycle(self) -> Tender:
        if self.capacity_lead_weeks > self.cycle_weeks:
            raise ValueError(
                f"capacity_lead_weeks ({self.capacity_lead_weeks}) must be at most cycle_weeks "
                f"({self.cycle_weeks}): capacity added in one cycle is in place by the next"
            )
        return self


class Choice(Frozen):
    """Utility weights of the shopping logit (simulation.rules.choice). Utility units are arbitrary
    (the logit's noise has scale 1): every weight lies within UTILITY_LIMIT."""

    outside_utility: Utility = Field(description="utility of waiting this week")
    outside_shift_per_course: Utility = Field(1.0, description="extra outside utility per course bought")
    quality_weight: Utility = 2.0
    relevance_weight: Utility = 1.0
    demand_weight: Utility = 0.3
    effort_weight: Utility = 0.5
    weeks_weight: Utility = 0.2
    price_signal_weight: Weight = Field(0.3, description="per log(price / cap)")
    credit_shadow_value: Weight = Field(0.0, description="per credit spent, in credits")
    copay_weight: Weight = Field(2.0, description="per top-up, in credits")
    no_internet_penalty: Weight = 2.0
    travel_weight: Weight = Field(1.0, description="per travel cost, in credits")
    other_courses_shown: Annotated[int, *whole_bounds(0, MAX_PAGE)] = 4
    revisit_share: Share = Field(
        1.0, description="weekly chance that a holder who has bought a course visits again"
    )
    incentive_seekers: IncentiveSeekers = IncentiveSeekers()


class Completion(Frozen):
    """Log-odds of finishing a course once enrolled: an intercept within INTERCEPT_LIMIT and
    coefficients within LOGIT_LIMIT, so that the log-odds stay within float32's exp range."""

    intercept: Annotated[float, *real_bounds(-INTERCEPT_LIMIT, INTERCEPT_LIMIT)]
    motivation: LogOdds = 0.5
    incentive_pending: LogOdds = 1.0
    quality: LogOdds = 1.0
    fit: LogOdds = 0.5
    effort: LogOdds = 1.0


class Ratings(Frozen):
    """Compulsory 1-5 star ratings by completers."""

    leniency: Annotated[float, *real_bounds(-5.0, 5.0)] = Field(
        0.8, description="stars added to the quality-based rating"
    )
    noise_sd: Annotated[float, *real_bounds(0.0, 5.0)] = 0.7
    prior_stars: Annotated[float, *real_bounds(1.0, 5.0)] = Field(
        4.0, description="stars a course without ratings shows"
    )
    prior_count: Annotated[float, *real_bounds(0.0, MAX_PEOPLE)] = Field(
        5.0, description="real pseudo-ratings at prior_stars in the displayed mean (not simulated ones)"
    )
    gaming: RatingGaming = Field(
        RatingGaming(), description="course leniency, non-genuine ratings and their filtering (off)"
    )
    shown: Flag = Field(
        True,
        description="platforms display the stars (false: every course shows prior_stars, as an "
        "unrated one; ratings are still collected; an experiment's lever, not a calibrated value)",
    )


ModeFactor = Annotated[float, *real_bounds(0.0, 2.0, above=True)]  # a multiplier of skill gained


class ModeFactors(Frozen):
    """Skill a course teaches in each mode, relative to the others (multipliers in (0, 2]; all 1:
    the mode makes no difference)."""

    online: ModeFactor = Field(1.0, description="multiplier of skill gained in an online course")
    offline: ModeFactor = Field(1.0, description="multiplier of skill gained in an offline course")
    hybrid: ModeFactor = Field(1.0, description="multiplier of skill gained in a hybrid course")


class Skill(Frozen):
    """Skill gained from a completed course (DESIGN §3 step 6; the formula is
    ``simulation.rules.training.skill_gain``). The defaults of ``hours_elasticity`` and
    ``mode_factor`` make a course's length and mode irrelevant (the rule before issue 9)."""

    gain_per_quality: Annotated[float, *real_bounds(0.0, 10.0)] = 1.0
    diminishing: Share = Field(0.6, description="each further course adds this share of the last")
    cross_sector_match: Share = Field(0.3, description="value of skill outside one's own sector")
    reference_hours: Annotated[float, *real_bounds(MIN_REFERENCE_HOURS, MAX_COURSE_HOURS)] = Field(
        15.0, description="hours of instruction at which the intensity factor is 1, hours (at least 1)"
    )
    hours_elasticity: Annotated[float, *real_bounds(0.0, 1.0)] = Field(
        0.0,
        description="d log(skill gained) / d log(hours of instruction): 0, length irrelevant; "
        "below 1, diminishing returns to hours; 1, proportional",
    )
    mode_factor: ModeFactors = Field(
        ModeFactors(), description="multiplier of skill gained by course mode (online, offline, hybrid)"
    )


def with_normalised_shares[Item: Frozen](items: tuple[Item, ...], field: str) -> tuple[Item, ...]:
    """``items`` with their ``field`` shares rescaled to sum to 1 (``normalised_shares``); items
    whose share is unchanged are kept as they are."""
    shares = normalised_shares([getattr(item, field) for item in items], f"{field} values")
    return tuple(
        item if getattr(item, field) == share else item.model_copy(update={field: share})
        for item, share in zip(items, shares, strict=True)
    )


class Scenario(Frozen):
    """One complete, validated description of a world and the schemes to run on it."""

    name: Name
    description: Description = ""
    seed: Seed = 0
    weeks: Annotated[int, *whole_bounds(1, MAX_WEEKS)]
    size: Annotated[int, *whole_bounds(10, MAX_SIZE)] = Field(description="simulated recipients")
    schemes: tuple[SchemeName, ...] | None = Field(
        None, description="schemes to run, by block name, in order"
    )
    regions: tuple[Region, ...] = Field(min_length=1, max_length=MAX_REGIONS)
    sectors: tuple[Sector, ...] = Field(min_length=1, max_length=MAX_SECTORS)
    population: Population
    labour: Labour
    providers: Providers
    pricing: Pricing = Pricing()
    platforms: tuple[Platform, ...] = Field(min_length=1, max_length=MAX_PLATFORMS)
    choice: Choice
    completion: Completion
    ratings: Ratings = Ratings()
    skill: Skill = Skill()
    centres: tuple[Centre, ...] = Field((), max_length=MAX_CENTRE_TIERS)
    voucher: Voucher | None = None
    tender: Tender | None = None

    @field_validator("regions")
    @classmethod
    def _population_shares(cls, regions: tuple[Region, ...]) -> tuple[Region, ...]:
        return with_normalised_shares(regions, "population_share")

    @field_validator("platforms")
    @classmethod
    def _participant_shares(cls, platforms: tuple[Platform, ...]) -> tuple[Platform, ...]:
        return with_normalised_shares(platforms, "participant_share")

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
        cells = len(self.regions) * len(self.sectors)
        if cells > MAX_CELLS:
            raise ValueError(
                f"regions x sectors: {len(self.regions)} x {len(self.sectors)} = {cells:,} labour-market "
                f"cells; at most {MAX_CELLS:,}"
            )
        if self.tender is not None:
            entry = self.tender.entry
            if entry.max_centres > 0 and entry.tier_among(self.centres) is None:
                wanted = f"named {entry.tier!r}" if entry.tier else "of kind offline_centre"
                raise ValueError(
                    f"tender.entry.max_centres is {entry.max_centres}: entrants are drawn like a centres "
                    f"tier {wanted} and centres has none (set tender.entry.max_centres to 0, or add the tier)"
                )
            travel = max(r.travel_cost_idr for r in self.regions)
            logit = self.tender.completion_travel * travel / self.tender.travel_tolerance_idr
            if logit > MAX_TRAVEL_LOGIT:
                raise ValueError(
                    f"tender.completion_travel x the highest regions travel_cost_idr / "
                    f"tender.travel_tolerance_idr = {logit:.4g} log-odds; at most {MAX_TRAVEL_LOGIT:g}"
                )
        estimate = memory_estimate(self)
        total = sum(estimate.values())
        if total > MEMORY_LIMIT_BYTES:
            parts = ", ".join(f"{name} {_gib(value)}" for name, value in estimate.items() if name != "base")
            raise ValueError(
                f"the run would need about {_gib(total)} of memory ({parts}), over the limit of "
                f"{_gib(MEMORY_LIMIT_BYTES)}: lower size, population.control_per_recipient, "
                f"providers.count, providers.courses_per_provider, centres, sectors or weeks"
            )
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


def memory_estimate(scenario: Scenario) -> dict[str, float]:
    """Bytes a run of ``scenario`` needs at its peak, by part (a conservative estimate, measured
    on the bundled scenarios at up to 3 million people; one run at a time, replications in turn):

    * base: BASE_BYTES;
    * people: size x (1 + population.control_per_recipient) simulated people, each PERSON_BYTES
      plus PERSON_SECTOR_BYTES per sector and PERSON_OPTION_BYTES per course shown (the largest
      platforms.N.page_size plus choice.other_courses_shown);
    * courses: providers.count x providers.courses_per_provider plus, per centres tier, count x
      sectors_taught courses, each COURSE_BYTES plus COURSE_CELL_BYTES per (region, sector) and
      8 bytes per whole weekly hour up to population.weekly_hours_max;
    * providers: providers.count plus every centre, each PROVIDER_BYTES plus 8 bytes per sector;
    * weeks: weeks x regions x sectors x WEEK_CELL_BYTES.

    Providers entering during a run are not counted.
    """
    regions, sectors = len(scenario.regions), len(scenario.sectors)
    people = scenario.size * (1.0 + scenario.population.control_per_recipient)
    options = max(p.page_size for p in scenario.platforms) + scenario.choice.other_courses_shown
    providers = scenario.providers
    centres = sum(tier.count for tier in scenario.centres)
    courses = providers.count * max(providers.courses_per_provider, 1.0) + sum(
        tier.count * min(tier.sectors_taught, sectors) for tier in scenario.centres
    )
    course_bytes = (
        COURSE_BYTES
        + COURSE_CELL_BYTES * regions * sectors
        + 8 * (scenario.population.weekly_hours_max + 1)
        + len(scenario.platforms)
    )
    return {
        "base": float(BASE_BYTES),
        "people": people * (PERSON_BYTES + PERSON_SECTOR_BYTES * sectors + PERSON_OPTION_BYTES * options),
        "courses": courses * course_bytes,
        "providers": (providers.count + centres) * (PROVIDER_BYTES + 8.0 * sectors),
        "weeks": float(scenario.weeks * regions * sectors * WEEK_CELL_BYTES),
    }


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:,.1f} GiB"


# --------------------------------------------------------------------------- loading and errors


def load_scenario(path: str | Path, overrides: list[str] | None = None, **top_level: Any) -> Scenario:
    """Read, override and validate a scenario file.

    ``overrides`` are ``KEY.PATH=VALUE`` strings (VALUE parsed as YAML); ``top_level`` sets top-level
    keys such as ``seed`` or ``size`` (None values are ignored). Raises :class:`ScenarioError`.
    """
    path = Path(path)
    raw = read_yaml(path)
    for override in overrides or []:
        try:
            apply_override(raw, override)
        except ScenarioError as err:
            raise ScenarioError(f"{path}: {err}") from None
    for key, value in top_level.items():
        if value is not None:
            raw[key] = value
    return validate(raw, source=str(path))


def apply_override(raw: dict[str, Any], override: str) -> None:
    """Set ``KEY.PATH=VALUE`` in a raw scenario mapping (list items by index: ``regions.0.name``).
    The value is YAML, read with the limits of :func:`read_yaml`; the key path has at most
    MAX_KEY_PATH parts."""
    key_path, sep, text = override.partition("=")
    if not sep or not key_path.strip():
        raise ScenarioError(
            f"--set {_clip(override)!r}: expected KEY.PATH=VALUE, e.g. voucher.credit_idr=5e5"
        )
    keys = key_path.strip().split(".")
    if len(keys) > MAX_KEY_PATH:
        raise ScenarioError(
            f"--set {_clip(override)!r}: the key path has {len(keys)} parts; at most {MAX_KEY_PATH}"
        )
    try:
        value = parse_yaml(text) if text.strip() else None
    except YamlLimitError as err:
        raise ScenarioError(f"--set {_clip(override)!r}: the value is {err.problem}") from None
    except (yaml.YAMLError, ValueError, RecursionError):
        raise ScenarioError(f"--set {override!r}: the value is not valid YAML") from None
    node: Any = raw
    key: str | int  # a mapping key, or a list index
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[: depth + 1])
        if isinstance(node, list):
            if not (key.isascii() and key.isdigit()) or int(key) >= len(node):
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
    depth = nesting_depth(raw)
    if depth > 2 * MAX_DEPTH:
        raise ScenarioError(f"{source}: nested deeper than {2 * MAX_DEPTH} levels of lists and mappings")
    try:
        return Scenario.model_validate(copy.deepcopy(raw))
    except ValidationError as err:
        lines = [_describe(error) for error in err.errors()]
        raise ScenarioError(f"{source}: " + "; ".join(lines)) from None


def nesting_depth(data: Any, limit: int = 2 * MAX_DEPTH) -> int:
    """Levels of nested lists, tuples and mappings in ``data`` (a scalar is 0), counted without
    recursion and up to ``limit + 1`` at most (deeper data report ``limit + 1``)."""
    deepest = 0
    stack = [(data, 1)]
    while stack:
        item, level = stack.pop()
        children: Iterable[Any]
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > limit:
            return level
        stack.extend((child, level + 1) for child in children)
    return deepest


def _describe(error: ErrorDetails) -> str:
    loc = tuple(error["loc"])
    path = _clip(".".join(str(part) for part in loc), 200) or "(top level)"
    if not loc and error["type"] == "value_error":  # the model's own checks name their keys
        return str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        hint = _did_you_mean(loc)
        return f"{path}: unknown key{hint}"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) or error["type"] == "missing" else f" (got {_show(got)})"
    return f"{path}: {message}{shown}"


def _show(value: Any) -> str:
    try:
        return _clip(repr(value))
    except ValueError:  # an integer too long to print
        return "a number too long to print"


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
