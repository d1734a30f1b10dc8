"""Public notice, appeals and final publication (公示、申诉、定稿): the writes, each audited.

A result is published for notice until a date; during the notice a department's contact appeals with a
reason, the organizers decide each appeal with a reason; final publication is refused while an appeal is
open or before the notice ends, unless the organizer gives a reason to end it early.
"""

from __future__ import annotations

import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.exceptions import Conflict, InvalidInput, NotFound, PermissionRefused
from meetings.models import Meeting
from meetings.services import audit_record

from . import attachments, notify
from .models import Appeal, DepartmentContact, ResultSnapshot

REASON_MAX = 2000
NOTICE_MAX_DAYS = 60


def _reason(value: str | None, path: str = "reason") -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(_("Give a reason."), errors=[{"path": path, "message": _("This field is required.")}])
    if len(text) > REASON_MAX:
        raise InvalidInput(
            _("The reason is too long."),
            errors=[{"path": path, "message": _("At most %(n)d characters.") % {"n": REASON_MAX}}],
        )
    return text


def notice_of(meeting: Meeting) -> ResultSnapshot | None:
    """The published snapshot while it is under public notice (公示中), else None."""
    snapshot = ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).first()
    if snapshot is None or snapshot.stage != ResultSnapshot.Stage.PUBLICITY:
        return None
    return snapshot


def appeals_taken(snapshot: ResultSnapshot | None) -> bool:
    """Whether appeals are taken against this published snapshot now: under notice, before its end. The
    service and the contact's page (whether to show the form) ask the same question."""
    return (
        snapshot is not None
        and snapshot.published_at is not None
        and snapshot.stage == ResultSnapshot.Stage.PUBLICITY
        and snapshot.publicity_until is not None
        and timezone.now() < snapshot.publicity_until
    )


