"""Every summary metric, defined once: name, kind, unit, label, meaning, estimand, schemes.

The console table, the comparison figure and the README's metric table all come from
:data:`METRICS` (``python -m simulation.reporting.registry`` prints the README table; a test keeps
the README equal to it). A metric is computed either by reporting for every scheme that defines
it (``source="shared"``, :func:`simulation.reporting.metrics.summarise`) or by each scheme that
defines it, in its own ``metrics()`` (``source="scheme"``); a scheme that returns a shared metric,
an unregistered one, or one registered for other schemes only is an error, so a metric cannot mean
two things in two schemes without the registry saying so.

Kinds: ``count`` (real people or seats: simulated counts times the scale, or counted in real
units where they belong to organisations, as seats contracted), ``whole`` (a count of
organisations, lots or bids, not scaled), ``idr`` (real IDR),
``share`` (0-1), ``pp`` (percentage points), ``number`` (a plain number whose unit is in ``unit``).

An ``optional`` metric belongs to a mechanism that is off by default: a scheme returns it only when
the mechanism is on, and a summary of a run without the mechanism leaves it out (so that such a
run's summary keeps the keys it had before the mechanism existed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["count", "whole", "idr", "share", "pp", "number"]
BOTH = ("voucher", "tender")
VOUCHER = ("voucher",)
TENDER = ("tender",)


@dataclass(frozen=True)
class Metric:
    """One summary metric."""

    name: str
    kind: Kind
    unit: str
    label: str  # short, for tables and figures
    description: str  # what it measures, for the README
    schemes: tuple[str, ...] = BOTH
    source: Literal["shared", "scheme"] = "shared"
    estimand: str = ""  # for effects: which comparison of which people
    ratio: tuple[str, str] | None = None  # (numerator, denominator) metrics: replications average each
    undefined: str = ""  # when the value is null, and why
    headline: bool = False  # in the comparison figure
    optional: bool = False  # reported only when the scenario switches its mechanism on


def _m(*args, **kwargs) -> Metric:
    return Metric(*args, **kwargs)


EFFECTS = (
    "percentage points of endline employment (share of the last labour.endline_weeks weeks employed "
    "for a wage or running a business)"
)
SELF_EMPLOYMENT = (
    "percentage points of endline self-employment (share of the last labour.endline_weeks weeks running "
    "a business)"
)
WAGE_EMPLOYMENT = (
    "percentage points of endline wage employment (share of the last labour.endline_weeks weeks working "
    "for a wage)"
)

# fmt: off
METRICS: tuple[Metric, ...] = (
    # ---------------------------------------------------------------- who is reached
    _m("participants_offered", "count", "real people", "offered a card or a seat",
       "people offered the programme: voucher recipients selected by the lottery; tender applicants "
       "offered a seat"),
    _m("participants_trained", "count", "real people", "trained (enrolled >= 1 course)",
       "people who enrolled in at least one course (bought one, or took a seat)", headline=True),
    _m("bought_share", "share", "share of recipients", "bought / offered",
       "recipients who bought at least one course", VOUCHER, "scheme"),
    _m("revoked_share", "share", "share of recipients", "revoked / offered",
       "cards revoked for no purchase by the deadline", VOUCHER, "scheme"),
    _m("incentive_received_share", "share", "share of recipients", "incentive received / offered",
       "recipients paid at least one incentive tranche", VOUCHER, "scheme"),
    _m("completion_rate", "share", "share of the trained", "completed >= 1 / trained",
       "trained people who completed at least one course", headline=True,
       undefined="nobody was trained"),
    _m("courses_per_participant", "number", "courses per trained person", "courses per trainee",
       "enrolments per trained person", undefined="nobody was trained"),
    _m("rural_share_trained", "share", "share of the trained", "rural share of trained",
       "trained people living in rural areas", undefined="nobody was trained"),
    _m("female_share_trained", "share", "share of the trained", "female share of trained",
       "trained women", undefined="nobody was trained"),
    _m("mismatch_rate", "share", "share of enrolments", "courses outside own sector",
       "enrolments in a course outside the trainee's sector of interest", source="scheme",
       undefined="nobody was trained"),
    _m("median_weeks_to_first_training", "number", "weeks", "weeks to first course (median)",
       "weeks from the offer (voucher) or the first application (tender) to the first enrolment",
       source="scheme", undefined="nobody was trained"),
    # ---------------------------------------------------------------- prices and quality
    _m("mean_price_paid_idr", "idr", "IDR per enrolment", "mean price paid",
       "price per enrolment: purchase price (voucher), contract price per trainee (tender)",
       source="scheme", headline=True, undefined="no enrolment"),
    _m("median_listed_price_idr", "idr", "IDR", "median listed price",
       "median price of the courses listed on the platforms at the end", VOUCHER, "scheme",
       headline=True, undefined="no course listed"),
    _m("price_paid_cv", "number", "ratio (sd / mean)", "price paid: coefficient of variation",
       "dispersion of prices paid: standard deviation over mean of the purchase prices, over all "
       "purchases (enrolment-weighted)", VOUCHER, "scheme", undefined="no purchase"),
    _m("mean_listed_price_idr", "idr", "IDR", "mean listed price",
       "mean price of the courses listed on the platforms at the end (those of the median)", VOUCHER,
       "scheme", undefined="no course listed"),
    _m("listed_price_cv", "number", "ratio (sd / mean)", "listed price: coefficient of variation",
       "dispersion of listed prices: standard deviation over mean of the prices of the courses "
       "listed on the platforms at the end", VOUCHER, "scheme", undefined="no course listed"),
    _m("share_purchases_at_cap", "share", "share of purchases", "purchases at the cap",
       "purchases priced at the price cap (the credit unless a cap is set)", VOUCHER, "scheme",
       undefined="no purchase"),
    _m("share_purchases_with_topup", "share", "share of purchases", "purchases with a top-up",
       "purchases the buyer topped up from own money above the credit left (a co-payment alone, "
       "voucher.copay_share, is not a top-up)", VOUCHER, "scheme", undefined="no purchase"),
    _m("mean_true_quality_enrolled", "number", "quality, 0-1", "true quality enrolled (0-1)",
       "quality taught per enrolment (expected skill gain, 0-1): a course's true quality (voucher), "
       "the quality a contractor delivers (tender)", source="scheme", headline=True,
       undefined="no enrolment"),
    _m("top_sellers_true_quality", "number", "quality, 0-1", "true quality of the best sellers (0-1)",
       "quality taught per enrolment in the best sellers: the 10% of courses offered on the platforms "
       "(at least one) with the most enrolments, each at the mean delivered quality its buyers "
       "received, weighted by its enrolments", VOUCHER, "scheme", undefined="the best sellers sold nothing"),
    _m("mean_true_quality_available", "number", "quality, 0-1", "true quality offered (0-1)",
       "mean quality of what the scheme offers: the courses listed on the platforms at the start, "
       "each once (voucher); the contracts awarded, at their delivered quality, weighted by their "
       "real seats (tender)",
       source="scheme", undefined="nothing offered"),
    _m("mean_shading", "number", "quality, 0-1", "quality shaded (0-1)",
       "quality a provider shades per enrolment: potential (full-effort) less delivered quality of "
       "the course bought (voucher) or of the contract seated in (tender), weighted by trainees",
       source="scheme", undefined="no enrolment"),
    _m("penalties_idr", "idr", "IDR", "penalties charged",
       "penalties contractors found shading paid back to the treasury (inspected contracts)",
       TENDER, "scheme"),
    _m("contracts_inspected", "whole", "contracts", "contracts inspected",
       "contracts the office inspected (each with probability tender.monitoring)", TENDER, "scheme"),
    _m("courses_delisted", "whole", "courses", "courses delisted by curation",
       "courses delisted when curation's re-review found their delivered quality below the minimum",
       VOUCHER, "scheme"),
    _m("spending_on_free_content_share", "share", "share of credit spent", "credit on free content",
       "credit spent on courses whose content is available free elsewhere (voucher.free_alternatives; "
       "0 when off)", VOUCHER, "scheme", undefined="no credit spent"),
    _m("counselling_cost_idr", "idr", "IDR", "counselling cost",
       "cost of counselling recipients before purchase (voucher.counselling; in total cost)",
       VOUCHER, "scheme"),
    _m("vetoed_option_share", "share", "share of options shown", "options vetoed by counsellor",
       "courses shown to shoppers that structured-choice counselling removed from their options "
       "(0 unless voucher.counselling.regime is structured)", VOUCHER, "scheme",
       undefined="no option shown"),
    _m("rating_quality_correlation", "number", "correlation, -1 to 1", "rating-quality correlation",
       "correlation across courses of mean stars and the true quality their raters received (courses "
       "with enough ratings)",
       VOUCHER, "scheme", headline=True, undefined="fewer than three courses with enough ratings"),
    _m("non_genuine_rating_share", "share", "share of ratings shown", "non-genuine ratings",
       "share of the ratings shown (after the platforms' filter) that were bought or pressured 5s, "
       "not the rater's view of the course (ratings.gaming)",
       VOUCHER, "scheme", undefined="no course was rated"),
    _m("affiliate_sales_share", "share", "share of purchases", "affiliates' sales share",
       "on platforms that own providers: share of their purchases that were of their own "
       "affiliates' courses",
       VOUCHER, "scheme", undefined="no platform owns providers, or nothing was bought on one"),
    _m("affiliate_listing_share", "share", "share of listed courses", "affiliates' listing share",
       "on the same platforms: their affiliates' share of the courses they list (each week's share "
       "weighted by that week's purchases)",
       VOUCHER, "scheme", undefined="no platform owns providers, or nothing was bought on one"),
    _m("affiliate_quality_share", "share", "share of listed quality", "affiliates' quality share",
       "on the same platforms: their affiliates' share of the delivered quality of the courses they "
       "list (weighted as the listing share)",
       VOUCHER, "scheme", undefined="no platform owns providers, or nothing was bought on one"),
    _m("self_preferencing_ratio", "number", "ratio", "self-preferencing ratio",
       "affiliates' sales share over their quality share (1: sales in line with quality; above 1: "
       "platforms sell their own beyond it)",
       VOUCHER, "scheme",
       undefined="no platform owns providers, nothing was bought on one, or affiliates list no quality"),
    _m("curation_cost_idr", "idr", "IDR", "curation cost",
       "what the office spent reviewing courses (voucher.curation.cost_per_review_idr per course "
       "reviewed, at listing and at re-reviews), inside total cost",
       VOUCHER, "scheme"),
    # ---------------------------------------------------------------- gaming by applicants
    _m("brokered_share", "share", "share of recipients", "brokered accounts among recipients",
       "recipients whose account a broker registered for someone outside the target group (only "
       "with voucher.brokers on)", VOUCHER, "scheme", undefined="nobody was selected", optional=True),
    _m("mistargeted_spending_idr", "idr", "IDR", "spending on brokered accounts",
       "credit spent by and cash paid to brokered accounts (only with voucher.brokers on)",
       VOUCHER, "scheme", optional=True),
    _m("broker_fees_idr", "idr", "IDR", "brokers' fees",
       "the brokers' cut of the cash paid to brokered accounts (only with voucher.brokers on)",
       VOUCHER, "scheme", optional=True),
    _m("brokered_detected", "count", "real people", "brokered accounts detected",
       "brokered accounts the identity check detected and kept out of the lottery (only with "
       "voucher.identity_check on)", VOUCHER, "scheme", optional=True),
    _m("identity_check_cost_idr", "idr", "IDR", "identity check cost",
       "cost of checking every real applicant's identity (voucher.identity_check.applicants_per_recipient "
       "per recipient), part of the total cost (only with "
       "voucher.identity_check on)", VOUCHER, "scheme", optional=True),
    # ---------------------------------------------------------------- effects
    _m("itt_employment_pp", "pp", "pp", "effect of the offer (ITT)",
       "endline employment of those offered minus the comparison group, lottery stratum by stratum, "
       "as a regression with stratum fixed effects weighs them (what an evaluator of the lottery "
       "would report)",
       estimand="intention to treat: the effect of the offer, " + EFFECTS, headline=True,
       undefined="no lottery stratum holds both offered people and a comparison group"),
    _m("itt_standard_error_pp", "pp", "pp", "  ITT standard error",
       "standard error of the stratified ITT", estimand="sampling error of the ITT",
       undefined="as the ITT"),
    _m("itt_offered_covered_share", "share", "share of those offered", "  offered in ITT strata",
       "share of those offered whose lottery stratum also holds a comparison group (the ITT speaks "
       "for them)", undefined="nobody was offered"),
    _m("first_stage_take_up", "share", "share", "  take-up, offered - comparison",
       "share trained among those offered minus among the comparison group, stratified as the ITT",
       estimand="first stage of the Wald estimator", undefined="as the ITT"),
    _m("tot_employment_pp", "pp", "pp", "effect on the trained (TOT)",
       "the ITT divided by the first stage (Wald / Bloom estimator)",
       estimand="treatment on the treated, from the lottery: " + EFFECTS,
       headline=True,
       undefined="the ITT is undefined or nobody more was trained among those offered"),
    _m("true_effect_offered_pp", "pp", "pp", "true effect on the offered",
       "endline employment of those offered minus that of their untreated twins (same random draws)",
       estimand="true average effect on the offered, from the twins: " + EFFECTS, headline=True,
       undefined="nobody was offered"),
    _m("true_effect_trained_pp", "pp", "pp", "true effect on the trained",
       "endline employment of the trained minus that of their untreated twins",
       estimand="true average effect on the trained, from the twins: " + EFFECTS,
       headline=True,
       undefined="nobody was trained"),
    _m("true_effect_itt_target_pp", "pp", "pp", "  true effect the ITT estimates",
       "the twins' effect on the offered, over the ITT's strata with the ITT's weights: the ITT minus "
       "this is the lottery's sampling error alone", estimand="the ITT's target, from the twins",
       undefined="as the ITT"),
    _m("itt_self_employment_pp", "pp", "pp", "ITT, self-employment",
       "endline self-employment (running a business) of those offered minus the comparison group, "
       "stratified as the ITT on employment",
       estimand="intention to treat: the effect of the offer, " + SELF_EMPLOYMENT,
       undefined="no lottery stratum holds both offered people and a comparison group"),
    _m("itt_wage_employment_pp", "pp", "pp", "ITT, wage employment",
       "endline wage employment (employed, not running a business) of those offered minus the "
       "comparison group, stratified as the ITT on employment; with the ITT on self-employment it "
       "adds up to the ITT on employment",
       estimand="intention to treat: the effect of the offer, " + WAGE_EMPLOYMENT,
       undefined="no lottery stratum holds both offered people and a comparison group"),
    _m("true_effect_offered_self_employment_pp", "pp", "pp", "true self-employment effect",
       "endline self-employment of those offered minus that of their untreated twins",
       estimand="true average effect on the offered, from the twins: " + SELF_EMPLOYMENT,
       undefined="nobody was offered"),
    _m("employment_rate_endline_comparison", "share", "share", "comparison group employed at endline",
       "endline employment of the comparison group", undefined="no comparison group"),
    _m("additional_jobs", "count", "real jobs", "additional jobs at endline",
       "endline jobs above the untreated twins, over everyone in the world (offered or not)",
       estimand="total true effect, whole population"),
    _m("self_employment_rate_endline_comparison", "share", "share", "comparison self-employed, endline",
       "endline self-employment (running a business) of the comparison group",
       undefined="no comparison group"),
    _m("additional_businesses", "count", "real businesses", "additional businesses at endline",
       "endline businesses run above the untreated twins, over everyone in the world (offered or not)",
       estimand="total true effect on self-employment, whole population"),
    # ---------------------------------------------------------------- money
    _m("total_cost_idr", "idr", "real IDR", "total cost",
       "government money out: credit spent or contract payments, cash to participants, office cost"),
    _m("cash_paid_idr", "idr", "real IDR", "cash paid to participants",
       "programme cash paid to participants: incentives and survey payments (voucher), the "
       "trainees' allowance (tender)"),
    _m("budget_absorption", "share", "share of the budget", "budget spent",
       "total cost / the scheme's budget (budget_idr): the share of the budget spent",
       undefined="the scheme has no budget"),
    _m("cost_per_trainee_idr", "idr", "IDR per trained person", "cost per trainee",
       "total cost / people trained", ratio=("total_cost_idr", "participants_trained"),
       undefined="nobody was trained"),
    _m("cost_per_additional_job_idr", "idr", "IDR per additional job", "cost per additional job",
       "total cost / additional jobs at endline; over replications, mean cost / mean additional jobs",
       estimand="cost of the total true effect", ratio=("total_cost_idr", "additional_jobs"), headline=True,
       undefined="the scheme adds no job (additional jobs <= 0), so no cost per job exists"),
    _m("cost_net_of_cash_idr", "idr", "real IDR", "total cost net of cash transfers",
       "total cost less the cash paid to participants (a transfer, not a resource used up): what "
       "training and its administration cost"),
    _m("cost_per_additional_job_net_of_cash_idr", "idr", "IDR per additional job",
       "cost per additional job, net of cash",
       "total cost net of cash transfers / additional jobs at endline (counts the cash as a transfer, "
       "not a cost; the effect still includes what the cash did)",
       estimand="cost of the total true effect", ratio=("cost_net_of_cash_idr", "additional_jobs"),
       undefined="the scheme adds no job (additional jobs <= 0), so no cost per job exists"),
    _m("credit_forfeited_idr", "idr", "real IDR", "credit forfeited",
       "unspent credit returned to the treasury", VOUCHER, "scheme"),
    _m("platform_revenue_idr", "idr", "real IDR", "platform revenue", "platform commissions", VOUCHER),
    _m("provider_profit_idr", "idr", "real IDR", "provider profit",
       "providers' profit: receipts less costs (fixed costs of platform sellers included)"),
    # ---------------------------------------------------------------- market structure
    _m("provider_hhi", "number", "0-10,000", "provider HHI (0-10,000)",
       "Herfindahl index of providers' revenue shares: sales receipts (voucher); the value of the "
       "contracts awarded, real seats times price (tender)", source="scheme", headline=True,
       undefined="no revenue"),
    _m("active_providers", "whole", "providers", "active providers",
       "providers selling on the platforms (voucher) or delivering a contract (tender) in the last "
       "week the scheme was running", source="scheme"),
    _m("providers_entered", "whole", "providers", "providers entered", "providers that entered the market",
       VOUCHER),
    # ---------------------------------------------------------------- the tender's procurement
    _m("seats_contracted", "count", "real seats", "seats contracted", "seats awarded in the tenders",
       TENDER, "scheme", headline=True),
    _m("seats_planned", "count", "real seats", "seats planned", "seats in the lots put to tender",
       TENDER, "scheme"),
    _m("capacity_added_seats", "count", "real seats per year", "capacity added (seats a year)",
       "yearly capacity centres added when lots were announced (trainees a year, all cycles)",
       TENDER, "scheme"),
    _m("centres_entered", "whole", "centres", "centres entered",
       "new private centres opened when lots were announced", TENDER, "scheme"),
    _m("capacity_cost_idr", "idr", "real IDR", "capacity cost",
       "providers' one-off spending on new capacity: seats added and entrants' entry cost",
       TENDER, "scheme"),
    _m("seats_planned_capped", "count", "real seats", "seats moved by the capacity cap",
       "seats the office's capacity estimate took out of cells it thought could not deliver them "
       "(re-allocated to cells with room, or left unplanned)", TENDER, "scheme"),
    _m("seat_fill_rate", "share", "share of seats", "seats filled", "awarded seats that were filled",
       TENDER, "scheme", headline=True, undefined="no seat was contracted"),
    _m("mean_winning_bid_idr", "idr", "IDR per trainee", "mean winning bid per trainee",
       "seat-weighted price per trainee of the contracts", TENDER, "scheme", undefined="no contract"),
    _m("waitlisted", "count", "real people", "waitlisted applicants", "applicants never seated",
       TENDER, "scheme"),
    _m("procurement_weeks", "number", "weeks", "procurement (weeks)", "weeks from planning to award",
       TENDER, "scheme"),
    _m("lots_tendered", "whole", "lots", "lots tendered", "lots put to tender", TENDER, "scheme"),
    _m("lots_without_bidder", "whole", "lots", "lots without a bidder", "lots no provider could bid for",
       TENDER, "scheme"),
    _m("bids_flagged_abnormal", "whole", "bids", "bids flagged abnormally low",
       "bids screened out as abnormally low", TENDER, "scheme"),
    _m("awards_by_favouritism", "whole", "awards", "awards by favouritism",
       "awards that overrode the score", TENDER, "scheme"),
    _m("contractors", "whole", "providers", "contractors", "providers awarded at least one contract",
       TENDER, "scheme"),
    # ---------------------------------------------------------------- integrity (voucher.fake_completion ...)
    _m("fake_completions", "count", "real people", "fake completions",
       "courses certified without training (voucher.fake_completion) that passed every check",
       VOUCHER, "scheme", optional=True),
    _m("fakes_caught_by_check", "count", "real people", "fakes caught by the completion check",
       "fake completions the completion check caught (no completion, no incentive)",
       VOUCHER, "scheme", optional=True),
    _m("paid_without_training_idr", "idr", "real IDR", "paid without training",
       "credit spent on faked courses plus the incentives and surveys fake completions unlocked, "
       "less the receipts sellers repaid (clawbacks)", VOUCHER, "scheme", optional=True),
    _m("incentive_without_training_share", "share", "share of incentive paid",
       "incentive unlocked without training",
       "share of the incentive paid that a fake completion unlocked", VOUCHER, "scheme",
       undefined="no incentive was paid", optional=True),
    _m("audits", "whole", "audits", "audits of sellers",
       "audits of sellers (voucher.audits), all review periods", VOUCHER, "scheme", optional=True),
    _m("providers_blacklisted", "whole", "providers", "sellers blacklisted",
       "sellers an audit found faking and delisted from every platform", VOUCHER, "scheme",
       optional=True),
    _m("clawbacks_idr", "idr", "real IDR", "clawbacks",
       "receipts for faked courses sellers repaid to the treasury (completion check and audits)",
       VOUCHER, "scheme", optional=True),
    _m("outcome_pay_withheld_idr", "idr", "real IDR", "outcome pay withheld",
       "sellers' receipts withheld at purchase until placement (voucher.outcome_pay)", VOUCHER,
       "scheme", optional=True),
    _m("outcome_pay_paid_idr", "idr", "real IDR", "outcome pay paid",
       "withheld receipts paid to sellers because the trainee was employed placement_weeks after "
       "completing (the rest returned to the treasury, or still due at the end)", VOUCHER, "scheme",
       optional=True),
    _m("integrity_controls_cost_idr", "idr", "real IDR", "cost of checks and audits",
       "cost of the completion checks and audits, in total_cost_idr", VOUCHER, "scheme",
       optional=True),
)
# fmt: on

BY_NAME: dict[str, Metric] = {m.name: m for m in METRICS}


class MetricError(ValueError):
    """A scheme's metrics disagree with the registry."""


