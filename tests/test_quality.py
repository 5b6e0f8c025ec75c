"""Hidden quality on both sides (issue 9, point 3): the shading rule every provider follows
(``simulation.rules.quality``), its inputs under the tender (mission, penalties drawn and charged,
past performance across cycles) and under the voucher (ratings and repeat sales), and its limits."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import MarketModel, build_world, load_scenario
from simulation.config.codes import HYBRID, OFFLINE, ONLINE
from simulation.config.streams import stream
from simulation.reporting.metrics import summarise
from simulation.rules import procurement, quality
from tests.conftest import TENDER_ARM, TINY

# --------------------------------------------------------------------------- the rule, by hand


def test_shading_by_hand():
    # saving Rp1 m, mission Rp100,000, future loss Rp100,000 per unit; discipline = monitoring 0.2
    # x penalty Rp5 m = Rp1 m per unit squared: s* = (1,000,000 - 100,000 - 100,000) / (2 x
    # 1,000,000) = 0.4; a course of potential 0.3 shades all of it; a net saving below 0 nothing.
    s = quality.shading(np.array([0.7, 0.3, 0.7]), [1e6, 1e6, 1e5], 1e5, [1e5, 1e5, 1e5], 0.2 * 5e6)
    np.testing.assert_allclose(s, [0.4, 0.3, 0.0])


def test_without_discipline_shading_is_all_or_nothing():
    # discipline 0: net saving 20,000 - 5,000 - 10,000 = 5,000 > 0 -> all of the potential;
    # net 20,000 - 5,000 - 15,000 = 0 -> nothing (a provider indifferent gives full effort).
    s = quality.shading(np.array([0.6, 0.6]), 20_000.0, 5_000.0, np.array([10_000.0, 15_000.0]), 0.0)
    np.testing.assert_array_equal(s, [0.6, 0.0])


@pytest.mark.parametrize("discipline", [0.0, 1.0, 1e6])
def test_no_saving_no_shading(discipline):
    potential = np.linspace(0.0, 1.0, 11)
    np.testing.assert_array_equal(quality.shading(potential, 0.0, 0.0, 0.0, discipline), np.zeros(11))


def test_without_mission_and_future_the_rule_is_the_old_tender_formula():
    # s* = saving / (2 monitoring penalty) = 1,000,000 / (2 x 0.2 x 5,000,000) = 0.5, capped at 0.3
    potential = np.array([0.8, 0.3])
    s = quality.shading(potential, 1e6, 0.0, 0.0, 0.2 * 5e6)
    np.testing.assert_allclose(s, [0.5, 0.3])
    np.testing.assert_array_equal(s, procurement.shading(potential, np.full(2, 1e6), 0.2, 5e6))


def test_with_the_same_saving_and_discipline_a_mission_shades_less():
    # a public centre valuing its trainees' skill at Rp400,000 per unit against a for-profit one:
    # (1,000,000 - 400,000) / (2 x 2,500,000) = 0.12 < 1,000,000 / 5,000,000 = 0.2
    s = quality.shading(np.array([0.9, 0.9]), 1e6, np.array([4e5, 0.0]), 0.0, 0.5 * 5e6)
    np.testing.assert_allclose(s, [0.12, 0.2])


def test_saving_by_mode():
    mode = np.array([ONLINE, OFFLINE, HYBRID, OFFLINE])
    np.testing.assert_array_equal(quality.saving_by_mode(mode, 2e4, 1e6, 5e5), [2e4, 1e6, 5e5, 1e6])


def test_tender_future_loss_by_hand():
    # score weight of quality 1 - 0.6 = 0.4, past-performance weight 0.5, record seen with
    # probability 0.2, next margin Rp200,000 per trainee: 0.4 x 0.5 x 0.2 x 200,000 = 8,000.
    loss = quality.tender_future_loss_idr(0.4, 0.5, 0.2, np.array([200_000.0, -50_000.0]), next_cycle=True)
    np.testing.assert_allclose(loss, [8_000.0, 0.0])  # a loss-making contract has no margin to lose
    assert not quality.tender_future_loss_idr(0.4, 0.5, 0.2, np.array([200_000.0]), next_cycle=False).any()


def test_rating_shrinkage_by_hand():
    # 45 real ratings against a prior of 5: 45 / 50 = 0.9; none: 0; no prior: 1
    np.testing.assert_allclose(quality.rating_shrinkage(np.array([45.0, 0.0]), 5.0), [0.9, 0.0])
    assert quality.rating_shrinkage(10.0, 0.0) == 1.0


def test_voucher_future_loss_by_hand():
    # quality weight 2, shrinkage 0.9, choice share 0.1, margin Rp100,000 per sale, a reputation
    # of 13 weeks against a 2-week review: 2 x 0.9 x (1 - 0.1) x 100,000 x 13 / 2 = 1,053,000.
    loss = quality.voucher_future_loss_idr(np.array([0.9]), 2.0, np.array([0.1]), np.array([1e5]), 13, 2)
    np.testing.assert_allclose(loss, [1_053_000.0])


def test_voucher_shading_falls_as_ratings_get_more_informative():
    # An online course saving Rp20,000 per unit of quality, margin Rp100,000, choice share 0.1,
    # quality weight 2, horizon = review period: shading pays only while its stars rest on so few
    # real ratings that 2 x n / (n + 5) x 0.9 x 100,000 < 20,000, i.e. n / (n + 5) < 1/9, n < 0.625.
    n = np.array([0.0, 0.25, 0.6, 0.7, 5.0, 500.0])
    future = quality.voucher_future_loss_idr(
        quality.rating_shrinkage(n, 5.0), 2.0, np.full(n.size, 0.1), np.full(n.size, 1e5), 2, 2
    )
    s = quality.shading(np.full(n.size, 0.6), 20_000.0, 0.0, future, 0.0)
    np.testing.assert_array_equal(s, [0.6, 0.6, 0.6, 0.0, 0.0, 0.0])
    assert np.all(np.diff(s) <= 0)


# --------------------------------------------------------------------------- the tender

TWO_TIERS = [  # the same offline course cost; one tier mission-driven, the other for profit
    "centres=[{name: public, kind: public_blk, count: 4, capacity_per_year: 2000, sectors_taught: 2,"
    " marginal_cost_idr: 1500000, mission_weight_idr: 400000},"
    " {name: private, kind: offline_centre, count: 4, capacity_per_year: 2000, sectors_taught: 2,"
    " marginal_cost_idr: 1500000}]",
    "providers.types={online_only: 1, blended: 0, offline_centre: 0, public_blk: 0}",  # only centres bid
]


def run_tender(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, [*TENDER_ARM, *overrides], schemes=["tender"], **top_level)
    return MarketModel(build_world(scenario), "tender").run()


def test_public_centres_shade_less_than_for_profit_ones():
    # saving Rp1 m, discipline 0.5 x Rp5 m, one cycle (no future): a public centre (mission
    # Rp400,000) shades min(0.12, potential), a private one min(0.2, potential).
    model = run_tender([*TWO_TIERS, "tender.monitoring=0.5"])
    contracts = model.scheme.contracts
    mission = {c.provider: model.providers[c.provider].mission_weight_idr for c in contracts}
    assert set(mission.values()) == {0.0, 400_000.0}  # both kinds won contracts
    for c in contracts:
        expected = 0.12 if mission[c.provider] > 0 else 0.2
        assert c.shading == pytest.approx(min(expected, c.potential_quality))
        assert c.delivered_quality == pytest.approx(c.potential_quality - c.shading)
    public = [c.shading for c in contracts if mission[c.provider] > 0 and c.potential_quality > 0.2]
    private = [c.shading for c in contracts if mission[c.provider] == 0 and c.potential_quality > 0.2]
    assert public and private and max(public) < min(private)


def test_world_gives_each_provider_type_its_mission():
    s = load_scenario(TINY, [*TENDER_ARM, *TWO_TIERS, "providers.knightly_weight_idr=70000"])
    model = MarketModel(build_world(s), "tender")
    kinds = {(p.kind, p.mission_weight_idr) for p in model.providers}
    assert kinds == {
        ("online_only", 0.0),
        ("online_only", 70_000.0),
        ("public_blk", 400_000.0),
        ("offline_centre", 0.0),
    }


def test_penalties_are_drawn_charged_and_booked():
    model = run_tender(["tender.monitoring=0.5"])
    scheme, ledger, scale = model.scheme, model.ledger, model.scale
    contracts = scheme.contracts
    # one draw per contract of stream tender:monitoring, at signing
    drawn = stream(model.world.seed, "tender:monitoring", 0).random(len(contracts)) < 0.5
    np.testing.assert_array_equal([c.inspected for c in contracts], drawn)
    assert 0 < drawn.sum() < len(contracts)
    # an inspected contractor pays penalty_idr x shading**2 per trainee (simulated IDR)
    due = [5e6 * c.shading**2 * c.seated if c.inspected else 0.0 for c in contracts]
    np.testing.assert_allclose([c.penalty_idr for c in contracts], due)
    assert ledger.penalties == pytest.approx(sum(due)) and ledger.penalties > 0
    # money is conserved: the treasury gets the penalties back, the providers' receipts lose them
    assert ledger.treasury_out == pytest.approx(ledger.received, rel=1e-12)
    assert float(model.courses.net_revenue_idr.sum()) == pytest.approx(ledger.provider_receipts)
    assert ledger.treasury_out == pytest.approx(ledger.contract_payments + ledger.admin - ledger.penalties)
    metrics = scheme.metrics()
    assert metrics["contracts_inspected"] == int(drawn.sum())
    assert metrics["penalties_idr"] == pytest.approx(ledger.penalties * scale)
    # each provider's books: payments received less its costs and penalties
    for k in {c.provider for c in contracts}:
        mine = [c for c in contracts if c.provider == k]
        paid = sum(c.price_idr * c.seated for c in mine)
        cost = sum(c.cost_idr * c.seated for c in mine)
        penalty = sum(c.penalty_idr for c in mine)
        assert model.providers[k].profit_idr == pytest.approx((paid - cost - penalty) * scale)


def test_no_saving_no_shading_in_the_tender():
    model = run_tender(["providers.quality_saving_idr.offline=0", "tender.monitoring=0.5"])
    assert all(c.shading == 0 for c in model.scheme.contracts)
    assert model.ledger.penalties == 0 and summarise(model)["mean_shading"] == 0


CYCLES = [
    "tender.cycles=2",
    "tender.cycle_weeks=13",
    "tender.procurement_weeks=2",
    "tender.quality_inflation=0",
    "tender.assessment_noise_sd=0",
]


def capture_assessments(monkeypatch) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """Record every lot's bidders and past-performance blend: (provider, assessed, record, blended)."""
    from simulation.schemes.tender import TenderScheme

    calls: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    blends: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    blend, bids = procurement.past_performance_adjustment, TenderScheme._bids

    def spy_blend(assessed, record, weight):
        out = blend(assessed, record, weight)
        blends.append((np.array(assessed), np.array(record), out))
        return out

    def spy_bids(self, *args):
        found = bids(self, *args)
        if found is not None:  # one blend per lot with bidders
            calls.append((found["provider"], *blends[-1]))
        return found

    monkeypatch.setattr(procurement, "past_performance_adjustment", spy_blend)
    monkeypatch.setattr(TenderScheme, "_bids", spy_bids)
    return calls


