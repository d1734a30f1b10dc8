"""The seal: a published meeting's ballots frozen where they lie."""

from __future__ import annotations

import logging

from django.db import connection, transaction

from meetings.models import Meeting

logger = logging.getLogger(__name__)


_SEAL_BALLOTS_SQL = """
UPDATE voting_ballot b
SET created_at = coalesce(p.opened_at, date_trunc('day', b.created_at)),
    updated_at = coalesce(p.opened_at, date_trunc('day', b.created_at))
FROM meetings_presentation p
WHERE p.id = b.presentation_id AND p.meeting_id = %s
"""
_SEAL_VALUES_SQL = """
UPDATE voting_ballotvalue v SET points = v.points
FROM voting_ballot b JOIN meetings_presentation p ON p.id = b.presentation_id
WHERE b.id = v.ballot_id AND p.meeting_id = %s
"""
_SEAL_RECORDS_SQL = """
DELETE FROM voting_idempotencyrecord i
USING meetings_presentation p
WHERE p.meeting_id = %s AND (i.response->>'presentation') = p.id::text
"""
# Rewritten files: CLUSTER orders the rows by their random primary keys, VACUUM FULL drops the dead
# versions (the seat numbers of paper entries before they counted, the deleted records).
_SEAL_PHYSICAL = [
    "CLUSTER voting_ballot USING voting_ballot_pkey",
    "CLUSTER voting_ballotvalue USING voting_ballotvalue_pkey",
    "VACUUM FULL voting_idempotencyrecord",
    "VACUUM FULL voting_paperentry",
]


def meeting_seal(*, meeting_id: int) -> dict:
    """Seal a final meeting's ballots so that a base backup taken afterwards reveals no order (issue 13).

    In one transaction every ballot and value of the meeting is rewritten (one transaction id for all
    of them, times no finer than the presentation's opening, or the day), and the meeting's idempotency
    records, which only served retries while voting, are deleted. Then the tables are rewritten in the
    order of their random ids. Nothing a result is computed from changes: the digest, the receipts and
    the exports verify as before. The rewrite needs the tables' owner; run as the application's role it
    is skipped and reported, and `manage.py seal_meeting` run as the owner completes it. Audited.
    """
    from django.db import DatabaseError

    from meetings.services import audit_record

    meeting = Meeting.objects.filter(pk=meeting_id).first()
    if meeting is None or connection.vendor != "postgresql":
        return {"ballots": 0, "physical": False}
    with transaction.atomic(), connection.cursor() as cursor:
        # The change counter's trigger would count the rewrite as a change to the ballots; it is none.
        cursor.execute("SET LOCAL kaoping.seal = 'on'")
        cursor.execute(_SEAL_BALLOTS_SQL, [meeting_id])
        ballots = cursor.rowcount
        cursor.execute(_SEAL_VALUES_SQL, [meeting_id])
        cursor.execute(_SEAL_RECORDS_SQL, [meeting_id])
        records = cursor.rowcount
    physical = not connection.in_atomic_block
    if physical:
        try:
            with connection.cursor() as cursor:
                for statement in _SEAL_PHYSICAL:
                    cursor.execute(statement)
        except DatabaseError as exc:  # not the tables' owner: the operator completes it (docs/operations.md)
            logger.warning("Seal of meeting %s: tables not rewritten (%s)", meeting_id, exc)
            physical = False
    audit_record(
        meeting=meeting,
        actor=None,
        ip=None,
        action="meeting.sealed",
        details={"ballots": ballots, "idempotency_records": records, "rewritten": physical},
    )
    return {"ballots": ballots, "physical": physical}
