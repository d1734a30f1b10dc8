"""The audit log: a hash chain of every write that changes a meeting."""

from __future__ import annotations

import datetime
import hashlib
import json

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection, transaction
from django.utils import timezone

from ..models import AuditEntry, Meeting

GENESIS_HASH = "0" * 64


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
