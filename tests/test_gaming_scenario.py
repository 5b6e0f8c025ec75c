"""scenarios/prakerja_2020_gaming.yaml: 2020 with the documented failure modes on, nothing else
changed, and no control switched on."""

from __future__ import annotations

from pathlib import Path

from simulation import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_gaming_is_2020_with_the_failure_modes_on():
    base = load_scenario(ROOT / "scenarios" / "prakerja_2020.yaml")
    gaming = load_scenario(ROOT / "scenarios" / "prakerja_2020_gaming.yaml")
    v, b = gaming.voucher, base.voucher
    assert v is not None and b is not None
    assert v.fake_completion.enabled and v.brokers.enabled and v.free_alternatives.enabled
    assert gaming.choice.incentive_seekers.enabled
    assert gaming.ratings.gaming.fake_share_for_profit > 0
    assert v.brokers.share == 0.022  # BPK 2021: 119,494 of ~5.5 m
    assert v.free_alternatives.free_share == 0.89  # KPK June 2020
    # KPK June 2020: ~250 of 1,895 courses by platforms' affiliates (~8.6 courses a provider)
    affiliated = sum(p.affiliated_providers for p in gaming.platforms)
    assert 200 <= affiliated * gaming.providers.courses_per_provider <= 300
    # no control is on
    assert not v.curation.enabled and not v.completion_check.enabled and not v.audits.enabled
    assert not v.identity_check.enabled and not v.outcome_pay.enabled
    assert v.counselling.regime == "maximum" and v.min_hours == 0 and v.price_cap_per_hour_idr is None
    # everything else is 2020's
    same = ("labour", "population", "providers", "skill", "completion", "tender", "regions", "sectors")
    for block in same:
        assert getattr(gaming, block) == getattr(base, block), block
    assert (
        gaming.choice.model_copy(update={"incentive_seekers": base.choice.incentive_seekers}) == base.choice
    )
    assert (gaming.seed, gaming.size, gaming.weeks) == (base.seed, base.size, base.weeks)
