"""The shopping decision: a multinomial logit over a page of courses, with an outside option.

All functions are pure and vectorised over shoppers (rows) and options (columns). Utility is

    u_ij = quality_weight   * expected quality of j from its displayed stars
         + price_signal     * log(max(price_j, 1) / max(cap, 1))   (price read as quality)
         - credit_shadow    * price_j / credit               (credit used up for later courses)
         - effort_weight    * difficulty_j
         + relevance_weight * [sector_j == own sector]
         + demand_weight    * log(local vacancies in sector_j)
         - weeks_weight     * ceil(hours_j / own weekly hours)
         - mode penalties   (online without internet; travel to offline courses, per credit;
                             a hybrid course costs half of each)
         - copay_weight     * own money_ij / credit

With a week's appraisal (``Market.appraisal``; ``simulation.rules.appraisal``) the quality term
values a course whose content is free elsewhere by what it adds, quality_weight x max(E[q] -
free_quality, 0) + certificate_value, E[q] mixes stars with a counsellor's reading, the demand
weight grows by ``extra_demand_weight``, and courses a counsellor vetoes are infeasible.

and the outside option (wait this week) has ``outside_utility + outside_shift * courses bought``.
Money is divided by the credit floored at 1 IDR; weekly hours are whole hours. A course is bought
only if it strictly beats waiting; among equal totals the first column wins.
An option is infeasible (utility -inf) when the credit it needs exceeds the credit left (plus the
allowed top-up), when it is an empty page slot, or when it is the course the shopper last took.

**Co-payment** (``voucher.copay_share`` = s, 0 by default; ``Market.copay_share``). The credit
pays (1 - s) x price of a course and the shopper s x price from her own money, plus any top-up
above the credit left (only where top-ups are allowed, at most ``max_topup_idr``):

    credit needed_ij = (1 - s) * price_j
    own money_ij     = s * price_j + max(0, credit needed_ij - credit left_i)
    feasible        iff credit needed_ij <= credit left_i + max top-up

With s = 0 this is the top-up rule alone (own money = the top-up; without top-ups, 0), computed
by the same code as before the co-payment existed. The sellers' price learning reads demand
through ``expected_demand`` and the kernel's tally, so it sees the co-payment: with s > 0 each
IDR of price costs the shopper ``copay_weight`` x s / credit of utility, and demand falls with
price. The tender has no counterpart: its trainees pay nothing (a stated asymmetry).
A choice is the argmax of utility plus standard Gumbel noise, which samples the logit exactly.

**Incentive seekers** (``choice.incentive_seekers``, off by default). A shopper who joined for the
cash (``Shoppers.motive`` = ``INCENTIVE_SEEKER``, from ``people.incentive_motivated``) wants the
course that unlocks the incentive with least effort. Each of four weights is multiplied by its
factor:

    u_seeker_ij = u_ij + (quality_factor - 1)   * quality_weight   * (q_j - mean q)
                       + (relevance_factor - 1) * relevance_weight * ([s_j = s_i] - share of s_i)
                       - (effort_factor - 1)    * effort_weight    * (d_j - mean d)
                       - (weeks_factor - 1)     * weeks_weight     * (w_ij - mean_k w_ik)

with quality_weight * q_j the quality term of the ordinary shopper's utility (``quality_term``:
quality_weight x the expected quality from the stars, or the week's appraisal of it with free
alternatives or counselling), d the difficulty, w_ij = ceil(hours_j / weekly hours
of i), means over every course of the catalogue (``Market``) and "share of s_i" the share of its
courses in the shopper's sector. The factors change *which* course a seeker buys, not how keen
they are to buy one: centring on the catalogue does not achieve that by itself (a shopper's page
is not the catalogue, and more spread-out utilities raise the logit's inclusive value), so each
seeker's waiting utility is moved by the change in the inclusive value of their own page
(``inclusive_value_shift``):

    outside_seeker_i = outside_i + LSE_j(u_seeker_ij) - LSE_j(u_ij),   LSE_j(x_j) = log sum_j e^x_j

over the feasible options j of the shopper's page. Then P(wait) = e^outside_i / (e^outside_i +
e^LSE_j(u_ij)) is the ordinary shopper's exactly, and among the courses the seeker's own
utilities decide. It is still a logit on the same keyed noise: the seekers' utilities are a
second block of columns of the taste and time tables (the shopper "kind" gains a motive
dimension) and their waiting utility is an input like anyone's, so the kernel is unchanged; with
every factor 1 the second block equals the first, the shift is 0 and every pick is the one made
with the mechanism off.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from simulation.config.codes import HYBRID, OFFLINE, ONLINE
from simulation.config.scenario import Choice
from simulation.rules.appraisal import Appraisal
from simulation.rules.kernels import choose_courses
from simulation.rules.keyed_draws import Draws
from simulation.rules.parallel import in_order

OUTSIDE = -1
# Shoppers per block of the shopping kernel (``shop``): the blocks of a large week run at once on
# the cores, each tallying expected demand from zero, the tallies then added block by block. The
# block is fixed, not the number of threads, so the sums (and everything after them) are the same
# on any machine; a week of fewer shoppers is one block, summed exactly as one pass.
SHOPPER_BLOCK = 32_768
ORDINARY, INCENTIVE_SEEKER = 0, 1  # shopper motives (Shoppers.motive)


@dataclass(frozen=True)
class Market:
    """What a shopper can learn about the courses this week (course-level, shared by all)."""

    course_sector: np.ndarray  # int8 [courses]
    course_mode: np.ndarray  # int8 [courses]
    course_hours: np.ndarray  # float32 [courses]
    course_difficulty: np.ndarray  # float32 [courses]
    price_idr: np.ndarray  # float32 [courses]
    displayed_stars: np.ndarray  # float [courses], 1-5
    log_vacancies: np.ndarray  # float32 [sector, region], this week
    travel_cost_idr: np.ndarray  # float32 [region]
    credit_idr: float  # the full credit, the unit in which money enters utility
    cap_idr: float  # the price cap
    max_topup_idr: float  # 0 when top-ups are not allowed
    appraisal: Appraisal | None = None  # free alternatives and counselling (None: neither)
    copay_share: float = 0.0  # share of each price paid from own money (voucher.copay_share)


@dataclass(frozen=True)
class Shoppers:
    """The shoppers of one week (rows) and the courses each one sees (columns)."""

    options: np.ndarray  # int32 [n, J], course ids; -1 = empty slot
    sector: np.ndarray  # int8 [n]
    region: np.ndarray  # int8 [n]
    internet: np.ndarray  # bool [n]
    weekly_hours: np.ndarray  # float32 [n], whole hours per week
    credit_left_idr: np.ndarray  # float32 [n]
    courses_bought: np.ndarray  # int16 [n]
    last_course: np.ndarray  # int32 [n], -1 if none
    person: np.ndarray | None = None  # int64 [n], rows of the world's people (default 0 .. n-1)
    motive: np.ndarray | None = None  # int8 [n], ORDINARY or INCENTIVE_SEEKER (default ORDINARY)

    def __len__(self) -> int:
        return int(self.options.shape[0])

    def subset(self, mask: np.ndarray) -> Shoppers:
        """The shoppers where ``mask`` [n] is True, each still keyed by its own person."""
        columns: dict = {
            f.name: None if getattr(self, f.name) is None else getattr(self, f.name)[mask]
            for f in fields(self)
            if f.name != "person"
        }
        return Shoppers(**columns, person=self.persons()[mask])

    def motives(self) -> np.ndarray:
        """Each shopper's motive (int32; ORDINARY when none is given)."""
        if self.motive is None:
            return np.zeros(len(self), dtype=np.int32)
        return np.asarray(self.motive, dtype=np.int32)

    def persons(self) -> np.ndarray:
        """Rows of the world's people, which key each shopper's draws."""
        if self.person is None:
            return np.arange(len(self), dtype=np.int64)
        return np.asarray(self.person, dtype=np.int64)


