"""Providers' attributes at birth, as columns (the model turns each row into a Mesa agent)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class ProviderSpecs:
    """Provider attributes as columns (the model turns each row into a mesa Agent)."""

    kind: np.ndarray  # int8, index into PROVIDER_TYPES
    region: np.ndarray  # int8, home region
    knightly: np.ndarray  # bool, weighs trainee outcomes in its objective
    mission_weight_idr: np.ndarray  # float64, value put on one unit of a trainee's skill, IDR (0: for-profit)
    affiliated_platform: np.ndarray  # int8, -1 if independent
    capacity_per_year: np.ndarray  # float64, trainees it can teach offline per year (tenders)

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def stack_specs(parts: list[ProviderSpecs]) -> ProviderSpecs:
    """One table of the rows of ``parts``, in order."""
    names = [f.name for f in fields(ProviderSpecs)]
    if not parts:
        return ProviderSpecs(**{name: np.zeros(0) for name in names})
    return ProviderSpecs(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in names})
