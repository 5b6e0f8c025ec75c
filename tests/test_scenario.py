"""Scenario files: loading, ``--set`` overrides, validation messages and the frozen Scenario."""

from __future__ import annotations

import copy
import re
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from simulation import build_world
from simulation.config.scenario import (
    MEMORY_LIMIT_BYTES,
    Scenario,
    ScenarioError,
    apply_override,
    load_scenario,
    memory_estimate,
    nesting_depth,
    read_yaml,
    scenario_dir,
    validate,
)

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"
PRAKERJA = ROOT / "scenarios" / "prakerja_2020.yaml"


def raw_tiny() -> dict:
    return read_yaml(TINY)


def error_of(raw: dict, source: str = "my.yaml") -> str:
    with pytest.raises(ScenarioError) as info:
        validate(raw, source=source)
    return str(info.value)


# --------------------------------------------------------------------------- loading


def test_tiny_loads_with_its_values():
    scenario = load_scenario(TINY)
    assert isinstance(scenario, Scenario)
    assert (scenario.name, scenario.seed, scenario.size, scenario.weeks) == ("tiny", 7, 2000, 30)
    assert [r.name for r in scenario.regions] == ["city", "village"]
    assert [s.name for s in scenario.sectors] == ["digital", "food", "crafts"]
    assert scenario.voucher.credit_idr == 1_000_000
    assert scenario.pricing.review_weeks == 4  # a block absent from the file takes its defaults


def test_load_accepts_a_string_path():
    assert load_scenario(str(TINY)).name == "tiny"


@pytest.mark.parametrize("path", sorted(scenario_dir().glob("*.yaml")), ids=lambda p: p.stem)
def test_every_bundled_scenario_is_valid(path):
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    assert scenario.description


def test_scenario_dir_holds_the_bundled_scenarios():
    names = {p.stem for p in scenario_dir().glob("*.yaml")}
    assert {"tiny", "prakerja_2020"} <= names


def test_top_level_keywords_override_and_none_is_ignored():
    scenario = load_scenario(TINY, seed=3, size=None, weeks=12)
    assert (scenario.seed, scenario.size, scenario.weeks) == (3, 2000, 12)


def test_top_level_keywords_win_over_set_overrides():
    assert load_scenario(TINY, ["seed=5"], seed=9).seed == 9


def test_top_level_keywords_are_validated_too():
    with pytest.raises(ScenarioError, match=r"size: .*greater than or equal to 10"):
        load_scenario(TINY, size=5)


# --------------------------------------------------------------------------- read_yaml


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ScenarioError, match="no such scenario file") as info:
        read_yaml(path)
    assert str(path) in str(info.value)


def test_a_directory_is_not_a_scenario_file(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path)


def test_malformed_yaml_names_the_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: tiny\nweeks: 30\nregions: [1, 2\nsize: 10\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    message = str(info.value)
    assert message.startswith(f"{path}: malformed YAML")
    assert "line" in message
    assert "\n" not in message


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"], ids=["empty", "list", "scalar"])
def test_a_scenario_must_be_a_mapping(tmp_path, text):
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="must be a YAML mapping"):
        read_yaml(path)


def test_undecodable_file_is_a_scenario_error(tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"name: \xff\xfe\x00tiny\n")
    with pytest.raises(ScenarioError, match=re.escape(str(path))):
        read_yaml(path)


# --------------------------------------------------------------------------- apply_override


def test_override_sets_a_nested_value_parsed_as_yaml():
    raw = raw_tiny()
    apply_override(raw, "voucher.credit_idr=500000")
    apply_override(raw, "voucher.topup_allowed=true")
    apply_override(raw, "description=a = b")
    assert raw["voucher"]["credit_idr"] == 500_000
    assert raw["voucher"]["topup_allowed"] is True
    assert raw["description"] == "a = b"  # only the first '=' separates key and value


def test_override_list_index():
    raw = raw_tiny()
    apply_override(raw, "regions.0.population_share=0.6")
    apply_override(raw, "regions.1.population_share=0.4")
    assert [r["population_share"] for r in raw["regions"]] == [0.6, 0.4]
    scenario = validate(raw)
    assert [r.population_share for r in scenario.regions] == [0.6, 0.4]