def expected_quality(displayed_stars: np.ndarray) -> np.ndarray:
    """Quality a shopper infers from stars: 1 star = 0, 5 stars = 1."""
    return (np.asarray(displayed_stars, dtype=np.float32) - 1.0) / 4.0


def course_appeal(market: Market, params: Choice) -> np.ndarray:
    """The shopper-independent part of each course's utility [courses] (float32)."""
    unit = max(market.credit_idr, 1.0)
    price = market.price_idr.astype(np.float32)
    appeal = (
        quality_term(market, params)
        + params.price_signal_weight * np.log(np.maximum(price, 1.0) / max(market.cap_idr, 1.0))
        - params.credit_shadow_value * price / unit
        - params.effort_weight * market.course_difficulty
    )
    return appeal.astype(np.float32)


def quality_term(market: Market, params: Choice) -> np.ndarray:
    """The quality term of each course's appeal [courses]: quality_weight x expected quality from
    stars, or as the week's appraisal values it (``simulation.rules.appraisal``)."""
    star_quality = expected_quality(market.displayed_stars)
    if market.appraisal is None:
        return params.quality_weight * star_quality
    return market.appraisal.quality_term(star_quality, params.quality_weight)


def quality_slopes(
    market: Market, params: Choice, seeker_share: float
) -> tuple[float | np.ndarray, np.ndarray | None]:
    """How the shoppers' utility of each course falls per unit of quality its seller shades: the
    slopes (left derivatives) of ``quality_term`` in the stars' quality and in the course's
    delivered quality (read by a counsellor, at once; None when nobody is counselled), per course
    [courses] (float64), or ``params.quality_weight`` itself (a float, the model before issue 10
    bit for bit) with no appraisal and no incentive seekers. From the same function as the term
    (``Appraisal.quality_response``, ``free_content.quality_response``):

        stars slope   = m x (1 - w) x f'        delivered slope = m x w x f' x [0 < reading < 1]
        f' = quality_weight, or 0 for a free-content course with E[q] <= free_quality
        m  = 1 + seeker_share x (incentive_seekers.quality_factor - 1)   (1 when seekers are off)

    m mixes ordinary shoppers (slope f') and incentive seekers (slope quality_factor x f'; the
    catalogue mean they are centred on moves by 1/courses of that, ignored) by ``seeker_share``,
    the population's share motivated by the cash. Approximations: that share stands for the
    seekers' share of a course's shoppers, and both kinds have the same choice share (1 - P);
    brokered accounts are counted as ordinary shoppers."""
    seekers = params.incentive_seekers
    mix = 1.0 + seeker_share * (seekers.quality_factor - 1.0) if seekers.enabled else 1.0
    if market.appraisal is None:
        return (params.quality_weight if mix == 1.0 else mix * params.quality_weight), None
    _, stars, delivered = market.appraisal.quality_response(
        expected_quality(market.displayed_stars), params.quality_weight
    )
    return mix * stars, (mix * delivered if market.appraisal.reading is not None else None)


