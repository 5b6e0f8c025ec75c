"""Tender supply that answers to money (issue 9): when the office announces a cycle's lots, centres
may add capacity and new private centres may open; the office may plan its lots knowing roughly
what each cell's market can deliver.

The decision rules are pure functions of ``simulation.rules.procurement`` (``capacity_expansion``,
``expansion_win_chance``, ``entry_counts``, ``planning_cap``); this module gathers the market's
quantities for them and applies their answers. Everything is in real units (real seats, real
trainees a year, real IDR), so nothing depends on the sample's size; nothing here is random but
what an entrant is like (stream ``tender:entry``, one generator per cycle, cell and entrant, so
one entrant does not change with the number of others).

Timing, for a cycle planned in week w0 whose contracts run from the procurement week
w0 + procurement_weeks to the cycle's end in back-to-back cohorts of ``course_weeks``:

* capacity a centre adds is ready at w0 + ``capacity_lead_weeks``; it teaches only the cohorts
  that start then or later (the scheme signs the seats it wins on it as contracts starting then),
  and it stays: by the next cycle (the lead is at most ``cycle_weeks``) it is part of the
  centre's capacity;
* an entrant opens at w0 + ``entry.lead_weeks`` and bids in the cycle's procurement only if that
  is no later than the procurement week; otherwise it could teach nothing in the cycle and,
  deciding on the cycle's margin alone, it does not enter.

Cells. A centre's capacity serves every cell (its region x a sector it teaches) that has planned
seats; for the cell-level quantities (capacity, shortfall) it is split evenly among them. The
award itself stays per lot (``TenderScheme._award_lot``), so the cell figures are what the office
and the centres expect, not a constraint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from simulation.config.streams import streams
from simulation.rules import procurement

if TYPE_CHECKING:
    from simulation.config.scenario import Centre
    from simulation.schemes.tender import TenderScheme

WEEKS_PER_YEAR = 52.0


@dataclass(frozen=True)
class Response:
    """What the market does when a cycle's lots are announced, in real units."""

    added_per_year: np.ndarray  # [provider] yearly capacity added, trainees a year
    entrants: np.ndarray  # [cell] new centres, int
    deliverable_seats: (
        np.ndarray
    )  # [cell] seats the cell can teach in the cycle: capacity, additions, entrants