@pytest.mark.parametrize("saving", [1e6, 0.0])
def test_past_performance_lowers_a_shading_contractors_next_score(monkeypatch, saving):
    # Every contract inspected (monitoring 1): the office records the delivered quality of each
    # contractor's first-cycle contracts (seat-weighted), potential - s. In the second cycle its
    # assessed quality is blended half and half with that record, so it is lower by 0.5 x s (and
    # its score by (1 - price_weight) x 0.5 x s) than a record of full effort would give.
    calls = capture_assessments(monkeypatch)
    model = run_tender([*CYCLES, "tender.monitoring=1", f"providers.quality_saving_idr.offline={saving}"])
    first = [c for c in model.scheme.contracts if c.cycle == 0]
    assert first and all(c.inspected for c in first)
    delivered: dict[int, list[float]] = {}
    for c in first:
        d = delivered.setdefault(c.provider, [0.0, 0.0, 0.0])
        d[0] += c.seats * c.delivered_quality
        d[1] += c.seats * c.potential_quality
        d[2] += c.seats
    recorded = [call for call in calls if np.isfinite(call[2]).any()]
    assert recorded  # second-cycle lots with bidders that have a record
    lowered = 0
    for provider, assessed, record, blended in recorded:
        has = np.isfinite(record)
        np.testing.assert_array_equal(blended[~has], assessed[~has])
        for k, a, r, out in zip(provider[has], assessed[has], record[has], blended[has], strict=True):
            quality_seats, potential_seats, seats = delivered[int(k)]
            assert r == pytest.approx(quality_seats / seats)  # the delivered quality it was seen to give
            assert out == pytest.approx(0.5 * a + 0.5 * r)
            full_effort = 0.5 * a + 0.5 * potential_seats / seats
            shaded = (potential_seats - quality_seats) / seats
            assert out == pytest.approx(full_effort - 0.5 * shaded)
            lowered += shaded > 0
    assert (lowered > 0) == (saving > 0)
    # the first cycle's contractors weighed that loss: s = (saving - future) / (2 x penalty), with
    # future = (1 - 0.6) x 0.5 x 1 x margin; the second cycle's, with nothing after it, did not.
    cost = model.scheme._delivery_cost(np.array([c.course for c in model.scheme.contracts]))
    for c, full_cost in zip(model.scheme.contracts, cost, strict=True):
        future = 0.4 * 0.5 * max(c.price_idr - full_cost, 0.0) if c.cycle == 0 else 0.0
        expected = min(max((saving - future) / (2 * 5e6), 0.0), c.potential_quality)
        assert c.shading == pytest.approx(expected)


