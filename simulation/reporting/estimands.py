"""The effects every scheme reports, from the same comparisons (the estimands).

* Intention to treat (ITT): the effect of the *offer* (a card, a seat). The offer is random within
  lottery strata, so the ITT is the difference in mean outcome between the offered and the
  comparison group within each stratum, averaged over strata with the weights of a regression of
  the outcome on the offer with stratum fixed effects, n_offered * n_comparison / n (what an
  evaluator of a stratified lottery would run). Strata lacking either group are left out;
  ``covered`` says what share of the offered the estimate speaks for.
* Treatment on the treated (TOT): the ITT divided by the first stage, the same stratified
  difference in the share trained (the Wald, or Bloom, estimator).
* True effects: mean outcome minus the untreated twin's outcome (same random draws), over the
  offered and over the trained; no sampling comparison is involved. The twins' effect on the
  offered with the ITT's strata and weights is the number the ITT estimates, so that the ITT's
  evaluation error can be read apart from the way strata are weighted.

Outcomes are per person (e.g. the share of endline weeks employed); effects are in the outcome's
units (the caller converts to percentage points).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulation.rules.census import stratum_sums


@dataclass(frozen=True)
class Stratified:
    """A stratified difference in means: estimate, its standard error, and coverage."""

    estimate: float | None  # None if no stratum holds both groups
    standard_error: float | None
    covered: float | None  # share of the offered in strata that also hold a comparison group


@dataclass(frozen=True)
class Strata:
    """The evaluation groups of one run, numbered once for every outcome compared on them: for
    the offered and for the comparison group, its rows (ascending), each one's stratum number
    (0 .. n_strata - 1, in the order of the stratum keys) and the group's count per stratum."""

    rows: tuple[np.ndarray, np.ndarray]  # int32: rows offered, rows in the comparison group
    number: tuple[np.ndarray, np.ndarray]  # int16 (int32 beyond 32,767 strata): their stratum numbers
    counts: tuple[np.ndarray, np.ndarray]  # float64 [n_strata]: offered, comparison
    n_strata: int

    @classmethod
    def of(cls, offered: np.ndarray, comparison: np.ndarray, stratum: np.ndarray) -> Strata:
        inside = np.flatnonzero(offered | comparison).astype(np.int32)  # rows < 2**31: half the memory
        keys, number = _numbered(stratum[inside])
        number = number.astype(np.int16 if keys.size <= np.iinfo(np.int16).max else np.int32)
        group = offered[inside]
        rows = (inside[group], inside[~group])
        numbers = (number[group], number[~group])
        counts = tuple(np.bincount(k, minlength=keys.size).astype(np.float64) for k in numbers)
        return cls(rows, numbers, (counts[0], counts[1]), keys.size)


