"""A reference implementation of the weekly shopping decision, written the plain Mesa way.

The production step (:mod:`simulation.rules.choice`, called by ``VoucherScheme._shop``) is vectorised
over all shoppers at once, in float32. This module re-implements the same decision the way a
textbook agent-based model would: one :class:`ShopperAgent` per shopper, each computing the utility
of its options one by one in scalar Python (``math``, float64) and picking the best option or the
outside option (wait this week). It exists to *dock* the two implementations (tests/test_docking.py)
and as the baseline of the speed benchmark (benchmarks/bench_scale.py); the simulation never uses it.

It is written from the formula in the :mod:`simulation.rules.choice` docstring, not from its code, and
shares none of its helpers. Units: money in IDR; money enters utility divided by the full credit
(``Market.credit_idr``), so a weight "per credit" multiplies a share of the credit; hours in hours,
course length in whole weeks; utility is in the logit's arbitrary units (Gumbel scale 1).

For option ``j`` (a course id; ``-1`` an empty page slot) of a shopper::

    u_j = quality_weight       * (stars_j - 1) / 4
        + price_signal_weight  * log(max(price_j, 1) / max(cap, 1))
        - credit_shadow_value  * price_j / credit
        - effort_weight        * difficulty_j
        + relevance_weight     * [sector_j == own sector]
        + demand_weight        * log_vacancies[sector_j, own region]
        - weeks_weight         * ceil(hours_j / own weekly hours)
        - mode penalty: online:  no_internet_penalty if no internet
                        offline: travel_weight * travel_cost[own region] / credit
                        hybrid:  half of each
        - copay_weight         * (s * price_j + max(0, (1 - s) * price_j - credit left)) / credit

with ``credit`` floored at 1 IDR and ``s`` the co-payment share (``Market.copay_share``; 0: the
top-up rule alone). ``u_j = -inf`` (infeasible) for an empty slot, when the top-up
``(1 - s) * price_j - credit left`` exceeds ``max_topup_idr`` (0 when top-ups are not allowed), or
when ``j`` is the course the shopper took last. Waiting is worth ``outside_utility + outside_shift_per_course
* courses bought``. The shopper adds standard Gumbel noise to every option and to waiting and takes
the largest total; a course is bought only if it beats waiting strictly, and among equal courses
the first column wins (the same tie rules as :func:`simulation.rules.choice.choose`).

Noise comes either from an explicit ``[n, J + 1]`` array (last column: the outside option), which
makes the agents' choices comparable one for one with ``choose(utilities(...), outside_utility(...),
noise)``, or, when none is given, each agent draws its own ``J + 1`` standard Gumbel variates from
the model's ``rng`` as it acts.
"""

from __future__ import annotations

import math

import mesa
import numpy as np

from simulation.config.codes import HYBRID, OFFLINE, ONLINE
from simulation.config.scenario import Choice
from simulation.rules.choice import OUTSIDE, Market, Shoppers

NEG_INF = -math.inf


class ShopperAgent(mesa.Agent):
    """One participant holding credit this week, deciding to buy one course from its page or wait.

    Attributes are plain Python scalars copied from one row of :class:`simulation.rules.choice.Shoppers`.
    After :meth:`step`, ``choice`` is the column of the chosen option, or ``OUTSIDE`` (-1) to wait.
    """

    model: ReferenceShoppingModel

    def __init__(
        self,
        model: ReferenceShoppingModel,
        row: int,
        options: list[int],
        sector: int,
        region: int,
        internet: bool,
        weekly_hours: float,
        credit_left_idr: float,
        courses_bought: int,
        last_course: int,
    ) -> None:
        super().__init__(model)
        self.row = row  # the shopper's row in the Shoppers table
        self.options = options  # course ids shown, in page order; -1 = empty slot
        self.sector = sector  # sector of interest (index)
        self.region = region  # home region (index)
        self.internet = internet  # usable mobile internet
        self.weekly_hours = weekly_hours  # hours per week available for a course
        self.credit_left_idr = credit_left_idr  # IDR of credit not yet spent
        self.courses_bought = courses_bought  # courses bought so far
        self.last_course = last_course  # course id of the last course taken, -1 if none
        self.choice: int = OUTSIDE  # column chosen in the last step; OUTSIDE = wait

    # ------------------------------------------------------------------ utilities
    def option_utility(self, course: int) -> float:
        """Utility of buying ``course`` this week (utility units; ``-inf`` if infeasible)."""
        m = self.model
        p = m.params
        if course < 0 or course == self.last_course:
            return NEG_INF
        price = m.price_idr[course]
        topup_idr = (1.0 - m.copay_share) * price - self.credit_left_idr
        if topup_idr > m.max_topup_idr:
            return NEG_INF
        credit = m.credit_unit_idr
        sector = m.course_sector[course]
        u = p.quality_weight * (m.displayed_stars[course] - 1.0) / 4.0
        u += p.price_signal_weight * math.log(max(price, 1.0) / max(m.cap_idr, 1.0))
        u -= p.credit_shadow_value * price / credit
        u -= p.effort_weight * m.course_difficulty[course]
        if sector == self.sector:
            u += p.relevance_weight
        u += p.demand_weight * m.log_vacancies[sector][self.region]
        u -= p.weeks_weight * math.ceil(m.course_hours[course] / self.weekly_hours)
        travel = p.travel_weight * m.travel_cost_idr[self.region] / credit
        offline_internet = 0.0 if self.internet else p.no_internet_penalty
        mode = m.course_mode[course]
        if mode == ONLINE:
            u -= offline_internet
        elif mode == OFFLINE:
            u -= travel
        elif mode == HYBRID:
            u -= 0.5 * offline_internet + 0.5 * travel
        else:
            raise ValueError(f"course {course}: unknown mode {mode}")
        u -= p.copay_weight * (m.copay_share * price + max(topup_idr, 0.0)) / credit
        return u

    def utilities(self) -> list[float]:
        """Utility of every option on the page, in column order (``-inf`` where infeasible)."""
        return [self.option_utility(course) for course in self.options]

    def outside_utility(self) -> float:
        """Utility of waiting this week (utility units)."""
        p = self.model.params
        return p.outside_utility + p.outside_shift_per_course * self.courses_bought

    # ------------------------------------------------------------------ decision
    def noise(self) -> list[float]:
        """Standard Gumbel noise for the options and, last, the outside option."""
        given = self.model.noise
        if given is not None:
            return given[self.row]
        return self.model.rng.gumbel(size=len(self.options) + 1).tolist()

    def step(self) -> None:
        """Choose this week's option: the best course if it beats waiting, else ``OUTSIDE``."""
        eps = self.noise()
        best, best_total = OUTSIDE, NEG_INF
        for column, u in enumerate(self.utilities()):
            total = u + eps[column]
            if best == OUTSIDE or total > best_total:
                best, best_total = column, total
        wait = self.outside_utility() + eps[-1]
        self.choice = best if best != OUTSIDE and best_total > wait else OUTSIDE


