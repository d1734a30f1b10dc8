"""The rater's own path: one ballot through every rule in one transaction (the hall's burst path)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from rest_framework.renderers import JSONRenderer

from appraisal.exceptions import DomainError
from appraisal.models import RaterRole
from appraisal.prepared import pipeline_beginning, pipeline_committing, prepared_cursor
from meetings.models import MeetingChange, Presentation, Rater
from meetings.services import ballots_changed

from ..canonical import ballot_line, line_digest
from ..models import Ballot
from ..selectors import (
    idempotency_pseudonym,
    rater_pseudonym,
    role_form,
    seat_lock_id,
)
from .ballots import (
    SubmitResult,
    ballot_payload,
    ballot_store,
    ballot_time,
    payload_of,
    quota_check,
    receipt_generate,
    request_fingerprint,
    scores_as_sent,
    scores_validate,
)

logger = logging.getLogger(__name__)
# DRF's renderer, as the API answers with it (voting.ballot_view): a new ballot's answer is rendered here once.
_renderer = JSONRenderer()

_INSERT_SQL = """
WITH b AS (
    INSERT INTO voting_ballot (id, presentation_id, role_id, pseudonym, receipt, state, source, total,
                               created_at, updated_at, void_reason, voided_at, line_sha256)
    VALUES (%(id)s, %(presentation)s, %(role)s, %(pseudonym)s, %(receipt)s, 'submitted', 'phone', %(total)s,
            %(when)s, %(when)s, '', NULL, %(line)s)
    RETURNING id
), v AS (
    INSERT INTO voting_ballotvalue (id, ballot_id, criterion_id, grade_id, points)
    SELECT x.id, b.id, x.criterion_id, x.grade_id, x.points
    FROM b, unnest(%(value_ids)s::text::bigint[], %(criteria)s::text::bigint[], %(grades)s::text::bigint[],
                   %(points)s::text::numeric[])
         AS x(id, criterion_id, grade_id, points)
), i AS (
    INSERT INTO voting_idempotencyrecord (id, pseudonym, key, request_hash, status_code, response, created_at)
    SELECT %(record_id)s, %(record_pseudonym)s, %(key)s::text, %(fingerprint)s, 201, %(response)s::jsonb, %(when)s
    WHERE %(key)s::text IS NOT NULL
)
SELECT id FROM b
"""


def _array_literal(items) -> str:
    """A PostgreSQL array literal of ints, Decimals and None (NULL): nothing in it is text from a request."""
    return "{" + ",".join("NULL" if item is None else str(item) for item in items) + "}"


def _ballot_insert_postgresql(
    *,
    presentation_id: int,
    department_code: str,
    role: RaterRole,
    pseudonym: str,
    record_pseudonym: str | None,
    form,
    values,
    idempotency_key,
    fingerprint,
    when,
) -> tuple[dict, bytes]:
    """A new phone ballot, its values and its idempotency record in one statement: the burst's hot path.

    Computes exactly what ballot_store computes (total, receipt, line digest); the rules were checked by
    ballot_submit. Replacements, paper and survey ballots go through ballot_store.
    """

    codes = {c.id: c.code for c in form}
    from ..models import random_ids

    # The ballot's id, its idempotency record's, the receipt's 60 bits (the low bits of a uniform draw are
    # uniform) and the values' ids: one read of the system's randomness, not one each.
    ballot_id, record_id, receipt_bits, *value_ids = random_ids(3 + len(values))
    receipt = receipt_generate(receipt_bits)
    total = sum((points for _c, _g, points in values), Decimal(0))
    line = line_digest(
        ballot_line(
            receipt=receipt,
            presentation=presentation_id,
            department=department_code,
            role=role.code,
            points={codes[c]: points for c, _g, points in values},
        )
    )
    payload = payload_of(
        presentation_id=presentation_id,
        department_code=department_code,
        receipt=receipt,
        state=Ballot.State.SUBMITTED,
        scores=scores_as_sent(form, values),
        total=total,
        updated_at=when,
    )
    # Rendered once: the answer, and the record that replays it.
    body = _renderer.render(payload)
    with prepared_cursor() as cursor, pipeline_committing(cursor) as commit:
        cursor.execute(
            _INSERT_SQL,
            {
                "id": ballot_id,
                "presentation": presentation_id,
                "role": role.pk,
                "pseudonym": pseudonym,
                "receipt": receipt,
                "total": total,
                "when": when,
                "line": line,
                # The four arrays as PostgreSQL array literals (text cast in the SQL): psycopg inspects every
                # element of a list to choose its dumper, on every execute; these are ints, NULLs and decimals.
                "value_ids": _array_literal(value_ids),
                "record_id": record_id,
                "record_pseudonym": record_pseudonym,
                "criteria": _array_literal(c for c, _g, _p in values),
                "grades": _array_literal(g for _c, g, _p in values),
                "points": _array_literal(p for _c, _g, p in values),
                "key": idempotency_key,
                "fingerprint": fingerprint,
                "response": body.decode(),
            },
        )
        commit()  # the transaction's last statement: ballot_submit returns right after
    return payload, body


@dataclass(frozen=True)
class SubmitContext:
    presentation_id: int | None
    state: str | None
    opened_at: object
    department_id: int | None
    department_code: str | None
    stored_hash: str | None
    stored_status: int | None
    stored_response: dict | None
    ballot: Ballot | None


_CONTEXT_SQL = """
SELECT p.id, p.state, p.opened_at, p.department_id, d.code, i.request_hash, i.status_code, i.response,
       b.id, b.state, b.receipt, b.created_at, b.source