def test_an_uninspected_contractor_is_recorded_at_its_declared_quality():
    model = run_tender([*CYCLES, "tender.monitoring=0.5", "tender.quality_inflation=0.1"])
    scheme = model.scheme
    last = {}
    for c in scheme.contracts:  # every contract ends with its cycle; a provider's last cycle counts
        last.setdefault(c.provider, {}).setdefault(c.cycle, []).append(c)
    for provider, by_cycle in last.items():
        mine = by_cycle[max(by_cycle)]
        seen = [c.delivered_quality if c.inspected else c.declared_quality for c in mine]
        expected = np.average(seen, weights=[c.seats for c in mine])
        assert scheme.record_quality[provider] == pytest.approx(expected)


# --------------------------------------------------------------------------- the voucher


def run_voucher(overrides: list[str], **top_level) -> MarketModel:
    scenario = load_scenario(TINY, overrides, schemes=["voucher"], **top_level)
    return MarketModel(build_world(scenario), "voucher").run()


def test_no_saving_no_shading_in_the_voucher():
    model = run_voucher(["providers.reputation_weeks=1"])  # tiny saves nothing by shading
    courses = model.courses
    np.testing.assert_array_equal(courses.true_quality, courses.potential_quality)
    assert summarise(model)["mean_shading"] == 0


