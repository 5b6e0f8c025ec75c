"""The tender scheme (BLK-style contracted training): the office buys seats, people apply.

Weekly process (DESIGN §3, tender); the decision rules are in ``simulation.rules.procurement``:

1. planning, at the start of each contract cycle: the cycle's budget is split into lots
   (sector x region x seats) from a noisy forecast of labour demand ``planning_lag_weeks`` old, at
   the reference cost per trainee, each cell capped at what the office thinks its market can
   deliver (``capacity_knowledge``; 0, the default, ignores capacity). When the lots are
   announced, centres may add capacity (ready after ``capacity_lead_weeks``) and new private
   centres may open (``entry``) where the margin pays for it (``simulation.schemes.tender_supply``);
2. procurement, ``procurement_weeks`` later: for each lot, providers that teach the sector in the
   region and have offline capacity left bid a price (their cost plus a margin that shrinks with
   the number of rivals) and a declared quality; the office scores price against assessed quality
   (noisy, blended with past performance), applies the quality floor and the abnormally-low-bid
   screen, and may be overridden by favouritism; the winner gets the lot at its bid, as far as its
   capacity and the remaining budget allow. It chooses how much quality to shade
   (``simulation.rules.quality``, the one rule every provider follows): the cost it saves against
   its mission, the expected penalty (monitoring x penalty, rising with the shortfall) and, when
   another contract cycle follows in the horizon, the score its record will cost it there;
3. outreach: each week job seekers in a region with open lots hear of one with probability
   ``awareness_weekly`` and apply to the lot of their own sector (another with probability
   ``other_sector_apply``), less often the costlier the trip to a centre;
4. delivery: offline cohorts of ``course_weeks`` start back to back; seats go by lottery or queue;
   completion depends on motivation, allowance, delivered quality, fit, effort and travel;
   completers gain skill from the delivered quality;
5. payment per trainee, per seat, or partly on placement; at the end of the cycle applicants who
   never got a seat are counted as waitlisted and may apply again in the next cycle;
6. inspection: each contract is inspected with probability ``monitoring`` (stream
   ``tender:monitoring``, one draw per contract at signing, whatever happens); at the contract's
   end an inspected contractor pays back penalty_idr x shading**2 per trainee (booked to the
   treasury) and its record, which the next cycle's assessment blends in with
   ``past_performance_weight``, is the quality it delivered; an uninspected contractor's record is
   the quality it declared (the office sees nothing else).

Trainees pay nothing: the voucher's co-payment (``voucher.copay_share``) has no counterpart here,
a stated asymmetry; nor do hidden ratings (``ratings.shown``), as no ratings are shown to trainees.

Units. What belongs to organisations and the market is in REAL units, independent of the sample's
size: centres' capacity, lots, the minimum lot, seats awarded and the budget (real seats, real IDR).
Each contract's simulated seats, which simulated people fill, are its real seats / scale, rounded
without bias by systematic rounding over the cycle's contracts
(``simulation.rules.procurement.systematic_round``, stream ``tender:seat_rounding``), so a centre
too small to hold one simulated seat still trains its real share in expectation. Payments and the
ledger are simulated IDR (x scale for national totals); the office promises and pays out of each
cycle's budget / scale no more than it holds, so rounding can never overspend the budget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from simulation.config.codes import OFFLINE, ONLINE
from simulation.config.streams import stream
from simulation.market.participants import FINISHED, NOT_SELECTED
from simulation.rules import census, procurement, quality
from simulation.rules.keyed_draws import Draws
from simulation.rules.parallel import over_blocks
from simulation.rules.statistics import herfindahl, median, rate, share
from simulation.rules.training import completion_probability
from simulation.schemes import register
from simulation.schemes.base import Evaluation
from simulation.schemes.tender_contracts import Award, Contract, ContractBook, take_from_queues
from simulation.schemes.tender_supply import TenderSupply

if TYPE_CHECKING:
    from simulation.config.scenario import Tender
    from simulation.model.market import MarketModel

WEEKS_PER_YEAR = 52.0


@register("tender")
class TenderScheme:
    """Contracted training bought by tender; parameters from ``scenario.tender``."""

    name: ClassVar[str]  # set by register

    def __init__(self, model: MarketModel):
        self.model = model
        if model.params.tender is None:
            raise ValueError("the tender scheme needs a 'tender:' block in the scenario")
        self.params: Tender = model.params.tender
        self.seed = model.world.seed
        self.price_cap_idr = float("inf")
        n = len(model.people)
        self.cells = len(model.params.regions) * len(model.params.sectors)
        lot = np.int16 if self.cells <= np.iinfo(np.int16).max else np.int32  # 2 bytes a row
        self.applied: np.ndarray = np.full(n, -1, dtype=lot)  # lot (region * sectors + sector), -1 if none
        self.contract_of = np.full(n, -1, dtype=np.int32)  # contract seated in, -1 if none
        self.applied_week = np.full(n, -1, dtype=np.int16)
        self.first_cell: np.ndarray = np.full(n, -1, dtype=lot)  # lot of the first application, -1 if none
        self.first_week = np.full(n, -1, dtype=np.int16)  # week of the first application
        self.contracts: list[Contract] = []
        self.book = ContractBook.of([], len(model.params.sectors))  # the contracts as arrays
        self.record_quality: dict[int, float] = {}  # provider -> delivered quality, last contract
        self.plan = (np.zeros(0, np.int64),) * 3  # the cycle's lots: sector, region, real seats
        self.committed_idr = np.zeros(self.params.cycles)  # simulated IDR promised, by cycle
        self.capability = self._capability()  # [provider, sector] -> course id, -1 if none
        self.supply = TenderSupply(self)  # capacity added and centres entered (issue 9)
        self.tally = dict.fromkeys(
            ("lots", "lot_seats", "lots_without_bidder", "bids", "bids_abnormal", "favoured", "inspected"), 0
        )
        self.week_flows: dict[str, float] = {}

    # ------------------------------------------------------------------ scheme interface
    def evaluation(self) -> Evaluation:
        """Applicants ever seated (offered) against applicants never seated (comparison), in
        strata within which seats went by the same sequence of lotteries (see ``strata``)."""
        seated, comparison = self._groups()
        return Evaluation(
            offered=seated,
            comparison=comparison,
            stratum=self.strata(),
            trained=self.model.state.courses_bought > 0,
        )

    def strata(self) -> np.ndarray:
        """Lottery stratum of each row, int32: one integer per (lot of the first application,
        week of the first application, the person's own sector), numbered from 0 in that order;
        -1 for rows that never applied.

        People who first applied to the same lot in the same week face the same sequence of seat
        lotteries, so under ``seat_rule: lottery`` being seated is random within a stratum; their
        own sector is in the key because someone waitlisted applies again to the lots of their
        own sector (in a later cycle), so the chance of a seat then depends on it. (Under
        ``seat_rule: queue`` ties within a week go by row, and rows are drawn independently, so
        the offer is as good as random within a stratum too.)"""
        applied = np.flatnonzero(self.first_cell >= 0)  # the key of the applicants alone
        sectors = len(self.model.params.sectors)
        own = self.model.people.sector[applied]
        key = (
            self.first_week[applied].astype(np.int64) * self.cells + self.first_cell[applied]
        ) * sectors + own
        stratum = np.full(self.first_cell.size, -1, dtype=np.int32)
        stratum[applied] = np.unique(key, return_inverse=True)[1]
        return stratum

    def _groups(self) -> tuple[np.ndarray, np.ndarray]:
        """(ever seated, applied but never seated), boolean [row]; the weekly record counts the
        same groups in one compiled pass (``census.tender_counts``)."""
        seated = self.model.state.selected_week >= 0
        return seated, (self.first_cell >= 0) & ~seated

    def step(self, week: int) -> None:
        p = self.params
        self.week_flows = dict.fromkeys(("applied", "enrolments", "completions", "payments_idr"), 0.0)
        cycle, offset = divmod(week, p.cycle_weeks)
        if cycle < p.cycles and offset == 0:
            self.plan = self._plan(week, cycle)
        if cycle < p.cycles and offset == p.procurement_weeks:
            self._procure(week, cycle)
        self._finish_cohorts(week)
        self._close_contracts(week)
        self._outreach(week)
        self._seat_cohorts(week)

    def record(self, week: int) -> dict:
        """This week's flows (real people and IDR) and the employment of the evaluation groups."""
        scale = self.model.scale
        book = self._book()
        running = book.running(week)
        labour = self.model.labour
        seated, employed_seated, twins_seated, comparison, employed_comparison = (
            int(count)
            for count in census.tender_counts(
                self.model.state.selected_week, self.first_cell, labour.employed, labour.twin_employed
            )
        )
        return {
            **{name: value * scale for name, value in self.week_flows.items()},
            "open_contracts": int(np.count_nonzero(running)),
            "active_providers": np.count_nonzero(np.bincount(book.provider[running])),
            "active_courses": np.count_nonzero(np.bincount(book.course[running])),
            "median_listed_price_idr": float("nan"),  # nothing is listed under a tender
            "employment_rate_selected": rate(employed_seated, seated),
            "employment_rate_twin_selected": rate(twins_seated, seated),
            "employment_rate_control": rate(employed_comparison, comparison),
        }

    def metrics(self) -> dict[str, float | int | None]:
        """Tender-specific summary metrics, and the shared ones a tender defines its own way.

        Seats contracted and planned are real seats (organisations' quantities, independent of the
        sample's size); the fill rate is simulated trainees over simulated seats; prices are IDR per
        trainee, weighted by real seats (bids) or by trainees (prices paid)."""
        model, scale = self.model, self.model.scale
        state, people = model.state, model.people
        seated = state.selected_week >= 0
        contracts = self.contracts
        seats = sum(c.seats for c in contracts)
        sim_seats = sum(c.sim_seats for c in contracts)
        trainees = sum(c.seated for c in contracts)
        by_seat = (
            (lambda values: float(np.average(values, weights=[c.seats for c in contracts])))
            if seats
            else (lambda values: None)
        )
        by_trainee = (
            (lambda values: float(np.average(values, weights=[c.seated for c in contracts])))
            if trainees
            else (lambda values: None)
        )
        sector_of = np.array([c.sector for c in contracts] + [-1])
        contract = np.where(seated, self.contract_of, -1)
        waited = (state.selected_week - self.first_week)[seated]  # from the first application
        return {
            "mean_price_paid_idr": by_trainee([c.price_idr for c in contracts]),
            "mean_true_quality_enrolled": by_trainee([c.delivered_quality for c in contracts]),
            "mismatch_rate": share(sector_of[contract] != people.sector, seated),
            "median_weeks_to_first_training": median(waited),
            "seats_contracted": seats,
            "seats_planned": self.tally["lot_seats"],
            "capacity_added_seats": self.supply.tally["capacity_added"],
            "centres_entered": self.supply.tally["entered"],
            "capacity_cost_idr": self.supply.tally["cost_idr"],
            "seats_planned_capped": self.supply.tally["seats_capped"],
            "seat_fill_rate": trainees / sim_seats if sim_seats else None,
            "mean_winning_bid_idr": by_seat([c.price_idr for c in contracts]),
            "mean_shading": by_trainee([c.shading for c in contracts]),
            "penalties_idr": model.ledger.penalties * scale,
            "contracts_inspected": self.tally["inspected"],
            "procurement_weeks": float(self.params.procurement_weeks),
            "waitlisted": np.count_nonzero(self._groups()[1]) * scale,  # applicants never seated
            "lots_tendered": self.tally["lots"],
            "lots_without_bidder": self.tally["lots_without_bidder"],
            "bids_flagged_abnormal": self.tally["bids_abnormal"],
            "awards_by_favouritism": self.tally["favoured"],
            "contractors": len({c.provider: None for c in contracts}),
            "provider_hhi": herfindahl(
                np.bincount(
                    [c.provider for c in contracts],
                    [c.seats * c.price_idr for c in contracts],
                    minlength=len(model.providers),
                )
            )
            if contracts
            else None,
            "active_providers": self._active_providers(),
            "mean_true_quality_available": by_seat([c.delivered_quality for c in contracts]),
        }

    def _active_providers(self) -> int:
        """Contractors with a contract running in the last week in which any contract ran (0 if
        none was awarded), whether or not the run goes on after the contracts end."""
        if not self.contracts:
            return 0
        last = max(c.end_week for c in self.contracts) - 1
        return len({c.provider: None for c in self.contracts if c.start_week <= last < c.end_week})

    # ------------------------------------------------------------------ planning and procurement
    def _capability(self) -> np.ndarray:
        """The course each provider would teach offline in each sector (-1: cannot)."""
        model = self.model
        courses = model.courses
        sectors = len(model.params.sectors)
        table = np.full((len(model.providers), sectors), -1, dtype=np.int64)
        offline_able = np.array([p.capacity_per_year > 0 for p in model.providers])
        ids = np.flatnonzero(offline_able[courses.provider])
        table[courses.provider[ids[::-1]], courses.sector[ids[::-1]]] = ids[::-1]  # lowest id wins
        return table

    def _plan(self, week: int, cycle: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cycle's lots (sector, region, real seats) from the real budget at the reference cost
        plus the allowance per trainee; lots smaller than ``min_seats`` real seats are dropped.

        With ``capacity_knowledge`` > 0 the office first works out what each cell's market would
        deliver if it announced that plan (``TenderSupply.respond``: capacity, additions,
        entrants) and plans again with each cell capped at deliverable / knowledge
        (``procurement.planning_cap``), re-allocating the rest to cells with room. Then the
        centres respond to the lots announced (``TenderSupply.apply``)."""
        p, model = self.params, self.model
        rng = stream(self.seed, "tender:plan", cycle)
        forecast = procurement.forecast_demand(
            model.world.vacancies, week, p.planning_lag_weeks, p.forecast_noise_sd, rng
        )
        population = np.array([r.population_share for r in model.params.regions])
        per_trainee = p.reference_cost_idr + p.allowance_idr  # the allowance is paid from the same budget
        lots = (self._cycle_budget_idr(), forecast, population, per_trainee, p.min_seats)
        plan = procurement.plan_lots(*lots)
        self.supply.start_cycle()
        if p.capacity_knowledge > 0:
            wanted = (forecast * population > 0).T.ravel()  # cells with demand, region-major
            estimate = self.supply.respond(self._cell_seats(plan), wanted, week, cycle)
            cap = procurement.planning_cap(estimate.deliverable_seats, p.capacity_knowledge)
            capped = procurement.plan_lots(*lots, cap=cap.reshape(population.size, -1).T)
            moved = self._cell_seats(plan) - self._cell_seats(capped)
            self.supply.tally["seats_capped"] += int(np.maximum(moved, 0).sum())
            plan = capped
        if p.max_expansion_share > 0 or p.entry.max_centres > 0:
            seats = self._cell_seats(plan)
            self.supply.apply(self.supply.respond(seats, seats > 0, week, cycle), week, cycle)
        return plan

    def _cell_seats(self, plan: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
        """A plan's real seats by cell (region * sectors + sector)."""
        sector, region, seats = plan
        cells = np.zeros(self.cells, dtype=np.int64)
        cells[region * len(self.model.params.sectors) + sector] = seats
        return cells

    def _cycle_budget_idr(self) -> float:
        """Real IDR a contract cycle may pay contractors: its share of the budget, net of the
        office's cost."""
        p = self.params
        return p.budget_idr / p.cycles / (1.0 + p.admin_cost_share)

    def _procure(self, week: int, cycle: int) -> None:
        """Tender every planned lot of the cycle, award real seats, and sign the contracts.

        Awards are in real seats (see ``_award_lot``); each contract's simulated seats are its real
        seats / scale, rounded by systematic rounding over the cycle's contracts (stream
        ``tender:seat_rounding``), so they are right in expectation contract by contract and the
        cycle's total is within one simulated seat of real seats / scale. Seats won on capacity
        added this cycle and not ready yet are contracts of their own, signed with the others (so
        each contract has its own draws) and starting with the first cohort after that capacity
        is ready (``TenderSupply``).
        """
        p, model = self.params, self.model
        rng = stream(self.seed, "tender:procurement", cycle)
        budget = self._cycle_budget_idr()
        end = min((cycle + 1) * p.cycle_weeks, model.params.weeks)
        cohorts = max(0, (end - week) // p.course_weeks)
        capacity, late, missed = self._capacity_left(week, cohorts)
        regions = np.array([pr.region for pr in model.providers])
        awards: list[Award] = []
        late_awards: list[Award] = []
        for sector, region, seats in zip(*self.plan, strict=True):
            self.tally["lots"] += 1
            self.tally["lot_seats"] += int(seats)
            bids = self._bids((int(sector), int(region), int(seats)), rng, capacity, regions)
            if bids is None:
                self.tally["lots_without_bidder"] += 1
            elif cohorts > 0:
                won, won_late, budget = self._award_lot(
                    (int(sector), int(region), int(seats)), bids, budget, (capacity, late), rng
                )
                awards += won
                late_awards += won_late
        rounding = stream(self.seed, "tender:seat_rounding", cycle)
        real = np.array([a.seats for a in awards + late_awards], dtype=np.float64)
        sim = procurement.systematic_round(real / model.scale, rounding)
        phases = rounding.random(real.size)
        self._sign(awards + late_awards, sim, phases, (cycle, week, end, cohorts))
        for c in self.contracts[len(self.contracts) - len(late_awards) :]:  # signed last, start later
            c.start_week = week + missed * p.course_weeks
            c.cohorts = min(cohorts - missed, c.seats)
        self._book()  # the new contracts as arrays, once their start is settled

    def _award_lot(
        self,
        lot: tuple[int, int, int],
        bids: dict[str, np.ndarray],
        budget_idr: float,
        capacity: tuple[np.ndarray, np.ndarray],
        rng: np.random.Generator,
    ) -> tuple[list[Award], list[Award], float]:
        """Award one lot (sector, region, real seats): to the best bid, or a favoured one, as many
        whole real seats as are left in the lot, the bidder's real capacity left and the cycle's
        real budget left (IDR) at its price plus the allowance allow; seats still open go to the
        next, and so on, so a large lot is split among several contractors. ``capacity`` = (real
        seats each provider can teach in the cycle, of which on capacity not ready at the
        procurement), both reduced in place; a winner's seats come from its ready capacity first.
        Returns the awards on ready capacity, those on late capacity, and the real budget left."""
        sector, region, left = lot
        awards: list[Award] = []
        late_awards: list[Award] = []
        if left <= 0:
            return awards, late_awards, budget_idr
        bidder = bids["provider"]  # one bid per provider
        total, late = (held[bidder].tolist() for held in capacity)  # the bidders' capacity left, real seats
        price_of, declared_of, course_of = (bids[key].tolist() for key in ("price", "declared", "course"))
        allowance = self.params.allowance_idr
        for bid, favoured in procurement.award_order(bids["score"], self.params.favouritism, rng):
            self.tally["favoured"] += int(favoured)
            price = price_of[bid]
            ready = int(total[bid] - late[bid])
            per_seat = price + allowance  # the trainee's allowance, from the same budget
            n = min(left, ready + int(late[bid]), procurement.affordable_seats(budget_idr, per_seat))
            if n > 0:
                budget_idr -= n * per_seat
                total[bid] -= n
                left -= n
                on_late = max(n - ready, 0)
                late[bid] -= on_late
                terms = (int(bidder[bid]), course_of[bid], sector, region)
                if n > on_late:
                    awards.append(Award(*terms, n - on_late, price, declared_of[bid]))
                if on_late:
                    late_awards.append(Award(*terms, on_late, price, declared_of[bid]))
            if left <= 0:
                break
        capacity[0][bidder], capacity[1][bidder] = total, late
        return awards, late_awards, budget_idr

    def _capacity_left(self, week: int, cohorts: int) -> tuple[np.ndarray, np.ndarray, int]:
        """Real seats each provider can teach in the ``cohorts`` back-to-back cohorts from ``week``
        (its yearly capacity, with what it added in earlier cycles, pro rata; zero once it has
        exited), of which on capacity added this cycle and ready only later
        (``TenderSupply.late_seats``), and the cohorts that capacity misses. Fractional: a
        provider bids with one whole real seat left and is awarded whole seats."""
        weeks = cohorts * self.params.course_weeks
        late, missed = self.supply.late_seats(week, cohorts)
        return self.supply.capacity_per_year(week) * weeks / WEEKS_PER_YEAR + late, late, missed

    def _bids(
        self,
        lot: tuple[int, int, int],
        rng: np.random.Generator,
        capacity: np.ndarray,
        regions: np.ndarray,
    ):
        """The bids for ``lot`` (sector, region, real seats) as arrays (provider, course, price,
        declared, score), or None if no provider can bid: ``regions`` is each provider's region;
        a bidder must teach the sector in the region and have at least one real seat of
        capacity left. Prices follow cost, the number of rivals and the share of the lot (real
        seats) the bidder's real capacity can take."""
        p, model = self.params, self.model
        sector, region, seats = lot
        course = self.capability[:, sector]
        bidders = np.flatnonzero((regions == region) & (course >= 0) & (capacity >= 1.0))
        if bidders.size == 0:
            return None
        c = course[bidders]
        cost = self._delivery_cost(c)
        share = np.minimum(capacity[bidders] / max(seats, 1), 1.0)
        price = procurement.bid_prices(cost, np.full(bidders.size, bidders.size - 1), p.bid_markup, share)
        potential = model.courses.potential_quality[c].astype(np.float64)  # the tender's table is unshaded
        declared = procurement.declared_quality(potential, p.quality_inflation)
        assessed = np.clip(declared + rng.normal(0.0, p.assessment_noise_sd, bidders.size), 0.0, 1.0)
        record = np.array([self.record_quality.get(int(b), np.nan) for b in bidders])
        assessed = procurement.past_performance_adjustment(assessed, record, p.past_performance_weight)
        score, abnormal = procurement.score_bids(
            price,
            assessed,
            price_weight=p.price_weight,
            quality_floor=p.quality_floor,
            abnormal_share=p.abnormal_share,
        )
        self.tally["bids"] += bidders.size
        self.tally["bids_abnormal"] += int(abnormal.sum())
        return {"provider": bidders, "course": c, "price": price, "declared": declared, "score": score}

    def _delivery_cost(self, course: np.ndarray) -> np.ndarray:
        """Cost per trainee of teaching a course offline, IDR."""
        courses = self.model.courses
        offline = float(self.model.params.providers.marginal_cost_offline_idr)
        cost = courses.marginal_cost_idr[course].astype(np.float64)
        return np.where(courses.mode[course] == ONLINE, np.maximum(cost, offline), cost)

    def _sign(
        self,
        awards: list[Award],
        sim_seats: np.ndarray,
        phases: np.ndarray,
        timing: tuple[int, int, int, int],
    ) -> None:
        """Sign the cycle's contracts: ``awards`` with their simulated seats and seat phases;
        ``timing`` is (cycle, start week, end week, cohorts the cycle has left). Each contractor
        picks its shading (``rules.quality.shading``: the saving of its course's teaching mode, its
        mission, the past-performance loss if another cycle follows, and monitoring x penalty),
        each contract's inspection is drawn (stream ``tender:monitoring``, one number per contract),
        and it runs at most one cohort per real seat; per-seat contracts are paid
        now, for as many simulated seats as the cycle's budget still pays for (fewer than drawn
        only where rounding up would overspend, i.e. when the real budget binds)."""
        p, model = self.params, self.model
        cycle, week, end, cohorts = timing
        course = np.array([a.course for a in awards], dtype=np.int64)
        price = np.array([a.price_idr for a in awards], dtype=np.float64)
        potential = model.courses.potential_quality[course].astype(np.float64)
        base_cost = self._delivery_cost(course)
        saving = self._quality_saving_idr(course)
        mission = model.provider_mission_idr[np.array([a.provider for a in awards], dtype=np.int64)]
        future = quality.tender_future_loss_idr(
            1.0 - p.price_weight,
            p.past_performance_weight,
            p.monitoring,
            price - base_cost,
            self._cycle_follows(cycle),
        )
        shaded = quality.shading(potential, saving, mission, future, p.monitoring * p.penalty_idr)
        inspected = stream(self.seed, "tender:monitoring", cycle).random(len(awards)) < p.monitoring
        self.tally["inspected"] += int(inspected.sum())
        terms = zip(
            awards,
            sim_seats.tolist(),
            phases.tolist(),
            potential.tolist(),
            shaded.tolist(),
            (base_cost - saving * shaded).tolist(),
            inspected.tolist(),
            strict=True,
        )
        for award, n, phase, full, shade, cost, checked in terms:  # contracts, not participants
            if p.payment == "per_seat":
                n = self._commit(cycle, award.price_idr, n)
            contract = Contract(
                provider=award.provider,
                course=award.course,
                sector=award.sector,
                region=award.region,
                seats=award.seats,
                sim_seats=n,
                price_idr=award.price_idr,
                cost_idr=max(cost, 0.0),
                declared_quality=award.declared_quality,
                potential_quality=full,
                delivered_quality=full - shade,
                cycle=cycle,
                start_week=week,
                end_week=end,
                cohorts=min(cohorts, award.seats),
                phase=phase,
                inspected=checked,
            )
            self.contracts.append(contract)
            if p.payment == "per_seat":
                self._pay(contract, procurement.contract_payment(award.price_idr, n, 0, 0, "per_seat", 0.0))

    def _quality_saving_idr(self, course: np.ndarray) -> np.ndarray:
        """Cost a contractor saves per trainee per unit of quality shaded (IDR), by the mode it
        teaches the course in: offline for an online course (a tender buys offline teaching, as
        in ``_delivery_cost``), else the course's own mode (``providers.quality_saving_idr``)."""
        mode = self.model.courses.mode[course]
        saving = self.model.params.providers.quality_saving_idr
        taught = np.where(mode == ONLINE, OFFLINE, mode)
        return quality.saving_by_mode(taught, saving.online, saving.offline, saving.hybrid)

    def _cycle_follows(self, cycle: int) -> bool:
        """Whether a contract of ``cycle`` has a future: another cycle is tendered within the
        horizon after this cycle's contracts have ended and been recorded (the record is kept at a
        contract's end, after that week's procurement, so this needs ``procurement_weeks`` > 0)."""
        p = self.params
        next_procurement = (cycle + 1) * p.cycle_weeks + p.procurement_weeks
        return cycle + 1 < p.cycles and p.procurement_weeks > 0 and next_procurement < self.model.params.weeks

    def _commit(self, cycle: int, price_idr: float, seats: int) -> int:
        """Promise ``seats`` simulated seats at ``price_idr`` plus the trainee's allowance each out of
        the cycle's budget, as many as it still pays for; returns that number. The budget guard: the
        cycle's promises never exceed its real budget / scale (simulated IDR, net of office cost),
        so neither does what it pays (contractors and allowances)."""
        budget = self._cycle_budget_idr() / self.model.scale
        per_seat = price_idr + self.params.allowance_idr
        n = min(seats, procurement.affordable_seats(budget - self.committed_idr[cycle], per_seat))
        self.committed_idr[cycle] += n * per_seat
        return n

    # ------------------------------------------------------------------ take-up and delivery
    def _book(self) -> ContractBook:
        """The contracts as arrays, with those signed since it was last brought up to date."""
        if self.book.size < len(self.contracts):
            self.book = self.book.extended(self.contracts[self.book.size :], len(self.model.params.sectors))
        return self.book

    def _open_cells(self, week: int) -> np.ndarray:
        """Lots (cells region x sector) still taking applications: a contract in the cell has
        simulated seats left, a cohort still to start and budget to pay a trainee. Boolean [cell],
        cell = region * sectors + sector."""
        book = self._book()
        open_ = np.zeros(self.cells, dtype=bool)
        open_[book.cell[book.taking(week, self.params.course_weeks) & self._has_seats_left(book)]] = True
        return open_

    def _has_seats_left(self, book: ContractBook) -> np.ndarray:
        """Whether each contract can still fill a simulated seat (boolean [contract]): it has
        simulated seats left and, unless they were paid for at signing, its cycle's budget still
        pays one more trainee at its price plus the allowance (``procurement.affordable_seats``
        >= 1)."""
        left = book.sim_seats - book.seated > 0
        if self.params.payment == "per_seat" or not left.any():
            return left
        budget = self._cycle_budget_idr() / self.model.scale - self.committed_idr[book.cycle]
        return left & procurement.affords_a_seat(budget, book.price_idr + self.params.allowance_idr)

    def _cell(self, c: Contract) -> int:
        return c.region * len(self.model.params.sectors) + c.sector

    def _outreach(self, week: int) -> None:
        """Job seekers hear of an open lot in their region and may apply: to the lot of their own
        sector, or with probability ``other_sector_apply`` to another open lot in the region.

        Each person's draws for the week are keyed by person (slot 0: hearing, 1: straying to
        another sector, 2: which one), so the second and third are drawn only for those who hear."""
        open_ = self._open_cells(week)
        if not open_.any():
            return
        p, model = self.params, self.model
        people, sectors = model.people, len(model.params.sectors)
        by_region = open_.reshape(-1, sectors)  # [region, sector]
        count = by_region.sum(axis=1)
        ranked = np.argsort(~by_region, axis=1, kind="stable")  # open sectors first, in order
        travel = np.array([r.travel_cost_idr for r in model.params.regions])
        hearing = p.awareness_weekly * 0.5 ** (travel / p.travel_tolerance_idr)  # by region
        draws = Draws.of(self.seed, "tender:outreach", week)
        heard = np.empty(len(people), dtype=bool)  # free to apply (arrived, as for the voucher) and heard
        over_blocks(
            census.hear_of_lots, len(people), heard, model.state.status, NOT_SELECTED, self.applied,
            people.arrival_week, people.region, np.asarray(hearing, dtype=np.float64), week, draws.key,
        )  # fmt: skip
        free = np.flatnonzero(heard)
        region = people.region[free].astype(np.int64)
        sector = people.sector[free].astype(np.int64)
        own = by_region[region, sector]
        stray = ~own & (draws.uniforms(free, 1) < p.other_sector_apply) & (count[region] > 0)
        pick = np.minimum(
            (draws.uniforms(free, 2) * count[region]).astype(np.int64), np.maximum(count[region] - 1, 0)
        )
        sector = np.where(stray, ranked[region, pick], sector)
        willing = own | stray
        apply = free[willing]
        self.applied[apply] = (region * sectors + sector)[willing]
        self.applied_week[apply] = week
        first = apply[self.first_cell[apply] < 0]
        self.first_cell[first] = self.applied[first]
        self.first_week[first] = week
        self.week_flows["applied"] = apply.size

    def _seat_cohorts(self, week: int) -> None:
        """Start the cohorts due this week. Each lot's applicants are ordered by lottery (or queue)
        and the lot's contracts, in the order they were awarded, fill their cohorts from them: each
        cohort up to its contract's target (``procurement.cohort_target``), so empty seats roll
        over to the contract's next cohort. Unless seats were paid at signing, a contract seats
        only as many of those it takes as the cycle's budget still pays for, the first in that
        order (the rest keep waiting, but are not offered to the lot's next contract this week)."""
        p, book = self.params, self._book()
        index = book.cohort_index(week, p.course_weeks)
        due = np.flatnonzero(index >= 0)
        if not due.size:
            return
        target = procurement.cohort_targets(
            book.sim_seats[due], book.cohorts[due], index[due], book.phase[due]
        )
        size = np.maximum(target - book.seated[due], 0)
        due, size = due[size > 0], size[size > 0]
        if not due.size:
            return
        queue, queued_cells = self._queues(week, book.cell[due])
        first, taken = take_from_queues(queued_cells, book.cell[due], size)
        seats = self._admit(due, taken)
        if not seats.any():
            return
        start = np.repeat(first - np.cumsum(seats) + seats, seats)
        self._enrol(queue[start + np.arange(start.size)], np.repeat(due, seats), week)

    def _queues(self, week: int, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The applicants waiting for a seat in ``cells``, one cell after another (ascending), each
        cell in its seating order: by lottery (each person's uniform of stream ``tender:seats``
        this week, ties by row) or as a queue (week of application, then row). Returns (rows,
        their cells)."""
        state = self.model.state
        waiting = np.flatnonzero((self.applied >= 0) & (state.status == NOT_SELECTED))
        wanted = np.zeros(self.cells, dtype=bool)
        wanted[cells] = True
        waiting = waiting[wanted[self.applied[waiting]]]
        cell = self.applied[waiting]
        if self.params.seat_rule == "lottery":
            key = Draws.of(self.seed, "tender:seats", week).uniforms(waiting)
        else:
            key = self.applied_week[waiting]
        order = np.lexsort((waiting, key, cell))
        return waiting[order], cell[order]

    def _admit(self, due: np.ndarray, taken: np.ndarray) -> np.ndarray:
        """Seats each due contract fills of the ``taken`` applicants it was offered, and its
        bookkeeping, contract by contract in award order: unless seats were paid at signing, as
        many as the cycle's budget still pays for (``_commit``), paid at the contract's price
        (``procurement.contract_payment``); the contractor's cost; the trainees' allowance
        (``allowance_idr`` each, booked in the ledger and charged office cost like other cash).
        Returns the seats filled (int64 [due contract])."""
        p, model = self.params, self.model
        pay_on_seating = p.payment != "per_seat"
        seats = self._commit_seats(due, taken) if pay_on_seating else taken
        filled = seats > 0
        contracts, providers, ledger, scale = self.contracts, model.providers, model.ledger, model.scale
        for k, n in zip(due[filled].tolist(), seats[filled].tolist(), strict=True):
            c = contracts[k]  # contracts, not participants
            c.seated += n
            if pay_on_seating:
                self._pay(c, procurement.contract_payment(c.price_idr, n, n, 0, p.payment, p.placement_share))
            providers[c.provider].book(-c.cost_idr * n * scale)
            if p.allowance_idr > 0:
                ledger.record_allowances(p.allowance_idr * n)
                ledger.charge_admin(p.allowance_idr * n, p.admin_cost_share)
        self.book.seated[due] += seats
        return seats

    def _commit_seats(self, due: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """``_commit`` of ``wanted`` seats for each contract in ``due``, one after another in that
        order; returns the seats promised (int64 [due contract]). While a cycle's budget pays for
        every seat wanted, its promises are summed in one pass (a running sum, in the same order,
        so the same floating sums); from the first contract it cannot pay in full, one by one."""
        book, promised = self.book, wanted.copy()
        budget = self._cycle_budget_idr() / self.model.scale
        per_seat = book.price_idr[due] + self.params.allowance_idr
        cycle_of = book.cycle[due]
        for cycle in np.unique(cycle_of[wanted > 0]).tolist():
            mine = np.flatnonzero((cycle_of == cycle) & (wanted > 0))
            running = np.cumsum(np.concatenate(([self.committed_idr[cycle]], wanted[mine] * per_seat[mine])))
            short = np.floor_divide(budget - running[:-1], per_seat[mine]) < wanted[mine]
            paid_in_full = int(np.argmax(short)) if short.any() else mine.size
            self.committed_idr[cycle] = running[paid_in_full]
            for j in mine[paid_in_full:].tolist():  # the budget binds: contract by contract
                promised[j] = self._commit(cycle, float(book.price_idr[due[j]]), int(wanted[j]))
        return promised

    def _enrol(self, rows: np.ndarray, contract: np.ndarray, week: int) -> None:
        """Seat ``rows`` (simulated people) in ``contract`` (one per row): enrolment, completion
        draw (keyed by person, ``MarketModel.enrol``), the course's sales, and the allowance
        added to each trainee's cash (``LabourMarket.add_cash``)."""
        p, model = self.params, self.model
        people, book = model.people, self.book
        course = book.course[contract]
        travel = np.array([r.travel_cost_idr for r in model.params.regions])[people.region[rows]]
        fit = (people.sector[rows] == book.sector[contract]).astype(np.float32)
        p_complete = completion_probability(
            people.motivation[rows],
            np.full(rows.size, p.allowance_idr > 0),
            book.delivered_quality[contract],
            fit,
            model.courses.difficulty[course],
            model.params.completion,
            extra_logit=-p.completion_travel * travel / p.travel_tolerance_idr,
        )
        model.state.selected_week[rows] = week
        model.enrol(week, rows, course, p.course_weeks, p_complete)
        self.contract_of[rows] = contract
        self.week_flows["enrolments"] += rows.size
        model.record_sales(course, np.zeros(rows.size))
        if p.allowance_idr > 0:
            model.labour.add_cash(rows, p.allowance_idr)

    def _finish_cohorts(self, week: int) -> None:
        """Cohorts ending this week: completion and skill from the delivered quality. Every
        contracted course is taught offline, at its own hours (an online course of a blended
        provider too: ``_delivery_cost``)."""
        model = self.model
        done = model.end_courses(week, FINISHED)
        delivered = self._book().delivered_quality[self.contract_of[done]]
        model.complete(week, done, delivered, mode=OFFLINE)
        for k, n in zip(*np.unique(self.contract_of[done], return_counts=True), strict=True):
            self.contracts[k].completed += int(n)
        self.week_flows["completions"] = done.size

    def _close_contracts(self, week: int) -> None:
        """Contracts ending: placement pay, penalties for inspected contractors, the contractors'
        records; applicants to a lot whose contracts have all ended without seating them are
        waitlisted and free to apply again.

        The record the office keeps for past performance is what it can see: the delivered quality
        of an inspected contract, the declared quality of one it did not inspect; a contractor with
        several contracts ending in the week is recorded at their mean, weighted by real seats."""
        p, model, book = self.params, self.model, self._book()
        ending = np.flatnonzero(book.end_week == week).tolist()
        placed = self._placed(ending) if p.payment == "outcome" else []
        seen: dict[int, list[float]] = {}  # provider -> [sum of seats x quality seen, seats]
        for j, k in enumerate(ending):  # contracts, not participants
            c = self.contracts[k]
            if p.payment == "outcome":
                self._pay(c, p.placement_share * c.price_idr * placed[j])
            if c.inspected:
                self._charge_penalty(c, p.penalty_idr * c.shading**2 * c.seated)
            total = seen.setdefault(c.provider, [0.0, 0.0])
            total[0] += c.seats * (c.delivered_quality if c.inspected else c.declared_quality)
            total[1] += c.seats
        for provider, (quality_seats, seats) in seen.items():
            self.record_quality[provider] = quality_seats / seats
        if not ending:
            return
        closed = np.setdiff1d(book.cell[ending], book.cell[book.end_week > week])
        waiting = np.flatnonzero(np.isin(self.applied, closed) & (model.state.status == NOT_SELECTED))
        self.applied[waiting] = -1

    def _placed(self, ending: list[int]) -> list[int]:
        """Trainees of each contract in ``ending`` who completed their course and are employed."""
        model = self.model
        contract = np.full(len(self.contracts) + 1, -1, dtype=np.int64)  # last: nobody's
        contract[ending] = np.arange(len(ending))
        trained = (model.state.courses_completed > 0) & model.labour.employed.astype(bool)
        of = contract[self.contract_of[trained]]
        return np.bincount(of[of >= 0], minlength=len(ending)).tolist()

    def _charge_penalty(self, c: Contract, amount_idr: float) -> None:
        """An inspected contractor pays back ``amount_idr`` (simulated IDR): penalty_idr x
        shading**2 per trainee, so that its expectation, monitoring x penalty x shading**2, is the
        discipline the contractor weighed (``rules.quality.shading``). Back to the treasury, out of
        the course's receipts and the provider's books."""
        if amount_idr <= 0:
            return
        model = self.model
        c.penalty_idr += amount_idr
        model.ledger.record_penalty(amount_idr)
        model.courses.net_revenue_idr[c.course] -= amount_idr
        model.providers[c.provider].book(-amount_idr * model.scale)

    def _pay(self, c: Contract, amount_idr: float) -> None:
        """Pay a contractor (simulated IDR): treasury, office cost, the provider's books."""
        model = self.model
        model.ledger.record_contract_payment(amount_idr)
        model.ledger.charge_admin(amount_idr, self.params.admin_cost_share)
        model.courses.net_revenue_idr[c.course] += amount_idr
        model.providers[c.provider].book(amount_idr * model.scale)
        self.week_flows["payments_idr"] += amount_idr