def demand_weight(market: Market, params: Choice) -> float:
    """Utility per log(local vacancies in the course's sector): counselling adds to it."""
    extra = 0.0 if market.appraisal is None else market.appraisal.extra_demand_weight
    return params.demand_weight + extra


def veto(table: np.ndarray, market: Market) -> np.ndarray:
    """The taste table [courses + 1, region, ...] with -inf where the counsellor vetoes a course
    for shoppers of a region (structured choice); unchanged otherwise."""
    if market.appraisal is not None and market.appraisal.veto is not None:
        table[:-1][market.appraisal.veto] = -np.inf
    return table


def mode_penalty(market: Market, params: Choice) -> np.ndarray:
    """Disutility [mode, internet(0/1), region] of taking a course of a mode."""
    unit = max(market.credit_idr, 1.0)
    travel = params.travel_weight * market.travel_cost_idr.astype(np.float32) / unit
    penalty = np.zeros((3, 2, travel.shape[0]), dtype=np.float32)
    penalty[ONLINE, 0, :] = params.no_internet_penalty
    penalty[OFFLINE, :, :] = travel
    penalty[HYBRID, 0, :] = 0.5 * params.no_internet_penalty
    penalty[HYBRID, :, :] += 0.5 * travel
    return penalty


def utilities(shoppers: Shoppers, market: Market, params: Choice) -> np.ndarray:
    """Utility of every option [n, J] (float32, -inf where infeasible).

    The shopper-independent terms are tabulated once per call, per course and shopper type
    (region x internet x sector of interest) and per course and whole weekly hours, so that each
    option costs two table look-ups. The tables carry one extra last row for the empty slot, which
    course id -1 reaches by negative indexing.
    """
    options = shoppers.options
    kind, hours = shopper_columns(shoppers, market, params)
    taste = taste_tables(market, params)  # [courses + 1, motive * region * 2 * sector]
    time_cost = time_tables(market, params, max_hours(shoppers))  # [courses + 1, motive * (hours + 1)]
    u = taste.ravel()[options * taste.shape[1] + kind[:, None]]
    u -= time_cost.ravel()[options * time_cost.shape[1] + hours[:, None]]
    price = priced(market)[options]
    if market.copay_share > 0:
        return with_copayment(u, price, shoppers, options, market, params)
    topup = price - shoppers.credit_left_idr[:, None]
    infeasible = (topup > market.max_topup_idr) | (options == shoppers.last_course[:, None])
    if market.max_topup_idr > 0:
        u -= copay_per_idr(market, params) * np.maximum(topup, np.float32(0.0))
    return np.where(infeasible, np.float32(-np.inf), u)