def test_override_replaces_a_whole_list_item():
    raw = raw_tiny()
    apply_override(raw, "platforms.1={name: tiny_shop, participant_share: 0.3, commission: 0.05}")
    assert validate(raw).platforms[1].name == "tiny_shop"


def test_override_creates_missing_blocks():
    raw = raw_tiny()
    assert "pricing" not in raw
    apply_override(raw, "pricing.review_weeks=2")
    apply_override(raw, "voucher.curation.enabled=true")
    scenario = validate(raw)
    assert scenario.pricing.review_weeks == 2
    assert scenario.pricing.step_share == 0.1
    assert scenario.voucher.curation.enabled is True


def test_override_with_empty_value_sets_null():
    raw = raw_tiny()
    apply_override(raw, "voucher.price_cap_idr=")
    assert raw["voucher"]["price_cap_idr"] is None


def test_exponent_notation_is_accepted_for_money():
    # PyYAML reads "5e5" as a string; the validator must still take it as a number.
    scenario = load_scenario(TINY, ["voucher.credit_idr=5e5"])
    assert scenario.voucher.credit_idr == 500_000


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("voucher.credit_idr", "expected KEY.PATH=VALUE"),
        ("=5", "expected KEY.PATH=VALUE"),
        ("  =5", "expected KEY.PATH=VALUE"),
        ("voucher.credit_idr=[1,", "not valid YAML"),
        ("regions.2.population_share=0.5", "regions.2: no list item 2"),
        ("regions.-1.population_share=0.5", "regions.-1: no list item -1"),
        ("regions.first.population_share=0.5", "regions.first: no list item first"),
        ("seed.value=1", "seed.value: cannot set inside a value"),
    ],
)
def test_bad_overrides_are_scenario_errors(override, expected):
    raw = raw_tiny()
    before = copy.deepcopy(raw)
    with pytest.raises(ScenarioError) as info:
        apply_override(raw, override)
    message = str(info.value)
    assert message.startswith(f"--set {override!r}")
    assert expected in message
    if "list item" in expected:
        assert raw == before  # nothing half-applied


def test_overrides_pass_the_same_validation():
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["voucher.credit_idr=-1"])
    assert str(info.value).startswith(f"{TINY}: voucher.credit_idr: ")


# --------------------------------------------------------------------------- validation messages


def test_unknown_key_names_the_path_and_suggests_the_nearest():
    raw = raw_tiny()
    raw["voucher"]["credit_idrr"] = raw["voucher"].pop("credit_idr")
    message = error_of(raw)
    assert message.startswith("my.yaml: ")
    assert "voucher.credit_idrr: unknown key; did you mean 'credit_idr'?" in message
    assert "voucher.credit_idr: Field required" in message


def test_unknown_key_in_a_list_item_keeps_the_index():
    raw = raw_tiny()
    raw["regions"][1]["population_shar"] = raw["regions"][1].pop("population_share")
    message = error_of(raw)
    assert "regions.1.population_shar: unknown key; did you mean 'population_share'?" in message


def test_unknown_top_level_key_suggests_the_nearest():
    raw = raw_tiny()
    raw["seeds"] = 3
    assert "seeds: unknown key; did you mean 'seed'?" in error_of(raw)


def test_unknown_key_inside_an_optional_block_suggests_the_nearest():
    raw = raw_tiny()
    raw["voucher"]["commission_cap"]["shares"] = 0.1
    assert "voucher.commission_cap.shares: unknown key; did you mean 'share'?" in error_of(raw)


def test_unknown_key_without_a_near_match_lists_the_valid_keys():
    raw = raw_tiny()
    raw["voucher"]["zzzzzzzz"] = 1
    message = error_of(raw)
    assert "voucher.zzzzzzzz: unknown key; valid keys here: budget_idr, credit_idr," in message


def test_wrong_type_names_the_path_and_the_value():
    raw = raw_tiny()
    raw["voucher"]["credit_idr"] = "lots"
    assert "voucher.credit_idr: Input should be a valid number" in error_of(raw)
    assert "(got 'lots')" in error_of(raw)


