"""The tiny scenario runs end to end and its books balance."""

from simulation.market.participants import HOLDING


def test_tiny_run_selects_trains_and_balances(tiny_run):
    summary = tiny_run.summary["schemes"]["voucher"]
    model = tiny_run.models["voucher"]
    assert summary["participants_offered"] > 0
    assert 0.5 < summary["bought_share"] <= 1.0
    assert abs(model.ledger.treasury_out + model.ledger.topups - model.ledger.received) < 1e-3
    assert (model.state.credit_left_idr >= 0).all()
    assert not (model.state.status == HOLDING).all()