def with_copayment(
    u: np.ndarray, price: np.ndarray, shoppers: Shoppers, options: np.ndarray, market: Market, params: Choice
) -> np.ndarray:
    """``u`` [n, J] less the disutility of own money under a co-payment, -inf where infeasible
    (module docstring: credit needed = (1 - s) price, own money = s price + the top-up), float32
    as the kernel computes it (``copay_shares``)."""
    share, keep = copay_shares(market)
    price = np.where(options < 0, np.float32(0.0), price)  # an empty slot: infeasible below
    topup = keep * price - shoppers.credit_left_idr[:, None]
    infeasible = (topup > market.max_topup_idr) | (options == shoppers.last_course[:, None]) | (options < 0)
    own = share * price + np.maximum(topup, np.float32(0.0))
    u -= copay_per_idr(market, params) * np.where(infeasible, np.float32(0.0), own)
    return np.where(infeasible, np.float32(-np.inf), u)


def copay_shares(market: Market) -> tuple[np.float32, np.float32]:
    """The co-payment share s and the credit's share 1 - s of a price (float32, as the kernel
    multiplies prices by them)."""
    return np.float32(market.copay_share), np.float32(1.0) - np.float32(market.copay_share)


def shopper_columns(shoppers: Shoppers, market: Market, params: Choice) -> tuple[np.ndarray, np.ndarray]:
    """Each shopper's column in the taste tables and in the time tables (int32 arrays): within
    the block of the shopper's motive (``taste_tables``, ``time_tables``), the kind (region x
    internet x sector of interest) and the whole weekly hours."""
    n_sectors, n_regions = market.log_vacancies.shape
    kind = (shoppers.region.astype(np.int32) * 2 + shoppers.internet) * n_sectors + shoppers.sector
    hours = np.rint(shoppers.weekly_hours).astype(np.int32)
    if not params.incentive_seekers.enabled:  # one block: every shopper is ordinary
        return kind.astype(np.int32), hours
    motive = shoppers.motives()
    kind = kind + motive * (n_regions * 2 * n_sectors)
    return kind.astype(np.int32), hours + motive * (max_hours(shoppers) + 1)


def max_hours(shoppers: Shoppers) -> int:
    """The largest whole weekly hours among ``shoppers`` (at least 1): the time table's width - 1."""
    return int(np.rint(shoppers.weekly_hours).astype(np.int32).max(initial=1))


def priced(market: Market) -> np.ndarray:
    """Prices with a last entry of +inf for the empty slot (course id -1)."""
    return np.append(market.price_idr.astype(np.float32), np.float32(np.inf))


def copay_per_idr(market: Market, params: Choice) -> np.float32:
    """Disutility of one IDR of own money (a top-up or a co-payment)."""
    return np.float32(params.copay_weight / max(market.credit_idr, 1.0))


def taste_tables(market: Market, params: Choice) -> np.ndarray:
    """``taste_table`` [courses + 1, kinds] and, with incentive seekers on, the seekers' beside it
    [courses + 1, 2 * kinds] (float32)."""
    ordinary = taste_table(market, params)
    if not params.incentive_seekers.enabled:
        return ordinary
    return np.concatenate([ordinary, seeker_taste_table(market, params, ordinary)], axis=1)