@transaction.atomic
def publish(
    *,
    meeting: Meeting,
    stage: str,
    until: datetime.datetime | None,
    early_reason: str | None,
    actor: AbstractBaseUser,
    ip: str | None,
) -> ResultSnapshot:
    """Publish the latest snapshot for notice until a moment, or make the published result final.

    Final is refused (409) while an appeal is open, or while the notice runs unless ``early_reason`` says
    why it ends early. A meeting without a notice is final at once, as before."""
    from .services import seal_enqueue, snapshot_publish

    if stage == ResultSnapshot.Stage.PUBLICITY:
        now = timezone.now()
        if until is None or until <= now or until > now + datetime.timedelta(days=NOTICE_MAX_DAYS):
            raise InvalidInput(
                _("The notice must end in the future, within %(n)d days.") % {"n": NOTICE_MAX_DAYS},
                errors=[{"path": "until", "message": _("A moment in the future is required.")}],
            )
        published = ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).first()
        if published is not None and published.stage != ResultSnapshot.Stage.PUBLICITY:
            raise Conflict(_("The result is final already: unpublish it first."), code="final")
        snapshot = snapshot_publish(meeting=meeting, actor=actor, ip=ip, seal=False)
        snapshot.stage, snapshot.publicity_until = ResultSnapshot.Stage.PUBLICITY, until
        snapshot.save(update_fields=["stage", "publicity_until"])
        audit_record(
            meeting=meeting,
            actor=actor,
            ip=ip,
            action="result.notice",
            details={"snapshot": snapshot.pk, "until": until.isoformat()},
        )
        notify.on_commit_notice_started(snapshot)
        return snapshot
    notice = notice_of(meeting)
    open_appeals = Appeal.objects.filter(meeting=meeting, state=Appeal.State.OPEN).count()
    if open_appeals:
        raise Conflict(
            _("%(n)d appeal(s) are still open: decide them before the final publication.") % {"n": open_appeals},
            code="appeals_open",
        )
    if notice is not None:
        latest = ResultSnapshot.objects.filter(meeting=meeting).order_by("-computed_at", "-id").first()
        if latest is not None and latest.pk != notice.pk and latest.digest != notice.digest:
            # An upheld appeal changed the result: what becomes final must have been under notice itself.
            raise Conflict(
                _("The result has changed since it was put under notice: publish the new result for notice first."),
                code="changed_since_notice",
            )
    early = None
    if notice is not None and notice.publicity_until and timezone.now() < notice.publicity_until:
        if not (early_reason or "").strip():
            raise Conflict(
                _("The public notice runs until %(until)s: give a reason to end it early.")
                % {"until": timezone.localtime(notice.publicity_until).strftime("%Y-%m-%d %H:%M")},
                code="notice_running",
                errors=[{"path": "early_reason", "message": _("This field is required.")}],
            )
        early = _reason(early_reason, "early_reason")
    if meeting.four_eyes:
        pending = notice or ResultSnapshot.objects.filter(meeting=meeting).order_by("-computed_at", "-id").first()
        if pending is not None and pending.final_requested_by_id is None:
            # The first organizer asks; the result stays as it is until another one confirms.
            pending.final_requested_by = actor
            pending.save(update_fields=["final_requested_by"])
            audit_record(
                meeting=meeting,
                actor=actor,
                ip=ip,
                action="result.final_requested",
                details={"snapshot": pending.pk, "early_reason": early},
            )
            return pending
        if pending is not None and pending.final_requested_by_id == actor.pk:
            raise PermissionRefused(
                _("Four eyes: another organizer must confirm the final publication you asked for."),
                code="four_eyes",
            )
    snapshot = snapshot_publish(meeting=meeting, actor=actor, ip=ip, seal=True)
    if meeting.four_eyes and snapshot.final_confirmed_by_id is None:
        snapshot.final_confirmed_by = actor
        snapshot.save(update_fields=["final_confirmed_by"])
    if notice is not None and notice.pk == snapshot.pk:
        # Under notice until now: published already, so snapshot_publish neither marked nor sealed it.
        snapshot.stage, snapshot.early_reason = ResultSnapshot.Stage.FINAL, early or ""
        snapshot.save(update_fields=["stage", "early_reason"])
        transaction.on_commit(lambda: seal_enqueue(meeting_id=meeting.pk))
    if notice is not None:
        audit_record(
            meeting=meeting,
            actor=actor,
            ip=ip,
            action="result.final",
            details={
                "snapshot": snapshot.pk,
                "early_reason": early,
                "asked_by": snapshot.final_requested_by.get_username() if snapshot.final_requested_by else None,
            },
        )
    return snapshot


@transaction.atomic
def appeal_submit(
    *,
    meeting: Meeting,
    department_code: str,
    reason: str,
    actor: AbstractBaseUser,
    ip: str | None,
    attachment: UploadedFile | None = None,
) -> Appeal:
    """A department's contact appeals against the result under notice, for its own department only, with an
    optional attachment (PDF, JPEG or PNG up to 10 MB, its type read from its content)."""
    contact = (
        DepartmentContact.objects.select_related("department").filter(user=actor, meeting=meeting).first()
        if actor.is_authenticated
        else None
    )
    if contact is None or contact.department.code != department_code:
        raise PermissionRefused(_("You may appeal only for your own department."), code="not_your_department")
    text = _reason(reason)
    notice = notice_of(meeting)
    if not appeals_taken(notice):
        raise Conflict(_("Appeals are taken only while the result is under public notice."), code="not_under_notice")
    stored: dict = {}
    if attachment is not None:
        stored = attachments.store(attachment, meeting_id=meeting.pk, kind=attachments.checked(attachment))
    try:  # should the appeal not be saved after all, its file goes too
        appeal = Appeal.objects.create(
            meeting=meeting, snapshot=notice, department=contact.department, reason=text, created_by=actor, **stored
        )
        audit_record(
            meeting=meeting,
            actor=actor,
            ip=ip,
            action="appeal.submitted",
            details={
                "appeal": appeal.pk,
                "department": department_code,
                "attachment": stored.get("attachment_sha256") or None,
            },
        )
    except Exception:
        if stored:
            attachments.discard(stored["attachment_path"])
        raise
    return appeal


