"""Realistic random ballots for every seat: the demo and the benchmarks.

Each department gets a hidden quality; each rater a leniency; each score is
drawn around both and snapped to the criterion's step grid, so that rankings
look like a real meeting's (a clear top, a long middle, a tail).
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from meetings.models import Meeting, Presentation, Rater

from .selectors import FormCriterion, role_form
from .services import RecordedBallot, ballots_bulk_record


def _snap(quality: float, criterion: FormCriterion) -> Decimal:
    """A share of the criterion's maximum, snapped to its step grid (the random draw is the only float)."""
    value = Decimal(repr(max(0.0, quality))) * criterion.max_value
    steps = (value / criterion.step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(criterion.max_value, steps * criterion.step)


def _grade(quality: float, criterion: FormCriterion, rng: random.Random, allowed_top: bool) -> tuple[int, Decimal]:
    ranked = sorted(criterion.grades.values(), key=lambda g: g[1], reverse=True)
    position = min(len(ranked) - 1, max(0, int(rng.gauss((1 - quality) * len(ranked), 0.8))))
    if position == 0 and not allowed_top:
        position = 1
    return ranked[position]


@transaction.atomic
def ballots_simulate(*, meeting: Meeting, seed: int = 2022, turnout: float = 0.97, close_voting: bool = True) -> int:
    """Cast one random ballot per seat and presentation (some seats abstain); returns how many."""
    rng = random.Random(seed)
    presentations = list(Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"))
    quality = {p.pk: min(0.98, max(0.35, rng.gauss(0.8, 0.09))) for p in presentations}
    forms = {}
    quota_limit = None
    if meeting.excellent_quota_max_percent is not None:
        quota_limit = math.floor(meeting.excellent_quota_max_percent * len(presentations) / 100)
    ballots: list[RecordedBallot] = []
    for rater in Rater.objects.filter(meeting=meeting, revoked_at__isnull=True).select_related("role"):
        if rater.role_id not in forms:
            forms[rater.role_id] = role_form(rater.role)
        form = forms[rater.role_id]
        leniency = rng.gauss(0, 0.05)
        excellent_given = 0
        for presentation in presentations:
            if presentation.department_id == rater.department_id or rng.random() > turnout:
                continue
            q = min(1.0, max(0.0, quality[presentation.pk] + leniency + rng.gauss(0, 0.06)))
            values = []
            for criterion in form:
                if criterion.kind == "numeric":
                    values.append((criterion.id, None, _snap(q, criterion)))
                    continue
                quota_applies = criterion.code == meeting.excellent_quota_criterion and quota_limit is not None
                allowed_top = not quota_applies or excellent_given < quota_limit
                grade_id, points = _grade(q, criterion, rng, allowed_top)
                if quota_applies and grade_id == criterion.grades.get(meeting.excellent_quota_grade, (None,))[0]:
                    excellent_given += 1
                values.append((criterion.id, grade_id, points))
            ballots.append(
                RecordedBallot(
                    presentation_id=presentation.pk, role_id=rater.role_id, seat_key=f"seat:{rater.pk}", values=values
                )
            )
    count = ballots_bulk_record(meeting=meeting, ballots=ballots)
    if close_voting:
        now = timezone.now()
        Presentation.objects.filter(meeting=meeting).update(
            state=Presentation.State.CLOSED, opened_at=now, closed_at=now
        )
    return count