def time_tables(market: Market, params: Choice, max_hours: int) -> np.ndarray:
    """``time_table`` [courses + 1, max_hours + 1] and, with incentive seekers on, the seekers'
    beside it [courses + 1, 2 * (max_hours + 1)] (float32)."""
    ordinary = time_table(market, params, max_hours)
    if not params.incentive_seekers.enabled:
        return ordinary
    return np.concatenate([ordinary, seeker_time_table(market, params, ordinary)], axis=1)


def seeker_taste_table(market: Market, params: Choice, ordinary: np.ndarray) -> np.ndarray:
    """The taste table of incentive seekers: ``ordinary`` (``taste_table``) plus the quality,
    relevance and effort terms of the module's formula, per course and kind (float32)."""
    factors = params.incentive_seekers
    n_sectors, n_regions = market.log_vacancies.shape
    table = ordinary.copy()
    if market.course_sector.shape[0] == 0:
        return table
    quality = quality_term(market, params)  # as the ordinary shopper values it (free content, counselling)
    difficulty = market.course_difficulty.astype(np.float32)
    relevant = (market.course_sector[:, None] == np.arange(n_sectors)[None, :]).astype(np.float32)
    per_course = (factors.quality_factor - 1.0) * (quality - quality.mean()) - (
        factors.effort_factor - 1.0
    ) * params.effort_weight * (difficulty - difficulty.mean())
    per_sector = (
        (factors.relevance_factor - 1.0) * params.relevance_weight * (relevant - relevant.mean(axis=0))
    )
    shift = (per_course[:, None] + per_sector).astype(np.float32)  # [courses, sector]
    table[:-1] += np.tile(shift, (1, n_regions * 2))  # columns: (region * 2 + internet) * sectors + sector
    return table


def seeker_time_table(market: Market, params: Choice, ordinary: np.ndarray) -> np.ndarray:
    """The time table of incentive seekers: ``ordinary`` (``time_table``) plus the weeks term of
    the module's formula, per course and whole weekly hours (float32)."""
    table = ordinary.copy()
    if market.course_hours.shape[0] == 0:
        return table
    weekly = np.arange(ordinary.shape[1], dtype=np.float32)
    weekly[0] = 1.0
    weeks = np.ceil(market.course_hours[:, None] / weekly[None, :])
    extra = (params.incentive_seekers.weeks_factor - 1.0) * params.weeks_weight
    table[:-1] += (extra * (weeks - weeks.mean(axis=0))).astype(np.float32)
    return table


def taste_table(market: Market, params: Choice) -> np.ndarray:
    """Utility of each course for each shopper type [courses + 1, region * 2 * sector] (float32):
    appeal, relevance, local demand and mode fit; the last row (empty slot) is -inf.
    Column of a shopper: (region * 2 + internet) * n_sectors + sector of interest."""
    n_sectors, n_regions = market.log_vacancies.shape
    sector = market.course_sector.astype(np.intp)
    mode = market.course_mode.astype(np.intp)
    penalty = mode_penalty(market, params)  # [mode, internet, region]
    table = np.empty((sector.shape[0] + 1, n_regions, 2, n_sectors), dtype=np.float32)
    appeal = course_appeal(market, params)
    for region in range(n_regions):  # small loops over regions and internet access
        demand = demand_weight(market, params) * market.log_vacancies[sector, region]
        for internet in (0, 1):
            base = appeal + demand - penalty[mode, internet, region]
            relevant = sector[:, None] == np.arange(n_sectors)[None, :]
            table[:-1, region, internet, :] = base[:, None] + params.relevance_weight * relevant
    table[-1] = -np.inf
    return veto(table, market).reshape(table.shape[0], -1)


def time_table(market: Market, params: Choice, max_hours: int) -> np.ndarray:
    """Disutility of course length [courses + 1, max_hours + 1]: weeks_weight * ceil(hours /
    weekly hours), by whole weekly hours (column 0 unused); the last row (empty slot) is 0."""
    weekly = np.arange(max_hours + 1, dtype=np.float32)
    weekly[0] = 1.0
    table = np.zeros((market.course_hours.shape[0] + 1, max_hours + 1), dtype=np.float32)
    table[:-1] = params.weeks_weight * np.ceil(market.course_hours[:, None] / weekly[None, :])
    return table