def test_fractional_weeks_are_rejected():
    raw = raw_tiny()
    raw["weeks"] = 12.5
    assert "weeks: Input should be a valid integer" in error_of(raw)


def test_negative_credit_is_rejected():
    raw = raw_tiny()
    raw["voucher"]["credit_idr"] = -1
    assert "voucher.credit_idr: Input should be greater than or equal to 0 (got -1)" in error_of(raw)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("population", "female_share"),
            1.5,
            "population.female_share: Input should be less than or equal to 1",
        ),
        (("regions", 1, "internet_access"), -0.1, "regions.1.internet_access: Input should be greater than"),
        (
            ("platforms", 0, "commission"),
            2,
            "platforms.0.commission: Input should be less than or equal to 1",
        ),
    ],
)
def test_share_outside_unit_interval_is_rejected(path, value, expected):
    raw = raw_tiny()
    node = raw
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert expected in error_of(raw)


def test_provider_type_shares_must_sum_to_one():
    raw = raw_tiny()
    raw["providers"]["types"]["online_only"] = 0.9
    message = error_of(raw)
    assert "providers.types: provider type shares must sum to 1 (they sum to 1.3)" in message


def test_course_mode_shares_must_sum_to_one():
    raw = raw_tiny()
    raw["providers"]["course_modes"]["online"] = 0.5
    assert "providers.course_modes: course mode shares must sum to 1" in error_of(raw)


def test_region_population_shares_must_sum_to_one_naming_the_key():
    raw = raw_tiny()
    raw["regions"][0]["population_share"] = 0.9
    message = error_of(raw)
    assert message.startswith("my.yaml: ")
    assert "must sum to 1" in message
    assert "regions" in message
    assert "population_share" in message  # the key the user has to fix


def test_platform_participant_shares_must_sum_to_one_naming_the_key():
    raw = raw_tiny()
    raw["platforms"][0]["participant_share"] = 0.9
    message = error_of(raw)
    assert "must sum to 1" in message
    assert "platforms" in message
    assert "participant_share" in message


def test_shares_within_tolerance_of_one_are_accepted():
    raw = raw_tiny()
    raw["regions"][0]["population_share"] = 0.7 + 1e-9
    validate(raw)


def test_endline_longer_than_the_run_is_rejected():
    raw = raw_tiny()
    raw["weeks"] = 5
    assert "labour.endline_weeks exceeds weeks" in error_of(raw)


def test_several_errors_are_reported_in_one_line():
    raw = raw_tiny()
    raw["voucher"]["credit_idr"] = -1
    raw["population"]["female_share"] = 2
    message = error_of(raw)
    assert "\n" not in message
    assert "voucher.credit_idr" in message
    assert "population.female_share" in message
    assert "; " in message


def test_missing_required_block_is_named():
    raw = raw_tiny()
    del raw["labour"]
    assert "labour: Field required" in error_of(raw)


def test_validate_does_not_modify_its_input():
    raw = raw_tiny()
    before = copy.deepcopy(raw)
    validate(raw)
    assert raw == before


def test_scenario_error_is_a_value_error():
    assert issubclass(ScenarioError, ValueError)


# --------------------------------------------------------------------------- schemes


def test_scheme_names_default_to_the_blocks_present():
    scenario = load_scenario(TINY)
    assert scenario.schemes is None
    assert scenario.scheme_names == ["voucher"]


def test_listed_schemes_are_used():
    assert load_scenario(TINY, ["schemes=[voucher]"]).scheme_names == ["voucher"]


def test_unknown_scheme_name_is_rejected():
    with pytest.raises(ScenarioError, match=r"schemes\.0: "):
        load_scenario(TINY, ["schemes=[lottery_bonds]"])


def test_a_scenario_without_a_scheme_is_rejected():
    raw = raw_tiny()
    del raw["voucher"]
    assert "defines no scheme" in error_of(raw)


def test_a_listed_scheme_needs_its_block():
    raw = raw_tiny()
    del raw["voucher"]
    raw["schemes"] = ["voucher"]
    assert "scheme 'voucher' is listed but has no 'voucher:' block" in error_of(raw)


# --------------------------------------------------------------------------- derived values


