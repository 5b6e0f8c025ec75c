"""Schemes (market mechanisms), registered by name and chosen in the scenario file.

A scheme implements :class:`simulation.schemes.base.Scheme` (checked when it is registered) and
is named after its scenario block (``voucher:``, ``tender:``); the scenario validates the names it
lists against the same blocks (``simulation.config.scenario.SCHEME_BLOCKS``), and a test keeps the
two lists equal. Built-in schemes load when first asked for, so that reading a scenario stays
cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TypeVar

from simulation.schemes.base import Scheme, check_scheme

SCHEMES: dict[str, type[Scheme]] = {}
S = TypeVar("S", bound=Scheme)
BUILTIN = {"voucher": "simulation.schemes.voucher", "tender": "simulation.schemes.tender"}


def register(name: str) -> Callable[[type[S]], type[S]]:
    """Class decorator adding a scheme to the registry under ``name``, after checking that it
    implements the Scheme protocol and that the scenario has a block of that name."""

    def add(cls: type[S]) -> type[S]:
        from simulation.config.scenario import Scenario

        if name not in Scenario.model_fields:
            raise TypeError(
                f"scheme {name!r} has no '{name}:' block in the scenario (simulation.config.scenario)"
            )
        check_scheme(cls)
        cls.name = name
        SCHEMES[name] = cls
        return cls

    return add


def get_scheme(name: str) -> type[Scheme]:
    """The scheme class registered as ``name``."""
    if name not in SCHEMES and name in BUILTIN:
        importlib.import_module(BUILTIN[name])
    if name not in SCHEMES:
        raise KeyError(f"unknown scheme {name!r}; known: {', '.join(sorted({*SCHEMES, *BUILTIN}))}")
    return SCHEMES[name]