FROM meetings_rater r
LEFT JOIN meetings_presentation p ON p.id = %s AND p.meeting_id = r.meeting_id
LEFT JOIN appraisal_department d ON d.id = p.department_id
LEFT JOIN voting_idempotencyrecord i ON i.pseudonym = %s AND i.key = %s
LEFT JOIN voting_ballot b ON b.presentation_id = p.id AND b.pseudonym = %s
WHERE r.id = %s
"""


def _submit_context(
    *, rater: Rater, presentation_id: int, pseudonym: str, record_pseudonym: str | None, key: str | None
) -> SubmitContext:
    """Lock the seat, then read everything a submission checks in one statement.

    The lock serialises one rater's phones, so that the quota and the
    idempotency check cannot both be passed by two racing requests. It is an
    advisory lock on a keyed hash of the seat, never a row lock on the rater:
    a row lock leaves the transaction's id in the rater row's xmax, the same id
    as the ballot's xmin (issue 13). It must be its own statement: a statement
    that waited for the lock would read with a snapshot taken before the other
    request's ballot was committed. One read instead of four ORM queries: this
    is the path of a hall's burst.
    """
    import json

    from django.db import connection

    with prepared_cursor() as cursor:
        if connection.vendor == "postgresql":
            # BEGIN, the lock and the read go out together (psycopg's pipeline): one trip, still three
            # statements, run one after the other, so the read's snapshot is taken after the lock is held.
            with pipeline_beginning(cursor):
                cursor.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [seat_lock_id(rater)])
                cursor.execute(_CONTEXT_SQL, [presentation_id, record_pseudonym, key, pseudonym, rater.pk])
        else:
            cursor.execute(_CONTEXT_SQL, [presentation_id, record_pseudonym, key, pseudonym, rater.pk])
        row = cursor.fetchone()
    (p_id, state, opened_at, department_id, department_code, stored_hash, stored_status, stored_response,
     ballot_id, ballot_state, receipt, created_at, source) = row  # fmt: skip
    if isinstance(stored_response, str):
        stored_response = json.loads(stored_response)
    ballot = None
    if ballot_id is not None:
        ballot = Ballot(
            id=ballot_id,
            presentation_id=p_id,
            pseudonym=pseudonym,
            state=ballot_state,
            receipt=receipt,
            created_at=created_at,
            source=source,
        )
        # Read from the database: saving it updates (a primary key with a default would otherwise insert).
        ballot._state.adding, ballot._state.db = False, "default"
    return SubmitContext(
        p_id, state, opened_at, department_id, department_code, stored_hash, stored_status, stored_response, ballot
    )


# Printable ASCII, no space at either end (HTTP would strip it), 1 to 255 characters (the column's size).
IDEMPOTENCY_KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
_idempotency_key = re.compile(IDEMPOTENCY_KEY_PATTERN)


@dataclass(frozen=True)
class _Checked:
    """A submission that passed every rule, with what writing it needs."""

    context: SubmitContext
    pseudonym: str
    record_pseudonym: str | None
    fingerprint: str
    form: list
    values: list


def _ballot_check(
    *, rater: Rater, presentation_id: int, scores, idempotency_key: str | None
) -> SubmitResult | _Checked:
    """Lock the seat, read the context, apply every rule: the stored answer of a repeated request, or what
    writing the ballot needs. Raises the refusals; writes nothing."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound, PermissionRefused, Unprocessable

    if idempotency_key is not None and not _idempotency_key.fullmatch(idempotency_key):
        raise InvalidInput(
            _("The Idempotency-Key is not valid."),
            errors=[{"path": "Idempotency-Key", "message": _("1 to 255 printable ASCII characters.")}],
        )
    meeting = rater.meeting
    pseudonym = rater_pseudonym(rater, presentation_id)
    record_pseudonym = idempotency_pseudonym(rater, idempotency_key) if idempotency_key else None
    fingerprint = request_fingerprint(presentation_id, scores)
    context = _submit_context(
        rater=rater,
        presentation_id=presentation_id,
        pseudonym=pseudonym,
        record_pseudonym=record_pseudonym,
        key=idempotency_key or None,
    )
    if context.stored_hash is not None:
        if context.stored_hash != fingerprint:
            raise Unprocessable(
                _("This Idempotency-Key was already used for a different ballot."), code="idempotency_mismatch"
            )
        return SubmitResult(status=context.stored_status, payload=context.stored_response, repeated=True)

    if context.presentation_id is None:
        raise NotFound(_("There is no such presentation in your meeting."))
    if rater.department_id is not None and context.department_id == rater.department_id:
        raise PermissionRefused(_("You may not score your own department (recusal)."), code="recused")
    if context.ballot is not None and context.ballot.source != Ballot.Source.PHONE:
        # Typed in from paper (two people, audited): the phone does not overwrite it behind their backs.
        raise Conflict(_("A paper ballot of your seat was entered for this presentation."), code="paper_ballot")
    if context.state != Presentation.State.OPEN:
        if context.state == Presentation.State.PENDING:
            raise Conflict(_("Voting for this presentation has not opened yet."), code="voting_not_open")
        raise Conflict(_("Voting for this presentation is closed."), code="voting_closed")

    form = role_form(rater.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)

    quota_check(meeting=meeting, form=form, values=values, rater=rater, presentation_id=presentation_id)
    return _Checked(context, pseudonym, record_pseudonym, fingerprint, form, values)