def test_scale_is_represented_over_simulated():
    assert load_scenario(TINY).scale == pytest.approx(20_000 / 2_000)
    assert load_scenario(TINY, size=200).scale == pytest.approx(100.0)
    assert load_scenario(PRAKERJA).scale == pytest.approx(5_509_055 / 100_000)


def test_prakerja_package_by_hand():
    voucher = load_scenario(PRAKERJA).voucher
    # credit + incentive 600,000 x 4 + survey 50,000 x 3
    assert voucher.package_idr == 1_000_000 + 600_000 * 4 + 50_000 * 3 == 3_550_000
    assert voucher.price_cap_idr is None
    assert voucher.cap_idr == 1_000_000  # the cap defaults to the credit


def test_package_and_cap_follow_overrides():
    voucher = load_scenario(
        TINY,
        [
            "voucher.credit_idr=500000",
            "voucher.incentive.amount_idr=100000",
            "voucher.incentive.months=2",
            "voucher.survey.count=0",
            "voucher.price_cap_idr=750000",
        ],
    ).voucher
    assert voucher.package_idr == 500_000 + 100_000 * 2 == 700_000
    assert voucher.cap_idr == 750_000


def test_zero_price_cap_is_a_cap_not_a_default():
    assert load_scenario(TINY, ["voucher.price_cap_idr=0"]).voucher.cap_idr == 0


# --------------------------------------------------------------------------- frozen


def test_scenario_fields_cannot_be_reassigned():
    scenario = load_scenario(TINY)
    with pytest.raises(ValidationError, match="frozen"):
        scenario.seed = 3
    with pytest.raises(ValidationError, match="frozen"):
        scenario.voucher.credit_idr = 1.0
    with pytest.raises(ValidationError, match="frozen"):
        scenario.regions[0].population_share = 0.5
    assert scenario.seed == 7


def test_scenario_lists_cannot_be_mutated():
    """Frozen means frozen all the way down: a run must not be able to change the regions,
    sectors or platforms that the next scheme (or the provenance file) will see."""
    scenario = load_scenario(TINY)
    for name in ("regions", "sectors", "platforms"):
        items = getattr(scenario, name)
        with pytest.raises((TypeError, AttributeError)):
            items.append(items[0])  # type: ignore[union-attr]
        with pytest.raises(TypeError):
            items[0] = items[-1]  # type: ignore[index]
    assert len(scenario.regions) == 2


def test_model_dump_round_trips():
    scenario = load_scenario(TINY, ["voucher.credit_idr=500000"])
    dumped = scenario.model_dump(mode="json")
    again = validate(yaml.safe_load(yaml.safe_dump(dumped)))
    assert again == scenario


# --------------------------------------------------------------------------- hard to break (issue 8)


def test_a_scheme_listed_twice_is_rejected():
    with pytest.raises(ScenarioError, match=r"schemes: .*a scheme is listed twice"):
        load_scenario(TINY, ["schemes=[voucher, voucher]"])


@pytest.mark.parametrize(
    "override",
    [
        "choice.quality_weight=.nan",
        "labour.job_finding_logit=.nan",
        "voucher.credit_idr=.inf",
        "sectors.2.demand_index=.inf",
        "population.female_share=.nan",
        "labour.skill_effect=-.inf",
        "voucher.budget_idr=1e400",  # read as a number, and infinite
        "providers.initial_price_median_idr=!!float nan",
    ],
)
def test_nan_and_infinity_are_rejected_naming_the_key(override):
    key = override.partition("=")[0]
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    message = str(info.value)
    assert message.startswith(f"{TINY}: {key}: ")
    assert "finite number" in message or "less than or equal" in message


def test_shares_within_tolerance_are_rescaled_to_sum_to_one():
    """0.7 + 0.2999999 passed the old 1e-6 check but failed numpy's ~1.5e-8 one at run time."""
    scenario = load_scenario(
        TINY,
        [
            "regions.1.population_share=0.2999999",
            "platforms.0.participant_share=0.7000005",
            "providers.types.online_only=0.5999995",
            "providers.course_modes.online=0.8000007",
        ],
    )
    for shares in (
        [r.population_share for r in scenario.regions],
        [p.participant_share for p in scenario.platforms],
        list(scenario.providers.types.model_dump().values()),
        list(scenario.providers.course_modes.model_dump().values()),
    ):
        assert abs(sum(shares) - 1.0) < 1e-15
        np.random.default_rng(0).choice(len(shares), p=shares)  # numpy's own check
    assert scenario.regions[1].population_share == pytest.approx(0.2999999 / 0.9999999, rel=1e-15)
    assert validate(scenario.model_dump(mode="json")) == scenario  # stable once rescaled
    build_world(scenario)  # the run that used to fail with "probabilities do not sum to 1"


