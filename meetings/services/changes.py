"""Change counters: what moved in a meeting, for publishing, the live state and setup."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils.translation import gettext as _

from ..models import Meeting, MeetingChange
from .audit import audit_record

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

    from appraisal.exceptions import InvalidInput

    from ..selectors import setup_problems

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
