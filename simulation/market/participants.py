"""Participants as columns: one row per simulated job seeker.

Static attributes (who a person is) live in :class:`Participants` and are shared, read-only, by every
scheme run on a world. What a scheme does to people (selection, credit, courses, skill) lives in
:class:`ProgrammeState`, one per run. :class:`Participant` is a read-only view of one row for
inspection in notebooks and tests; model logic never loops over it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

# Programme status codes (ProgrammeState.status).
NOT_SELECTED = 0  # an applicant waiting for a lottery, or a never-selected control
HOLDING = 1  # selected, holding credit, free to shop
ENROLLED = 2  # in a course
FINISHED = 3  # no longer shopping: credit spent, expired or unaffordable
REVOKED = 4  # card revoked: no purchase before the deadline
STATUS_NAMES = ("not_selected", "holding", "enrolled", "finished", "revoked")


@dataclass(frozen=True)
class Participants:
    """Static attributes, one numpy array per attribute, all of length ``n``."""

    region: np.ndarray  # int8, index into scenario.regions
    urban: np.ndarray  # bool
    female: np.ndarray  # bool
    age_18_35: np.ndarray  # bool
    senior_high: np.ndarray  # bool, at least senior high school
    employed_at_entry: np.ndarray  # bool
    internet: np.ndarray  # bool, usable mobile internet
    sector: np.ndarray  # int8, sector of interest
    incentive_motivated: np.ndarray  # bool, joined mainly for the cash
    motivation: np.ndarray  # float32, learning motivation (log-odds units)
    ability: np.ndarray  # float32, multiplies skill gain (mean 1)
    weekly_hours: np.ndarray  # float32, whole hours per week available for a course
    platform: np.ndarray  # int8, the platform this person shops on
    arrival_week: np.ndarray  # int16, wave week the application enters the lottery pool
    business_at_entry: np.ndarray  # bool, self-employed at entry (a subset of employed_at_entry)

    def __len__(self) -> int:
        return int(self.region.shape[0])


@dataclass
class ProgrammeState:
    """What a scheme has done to each participant; arrays of length n, mutated by one run."""

    status: np.ndarray  # int8, one of the status codes above
    selected_week: np.ndarray  # int16, -1 if never selected
    credit_left_idr: np.ndarray  # float32, whole IDR
    course: np.ndarray  # int32, current or last course, -1 if none
    course_end_week: np.ndarray  # int16, week the current course ends
    will_complete: np.ndarray  # bool, completion drawn at enrolment
    courses_bought: np.ndarray  # int16
    courses_completed: np.ndarray  # int16
    first_purchase_week: np.ndarray  # int16, -1 if none
    first_completion_week: np.ndarray  # int16, -1 if none
    survey_respondent: np.ndarray  # bool, answers the paid surveys
    skill: np.ndarray  # float32, skill gained (quality units)
    matched_skill: np.ndarray  # float32, skill weighted by its match to own sector
    incentive_received_idr: np.ndarray  # float32
    topup_paid_idr: np.ndarray  # float32, own money paid: co-payments and top-ups above credit

    @classmethod
    def empty(cls, n: int) -> ProgrammeState:
        """State of n applicants before any lottery."""
        minus_one = np.full(n, -1, dtype=np.int16)
        return cls(
            status=np.zeros(n, dtype=np.int8),
            selected_week=minus_one.copy(),
            credit_left_idr=np.zeros(n, dtype=np.float32),
            course=np.full(n, -1, dtype=np.int32),
            course_end_week=minus_one.copy(),
            will_complete=np.zeros(n, dtype=bool),
            courses_bought=np.zeros(n, dtype=np.int16),
            courses_completed=np.zeros(n, dtype=np.int16),
            first_purchase_week=minus_one.copy(),
            first_completion_week=minus_one.copy(),
            survey_respondent=np.zeros(n, dtype=bool),
            skill=np.zeros(n, dtype=np.float32),
            matched_skill=np.zeros(n, dtype=np.float32),
            incentive_received_idr=np.zeros(n, dtype=np.float32),
            topup_paid_idr=np.zeros(n, dtype=np.float32),
        )


@dataclass(frozen=True)
class Participant:
    """A read-only view of one participant: static attributes, programme state and employment."""

    row: int
    attributes: dict
    state: dict
    employed: bool
    twin_employed: bool

    @classmethod
    def of(
        cls,
        row: int,
        people: Participants,
        state: ProgrammeState,
        employed: np.ndarray,
        twin_employed: np.ndarray,
    ) -> Participant:
        attributes = {f.name: getattr(people, f.name)[row].item() for f in fields(people)}
        status = {f.name: getattr(state, f.name)[row].item() for f in fields(state)}
        status["status"] = STATUS_NAMES[status["status"]]
        return cls(row, attributes, status, bool(employed[row]), bool(twin_employed[row]))

    def __getattr__(self, name: str):
        for table in ("attributes", "state"):
            values = object.__getattribute__(self, table)
            if name in values:
                return values[name]
        raise AttributeError(name)
