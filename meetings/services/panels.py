"""Rater panels from sheets, reissued cards, a meeting copied for next year or for a rehearsal."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme

from ..models import Component, Meeting, PanelImport, Presentation, Rater
from .audit import audit_record
from .setup import ImportResult, IssuedRater, raters_create
from .tokens import rater_token_generate, rater_token_hash


def panel_kind_checked(kind: str) -> str:
    """A departments or rater-panel sheet (InvalidInput otherwise)."""
    if kind not in (PanelImport.Kind.RATERS, PanelImport.Kind.DEPARTMENTS):
        from django.utils.translation import gettext as _

        from appraisal.exceptions import InvalidInput

        raise InvalidInput(
            _("Choose what the sheet holds."), errors=[{"path": "kind", "message": _("Unknown kind of sheet.")}]
        )
    return kind


def panel_import_preview(
    *, meeting: Meeting, kind: str, fileobj=None, filename: str, actor: AbstractBaseUser | None, sheet=None
) -> PanelImport:
    """Check a departments or rater-panel sheet; store the checked rows for confirmation.

    ``sheet`` is what a worker already read (header, rows), else ``fileobj`` is read now.
    Raises SheetInvalid listing every problem by row and column; creates nothing then.
    """
    from ..panel_sheets import department_rows, panel_rows, read_rows
    from ..setup_document import MAX_SEATS_TOTAL

    panel_kind_checked(kind)
    header, rows = sheet if sheet is not None else read_rows(fileobj, filename, meeting=meeting, actor=actor)
    scheme_id = meeting.scheme_id
    if kind == PanelImport.Kind.RATERS:
        roles = {}
        for code, name in RaterRole.objects.filter(scheme_id=scheme_id).values_list("code", "name"):
            roles[code] = roles[name] = code
        departments = {}
        for code, name in Department.objects.filter(presentations__meeting=meeting).values_list("code", "name"):
            departments[code] = departments[name] = code
        existing = set(Rater.objects.filter(meeting=meeting).exclude(name="").values_list("role__code", "name"))
        seats = Rater.objects.filter(meeting=meeting).count()
        checked = panel_rows(
            header,
            rows,
            roles=roles,
            departments=departments,
            existing_names=existing,
            max_seats=MAX_SEATS_TOTAL - seats,
        )
        data = [
            {"row": r.row, "role": r.role, "count": r.count, "name": r.name, "department": r.department}
            for r in checked
        ]
    elif kind == PanelImport.Kind.DEPARTMENTS:
        categories = {}
        for code, name in Category.objects.filter(scheme_id=scheme_id).values_list("code", "name"):
            categories[code] = categories[name] = code
        existing = set(Department.objects.filter(scheme_id=scheme_id).values_list("code", flat=True))
        checked = department_rows(header, rows, categories=categories, existing_codes=existing)
        data = [{"row": r.row, "code": r.code, "name": r.name, "category": r.category} for r in checked]
    user = actor if actor is not None and actor.is_authenticated else None
    return PanelImport.objects.create(meeting=meeting, kind=kind, filename=filename[:255], rows=data, created_by=user)


@transaction.atomic
def panel_import_commit(
    *, panel_import: PanelImport, actor: AbstractBaseUser | None, ip: str | None
) -> list[IssuedRater]:
    """Create what a checked sheet lists, all or nothing. Returns the new seats with their tokens."""
    from appraisal.exceptions import Conflict

    panel_import = PanelImport.objects.select_for_update().select_related("meeting").get(pk=panel_import.pk)
    if panel_import.committed_at is not None:
        raise Conflict("This sheet has already been imported.", code="already_imported")
    if panel_import.kind == PanelImport.Kind.COMPONENTS:
        raise Conflict("Component scores are committed by reports.services.component_sheet_commit.", code="wrong_kind")
    meeting = panel_import.meeting
    issued: list[IssuedRater] = []
    if panel_import.kind == PanelImport.Kind.RATERS:
        issued = raters_create(
            meeting=meeting, specs=[(r["role"], r["count"], r["name"], r["department"]) for r in panel_import.rows]
        )
        details = {"seats": len(issued), "file": panel_import.filename}
    else:
        categories = {c.code: c for c in Category.objects.filter(scheme_id=meeting.scheme_id)}
        order = Presentation.objects.filter(meeting=meeting).aggregate(m=models.Max("order"))["m"] or 0
        departments = Department.objects.bulk_create(
            [
                Department(
                    scheme_id=meeting.scheme_id, code=r["code"], name=r["name"], category=categories[r["category"]]
                )
                for r in panel_import.rows
            ]
        )
        Presentation.objects.bulk_create(
            [Presentation(meeting=meeting, department=d, order=order + i) for i, d in enumerate(departments, start=1)]
        )
        details = {"departments": len(departments), "file": panel_import.filename}
    panel_import.committed_at = timezone.now()
    panel_import.save(update_fields=["committed_at"])
    audit_record(meeting=meeting, actor=actor, ip=ip, action=f"panel.imported.{panel_import.kind}", details=details)
    return issued


@transaction.atomic
def raters_reissue(*, meeting: Meeting, raters, actor: AbstractBaseUser | None, ip: str | None) -> list[IssuedRater]:
    """New tokens (and cards) for these seats; their old tokens stop working at once."""
    issued = []
    now = timezone.now()
    for rater in raters:
        token = rater_token_generate()
        rater.token_hash = rater_token_hash(token)
        rater.token_issued_at = now
        rater.revoked_at = None
        issued.append(
            IssuedRater(
                rater_id=rater.pk,
                seat_no=rater.seat_no,
                role=rater.role.code,
                role_name=rater.role.name,
                name=rater.name,
                token=token,
            )
        )
    Rater.objects.bulk_update(list(raters), ["token_hash", "token_issued_at", "revoked_at"])
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="rater.tokens_reissued",
        details={"seats": [i.seat_no for i in issued]},
    )
    return issued


def _copy_rules(source: Meeting) -> dict:
    fields = [
        "mode", "full_mark", "rank_within_category", "tie_break_roles", "reward_top", "reward_top_percent",
        "reward_min_score", "admonition_bottom", "admonition_bottom_percent", "admonition_below",
        "excellent_quota_criterion", "excellent_quota_grade", "excellent_quota_max_percent", "meeting_weight",
        "invalid_uniform", "invalid_uniform_min", "final", "streak_rule", "four_eyes",
    ]  # fmt: skip
    return {f: getattr(source, f) for f in fields}


def _copy_panel(*, source: Meeting, target: Meeting) -> list[IssuedRater]:
    specs = [
        (rater.role.code, 1, rater.name, rater.department.code if rater.department else None)
        for rater in Rater.objects.filter(meeting=source, revoked_at__isnull=True)
        .select_related("role", "department")
        .order_by("seat_no")
    ]
    return raters_create(meeting=target, specs=specs)


def _copy_components_and_agenda(*, source: Meeting, target: Meeting, departments: dict[str, Department]) -> None:
    Component.objects.bulk_create(
        [
            Component(meeting=target, code=c.code, name=c.name, weight=c.weight, order=c.order)
            for c in source.components.all()
        ]
    )
    Presentation.objects.bulk_create(
        [
            Presentation(meeting=target, department=departments[p.department.code], order=p.order)
            for p in source.presentations.select_related("department").order_by("order")
        ]
    )


@transaction.atomic
def meeting_copy(
    *,
    source: Meeting,
    cycle_year: int,
    cycle_name: str,
    title: str,
    date,
    actor: AbstractBaseUser | None,
    ip: str | None,
) -> ImportResult:
    """Next year's meeting from last year's: a copy of the scheme (categories, departments, forms),
    the rules, the agenda and the panel, with new tokens for every seat."""

    from appraisal.exceptions import InvalidInput
    from appraisal.text import text_problem

    title_length = min(Scheme._meta.get_field("name").max_length, Meeting._meta.get_field("title").max_length)
    fields = (("cycle", cycle_name, Cycle._meta.get_field("name").max_length), ("title", title, title_length))
    errors = [
        {"path": path, "message": problem}
        for path, value, n in fields
        if (problem := text_problem(value, max_length=n))
    ]
    if not 1900 <= cycle_year <= 2200:
        errors.append({"path": "year", "message": _("A year between 1900 and 2200.")})
    if errors:
        raise InvalidInput(_("The new cycle's details are not valid."), errors=errors)
    cycle, _created = Cycle.objects.get_or_create(year=cycle_year, name=cycle_name)
    old = source.scheme
    scheme = Scheme.objects.create(cycle=cycle, name=title, copied_from=old)
    categories = {
        c.code: c
        for c in Category.objects.bulk_create(
            [Category(scheme=scheme, code=c.code, name=c.name, order=c.order) for c in old.categories.all()]
        )
    }
    departments = {
        d.code: d
        for d in Department.objects.bulk_create(
            [
                Department(scheme=scheme, code=d.code, name=d.name, category=categories[d.category.code])
                for d in old.departments.select_related("category")
            ]
        )
    }
    for role in old.roles.prefetch_related("criteria__grades"):
        new_role = RaterRole.objects.create(
            scheme=scheme, code=role.code, name=role.name, weight=role.weight, trim=role.trim, order=role.order
        )
        for criterion in role.criteria.all():
            new_criterion = Criterion.objects.create(
                role=new_role, code=criterion.code, name=criterion.name, kind=criterion.kind,
                max_value=criterion.max_value, step=criterion.step, order=criterion.order,
            )  # fmt: skip
            Grade.objects.bulk_create(
                [
                    Grade(criterion=new_criterion, code=g.code, label=g.label, points=g.points, order=g.order)
                    for g in criterion.grades.all()
                ]
            )
    meeting = Meeting.objects.create(scheme=scheme, title=title, date=date, **_copy_rules(source))
    _copy_components_and_agenda(source=source, target=meeting, departments=departments)
    issued = _copy_panel(source=source, target=meeting)
    audit_record(
        meeting=meeting, actor=actor, ip=ip, action="meeting.copied", details={"from": source.pk, "seats": len(issued)}
    )
    return ImportResult(
        meeting=meeting,
        raters=issued,
        presentations=list(meeting.presentations.order_by("order").values_list("pk", "department__code")),
    )


@transaction.atomic
def meeting_rehearsal_create(
    *, source: Meeting, actor: AbstractBaseUser | None, ip: str | None, audit_source: bool = True
) -> ImportResult:
    """A rehearsal (演练) of a meeting: same scheme, rules, agenda and panel, marked, never published."""

    meeting = Meeting.objects.create(
        scheme=source.scheme, title=_("[Rehearsal] %(title)s") % {"title": source.title}, date=source.date,
        rehearsal_of=source, **_copy_rules(source),
    )  # fmt: skip
    departments = {d.code: d for d in source.scheme.departments.all()}
    _copy_components_and_agenda(source=source, target=meeting, departments=departments)
    issued = _copy_panel(source=source, target=meeting)
    for user_id in _organizers_of(source):
        assign_perm("meetings.organize_meeting", get_user_model().objects.get(pk=user_id), meeting)
    audit_record(meeting=meeting, actor=actor, ip=ip, action="rehearsal.created", details={"of": source.pk})
    if audit_source:  # a long-running caller records it afterwards, so as not to hold the source's audit lock
        audit_record(meeting=source, actor=actor, ip=ip, action="rehearsal.created", details={"rehearsal": meeting.pk})
    return ImportResult(
        meeting=meeting,
        raters=issued,
        presentations=list(meeting.presentations.order_by("order").values_list("pk", "department__code")),
    )


def _organizers_of(meeting: Meeting) -> list[int]:
    from guardian.shortcuts import get_users_with_perms

    return [
        user.pk
        for user, perms in get_users_with_perms(meeting, attach_perms=True, with_superusers=False).items()
        if "organize_meeting" in perms
    ]
