"""What the organizers add beside the ballots: component scores, adjustments, a veto."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.exceptions import Conflict, InvalidInput, NotFound
from appraisal.models import Department
from appraisal.numbers import FOUR_PLACES
from appraisal.text import reason_clean
from meetings.models import Component, Meeting, MeetingChange
from meetings.services import audit_record, meeting_changed

from ..models import Adjustment, ComponentScore, Veto


def _department(meeting: Meeting, code: str) -> Department:
    if "\x00" in code:  # no code has one, and PostgreSQL would refuse to look it up
        raise NotFound(_('No department "%(code)s" in this meeting.') % {"code": code.replace("\x00", "")})
    try:
        return Department.objects.get(scheme_id=meeting.scheme_id, code=code, presentations__meeting=meeting)
    except Department.DoesNotExist as exc:
        raise NotFound(_('No department "%(code)s" in this meeting.') % {"code": code}) from exc


@transaction.atomic
def component_scores_import(
    *, meeting: Meeting, code: str, scores: Mapping[str, Decimal], actor: AbstractBaseUser | None, ip: str | None
) -> int:
    """Set a component's scores per department code (all or nothing); returns how many were set."""
    try:
        component = Component.objects.get(meeting=meeting, code=code)
    except Component.DoesNotExist as exc:
        raise NotFound(_('No component "%(code)s" in this meeting.') % {"code": code}) from exc
    departments = dict(Department.objects.filter(presentations__meeting=meeting).values_list("code", "pk"))
    errors = []
    for department_code, value in scores.items():
        path = f"scores.{department_code}"
        if department_code not in departments:
            errors.append({"path": path, "message": _('Unknown department "%(code)s".') % {"code": department_code}})
        elif not (Decimal(0) <= value <= meeting.full_mark):
            errors.append(
                {
                    "path": path,
                    "message": _("Must be between 0 and the full mark %(full)s.") % {"full": meeting.full_mark},
                }
            )
    if errors:
        raise InvalidInput(_("The component scores have problems."), errors=errors)
    for department_code, value in scores.items():
        ComponentScore.objects.update_or_create(
            component=component, department_id=departments[department_code], defaults={"value": value}
        )
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.COMPONENTS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="component.imported",
        details={"component": code, "scores": {k: str(v) for k, v in sorted(scores.items())}},
    )
    return len(scores)


def component_sheet_preview(*, meeting: Meeting, fileobj, filename: str, actor: AbstractBaseUser | None):
    """Check a sheet of component scores (a department column, a column per component code or name);
    store the checked rows for confirmation. Raises SheetInvalid listing every problem; creates nothing."""
    from meetings.models import PanelImport
    from meetings.panel_sheets import component_rows, read_rows

    header, rows = read_rows(fileobj, filename)
    components = {}
    for code, name in Component.objects.filter(meeting=meeting).values_list("code", "name"):
        components[code] = components[name] = code
    departments = {}
    for code, name in Department.objects.filter(presentations__meeting=meeting).values_list("code", "name"):
        departments[code] = departments[name] = code
    checked = component_rows(header, rows, components=components, departments=departments, full_mark=meeting.full_mark)
    user = actor if actor is not None and actor.is_authenticated else None
    return PanelImport.objects.create(
        meeting=meeting, kind=PanelImport.Kind.COMPONENTS, filename=filename[:255], rows=checked, created_by=user
    )


@transaction.atomic
def component_sheet_commit(*, meeting: Meeting, import_id, actor: AbstractBaseUser | None, ip: str | None) -> int:
    """Set every score the previewed sheet lists, all or nothing (each component audited as an import).
    Returns how many scores were set."""
    from meetings.models import PanelImport

    sheet = (
        PanelImport.objects.select_for_update()
        .filter(pk=import_id, meeting=meeting, kind=PanelImport.Kind.COMPONENTS)
        .first()
    )
    if sheet is None:
        raise NotFound(_("No such component sheet for this meeting."))
    if sheet.committed_at is not None:
        raise Conflict(_("This sheet has already been imported."), code="already_imported")
    by_component: dict[str, dict[str, Decimal]] = {}
    for row in sheet.rows:
        for code, value in row["scores"].items():
            by_component.setdefault(code, {})[row["department"]] = Decimal(value)
    count = 0
    for code, scores in sorted(by_component.items()):
        count += component_scores_import(meeting=meeting, code=code, scores=scores, actor=actor, ip=ip)
    sheet.committed_at = timezone.now()
    sheet.save(update_fields=["committed_at"])
    return count


# An adjustment is a few points either way, on the 0.0001 grid of every stored score.
ADJUSTMENT_LIMIT = Decimal(1000)


@transaction.atomic
def adjustment_add(
    *, meeting: Meeting, department_code: str, points: Decimal, reason: str, actor: AbstractBaseUser, ip: str | None
) -> Adjustment:
    if not points.is_finite() or points == 0 or abs(points) > ADJUSTMENT_LIMIT or points % FOUR_PLACES != 0:
        raise InvalidInput(
            _("Points must be a non-zero number such as -2 or 1.5."),
            errors=[{"path": "points", "message": _("Points must be a non-zero number such as -2 or 1.5.")}],
        )
    reason = reason_clean(reason)
    department = _department(meeting, department_code)
    adjustment = Adjustment.objects.create(
        meeting=meeting, department=department, points=points, reason=reason, created_by=actor
    )
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.ADJUSTMENTS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="adjustment.added",
        details={"adjustment": adjustment.pk, "department": department_code, "points": str(points), "reason": reason},
    )
    return adjustment


@transaction.atomic
def adjustment_withdraw(*, adjustment: Adjustment, actor: AbstractBaseUser, ip: str | None) -> None:
    if adjustment.withdrawn_at is not None:
        return
    adjustment.withdrawn_at = timezone.now()
    adjustment.save(update_fields=["withdrawn_at"])
    meeting_changed(meeting_id=adjustment.meeting_id, kind=MeetingChange.Kind.ADJUSTMENTS)
    audit_record(
        meeting=adjustment.meeting,
        actor=actor,
        ip=ip,
        action="adjustment.withdrawn",
        details={"adjustment": adjustment.pk, "department": adjustment.department.code},
    )


@transaction.atomic
def veto_set(*, meeting: Meeting, department_code: str, reason: str, actor: AbstractBaseUser, ip: str | None) -> Veto:
    reason = reason_clean(reason)
    department = _department(meeting, department_code)
    if Veto.objects.filter(meeting=meeting, department=department, withdrawn_at__isnull=True).exists():
        raise Conflict(_("This department already has a veto."))
    veto = Veto.objects.create(meeting=meeting, department=department, reason=reason, created_by=actor)
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VETOES)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="veto.set",
        details={"department": department_code, "reason": reason},
    )
    return veto


@transaction.atomic
def veto_withdraw(*, meeting: Meeting, department_code: str, actor: AbstractBaseUser, ip: str | None) -> None:
    department = _department(meeting, department_code)
    updated = Veto.objects.filter(meeting=meeting, department=department, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if not updated:
        raise NotFound(_("This department has no veto."))
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VETOES)
    audit_record(meeting=meeting, actor=actor, ip=ip, action="veto.withdrawn", details={"department": department_code})
