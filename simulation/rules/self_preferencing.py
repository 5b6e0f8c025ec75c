"""Self-preferencing measured (issue 10, point 6): do platforms sell their own affiliates' courses
beyond what their affiliates' share of the listing, or of its quality, would give them?

For every platform p that owns providers (``platforms[p].affiliated_providers`` > 0), and every
week with purchases on it, let

    S_p  = purchases through p (simulated),    A_p = those of courses by p's own affiliates,
    L_p  = affiliates' share of the courses p lists (active and listed on p),
    Q_p  = affiliates' share of the delivered quality of those courses (sum of q over affiliates'
           listed courses / sum of q over all listed courses).

Summed over weeks and over such platforms (each week's listing shares weighted by that week's
purchases, so a neutral platform whose buyers picked courses at random from its listing would
give an affiliate sales share equal to the listing share, and one whose buyers picked in proportion
to quality, the quality share):

    affiliate_sales_share   = sum A / sum S
    affiliate_listing_share = sum S x L / sum S
    affiliate_quality_share = sum S x Q / sum S
    self_preferencing_ratio = affiliate_sales_share / affiliate_quality_share

A ratio above 1 means affiliates sell more than their quality share would earn them (sponsored
ranking, or simply popularity); below 1, less. Undefined (None) where no platform has affiliates,
nothing was bought on them, or the affiliates list no quality.

The tender has no platforms, hence no self-preferencing; the nearest channel there is the
favouritism of ``tender.favouritism`` (an asymmetry by design).
"""

from __future__ import annotations

import numpy as np


def affiliate_week(
    buyer_platform: np.ndarray,
    course: np.ndarray,
    owner_platform: np.ndarray,
    listed: np.ndarray,
    quality: np.ndarray,
    platforms: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One week's (S, A, L, Q) for each platform in ``platforms`` (float64 arrays over them).

    ``buyer_platform`` and ``course`` are per purchase: the platform the buyer shopped on and the
    course bought; ``owner_platform`` is per course, the platform owning the course's provider
    (-1 if independent); ``listed`` is bool [courses, platforms], on sale on the platform now;
    ``quality`` the delivered quality per course (0-1); ``platforms`` the ids of the platforms
    with affiliates. L and Q are 0 for a platform listing nothing (or no quality)."""
    n = platforms.size
    sales, own, listing, quality_share = (np.zeros(n) for _ in range(4))
    q = np.asarray(quality, dtype=np.float64)
    for k, p in enumerate(platforms):  # a handful of platforms, not participants
        here = buyer_platform == p
        sales[k] = np.count_nonzero(here)
        own[k] = np.count_nonzero(owner_platform[course[here]] == p)
        on = listed[:, p]
        mine = on & (owner_platform == p)
        listing[k] = _ratio(float(np.count_nonzero(mine)), float(np.count_nonzero(on)))
        quality_share[k] = _ratio(q[mine].sum(), q[on].sum())
    return sales, own, listing, quality_share


def _ratio(part: float, whole: float) -> float:
    return float(part / whole) if whole > 0 else 0.0


class AffiliateTally:
    """Running sums of ``affiliate_week`` over the weeks, pooled over the platforms with
    affiliates: purchases S, affiliates' purchases A, and S x L, S x Q."""

    def __init__(self, platforms: np.ndarray) -> None:
        self.platforms = np.asarray(platforms, dtype=np.int64)  # ids of platforms with affiliates
        self.sales = 0.0
        self.affiliate_sales = 0.0
        self.listing_weighted = 0.0
        self.quality_weighted = 0.0

    def add(
        self,
        buyer_platform: np.ndarray,
        course: np.ndarray,
        owner_platform: np.ndarray,
        listed: np.ndarray,
        quality: np.ndarray,
    ) -> None:
        """Add one week's purchases (see ``affiliate_week``)."""
        if self.platforms.size == 0 or course.size == 0:
            return
        s, a, share_l, share_q = affiliate_week(
            buyer_platform, course, owner_platform, listed, quality, self.platforms
        )
        self.sales += float(s.sum())
        self.affiliate_sales += float(a.sum())
        self.listing_weighted += float((s * share_l).sum())
        self.quality_weighted += float((s * share_q).sum())

    def metrics(self) -> dict[str, float | None]:
        """The four summary metrics of the module docstring (None where undefined)."""
        if self.sales <= 0:
            return dict.fromkeys(
                (
                    "affiliate_sales_share",
                    "affiliate_listing_share",
                    "affiliate_quality_share",
                    "self_preferencing_ratio",
                )
            )
        sales_share = self.affiliate_sales / self.sales
        quality_share = self.quality_weighted / self.sales
        return {
            "affiliate_sales_share": sales_share,
            "affiliate_listing_share": self.listing_weighted / self.sales,
            "affiliate_quality_share": quality_share,
            "self_preferencing_ratio": sales_share / quality_share if quality_share > 0 else None,
        }
