"""Writes and rules of the voting app."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction

from appraisal.models import Criterion, RaterRole
from appraisal.numbers import FOUR_PLACES, decimal_from_input, plain
from appraisal.prepared import prepared_cursor
from meetings.models import Meeting, MeetingChange, Presentation, Rater
from meetings.services import ballots_changed

from .canonical import ballot_line, line_digest
from .models import Ballot, BallotValue, SurveyBatch
from .selectors import (
    FormCriterion,
    idempotency_pseudonym,
    quota_limit,
    quota_used,
    rater_pseudonym,
    rater_pseudonyms,
    receipt_display,
    role_form,
    seat_lock_id,
    seat_pseudonym,
)

logger = logging.getLogger(__name__)

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 12


def ballot_time(opened_at):
    """The time a ballot records: its presentation's opening, never the moment it came in, so that no
    column tells the order of the ballots of one window. Without an opening (paper typed in for a
    presentation that never opened) the hour."""
    from .models import coarse_now

    return opened_at if opened_at is not None else coarse_now()


def receipt_generate() -> str:
    """A 60-bit receipt code, printed as XXXX-XXXX-XXXX, for the rater to check it was counted."""
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


@dataclass(frozen=True)
class RecordedBallot:
    """A complete, already validated ballot for bulk recording (simulation, survey import)."""

    presentation_id: int
    role_id: int
    seat_key: str
    values: Sequence[tuple[int, int | None, Decimal]]  # (criterion id, grade id or None, points)
    source: str = Ballot.Source.PHONE


@transaction.atomic
def ballots_bulk_record(
    *,
    meeting: Meeting,
    ballots: Sequence[RecordedBallot],
    batch_size: int = 5000,
    change_kind: str = MeetingChange.Kind.BALLOTS,
    survey_batch_id: int | None = None,
) -> int:
    """Insert many complete ballots at once: totals computed, pseudonyms keyed, receipts drawn.

    Used where a rule-checked path already produced the values (the ballot
    simulation and imported surveys); the rater's own path is ballot_submit.
    """
    departments, opened = {}, {}
    for pk, code, opened_at in Presentation.objects.filter(meeting=meeting).values_list(
        "pk", "department__code", "opened_at"
    ):
        departments[pk], opened[pk] = code, ballot_time(opened_at)
    roles = dict(RaterRole.objects.filter(scheme_id=meeting.scheme_id).values_list("pk", "code"))
    criteria = dict(Criterion.objects.filter(role__scheme_id=meeting.scheme_id).values_list("pk", "code"))
    receipts: set[str] = set()
    rows: list[Ballot] = []
    for item in ballots:
        receipt = receipt_generate()
        while receipt in receipts:
            receipt = receipt_generate()
        receipts.add(receipt)
        rows.append(
            Ballot(
                presentation_id=item.presentation_id,
                role_id=item.role_id,
                pseudonym=seat_pseudonym(
                    meeting_id=meeting.pk, seat_key=item.seat_key, presentation_id=item.presentation_id
                ),
                created_at=opened[item.presentation_id],
                updated_at=opened[item.presentation_id],
                receipt=receipt,
                source=item.source,
                survey_batch_id=survey_batch_id,
                total=sum((points for _c, _g, points in item.values), Decimal(0)),
                line_sha256=line_digest(
                    ballot_line(
                        receipt=receipt,
                        presentation=item.presentation_id,
                        department=departments[item.presentation_id],
                        role=roles[item.role_id],
                        points={criteria[c]: points for c, _g, points in item.values},
                    )
                ),
            )
        )
    created = Ballot.objects.bulk_create(rows, batch_size=batch_size)
    BallotValue.objects.bulk_create(
        (
            BallotValue(ballot_id=ballot.pk, criterion_id=criterion_id, grade_id=grade_id, points=points)
            for ballot, item in zip(created, ballots, strict=True)
            for criterion_id, grade_id, points in item.values
        ),
        batch_size=batch_size,
    )
    ballots_changed(meeting_id=meeting.pk, kind=change_kind)
    return len(created)


# --- the rater's own path ----------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitResult:
    status: int  # 201 created, 200 replaced (or the stored answer of a repeat)
    payload: dict
    repeated: bool = False


def ballot_payload(ballot: Ballot, scores: dict[str, str], department_code: str) -> dict:
    return {
        "presentation": ballot.presentation_id,
        "department": department_code,
        "receipt": receipt_display(ballot.receipt),
        "state": ballot.state,
        "scores": scores,
        "total": str(Decimal(ballot.total).quantize(FOUR_PLACES)),
        "updated_at": ballot.updated_at.isoformat(),
    }


def scores_validate(form: Sequence[FormCriterion], scores) -> tuple[list[tuple[int, int | None, Decimal]], list[dict]]:
    """Check a ballot's scores against the rater's form: every criterion, in bounds, on the grid, nothing foreign."""
    from django.utils.translation import gettext as _

    if not isinstance(scores, dict):
        return [], [{"path": "scores", "message": _("Scores must be an object of criterion codes and values.")}]
    errors: list[dict] = []
    values: list[tuple[int, int | None, Decimal]] = []
    known = {c.code for c in form}
    for code in scores:
        if code not in known:
            errors.append({"path": f"scores.{code}", "message": _("Not a criterion of your form.")})
    for criterion in form:
        path = f"scores.{criterion.code}"
        if criterion.code not in scores or scores[criterion.code] in (None, ""):
            errors.append({"path": path, "message": _("This criterion needs a value.")})
            continue
        raw = scores[criterion.code]
        if criterion.kind == "grade":
            if not isinstance(raw, str) or raw not in criterion.grades:
                errors.append(
                    {
                        "path": path,
                        # The label people read, with the code an API client sends.
                        "message": _("Choose one of: %(choices)s.")
                        % {
                            "choices": _("、").join(
                                f"{criterion.grade_labels.get(code, code)}（{code}）" for code in criterion.grades
                            )
                        },
                    }
                )
                continue
            grade_id, points = criterion.grades[raw]
            values.append((criterion.id, grade_id, points))
            continue
        number = decimal_from_input(raw)
        if number is None:
            errors.append({"path": path, "message": _("Must be a number.")})
            continue
        if number < 0 or number > criterion.max_value:
            errors.append(
                {
                    "path": path,
                    "message": _("Must be between 0 and %(max)s.") % {"max": plain(criterion.max_value)},
                }
            )
            continue
        if number % criterion.step != 0:
            errors.append(
                {"path": path, "message": _("Must be a multiple of %(step)s.") % {"step": plain(criterion.step)}}
            )
            continue
        values.append((criterion.id, None, number))
    return values, errors


def request_fingerprint(presentation_id: int, scores) -> str:
    """What makes two submissions "the same body" for an Idempotency-Key."""
    from .canonical import canonical_json

    # Anything but an object is refused later, but its fingerprint is taken first (a replay answers
    # before validation): str() keeps a Decimal from the exact JSON parser serialisable.
    normalised = {str(k): str(v) for k, v in scores.items()} if isinstance(scores, dict) else str(scores)
    return hashlib.sha256(canonical_json({"presentation": presentation_id, "scores": normalised}).encode()).hexdigest()


def scores_as_sent(form: Sequence[FormCriterion], values) -> dict[str, str]:
    codes = {c.id: c.code for c in form}
    grade_codes = {g_id: code for c in form for code, (g_id, _p) in c.grades.items()}
    return {codes[c]: grade_codes[g] if g else str(p.quantize(FOUR_PLACES)) for c, g, p in values}


def ballot_store(
    *,
    presentation_id: int,
    department_code: str,
    role: RaterRole,
    pseudonym: str,
    form,
    values,
    source: str,
    existing: Ballot | None = None,
    existing_known: bool = False,
    opened_at=None,
) -> tuple[Ballot, bool]:
    """Create or replace the seat's ballot for a presentation: total and canonical line digest computed once.

    The callers have checked every rule; a voided ballot is never overwritten. A caller that has
    already read the seat's ballot passes it (``existing_known``) to save the query.
    """
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    codes = {c.id: c.code for c in form}
    ballot = (
        existing
        if existing_known
        else Ballot.objects.filter(presentation_id=presentation_id, pseudonym=pseudonym).first()
    )
    if ballot is not None and ballot.state == Ballot.State.VOID:
        raise Conflict(_("Your ballot for this presentation was voided by the organizers."), code="ballot_void")
    created = ballot is None
    when = ballot_time(opened_at)
    if created:
        ballot = Ballot(
            presentation_id=presentation_id,
            role=role,
            pseudonym=pseudonym,
            receipt=receipt_generate(),
            created_at=when,
        )
    ballot.source, ballot.updated_at = source, when
    ballot.total = sum((points for _c, _g, points in values), Decimal(0))
    ballot.line_sha256 = line_digest(
        ballot_line(
            receipt=ballot.receipt,
            presentation=presentation_id,
            department=department_code,
            role=role.code,
            points={codes[c]: points for c, _g, points in values},
        )
    )
    if created:
        ballot.save(force_insert=True)
    else:
        ballot.save(update_fields=["source", "total", "line_sha256", "updated_at"])
        BallotValue.objects.filter(ballot_id=ballot.pk).delete()
    BallotValue.objects.bulk_create(
        [BallotValue(ballot_id=ballot.pk, criterion_id=c, grade_id=g, points=p) for c, g, p in values]
    )
    return ballot, created


def quota_check(*, meeting: Meeting, form, values, rater: Rater, presentation_id: int) -> None:
    """Refuse (409) a ballot that would give the quota grade more often than the meeting allows."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    if meeting.excellent_quota_max_percent is None or not meeting.excellent_quota_criterion:
        return
    # Only a ballot that gives the quota grade is counted against the quota: the others need no query.
    quota_grade = next(
        (
            c.grades[meeting.excellent_quota_grade][0]
            for c in form
            if c.code == meeting.excellent_quota_criterion and meeting.excellent_quota_grade in c.grades
        ),
        None,
    )
    if quota_grade is None or not any(grade_id == quota_grade for _c, grade_id, _p in values):
        return
    presentation_ids = list(Presentation.objects.filter(meeting_id=meeting.pk).values_list("pk", flat=True))
    limit = quota_limit(meeting, len(presentation_ids))
    if limit is None:
        return
    # The seat's other ballots, found by deriving its pseudonyms with the key: no table groups them.
    others = [pid for pid in presentation_ids if pid != presentation_id]
    used = quota_used(pseudonyms=list(rater_pseudonyms(rater, others)), meeting=meeting)
    if used + 1 > limit:
        raise Conflict(
            _("You have already given this grade %(used)d times; at most %(limit)d are allowed.")
            % {"used": used, "limit": limit},
            code="quota_exceeded",
        )


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
    FROM b, unnest(%(value_ids)s::bigint[], %(criteria)s::bigint[], %(grades)s::bigint[], %(points)s::numeric[])
         AS x(id, criterion_id, grade_id, points)
), i AS (
    INSERT INTO voting_idempotencyrecord (id, pseudonym, key, request_hash, status_code, response, created_at)
    SELECT %(record_id)s, %(record_pseudonym)s, %(key)s::text, %(fingerprint)s, 201, %(response)s::jsonb, %(when)s
    WHERE %(key)s::text IS NOT NULL
)
SELECT id FROM b
"""


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
) -> dict:
    """A new phone ballot, its values and its idempotency record in one statement: the burst's hot path.

    Computes exactly what ballot_store computes (total, receipt, line digest); the rules were checked by
    ballot_submit. Replacements, paper and survey ballots go through ballot_store.
    """
    import json

    codes = {c.id: c.code for c in form}
    from .models import random_id

    receipt = receipt_generate()
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
    payload = ballot_payload(
        Ballot(
            presentation_id=presentation_id, receipt=receipt, state=Ballot.State.SUBMITTED, total=total, updated_at=when
        ),
        scores_as_sent(form, values),
        department_code,
    )
    with prepared_cursor() as cursor:
        cursor.execute(
            _INSERT_SQL,
            {
                "id": random_id(),
                "presentation": presentation_id,
                "role": role.pk,
                "pseudonym": pseudonym,
                "receipt": receipt,
                "total": total,
                "when": when,
                "line": line,
                "value_ids": [random_id() for _v in values],
                "record_id": random_id(),
                "record_pseudonym": record_pseudonym,
                "criteria": [c for c, _g, _p in values],
                "grades": [g for _c, g, _p in values],
                "points": [p for _c, _g, p in values],
                "key": idempotency_key,
                "fingerprint": fingerprint,
                "response": json.dumps(payload),
            },
        )
    return payload


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
            with connection.wrap_database_errors, connection.connection.pipeline():
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


@transaction.atomic
def ballot_submit(*, rater: Rater, presentation_id: int, scores, idempotency_key: str | None = None) -> SubmitResult:
    """Cast or replace the rater's ballot for one presentation: every rule, one transaction.

    Raises NotFound (404), PermissionRefused (403 recusal), Conflict (409
    voting not open, quota, voided), InvalidInput (400 per criterion, or a
    malformed Idempotency-Key), Unprocessable (422 the key was used with another body).
    """
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound, PermissionRefused, Unprocessable

    from .models import IdempotencyRecord

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

    if context.ballot is None and connection.vendor == "postgresql":
        payload = _ballot_insert_postgresql(
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
        return SubmitResult(status=201, payload=payload)

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
        IdempotencyRecord.objects.create(
            pseudonym=record_pseudonym,
            key=idempotency_key,
            request_hash=fingerprint,
            status_code=status,
            response=payload,
            created_at=ballot.updated_at,
        )
    return SubmitResult(status=status, payload=payload)


# --- the organizer's live control --------------------------------------------------------------


def meeting_live_forget(meeting_id: int) -> None:
    """Drop the cached live state so phones see a change on their next poll."""
    from django.core.cache import cache

    from .selectors import live_state_key

    try:
        cache.delete(live_state_key(meeting_id))
    except Exception:
        logger.warning("cache unavailable; live state expires by itself")


@transaction.atomic
def voting_set(
    *, meeting: Meeting, presentation_id: int | None, action: str, actor, ip: str | None
) -> list[Presentation]:
    """Open or close voting for one presentation, or for all (presentation_id None). Audited.

    "next" closes whatever is open and opens the first presentation still pending.
    """
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import InvalidInput, NotFound
    from meetings.services import audit_record

    now = timezone.now()
    presentations = Presentation.objects.select_for_update().filter(meeting=meeting)
    if action == "next":
        closing = list(presentations.filter(state=Presentation.State.OPEN))
        following = presentations.filter(state=Presentation.State.PENDING).order_by("order").first()
        changed = []
        for p in closing:
            p.state, p.closed_at = Presentation.State.CLOSED, now
            changed.append(p)
        if following is not None:
            following.state, following.opened_at = Presentation.State.OPEN, now
            changed.append(following)
    else:
        if action not in ("open", "close"):
            raise InvalidInput(
                _("Unknown action."), errors=[{"path": "action", "message": _('Use "open", "close" or "next".')}]
            )
        if presentation_id is not None:
            presentations = presentations.filter(pk=presentation_id)
            if not presentations.exists():
                raise NotFound(_("There is no such presentation in this meeting."))
        changed = []
        for p in presentations:
            if action == "open" and p.state != Presentation.State.OPEN:
                p.state, p.opened_at, p.closed_at = Presentation.State.OPEN, now, None
                changed.append(p)
            elif action == "close" and p.state == Presentation.State.OPEN:
                p.state, p.closed_at = Presentation.State.CLOSED, now
                changed.append(p)
    Presentation.objects.bulk_update(changed, ["state", "opened_at", "closed_at"])
    if changed:
        audit_record(
            meeting=meeting,
            actor=actor,
            ip=ip,
            action=f"voting.{action}",
            details={"presentations": [p.pk for p in changed], "states": {str(p.pk): p.state for p in changed}},
        )
    transaction.on_commit(lambda: meeting_live_forget(meeting.pk))
    return changed


@transaction.atomic
def ballot_void(*, meeting: Meeting, receipt: str, reason: str, actor, ip: str | None) -> Ballot:
    """Void a ballot of the meeting by its receipt code, with a reason. Audited; it stops counting."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, NotFound
    from appraisal.text import reason_clean
    from meetings.services import audit_record

    from .selectors import receipt_normalise

    reason = reason_clean(reason or "", detail=_("Give the reason for voiding."))
    code = receipt_normalise(receipt)
    ballot = (
        Ballot.objects.select_for_update()
        .select_related("presentation__department", "role")
        .filter(presentation__meeting=meeting, receipt=code)
        .first()
    )
    if ballot is None:
        raise NotFound(_("No ballot of this meeting has the receipt code %(code)s.") % {"code": receipt})
    if ballot.state == Ballot.State.VOID:
        raise Conflict(_("This ballot is already void."), code="already_void")
    ballot.state = Ballot.State.VOID
    ballot.void_reason = reason
    ballot.voided_at = timezone.now()
    ballot.save(update_fields=["state", "void_reason", "voided_at", "updated_at"])
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VOIDS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="ballot.voided",
        details={
            "receipt": ballot.receipt,
            "department": ballot.presentation.department.code,
            "role": ballot.role.code,
            "reason": ballot.void_reason,
        },
    )
    return ballot