def outside_utility(shoppers: Shoppers, params: Choice) -> np.ndarray:
    """Utility of waiting [n]."""
    return (params.outside_utility + params.outside_shift_per_course * shoppers.courses_bought).astype(
        np.float32
    )


def waiting_utility(shoppers: Shoppers, market: Market, params: Choice) -> np.ndarray:
    """Utility of waiting [n] as the shoppers weigh it this week (float32): ``outside_utility``
    plus, for an incentive seeker, ``inclusive_value_shift`` (the same as ``outside_utility``
    when incentive seekers are off)."""
    outside = outside_utility(shoppers, params)
    if not params.incentive_seekers.enabled:
        return outside
    return (outside + inclusive_value_shift(shoppers, market, params)).astype(np.float32)


def inclusive_value_shift(shoppers: Shoppers, market: Market, params: Choice) -> np.ndarray:
    """LSE_j(u_seeker_ij) - LSE_j(u_ij) [n] (float64) for each incentive seeker i, over the
    feasible options j of their page, with u_seeker the seeker's utilities and u the ordinary
    shopper's (``utilities`` with the motive set to ORDINARY); 0 for ordinary shoppers and for a
    page with no feasible option. Added to a seeker's waiting utility, it keeps their chance of
    waiting that of an ordinary shopper (module docstring)."""
    shift = np.zeros(len(shoppers))
    seekers = shoppers.motives() == INCENTIVE_SEEKER
    if not params.incentive_seekers.enabled or not seekers.any():
        return shift
    group = shoppers.subset(seekers)
    as_seeker = utilities(group, market, params)
    as_ordinary = utilities(replace(group, motive=np.zeros(len(group), dtype=np.int8)), market, params)
    seeker_value, ordinary_value = log_sum_exp(as_seeker), log_sum_exp(as_ordinary)
    feasible = np.isfinite(seeker_value) & np.isfinite(ordinary_value)  # else no option: no shift
    shift[seekers] = np.where(feasible, seeker_value - np.where(feasible, ordinary_value, 0.0), 0.0)
    return shift


def log_sum_exp(utility: np.ndarray) -> np.ndarray:
    """log sum_j exp(utility_ij) [n] (float64; -inf for a row with no finite entry)."""
    full = utility.astype(np.float64)
    top = full.max(axis=1, initial=-np.inf)
    safe = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe + np.log(np.exp(full - safe[:, None]).sum(axis=1))


