"""Fake completion and the controls that catch it (issue 10, points 1, 8 and 9).

A participant and the provider of the course they buy may collude to certify it without
training: the participant unlocks the cash incentive without spending the hours, the provider is
paid and saves its delivery cost, nobody gains skill. Both must want it.

Participant i, buying a course of ``hours`` hours, colludes if (IDR)

    gain_i = (1 - d) x I + v x hours - d x S - h_i > 0,

where I is the cash the first completion unlocks (incentive x months + surveys x count x response
rate) while it is still pending (else 0), d the chance the fake is caught (the completion check's
detection rate; the participant anticipates it), S what a caught participant loses (the credit
left on the card when ``completion_check.revoke_card``, else 0), v the value of an hour not spent
in a course, and h_i the person's cost of cheating (honesty, stigma): log-normal, median
``honesty_cost_median_idr``, sd of log ``honesty_cost_sd_log``, times
``incentive_motivated_factor`` for those who joined for the cash (assumption: they cheat more
readily), from a keyed draw fixed per person. Types in ``refusing_types`` (public centres by
default) never collude. Simplification: the participant weighs the fake
against not receiving the cash, not against an honest completion's chance of it (the honest
course's hours enter through v).

The course's seller gains, per faked trainee (IDR),

    gain_p = c - m x q - [p_c (R_c + q_a L) + (1 - p_c) p_a (R + L)]   (-inf for a refusing seller),

where c is the delivery cost it saves (the course's cost per trainee as delivered), m x q the
skill its mission values and the trainee does not get (mission weight x delivered quality; 0 for
a for-profit seller, so mission-driven sellers are much less willing), p_c = d the chance the
check catches the fake, R_c the receipts it repays then (net of commission, with
``completion_check.clawback``, else 0), q_a the chance the seller is audited before the market
closes (an audit finds every failed check on its record), p_a the chance an audit finds a fake that passed the
check (the chance of an audit before the market closes times the chance it finds this fake,
``audit_catch_chance``), R the receipts it repays then and L the listing it loses if blacklisted, per
trainee (its margin per sale x weeks left / review weeks, as curation's re-reviews value a
listing; a first-order approximation: each fake adds its chance of detection to the chance of
losing the listing).

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
    sanction_idr: np.ndarray | float,
    hours: np.ndarray | float,
    time_value_idr_per_hour: float,
    honesty_cost: np.ndarray,
) -> np.ndarray:
    """A participant's gain from a fake completion, IDR: (1 - d) I + v hours - d S - h."""
    return (
        (1.0 - detection) * np.asarray(incentive_idr, dtype=np.float64)
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


def found_in_audit(
    fakes: np.ndarray, audited: np.ndarray, uniforms: np.ndarray, catch_rate: float
) -> np.ndarray:
    """Fake completions an audit finds [sellers]: for each audited seller with ``fakes`` fake
    completions since its last audit, a binomial(fakes, catch_rate) count, drawn by inversion
    from one uniform per seller (so a seller's draw does not depend on the others')."""
    from scipy.stats import binom  # loaded when first needed: keeps ``import simulation`` light

    fakes = np.asarray(fakes, dtype=np.int64)
    found = binom.ppf(uniforms, fakes, catch_rate)
    return np.where(audited & (fakes > 0), np.nan_to_num(found), 0).astype(np.int64)