def test_voucher_sellers_shade_when_it_pays_and_ratings_follow():
    # Online quality saving Rp5 m per unit of quality: more than any sale a course's stars could
    # lose over a review period (tiny's prices are at most the Rp1 m credit), so every course shown
    # shades all its quality at its first review; its later ratings are those of quality 0.
    model = run_voucher(["providers.quality_saving_idr.online=5000000", "providers.reputation_weeks=4"])
    courses = model.courses
    online = courses.mode == ONLINE
    shaded = online & (courses.true_quality < courses.potential_quality)
    assert shaded.any()
    np.testing.assert_array_equal(courses.true_quality[shaded], 0.0)
    np.testing.assert_array_equal(courses.true_quality[~online], courses.potential_quality[~online])
    assert summarise(model)["mean_shading"] > 0
    # the stars a platform shows rest on the ratings given, before and after: their expected mean
    # lies between what quality 0 and the potential earn
    from simulation.rules.training import expected_stars

    rated = shaded & (courses.rating_count > 0)
    mean = courses.expected_mean_rating()[rated]
    low = expected_stars(np.zeros(rated.sum()), model.params.ratings)
    high = expected_stars(courses.potential_quality[rated], model.params.ratings)
    assert np.all(mean >= low - 1e-9) and np.all(mean <= high + 1e-9)


