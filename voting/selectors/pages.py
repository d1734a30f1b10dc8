"""What a rater's phone shows, the organizer's turnout, a seat's counts and the survey batches."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count

from meetings.models import Meeting, Presentation, Rater

from ..models import Ballot, BallotValue
from .forms import FormCriterion, ballot_scores, quota_limit, role_form
from .seats import rater_pseudonyms, receipt_display

logger = logging.getLogger(__name__)


@dataclass
class RaterPresentation:
    id: int
    order: int
    department: str
    name: str
    state: str
    recused: bool
    ballot: dict | None


@dataclass
class RaterView:
    rater: Rater
    form: list[FormCriterion]
    presentations: list[RaterPresentation]
    quota_limit: int | None
    quota_used: int

    @property
    def current(self) -> list[RaterPresentation]:
        return [p for p in self.presentations if p.state == Presentation.State.OPEN]

    @property
    def quota_label(self) -> str:
        """The quota grade's label as the form shows it (优秀)."""
        meeting = self.rater.meeting
        for criterion in self.form:
            if criterion.code == meeting.excellent_quota_criterion:
                return criterion.grade_labels.get(meeting.excellent_quota_grade, meeting.excellent_quota_grade)
        return meeting.excellent_quota_grade

    @property
    def quota_remaining(self) -> int | None:
        return None if self.quota_limit is None else max(0, self.quota_limit - self.quota_used)


def rater_view(rater: Rater) -> RaterView:
    """Everything a rater's phone shows, in a fixed number of queries whatever the agenda's length."""
    meeting = rater.meeting
    presentations = list(
        Presentation.objects.filter(meeting_id=meeting.pk).select_related("department").order_by("order")
    )
    pseudonyms = rater_pseudonyms(rater, [p.pk for p in presentations])
    ballots = {
        b.presentation_id: b
        for b in Ballot.objects.filter(pseudonym__in=list(pseudonyms), presentation__meeting_id=meeting.pk)
    }
    values = defaultdict(list)
    for value in BallotValue.objects.filter(ballot__in=list(ballots.values())).select_related("criterion", "grade"):
        values[value.ballot_id].append(value)
    quota_used = 0
    if meeting.excellent_quota_criterion:
        quota_used = sum(
            1
            for b in ballots.values()
            if b.state == Ballot.State.SUBMITTED
            for v in values[b.pk]
            if v.criterion.code == meeting.excellent_quota_criterion
            and v.grade_id
            and v.grade.code == meeting.excellent_quota_grade
        )
    rows = []
    for p in presentations:
        ballot = ballots.get(p.pk)
        rows.append(
            RaterPresentation(
                id=p.pk,
                order=p.order,
                department=p.department.code,
                name=p.department.name,
                state=p.state,
                recused=rater.department_id is not None and p.department_id == rater.department_id,
                ballot=None
                if ballot is None
                else {
                    "receipt": receipt_display(ballot.receipt),
                    "state": ballot.state,
                    "scores": ballot_scores(values[ballot.pk]),
                    "total": str(ballot.total),
                    "updated_at": ballot.updated_at.isoformat(),
                },
            )
        )
    form = role_form(rater.role)
    # The quota concerns only the roles whose form has that grade criterion.
    quota_applies = any(
        c.code == meeting.excellent_quota_criterion and meeting.excellent_quota_grade in c.grades for c in form
    )
    return RaterView(
        rater=rater,
        form=form,
        presentations=rows,
        quota_limit=quota_limit(meeting, len(presentations)) if quota_applies else None,
        quota_used=quota_used,
    )


def meeting_progress(meeting: Meeting) -> dict:
    """Turnout per presentation and role: seats expected (recusals excepted) and counting ballots in,
    "ballots" in all, "hall" from the seats (phone and paper) and "survey" from imported sheets."""
    seats = defaultdict(int)
    recused = defaultdict(int)  # (department id, role id) -> seats of that role recused from it
    for role_id, department_id, count in (
        Rater.objects.filter(meeting=meeting, revoked_at__isnull=True)
        .values_list("role_id", "department_id")
        .annotate(n=Count("pk"))
    ):
        seats[role_id] += count
        if department_id is not None:
            recused[(department_id, role_id)] += count
    # Seats in the hall (phone and paper) and survey answers apart: a survey role has no seats, and
    # its answers must not read as the hall's turnout.
    hall, survey = defaultdict(int), defaultdict(int)
    for row in (
        Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.SUBMITTED)
        .values("presentation_id", "role_id", "source")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts = survey if row["source"] == Ballot.Source.SURVEY else hall
        counts[(row["presentation_id"], row["role_id"])] += row["n"]
    roles = list(meeting.scheme.roles.order_by("order", "code").values("pk", "code", "name"))
    presentations = []
    for p in Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"):
        per_role = {}
        for role in roles:
            per_role[role["code"]] = {
                "name": role["name"],
                "expected": seats[role["pk"]] - recused[(p.department_id, role["pk"])],
                "ballots": hall[(p.pk, role["pk"])] + survey[(p.pk, role["pk"])],
                "hall": hall[(p.pk, role["pk"])],
                "survey": survey[(p.pk, role["pk"])],
            }
        presentations.append(
            {
                "id": p.pk,
                "order": p.order,
                "department": p.department.code,
                "name": p.department.name,
                "state": p.state,
                "roles": per_role,
                "expected": sum(r["expected"] for r in per_role.values()),
                "ballots": sum(r["ballots"] for r in per_role.values()),
                "hall": sum(r["hall"] for r in per_role.values()),
                "survey": sum(r["survey"] for r in per_role.values()),
            }
        )
    return {"meeting": meeting.pk, "presentations": presentations}


def seat_ballot_counts(raters: list[Rater]) -> dict[int, int]:
    """How many ballots each seat has cast (never which), in one query."""
    presentations: dict[int, list[int]] = defaultdict(list)
    for meeting_id, pk in Presentation.objects.filter(meeting_id__in={r.meeting_id for r in raters}).values_list(
        "meeting_id", "pk"
    ):
        presentations[meeting_id].append(pk)
    by_pseudonym = {pseudonym: r.pk for r in raters for pseudonym in rater_pseudonyms(r, presentations[r.meeting_id])}
    counts = (
        Ballot.objects.filter(pseudonym__in=list(by_pseudonym), state=Ballot.State.SUBMITTED)
        .values("pseudonym")
        .annotate(n=Count("pk"))
    )
    return {by_pseudonym[row["pseudonym"]]: row["n"] for row in counts}


def survey_batches(meeting: Meeting) -> list:
    """The meeting's imported survey sheets, oldest first, with who imported and withdrew them."""
    from ..models import SurveyBatch

    return list(
        SurveyBatch.objects.filter(meeting=meeting).select_related("role", "created_by", "withdrawn_by").order_by("pk")
    )