def test_shares_that_already_sum_to_one_are_left_alone():
    scenario = load_scenario(PRAKERJA)
    raw = read_yaml(PRAKERJA)
    assert [r.population_share for r in scenario.regions] == [r["population_share"] for r in raw["regions"]]


def test_shares_outside_the_tolerance_are_still_rejected():
    with pytest.raises(ScenarioError, match=r"regions: population_share values must sum to 1"):
        load_scenario(TINY, ["regions.1.population_share=0.299997"])


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("providers.entry_rate=1e300", "providers.entry_rate: Input should be less than or equal to 10"),
        ("population.ability_sd=1e300", "population.ability_sd: Input should be less than or equal to 2"),
        ("providers.initial_price_sd_log=50", "providers.initial_price_sd_log: Input should be less than"),
        ("completion.intercept=-1e6", "completion.intercept: Input should be greater than or equal to -50"),
        ("labour.demand_elasticity=100", "labour.demand_elasticity: Input should be less than or equal to 3"),
        ("sectors.0.shock_depth=1", "sectors.0.shock_depth: Input should be less than or equal to 0.99"),
        (
            "voucher.credit_idr=1e20",
            "voucher.credit_idr: Input should be less than or equal to 10000000000000000",
        ),
        ("choice.outside_utility=1e9", "choice.outside_utility: Input should be less than or equal to 100"),
        ("providers.entry_cost_idr=1", "providers.entry_cost_idr: Input should be greater than or equal"),
    ],
)
def test_behavioural_values_have_sane_ranges(override, expected):
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert expected in str(info.value)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("providers.courses_per_provider=1e9", "providers.courses_per_provider: Input should be less than"),
        ("providers.count=1e8", "providers.count: Input should be less than or equal to 100000"),
        ("voucher.waves.count=1e9", "voucher.waves.count: Input should be less than or equal to 520"),
        ("population.intake.count=1e9", "population.intake.count: Input should be less than or equal"),
        ("voucher.incentive.months=1e9", "voucher.incentive.months: Input should be less than or equal"),
        (
            "tender={budget_idr: 1e9, reference_cost_idr: 1e6, penalty_idr: 0, cycles: 1e9}",
            "tender.cycles: Input should be less than or equal to 520",
        ),
        ("platforms.0.page_size=1e6", "platforms.0.page_size: Input should be less than or equal to 50"),
        ("weeks=1e6", "weeks: Input should be less than or equal to 520"),
        ("centres=[{name: c, count: 1e9, capacity_per_year: 1, marginal_cost_idr: 1}]", "centres.0.count"),
        ("population.intake={count: 100, first_week: 10, interval_weeks: 10}", "week 1000"),
    ],
)
def test_counts_have_hard_caps(override, expected):
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert expected in str(info.value)


def test_a_run_that_would_not_fit_in_memory_is_rejected_naming_the_keys():
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["population.control_per_recipient=5"], size=50_000_000)
    message = str(info.value)
    assert message.startswith(f"{TINY}: the run would need about ")
    assert "over the limit of 16.0 GiB" in message
    assert "size" in message and "population.control_per_recipient" in message
    providers = ["providers.count=100000", "providers.courses_per_provider=1000"]
    with pytest.raises(ScenarioError, match=r"courses .* GiB.*providers\.courses_per_provider"):
        load_scenario(TINY, providers)


def test_the_memory_estimate_is_within_the_limit_for_the_bundled_scenarios():
    for path in scenario_dir().glob("*.yaml"):
        estimate = memory_estimate(load_scenario(path))
        assert set(estimate) == {"base", "people", "courses", "providers", "weeks"}
        assert 0 < sum(estimate.values()) < MEMORY_LIMIT_BYTES / 4
    # the tiny world at the largest size: 75 m people at about 204 bytes each
    assert sum(memory_estimate(load_scenario(TINY, size=50_000_000)).values()) < MEMORY_LIMIT_BYTES


