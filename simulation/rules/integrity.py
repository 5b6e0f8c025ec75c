"""Fake completion and the controls that catch it (issue 10, points 1, 8 and 9).

A participant and the provider of the course they buy may collude to certify it without
training: the participant unlocks the cash incentive without spending the hours, the provider is
paid and saves its delivery cost, nobody gains skill. Both must want it.

Participant i, buying a course of ``hours`` hours, colludes if (IDR)

    gain_i = (1 - d - p_h) x I + v x hours - d x S - h_i > 0,

against an honest completion of the same course: p_h is the chance the participant would complete
it honestly (``rules.completion.completion_probability``, computed at enrolment), so the fake adds
(1 - d - p_h) to the chance of the cash (negative when the check catches more fakes than honest
courses fail); I is the cash the first completion unlocks (incentive x months + surveys x count x response
rate) while it is still pending (else 0), d the chance the fake is caught (the completion check's
detection rate; the participant anticipates it), S what a caught participant loses (the credit
left on the card when ``completion_check.revoke_card``, else 0), v the value of an hour not spent
in a course, and h_i the person's cost of cheating (honesty, stigma): log-normal, median
``honesty_cost_median_idr``, sd of log ``honesty_cost_sd_log``, times
``incentive_motivated_factor`` for those who joined for the cash (assumption: they cheat more
readily), from a keyed draw fixed per person. Types in ``refusing_types`` (public centres by
default) never collude. The honest course's hours enter through v; its skill and a caught
participant's loss of the course are not valued (assumption).

The course's seller gains, per faked trainee (IDR),

    gain_p = c - m x q - [p_c (R_c + q_a L) + (1 - p_c) p_a (R + L)]   (-inf for a refusing seller),

where c is the delivery cost it saves (the course's cost per trainee as delivered), m x q the
skill its mission values and the trainee does not get (mission weight x delivered quality; 0 for
a for-profit seller, so mission-driven sellers are much less willing), p_c = d the chance the
check catches the fake, R_c the receipts it repays then (net of commission, with
``completion_check.clawback``, else 0), q_a the chance the seller is audited before the market
closes (an audit finds every failed check on its record), p_a the chance an audit finds a fake that passed the
check (the chance of an audit before the market closes times the chance it finds this fake,
``audit_catch_chance``), R the receipts it repays then (an audit repays ``catch_rate`` of the
receipts of the fakes since the seller's last audit: the expected share found) and L what this fake
adds to the expected loss of the listing (``listing_loss_idr``, with ``blacklist``):

    L = (1 - pi)^F x V,   pi = d + (1 - d) x c_a,

where V is the seller's listing value (its expected weekly profit over the last weeks, real IDR,
never below 0, x the weeks left in the market), c_a the audit's ``catch_rate``, pi the chance an
audit finds a given fake (failed check on the record, or found), and F the seller's expected real
fakes since its last audit. The fake raises the chance an audit finds the seller faking from
1 - (1 - pi)^F to 1 - (1 - pi)^(F + 1), by pi (1 - pi)^F; times q_a (an audit comes) this is the
q_a pi L of the sanction above (p_c q_a L + (1 - p_c) q_a c_a L = q_a pi L). The seller's whole
listing is at stake, not a margin per trainee: one fake found costs every later sale.

An audit (``found_faking_chance``) finds an audited seller faking with chance 1 - (1 - pi)^E, E
the expected real number of fakes since its last audit: its courses' expected sales since then
(the sum of the logit probabilities of the shoppers shown them) x scale x its buyers' mean chance
of colluding (``collusion_chance``: the honesty cost's log-normal distribution at the pair's gain).
E, unlike a count of simulated fakes times the scale, does not come in lumps of ``scale`` real
fakes. (Known limit: which sellers fake at all still varies with ``--size`` through the sampled
buyers behind each seller's mean chance of colluding: with fakes made common on the tiny world,
1.3 sellers were blacklisted at size 500 against 2.9 at size 4,000 (12 seeds), against 0.4 and
2.4 before this rule.)

With ``side_payment`` (default) the buyer may pay the seller a cut of the cash (a kickback, as
registration brokers took a cut, CALIBRATION.md): the pair fakes when gain_i + gain_p > 0 (they
share the surplus; Coase); without it, each must gain on its own, gain_i > 0 and gain_p > 0.

Refusing sellers: types in ``refusing_types`` (public centres by default) and, with
``mission_refuses`` (default), every seller with a mission (assumption: a knightly provider does not
falsify certificates; without it, its mission enters only through m x q).

Prevalence therefore rises with the incentive (I), falls with the detection chance (d and the
audits), and is zero for refusing types and lower for mission-driven ones.

A fake course ends the following week, counts as a completion (it unlocks the incentive), and
teaches nothing (skill gain at quality 0). Its participant gives no rating (assumption: rating
manipulation is issue 10's point 3); the seller books no delivery cost for it.

Tender asymmetry: the tender's courses are offline cohorts with attendance taken at a training
centre, so the model has no fake completion under the tender (stated, not modelled).
"""

