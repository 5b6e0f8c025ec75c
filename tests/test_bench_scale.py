"""The pure logic of benchmarks/bench_scale.py: tiers, the growth fit, exclusive phase times, and
that its table of timed components names methods that exist (nothing here is timed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_benchmark

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("bench_scale")


def test_tiers_parse(bench):
    assert bench.parse_tiers("10k, 1.5m,national,2500") == [
        ("10k", 10_000),
        ("1.5m", 1_500_000),
        ("national", bench.NATIONAL),
        ("2500", 2500),
    ]


def test_growth_exponent_recovers_a_power_law(bench):
    rows = [12_500, 125_000, 1_250_000, 6_886_319]
    assert bench.growth_exponent(rows, [3e-6 * r for r in rows]) == pytest.approx(1.0)
    assert bench.growth_exponent(rows, [2.0 * r**1.5 for r in rows]) == pytest.approx(1.5)
    assert bench.growth_exponent(rows, [7.0] * 4) == pytest.approx(0.0)


def test_growth_exponent_by_hand(bench):
    """Two points (10, 1) and (1000, 10): slope log(10) / log(1000 / 10) = 0.5; three points
    (1, 1), (10, 10), (100, 10): slope 0.5 by the normal equations (x = 0, 1, 2 decades; y = 0, 1,
    1; sum (x - 1)(y - 2/3) / sum (x - 1)^2 = 1 / 2)."""
    assert bench.growth_exponent([10, 1000], [1.0, 10.0]) == pytest.approx(0.5)
    assert bench.growth_exponent([1, 10, 100], [1.0, 10.0, 10.0]) == pytest.approx(0.5)


def test_a_fixed_cost_flattens_the_fit_over_small_tiers(bench):
    """Time = 5 s + 1 us per row: over 10k..1m the exponent is far below 1, over the large tiers
    nearer to it; the fit over the tiers >= 100k leaves the small one out."""
    sizes = [10_000, 100_000, 1_000_000, 5_000_000]
    tiers = [
        {
            "tier": str(n),
            "size": n,
            "participants": n,
            "schemes": ["voucher"],
            "build_s": 1e-6 * n,
            "run_s_by_scheme": {"voucher": 5.0 + 1e-6 * n},
            "total_s": 5.0 + 2e-6 * n,
            "end_to_end_s": 15.0 + 2e-6 * n,
            "peak_mb": 300.0 + 1e-4 * n,
        }
        for n in sizes
    ]
    fits = bench.growth(tiers)
    assert fits["all"]["tiers"] == [str(n) for n in sizes]
    assert fits["large"]["tiers"] == [str(n) for n in sizes[1:]]
    assert fits["all"]["world"] == pytest.approx(1.0)
    assert fits["all"]["voucher"] < fits["large"]["voucher"] < 1.0
    assert bench.growth(tiers[:2])["large"] is None  # one tier >= 100k: no fit


def test_growth_needs_two_sizes_and_positive_values(bench):
    assert bench.growth_exponent([100, 100], [1.0, 2.0]) is None
    assert bench.growth_exponent([100, 1000], [1.0, 0.0]) is None


def test_phases_are_exclusive_and_add_up(bench, monkeypatch):
    """A fake clock: the outer phase lasts 10 s, an inner one 3 s within it, called twice in all;
    the outer keeps 10 - 3 - 1 = 6 s, and the seconds add up to the 10 s elapsed."""
    ticks = iter([0.0, 2.0, 5.0, 7.0, 8.0, 10.0])
    monkeypatch.setattr(bench.time, "perf_counter", lambda: next(ticks))
    clock = bench.PhaseClock()
    inner = clock.timed(lambda: None, "inner")
    clock.scheme = "voucher"
    with clock.phase("outer"):
        inner()  # 2.0 -> 5.0
        inner()  # 7.0 -> 8.0
    assert dict(clock.seconds) == {"voucher: inner": 4.0, "outer": 6.0}
    assert clock.calls["voucher: inner"] == 2
    assert sum(clock.seconds.values()) == 10.0


def test_every_timed_component_exists(bench):
    """The tables name methods and kernels of the current model (a rename must be reflected in
    them), and the floors' targets are the calls the model makes: the labour step's
    ``over_blocks`` and the voucher's ``shop``."""
    schemes = [key for key in bench.COMPONENTS if not key.startswith("*")]
    targets = [(module, attribute) for _, module, attribute in bench.components(schemes)]
    tables = [*targets, *bench.FLOOR_TARGETS.values(), *bench.FLOOR_KERNELS.values()]
    for module, attribute in tables:
        _, _, value = bench.resolve(module, attribute)
        assert callable(value), f"{module}.{attribute}"
    from simulation.rules import choice, parallel

    assert bench.resolve(*bench.FLOOR_TARGETS["labour"])[2] is parallel.over_blocks
    assert bench.resolve(*bench.FLOOR_TARGETS["shopping"])[2] is choice.shop