def test_regions_and_sectors_are_capped_by_the_labour_market_cells():
    sectors = "[" + ", ".join(f"{{name: s{k}, demand_index: 1}}" for k in range(100)) + "]"
    regions = (
        "["
        + ", ".join(
            f"{{name: r{k}, population_share: 0.01, urban_share: 0.5, internet_access: 0.5,"
            f" travel_cost_idr: 0}}"
            for k in range(100)
        )
        + "]"
    )
    with pytest.raises(ScenarioError, match=r"regions x sectors: 100 x 100 = 10,000 labour-market cells"):
        load_scenario(TINY, [f"sectors={sectors}", f"regions={regions}"], size=10)
    too_many = "[" + ", ".join(f"{{name: s{k}, demand_index: 1}}" for k in range(101)) + "]"
    with pytest.raises(ScenarioError, match=r"sectors: Tuple should have at most 100 items"):
        load_scenario(TINY, [f"sectors={too_many}"])


def test_a_huge_travel_term_in_the_tender_completion_is_rejected():
    tender = (
        "tender={budget_idr: 1e9, reference_cost_idr: 1e6, penalty_idr: 0,"
        " travel_tolerance_idr: 1, completion_travel: 5}"
    )
    with pytest.raises(ScenarioError, match=r"tender\.completion_travel x .*travel_tolerance_idr"):
        load_scenario(TINY, [tender])


@pytest.mark.parametrize(
    "override",
    [
        "voucher.credit_idr=true",
        "weeks=true",
        "providers.count=false",
        "choice.quality_weight=yes",
        "voucher.topup_allowed=1",
        "voucher.curation.enabled='true'",
        "weeks='30'",
        "voucher.credit_idr='500000'",
    ],
)
def test_booleans_and_quoted_numbers_are_not_numbers_and_numbers_are_not_booleans(override):
    key = override.partition("=")[0]
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, [override])
    assert str(info.value).startswith(f"{TINY}: {key}: Input should be a valid")


def test_exponent_numbers_are_numbers_for_real_and_whole_fields():
    scenario = load_scenario(
        TINY,
        [
            "voucher.credit_idr=5e5",
            "voucher.budget_idr=1.0e11",
            "size=1e3",
            "providers.count=2.0e1",
            "labour.skill_effect=2",
            "choice.quality_weight=-1.5E0",
        ],
    )
    assert scenario.voucher.credit_idr == 500_000 and scenario.voucher.budget_idr == 1e11
    assert (scenario.size, scenario.providers.count) == (1000, 20)
    assert type(scenario.size) is int and type(scenario.labour.skill_effect) is float
    assert scenario.choice.quality_weight == -1.5
    with pytest.raises(ScenarioError, match=r"size: Input should be a valid integer \(got 1500.5\)"):
        load_scenario(TINY, ["size=1.5005e3"])


def test_modes_allowed_needs_at_least_one_distinct_mode():
    with pytest.raises(ScenarioError, match=r"voucher\.modes_allowed: Tuple should have at least 1 item"):
        load_scenario(TINY, ["voucher.modes_allowed=[]"])
    with pytest.raises(ScenarioError, match=r"voucher\.modes_allowed: 'online' is listed twice"):
        load_scenario(TINY, ["voucher.modes_allowed=[online, online]"])
    assert load_scenario(TINY, ["voucher.modes_allowed=[online]"]).voucher.modes_allowed == ("online",)


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "a/b/c", "a\0b", "", ".hidden", "x" * 101, "a b"])
def test_the_scenario_name_must_be_a_plain_name(name):
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, name=name)
    assert str(info.value).startswith(f"{TINY}: name: must be a plain name: letters, digits")


