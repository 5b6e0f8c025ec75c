"""Codes and units shared by every layer: course modes, provider kinds and the price grain.

Kept apart from the tables that use them so that the pure rules (``simulation.rules``) can name a
mode or round a price without importing the market's tables.
"""

from __future__ import annotations

import numpy as np

ONLINE, OFFLINE, HYBRID = 0, 1, 2
MODE_NAMES = ("online", "offline", "hybrid")
PROVIDER_TYPES = ("online_only", "blended", "offline_centre", "public_blk")
ONLINE_ONLY = 0  # index of "online_only" in PROVIDER_TYPES
PRICE_GRAIN_IDR = 1000.0  # prices are whole thousands of IDR, so float32 credit arithmetic is exact


def round_price(price_idr: np.ndarray) -> np.ndarray:
    """Round prices to whole thousands of IDR (float32)."""
    return (np.round(np.asarray(price_idr) / PRICE_GRAIN_IDR) * PRICE_GRAIN_IDR).astype(np.float32)