def test_no_component_runs_on_pool_threads(bench):
    """The phase clock has one stack: nothing timed may run on the kernels' pool threads."""
    on_pool_threads = {"choose_courses", "employment_block", "choice_sets_block", "employment_week"}
    schemes = [key for key in bench.COMPONENTS if not key.startswith("*")]
    assert not {attribute for _, _, attribute in bench.components(schemes)} & on_pool_threads


def test_patches_restore_the_originals(bench):
    class Owner:
        value = 1

    patches = bench.Patches()
    patches.set(Owner, "value", 2)
    patches.set(Owner, "value", 3)
    assert Owner.value == 3
    patches.restore()
    assert Owner.value == 1


def test_a_missing_component_stops_with_its_name(bench):
    with pytest.raises(SystemExit, match="simulation.model.labour.LabourMarket.no_such_step"):
        bench.resolve("simulation.model.labour", "LabourMarket.no_such_step")


def test_phase_order_lists_each_scheme_then_the_rest(bench):
    order = bench.phase_order(["voucher", "tender"])
    assert order[:3] == ["imports", "world", "voucher: setup"]
    assert order[-4:] == ["metrics", "outputs", "figures", "other"]
    assert "voucher: shop/choice.shop" in order and "tender: seat cohorts" in order
    assert "voucher: labour" in order and not any(name.endswith("kernel") for name in order)
    assert order.index("voucher: other") < order.index("tender: setup")
    assert len(order) == len(set(order))


def test_floors_run_on_a_tiny_captured_week(bench, monkeypatch, tmp_path):
    """The tiny scenario's voucher run for a few weeks with the floors' captures installed: the
    labour step of week 2 and the largest shopping call are saved, and the kernels and floors
    run on them (one call each: nothing is timed here). The floors change nothing they stream."""
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import floors

    from simulation import MarketModel, build_world

    monkeypatch.setattr(floors, "MIN_TIMED_S", 0.0)
    clock, patches = bench.PhaseClock(), bench.Patches()
    inputs = bench.KernelInputs(clock, tmp_path)
    scenario = bench.load(str(ROOT / "scenarios" / "tiny.yaml"), None, None)
    inputs.week, clock.scheme = 2, "voucher"
    inputs.install(patches)
    try:
        model = MarketModel(build_world(scenario), "voucher")
        for _ in range(min(8, scenario.weeks)):
            model.step()
    finally:
        patches.restore()
    assert set(inputs.labour) == {"voucher"} and inputs.shopping["voucher"]["shoppers"] > 0
    n, saved = inputs.labour["voucher"]
    args = bench.loaded(saved)
    assert n == model.labour.n and args[0] == 2
    result = bench.measure_floors(inputs, ["voucher"], repeats=1)
    labour, shopping = result["labour"]["voucher"], result["shopping"]["voucher"]
    assert labour["rows"] == n and labour["week"] == 2 and labour["ratio"] > 0
    assert shopping["blocks"] == 1 and shopping["shop_shoppers"] == shopping["shoppers"]
    assert shopping["shoppers"] == inputs.shopping["voucher"]["shoppers"]

    streamed = floors.labour_floor_args(args)
    before = [np.copy(a) for a in streamed]
    floors.labour_floor(0, n, *streamed)
    for old, new in zip(before, streamed, strict=True):
        np.testing.assert_array_equal(old, new)