def _numbered(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``; for small non-negative integers (lottery
    strata, arrival weeks) by counting instead of sorting, with the same result."""
    if (
        values.size
        and values.dtype.kind in "iu"
        and values.min() >= 0
        and values.max() < 4 * values.size + 1024
    ):
        present = np.bincount(values) > 0
        numbers = np.cumsum(present, dtype=np.int32) - 1  # int32: half the memory of the look-up
        return np.flatnonzero(present), numbers[values]
    return np.unique(values, return_inverse=True)


def stratified_difference(
    outcome: np.ndarray,
    offered: np.ndarray,
    comparison: np.ndarray,
    stratum: np.ndarray,
    strata: Strata | None = None,
) -> Stratified:
    """Sum over strata s of w_s (mean of the offered in s - mean of the comparison in s), with
    w_s proportional to h_s = n_offered_s * n_comparison_s / (n_offered_s + n_comparison_s) (the
    fixed-effects regression weights; zero where either group is empty) and summing to 1. The
    standard error is sqrt(sum w_s^2 (var_offered_s / n_offered_s + var_comparison_s /
    n_comparison_s)), with within-stratum variances (ddof 1); a group of one person, whose own
    variance is unknown, takes the pooled within-group variance of all groups of two or more
    (many lottery strata of a tender hold a single person offered). With one stratum and groups
    of two or more this is the plain difference in means and its Welch standard error.
    ``strata``: the groups already numbered (``Strata.of(offered, comparison, stratum)``), to
    compare several outcomes on them."""
    if not offered.any():
        return Stratified(None, None, None)
    strata = Strata.of(offered, comparison, stratum) if strata is None else strata
    n_strata = strata.n_strata
    stats = {}
    pooled_ss = pooled_df = 0.0
    for name, rows, index, n in zip("oc", strata.rows, strata.number, strata.counts, strict=True):
        total, squares = stratum_sums(outcome, rows, index, n_strata)  # no per-row temporaries
        mean = np.divide(total, n, out=np.zeros(n_strata), where=n > 0)
        ss = np.maximum(squares - n * mean**2, 0.0)
        pooled_ss += float(ss[n > 1].sum())
        pooled_df += float((n[n > 1] - 1).sum())
        stats[name] = (n, mean, ss)
    pooled = pooled_ss / pooled_df if pooled_df > 0 else 0.0
    (n_o, mean_o, ss_o), (n_c, mean_c, ss_c) = stats["o"], stats["c"]
    var_o = np.divide(ss_o, n_o - 1, out=np.full(n_strata, pooled), where=n_o > 1)
    var_c = np.divide(ss_c, n_c - 1, out=np.full(n_strata, pooled), where=n_c > 1)
    both = (n_o > 0) & (n_c > 0)
    covered = float(n_o[both].sum() / n_o.sum())
    if not both.any():
        return Stratified(None, None, covered)
    h = n_o[both] * n_c[both] / (n_o[both] + n_c[both])
    w = h / h.sum()
    estimate = float(np.sum(w * (mean_o[both] - mean_c[both])))
    variance = np.sum(w**2 * (var_o[both] / n_o[both] + var_c[both] / n_c[both]))
    return Stratified(estimate, float(np.sqrt(variance)), covered)


@dataclass(frozen=True)
class Effects:
    """The estimands of one run, in outcome units (shares of endline weeks employed)."""

    itt: Stratified
    first_stage: Stratified
    tot: float | None
    true_offered: float | None
    true_trained: float | None
    true_itt_target: float | None  # the twins' effect on the offered, weighted as the ITT


def effects(
    outcome: np.ndarray,
    twin_outcome: np.ndarray,
    offered: np.ndarray,
    comparison: np.ndarray,
    stratum: np.ndarray,
    trained: np.ndarray,
    strata: Strata | None = None,
    reuse_twin: bool = False,
) -> Effects:
    """Every estimand of one run from per-person outcomes and the evaluation groups (``strata``:
    those groups numbered, ``Strata.of``, when several outcomes share them). With ``reuse_twin``
    the gains are written over ``twin_outcome`` (float64), which the caller no longer needs: one
    per-person array fewer (55 MB at national scale)."""
    strata = Strata.of(offered, comparison, stratum) if strata is None and offered.any() else strata
    itt = stratified_difference(outcome, offered, comparison, stratum, strata)
    first = stratified_difference(trained, offered, comparison, stratum, strata)  # 0/1 as float64
    tot = None
    if itt.estimate is not None and first.estimate is not None and first.estimate > 0:
        tot = itt.estimate / first.estimate
    gain = np.subtract(outcome, twin_outcome, dtype=np.float64, out=twin_outcome if reuse_twin else None)
    true_offered = float(gain[offered].mean()) if offered.any() else None
    true_trained = float(gain[trained].mean()) if trained.any() else None
    # The comparison group is untreated, so its gain is zero and the same stratified difference of
    # the gains is the twins' effect on the offered with the ITT's weights and strata: the number
    # the ITT estimates. ITT minus it is the lottery's sampling error alone.
    target = stratified_difference(gain, offered, comparison, stratum, strata).estimate
    return Effects(itt, first, tot, true_offered, true_trained, target)
