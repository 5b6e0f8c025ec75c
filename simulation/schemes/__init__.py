"""Schemes (market mechanisms), registered by name and chosen in the scenario file.

A scheme is a class built with the model; the model calls ``step(week)`` once a week and asks it
``market_open(week)``, ``commission_cap(week)``, ``price_cap_idr``, ``admit_courses(ids, week)`` and
``record(week)``. ``metrics()`` returns its scheme-specific summary.
"""

from __future__ import annotations

from collections.abc import Callable

SCHEMES: dict[str, type] = {}


def register(name: str) -> Callable[[type], type]:
    """Class decorator adding a scheme to the registry under ``name``."""

    def add(cls: type) -> type:
        SCHEMES[name] = cls
        return cls

    return add


def get_scheme(name: str) -> type:
    """The scheme class registered as ``name``."""
    _load_builtin()
    if name not in SCHEMES:
        raise KeyError(f"unknown scheme {name!r}; known: {', '.join(sorted(SCHEMES))}")
    return SCHEMES[name]


def _load_builtin() -> None:
    from simulation.schemes import tender, voucher  # noqa: F401  (they register themselves)
