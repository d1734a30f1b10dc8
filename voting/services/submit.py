"""The rater's own path: one ballot through every rule in one transaction (the hall's burst path)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import transaction

from appraisal.exceptions import DomainError
from appraisal.prepared import pipeline_beginning, pipeline_committing, pipeline_transaction, prepared_cursor
from meetings.models import MeetingChange, Presentation, Rater
from meetings.services import ballots_changed

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
    quota_applies,
    quota_check,
    request_fingerprint,
    scores_as_sent,
    scores_validate,
)
from .statements import (
    CONTEXT_SQL,
    GUARDED_SQL,
    INSERT_SQL,
    NewBallot,
    SubmitContext,
    context_of,
    new_ballot,
    open_presentation_recall,
    open_presentation_remember,
)

logger = logging.getLogger(__name__)


def _ballot_insert_postgresql(**ballot) -> NewBallot:
    """A new phone ballot, its values and its idempotency record in one statement, with the COMMIT (the rules
    were checked by ballot_submit). Replacements, paper and survey ballots go through ballot_store."""
    new = new_ballot(**ballot)
    with prepared_cursor() as cursor, pipeline_committing(cursor) as commit:
        cursor.execute(INSERT_SQL, new.params)
        commit()  # the transaction's last statement: ballot_submit returns right after
    return new


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
    params = {
        "presentation": presentation_id,
        "record_pseudonym": record_pseudonym,
        "key": key,
        "pseudonym": pseudonym,
        "rater": rater.pk,
    }
    with prepared_cursor() as cursor:
        postgresql = cursor.db.vendor == "postgresql"
        if postgresql:
            # BEGIN, the lock and the read go out together (psycopg's pipeline): one trip, still three
            # statements, run one after the other, so the read's snapshot is taken after the lock is held.
            with pipeline_beginning(cursor):
                cursor.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [seat_lock_id(rater)])
                cursor.execute(CONTEXT_SQL, params)
        else:
            cursor.execute(CONTEXT_SQL, params)
        row = cursor.fetchone()
    context = context_of(row, pseudonym=pseudonym)
    if postgresql:  # the guarded statement is PostgreSQL's (SQLite, the demo's, takes the ordinary way)
        open_presentation_remember(context, meeting_id=rater.meeting_id)
    return context


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


def _key_check(idempotency_key: str | None) -> None:
    from django.utils.translation import gettext as _

    from appraisal.exceptions import InvalidInput

    if idempotency_key is not None and not _idempotency_key.fullmatch(idempotency_key):
        raise InvalidInput(
            _("The Idempotency-Key is not valid."),
            errors=[{"path": "Idempotency-Key", "message": _("1 to 255 printable ASCII characters.")}],
        )


def _context_rules(*, rater: Rater, context: SubmitContext, fingerprint: str) -> SubmitResult | None:
    """The rules a submission's context decides, in their order: the stored answer of a repeated request,
    or None where every one passes. Raises the refusals."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, NotFound, PermissionRefused, Unprocessable

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
    return None


