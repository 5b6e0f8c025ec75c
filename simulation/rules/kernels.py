"""Compiled hot loops (numba). Each kernel has a plain-numpy twin that states what it computes;
tests check that both give identical results on the same draws.

Kernels draw a person's random numbers from the counter-based generator of
:mod:`simulation.rules.keyed_draws`, keyed by the person (row), the week and the slot, so a
person's draws do not depend on who else is in the batch or in which order. Compilation is cached
on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulation.rules.keyed_draws import person_seeds, slot_uniform, uniform32, uniform64

OVERFLOW = 1e300  # logit weights summing beyond this are recomputed relative to the best option
DRAW_CHUNK = 1024  # rows whose draws are made at once (labour, choice sets, outreach): a buffer in cache


@njit(cache=True, nogil=True)
def choose_courses(
    persons: np.ndarray,
    week: int,
    key: np.ndarray,
    options: np.ndarray,
    kind: np.ndarray,
    hours: np.ndarray,
    credit_left_idr: np.ndarray,
    last_course: np.ndarray,
    outside: np.ndarray,
    taste: np.ndarray,
    time_cost: np.ndarray,
    price_idr: np.ndarray,
    max_topup_idr: float,
    copay_per_idr: float,
    copay_share: np.float32,
    credit_share: np.float32,
    provider_share: np.ndarray,
    alt_price_idr: np.ndarray,
    alt_factor: np.ndarray,
    tally: tuple,
) -> np.ndarray:  # pragma: no cover - compiled; numpy twins: choice.choose(utilities(...)), expected_demand
    """Gumbel-max shopping choice, fused: the column picked by each shopper, or -1 to wait; and,
    added in place per course to ``tally``, what the choice is expected to bring.

    Picks: the same as ``choice.choose(choice.utilities(...), outside, noise)`` where ``noise``
    is ``keyed_draws.Draws(key, week).gumbels(persons, J)``: shopper ``i``'s slot ``j`` gets
    ``-log(E)`` with the standard exponential ``E = -log(U)`` of the uniform ``U`` of slot ``j``
    keyed by (``persons[i]``, ``week``) (``keyed_draws.slot_uniform``), and waiting that of its
    own seed.
    Tables are those of ``choice.taste_tables`` and ``choice.time_tables`` transposed (a
    shopper's look-ups then stay in one contiguous row; ``kind`` and ``hours`` are each shopper's
    columns in them, ``choice.shopper_columns``); ``price_idr`` has an extra last entry
    (+inf) for the empty slot, reached by course id -1. Instead of ``u - log(E)`` for the
    exponential draw ``E``, the kernel compares ``w / E`` with the logit weight ``w = exp(u -
    reference)``: the same order (so the same picks, but for ties in the last bit), and ``w`` also
    gives the probabilities.

    ``tally`` = (impressions, sales, shared sales, sales at the alternative price, shared sales at
    the alternative price), arrays over courses, added to for each course ``c`` shown in a slot
    (not -1): one impression; the logit probability ``P`` that the shopper buys that slot (0 if
    infeasible); ``P * provider_share[i]``; and the same had that slot's course been priced
    ``alt_price_idr[c]`` (same extra last entry), every other slot unchanged (``alt_factor[c]``:
    exp of the change in the course's appeal, ``choice.course_appeal``). Times the prices, these
    are ``choice.expected_demand`` (``choice.ExpectedDemand.add``).

    ``copay_share`` s and ``credit_share`` 1 - s (float32, ``choice.copay_shares``): with s > 0
    a slot needs (1 - s) x price of credit and costs s x price plus any top-up of own money
    (``choice.with_copayment``); with s = 0 the top-up rule alone, as before the co-payment.
    """
    n, width = options.shape
    picks = np.empty(n, dtype=np.int64)
    weight, alt = np.empty(width), np.empty(width)
    counted = np.zeros(0, dtype=tally[0].dtype)  # a second pass must not count impressions again
    args = (options, kind, hours, credit_left_idr, last_course, taste, time_cost)
    prices = (
        price_idr,
        alt_price_idr,
        alt_factor,
        max_topup_idr,
        np.float32(copay_per_idr),
        copay_share,
        credit_share,
    )
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    for i in range(n):
        seed, wait_seed = person_seeds(np.int64(persons[i]), week, k0, k1)
        reference: float = np.float64(outside[i])  # weights relative to waiting's utility...
        total = weights_of(i, reference, weight, alt, tally[0], prices, args) + 1.0
        if not total < OVERFLOW:  # ...unless an option beats waiting by ~690 utils: to the best one
            reference = max(reference, best_utility(i, weight, alt, prices, args))
            total = weights_of(i, reference, weight, alt, counted, prices, args)
            total += np.exp(np.float64(outside[i]) - reference)
        per_weight = 1.0 / total
        share = provider_share[i]
        best_ratio = 0.0  # the largest w / E so far; infeasible slots have w = 0
        pick = -1
        for j in range(width):
            if weight[j] > 0.0:  # an infeasible slot (weight 0) is never picked: no draw needed
                ratio = weight[j] / -np.log(slot_uniform(seed, j))
                if ratio > best_ratio:
                    best_ratio = ratio
                    pick = j
            if weight[j] > 0.0 or alt[j] > 0.0:
                course = options[i, j]
                chance = weight[j] * per_weight
                alt_chance = alt_probability(alt[j], total - weight[j])
                tally[1][course] += chance
                tally[2][course] += chance * share
                tally[3][course] += alt_chance
                tally[4][course] += alt_chance * share
        wait = np.exp(np.float64(outside[i]) - reference)
        picks[i] = pick if best_ratio > wait / -np.log(slot_uniform(wait_seed, 0)) else -1
    return picks


# The weights' functions are inlined into the loop over shoppers (numba IR, ``inline="always"``):
# called, with their many arrays, they took a third of the time of choose_courses (measured: 16.0
# -> 10.3 ms for 32,768 shoppers x 14 slots).
@njit(cache=True, nogil=True, inline="always")
def weights_of(
    i: int,
    reference: float,
    weight: np.ndarray,
    alt: np.ndarray,
    impressions: np.ndarray,
    prices: tuple,
    args: tuple,
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """``slot_weights``, or ``copaid_slot_weights`` under a co-payment share s > 0 (``prices[5]``);
    ``args`` = (options, kind, hours, credit_left_idr, last_course, taste, time_cost)."""
    if prices[5] > 0.0:
        return copaid_slot_weights(i, reference, weight, alt, impressions, prices, args)
    return slot_weights(i, reference, weight, alt, impressions, prices, args)


@njit(cache=True, nogil=True, inline="always")
def slot_weights(
    i: int,
    reference: float,
    weight: np.ndarray,
    alt: np.ndarray,
    impressions: np.ndarray,
    prices: tuple,
    args: tuple,
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """Logit weights ``exp(u - reference)`` of shopper ``i``'s slots into ``weight`` (0 where
    infeasible; ``u`` as ``choice.utilities``) and into ``alt`` the same at each slot course's
    alternative price (may overflow to inf); returns the sum of ``weight``. Counts each course
    shown in ``impressions`` unless that is empty. ``prices``: (price, alternative price, its
    appeal factor, top-up allowed, disutility per IDR of own money, co-payment share s, 1 - s)."""
    price_idr, alt_price_idr, alt_factor, max_topup_idr, copay, share, keep = prices
    options, kind, hours, credit_left_idr, last_course, taste, time_cost = args
    credit, last, row, column = credit_left_idr[i], last_course[i], kind[i], hours[i]
    count = impressions.shape[0] > 0
    total = 0.0
    for j in range(options.shape[1]):
        course = options[i, j]
        if count and course >= 0:
            impressions[course] += 1
        weight[j] = 0.0
        alt[j] = 0.0
        topup, alt_topup = price_idr[course] - credit, alt_price_idr[course] - credit
        feasible, alt_feasible = topup <= max_topup_idr, alt_topup <= max_topup_idr
        if course == last or not (feasible or alt_feasible):
            continue
        u = taste[row, course] - time_cost[column, course]
        if max_topup_idr > 0.0:  # a co-payment may differ between the two prices
            if feasible:
                weight[j] = np.exp(np.float64(u - copay * max(topup, np.float32(0.0))) - reference)
            if alt_feasible:
                alt[j] = np.exp(np.float64(u - copay * max(alt_topup, np.float32(0.0))) - reference)
                alt[j] *= alt_factor[course]
        else:
            both = np.exp(np.float64(u) - reference)
            weight[j] = both if feasible else 0.0
            alt[j] = both * alt_factor[course] if alt_feasible else 0.0
        total += weight[j]
    return total


@njit(cache=True, nogil=True, inline="always")
def copaid_slot_weights(
    i: int,
    reference: float,
    weight: np.ndarray,
    alt: np.ndarray,
    impressions: np.ndarray,
    prices: tuple,
    args: tuple,
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """``slot_weights`` under a co-payment s > 0 (``choice.with_copayment``): a slot needs
    (1 - s) x price of credit, feasible if that is within the credit left plus the allowed top-up,
    and costs ``copay`` x (s x price + max(0, (1 - s) x price - credit left)) of utility, at the
    price and at the alternative price alike; float32 as in numpy."""
    price_idr, alt_price_idr, alt_factor, max_topup_idr, copay, share, keep = prices
    options, kind, hours, credit_left_idr, last_course, taste, time_cost = args
    credit, last, row, column = credit_left_idr[i], last_course[i], kind[i], hours[i]
    count = impressions.shape[0] > 0
    zero = np.float32(0.0)
    total = 0.0
    for j in range(options.shape[1]):
        course = options[i, j]
        if count and course >= 0:
            impressions[course] += 1
        weight[j] = 0.0
        alt[j] = 0.0
        if course < 0 or course == last:
            continue
        price, alt_price = price_idr[course], alt_price_idr[course]
        topup, alt_topup = keep * price - credit, keep * alt_price - credit
        feasible, alt_feasible = topup <= max_topup_idr, alt_topup <= max_topup_idr
        u = taste[row, course] - time_cost[column, course]
        if feasible:
            own = share * price + max(topup, zero)
            weight[j] = np.exp(np.float64(u - copay * own) - reference)
        if alt_feasible:
            alt_own = share * alt_price + max(alt_topup, zero)
            alt[j] = np.exp(np.float64(u - copay * alt_own) - reference) * alt_factor[course]
        total += weight[j]
    return total


@njit(cache=True, nogil=True)
def best_utility(
    i: int, weight: np.ndarray, alt: np.ndarray, prices: tuple, args: tuple
) -> float:  # pragma: no cover - compiled; part of choose_courses
    """The largest utility of shopper ``i``'s slots at the price (-inf if none is feasible), from
    their weights relative to ever larger references until none overflows."""
    shift = 0.0
    while True:
        total = weights_of(i, shift, weight, alt, np.zeros(0, np.int64), prices, args)
        if total < OVERFLOW:
            return shift + np.log(weight.max()) if total > 0.0 else -np.inf
        shift += 600.0


@njit(cache=True, nogil=True)
def alt_probability(alt_weight: float, rest: float) -> float:  # pragma: no cover - compiled
    """Probability of a slot of logit weight ``alt_weight`` against ``rest``, the weights of every
    other slot and of waiting (below ``OVERFLOW``); ``alt_weight`` may be huge or inf."""
    if alt_weight <= 0.0:
        return 0.0
    if alt_weight < OVERFLOW:
        return alt_weight / (rest + alt_weight)
    return 1.0 / (1.0 + rest / alt_weight)


@njit(cache=True, nogil=True)
def wage_hazard(
    odds_inverse: np.float32, factor: np.float32, cash_factor: np.float32, locked: bool, keep: np.float32
) -> np.float32:  # pragma: no cover - compiled; part of employment_week
    """Weekly wage-job-finding probability 1 / (1 + inverse odds x skill factor x cash factor),
    times ``keep`` (1 - lock_in) while in a course; float32."""
    one = np.float32(1.0)
    inverse = odds_inverse * factor
    if cash_factor != one:
        inverse = inverse * cash_factor
    find = one / (one + inverse)
    if locked:
        find *= keep
    return find


@njit(cache=True, nogil=True)
def employment_week(
    u: np.ndarray,
    group: np.ndarray,
    inverse_odds: np.ndarray,
    find_odds_factor: np.ndarray,
    loss: np.ndarray,
    in_course: np.ndarray,
    lock_in_keep: np.float32,
    twin_loss: np.float32,
    employed: np.ndarray,
    twin_employed: np.ndarray,
    business: np.ndarray,
    twin_business: np.ndarray,
    liquidity: np.ndarray,
    business_odds_factor: np.ndarray,
    rates: np.ndarray,
    cell: np.ndarray,
    cells: int,
) -> None:  # pragma: no cover - compiled; tests recompute every transition in numpy
    """One week of the employment chain for everyone, updating ``employed`` (working for a wage or
    running a business), ``business`` and the twin's two in place (see ``simulation.model.labour``).

    ``rates`` (float32) = (business start odds without skill or cash, business exit probability,
    cash search effect, cash business effect, crowding; crowding 0 = no displacement). Person i
    with uniform draw ``u[i]`` and liquidity ``L = liquidity[i]`` (millions of IDR):

    * treated path, not working: wage hazard f = 1 / (1 + inverse_odds[group] *
      find_odds_factor * exp(-cash_search * L)), business hazard b = o / (1 + o) with o = start
      odds * business_odds_factor * exp(cash_business * L), both times ``lock_in_keep`` while in a
      course; starts a business if u >= 1 - b, else finds a wage job if u < f (a business start
      never depends on f). With displacement, f is first multiplied by the cell's factor
      (H0 / H1) ** crowding when H1 > H0, H0 = sum over the cell's twins not working of their f,
      H1 = the same over the treated paths not working (a first pass over everyone,
      ``hire_scales``);
    * treated path, working: a wage job is lost if u < loss[i], a business closes if u < exit;
    * twin: the same with find_odds_factor = business_odds_factor = 1, no cash, no lock-in, no
      displacement and loss = ``twin_loss``.

    All arithmetic is float32, as in the numpy formulation; with no business (start odds 0), no
    cash effect and no crowding it is the two-state chain exactly. The model runs the same
    transitions through ``employment_block``, which draws ``u`` itself, block by block.
    """
    scale_hire = hire_scales(
        group, inverse_odds, find_odds_factor, in_course, lock_in_keep, employed, twin_employed,
        liquidity, rates, cell, cells,
    )  # fmt: skip
    no_key = np.zeros(2, dtype=np.uint32)
    tallies = np.zeros(0, dtype=np.int16)
    employment_block(
        0, u.shape[0], 0, no_key, u, group, inverse_odds, find_odds_factor, loss, in_course,
        lock_in_keep, twin_loss, employed, twin_employed, business, twin_business, liquidity,
        business_odds_factor, rates, cell, scale_hire, np.float32(1.0), False,
        tallies, tallies, tallies, tallies,
    )  # fmt: skip


@njit(cache=True, nogil=True)
def hire_scales(
    group: np.ndarray,
    inverse_odds: np.ndarray,
    find_odds_factor: np.ndarray,
    in_course: np.ndarray,
    lock_in_keep: np.float32,
    employed: np.ndarray,
    twin_employed: np.ndarray,
    liquidity: np.ndarray,
    rates: np.ndarray,
    cell: np.ndarray,
    cells: int,
) -> np.ndarray:  # pragma: no cover - compiled; part of employment_week
    """The factor (H0 / H1) ** crowding multiplying the treated paths' wage hazards in each cell
    (float32 [cells]; 1 where H1 <= H0, everywhere when crowding, ``rates[4]``, is 0): H0 sums the
    wage hazards of the cell's twins not working, H1 those of its treated paths not working, over
    every row in order (``employment_week``)."""
    one = np.float32(1.0)
    cash_search, crowding = rates[2], rates[4]
    scale_hire = np.ones(cells, dtype=np.float32)
    if crowding <= 0:
        return scale_hire
    h0 = np.zeros(cells, dtype=np.float64)
    h1 = np.zeros(cells, dtype=np.float64)
    for i in range(group.shape[0]):
        odds = inverse_odds[group[i]]
        if not twin_employed[i]:
            h0[cell[i]] += one / (one + odds)
        if not employed[i]:
            cash = np.float32(np.exp(-cash_search * liquidity[i])) if cash_search != 0 else one
            h1[cell[i]] += wage_hazard(odds, find_odds_factor[i], cash, in_course[i], lock_in_keep)
    for c in range(cells):
        if h1[c] > h0[c]:
            scale_hire[c] = np.float32((h0[c] / h1[c]) ** crowding)
    return scale_hire


@njit(cache=True, nogil=True)
def employment_block(
    start: int,
    stop: int,
    week: int,
    key: np.ndarray,
    u: np.ndarray,
    group: np.ndarray,
    inverse_odds: np.ndarray,
    find_odds_factor: np.ndarray,
    loss: np.ndarray,
    in_course: np.ndarray,
    lock_in_keep: np.float32,
    twin_loss: np.float32,
    employed: np.ndarray,
    twin_employed: np.ndarray,
    business: np.ndarray,
    twin_business: np.ndarray,
    liquidity: np.ndarray,
    business_odds_factor: np.ndarray,
    rates: np.ndarray,
    cell: np.ndarray,
    scale_hire: np.ndarray,
    cash_keep: np.float32,
    endline: bool,
    weeks_employed: np.ndarray,
    twin_weeks_employed: np.ndarray,
    weeks_business: np.ndarray,
    twin_weeks_business: np.ndarray,
) -> None:  # pragma: no cover - compiled; tests recompute every transition in numpy
    """``employment_week``'s transitions for rows ``start`` to ``stop`` - 1, with the cells'
    ``scale_hire`` (``hire_scales``). Row i's uniform is ``u[i]``, or when ``u`` is empty its
    keyed draw ``keyed_draws.uniform32(i, week, 0, key)`` (what ``person_uniforms32`` gives).
    Then, as the weekly step does after the chain, liquidity decays (``liquidity[i] *=
    cash_keep``) and, if ``endline``, the four endline week counters add the new states."""
    one = np.float32(1.0)
    start_odds, exit_rate, cash_search, cash_business, crowding = (
        rates[0],
        rates[1],
        rates[2],
        rates[3],
        rates[4],
    )
    twin_start = start_odds / (one + start_odds)
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    draws = np.empty(DRAW_CHUNK, dtype=np.float32)
    for first in range(start, stop, DRAW_CHUNK):
        last = min(first + DRAW_CHUNK, stop)
        if u.shape[0] == 0:  # a chunk of draws at a time: a loop the compiler vectorises
            for i in range(first, last):
                draws[i - first] = uniform32(np.int64(i), week, 0, k0, k1)
        else:
            draws[: last - first] = u[first:last]
        _employment_rows(
            first, last, draws, group, inverse_odds, find_odds_factor, loss, in_course, lock_in_keep,
            twin_loss, employed, twin_employed, business, twin_business, liquidity, business_odds_factor,
            start_odds, exit_rate, cash_search, cash_business, crowding, twin_start, cell, scale_hire,
            cash_keep, endline, weeks_employed, twin_weeks_employed, weeks_business, twin_weeks_business,
        )  # fmt: skip


@njit(cache=True, nogil=True, inline="always")
def _employment_rows(
    first,
    last,
    draws,
    group,
    inverse_odds,
    find_odds_factor,
    loss,
    in_course,
    lock_in_keep,
    twin_loss,
    employed,
    twin_employed,
    business,
    twin_business,
    liquidity,
    business_odds_factor,
    start_odds,
    exit_rate,
    cash_search,
    cash_business,
    crowding,
    twin_start,
    cell,
    scale_hire,
    cash_keep,
    endline,
    weeks_employed,
    twin_weeks_employed,
    weeks_business,
    twin_weeks_business,
) -> None:  # pragma: no cover - compiled; part of employment_block
    """The transitions of rows ``first`` to ``last`` - 1, row i with uniform ``draws[i - first]``."""
    one = np.float32(1.0)
    for i in range(first, last):
        ui = draws[i - first]
        odds = inverse_odds[group[i]]
        if employed[i]:
            if business[i]:
                employed[i] = ui >= exit_rate
                business[i] = employed[i]
            else:
                employed[i] = ui >= loss[i]
        else:
            held = liquidity[i]  # 0 for most rows, where the cash factors are exactly 1: no exp
            cash = np.float32(np.exp(-cash_search * held)) if cash_search != 0 and held != 0 else one
            find = wage_hazard(odds, find_odds_factor[i], cash, in_course[i], lock_in_keep)
            if crowding > 0:
                find *= scale_hire[cell[i]]
            begin = np.float32(0.0)
            if start_odds > 0:
                o = start_odds * business_odds_factor[i]
                if cash_business != 0 and held != 0:
                    o *= np.float32(np.exp(cash_business * held))
                begin = o / (one + o)
                if in_course[i]:
                    begin *= lock_in_keep
            business[i] = ui >= one - begin
            employed[i] = business[i] or ui < find
        if twin_employed[i]:
            if twin_business[i]:
                twin_employed[i] = ui >= exit_rate
                twin_business[i] = twin_employed[i]
            else:
                twin_employed[i] = ui >= twin_loss
        else:
            twin_business[i] = ui >= one - twin_start
            twin_employed[i] = twin_business[i] or ui < one / (one + odds)
        liquidity[i] *= cash_keep
        if endline:
            weeks_employed[i] += employed[i]
            twin_weeks_employed[i] += twin_employed[i]
            weeks_business[i] += business[i]
            twin_weeks_business[i] += twin_business[i]


@njit(cache=True, nogil=True)
def choice_sets_block(
    start: int,
    stop: int,
    options: np.ndarray,
    persons: np.ndarray,
    week: int,
    key: np.ndarray,
    platform: np.ndarray,
    sector: np.ndarray,
    pages: np.ndarray,
    listing_start: np.ndarray,
    listing_flat: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """Course ids the shoppers ``start`` to ``stop`` - 1 see, into ``options`` [n, page width +
    others] (int32, -1 = empty slot; others = the columns beyond the page): the ranked page
    ``pages[platform, sector]``, then ``others`` courses drawn uniformly from the platform's
    listing ``listing_flat[start:end]``, the k-th with the keyed uniform of (``persons[i]``,
    ``week``, slot k); a drawn course already in the shopper's set leaves its slot empty (-1), so
    that no course is offered twice."""
    width = pages.shape[2]
    others = options.shape[1] - width
    k0, k1 = np.int64(key[0]), np.int64(key[1])
    draws = np.empty((others, DRAW_CHUNK))
    for head in range(start, stop, DRAW_CHUNK):
        tail = min(head + DRAW_CHUNK, stop)
        for k in range(others):  # a chunk of draws at a time: loops the compiler vectorises
            for i in range(head, tail):
                draws[k, i - head] = uniform64(np.int64(persons[i]), week, k, k0, k1)
        for i in range(head, tail):
            p = platform[i]
            for k in range(width):
                options[i, k] = pages[p, sector[i], k]
            first = listing_start[p]
            count = listing_start[p + 1] - first
            for k in range(others):
                course = listing_flat[first + int(draws[k, i - head] * count)] if count > 0 else -1
                for shown in range(width + k):  # a course already shown leaves the slot empty
                    if options[i, shown] == course:
                        course = -1
                        break
                options[i, width + k] = course


@njit(cache=True, nogil=True)
def add_at(
    target: np.ndarray, rows: np.ndarray, amount: float | np.floating
) -> None:  # pragma: no cover - compiled
    """``np.add.at(target, rows, amount)``: ``amount`` (of ``target``'s type) added to
    ``target[r]`` for each entry r of ``rows`` in turn, a row listed twice getting it twice."""
    for r in rows:
        target[r] += amount


@njit(cache=True, nogil=True)
def categorical_rows(
    cdf: np.ndarray, uniform: np.ndarray, row: np.ndarray, at_or_below: bool = False
) -> np.ndarray:  # pragma: no cover - compiled; numpy statement in the docstring
    """One categorical draw per person from row ``row[i]`` of the cumulative probabilities ``cdf``
    [rows, k] (float64) on the uniform ``uniform[i]``: the number of that row's cumulative
    probabilities below ``uniform[i] * cdf[row[i], -1]``, i.e. ``np.searchsorted(cdf[row[i]],
    uniform[i] * cdf[row[i], -1], side="left")`` (int64 [n]), counted in one pass instead of one
    masked pass per row of ``cdf``; or, if ``at_or_below``, those at or below it (``side="right"``,
    what ``numpy.random.Generator.choice`` does with ``p``: ``world.draw_categories``)."""
    drawn = np.empty(row.shape[0], dtype=np.int64)
    k = cdf.shape[1]
    for i in range(row.shape[0]):
        r = row[i]
        u = uniform[i] * cdf[r, k - 1]
        below = 0  # the cumulative sums do not decrease: those below u come first
        for j in range(k):  # a count without branches: faster than bisection on random rows
            below += (cdf[r, j] <= u) if at_or_below else (cdf[r, j] < u)
        drawn[i] = below
    return drawn
