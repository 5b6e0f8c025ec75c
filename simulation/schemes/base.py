"""What every scheme is: the typed interface the model calls, and the evaluation groups it reports.

A scheme (a market mechanism: the voucher, the tender, a hybrid) is a class registered by name
(:func:`simulation.schemes.register`) and built with the model it runs in. Each week the model
calls ``step(week)``, then moves the labour market, then asks ``record(week)`` for the week's row.
At the end, ``metrics()`` gives the scheme's own summary metrics (every one registered for the
scheme in ``simulation.reporting.registry``) and ``evaluation()`` says who was offered the
programme and who is their comparison, from which reporting computes the same estimands for every
scheme (intention to treat, treatment on the treated, true effects from the untreated twins).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

MetricValue = float | int | None


@dataclass(frozen=True)
class Evaluation:
    """The groups an evaluator compares, one boolean or integer per participant (row).

    The offer is random *within* a stratum (a lottery), so comparing the offered with the
    comparison group stratum by stratum identifies the effect of the offer. Rows in neither group
    (e.g. people who never applied to a tender lot) take no part.
    """

    offered: np.ndarray  # bool [n]: offered the programme (a card, a seat)
    comparison: np.ndarray  # bool [n]: eligible, in the same lotteries, never offered
    stratum: np.ndarray  # integer [n]: lottery stratum of the offered and the comparison rows
    trained: np.ndarray  # bool [n]: enrolled in at least one course

    def __post_init__(self) -> None:
        n = self.offered.shape[0]
        for name in ("comparison", "stratum", "trained"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"Evaluation.{name} must have one entry per participant ({n})")
        if np.any(self.offered & self.comparison):
            raise ValueError("a participant cannot be both offered and in the comparison group")


@runtime_checkable
class Scheme(Protocol):
    """The interface between the model and a scheme (checked when a scheme is registered)."""

    name: ClassVar[str]
    price_cap_idr: float  # highest price a course may be sold at under the scheme, IDR

    def __init__(self, model: Any) -> None: ...

    def step(self, week: int) -> None:
        """Act for one week: selection, enrolment, completion, payments, the scheme's market."""
        ...

    def record(self, week: int) -> dict[str, float]:
        """This week's flows and stocks, in real people and IDR (one timeseries row)."""
        ...

    def evaluation(self) -> Evaluation:
        """Who was offered the programme, and their comparison group, at the end of the run."""
        ...

    def metrics(self) -> dict[str, MetricValue]:
        """The scheme's own summary metrics (registered for it in the metric registry)."""
        ...


PROTOCOL_METHODS = ("__init__", "step", "record", "evaluation", "metrics")


def check_scheme(cls: type) -> None:
    """Raise TypeError unless ``cls`` implements :class:`Scheme`: every method, with the same
    parameter names, and a ``price_cap_idr`` set in ``__init__`` or on the class."""
    for method in PROTOCOL_METHODS:
        impl = getattr(cls, method, None)
        if impl is None or not callable(impl):
            raise TypeError(f"scheme {cls.__name__} lacks {method}()")
        want = list(inspect.signature(getattr(Scheme, method)).parameters)
        got = list(inspect.signature(impl).parameters)
        if got != want:
            raise TypeError(
                f"scheme {cls.__name__}.{method} takes ({', '.join(got)}), expected ({', '.join(want)})"
            )
