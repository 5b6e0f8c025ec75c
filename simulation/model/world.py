"""The synthetic world: regions, sectors, participants, providers, courses and platforms.

A world is built once from a scenario and a root seed (stream ``world``) and is identical for every
scheme run on it. Schemes copy what they change (courses, provider cash); participants' static
attributes are shared read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from simulation.config.codes import HYBRID, OFFLINE, ONLINE, ONLINE_ONLY, PROVIDER_TYPES
from simulation.config.scenario import Centre, Scenario
from simulation.config.streams import stream
from simulation.market.courses import Courses
from simulation.market.participants import Participants
from simulation.market.providers import ProviderSpecs, stack_specs
from simulation.rules.demand import vacancy_index
from simulation.rules.kernels import categorical_rows

CHOICE_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))  # numpy's for p summing to 1


@dataclass(frozen=True)
class World:
    """Everything a scheme run starts from. Built by :func:`build_world`."""

    scenario: Scenario
    seed: int
    recipients: int  # simulated people of the target intake (scenario size)
    participants: Participants
    vacancies: np.ndarray  # float64 [week, sector, region], 1 = average sector in normal times
    providers: ProviderSpecs
    courses: Courses
    labour_cell: np.ndarray  # int16 [n]: each participant's labour-market cell (``labour_groups``)
    labour_group: np.ndarray  # int16 [n]: cell x 4 + senior high x 2 + aged 18-35 (model.labour)

    @property
    def scale(self) -> float:
        """Real people represented by one simulated participant (``scenario.scale``)."""
        return self.scenario.scale


def build_world(scenario: Scenario, seed: int | None = None) -> World:
    """Draw a world from the scenario; ``seed`` defaults to ``scenario.seed``. The world reads no
    scheme block: every scheme of the scenario runs on the same world.

    Labour demand, the people, the providers and the centres each come from their own stream
    (``world:demand``, ``world:people``, ``world:providers``, ``world:centres``), so that the
    organisations and the market do not change with the number of simulated people; who of those
    working at entry runs a business comes from ``world:self_employment``, so that drawing it moves
    no other draw."""
    seed = scenario.seed if seed is None else seed
    recipients = scenario.size
    n = recipients + int(round(recipients * scenario.population.control_per_recipient))
    shape = (len(scenario.sectors), len(scenario.regions))
    regional = stream(seed, "world:demand").lognormal(0.0, 0.25, size=shape)
    vacancies = vacancy_index(scenario, regional)
    participants = draw_participants(stream(seed, "world:people"), scenario, n, vacancies[0])
    participants = with_self_employment(stream(seed, "world:self_employment"), scenario, participants)
    providers, courses = draw_providers(
        stream(seed, "world:providers"), scenario, scenario.providers.count, first_id=0
    )
    if scenario.centres:
        centres, centre_courses = draw_centres(
            stream(seed, "world:centres"), scenario, first_id=len(providers)
        )
        providers = stack_specs([providers, centres])
        courses.append(centre_courses)
    cell, group = labour_groups(scenario, participants)
    read_only(participants, vacancies, cell, group)
    return World(scenario, seed, recipients, participants, vacancies, providers, courses, cell, group)


def labour_groups(scenario: Scenario, participants: Participants) -> tuple[np.ndarray, np.ndarray]:
    """Each participant's labour-market cell (sector x regions + region) and group (cell x 4 +
    senior high x 2 + aged 18-35), whose wage hazard without skill is the same
    (``simulation.model.labour``): int16 [n], or int32 beyond 8,191 cells. Made once per world,
    shared by its schemes."""
    cells = len(scenario.sectors) * len(scenario.regions)
    dtype = np.int16 if 4 * cells <= np.iinfo(np.int16).max else np.int32
    cell = participants.sector.astype(np.int32) * len(scenario.regions) + participants.region
    group = cell * 4 + participants.senior_high * 2 + participants.age_18_35
    return cell.astype(dtype), group.astype(dtype)


def read_only(participants: Participants, *shared: np.ndarray) -> None:
    """Lock the arrays every scheme reads and none may write: the participants' columns and the
    ``shared`` arrays (the vacancy index, the labour groups). The schemes of one world may then run
    at the same time (``simulation.runner.run_schemes``) without one seeing another's writes."""
    for column in [*vars(participants).values(), *shared]:
        if isinstance(column, np.ndarray):
            column.setflags(write=False)


