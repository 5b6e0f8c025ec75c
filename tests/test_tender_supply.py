"""Supply that answers to money (issue 9) in the tender scheme: centres add capacity that teaches
only after its lead time, private centres enter where lots go unserved, the office caps its plan
at what cells can deliver, the budget still holds, and none of it depends on the sample's size."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import MarketModel, build_world, load_scenario
from simulation.config.streams import stream, streams
from simulation.market.agents import Provider
from simulation.model.world import draw_centre_entrants
from simulation.reporting.metrics import summarise
from tests.conftest import TINY

# A tender on the tiny world with far more budget than the centres can use: 3e10 / 3e6 = 10,000
# real seats planned against ~4,900 trainees a year of capacity (4 BLKs of 400, 4 private centres
# of 200, the blended providers' 500 each), i.e. ~2,000 seats in the 11 two-week cohorts from
# week 4 to week 26.
CENTRES = (
    "centres=[{name: blk, kind: public_blk, count: 4, capacity_per_year: 400, sectors_taught: 2,"
    " marginal_cost_idr: 1500000}, {name: lpk, kind: offline_centre, count: 4, capacity_per_year: 200,"
    " sectors_taught: 2, marginal_cost_idr: 1300000}]"
)
TENDER = (
    "tender={budget_idr: 3.0e10, cycle_weeks: 26, reference_cost_idr: 3000000, procurement_weeks: 4,"
    " min_seats: 20, penalty_idr: 5000000, course_weeks: 2, awareness_weekly: 0.1}"
)
SAVING = "providers.quality_saving_idr={offline: 1000000}"  # shading saves Rp1 m per unit of quality
EXPAND = [
    "tender.max_expansion_share=0.5",
    "tender.capacity_cost_idr=100000",
    "tender.capacity_lead_weeks=8",  # ready in week 8: misses the cohorts of weeks 4 and 6
]
ENTER = ["tender.entry={max_centres: 40, cost_idr: 1.0e7, lead_weeks: 4}"]


def run(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, [CENTRES, TENDER, SAVING, *overrides], schemes=["tender"], **top_level)
    return MarketModel(build_world(scenario), "tender").run()


@pytest.fixture(scope="module")
def expanded():
    return run(EXPAND)


@pytest.fixture(scope="module")
def entered():
    return run(ENTER)


@pytest.fixture(scope="module")
def plain():
    return run([])


def contracts_table(model: MarketModel) -> list[tuple]:
    return [
        (c.provider, c.course, c.sector, c.region, c.seats, c.sim_seats, c.price_idr, c.start_week, c.seated)
        for c in model.scheme.contracts
    ]


def test_prohibitive_costs_and_no_knowledge_reproduce_supply_switched_off(plain):
    # the mechanisms on, but every addition and entry costs more than it could ever earn, and the
    # office ignores capacity: the same contracts, people and money as with everything off
    overrides = [
        "tender.max_expansion_share=0.5",
        "tender.capacity_cost_idr=1.0e15",
        "tender.capacity_lead_weeks=0",
        "tender.entry={max_centres: 100, cost_idr: 1.0e15, lead_weeks: 0}",
        "tender.capacity_knowledge=0",
    ]
    model = run(overrides)
    assert contracts_table(model) == contracts_table(plain)
    np.testing.assert_array_equal(model.state.selected_week, plain.state.selected_week)
    assert model.ledger.treasury_out == plain.ledger.treasury_out
    metrics = summarise(model)
    assert metrics["capacity_added_seats"] == metrics["centres_entered"] == metrics["capacity_cost_idr"] == 0


def test_centres_add_capacity_in_short_cells_and_pay_for_it(expanded, plain):
    metrics, scheme = summarise(expanded), expanded.scheme
    added = scheme.supply.pending_per_year
    assert added.sum() > 0
    assert metrics["capacity_added_seats"] == pytest.approx(added.sum())
    assert metrics["capacity_cost_idr"] == pytest.approx(added.sum() * 100_000)
    # at most half its capacity; all or nothing in each cell it serves, its capacity split evenly
    # among them (each serves at most 2 cells here): half, a quarter, or none of its capacity
    own = np.array([p.capacity_per_year for p in expanded.providers])
    some = added > 0
    share = added[some] / own[some]
    assert np.all(np.isclose(share, 0.5) | np.isclose(share, 0.25))
    # more seats contracted than the centres could teach before
    assert metrics["seats_contracted"] > summarise(plain)["seats_contracted"]
    # a centre that added capacity but won nothing has lost exactly its cost
    contractors = {c.provider for c in scheme.contracts}
    idle = [i for i in np.flatnonzero(some) if i not in contractors]
    for i in idle:
        assert expanded.providers[i].profit_idr == pytest.approx(-added[i] * 100_000)


def test_added_capacity_teaches_only_after_its_lead_time(expanded):
    # planned in week 0, procurement in week 4, ready in week 8: seats won on it are contracts of
    # their own whose first cohort starts in week 8, and nobody sits in them earlier
    scheme = expanded.scheme
    late = [k for k, c in enumerate(scheme.contracts) if c.start_week != 4]
    assert late, "some seats were won on capacity not ready at the procurement"
    for k in late:
        c = scheme.contracts[k]
        assert c.start_week == 8 and c.cohorts <= 9  # 11 cohorts from week 4, less the 2 before week 8
        seated = scheme.contract_of == k
        assert (expanded.state.selected_week[seated] >= 8).all()
    # seats won on late capacity within what it teaches from week 8 to 26 (9 two-week cohorts)
    added = scheme.supply.pending_per_year
    for provider in {scheme.contracts[k].provider for k in late}:
        late_seats = sum(scheme.contracts[k].seats for k in late if scheme.contracts[k].provider == provider)
        assert late_seats <= added[provider] * 18 / 52 + 1e-9


def test_private_centres_enter_where_lots_go_unserved(entered, plain):
    metrics = summarise(entered)
    n = metrics["centres_entered"]
    assert 0 < n <= 40
    assert entered.providers_entered == n
    first = len(plain.providers)
    # contiguous ids after the world's providers, Mesa agents of the model, private centres
    ids = [p.provider_id for p in entered.providers]
    assert ids == list(range(first + n))
    assert all(isinstance(p, Provider) for p in entered.agents_by_type[Provider])
    assert all(p.kind == "offline_centre" and p.capacity_per_year == 200 for p in entered.providers[first:])
    assert metrics["capacity_cost_idr"] == pytest.approx(n * 1.0e7)
    # they bid: some win contracts, and more seats are contracted than without entry
    assert {c.provider for c in entered.scheme.contracts} & set(range(first, first + n))
    assert metrics["seats_contracted"] > summarise(plain)["seats_contracted"]


def test_no_entry_when_the_entry_cost_is_prohibitive_or_entrants_open_too_late():
    dear = summarise(run(["tender.entry={max_centres: 40, cost_idr: 1.0e11, lead_weeks: 4}"]))
    late = summarise(run(["tender.entry={max_centres: 40, cost_idr: 1.0e7, lead_weeks: 5}"]))
    assert dear["centres_entered"] == late["centres_entered"] == 0


def test_entrants_do_not_depend_on_how_many_others_entered(entered):
    # entrant k of a cell is drawn from its own stream (tender:entry, cycle, cell, k): with a cap
    # of 10 instead of 40, the entrants that still enter in a cell are the same centres
    few = run(["tender.entry={max_centres: 10, cost_idr: 1.0e7, lead_weeks: 4}"])
    first = len(few.providers) - few.providers_entered
    sectors = len(few.params.sectors)

    def by_cell(model):
        out = {}
        for p in model.providers[first:]:
            course = p.courses[0]
            key = p.region * sectors + int(model.courses.sector[course])
            out.setdefault(key, []).append((model.courses.true_quality[p.courses].tolist(), p.region))
        return out

    small, large = by_cell(few), by_cell(entered)
    assert small
    for cell, centres in small.items():
        assert centres == large[cell][: len(centres)]


def test_office_caps_cells_at_what_they_can_deliver(plain):
    model = run(["tender.capacity_knowledge=1"])
    metrics, base = summarise(model), summarise(plain)
    # 9,941 seats (3e10 / 1.0059 office cost / 3e6) cannot be taught by ~2,000 seats of capacity:
    # the office plans fewer and leaves the rest of the budget unplanned
    assert base["seats_planned"] == 9_941 and metrics["seats_planned_capped"] > 0
    assert metrics["seats_planned"] < 0.5 * base["seats_planned"]
    assert metrics["seats_planned"] + metrics["seats_planned_capped"] >= base["seats_planned"]


@pytest.mark.parametrize("payment", ["per_trainee", "per_seat"])
def test_budget_never_exceeded_with_expansion_and_entry(payment):
    # a reference cost under the bids: 5e9 / 1.0059 / 5e5 = 9,941 seats planned, which the centres,
    # added capacity and entrants cannot teach at their prices (~Rp1.4 m) within the budget
    budget = ["tender.budget_idr=5.0e9", "tender.reference_cost_idr=500000", f"tender.payment={payment}"]
    model = run([*EXPAND, *ENTER, "tender.capacity_knowledge=0.5", *budget])
    t = model.params.tender
    assert summarise(model)["centres_entered"] > 0
    assert model.ledger.treasury_out == pytest.approx(model.ledger.received, rel=1e-12)
    assert model.ledger.treasury_out * model.scale <= t.budget_idr * (1 + 1e-12)
    # what the office promised contractors, in real IDR, within the budget net of its own cost
    promised = model.scheme.committed_idr.sum() * model.scale
    net = t.budget_idr / (1 + t.admin_cost_share)
    assert promised <= net * (1 + 1e-12)
    if payment == "per_seat":  # seats are paid at signing: the budget binds, to the last seat or two
        assert promised > net - 2 * max(c.price_idr for c in model.scheme.contracts) * model.scale


def test_capacity_and_entry_are_the_same_in_real_units_at_two_sizes():
    # organisations decide on real seats: the same additions, entrants and plan at 500 and 2,000
    # simulated recipients (scales 40 and 10)
    out = {}
    for size in (500, 2000):
        out[size] = summarise(run([*EXPAND, *ENTER, "tender.capacity_knowledge=0.8"], size=size))
    small, large = out[500], out[2000]
    for name in ("capacity_added_seats", "centres_entered", "capacity_cost_idr", "seats_planned"):
        assert small[name] == large[name], name
    assert small["centres_entered"] > 0 and small["capacity_added_seats"] > 0
    assert small["seats_contracted"] == pytest.approx(large["seats_contracted"], rel=0.03)


def test_added_capacity_stays_and_the_entry_cap_holds_over_cycles():
    # two cycles of 13 weeks (procurement in weeks 4 and 17, 4 two-week cohorts each): what the
    # first cycle added (ready in week 8) is part of the centres' capacity in the second, and no
    # more than the cap of 10 entrants open over both cycles
    # (an addition teaches only 2 cohorts of the first cycle, 4 / 52 of a year: it pays at Rp20,000)
    cycles = ["tender.cycles=2", "tender.cycle_weeks=13", "tender.capacity_cost_idr=20000"]
    model = run([*EXPAND, *ENTER, *cycles, "tender.entry.max_centres=10"])
    supply, contracts = model.scheme.supply, model.scheme.contracts
    assert summarise(model)["centres_entered"] == model.providers_entered <= 10
    assert supply.ready_per_year.sum() > 0  # the first cycle's additions
    own = np.array([p.capacity_per_year for p in model.providers])
    second = [c for c in contracts if c.cycle == 1]
    assert second
    for i in {c.provider for c in second}:
        seats = sum(c.seats for c in second if c.provider == i)
        capacity = own[i] + supply.ready_per_year[i] + supply.pending_per_year[i]
        assert seats <= capacity * 8 / 52 + 1e-9
    # some provider teaches more in the second cycle than its own capacity allowed
    assert any(
        sum(c.seats for c in second if c.provider == i) > own[i] * 8 / 52 + 1
        for i in {c.provider for c in second}
    )


def test_an_entrant_is_drawn_from_its_own_stream_in_its_cell():
    # draw_centre_entrants: centre k in region[k], teaching sector[k] among the tier's 2 sectors,
    # ids from first_id; centres 0-2 are the same whether 3 or 5 enter (each has its own stream)
    scenario = load_scenario(TINY, [CENTRES])
    tier = scenario.centres[1]
    rngs = [stream(1, "tender:entry", 0, 4, k) for k in range(5)]
    region, sector = np.array([1, 1, 0, 0, 1]), np.array([2, 2, 0, 1, 1])
    specs, courses = draw_centre_entrants(rngs, scenario, tier, region, sector, first_id=30)
    np.testing.assert_array_equal(specs.region, region)
    assert (specs.capacity_per_year == 200).all() and len(specs) == 5
    np.testing.assert_array_equal(courses.provider, np.repeat(np.arange(30, 35), 2))
    np.testing.assert_array_equal(courses.sector.reshape(5, 2)[:, 0], sector)  # the given sector first
    assert (courses.sector.reshape(5, 2)[:, 0] != courses.sector.reshape(5, 2)[:, 1]).all()
    again = [stream(1, "tender:entry", 0, 4, k) for k in range(3)]
    _, fewer = draw_centre_entrants(again, scenario, tier, region[:3], sector[:3], first_id=30)
    np.testing.assert_array_equal(fewer.sector, courses.sector[:6])
    np.testing.assert_array_equal(fewer.true_quality, courses.true_quality[:6])
    np.testing.assert_array_equal(fewer.difficulty, courses.difficulty[:6])


@pytest.mark.parametrize("seed", [0, 1, 2**32 - 1, 2**32, 2**45 + 7, 2**70 + 3])
def test_entrants_streams_are_the_named_streams(seed):
    # streams (numpy's SeedSequence hash run on all keys at once) gives, key by key, the generator
    # stream gives: the same state and the same numbers
    keys = np.array([[0, 0, 0], [1, 4, 2], [0, 17, 0], [3, 2**32 - 1, 9], [2**31, 5, 6]])
    for key, fast in zip(keys, streams(seed, "tender:entry", keys), strict=True):
        named = stream(seed, "tender:entry", *map(int, key))
        assert fast.bit_generator.state == named.bit_generator.state
        np.testing.assert_array_equal(fast.beta(2.0, 3.0, 5), named.beta(2.0, 3.0, 5))
    assert streams(seed, "tender:entry", np.zeros((0, 3), dtype=np.int64)) == []
    with pytest.raises(ValueError):
        streams(seed, "tender:entry", np.array([[2**32]]))


@pytest.mark.parametrize(
    ("centres", "tier", "wanted"),
    [
        ("centres=[]", None, "a centres tier of kind offline_centre"),
        (
            "centres=[{name: blk, count: 4, capacity_per_year: 400, marginal_cost_idr: 1500000}]",
            None,
            "a centres tier of kind offline_centre",
        ),
        (CENTRES, "tender.entry.tier=lpkk", "a centres tier named 'lpkk'"),
    ],
)
def test_entry_with_no_tier_to_draw_entrants_like_is_refused_by_the_check(capsys, centres, tier, wanted):
    """Entry on (``tender.entry.max_centres`` > 0) needs a centres tier to draw the entrants like;
    without one, ``run.py check`` exits 2 naming the key (found by the fuzz test with centres
    emptied: the model raised at its start instead), and with the tier the same scenario passes."""
    from simulation.cli import main

    sets = [centres, TENDER, *ENTER, *([tier] if tier else [])]
    argv = ["check", str(TINY)] + [arg for s in sets for arg in ("--set", s)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "tender.entry.max_centres is 40" in err and wanted in err and "Traceback" not in err
    assert main(["check", str(TINY), "--set", CENTRES, "--set", TENDER, "--set", ENTER[0]]) == 0