def ballot_submit(*, rater: Rater, presentation_id: int, scores, idempotency_key: str | None = None) -> SubmitResult:
    """Cast or replace the rater's ballot for one presentation: every rule, one transaction.

    Raises NotFound (404), PermissionRefused (403 recusal), Conflict (409
    voting not open, quota, voided), InvalidInput (400 per criterion, or a
    malformed Idempotency-Key), Unprocessable (422 the key was used with another body).
    """
    outcome = _ballot_submit(
        rater=rater, presentation_id=presentation_id, scores=scores, idempotency_key=idempotency_key
    )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


@transaction.atomic
def _ballot_submit(
    *, rater: Rater, presentation_id: int, scores, idempotency_key: str | None
) -> SubmitResult | DomainError:
    """The transaction. A refusal is returned, not raised: it comes before anything is written, so the block
    ends normally and commits nothing but the end of the seat's lock. Raising would roll back, to the same
    effect on the data, but psycopg deallocates every prepared statement of the connection on a rollback,
    and the worker's next ballots would prepare the hot statements anew (after a presentation closes, a
    hall's late ballots are many)."""
    try:
        checked = _ballot_check(
            rater=rater, presentation_id=presentation_id, scores=scores, idempotency_key=idempotency_key
        )
    except DomainError as refusal:
        return refusal
    if isinstance(checked, SubmitResult):  # answered from the Idempotency-Key
        return checked
    meeting = rater.meeting
    context, pseudonym, record_pseudonym = checked.context, checked.pseudonym, checked.record_pseudonym
    fingerprint, form, values = checked.fingerprint, checked.form, checked.values

    if context.ballot is None and connection.vendor == "postgresql":
        payload, body = _ballot_insert_postgresql(
            presentation_id=presentation_id,
            department_code=context.department_code,
            role=rater.role,
            pseudonym=pseudonym,
            record_pseudonym=record_pseudonym,
            form=form,
            values=values,
            idempotency_key=idempotency_key or None,
            fingerprint=fingerprint,
            when=ballot_time(context.opened_at),
        )
        return SubmitResult(status=201, payload=payload, body=body)

    ballot, created = ballot_store(
        presentation_id=presentation_id,
        department_code=context.department_code,
        role=rater.role,
        pseudonym=pseudonym,
        form=form,
        values=values,
        source=Ballot.Source.PHONE,
        existing=context.ballot,
        existing_known=True,
        opened_at=context.opened_at,
    )
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.BALLOTS)
    payload = ballot_payload(ballot, scores_as_sent(form, values), context.department_code)
    status = 201 if created else 200
    if idempotency_key:
        from ..models import IdempotencyRecord

        IdempotencyRecord.objects.create(
            pseudonym=record_pseudonym,
            key=idempotency_key,
            request_hash=fingerprint,
            status_code=status,
            response=payload,
            created_at=ballot.updated_at,
        )
    return SubmitResult(status=status, payload=payload)