from __future__ import annotations

import numpy as np


def honesty_cost_idr(
    normals: np.ndarray, incentive_motivated: np.ndarray, median_idr: float, sd_log: float, factor: float
) -> np.ndarray:
    """Each person's cost of cheating, IDR: median x exp(sd_log x z), times ``factor`` for those
    who joined for the cash. ``normals`` are standard normal, one per person (float64)."""
    cost = median_idr * np.exp(sd_log * np.asarray(normals, dtype=np.float64))
    return np.where(incentive_motivated, factor * cost, cost)


def participant_gain_idr(
    incentive_idr: np.ndarray | float,
    detection: float,
    p_honest: np.ndarray | float,
    sanction_idr: np.ndarray | float,
    hours: np.ndarray | float,
    time_value_idr_per_hour: float,
    honesty_cost: np.ndarray,
) -> np.ndarray:
    """A participant's gain from a fake completion rather than an honest course, IDR:
    (1 - d - p_h) I + v hours - d S - h, p_h the chance of completing the course honestly."""
    return (
        (1.0 - detection - np.asarray(p_honest, dtype=np.float64))
        * np.asarray(incentive_idr, dtype=np.float64)
        + time_value_idr_per_hour * np.asarray(hours, dtype=np.float64)
        - detection * np.asarray(sanction_idr, dtype=np.float64)
        - honesty_cost
    )


def provider_gain_idr(
    cost_saved_idr: np.ndarray | float,
    mission_idr: np.ndarray | float,
    quality: np.ndarray | float,
    expected_sanction_idr: np.ndarray | float,
) -> np.ndarray:
    """A seller's gain per faked trainee, IDR: c - m q - E[sanction] (module docstring)."""
    return (
        np.asarray(cost_saved_idr, dtype=np.float64)
        - np.asarray(mission_idr, dtype=np.float64) * quality
        - expected_sanction_idr
    )


def expected_sanction_idr(
    check_catch: float,
    check_repaid_idr: np.ndarray | float,
    audited: float,
    audit_catch: float,
    audit_repaid_idr: np.ndarray | float,
    listing_loss_idr: np.ndarray | float,
) -> np.ndarray:
    """What a seller expects to lose per faked trainee, IDR. Caught by the completion check
    (chance ``check_catch``) it repays ``check_repaid_idr``, and the failure is on its record: its
    next audit (chance ``audited`` that one comes) finds it, and it loses ``listing_loss_idr`` (its
    listing, when blacklisting is on). Passing the check (1 - check_catch), an audit finds the fake
    with chance ``audit_catch`` and it repays ``audit_repaid_idr`` and loses the listing:

        p_c (R_c + q_a L) + (1 - p_c) p_a (R_a + L)."""
    listing = np.asarray(listing_loss_idr, dtype=np.float64)
    caught = check_catch * (np.asarray(check_repaid_idr, dtype=np.float64) + audited * listing)
    return caught + (1.0 - check_catch) * audit_catch * (
        np.asarray(audit_repaid_idr, dtype=np.float64) + listing
    )


