"""A role's form, the quota's reads, a ballot's scores as sent."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from appraisal.models import Criterion, RaterRole
from meetings.models import Meeting

from ..models import Ballot, BallotValue

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FormCriterion:
    """A criterion of a role's form, with what a value must satisfy."""

    id: int
    code: str
    name: str
    kind: str
    max_value: Decimal | None
    step: Decimal | None
    grades: Mapping[str, tuple[int, Decimal]]  # grade code -> (grade id, points), best first
    grade_labels: Mapping[str, str]

    @property
    def max_points(self) -> Decimal:
        return self.max_value if self.kind == "numeric" else max(points for _id, points in self.grades.values())


# Forms are fixed once a meeting is set up; every ballot reads one, so each process keeps them briefly.
_form_memo: dict[int, tuple[float, list]] = {}
FORM_MEMO_SECONDS = 30.0


def role_form(role: RaterRole) -> list[FormCriterion]:
    now = time.monotonic()
    memo = _form_memo.get(role.pk)
    if memo is not None and now - memo[0] < FORM_MEMO_SECONDS:
        return memo[1]
    form = _role_form_read(role)
    _form_memo[role.pk] = (now, form)
    return form


def _role_form_read(role: RaterRole) -> list[FormCriterion]:
    criteria = Criterion.objects.filter(role=role).prefetch_related("grades").order_by("order", "code")
    return [
        FormCriterion(
            id=c.pk,
            code=c.code,
            name=c.name,
            kind=c.kind,
            max_value=c.max_value,
            step=c.step,
            grades={g.code: (g.pk, g.points) for g in c.grades.all()},
            grade_labels={g.code: g.label for g in c.grades.all()},
        )
        for c in criteria
    ]


def quota_limit(meeting: Meeting, presentation_count: int) -> int | None:
    """How many presentations one rater may give the quota grade: floor of the percent."""
    if meeting.excellent_quota_max_percent is None or not meeting.excellent_quota_criterion:
        return None
    return int(meeting.excellent_quota_max_percent * presentation_count // 100)


def quota_used(*, pseudonyms: Sequence[str], meeting: Meeting, exclude_presentation_id: int | None = None) -> int:
    """How many of the seat's ballots (its pseudonyms, one per presentation) carry the quota grade."""
    used = BallotValue.objects.filter(
        ballot__pseudonym__in=list(pseudonyms),
        ballot__state=Ballot.State.SUBMITTED,
        criterion__code=meeting.excellent_quota_criterion,
        grade__code=meeting.excellent_quota_grade,
    )
    if exclude_presentation_id is not None:
        used = used.exclude(ballot__presentation_id=exclude_presentation_id)
    return used.count()


def ballot_scores(values: Sequence[BallotValue]) -> dict[str, str]:
    """A ballot's scores as the rater sent them: the number, or the grade's code (values with criterion and grade)."""
    return {v.criterion.code: v.grade.code if v.grade_id else str(v.points) for v in values}