def _ballot_check(
    *, rater: Rater, presentation_id: int, scores, idempotency_key: str | None
) -> SubmitResult | _Checked:
    """Lock the seat, read the context, apply every rule: the stored answer of a repeated request, or what
    writing the ballot needs. Raises the refusals; writes nothing."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import InvalidInput

    _key_check(idempotency_key)
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
    stored = _context_rules(rater=rater, context=context, fingerprint=fingerprint)
    if stored is not None:
        return stored

    form = role_form(rater.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)

    quota_check(meeting=rater.meeting, form=form, values=values, rater=rater, presentation_id=presentation_id)
    return _Checked(context, pseudonym, record_pseudonym, fingerprint, form, values)


def ballot_submit(*, rater: Rater, presentation_id: int, scores, idempotency_key: str | None = None) -> SubmitResult:
    """Cast or replace the rater's ballot for one presentation: every rule, one transaction.

    Raises NotFound (404), PermissionRefused (403 recusal), Conflict (409
    voting not open, quota, voided), InvalidInput (400 per criterion, or a
    malformed Idempotency-Key), Unprocessable (422 the key was used with another body).

    A new ballot for a presentation this process has read open is first tried as one guarded statement
    (voting.services.statements); where that writes nothing and no rule refuses, the ordinary transaction
    runs after it and decides from a read of its own.
    """
    outcome = _ballot_submit_guarded(
        rater=rater, presentation_id=presentation_id, scores=scores, idempotency_key=idempotency_key
    )
    if outcome is None:
        outcome = _ballot_submit(
            rater=rater, presentation_id=presentation_id, scores=scores, idempotency_key=idempotency_key
        )
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def ballot_submit_remembered(
    *, rater: Rater, token_hash: str, presentation_id: int, scores, idempotency_key: str | None = None
) -> SubmitResult | None:
    """A new ballot of a seat this worker remembers by its token's hash (voting.selectors.seat_remembered),
    without reading the token: one round trip. The guarded statement checks, after the seat's lock, that the
    token is still the seat's, unrevoked, with the same role and department; a refusal or a repeat's stored
    answer is decided on its read as in ballot_submit. None where it decides nothing (the seat or the
    presentation not as remembered, a replacement, a database connection found dead): the caller reads the
    token and calls ballot_submit, which decides from scratch.

    Its statement is the request's first, so it stands in for Django's health check as the token's read does
    (appraisal.prepared.fetchone_first): on a connection found dead, the connection is closed and None
    returned, and the token's read reconnects. Nothing was committed then, or the COMMIT was and the
    Idempotency-Key answers the resend.
    """
    from django.db import InterfaceError, OperationalError

    db = transaction.get_connection()
    if db.vendor != "postgresql":
        return None
    kept = db.connection  # the connection kept from an earlier request, if any
    if kept is not None and db.health_check_enabled and not db.in_atomic_block:
        db.health_check_done = True  # the statement below is the check
    try:
        outcome = _ballot_submit_guarded(
            rater=rater,
            presentation_id=presentation_id,
            scores=scores,
            idempotency_key=idempotency_key,
            token_hash=token_hash,
        )
    except (OperationalError, InterfaceError):
        # Only a kept connection found dead is the health check's case; any other error is raised as before
        # (an outage is answered as one: 503). Django's atomic block has closed the dead connection already,
        # and may have opened a new one.
        if kept is None or not (kept.closed or kept.broken):
            raise
        if db.connection is kept:
            db.close()
        return None
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


def _ballot_submit_guarded(
    *, rater: Rater, presentation_id: int, scores, idempotency_key: str | None, token_hash: str | None = None
) -> SubmitResult | DomainError | None:
    """A new ballot as BEGIN, the seat's lock, GUARDED_SQL and COMMIT in one round trip; None where the
    ordinary transaction has to decide.

    Only where nothing but the context can refuse it: PostgreSQL, a presentation this process has read open
    (its opening, department and code, which the statement checks again), a well-formed key, scores the
    form accepts, no recusal, no quota grade. The statement reads the whole context after the lock, in one
    snapshot, and writes only where that read passes every rule; otherwise the same rules
    (_context_rules), in the same order, decide on that read: a refusal, the stored answer of a repeat, or,
    for a replacement or a presentation that changed, None.
    """
    seen = open_presentation_recall(presentation_id)
    if seen is None or rater.meeting_id != seen[0]:
        return None
    if rater.department_id is not None and rater.department_id == seen[2]:
        return None  # refused by the ordinary read (recusal)
    if idempotency_key is not None and not _idempotency_key.fullmatch(idempotency_key):
        return None  # refused by the ordinary path (400)
    form = role_form(rater.role)
    values, errors = scores_validate(form, scores)
    if errors or quota_applies(meeting=rater.meeting, form=form, values=values):
        # A context refusal (closed, a stored answer) comes before these: the ordinary order decides.
        return None
    return _guarded_transaction(
        rater=rater,
        presentation_id=presentation_id,
        idempotency_key=idempotency_key or None,
        scores=scores,
        form=form,
        values=values,
        seen=seen,
        token_hash=token_hash,
    )


@transaction.atomic
def _guarded_transaction(
    *,
    rater: Rater,
    presentation_id: int,
    idempotency_key: str | None,
    scores,
    form,
    values,
    seen: tuple,
    token_hash: str | None,
) -> SubmitResult | DomainError | None:
    _meeting_id, opened_at, department_id, department_code = seen
    pseudonym = rater_pseudonym(rater, presentation_id)
    record_pseudonym = idempotency_pseudonym(rater, idempotency_key) if idempotency_key else None
    fingerprint = request_fingerprint(presentation_id, scores)
    new = new_ballot(
        presentation_id=presentation_id,
        department_code=department_code,
        role=rater.role,
        pseudonym=pseudonym,
        record_pseudonym=record_pseudonym,
        form=form,
        values=values,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        when=opened_at,
    )
    params = new.params | {
        "rater": rater.pk,
        "department": department_id,
        "department_code": department_code,
        "token_hash": token_hash,
        "seat_department": rater.department_id,
    }
    with prepared_cursor() as cursor:
        with pipeline_transaction(cursor) as commit:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::bigint)", [seat_lock_id(rater)])
            cursor.execute(GUARDED_SQL, params)
            commit()
        row = cursor.fetchone()
    if row is None:  # a remembered seat whose token is no longer its own (or is revoked): nothing written
        return None
    if row[13] is not None:  # the new ballot's id: written and committed
        return SubmitResult(status=201, payload=new.payload, body=new.body)
    context = context_of(row, pseudonym=pseudonym)
    open_presentation_remember(context, meeting_id=rater.meeting_id)
    try:
        # As in _ballot_submit, a refusal is returned: nothing was written and the transaction has ended.
        return _context_rules(rater=rater, context=context, fingerprint=fingerprint)
    except DomainError as refusal:
        return refusal


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

    if context.ballot is None and transaction.get_connection().vendor == "postgresql":
        new = _ballot_insert_postgresql(
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
        return SubmitResult(status=201, payload=new.payload, body=new.body)

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