class TenderSupply:
    """Centres' capacity as it grows over a tender run, and the market's response to each cycle's
    lots (``respond``, without side effects; ``apply`` carries it out)."""

    def __init__(self, scheme: TenderScheme):
        self.scheme = scheme
        self.model = scheme.model
        self.params = scheme.params
        n = len(self.model.providers)
        self.ready_per_year = np.zeros(n)  # capacity added in earlier cycles, trainees a year
        self.pending_per_year = np.zeros(n)  # added this cycle, ready in pending_week
        self.pending_week = 0
        self.tier = self._entrant_tier()
        self.tally = {"capacity_added": 0.0, "entered": 0, "cost_idr": 0.0, "seats_capped": 0}

    def _entrant_tier(self) -> Centre | None:
        """The centres tier entrants are drawn like (None while entry is off)."""
        entry = self.params.entry
        if entry.max_centres == 0:
            return None
        tier = entry.tier_among(self.model.params.centres)
        if tier is None:  # the scenario check refuses this (Scenario._consistent)
            raise ValueError("tender.entry.max_centres > 0 with no centres tier to draw entrants like")
        return tier

    # ------------------------------------------------------------------ capacity over time
    def start_cycle(self) -> None:
        """A new cycle: what was added in the last one is now part of the centres' capacity."""
        self.ready_per_year += self.pending_per_year
        self.pending_per_year[:] = 0.0

    def capacity_per_year(self, week: int) -> np.ndarray:
        """Each provider's yearly capacity (real trainees a year) usable from ``week``: its own, what
        it added in earlier cycles and this cycle's addition if ready by then; zero once exited."""
        providers = self.model.providers
        own = np.array([p.capacity_per_year if p.active else 0.0 for p in providers])
        active = np.array([p.active for p in providers])
        added = self.ready_per_year + (self.pending_per_year if self.pending_week <= week else 0.0)
        return own + np.where(active, added, 0.0)

    def late_seats(self, week: int, cohorts: int) -> tuple[np.ndarray, int]:
        """Whole real seats each provider can teach on this cycle's addition not yet ready in
        ``week`` (the procurement week), in the cohorts that start once it is (rounded down, so
        that a provider's seats left to award, ready and late, are whole exactly when their sum
        is: it bids only if it can be awarded a seat), and how many of the ``cohorts`` it misses
        (the first cohorts)."""
        skip = self.cohorts_missed(self.pending_week, week, cohorts)
        if self.pending_week <= week or skip >= cohorts:
            return np.zeros(len(self.model.providers)), skip
        weeks = (cohorts - skip) * self.params.course_weeks
        active = np.array([p.active for p in self.model.providers])
        return np.where(active, np.floor(self.pending_per_year * weeks / WEEKS_PER_YEAR), 0.0), skip

    def cohorts_missed(self, ready_week: int, start_week: int, cohorts: int) -> int:
        """Of ``cohorts`` back-to-back cohorts from ``start_week``, how many start before
        ``ready_week``: ceil((ready - start) / course_weeks), within [0, cohorts]."""
        missed = math.ceil((ready_week - start_week) / self.params.course_weeks)
        return min(max(missed, 0), cohorts)

    def timing(self, week: int, cycle: int) -> tuple[int, int]:
        """(procurement week, cohorts its contracts run) of the cycle planned in ``week``."""
        p = self.params
        procurement_week = week + p.procurement_weeks
        end = min((cycle + 1) * p.cycle_weeks, self.model.params.weeks)
        return procurement_week, max(0, (end - procurement_week) // p.course_weeks)

    # ------------------------------------------------------------------ the market's response
    def respond(self, seats: np.ndarray, wanted: np.ndarray, week: int, cycle: int) -> Response:
        """What the centres and entrants do if the lots of the cycle planned in ``week`` put
        ``seats`` real seats in each cell ([cell], cell = region * sectors + sector); a centre's
        capacity is split among the ``wanted`` cells it can serve. No side effect."""
        p, model = self.params, self.model
        sectors = len(model.params.sectors)
        procurement_week, cohorts = self.timing(week, cycle)
        years = cohorts * p.course_weeks / WEEKS_PER_YEAR  # trainees a unit of yearly capacity teaches
        missed = self.cohorts_missed(week + p.capacity_lead_weeks, procurement_week, cohorts)
        late_years = (cohorts - missed) * p.course_weeks / WEEKS_PER_YEAR
        yearly = self.capacity_per_year(procurement_week)
        region = np.array([pr.region for pr in model.providers], dtype=np.int64)
        cell = region[:, None] * sectors + np.arange(sectors)  # [provider, sector]
        serves = (self.scheme.capability >= 0) & (yearly > 0)[:, None] & wanted[cell]
        split = serves / np.maximum(serves.sum(axis=1, keepdims=True), 1)
        at = cell[serves]

        def per_cell(values: np.ndarray) -> np.ndarray:
            return np.bincount(at, values[serves], minlength=seats.size)

        capacity = per_cell(yearly[:, None] * split * years)
        bidders = np.bincount(at, minlength=seats.size)
        shortfall = np.maximum(seats - capacity, 0.0)
        added = np.zeros(serves.shape)
        if p.max_expansion_share > 0 and late_years > 0:
            added = self._expansion(
                yearly, split, serves, cell, (capacity, shortfall, bidders, seats), late_years
            )
        added_seats = per_cell(added * late_years)
        entrants = self._entry(np.maximum(shortfall - added_seats, 0.0), seats, bidders, years)
        seats_per_entrant = self._seats_per_entrant(years)
        return Response(added.sum(axis=1), entrants, capacity + added_seats + entrants * seats_per_entrant)

    def _expansion(
        self,
        yearly: np.ndarray,
        split: np.ndarray,
        serves: np.ndarray,
        cell: np.ndarray,
        cells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
        late_years: float,
    ) -> np.ndarray:
        """Yearly capacity each provider adds for each sector it serves ([provider, sector]):
        ``procurement.capacity_expansion`` with its bound (``max_expansion_share``, times
        ``public_expansion_share`` for a public centre) split like its capacity, the margin of the
        bid it would make (``procurement.bid_prices`` against the cell's other centres, less its
        cost) and the chance an added seat sells (``procurement.expansion_win_chance``: the cell's
        shortfall over the seats all its centres could add). ``cells`` = the cell's (capacity,
        shortfall, centres, planned seats), real seats."""
        p, model = self.params, self.model
        capacity, shortfall, bidders, seats = cells
        public = np.array([pr.kind == "public_blk" for pr in model.providers])
        share = p.max_expansion_share * np.where(public, p.public_expansion_share, 1.0)
        offered = np.bincount(
            cell[serves], ((share * yearly)[:, None] * split * late_years)[serves], minlength=seats.size
        )
        win = procurement.expansion_win_chance(shortfall, offered)
        course = self.scheme.capability
        cost = np.where(course >= 0, self.scheme._delivery_cost(np.maximum(course, 0)), 0.0)
        own = yearly[:, None] * late_years
        lot = seats[cell]
        capacity_share = np.divide(own, lot, out=np.ones(lot.shape), where=lot > 0)
        rivals = np.maximum(bidders[cell] - 1, 0)
        margin = procurement.bid_prices(cost, rivals, p.bid_markup, capacity_share) - cost
        added = procurement.capacity_expansion(
            yearly[:, None] * split, share[:, None], margin, late_years, win[cell], p.capacity_cost_idr
        )
        return np.where(serves, added, 0.0)

    def _seats_per_entrant(self, years: float) -> float:
        """Real seats an entrant can teach in the cycle: none if it opens after the procurement."""
        entry = self.params.entry
        if self.tier is None or entry.lead_weeks > self.params.procurement_weeks:
            return 0.0
        return self.tier.capacity_per_year * years

    def _entry(
        self, unserved: np.ndarray, seats: np.ndarray, bidders: np.ndarray, years: float
    ) -> np.ndarray:
        """New centres per cell (``procurement.entry_counts``): an entrant's margin is the bid it
        would make against the cell's centres (``procurement.bid_prices``) less the tier's cost; at
        most ``entry.max_centres`` less those that entered in earlier cycles."""
        spe = self._seats_per_entrant(years)
        if self.tier is None or spe <= 0:
            return np.zeros(unserved.size, dtype=np.int64)
        cost = self.tier.marginal_cost_idr
        capacity_share = np.divide(spe, seats, out=np.ones(seats.shape), where=seats > 0)
        margin = procurement.bid_prices(
            np.full(seats.size, cost), bidders, self.params.bid_markup, capacity_share
        )
        entry = self.params.entry
        left = entry.max_centres - self.tally["entered"]  # the cap is over the whole run
        return procurement.entry_counts(unserved, spe, margin - cost, entry.cost_idr, int(left))

    def apply(self, response: Response, week: int, cycle: int) -> None:
        """Carry out a response: centres add capacity (ready after the lead time) and pay for it,
        entrants open (Mesa agents, ``MarketModel.add_centre_entrants``) and pay their entry cost;
        costs are booked to the providers, real IDR."""
        p, providers = self.params, self.model.providers
        added = response.added_per_year
        for i in np.flatnonzero(added > 0):  # organisations, not participants
            providers[i].book(-added[i] * p.capacity_cost_idr)
        self.pending_per_year = added.astype(np.float64)
        self.pending_week = week + p.capacity_lead_weeks
        self.tally["capacity_added"] += float(added.sum())
        self.tally["cost_idr"] += float(added.sum()) * p.capacity_cost_idr
        if response.entrants.any():
            self._open(response.entrants, cycle)

    def _open(self, entrants: np.ndarray, cycle: int) -> None:
        """Open ``entrants[cell]`` new centres in each cell, entrant k of a cell drawn from stream
        ``tier:entry`` (cycle, cell, k)."""
        assert self.tier is not None
        model, sectors = self.model, len(self.model.params.sectors)
        cells = np.repeat(np.arange(entrants.size), entrants)
        index = np.arange(cells.size) - np.repeat(np.cumsum(entrants) - entrants, entrants)
        keys = np.stack([np.full(cells.size, cycle), cells, index], axis=1)
        rngs = streams(self.scheme.seed, "tender:entry", keys)  # stream(seed, name, cycle, c, k) each
        ids = model.add_centre_entrants(self.tier, cells // sectors, cells % sectors, rngs)
        cost = self.params.entry.cost_idr
        for i in ids:  # organisations, not participants
            model.providers[i].book(-cost)
        grow = np.zeros(ids.size)
        self.ready_per_year = np.concatenate([self.ready_per_year, grow])
        self.pending_per_year = np.concatenate([self.pending_per_year, grow])
        self.scheme.capability = self.scheme._capability()
        self.tally["entered"] += int(ids.size)
        self.tally["cost_idr"] += cost * ids.size