def draw_participants(
    rng: np.random.Generator, scenario: Scenario, n: int, vacancies_now: np.ndarray
) -> Participants:
    """Draw n applicants (recipients and never-selected controls alike)."""
    pop = scenario.population
    regions = scenario.regions
    region = draw_categories(rng, [r.population_share for r in regions], n)
    urban_share = np.array([r.urban_share for r in regions])[region]
    internet_share = np.array([r.internet_access for r in regions])[region]
    interest = sector_interest(scenario, vacancies_now)  # [region, sector]
    sector = _draw_rows(rng, interest, region)
    incentive_motivated = rng.random(n) < pop.incentive_motivated_share
    motivation = (1.0 - incentive_motivated) + rng.normal(0.0, 0.3, n)
    platform = draw_categories(rng, [p.participant_share for p in scenario.platforms], n)
    intake = pop.intake
    arrival = intake.first_week + intake.interval_weeks * rng.integers(0, intake.count, n)
    return Participants(
        region=region.astype(np.int8),
        urban=rng.random(n) < urban_share,
        female=rng.random(n) < pop.female_share,
        age_18_35=rng.random(n) < pop.age_18_35_share,
        senior_high=rng.random(n) < pop.senior_high_or_more_share,
        employed_at_entry=rng.random(n) < pop.employed_at_entry_share,
        internet=rng.random(n) < internet_share,
        sector=sector.astype(np.int8),
        incentive_motivated=incentive_motivated,
        motivation=motivation.astype(np.float32),
        ability=rng.lognormal(-0.5 * pop.ability_sd**2, pop.ability_sd, n).astype(np.float32),
        weekly_hours=rng.integers(pop.weekly_hours_min, pop.weekly_hours_max + 1, n).astype(np.float32),
        platform=platform.astype(np.int8),
        arrival_week=arrival.astype(np.int16),
        business_at_entry=np.zeros(n, dtype=bool),  # drawn by with_self_employment
    )


def with_self_employment(
    rng: np.random.Generator, scenario: Scenario, participants: Participants
) -> Participants:
    """``participants`` with ``business_at_entry`` drawn: each person working at entry runs a
    business with probability ``population.self_employed_at_entry_share`` (one uniform per person,
    drawn for everyone so that a person's draw does not depend on who else works)."""
    share = scenario.population.self_employed_at_entry_share
    business = participants.employed_at_entry & (rng.random(len(participants)) < share)
    return replace(participants, business_at_entry=business)


def sector_interest(scenario: Scenario, vacancies_now: np.ndarray) -> np.ndarray:
    """P(sector of interest | region) [region, sector]: local demand with a share of noise."""
    weight = np.array([s.participant_interest_weight for s in scenario.sectors])
    demand = (vacancies_now * weight[:, None]).T  # [region, sector]
    demand = demand / demand.sum(axis=1, keepdims=True)
    noise = scenario.population.sector_interest_noise
    return (1.0 - noise) * demand + noise / demand.shape[1]


def draw_categories(rng: np.random.Generator, probabilities, size: int) -> np.ndarray:
    """``size`` draws of categories 0 .. k - 1 with ``probabilities`` (k, summing to 1): the same
    draws as ``rng.choice(k, size=size, p=probabilities)``, which takes one uniform each and finds
    it among the cumulative probabilities (divided by their total) with a binary search, and leaves
    ``rng`` in the same state; the uniforms are counted against the cumulative probabilities in one
    compiled pass (``kernels.categorical_rows``, one row), about 6x faster for the millions of
    participants.
    Raises ValueError, as ``choice`` does, if a probability is negative or they do not sum to 1."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not (p >= 0).all() or not abs(p.sum() - 1.0) <= CHOICE_TOLERANCE:
        raise ValueError(f"probabilities must be non-negative and sum to 1, got {p.tolist()}")
    cdf = np.cumsum(p)
    cdf /= cdf[-1]  # its last entry is then exactly 1, so u x 1 = u
    return categorical_rows(cdf[None, :], rng.random(size), np.zeros(size, dtype=np.int8), True)


def _draw_rows(rng: np.random.Generator, probabilities: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One categorical draw per person from row ``row[i]`` of a [rows, k] probability matrix
    (inverse CDF on one uniform each): the number of the row's cumulative probabilities below
    u x their total (``kernels.categorical_rows``). Each row's cumulative sums are computed once,
    not once per person."""
    cdf = np.cumsum(probabilities, axis=1)
    uniform = rng.random(size=(len(row),))
    return categorical_rows(cdf, uniform, row)