# --- paper ballots and surveys --------------------------------------------------------------------


def _entry_scores(form, values) -> dict[str, str]:
    """Scores in a form two entries can be compared in: 55.5 and 55.50 are the same entry."""
    return scores_as_sent(form, values)


def _paper_refuse_over_cast_ballot(*, presentation_id: int, pseudonym: str) -> None:
    """A paper ballot never replaces a ballot the seat cast itself (on the phone): that ballot has a receipt
    its rater can check, so replacing it is a void with a reason, by an organizer, never a side effect."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    existing = (
        Ballot.objects.select_for_update()
        .filter(presentation_id=presentation_id, pseudonym=pseudonym)
        .exclude(source=Ballot.Source.PAPER)
        .values_list("state", flat=True)
        .first()
    )
    if existing == Ballot.State.SUBMITTED:
        raise Conflict(
            _(
                "This seat already voted on the phone for this presentation, and that ballot counts: its rater "
                "holds its receipt. A paper ballot does not replace it."
            ),
            code="ballot_exists",
        )
    if existing == Ballot.State.VOID:
        raise Conflict(
            _("This seat's ballot for this presentation was voided; a voided ballot is not replaced."),
            code="ballot_void",
        )


@transaction.atomic
def paper_entry_submit(*, meeting: Meeting, seat_no: int, presentation_id: int, scores, actor, ip: str | None):
    """Type in a paper ballot. The first entry waits; a second person's identical entry makes it count;
    a different one marks the pair for an organizer to resolve. Nothing counts before that. Audited."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound, PermissionRefused
    from meetings.services import audit_record

    from .models import PaperEntry

    rater = Rater.objects.select_related("role").filter(meeting=meeting, seat_no=seat_no).first()
    presentation = Presentation.objects.select_related("department").filter(meeting=meeting, pk=presentation_id).first()
    if rater is None or presentation is None:
        raise NotFound(_("No such seat or presentation in this meeting."))
    if rater.department_id is not None and rater.department_id == presentation.department_id:
        raise PermissionRefused(_("You may not score your own department (recusal)."), code="recused")
    if presentation.state == Presentation.State.PENDING:
        raise Conflict(_("Voting for this presentation has not opened yet."), code="voting_not_open")
    form = role_form(rater.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)
    pseudonym = rater_pseudonym(rater, presentation.pk)
    entered = _entry_scores(form, values)
    _paper_refuse_over_cast_ballot(presentation_id=presentation.pk, pseudonym=pseudonym)
    entry = PaperEntry.objects.select_for_update().filter(presentation=presentation, seat_no=rater.seat_no).first()
    if entry is None:
        entry = PaperEntry.objects.create(
            presentation=presentation,
            role=rater.role,
            seat_no=rater.seat_no,
            first_scores=entered,
            first_by=actor,
        )
        action = "paper.first_entry"
    elif entry.state != PaperEntry.State.AWAITING_SECOND:
        raise Conflict(_("This paper ballot has already been entered twice."), code="paper_done")
    elif entry.first_by_id == actor.pk:
        raise Conflict(_("The second entry must be typed by another person."), code="paper_same_person")
    else:
        entry.second_scores, entry.second_by = entered, actor
        if entered == entry.first_scores:
            quota_check(meeting=meeting, form=form, values=values, rater=rater, presentation_id=presentation.pk)
            entry.ballot, _created = ballot_store(
                presentation_id=presentation.pk,
                department_code=presentation.department.code,
                role=rater.role,
                pseudonym=pseudonym,
                form=form,
                values=values,
                source=Ballot.Source.PAPER,
                opened_at=presentation.opened_at,
            )
            # Counted: the seat number goes, so that no row holds a seat beside its ballot.
            entry.state, entry.seat_no = PaperEntry.State.MATCHED, None
            ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.PAPER)
        else:
            entry.state = PaperEntry.State.MISMATCH
        entry.save()
        action = f"paper.{entry.state}"
    # The seat is on record only while the entry waits: a counted paper ballot's audit entry names
    # the entry and the presentation, never the seat beside it.
    details = {"entry": entry.pk, "presentation": presentation.pk}
    if entry.seat_no is not None:
        details["seat"] = entry.seat_no
    audit_record(meeting=meeting, actor=actor, ip=ip, action=action, details=details)
    return entry


