"""Writes and rules of the meetings app."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme

from .models import AuditEntry, Component, Meeting, Presentation, Rater
from .setup_document import SetupDocument, validate_setup_document

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
    return _meeting_create(spec=spec, actor=actor, ip=ip)


@transaction.atomic
def _meeting_create(*, spec: SetupDocument, actor: AbstractBaseUser | None, ip: str | None) -> ImportResult:
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

    meeting = Meeting.objects.create(scheme=scheme, **spec.meeting)
    Component.objects.bulk_create(
        [
            Component(meeting=meeting, code=code, name=name, weight=weight, order=i)
            for i, (code, name, weight) in enumerate(spec.components)
        ]
    )
    presentations = Presentation.objects.bulk_create(
        [Presentation(meeting=meeting, department=dept, order=i + 1) for i, dept in enumerate(departments)]
    )

    seats: list[tuple[Rater, str]] = []
    seat_no = 0
    for rater_spec in spec.raters:
        for _n in range(rater_spec.count):
            seat_no += 1
            token = rater_token_generate()
            seats.append(
                (
                    Rater(
                        meeting=meeting,
                        role=roles[rater_spec.role],
                        seat_no=seat_no,
                        name=rater_spec.name,
                        department=departments_by_code[rater_spec.department] if rater_spec.department else None,
                        token_hash=rater_token_hash(token),
                    ),
                    token,
                )
            )
    created = Rater.objects.bulk_create([rater for rater, _t in seats], batch_size=1000)
    issued = [
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
            "seats": len(created),
            "components": len(spec.components),
        },
    )
    return ImportResult(
        meeting=meeting,
        raters=issued,
        presentations=[(p.pk, p.department.code) for p in presentations],
    )


@transaction.atomic
def countdown_set(*, meeting: Meeting, seconds: int | None, actor: AbstractBaseUser | None, ip: str | None) -> Meeting:
    """Start (or clear, with None) the countdown the projector shows for the current report."""
    meeting.countdown_ends_at = timezone.now() + datetime.timedelta(seconds=seconds) if seconds else None
    meeting.save(update_fields=["countdown_ends_at"])
    audit_record(meeting=meeting, actor=actor, ip=ip, action="countdown.set", details={"seconds": seconds})
    return meeting