def gumbel(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard Gumbel draws (float64) from a sequential generator, for tests that need noise of
    their own (the model's shoppers draw theirs keyed by person: ``keyed_draws.Draws.gumbels``)."""
    draws = np.maximum(rng.standard_exponential(shape), 1e-300)
    np.log(draws, out=draws)
    return np.negative(draws, out=draws)


def choose(utility: np.ndarray, outside: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Gumbel-max choice: column index of the best option, or OUTSIDE (-1) to wait.

    ``noise`` is [n, J + 1]; its last column belongs to the outside option.
    """
    total = utility + noise[:, :-1]
    best = np.argmax(total, axis=1)
    best_value = np.take_along_axis(total, best[:, None], axis=1)[:, 0]
    return np.where(best_value > outside + noise[:, -1], best, OUTSIDE)


@dataclass(frozen=True)
class ExpectedDemand:
    """What shopping is expected to bring each course (arrays over course ids, added to in place):
    how often it was shown, its expected sales (the sum, over the shoppers shown it, of the logit
    probability that they buy it; simulated purchases) and the provider's expected receipts after
    the platform's commission (simulated IDR); and the same two had the course been priced at an
    alternative price (the same shoppers, every other course's price unchanged)."""

    impressions: np.ndarray  # int64 [courses], times shown in a shopper's choice set
    sales: np.ndarray  # float64 [courses], expected simulated purchases
    net_revenue_idr: np.ndarray  # float64 [courses], expected receipts net of commission, IDR
    alt_sales: np.ndarray  # float64 [courses], expected purchases at the alternative price
    alt_net_revenue_idr: np.ndarray  # float64 [courses], expected net receipts at that price, IDR

    @classmethod
    def zeros(cls, n_courses: int) -> ExpectedDemand:
        return cls(np.zeros(n_courses, np.int64), *(np.zeros(n_courses) for _ in range(4)))

    def extended(self, new_courses: int) -> ExpectedDemand:
        """The same tally with ``new_courses`` more courses (entrants), at zero."""
        arrays = (
            self.impressions,
            self.sales,
            self.net_revenue_idr,
            self.alt_sales,
            self.alt_net_revenue_idr,
        )
        return ExpectedDemand(*(np.concatenate([a, np.zeros(new_courses, a.dtype)]) for a in arrays))

    def add(self, tally: tuple[np.ndarray, ...], price_idr: np.ndarray, alt_price_idr: np.ndarray) -> None:
        """Add the kernel's ``tally`` (impressions, sales, sales x provider share, and the two at
        the alternative price; ``kernels.choose_courses``) at these prices [courses], IDR."""
        impressions, sales, shared, alt_sales, alt_shared = tally
        self.impressions[:] += impressions
        self.sales[:] += sales
        self.net_revenue_idr[:] += shared * price_idr
        self.alt_sales[:] += alt_sales
        self.alt_net_revenue_idr[:] += alt_shared * alt_price_idr


def shop(
    shoppers: Shoppers,
    market: Market,
    params: Choice,
    draws: Draws,
    demand: ExpectedDemand | None = None,
    provider_share: np.ndarray | None = None,
    alt_price_idr: np.ndarray | None = None,
) -> np.ndarray:
    """Column picked by each shopper (-1 = wait), drawn by the compiled kernel. Identical to
    ``choose(utilities(s, m, p), waiting_utility(s, m, p), draws.gumbels(s.persons(), J))``: each
    shopper's noise is keyed by the person, the week and the slot.

    The same pass adds to ``demand`` (when given) what this week's choice sets are expected to
    bring each course: ``expected_demand(s, m, p, provider_share, alt_price_idr)``.
    ``provider_share`` [n] is the share of the price the provider keeps from each shopper's
    purchase (1 - the commission of the shopper's platform; default 1); ``alt_price_idr``
    [courses] the alternative prices (default: the prices). The draws and picks do not depend on
    these. Shoppers are taken in blocks of ``SHOPPER_BLOCK``, run at once on the cores.
    """
    kind, hours = shopper_columns(shoppers, market, params)
    share = np.ones(len(shoppers)) if provider_share is None else provider_share
    alt = market.price_idr if alt_price_idr is None else alt_price_idr
    per_shopper = (
        shoppers.persons(),
        shoppers.options,
        kind,
        hours,
        shoppers.credit_left_idr.astype(np.float32),
        shoppers.last_course.astype(np.int32),
        waiting_utility(shoppers, market, params),
    )
    shared = (
        np.ascontiguousarray(taste_tables(market, params).T),
        np.ascontiguousarray(time_tables(market, params, max_hours(shoppers)).T),
        priced(market),
        float(market.max_topup_idr),
        float(copay_per_idr(market, params)),
        *copay_shares(market),
    )
    alternative = (priced(replace(market, price_idr=alt)), np.append(appeal_factor(market, params, alt), 0.0))
    n = market.price_idr.shape[0]
    share = np.asarray(share, dtype=np.float64)

    def block(start: int, stop: int) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        tally = (np.zeros(n, np.int64), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n))
        persons, options, kind, hours, credit, last, waiting = (c[start:stop] for c in per_shopper)
        picks = choose_courses(
            persons, draws.week, draws.key, options, kind, hours, credit, last, waiting,
            *shared, share[start:stop], *alternative, tally,
        )  # fmt: skip
        return picks, tally

    done = in_order(block, shopper_blocks(len(shoppers)))
    picks, tally = done[0]
    for _, more in done[1:]:  # block by block, in order: the sums do not depend on the threads
        for total, part in zip(tally, more, strict=True):
            total += part
    if demand is not None:
        demand.add(tally, market.price_idr.astype(np.float64), np.asarray(alt, dtype=np.float64))
    return np.concatenate([picks for picks, _ in done]) if len(done) > 1 else picks


def shopper_blocks(n: int) -> list[tuple[int, int]]:
    """(start, stop) of the blocks of ``SHOPPER_BLOCK`` shoppers that ``shop`` runs at once; one
    block when there are fewer shoppers."""
    edges = [*range(0, n, SHOPPER_BLOCK), n] if n > SHOPPER_BLOCK else [0, n]
    return list(zip(edges[:-1], edges[1:], strict=True))


def appeal_factor(market: Market, params: Choice, alt_price_idr: np.ndarray) -> np.ndarray:
    """exp(change in each course's appeal) when priced ``alt_price_idr`` [courses] (float64)."""
    alt = course_appeal(replace(market, price_idr=alt_price_idr), params).astype(np.float64)
    return np.exp(alt - course_appeal(market, params).astype(np.float64))


def expected_demand(
    shoppers: Shoppers,
    market: Market,
    params: Choice,
    provider_share: np.ndarray,
    alt_price_idr: np.ndarray | None = None,
) -> ExpectedDemand:
    """Impressions, expected sales and expected net receipts per course [courses] of one week's
    shoppers, at the prices and at ``alt_price_idr``, in plain numpy (the twin of the tally in
    ``shop``). Every non-empty slot is an impression; a slot's expected sale is its logit
    probability (``logit_probabilities``; 0 when infeasible) and its expected net receipts that
    probability times price times the shopper's ``provider_share``. At the alternative price, a
    slot's utility is that of its course at ``alt_price_idr`` while the other slots keep theirs.
    """
    n = market.price_idr.shape[0]
    shown = shoppers.options >= 0
    course = shoppers.options[shown]
    share = np.broadcast_to(np.asarray(provider_share, dtype=np.float64)[:, None], shown.shape)[shown]
    alt_price = market.price_idr if alt_price_idr is None else alt_price_idr
    u = utilities(shoppers, market, params)
    outside = waiting_utility(shoppers, market, params)
    u_alt = utilities(shoppers, replace(market, price_idr=alt_price), params).astype(np.float64)
    chance = logit_probabilities(u, outside)[:, :-1]
    alt_chance = alt_probabilities(u, outside, u_alt, chance)
    slot = np.maximum(shoppers.options, 0)  # empty slots (-1) count nothing: their chance is 0
    net_share = share_of(shown, share)

    def per_course(values: np.ndarray) -> np.ndarray:
        return np.bincount(course, values[shown], minlength=n)

    return ExpectedDemand(
        np.bincount(course, minlength=n).astype(np.int64),
        per_course(chance),
        per_course(chance * market.price_idr[slot] * net_share),
        per_course(alt_chance),
        per_course(alt_chance * np.asarray(alt_price)[slot] * net_share),
    )


def share_of(shown: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``share`` (one value per shown slot) spread back over the slots [n, J] (0 where empty)."""
    full = np.zeros(shown.shape)
    full[shown] = share
    return full


def alt_probabilities(
    utility: np.ndarray, outside: np.ndarray, alt_utility: np.ndarray, chance: np.ndarray
) -> np.ndarray:
    """Probability of each slot [n, J] had its utility been ``alt_utility`` and every other slot's
    and waiting's stayed: 1 / (1 + rest / exp(alt utility)), ``rest`` being the logit weight of
    everything else (from the log-sum-exp of the row and the slot's probability ``chance``)."""
    full = np.concatenate([utility, outside[:, None]], axis=1).astype(np.float64)
    top = full.max(axis=1, keepdims=True)
    log_total = top + np.log(np.exp(full - top).sum(axis=1, keepdims=True))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = alt_utility - (log_total + np.log1p(-chance))  # log(alt weight / rest)
        return np.where(np.isneginf(alt_utility), 0.0, 0.5 * (1.0 + np.tanh(gap / 2.0)))


def logit_probabilities(utility: np.ndarray, outside: np.ndarray) -> np.ndarray:
    """Closed-form choice probabilities [n, J + 1] (last column: outside), for tests and docking."""
    full = np.concatenate([utility, outside[:, None]], axis=1).astype(np.float64)
    full -= full.max(axis=1, keepdims=True)
    weights = np.exp(full)
    return weights / weights.sum(axis=1, keepdims=True)