@transaction.atomic
def appeal_decide(
    *, meeting: Meeting, appeal_id: int, decision: str, reason: str, actor: AbstractBaseUser, ip: str | None
) -> Appeal:
    """The organizers decide an appeal, upheld or rejected, with a reason; once. An upheld appeal is followed
    by the action it calls for (a void, an adjustment, a component correction), a new snapshot and a new
    notice, each through its own service."""
    if decision not in (Appeal.State.UPHELD, Appeal.State.REJECTED):
        raise InvalidInput(
            _("Decide upheld or rejected."), errors=[{"path": "decision", "message": _('"upheld" or "rejected".')}]
        )
    text = _reason(reason)
    appeal = Appeal.objects.select_for_update().filter(meeting=meeting, pk=appeal_id).first()
    if appeal is None:
        raise NotFound(_("No such appeal in this meeting."))
    if appeal.state != Appeal.State.OPEN:
        raise Conflict(_("This appeal has been decided already."), code="decided")
    appeal.state, appeal.decision_reason = decision, text
    appeal.decided_by, appeal.decided_at = actor, timezone.now()
    appeal.save(update_fields=["state", "decision_reason", "decided_by", "decided_at"])
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="appeal.decided",
        details={"appeal": appeal.pk, "decision": decision, "department": appeal.department.code},
    )
    notify.on_commit_appeal_decided(appeal)
    return appeal


@transaction.atomic
def contact_grant(
    *, meeting: Meeting, user, department_code: str, email: str, actor: AbstractBaseUser | None, ip: str | None
) -> DepartmentContact:
    """Grant an account one department of one meeting (被考评部门联络员). Audited."""
    from appraisal.models import Department

    department = Department.objects.filter(presentations__meeting=meeting, code=department_code).first()
    if department is None:
        raise InvalidInput(
            _("The department is not on this meeting's agenda."),
            errors=[{"path": "department", "message": _("Unknown department.")}],
        )
    contact, _created = DepartmentContact.objects.update_or_create(
        user=user, meeting=meeting, defaults={"department": department, "email": email}
    )
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="contact.granted",
        details={"user": user.get_username(), "department": department.code},
    )
    return contact


@transaction.atomic
def contact_revoke(*, contact: DepartmentContact, actor: AbstractBaseUser | None, ip: str | None) -> None:
    meeting = contact.meeting
    details = {"user": contact.user.get_username(), "department": contact.department.code}
    contact.delete()
    audit_record(meeting=meeting, actor=actor, ip=ip, action="contact.revoked", details=details)


@transaction.atomic
def contacts_import(*, meeting: Meeting, rows: list, actor: AbstractBaseUser, ip: str | None) -> list[dict]:
    """Grant each row's account its department (a sheet of contacts, checked by panel_sheets.contact_rows).

    An account that does not exist yet is created with a random initial password, returned once for the
    admin to hand over; an existing account keeps its password. An account with any other right (staff, or
    organizer or auditor of this meeting) is refused: a contact reaches its department and nothing else."""
    import secrets

    from django.contrib.auth import get_user_model

    from meetings.permissions import can_read

    User = get_user_model()
    existing = {u.get_username().lower(): u for u in User.objects.filter(username__in=[r.username for r in rows])}
    refused = [
        {
            "path": f"row {r.row}",
            "message": _("%(user)s has other rights: a contact's account may have none.") % {"user": r.username},
        }
        for r in rows
        if (u := existing.get(r.username.lower())) is not None
        and (u.is_staff or u.is_superuser or can_read(u, meeting))
    ]
    if refused:
        raise InvalidInput(_("Some accounts cannot be contacts."), errors=refused)
    issued = []
    for r in rows:
        user = existing.get(r.username.lower())
        password = None
        if user is None:
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(r.username, email=r.email, password=password)
        contact = contact_grant(
            meeting=meeting, user=user, department_code=r.department, email=r.email, actor=actor, ip=ip
        )
        issued.append(
            {"username": user.get_username(), "department": contact.department, "email": r.email, "password": password}
        )
    return issued