def colludes(buyer_gain_idr: np.ndarray, seller_gain_idr: np.ndarray, side_payment: bool) -> np.ndarray:
    """Whether each pair fakes the course: with a side payment (the buyer may pay the seller a cut
    of the cash) when their joint gain is positive, else when each gains on its own. A refusing
    seller's gain is -inf: it never fakes."""
    if side_payment:
        return (buyer_gain_idr + seller_gain_idr) > 0
    return (buyer_gain_idr > 0) & (seller_gain_idr > 0)


def audit_catch_chance(share: float, catch_rate: float, periods_left: float) -> float:
    """Chance a fake completion made now is found by an audit: the chance the seller is audited
    in at least one of the ``periods_left`` review periods left (each with chance ``share``; its
    next audit examines every fake since the last one) times ``catch_rate``."""
    return catch_rate * (1.0 - (1.0 - share) ** max(periods_left, 0.0))


def collusion_chance(
    gain_before_honesty_idr: np.ndarray,
    seller_gain_idr: np.ndarray,
    honesty_scale_idr: np.ndarray,
    sd_log: float,
    side_payment: bool,
) -> np.ndarray:
    """Chance each pair fakes before the buyer's honesty cost is drawn, over its log-normal
    distribution (median ``honesty_scale_idr``: the median times the person's factor; sd of log
    ``sd_log``). With a side payment, P(h < g_b + g_p); without, P(h < g_b) if g_p > 0, else 0:

        P(h < y) = Phi((ln y - ln median) / sd_log) for y > 0, 0 otherwise.

    A median of 0 (no honesty cost, e.g. ``honesty_cost_median_idr`` 0) gives ln median = -inf and
    so P = 1 for every y > 0, its limit."""
    from scipy.special import ndtr  # loaded when first needed: keeps ``import simulation`` light

    y = gain_before_honesty_idr + seller_gain_idr if side_payment else gain_before_honesty_idr
    y = np.where(np.isfinite(y), y, 0.0)
    log_y = np.log(np.maximum(y, 1e-300))
    if sd_log > 0:
        with np.errstate(divide="ignore"):  # log 0 = -inf: no honesty cost, P = 1 (its limit)
            log_scale = np.log(honesty_scale_idr)
        chance = ndtr((log_y - log_scale) / sd_log)
    else:
        chance = (y > honesty_scale_idr).astype(np.float64)
    chance = np.where(y > 0, chance, 0.0)
    if not side_payment:
        chance = np.where(seller_gain_idr > 0, chance, 0.0)
    return chance


def fake_found_chance(detection: float, catch_rate: float) -> float:
    """Chance an audit finds a given fake: it failed the completion check (on the record) or
    passed it and the audit catches it: pi = d + (1 - d) c."""
    return detection + (1.0 - detection) * catch_rate


def found_faking_chance(expected_fakes: np.ndarray, detection: float, catch_rate: float) -> np.ndarray:
    """Chance an audit finds a seller faking [sellers]: 1 - (1 - pi)^E, E its expected real fakes
    since its last audit (a smooth expectation, not a count of simulated fakes x scale)."""
    miss = 1.0 - fake_found_chance(detection, catch_rate)
    return 1.0 - miss ** np.maximum(np.asarray(expected_fakes, dtype=np.float64), 0.0)


def listing_loss_idr(listing_value_idr: np.ndarray, expected_fakes: np.ndarray, pi: float) -> np.ndarray:
    """What one more fake adds to the listing's expected loss, given an audit, per unit of the
    chance an audit finds it: L = (1 - pi)^F V (module docstring), F the seller's expected real
    fakes since its last audit, V its listing value (real IDR)."""
    return (1.0 - pi) ** np.maximum(np.asarray(expected_fakes, dtype=np.float64), 0.0) * np.asarray(
        listing_value_idr, dtype=np.float64
    )