class ReferenceShoppingModel(mesa.Model):
    """One week of shopping by :class:`ShopperAgent` agents, built from the vectorised step's inputs.

    ``shoppers``, ``market`` and ``params`` are exactly what ``simulation.rules.choice.utilities`` takes.
    ``noise``, if given, is an ``[n, J + 1]`` array of standard Gumbel draws (last column: the
    outside option) used instead of fresh draws; without it each agent draws from ``self.rng``.
    ``rng`` seeds the model (Mesa 3: ``Model(rng=...)``); it also sets the activation order, which
    matters only when agents draw their own noise. ``agent_class`` lets tests plant a deliberately
    wrong shopper to check that docking detects it.
    """

    def __init__(
        self,
        shoppers: Shoppers,
        market: Market,
        params: Choice,
        noise: np.ndarray | None = None,
        rng: int | np.random.Generator | None = None,
        agent_class: type[ShopperAgent] = ShopperAgent,
    ) -> None:
        super().__init__(rng=rng)
        n, n_options = shoppers.options.shape
        if noise is not None and np.shape(noise) != (n, n_options + 1):
            raise ValueError(f"noise must have shape {(n, n_options + 1)}, got {np.shape(noise)}")
        self.params = params
        self.noise: list[list[float]] | None = None if noise is None else np.asarray(noise).tolist()
        # Course-level facts as plain Python lists (IDR, hours, stars 1-5, log vacancies).
        self.course_sector: list[int] = market.course_sector.tolist()
        self.course_mode: list[int] = market.course_mode.tolist()
        self.course_hours: list[float] = market.course_hours.tolist()
        self.course_difficulty: list[float] = market.course_difficulty.tolist()
        self.price_idr: list[float] = market.price_idr.tolist()
        self.displayed_stars: list[float] = np.asarray(market.displayed_stars).tolist()
        self.log_vacancies: list[list[float]] = market.log_vacancies.tolist()  # [sector][region]
        self.travel_cost_idr: list[float] = market.travel_cost_idr.tolist()  # [region]
        self.credit_unit_idr = max(float(market.credit_idr), 1.0)  # money -> utility divisor
        self.cap_idr = float(market.cap_idr)
        self.max_topup_idr = float(market.max_topup_idr)
        self.copay_share = float(market.copay_share)  # share of a price paid from own money
        self.shoppers: list[ShopperAgent] = [
            agent_class(self, row, opts, sec, reg, net, hrs, cred, bought, last)
            for row, (opts, sec, reg, net, hrs, cred, bought, last) in enumerate(
                zip(
                    shoppers.options.tolist(),
                    shoppers.sector.tolist(),
                    shoppers.region.tolist(),
                    shoppers.internet.tolist(),
                    shoppers.weekly_hours.tolist(),
                    shoppers.credit_left_idr.tolist(),
                    shoppers.courses_bought.tolist(),
                    shoppers.last_course.tolist(),
                    strict=True,
                )
            )
        ]

    def step(self) -> None:
        """Every shopper decides once, in random order."""
        self.agents.shuffle_do("step")

    def choices(self) -> np.ndarray:
        """Chosen column per shopper row [n] (int64; ``OUTSIDE`` = wait), after :meth:`step`."""
        return np.array([agent.choice for agent in self.shoppers], dtype=np.int64)

    def utilities(self) -> np.ndarray:
        """Utility of every option [n, J] (float64, ``-inf`` where infeasible)."""
        n_options = max((len(a.options) for a in self.shoppers), default=0)
        rows = [a.utilities() for a in self.shoppers]
        return np.array(rows, dtype=np.float64).reshape(len(rows), n_options)

    def outside_utilities(self) -> np.ndarray:
        """Utility of waiting per shopper [n] (float64)."""
        return np.array([a.outside_utility() for a in self.shoppers], dtype=np.float64)


def reference_choices(
    shoppers: Shoppers,
    market: Market,
    params: Choice,
    noise: np.ndarray | None = None,
    rng: int | np.random.Generator | None = None,
) -> np.ndarray:
    """Build a :class:`ReferenceShoppingModel`, run one step and return the choices [n]."""
    model = ReferenceShoppingModel(shoppers, market, params, noise=noise, rng=rng)
    model.step()
    return model.choices()