@transaction.atomic
def paper_entry_resolve(*, meeting: Meeting, entry_id: int, scores, actor, ip: str | None):
    """An organizer decides a mismatched paper ballot after looking at the paper. Audited."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound
    from meetings.services import audit_record

    from .models import PaperEntry

    entry = (
        PaperEntry.objects.select_for_update()
        .select_related("presentation__department", "role")
        .filter(pk=entry_id, presentation__meeting=meeting)
        .first()
    )
    if entry is None:
        raise NotFound(_("No such paper ballot entry."))
    if entry.state != PaperEntry.State.MISMATCH:
        raise Conflict(_("Only entries that differ are resolved."), code="paper_not_mismatch")
    form = role_form(entry.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)
    rater = Rater.objects.filter(meeting=meeting, seat_no=entry.seat_no).first()
    if rater is None:
        raise NotFound(_("No such seat or presentation in this meeting."))
    pseudonym = rater_pseudonym(rater, entry.presentation_id)
    _paper_refuse_over_cast_ballot(presentation_id=entry.presentation_id, pseudonym=pseudonym)
    quota_check(meeting=meeting, form=form, values=values, rater=rater, presentation_id=entry.presentation_id)
    entry.ballot, _created = ballot_store(
        presentation_id=entry.presentation_id,
        department_code=entry.presentation.department.code,
        role=entry.role,
        pseudonym=pseudonym,
        form=form,
        values=values,
        source=Ballot.Source.PAPER,
        opened_at=entry.presentation.opened_at,
    )
    entry.state, entry.resolved_by, entry.seat_no = PaperEntry.State.RESOLVED, actor, None
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.PAPER)
    entry.save()
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="paper.resolved",
        details={"entry": entry.pk, "presentation": entry.presentation_id},
    )
    return entry


def survey_import(*, meeting: Meeting, role_code: str, fileobj, filename: str, actor, ip: str | None) -> int:
    """A role's ballots collected outside the hall (电话满意度调查), one row per ballot: the department
    (code or name) and a column per criterion (code or name). Every row is checked like a phone
    ballot; any problem refuses the whole sheet. Each ballot gets a receipt code. Audited.

    The sheet is read by a worker before the transaction begins (the worker must see its job row);
    what it read is then checked and stored in one transaction."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import NotFound
    from meetings.panel_sheets import read_rows

    # A code with NUL is no code of ours, and PostgreSQL would refuse to look it up.
    role = (
        None if "\x00" in role_code else RaterRole.objects.filter(scheme_id=meeting.scheme_id, code=role_code).first()
    )
    if role is None:
        raise NotFound(_('Unknown role "%(code)s".') % {"code": role_code.replace("\x00", "")})
    content_sha256 = _file_sha256(fileobj)
    _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)  # before a worker reads it
    sheet = read_rows(fileobj, filename, meeting=meeting, actor=actor)
    return _survey_store(
        meeting=meeting, role=role, sheet=sheet, content_sha256=content_sha256, filename=filename, actor=actor, ip=ip
    )