def test_plain_names_are_accepted():
    assert load_scenario(TINY, name="tiny-2.0_variant").name == "tiny-2.0_variant"


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_keys_are_rejected_naming_the_key_path_and_lines(tmp_path):
    text = TINY.read_text(encoding="utf-8").replace(
        "  credit_idr: 1000000\n", "  credit_idr: 1000000\n  credit_idr: 1\n"
    )
    path = write(tmp_path, text)
    first = text.splitlines().index("  credit_idr: 1000000") + 1
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}: duplicate key 'voucher.credit_idr' (first at line {first}) at line {first + 1}, column 3"
    )


def test_duplicate_keys_in_a_list_item_and_in_an_override_value(tmp_path):
    path = write(tmp_path, "name: x\nregions:\n  - {name: a, name: b}\n")
    with pytest.raises(ScenarioError, match=r"duplicate key 'regions\.0\.name' \(first at line 3\)"):
        read_yaml(path)
    with pytest.raises(ScenarioError, match=r"--set .*: the value is duplicate key 'share'"):
        load_scenario(TINY, ["voucher.commission_cap={share: 0.1, share: 0.2}"])


def test_merge_keys_are_not_duplicates(tmp_path):
    path = write(tmp_path, "base: &b {x: 1, y: 2}\nd:\n  <<: *b\n  x: 3\n")
    assert read_yaml(path)["d"] == {"x": 3, "y": 2}


def test_aliases_are_copies_so_an_override_changes_one_place(tmp_path):
    path = write(tmp_path, "a: &a {x: 1}\nb: *a\n")
    raw = read_yaml(path)
    apply_override(raw, "a.x=2")
    assert raw == {"a": {"x": 2}, "b": {"x": 1}}


def nested(levels: int, inner: str = "1") -> str:
    return "[" * levels + inner + "]" * levels


@pytest.mark.parametrize("levels", [33, 490, 5000, 100_000])
def test_deep_nesting_in_a_file_is_refused_quickly(tmp_path, levels):
    path = write(tmp_path, f"name: x\ndescription: {nested(levels)}\n")
    start = time.perf_counter()
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert time.perf_counter() - start < 5
    assert str(info.value).startswith(f"{path}: nested deeper than 32 levels of lists and mappings at line 2")


def test_nesting_up_to_the_limit_reads(tmp_path):
    path = write(tmp_path, f"x: {nested(31)}\n")
    assert read_yaml(path)["x"] == [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]


def test_deep_block_mappings_are_refused(tmp_path):
    text = "".join(f"{' ' * k}k{k}:\n" for k in range(600)) + " " * 600 + "v\n"
    with pytest.raises(ScenarioError, match="nested deeper than 32 levels"):
        read_yaml(write(tmp_path, text))


def test_deep_nesting_through_aliases_is_refused(tmp_path):
    text = f"a: &a {nested(20)}\nb: &b {nested(20, '*a')}\n"
    with pytest.raises(ScenarioError, match=r"nested deeper than 32 levels \(through an alias\)"):
        read_yaml(write(tmp_path, text))


def test_an_alias_inside_itself_is_refused(tmp_path):
    with pytest.raises(ScenarioError, match="an alias refers to a list or mapping that contains it"):
        read_yaml(write(tmp_path, "a: &a [1, *a]\n"))


