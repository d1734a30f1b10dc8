"""Reads of the meetings app."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

from .models import AuditEntry, Meeting
from .services import GENESIS_HASH, audit_entry_hash

ORGANIZE = "meetings.organize_meeting"
AUDIT = "meetings.audit_meeting"


def meetings_visible_to(*, user: AbstractBaseUser) -> QuerySet[Meeting]:
    """Meetings the user may read: organizers' and auditors' meetings (all for superusers)."""
    return get_objects_for_user(user, [ORGANIZE, AUDIT], klass=Meeting, any_perm=True, accept_global_perms=True)


def audit_chain_problems(*, meeting: Meeting | None) -> list[str]:
    """Walk the meeting's audit chain; an edited, deleted or inserted entry shows up as a problem."""
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    entries = AuditEntry.objects.filter(meeting=meeting).order_by("seq").iterator(chunk_size=2000)
    for entry in entries:
        if entry.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing (found {entry.seq})")
            expected_seq = entry.seq
        if entry.prev_hash != expected_prev:
            problems.append(f"entry {entry.seq}: does not follow the previous entry")
        recomputed = audit_entry_hash(
            meeting_id=entry.meeting_id,
            seq=entry.seq,
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            ip_address=entry.ip_address,
            action=entry.action,
            details=entry.details,
            prev_hash=entry.prev_hash,
        )
        if recomputed != entry.entry_hash:
            problems.append(f"entry {entry.seq}: content does not match its hash")
        expected_prev = entry.entry_hash
        expected_seq += 1
    return problems