@transaction.atomic
def _survey_store(
    *, meeting: Meeting, role: RaterRole, sheet, content_sha256: str, filename: str, actor, ip: str | None
) -> int:
    from django.db import IntegrityError
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput
    from meetings.panel_sheets import SURVEY_FIXED_COLUMNS, SheetInvalid, map_columns, problem
    from meetings.services import audit_record

    form = role_form(role)
    _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)
    header, rows = sheet
    columns = map_columns(header, SURVEY_FIXED_COLUMNS, {"department"})
    by_header = {}
    for criterion in form:
        for name in header:
            if name.strip() in (criterion.code, criterion.name):
                by_header[criterion.code] = name
    missing = [c.name for c in form if c.code not in by_header]
    if missing:
        raise SheetInvalid([problem(1, None, _("Missing column: %(columns)s.") % {"columns": ", ".join(missing)})])
    presentations = {}
    for p in Presentation.objects.filter(meeting=meeting).select_related("department"):
        presentations[p.department.code] = presentations[p.department.name] = p
    labels = {c.code: {label: code for code, label in c.grade_labels.items()} for c in form}
    problems, ballots = [], []
    for number, values in rows:
        presentation = presentations.get(str(values.get(columns["department"]) or "").strip())
        if presentation is None:
            problems.append(
                problem(
                    number,
                    columns["department"],
                    _('Unknown department "%(value)s".') % {"value": values.get(columns["department"]) or ""},
                )
            )
            continue
        scores = {}
        for criterion in form:
            raw = values.get(by_header[criterion.code])
            if criterion.kind == "grade" and isinstance(raw, str):
                raw = labels[criterion.code].get(raw.strip(), raw.strip())  # 良好 or good
            scores[criterion.code] = raw if not isinstance(raw, (int, Decimal)) else str(raw)
        checked, errors = scores_validate(form, scores)
        for error in errors:
            code = error["path"].removeprefix("scores.")
            problems.append(problem(number, by_header.get(code), error["message"]))
        if not errors:
            ballots.append((number, presentation.pk, checked))
    if problems:
        raise SheetInvalid(problems)
    if not ballots:
        raise InvalidInput(_("The sheet has no rows."))
    try:
        with transaction.atomic():
            batch = SurveyBatch.objects.create(
                meeting=meeting,
                role=role,
                filename=filename[:255],
                content_sha256=content_sha256,
                ballots=len(ballots),
                created_by=actor,
            )
    except IntegrityError as exc:  # the same sheet sent twice at once: the second loses
        _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)
        raise Conflict(_("This survey sheet is being imported already."), code="duplicate_survey") from exc
    count = ballots_bulk_record(
        meeting=meeting,
        ballots=[
            RecordedBallot(
                presentation_id=presentation_id,
                role_id=role.pk,
                seat_key=f"survey:{batch.pk}:{number}",  # each answer its own seat
                values=checked,
                source=Ballot.Source.SURVEY,
            )
            for number, presentation_id, checked in ballots
        ],
        change_kind=MeetingChange.Kind.SURVEY,
        survey_batch_id=batch.pk,
    )
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="survey.imported",
        details={"role": role.code, "ballots": count, "file": filename, "batch": batch.pk, "sha256": content_sha256},
    )
    return count


