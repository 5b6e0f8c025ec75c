"""Sweep specs: loading, validation messages, the design (samplers, seeds) and the fingerprint."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from simulation.config.scenario import ScenarioError, load_scenario
from simulation.experiments import (
    RunSpec,
    SweepSpec,
    SweepSpecError,
    design,
    design_matrix,
    fingerprint,
    load_sweep_spec,
    run_count,
    salib_problem,
)
from simulation.experiments.spec import common_seeds, parse_sweep_spec, render_value, run_seed
from simulation.reporting.compare import replication_seeds

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"

GRID = {
    "name": "grid_test",
    "base": str(TINY),
    "seed": 12345,
    "sampler": "grid",
    "replications": 2,
    "set": ["size=500"],
    "parameters": [
        {"path": "voucher.credit_idr", "values": [500000, 1000000]},
        {"path": "choice.revisit_share", "values": [0.1, 0.5, 0.9]},
    ],
}
RANGES = [
    {"path": "voucher.credit_idr", "low": 500000, "high": 3500000},
    {"path": "choice.revisit_share", "low": 0.1, "high": 0.9},
    {"path": "choice.quality_weight", "low": 0.0, "high": 4.0},
]


def write_spec(tmp_path: Path, spec: dict | str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False), encoding="utf-8"
    )
    return path


def load(tmp_path: Path, **changes) -> SweepSpec:
    return load_sweep_spec(write_spec(tmp_path, GRID | changes))


def error_of(tmp_path: Path, spec: dict | str) -> str:
    path = write_spec(tmp_path, spec)
    with pytest.raises(SweepSpecError) as info:
        load_sweep_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    return message


# --------------------------------------------------------------------------- loading


def test_a_spec_loads_with_its_values_and_defaults(tmp_path):
    spec = load(tmp_path)
    assert isinstance(spec, SweepSpec)
    assert (spec.name, spec.seed, spec.sampler, spec.replications) == ("grid_test", 12345, "grid", 2)
    assert spec.base == TINY and spec.base.is_absolute()
    assert spec.spec_file == (tmp_path / "spec.yaml").resolve()
    assert spec.schemes is None and spec.metrics is None and spec.samples is None
    assert spec.common_random_numbers is True  # the default
    assert spec.set == ("size=500",)
    assert spec.parameters[0].values == (500000, 1000000)
    assert spec.names == ["voucher.credit_idr", "choice.revisit_share"]
    assert issubclass(SweepSpecError, ScenarioError)


def test_base_is_relative_to_the_spec_file(tmp_path):
    (tmp_path / "scenarios").mkdir()
    shutil.copy(TINY, tmp_path / "scenarios" / "tiny.yaml")
    (tmp_path / "sweeps").mkdir()
    spec = load_sweep_spec(write_spec(tmp_path, GRID | {"base": "../scenarios/tiny.yaml"}, "sweeps/s.yaml"))
    assert spec.base == (tmp_path / "scenarios" / "tiny.yaml").resolve()


@pytest.mark.parametrize("common", [True, False])
def test_the_spec_round_trips_through_json_without_reading_the_base(tmp_path, common):
    spec = load(tmp_path, sampler="lhs", samples=5, parameters=RANGES, common_random_numbers=common)
    again = SweepSpec.model_validate(spec.model_dump(mode="json"))
    assert again == spec and again.common_random_numbers is common
    assert design(again) == design(spec)
    assert fingerprint(again) == fingerprint(spec)


@pytest.mark.parametrize("path", sorted((ROOT / "scenarios" / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_sweep_spec_is_valid(path):
    spec = load_sweep_spec(path)
    assert spec.name == path.stem
    assert run_count(spec) >= 1


# --------------------------------------------------------------------------- the design


def test_grid_is_the_product_in_parameter_order_times_replications(tmp_path):
    spec = load(tmp_path)
    runs = design(spec)
    assert run_count(spec) == len(runs) == 2 * 3 * 2
    assert [run.run_id for run in runs] == list(range(12))
    assert [(run.point, run.replication) for run in runs] == [(p, r) for p in range(6) for r in range(2)]
    expected = [(c, s) for c in (500000, 1000000) for s in (0.1, 0.5, 0.9)]  # first parameter slowest
    for run in runs:
        assert run.run_id == run.point * 2 + run.replication
        assert tuple(run.values.values()) == expected[run.point]
        assert list(run.values) == ["voucher.credit_idr", "choice.revisit_share"]
    assert all(type(run.values["voucher.credit_idr"]) is int for run in runs)  # ints stay ints
    matrix = design_matrix(spec)
    assert matrix.shape == (6, 2) and matrix.dtype == float
    np.testing.assert_array_equal(matrix, np.array(expected, dtype=float))


def test_common_random_numbers_give_replication_r_one_seed_at_every_point(tmp_path):
    spec = load(tmp_path)  # the default: common random numbers
    runs = design(spec)
    assert design(spec) == runs
    by_replication = {r: {run.seed for run in runs if run.replication == r} for r in range(2)}
    assert all(len(seeds) == 1 for seeds in by_replication.values())  # the same at all 6 points
    first, second = by_replication[0].pop(), by_replication[1].pop()
    assert first != second  # distinct across replications
    for r, seed in enumerate((first, second)):  # the documented formula, the same on every machine
        assert seed == int(np.random.SeedSequence(12345, spawn_key=(r,)).generate_state(1)[0])
    assert common_seeds(spec) == [first, second] == replication_seeds(12345, 2)  # = run.py run's
    assert [first, second] == common_seeds(load(tmp_path, replications=5))[:2]  # not the count's
    assert {run.seed for run in design(load(tmp_path, seed=54321))}.isdisjoint({first, second})
    many = load(tmp_path, replications=40, parameters=GRID["parameters"][:1])
    assert len(set(common_seeds(many))) == 40
    for sampler, samples in (("lhs", 5), ("sobol", 4), ("morris", 2)):  # every sampler
        sampled = design(load(tmp_path, sampler=sampler, samples=samples, replications=3, parameters=RANGES))
        assert len({run.point for run in sampled}) > 1
        assert all(run.seed == replication_seeds(12345, 3)[run.replication] for run in sampled)


def test_without_common_random_numbers_seeds_are_those_of_the_run_id(tmp_path):
    spec = load(tmp_path, common_random_numbers=False)
    runs = design(spec)
    assert design(spec) == runs
    seeds = [run.seed for run in runs]
    assert len(set(seeds)) == len(seeds)
    for run in runs:
        formula = np.random.SeedSequence(12345, spawn_key=(run.run_id,)).generate_state(1)[0]
        assert run.seed == int(formula) == run_seed(spec, run.run_id)
    other = load(tmp_path, seed=54321, common_random_numbers=False)
    assert not set(seeds) & {run.seed for run in design(other)}


def test_without_common_random_numbers_seeds_and_fingerprint_are_those_of_earlier_sweeps(tmp_path):
    """Pinned to the values the code gave before the option existed (commit 0fc8157), so that a
    spec with ``common_random_numbers: false`` reproduces, and resumes, an earlier sweep."""
    base = tmp_path / "base.yaml"
    base.write_text("name: pinned\nweeks: 10\n", encoding="utf-8")  # fingerprint reads the content
    raw = {
        "name": "pinned",
        "base": str(base),
        "seed": 3,
        "replications": 2,
        "parameters": [{"path": "voucher.credit_idr", "values": [1, 2]}],
    }
    off = parse_sweep_spec(raw | {"common_random_numbers": False})
    assert fingerprint(off) == "a2c99769257f69ea6787253bc0b5fe1e070fb5cc02b6aa6460fd50af17754896"
    assert [run.seed for run in design(off)] == [819382448, 1645421708, 3451799802, 118549108]
    on = parse_sweep_spec(raw)
    assert fingerprint(on) != fingerprint(off)
    assert [run.seed for run in design(on)] == [819382448, 1645421708, 819382448, 1645421708]


def test_lhs_points_are_inside_the_bounds_and_stratified(tmp_path):
    n = 10
    spec = load(tmp_path, sampler="lhs", samples=n, replications=1, parameters=RANGES)
    matrix = design_matrix(spec)
    assert matrix.shape == (n, 3) and run_count(spec) == n
    for column, parameter in zip(matrix.T, RANGES, strict=True):
        assert (column >= parameter["low"]).all() and (column <= parameter["high"]).all()
        bins = np.floor((column - parameter["low"]) / (parameter["high"] - parameter["low"]) * n)
        assert sorted(bins.astype(int)) == list(range(n))  # one point in each of n equal bins
    assert all(isinstance(v, float) for run in design(spec) for v in run.values.values())  # ranges: floats
    np.testing.assert_array_equal(design_matrix(spec), matrix)
    assert not np.array_equal(
        design_matrix(load(tmp_path, sampler="lhs", samples=n, seed=1, parameters=RANGES)), matrix
    )


def test_sobol_has_n_times_d_plus_2_points_and_morris_n_times_d_plus_1(tmp_path):
    sobol = load(tmp_path, sampler="sobol", samples=8, replications=3, parameters=RANGES)
    assert run_count(sobol) == len(design(sobol)) == 8 * (3 + 2) * 3
    assert design_matrix(sobol).shape == (8 * 5, 3)
    morris = load(tmp_path, sampler="morris", samples=4, replications=2, parameters=RANGES)
    assert run_count(morris) == len(design(morris)) == 4 * (3 + 1) * 2
    matrix = design_matrix(morris)
    assert matrix.shape == (16, 3)
    for column, parameter in zip(matrix.T, RANGES, strict=True):
        levels = (column - parameter["low"]) / (parameter["high"] - parameter["low"]) * 3
        np.testing.assert_allclose(levels, np.round(levels), atol=1e-9)  # on the 4-level grid
    assert salib_problem(morris) == {
        "num_vars": 3,
        "names": [p["path"] for p in RANGES],
        "bounds": [[float(p["low"]), float(p["high"])] for p in RANGES],
    }


def test_random_draws_listed_values_with_their_types_and_ranges_uniformly(tmp_path):
    parameters = [
        {"path": "platforms.0.ranking", "values": ["popularity", "rating", "price"]},
        {"path": "choice.revisit_share", "low": 0.2, "high": 0.4},
    ]
    spec = load(tmp_path, sampler="random", samples=30, replications=1, parameters=parameters)
    runs = design(spec)
    assert len(runs) == 30 and design(spec) == runs
    assert {run.values["platforms.0.ranking"] for run in runs} == {"popularity", "rating", "price"}
    assert all(0.2 <= run.values["choice.revisit_share"] <= 0.4 for run in runs)
    assert design_matrix(spec).dtype == object


def test_values_round_trip_through_overrides_into_a_valid_scenario(tmp_path):
    for value in [0.1, 1e-7, 1.0e20, 2451280.554756522, 3, True, None, "rating", "yes", "123", "a: b"]:
        assert yaml.safe_load(render_value(value)) == value
        assert type(yaml.safe_load(render_value(value))) is type(value)
    assert render_value(np.float64(0.25)) == "0.25"
    parameters = [
        {"path": "voucher.credit_idr", "low": 500000, "high": 3500000},
        {"path": "choice.revisit_share", "low": 0.1, "high": 0.9},
    ]
    spec = load(tmp_path, sampler="lhs", samples=4, parameters=parameters)
    for run in design(spec):
        assert run.overrides == [f"{path}={render_value(v)}" for path, v in run.values.items()]
        scenario = load_scenario(spec.base, [*spec.set, *run.overrides], seed=run.seed)
        assert scenario.voucher.credit_idr == run.values["voucher.credit_idr"]
        assert scenario.choice.revisit_share == run.values["choice.revisit_share"]
        assert (scenario.size, scenario.seed) == (500, run.seed)
    run = RunSpec(0, 0, 0, {"platforms.0.ranking": "rating", "voucher.topup_allowed": True}, 1)
    assert run.overrides == ["platforms.0.ranking=rating", "voucher.topup_allowed=true"]


def test_exponent_numbers_yaml_reads_as_strings_are_numbers(tmp_path):
    text = f"name: e\nbase: {TINY}\nparameters:\n  - {{path: voucher.credit_idr, values: [5e5, 1e6]}}\n"
    spec = load_sweep_spec(write_spec(tmp_path, text))
    assert spec.parameters[0].values == (500000.0, 1000000.0)


# --------------------------------------------------------------------------- bad specs


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"samplr": "lhs"}, "samplr: unknown key; did you mean 'sampler'?"),
        (
            {"parameters": [{"path": "voucher.credit_idr", "valuse": [1]}]},
            "parameters.0.valuse: unknown key; did you mean 'values'?",
        ),
        (
            {
                "parameters": [
                    GRID["parameters"][0],
                    {"path": "choice.revisit_share", "low": 0.1, "high": 0.9},
                ]
            },
            "parameters.1: the grid sampler needs 'values' (a list), not a range",
        ),
        (
            {"sampler": "lhs", "samples": 4},
            "parameters.0: the lhs sampler needs a range ('low' and 'high'), not values",
        ),
        (
            {"parameters": [GRID["parameters"][0], GRID["parameters"][0]]},
            "parameters.1.path: 'voucher.credit_idr' overlaps parameters.0.path",
        ),
        (
            {"parameters": [{"path": "choice.revisit_share", "low": 0.9, "high": 0.1}]},
            "parameters.0: 'low' must be below 'high'",
        ),
        (
            {"parameters": [{"path": "choice.revisit_share", "values": [0.1], "low": 0.0, "high": 1.0}]},
            "parameters.0: give either 'values' or a range",
        ),
        ({"parameters": [{"path": "choice.revisit_share", "values": [0.1, 0.1]}]}, "0.1 is listed twice"),
        ({"sampler": "lhs", "parameters": RANGES}, "samples: the lhs sampler needs 'samples'"),
        ({"sampler": "sobol", "samples": 12, "parameters": RANGES}, "try 8 or 16"),
        ({"replications": 0}, "replications: Input should be greater than or equal to 1"),
        ({"name": "a/b"}, "name: must be a plain name"),
        ({"set": ["size=500", "choice.revisit_share=0.5"]}, "is also fixed by set.1"),
        (
            {"common_random_number": False},
            "common_random_number: unknown key; did you mean 'common_random_numbers'?",
        ),
        ({"common_random_numbers": "sometimes"}, "common_random_numbers: Input should be a valid boolean"),
        ({"common_random_numbers": 0}, "common_random_numbers: Input should be a valid boolean"),
    ],
    ids=lambda x: str(x)[:30],
)
def test_bad_specs_name_the_file_and_the_key(tmp_path, changes, expected):
    assert expected in error_of(tmp_path, GRID | changes)


def test_a_failing_parameter_is_not_also_reported_as_missing(tmp_path):
    message = error_of(tmp_path, GRID | {"parameters": [{"path": "choice.revisit_share", "low": 0.5}]})
    assert "parameters.0: give 'values' (a list) or a range ('low' and 'high')" in message
    assert "at least 1 item" not in message
    assert "parameters: Tuple should have at least 1 item" in error_of(tmp_path, GRID | {"parameters": []})


def test_an_unknown_scenario_path_names_the_parameter_and_suggests(tmp_path):
    parameters = [GRID["parameters"][1], {"path": "voucher.credit_idrr", "values": [1, 2]}]
    message = error_of(tmp_path, GRID | {"parameters": parameters})
    assert "parameters.1.path: voucher.credit_idrr: unknown key; did you mean 'credit_idr'?" in message
    message = error_of(tmp_path, GRID | {"parameters": [{"path": "regions.5.name", "values": ["x"]}]})
    assert "parameters.0.path: regions.5: no list item 5" in message


def test_bad_parameter_values_name_the_value(tmp_path):
    parameters = [{"path": "choice.revisit_share", "values": [0.5, 1.5]}]
    message = error_of(tmp_path, GRID | {"parameters": parameters})
    assert re.search(r"parameters\.0\.values\.1: choice\.revisit_share: .*less than or equal to 1", message)
    parameters = [{"path": "providers.count", "low": 5, "high": 20}]
    message = error_of(tmp_path, GRID | {"sampler": "lhs", "samples": 4, "parameters": parameters})
    assert "parameters.0: providers.count:" in message and "list the values under 'values'" in message


def test_bad_set_overrides_name_the_item(tmp_path):
    assert "set.0: size=5: size: Input should be greater than or equal to 10" in error_of(
        tmp_path, GRID | {"set": ["size=5"]}
    )
    assert "set.1: sizee=500: sizee: unknown key; did you mean 'size'?" in error_of(
        tmp_path, GRID | {"set": ["weeks=20", "sizee=500"]}
    )
    assert "set: item 0 ('size'): expected KEY.PATH=VALUE" in error_of(tmp_path, GRID | {"set": ["size"]})


def test_schemes_must_be_defined_by_the_base(tmp_path):
    message = error_of(tmp_path, GRID | {"schemes": ["tender"]})
    assert "schemes.0: the base scenario has no 'tender:' block (it defines: voucher)" in message
    assert "schemes.0: Input should be 'voucher' or 'tender'" in error_of(tmp_path, GRID | {"schemes": ["x"]})


def test_a_missing_base_file_names_the_base_key(tmp_path):
    message = error_of(tmp_path, GRID | {"base": "nowhere/tiny.yaml"})
    assert f"base: {(tmp_path / 'nowhere' / 'tiny.yaml').resolve()}: no such scenario file" in message
    assert "base: Field required" in error_of(tmp_path, {k: v for k, v in GRID.items() if k != "base"})


def test_malformed_or_missing_spec_files(tmp_path):
    message = error_of(tmp_path, "name: x\nparameters: [\n")
    assert "malformed YAML at line" in message
    assert "a sweep spec must be a YAML mapping" in error_of(tmp_path, "- just\n- a list\n")
    with pytest.raises(SweepSpecError, match="no such sweep spec file"):
        load_sweep_spec(tmp_path / "absent.yaml")


def test_salib_problem_needs_ranges(tmp_path):
    with pytest.raises(SweepSpecError, match=r"parameters\.0: SALib needs a range"):
        salib_problem(load(tmp_path))


# --------------------------------------------------------------------------- fingerprint


def test_fingerprint_changes_with_what_determines_results_only(tmp_path):
    reference = fingerprint(load(tmp_path))
    assert re.fullmatch(r"[0-9a-f]{64}", reference)
    assert fingerprint(load(tmp_path)) == reference
    assert fingerprint(load(tmp_path, name="other", description="words")) == reference
    assert fingerprint(load(tmp_path, samples=99)) == reference  # ignored by grid
    changed = dict(GRID["parameters"][0], values=[500000, 1500000])
    assert fingerprint(load(tmp_path, parameters=[changed, GRID["parameters"][1]])) != reference
    for changes in (
        {"seed": 1},
        {"replications": 3},
        {"set": ["size=600"]},
        {"metrics": ["bought_share"]},
        {"common_random_numbers": False},
    ):
        assert fingerprint(load(tmp_path, **changes)) != reference, changes
    assert fingerprint(load(tmp_path, common_random_numbers=True)) == reference  # the default


def test_fingerprint_follows_the_base_content_not_its_location(tmp_path):
    copy = tmp_path / "copy.yaml"
    copy.write_text("# a comment\n" + TINY.read_text(encoding="utf-8"), encoding="utf-8")
    reference = fingerprint(load(tmp_path))
    assert fingerprint(load(tmp_path, base=str(copy))) == reference
    copy.write_text(TINY.read_text(encoding="utf-8").replace("weeks: 30", "weeks: 31"), encoding="utf-8")
    assert fingerprint(load(tmp_path, base=str(copy))) != reference


# --------------------------------------------------------------------------- hard to break (issue 8)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"replications": 10**12}, "replications: Input should be less than or equal to 10000"),
        ({"replications": "1e12"}, "replications: Input should be less than or equal to 10000"),
        ({"replications": True}, "replications: Input should be a valid integer"),
        (
            {"sampler": "lhs", "samples": 10**12, "parameters": RANGES},
            "samples: Input should be less than or equal to 1048576",
        ),
        ({"seed": True}, "seed: Input should be a valid integer"),
        (
            {"parameters": [{"path": "choice.revisit_share", "low": float("nan"), "high": 0.9}]},
            "parameters.0.low: Input should be a finite number",
        ),
        (
            {"parameters": [{"path": "choice.revisit_share", "low": 0.1, "high": float("inf")}]},
            "parameters.0.high: Input should be a finite number",
        ),
        (
            {"parameters": [{"path": "choice.quality_weight", "values": [1.0, float("nan")]}]},
            "parameters.0.values.1: choice.quality_weight: Input should be a finite number",
        ),
        ({"name": "../../x"}, "name: must be a plain name"),
        ({"name": "/abs/path"}, "name: must be a plain name"),
    ],
    ids=lambda x: str(x)[:40],
)
def test_hard_to_break_specs_name_the_key(tmp_path, changes, expected):
    assert expected in error_of(tmp_path, GRID | changes)


def test_the_total_number_of_runs_is_bounded(tmp_path):
    parameters = [
        {"path": "voucher.credit_idr", "values": list(range(100_000, 1_100_000, 1000))},  # 1,000 values
        {"path": "choice.revisit_share", "values": [k / 1000 for k in range(1000)]},
    ]
    message = error_of(tmp_path, GRID | {"parameters": parameters, "replications": 2})
    assert (
        "replications: the design has 1,000,000 points x 2 replications = 2,000,000 runs; at most "
        "1,000,000 (lower replications or the parameters' values)"
    ) in message
    message = error_of(
        tmp_path, GRID | {"sampler": "sobol", "samples": 2**19, "replications": 2, "parameters": RANGES}
    )
    assert "2,621,440 points x 2 replications = 5,242,880 runs" in message and "or samples" in message


def test_a_huge_sweep_fails_the_dry_run_quickly(tmp_path, capsys):
    from simulation.cli import main

    path = write_spec(tmp_path, GRID | {"replications": 10**12})
    assert main(["sweep", str(path), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: replications: Input should be less than or equal to 10000")


def test_a_deeply_nested_spec_or_base_is_refused(tmp_path):
    deep = "[" * 1000 + "]" * 1000
    message = error_of(tmp_path, yaml.safe_dump(GRID, sort_keys=False) + f"description: {deep}\n")
    assert "nested deeper than 32 levels of lists and mappings at line" in message
    base = tmp_path / "deep_base.yaml"
    base.write_text(TINY.read_text(encoding="utf-8") + f"x: {deep}\n", encoding="utf-8")
    message = error_of(tmp_path, GRID | {"base": str(base)})
    assert f"base: {base}: nested deeper than 32 levels" in message
    message = error_of(tmp_path, GRID | {"set": ["description=" + deep]})
    assert "set.0: description=" in message and "the value is nested deeper than 32 levels" in message


def test_duplicate_keys_in_a_spec_are_refused(tmp_path):
    text = yaml.safe_dump(GRID, sort_keys=False) + "replications: 5\n"
    assert "duplicate key 'replications' (first at line" in error_of(tmp_path, text)


def test_an_alias_bomb_spec_is_refused_at_once(tmp_path):
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]" for k in range(1, 10)]
    text = yaml.safe_dump(GRID, sort_keys=False) + "description: {" + ", ".join(lines) + "}\n"
    start = time.perf_counter()
    assert "more than 100,000 values once aliases are expanded" in error_of(tmp_path, text)
    assert time.perf_counter() - start < 1