def draw_providers(
    rng: np.random.Generator, scenario: Scenario, count: int, first_id: int
) -> tuple[ProviderSpecs, Courses]:
    """Draw ``count`` providers (ids from ``first_id``) and the courses they own."""
    spec = scenario.providers
    type_shares = list(spec.types.model_dump().values())
    kind = draw_categories(rng, type_shares, count)
    region = draw_categories(rng, [r.population_share for r in scenario.regions], count)
    knightly = rng.random(count) < spec.knightly_share
    affiliated = _affiliations(rng, scenario, count, first_id)
    per_provider = 1 + rng.poisson(max(spec.courses_per_provider - 1.0, 0.0), count)
    owner = np.repeat(np.arange(count), per_provider)
    courses = _draw_courses(rng, scenario, owner, kind, affiliated)
    courses.provider[:] = owner + first_id
    specs = ProviderSpecs(
        kind=kind.astype(np.int8),
        region=region.astype(np.int8),
        knightly=knightly,
        mission_weight_idr=np.where(knightly, spec.knightly_weight_idr, 0.0),
        affiliated_platform=affiliated.astype(np.int8),
        capacity_per_year=np.where(kind == ONLINE_ONLY, 0.0, spec.offline_capacity_per_year),
    )
    return specs, courses


def draw_centres(
    rng: np.random.Generator, scenario: Scenario, first_id: int
) -> tuple[ProviderSpecs, Courses]:
    """Training centres of every tier (public BLKs, private offline centres): providers with one
    offline course per sector they teach, listed on no platform, with a yearly capacity."""
    specs: list[ProviderSpecs] = []
    courses: list[Courses] = []
    for tier in scenario.centres:
        spec, course = draw_centre_tier(rng, scenario, tier, first_id + sum(len(s) for s in specs))
        specs.append(spec)
        courses.append(course)
    return stack_specs(specs), _stack_courses(courses, len(scenario.platforms))


def draw_centre_tier(
    rng: np.random.Generator, scenario: Scenario, tier: Centre, first_id: int
) -> tuple[ProviderSpecs, Courses]:
    """The ``tier.count`` centres of one tier (ids from ``first_id``): regions drawn by population
    share, ``tier.sectors_taught`` sectors each drawn at random, one offline course per sector
    with quality ~ Beta(tier's alpha, beta) and difficulty ~ Beta(2, 2)."""
    sectors, n = len(scenario.sectors), tier.count
    region = draw_categories(rng, [r.population_share for r in scenario.regions], n)
    taught = min(tier.sectors_taught, sectors)
    sector = np.argsort(rng.random((n, sectors)), axis=1)[:, :taught]
    quality = rng.beta(tier.quality_alpha, tier.quality_beta, n * taught)
    difficulty = rng.beta(2.0, 2.0, n * taught)
    return _centre_tables(scenario, tier, first_id, region, sector, quality, difficulty)


def draw_centre_entrants(
    rngs: list[np.random.Generator],
    scenario: Scenario,
    tier: Centre,
    region: np.ndarray,
    sector: np.ndarray,
    first_id: int,
) -> tuple[ProviderSpecs, Courses]:
    """New centres of ``tier`` (ids from ``first_id``, contiguous): centre k opens in
    ``region[k]`` and teaches ``sector[k]`` among the tier's ``sectors_taught`` (the others drawn
    at random: the given sector is put first in the same draw), with qualities and difficulties
    drawn as in :func:`draw_centre_tier`. Centre k draws from its own generator ``rngs[k]``, so
    what one entrant is does not depend on how many others entered."""
    sectors, n = len(scenario.sectors), len(rngs)
    taught = min(tier.sectors_taught, sectors)
    order = np.zeros((n, sectors))
    quality = np.zeros((n, taught))
    difficulty = np.zeros((n, taught))
    for k, rng in enumerate(rngs):  # organisations, not participants
        rng.random(out=order[k])
        quality[k] = rng.beta(tier.quality_alpha, tier.quality_beta, taught)
        difficulty[k] = rng.beta(2.0, 2.0, taught)
    order[np.arange(n), np.asarray(sector, dtype=np.int64)] = -1.0  # the given sector first
    taught_sectors = np.argsort(order, axis=1)[:, :taught].astype(np.int64)
    return _centre_tables(
        scenario, tier, first_id, np.asarray(region), taught_sectors, quality.ravel(), difficulty.ravel()
    )