def _file_sha256(fileobj) -> str:
    """The SHA-256 of an uploaded file's bytes, read in chunks; the file is left at its start."""
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 16), b""):
        digest.update(chunk.encode() if isinstance(chunk, str) else chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _survey_refuse_duplicate(*, meeting: Meeting, content_sha256: str) -> None:
    """The same sheet (by content, whatever its name) counts once: refused while a batch of it counts."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    earlier = SurveyBatch.objects.filter(
        meeting=meeting, content_sha256=content_sha256, withdrawn_at__isnull=True
    ).first()
    if earlier is not None:
        raise Conflict(
            _(
                "This sheet was imported already: %(file)s, %(when)s, %(n)d ballots. "
                "Withdraw that batch first to import it again."
            )
            % {
                "file": earlier.filename,
                "when": date_format(localtime(earlier.created_at), "DATETIME_FORMAT"),
                "n": earlier.ballots,
            },
            code="duplicate_survey",
        )


@transaction.atomic
def survey_withdraw(*, meeting: Meeting, batch_id: int, reason: str, actor, ip: str | None) -> SurveyBatch:
    """Withdraw an imported survey sheet: its ballots are voided with the reason (they count nowhere,
    their receipts say so) and the batch is marked. Audited; the meeting's result becomes stale."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound
    from meetings.services import audit_record

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give a reason for withdrawing the sheet."),
            errors=[{"path": "reason", "message": _("This field is required.")}],
        )
    if len(reason) > 1000:
        raise InvalidInput(
            _("The reason is too long."),
            errors=[{"path": "reason", "message": _("At most 1000 characters.")}],
        )
    batch = SurveyBatch.objects.select_for_update().filter(meeting=meeting, pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such survey batch in this meeting."))
    if batch.withdrawn_at is not None:
        raise Conflict(_("This survey batch was withdrawn already."), code="withdrawn")
    now = timezone.now()
    voided = Ballot.objects.filter(survey_batch=batch, state=Ballot.State.SUBMITTED).update(
        state=Ballot.State.VOID, void_reason=reason, voided_at=now
    )
    batch.withdrawn_at, batch.withdrawn_by, batch.withdraw_reason = now, actor, reason
    batch.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.SURVEY)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="survey.withdrawn",
        details={"batch": batch.pk, "file": batch.filename, "ballots": voided, "reason": reason},
    )
    return batch


# --- the seal ------------------------------------------------------------------------------------

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