def test_voucher_shading_falls_with_more_informative_ratings():
    # A moderate saving (Rp300,000 per unit online): with a platform prior worth a million real
    # ratings, a course's own ratings barely move its stars and shading pays; with a prior of one rating they
    # carry its stars fully and most sellers keep full effort.
    saving = "providers.quality_saving_idr.online=300000"
    flat = summarise(run_voucher([saving, "ratings.prior_count=1000000"]))["mean_shading"]
    informative = summarise(run_voucher([saving, "ratings.prior_count=1"]))["mean_shading"]
    assert flat > informative


def test_voucher_shading_does_not_depend_on_the_sample_size():
    # The choice uses expected sales, real rating counts and ratios of expected quantities, so the
    # same organisations choose about the same shading at two sample sizes (tripled): purchases
    # are shaded by the same mean amount up to the noise of realised ratings and purchases.
    overrides = ["providers.quality_saving_idr.online=300000"]
    shading = {size: summarise(run_voucher(overrides, size=size))["mean_shading"] for size in (2000, 6000)}
    assert shading[2000] > 0.01 and shading[6000] > 0.01
    assert shading[2000] == pytest.approx(shading[6000], rel=0.25)


def test_voucher_sellers_book_the_cost_their_shading_saves():
    """A course of marginal cost c, potential 0.6, delivering 0.4 with an offline saving of Rp1 m
    per unit costs c - 1 m x 0.2 = c - Rp200,000 per trainee as delivered; an online course saving
    nothing keeps its cost; the cost never goes below zero."""
    scenario = load_scenario(TINY, ["providers.quality_saving_idr.offline=1000000"], schemes=["voucher"])
    model = MarketModel(build_world(scenario), "voucher")
    market, courses = model.scheme.market, model.courses
    offline, online = np.array([0, 1]), np.array([2])
    courses.mode[offline], courses.mode[online] = OFFLINE, ONLINE
    courses.potential_quality[offline] = 0.6
    courses.true_quality[offline] = 0.4
    courses.marginal_cost_idr[offline] = [400_000.0, 100_000.0]
    courses.true_quality[online] = courses.potential_quality[online] - 0.3
    cost = market.delivery_cost_idr()
    assert cost[offline] == pytest.approx([200_000.0, 0.0])  # 400k - 200k; 100k - 200k floored at 0
    assert cost[online] == pytest.approx(courses.marginal_cost_idr[online])