def _centre_tables(
    scenario: Scenario,
    tier: Centre,
    first_id: int,
    region: np.ndarray,
    sector: np.ndarray,
    quality: np.ndarray,
    difficulty: np.ndarray,
) -> tuple[ProviderSpecs, Courses]:
    """The provider and course tables of centres of ``tier`` in ``region`` [centre] teaching
    ``sector`` [centre, sector taught], with their courses' ``quality`` and ``difficulty``
    (centre-major, one per course)."""
    n, taught = sector.shape
    m = n * taught
    spec = ProviderSpecs(
        kind=np.full(n, PROVIDER_TYPES.index(tier.kind), dtype=np.int8),
        region=region.astype(np.int8),
        knightly=np.full(n, tier.kind == "public_blk"),
        mission_weight_idr=np.full(n, tier.mission_weight_idr),
        affiliated_platform=np.full(n, -1, dtype=np.int8),
        capacity_per_year=np.full(n, tier.capacity_per_year),
    )
    courses = Courses.new(
        provider=np.repeat(np.arange(n), taught) + first_id,
        sector=sector.ravel(),
        mode=np.full(m, OFFLINE),
        hours=np.full(m, tier.course_hours),
        quality=quality,
        difficulty=difficulty,
        cost=np.full(m, tier.marginal_cost_idr),
        price=np.full(m, 1.5 * tier.marginal_cost_idr + 1000.0),
        listed=np.zeros((m, len(scenario.platforms)), dtype=bool),
    )
    return spec, courses


def _stack_courses(parts: list[Courses], platforms: int) -> Courses:
    """One catalogue of the rows of ``parts``, in order (each column concatenated once)."""
    if not parts:
        return Courses.new([], [], [], [], [], [], [], [], np.zeros((0, platforms), dtype=bool))
    return Courses(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Courses)})


def _affiliations(rng: np.random.Generator, scenario: Scenario, count: int, first_id: int):
    """Platform owning each provider (-1 if none). Only the founding providers are affiliated."""
    affiliated = np.full(count, -1)
    if first_id > 0:
        return affiliated
    order = rng.permutation(count)
    start = 0
    for p, platform in enumerate(scenario.platforms):
        take = order[start : start + platform.affiliated_providers]
        affiliated[take] = p
        start += len(take)
    return affiliated


def _draw_courses(rng, scenario: Scenario, owner, kind, affiliated) -> Courses:
    spec = scenario.providers
    n = owner.shape[0]
    sectors = len(scenario.sectors)
    modes = list(spec.course_modes.model_dump().values())
    mode = draw_categories(rng, modes, n)
    mode[kind[owner] == PROVIDER_TYPES.index("online_only")] = ONLINE
    offline_kinds = np.isin(kind[owner], [2, 3])
    mode[offline_kinds & (mode == ONLINE)] = OFFLINE
    quality = rng.beta(spec.quality_alpha, spec.quality_beta, n)
    cost = np.where(mode == ONLINE, spec.marginal_cost_online_idr, spec.marginal_cost_offline_idr)
    cost = np.where(
        mode == HYBRID, 0.5 * (spec.marginal_cost_online_idr + spec.marginal_cost_offline_idr), cost
    )
    price = rng.lognormal(np.log(spec.initial_price_median_idr), spec.initial_price_sd_log, n)
    price = np.maximum(np.maximum(price, cost * 1.1), 1000.0)  # a scheme may cap it (the voucher does)
    listed = _listings(rng, scenario, owner, affiliated)
    return Courses.new(
        provider=owner,
        sector=rng.integers(0, sectors, n),
        mode=mode,
        hours=rng.uniform(spec.hours_min, max(spec.hours_max, spec.hours_min), n),
        quality=quality,
        difficulty=rng.beta(2.0, 2.0, n),
        cost=cost,
        price=price,
        listed=listed,
    )


def _listings(rng, scenario: Scenario, owner, affiliated) -> np.ndarray:
    """Which platforms list each course: a provider lists all its courses on the same platforms."""
    platforms = scenario.platforms
    providers = affiliated.shape[0]
    share = np.array([p.listing_share for p in platforms])
    on = rng.random((providers, len(platforms))) < share[None, :]
    own = affiliated >= 0
    on[np.flatnonzero(own), affiliated[own]] = True
    nowhere = ~on.any(axis=1)
    fallback = draw_categories(rng, [p.participant_share for p in platforms], providers)
    on[np.flatnonzero(nowhere), fallback[nowhere]] = True
    return on[owner]
