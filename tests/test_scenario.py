"""Scenario files: loading, ``--set`` overrides, validation messages and the frozen Scenario."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from simulation.config.scenario import (
    Scenario,
    ScenarioError,
    apply_override,
    load_scenario,
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