def billion_laughs(levels: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for k in range(1, levels + 1):
        lines.append(f"l{k}: &l{k} [" + ", ".join([f"*l{k - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_an_alias_bomb_is_refused_at_once(tmp_path):
    """10^10 'lol's if expanded: refused while reading, in milliseconds, without expanding it."""
    path = write(tmp_path, "name: x\n" + billion_laughs())
    start = time.perf_counter()
    with pytest.raises(ScenarioError, match=r"more than 100,000 values once aliases are expanded"):
        load_scenario(path)
    assert time.perf_counter() - start < 1


def test_an_alias_bomb_in_an_override_value_is_refused():
    value = "{" + billion_laughs(7).strip().replace("\n", ", ") + "}"
    with pytest.raises(ScenarioError, match=r"the value is more than 100,000 values"):
        load_scenario(TINY, [f"description={value}"])


def test_a_huge_file_is_refused_before_parsing(tmp_path):
    path = write(tmp_path, "name: x\ndescription: " + "a" * (2 << 20) + "\n")
    with pytest.raises(ScenarioError, match=r"larger than 1,048,576 bytes"):
        read_yaml(path)


@pytest.mark.parametrize(
    "text", ["x: !!python/object:os.system {}\n", "x: !!python/name:os.system\n", "x: !custom 1\n"]
)
def test_unsafe_tags_are_malformed_yaml(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(
        ScenarioError, match=r"malformed YAML at line 1, column 4: could not determine a constructor"
    ):
        read_yaml(path)


def test_an_integer_too_long_to_convert_is_a_scenario_error(tmp_path):
    path = write(tmp_path, "name: x\nseed: " + "9" * 5000 + "\n")
    with pytest.raises(ScenarioError, match=re.escape(f"{path}: cannot read the YAML: Exceeds the limit")):
        read_yaml(path)
    with pytest.raises(ScenarioError, match=r"--set .*the value is not valid YAML"):
        load_scenario(TINY, ["seed=" + "9" * 5000])


def test_deep_override_values_and_key_paths_are_refused():
    with pytest.raises(ScenarioError, match=r"the value is nested deeper than 32 levels"):
        load_scenario(TINY, [f"description={nested(1000)}"])
    with pytest.raises(ScenarioError, match=r"the key path has 1000 parts; at most 32"):
        load_scenario(TINY, [".".join(["a"] * 1000) + "=1"])
    with pytest.raises(ScenarioError, match=r"regions\.²: no list item ²"):
        load_scenario(TINY, ["regions.²=1"])


def test_validate_refuses_deep_data_built_in_code():
    raw = raw_tiny()
    value: list = []
    for _ in range(5000):
        value = [value]
    raw["description"] = value
    with pytest.raises(ScenarioError, match=r"my\.yaml: nested deeper than 64 levels"):
        validate(raw, source="my.yaml")
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3 and nesting_depth(5) == 0


def test_long_values_are_clipped_in_messages():
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["voucher.credit_idr=" + "x" * 10_000])
    assert len(str(info.value)) < 300


def test_override_errors_name_the_file_too():
    with pytest.raises(ScenarioError) as info:
        load_scenario(TINY, ["voucher.credit_idr=[1,"])
    assert str(info.value) == f"{TINY}: --set 'voucher.credit_idr=[1,': the value is not valid YAML"


@pytest.mark.parametrize(
    ("text", "where"), [("\x00name: x\n", "line 1, column 1"), ("a: 1\nb: \x07\n", "line 2, column 4")]
)
def test_characters_yaml_does_not_allow_are_named_with_their_line(tmp_path, text, where):
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    assert str(info.value).startswith(f"{path}: malformed YAML at {where}: character ")
    assert "\n" not in str(info.value)


TEXT_FIELDS = ["regions.0.name", "sectors.0.name", "platforms.0.name", "tender.entry.tier", "description"]


@pytest.mark.parametrize("key", TEXT_FIELDS)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"\\ud999\\udf67q"', "half a character"),  # YAML's escapes make lone surrogates
        ('"a\\u0000b"', "control characters"),
        ('"a\\x7fb"', "control characters"),
        ("x" * 10_001, "at most"),
    ],
)
def test_text_for_the_results_must_be_valid_unicode_without_control_characters(key, value, message, capsys):
    """Names and the description reach the result files; a lone surrogate (found by the fuzz test:
    the run failed writing its tables) or a control character is refused by ``check`` with exit 2
    naming the key; the names are also at most 200 characters, the description 10,000."""
    from simulation.cli import main

    assert main(["check", str(TINY), "--set", f"{key}={value}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {TINY}") and key in err and message in err and "Traceback" not in err


def test_names_in_any_language_run_and_are_written(tmp_path):
    """Valid non-ASCII text (accents, a no-break space, a dash) is accepted, runs and is written as
    given; the description may hold line breaks."""
    from simulation.cli import main

    sector = "Pertanian\u00a0& perikanan \u2013 \u00f1"
    sets = [f'sectors.0.name="{sector}"', 'description="two\\nlines"']
    out = tmp_path / "out"
    argv = ["run", str(TINY), "--size", "200", "--weeks", "12", "--out", str(out), "--no-progress"]
    assert main([*argv, *[arg for s in sets for arg in ("--set", s)]]) == 0
    assert sector in (out / "courses.csv").read_text(encoding="utf-8")  # its courses' sector
