"""Writes and rules of the meetings app."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme

from .models import AuditEntry, Component, Meeting, MeetingChange, PanelImport, Presentation, Rater
from .setup_document import SetupDocument, SetupInvalid, validate_setup_document

GENESIS_HASH = "0" * 64
RATER_PATH_PREFIX = "/r/"


# --- rater tokens --------------------------------------------------------------------------


def rater_token_generate() -> str:
    """A 130-bit random token, lower-case base32 so it can be typed from a card."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=").lower()[:26]


def rater_token_hash(token: str) -> str:
    # The token has 128+ bits of entropy, so a plain SHA-256 is not brute-forceable;
    # a slow password hash would only slow down every rater request.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def rater_path(token: str) -> str:
    """The path of a rater's phone page; the link on the card and in the QR code."""
    return f"{RATER_PATH_PREFIX}{token}/"


@transaction.atomic
def rater_token_reissue(*, rater: Rater, actor: AbstractBaseUser | None, ip: str | None) -> str:
    """Give the seat a new token; the old one stops working at once. Returns the new token."""
    token = rater_token_generate()
    rater.token_hash = rater_token_hash(token)
    rater.token_issued_at = timezone.now()
    rater.revoked_at = None
    rater.save(update_fields=["token_hash", "token_issued_at", "revoked_at"])
    audit_record(
        meeting=rater.meeting, actor=actor, ip=ip, action="rater.token_reissued", details={"seat": rater.seat_no}
    )
    return token


@transaction.atomic
def rater_revoke(*, rater: Rater, actor: AbstractBaseUser | None, ip: str | None) -> None:
    if rater.revoked_at is not None:
        return
    rater.revoked_at = timezone.now()
    rater.save(update_fields=["revoked_at"])
    audit_record(meeting=rater.meeting, actor=actor, ip=ip, action="rater.revoked", details={"seat": rater.seat_no})


# --- change counters -------------------------------------------------------------------------

# A hall's burst of ballots spreads over this many rows, so that concurrent ballots do not queue on one lock.
BALLOT_CHANGE_SHARDS = 8

_CHANGE_SQL = """
INSERT INTO meetings_meetingchange (meeting_id, kind, shard, count) VALUES (%s, %s, %s, 1)
ON CONFLICT (meeting_id, kind, shard) DO UPDATE SET count = meetings_meetingchange.count + 1
"""


def ballots_changed(*, meeting_id: int, kind: str) -> None:
    """Count a change to the ballot table. On PostgreSQL a trigger on the table already counted it,
    whatever path wrote it (voting migration 0004); elsewhere (SQLite, the demo) it is counted here."""
    if connection.vendor != "postgresql":
        meeting_changed(meeting_id=meeting_id, kind=kind)


def meeting_changed(*, meeting_id: int, kind: str) -> None:
    """Bump the meeting's change counter of one kind, inside the caller's transaction.

    Called by every service that changes what a result is computed from; publishing compares
    the counters with those a snapshot read (MeetingChange).
    """
    if kind not in MeetingChange.Kind.values:
        raise ValueError(f"unknown change kind {kind!r}")
    # A random shard, never one derived from the seat: the counter must not tell whose ballot it was.
    shard = secrets.randbelow(BALLOT_CHANGE_SHARDS) if kind == MeetingChange.Kind.BALLOTS else 0
    with connection.cursor() as cursor:
        cursor.execute(_CHANGE_SQL, [meeting_id, kind, shard])


@transaction.atomic
def setup_changed(*, meetings, actor: AbstractBaseUser | None, ip: str | None, action: str, details: dict) -> None:
    """A change to the setup of these meetings (rules, weights, forms, agenda) made outside the import,
    in the admin: checked by the import's own rules, counted (stale snapshots), audited.

    Raises InvalidInput listing every broken rule; the caller's transaction then rolls the change back.
    """
    from django.utils.translation import gettext as _

    from appraisal.exceptions import InvalidInput

    from .selectors import setup_problems

    meetings = sorted({m.pk: m for m in meetings}.values(), key=lambda m: m.pk)
    for meeting in meetings:
        problems = setup_problems(Meeting.objects.select_related("scheme__cycle").get(pk=meeting.pk))
        if problems:
            raise InvalidInput(
                _("The change breaks the setup rules of %(title)s and was not saved.") % {"title": meeting.title},
                errors=problems,
            )
    for meeting in meetings:
        meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.SETUP)
        audit_record(meeting=meeting, actor=actor, ip=ip, action=action, details=details)


# --- audit log -----------------------------------------------------------------------------


def audit_entry_hash(
    *,
    meeting_id: int | None,
    seq: int,
    created_at,
    actor_id: int | None,
    actor_label: str,
    ip_address: str | None,
    action: str,
    details: dict,
    prev_hash: str,
) -> str:
    payload = {
        "meeting": meeting_id,
        "seq": seq,
        "created_at": created_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor_label,
        "ip": ip_address,
        "action": action,
        "details": details,
        "prev": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _json_safe(value):
    """Details are stored as JSON and hashed: keep them to str/int/bool/None/list/dict."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


@transaction.atomic
def audit_record(
    *,
    meeting: Meeting | None,
    actor: AbstractBaseUser | AnonymousUser | None,
    ip: str | None,
    action: str,
    details: dict | None = None,
) -> AuditEntry:
    """Append one entry to the meeting's hash chain."""
    meeting_id = meeting.pk if meeting is not None else None
    # Serialise appends per chain: the lock holds until the transaction ends.
    if meeting_id is not None:
        Meeting.objects.select_for_update().filter(pk=meeting_id).values_list("pk", flat=True).get()
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [0x4B50_4155])
    last = AuditEntry.objects.filter(meeting_id=meeting_id).order_by("-seq").values("seq", "entry_hash").first()
    seq = (last["seq"] + 1) if last else 1
    prev_hash = last["entry_hash"] if last else GENESIS_HASH
    user = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    actor_label = user.get_username() if user else ""
    details = _json_safe(details or {})
    created_at = timezone.now()
    entry = AuditEntry(
        meeting_id=meeting_id,
        seq=seq,
        created_at=created_at,
        actor=user,
        actor_label=actor_label,
        ip_address=ip,
        action=action,
        details=details,
        prev_hash=prev_hash,
    )
    entry.entry_hash = audit_entry_hash(
        meeting_id=meeting_id,
        seq=seq,
        created_at=created_at,
        actor_id=user.pk if user else None,
        actor_label=actor_label,
        ip_address=ip,
        action=action,
        details=details,
        prev_hash=prev_hash,
    )
    entry.save()
    return entry


# --- setup document import -----------------------------------------------------------------


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


# --- rater panels: sheets, cards, copies -----------------------------------------------------


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
    from .panel_sheets import department_rows, panel_rows, read_rows
    from .setup_document import MAX_SEATS_TOTAL

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
    from django.utils.translation import gettext as _

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
    from django.utils.translation import gettext as _

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
