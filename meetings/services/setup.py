"""A meeting from its setup document, its seats, the previous year's meeting, the countdown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme

from ..models import Component, Meeting, MeetingChange, Presentation, Rater
from ..setup_document import SetupDocument, SetupInvalid, validate_setup_document
from .audit import audit_record
from .changes import meeting_changed
from .tokens import rater_token_generate, rater_token_hash


@dataclass(frozen=True)
class IssuedRater:
    rater_id: int
    seat_no: int
    role: str
    role_name: str
    name: str
    token: str


@dataclass(frozen=True)
class ImportResult:
    meeting: Meeting
    raters: list[IssuedRater]
    presentations: list[tuple[int, str]]


def meeting_import(*, document: dict, actor: AbstractBaseUser | None, ip: str | None = None) -> ImportResult:
    """Validate a setup document and create the whole meeting, or nothing.

    Raises SetupInvalid (with every problem and its JSON path) before touching
    the database; the creation itself runs in one transaction.
    """
    spec = validate_setup_document(document)
    previous = None
    if spec.previous is not None:
        year, title = spec.previous
        found = list(Meeting.objects.filter(scheme__cycle__year=year, title=title, rehearsal_of__isnull=True)[:2])
        if len(found) != 1:
            raise SetupInvalid(
                [
                    {
                        "path": "meeting.previous",
                        "message": _("No single meeting of cycle %(year)s is titled “%(title)s”.")
                        % {"year": year, "title": title},
                    }
                ]
            )
        previous = found[0]
    return _meeting_create(spec=spec, actor=actor, ip=ip, previous=previous)


@transaction.atomic
def meeting_previous_set(
    *, meeting: Meeting, previous: Meeting | None, actor: AbstractBaseUser | None, ip: str | None
) -> Meeting:
    """Name the previous meeting (SCORING.md 12), or none. Refused when it is the meeting itself or would
    close a loop. Audited; the result becomes stale."""
    from appraisal.exceptions import InvalidInput

    if previous is not None:
        seen = {meeting.pk}
        walk: Meeting | None = previous
        while walk is not None:
            if walk.pk in seen:
                raise InvalidInput(
                    _("The previous meeting cannot be this meeting, nor lead back to it."),
                    errors=[{"path": "meeting", "message": _("This would make a loop of previous meetings.")}],
                )
            seen.add(walk.pk)
            walk = walk.previous
    Meeting.objects.filter(pk=meeting.pk).update(previous=previous)
    meeting.previous = previous
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.SETUP)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="meeting.previous_set",
        details={"previous": previous.pk if previous else None, "title": previous.title if previous else None},
    )
    return meeting


def raters_create(
    *,
    meeting: Meeting,
    specs: list[tuple[str, int, str, str | None]],
    roles: dict[str, RaterRole] | None = None,
    departments: dict[str, Department] | None = None,
) -> list[IssuedRater]:
    """Create seats (role code, count, name, own department code) after the meeting's last seat.

    Returns each seat with its new token: the only moment the token exists readable.
    """
    if roles is None:
        roles = {r.code: r for r in RaterRole.objects.filter(scheme_id=meeting.scheme_id)}
    if departments is None:
        departments = {d.code: d for d in Department.objects.filter(scheme_id=meeting.scheme_id)}
    seat_no = Rater.objects.filter(meeting=meeting).aggregate(m=models.Max("seat_no"))["m"] or 0
    seats: list[tuple[Rater, str]] = []
    for role_code, count, name, department_code in specs:
        for _n in range(count):
            seat_no += 1
            token = rater_token_generate()
            seats.append(
                (
                    Rater(
                        meeting=meeting,
                        role=roles[role_code],
                        seat_no=seat_no,
                        name=name,
                        department=departments[department_code] if department_code else None,
                        token_hash=rater_token_hash(token),
                    ),
                    token,
                )
            )
    created = Rater.objects.bulk_create([rater for rater, _t in seats], batch_size=1000)
    return [
        IssuedRater(
            rater_id=rater.pk,
            seat_no=rater.seat_no,
            role=rater.role.code,
            role_name=rater.role.name,
            name=rater.name,
            token=token,
        )
        for rater, (_r, token) in zip(created, seats, strict=True)
    ]


@transaction.atomic
def _meeting_create(
    *, spec: SetupDocument, actor: AbstractBaseUser | None, ip: str | None, previous: Meeting | None = None
) -> ImportResult:
    cycle, _created = Cycle.objects.get_or_create(year=spec.cycle_year, name=spec.cycle_name)
    scheme = Scheme.objects.create(cycle=cycle, name=spec.meeting["title"])

    categories = {
        cat.code: cat
        for cat in Category.objects.bulk_create(
            [Category(scheme=scheme, code=code, name=name, order=i) for i, (code, name) in enumerate(spec.categories)]
        )
    }
    departments = Department.objects.bulk_create(
        [
            Department(scheme=scheme, code=code, name=name, category=categories[cat])
            for code, name, cat in spec.departments
        ]
    )
    departments_by_code = {d.code: d for d in departments}

    roles = {}
    for i, role_spec in enumerate(spec.roles):
        role = RaterRole.objects.create(
            scheme=scheme,
            code=role_spec.code,
            name=role_spec.name,
            weight=role_spec.weight,
            trim=role_spec.trim,
            order=i,
        )
        roles[role.code] = role
        for j, crit in enumerate(role_spec.criteria):
            criterion = Criterion.objects.create(
                role=role,
                code=crit.code,
                name=crit.name,
                kind=crit.kind,
                max_value=crit.max_value,
                step=crit.step,
                order=j,
            )
            Grade.objects.bulk_create(
                [
                    Grade(criterion=criterion, code=g.code, label=g.label, points=g.points, order=k)
                    for k, g in enumerate(crit.grades)
                ]
            )

    meeting = Meeting.objects.create(scheme=scheme, previous=previous, **spec.meeting)
    Component.objects.bulk_create(
        [
            Component(meeting=meeting, code=code, name=name, weight=weight, order=i)
            for i, (code, name, weight) in enumerate(spec.components)
        ]
    )
    presentations = Presentation.objects.bulk_create(
        [Presentation(meeting=meeting, department=dept, order=i + 1) for i, dept in enumerate(departments)]
    )

    issued = raters_create(
        meeting=meeting,
        specs=[(r.role, r.count, r.name, r.department) for r in spec.raters],
        roles=roles,
        departments=departments_by_code,
    )
    if actor is not None and actor.is_authenticated and not actor.is_superuser:
        # Whoever imports a meeting may run it; further organizers are granted in the admin.
        assign_perm("meetings.organize_meeting", actor, meeting)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="meeting.imported",
        details={
            "title": meeting.title,
            "departments": len(departments),
            "roles": len(roles),
            "seats": len(issued),
            "components": len(spec.components),
        },
    )
    return ImportResult(
        meeting=meeting,
        raters=issued,
        presentations=[(p.pk, p.department.code) for p in presentations],
    )


COUNTDOWN_MAX_SECONDS = 3600


@transaction.atomic
def countdown_set(*, meeting: Meeting, seconds: int | None, actor: AbstractBaseUser | None, ip: str | None) -> Meeting:
    """Start (or clear, with None) the countdown the projector shows for the current report."""
    if seconds is not None and not 0 < seconds <= COUNTDOWN_MAX_SECONDS:
        from django.utils.translation import gettext as _

        from appraisal.exceptions import InvalidInput

        raise InvalidInput(
            _("The countdown must be between 1 second and one hour."),
            errors=[{"path": "seconds", "message": _("The countdown must be between 1 second and one hour.")}],
        )
    meeting.countdown_ends_at = timezone.now() + datetime.timedelta(seconds=seconds) if seconds else None
    meeting.save(update_fields=["countdown_ends_at"])
    audit_record(meeting=meeting, actor=actor, ip=ip, action="countdown.set", details={"seconds": seconds})
    return meeting
