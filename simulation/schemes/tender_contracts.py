"""The tender's contracts: one record per awarded lot (``Contract``), and the same contracts as
arrays (``ContractBook``) for the weekly passes over all of them (which cohorts start, which lots
are open, who runs), and the seating of a week's cohorts from the lots' queues
(``take_from_queues``).

Units as in ``simulation.schemes.tender``: ``seats`` are real seats, ``sim_seats`` and ``seated``
simulated people, money IDR per trainee, time in weeks. A cell is a lot's region x sector,
numbered region * sectors + sector.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter
from typing import NamedTuple

import numpy as np


class Award(NamedTuple):
    """Part of a lot won by one bidder, before it becomes a contract: ``seats`` are real seats,
    ``price_idr`` the winning bid per trainee (IDR)."""

    provider: int
    course: int
    sector: int
    region: int
    seats: int
    price_idr: float
    declared_quality: float


@dataclass(slots=True)
class Contract:
    """One awarded lot (or part of one). ``seats`` are real seats, what the contractor teaches for
    the real population; ``sim_seats`` are the simulated seats they stand for (seats / scale,
    rounded without bias); ``seated`` and ``completed`` count simulated people. Money is IDR per
    trainee. ``cycle`` is the contract cycle whose budget pays for it. The contractor runs
    ``cohorts`` back-to-back cohorts (at most one per real seat); ``phase`` in [0, 1) places the
    simulated seats among them (``procurement.cohort_target``)."""

    provider: int
    course: int
    sector: int
    region: int
    seats: int
    sim_seats: int
    price_idr: float
    cost_idr: float  # the contractor's cost per trainee after shading
    declared_quality: float
    potential_quality: float  # the course's quality at full effort
    delivered_quality: float  # potential less shading
    cycle: int
    start_week: int
    end_week: int
    cohorts: int
    phase: float
    inspected: bool  # drawn at signing (stream tender:monitoring); the penalty is charged at the end
    seated: int = 0
    completed: int = 0
    penalty_idr: float = 0.0  # paid back at the end, simulated IDR

    @property
    def shading(self) -> float:
        """Quality shaded: potential less delivered (0-1)."""
        return self.potential_quality - self.delivered_quality

    def cohort_index(self, week: int, course_weeks: int) -> int:
        """Which of the contract's cohorts starts in ``week`` (0-based), or -1 if none does."""
        index, offset = divmod(week - self.start_week, course_weeks)
        return index if offset == 0 and 0 <= index < self.cohorts else -1


@dataclass
class ContractBook:
    """The contracts' fields as arrays over contracts k (their order in the scheme's list), for the
    weekly passes over all of them. Built from the list (``of``) and extended with each cycle's
    contracts once they are signed and their start is settled (``extended``); only ``seated``
    changes afterwards, kept equal to the contracts' own by the scheme. Weeks and counts int64,
    money (IDR per trainee) and quality float64."""

    start_week: np.ndarray
    end_week: np.ndarray
    cohorts: np.ndarray
    sim_seats: np.ndarray
    seated: np.ndarray
    cycle: np.ndarray
    cell: np.ndarray  # region * sectors + sector
    sector: np.ndarray
    course: np.ndarray
    provider: np.ndarray
    price_idr: np.ndarray
    phase: np.ndarray
    delivered_quality: np.ndarray

    @classmethod
    def of(cls, contracts: list[Contract], sectors: int) -> ContractBook:
        """The arrays of ``contracts``, cells numbered with ``sectors`` sectors per region."""
        ints = (
            "start_week",
            "end_week",
            "cohorts",
            "sim_seats",
            "seated",
            "cycle",
            "sector",
            "course",
            "provider",
        )
        floats = ("price_idr", "phase", "delivered_quality")
        whole = np.array([*map(attrgetter(*ints, "region"), contracts)], dtype=np.int64).reshape(
            -1, len(ints) + 1
        )
        real = np.array([*map(attrgetter(*floats), contracts)], dtype=np.float64).reshape(-1, len(floats))
        columns: dict[str, np.ndarray] = {name: whole[:, i].copy() for i, name in enumerate(ints)}
        columns |= {name: real[:, i].copy() for i, name in enumerate(floats)}
        return cls(cell=whole[:, -1] * sectors + columns["sector"], **columns)

    def extended(self, contracts: list[Contract], sectors: int) -> ContractBook:
        """This book with ``contracts`` (signed after those it holds) added at the end."""
        more = ContractBook.of(contracts, sectors)
        return ContractBook(
            **{f.name: np.concatenate([getattr(self, f.name), getattr(more, f.name)]) for f in fields(self)}
        )

    @property
    def size(self) -> int:
        """Number of contracts."""
        return self.start_week.size

    def cohort_index(self, week: int, course_weeks: int) -> np.ndarray:
        """Which cohort of each contract starts in ``week`` (0-based), -1 where none does: what
        ``Contract.cohort_index`` gives, for every contract."""
        index, offset = np.divmod(week - self.start_week, course_weeks)
        return np.where((offset == 0) & (index >= 0) & (index < self.cohorts), index, -1)

    def taking(self, week: int, course_weeks: int) -> np.ndarray:
        """Contracts with a cohort starting in ``week`` or later (boolean [contract])."""
        return (self.start_week <= week) & (week <= self.start_week + (self.cohorts - 1) * course_weeks)

    def running(self, week: int) -> np.ndarray:
        """Contracts running in ``week``: started and not yet ended (boolean [contract])."""
        return (self.start_week <= week) & (week < self.end_week)


def take_from_queues(
    queued_cells: np.ndarray, due_cells: np.ndarray, sizes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where each due contract's seats come from in the week's queues.

    ``queued_cells`` is the cell of each queued applicant, the queues of all cells one after the
    other (cells ascending), each in its seating order (lottery or queue). ``due_cells`` and
    ``sizes`` are the cell and the seats to fill of each contract with a cohort starting, in the
    order the contracts were awarded. The contracts of a cell take its queue in that order, each
    the next ``size`` applicants after those the earlier ones took, as far as the queue goes.
    Returns (first, taken): the position in the queues of each contract's first applicant, and
    how many it takes (int64 [contract]); contract j takes positions first[j] .. first[j] +
    taken[j] - 1."""
    queued_cells, due_cells = np.asarray(queued_cells), np.asarray(due_cells)
    sizes = np.asarray(sizes, dtype=np.int64)
    start = np.searchsorted(queued_cells, due_cells, side="left")
    end = np.searchsorted(queued_cells, due_cells, side="right")
    order = np.argsort(due_cells, kind="stable")  # by cell, in award order within a cell
    ordered = sizes[order]
    before = np.cumsum(ordered) - ordered  # seats the earlier contracts of every cell want
    cells = due_cells[order]
    new_cell = np.ones(cells.size, dtype=bool)
    new_cell[1:] = cells[1:] != cells[:-1]
    group = np.cumsum(new_cell) - 1
    offset = np.empty_like(before)
    offset[order] = before - before[new_cell][group]  # seats the cell's earlier contracts want
    first = np.minimum(start + offset, end)
    return first, np.minimum(start + offset + sizes, end) - first