def test_the_reputation_horizon_ends_when_the_last_cards_expire():
    """tiny: 4 waves from week 0 every 2 weeks, cards valid 12 weeks: the last wave's cards (week 6)
    expire in week 18, so in week 10 a seller's stars can still sell for 8 weeks, in week 18 for none."""
    scenario = load_scenario(TINY, schemes=["voucher"])
    market = MarketModel(build_world(scenario), "voucher").scheme.market
    assert market.weeks_left(10) == 8.0
    assert market.weeks_left(18) == 0.0 and market.weeks_left(25) == 0.0


def test_shading_under_review_by_hand():
    """Potential 0.8, minimum 0.3, a near-exact review (sd 0.001): a seller saving Rp100,000 per
    unit, sure to be reviewed, with Rp10 m of listing at stake, shades to just above the minimum
    (s ~ 0.5, delivered ~ 0.3, never below it by more than the review's noise); with nothing at
    stake it shades everything; with no net saving nothing; never reviewed: all or nothing, as
    ``shading`` with no discipline."""
    args = {"catch_rate": 1.0, "noise_sd": 0.001, "min_quality": 0.3}
    s = quality.shading_under_review(np.array([0.8]), 100_000.0, listing_value_idr=1e7, **args)
    assert 0.49 <= s[0] <= 0.5
    assert quality.shading_under_review(np.array([0.8]), 100_000.0, listing_value_idr=0.0, **args)[0] == 0.8
    assert quality.shading_under_review(np.array([0.8]), -1.0, listing_value_idr=1e7, **args)[0] == 0.0
    never = {"catch_rate": 0.0, "noise_sd": 0.1, "min_quality": 0.3, "listing_value_idr": 1e7}
    potential = np.array([0.2, 0.5, 0.9])
    for net in (-5.0, 0.0, 5.0):
        np.testing.assert_allclose(
            quality.shading_under_review(potential, net, **never),
            quality.shading(potential, net, 0.0, 0.0, 0.0),
        )


def test_shading_under_review_falls_as_reviews_get_likelier():
    """The more likely a review, the less a seller shades (weakly), course by course."""
    potential = np.linspace(0.35, 1.0, 14)
    shaded = [
        quality.shading_under_review(potential, 50_000.0, rate, 0.05, 0.3, 2_000_000.0)
        for rate in (0.0, 0.05, 0.2, 0.6, 1.0)
    ]
    for looser, stricter in zip(shaded, shaded[1:], strict=False):
        assert np.all(stricter <= looser + 1e-12)
    assert shaded[-1].sum() < shaded[0].sum()


def test_curation_rereviews_keep_voucher_shading_above_the_minimum():
    """A saving of Rp300,000 per unit online and stars that carry no information (a prior worth a
    million ratings): unreviewed, sellers shade everything. With weekly re-reviews against a minimum
    of 0.3, whose delisting costs more than the saving brings (a listing's margin over the weeks
    left), they shade only down to about the minimum. The run stops in week 13, while the listing
    still has weeks to sell in (tiny's last cards expire in week 18: after that, in the end game,
    nothing is worth guarding and sellers shade everything again)."""
    common = [
        "providers.quality_saving_idr.online=300000",
        "providers.reputation_weeks=4",
        "ratings.prior_count=1000000",
    ]
    curation = "voucher.curation={enabled: true, min_quality: 0.3, review_noise_sd: 0.02"
    unreviewed = run_voucher([*common, curation + "}"], weeks=13)
    reviewed = run_voucher([*common, curation + ", rereview_weekly: 0.5}"], weeks=13)
    before = unreviewed.courses
    shaded_all = before.true_quality < before.potential_quality
    assert shaded_all.any() and np.all(before.true_quality[shaded_all] == 0.0)
    courses = reviewed.courses
    shaded = courses.true_quality < courses.potential_quality
    assert shaded.any()
    assert np.all(courses.true_quality[shaded] >= 0.3 - 0.01)  # shades to about the minimum, not below
    assert summarise(reviewed)["mean_shading"] < summarise(unreviewed)["mean_shading"]
    assert summarise(unreviewed)["courses_delisted"] == 0