def metric(name: str) -> Metric:
    """The registered metric ``name`` (KeyError if there is none)."""
    return BY_NAME[name]


def shared_metrics(scheme: str) -> list[Metric]:
    """Metrics reporting computes for ``scheme``."""
    return [m for m in METRICS if m.source == "shared" and scheme in m.schemes]


def check_scheme_metrics(scheme: str, values: dict) -> None:
    """Raise MetricError unless ``values`` holds exactly the scheme-computed metrics registered
    for ``scheme`` (an optional one may be missing)."""
    for name in values:
        m = BY_NAME.get(name)
        if m is None:
            raise MetricError(f"scheme {scheme!r} returns an unregistered metric {name!r}")
        if m.source == "shared":
            raise MetricError(f"scheme {scheme!r} redefines the shared metric {name!r}")
        if scheme not in m.schemes:
            raise MetricError(f"metric {name!r} is not registered for scheme {scheme!r}")
    missing = [
        m.name
        for m in METRICS
        if m.source == "scheme" and scheme in m.schemes and not m.optional and m.name not in values
    ]
    if missing:
        raise MetricError(f"scheme {scheme!r} does not compute {', '.join(missing)}")


def ratio_metrics() -> dict[str, tuple[str, str]]:
    """Metrics that are ratios of two others: over replications, the ratio of the means."""
    return {m.name: m.ratio for m in METRICS if m.ratio is not None}


def markdown_table() -> str:
    """The README's metric table."""
    lines = ["| metric | unit | schemes | meaning |", "|---|---|---|---|"]
    for m in METRICS:
        meaning = m.description
        if m.estimand:
            meaning += f". Estimand: {m.estimand}"
        if m.undefined:
            meaning += f". Null when {m.undefined}"
        if m.optional:
            meaning += ". Reported only when its mechanism is switched on"
        lines.append(f"| `{m.name}` | {m.unit} | {', '.join(m.schemes)} | {meaning} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
