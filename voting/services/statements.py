"""The phone ballot's statements on PostgreSQL (the hall's burst path) and what they read and write.

Three shapes of one transaction, each under the seat's advisory lock taken in a statement of its own
(a statement that waited for the lock would read with a snapshot taken before the other request's
ballot was committed):
- the context read (``CONTEXT_SQL``): everything the rules check, in one statement;
- the INSERT of a new ballot, its values and its idempotency record (``INSERT_SQL``), after the rules;
- the guarded INSERT (``GUARDED_SQL``): the context read and the INSERT in one statement, the INSERT
  taking place only where the read shows what the rules would pass (voting open since the time the
  ballot records, the department the ballot names, no ballot of the seat, no answer stored under the
  key). BEGIN, the lock, the statement and the COMMIT go out together: a new ballot in one round trip
  after the token's. Where the read shows anything else, nothing is written and the rules decide on the
  read, as on the context read's. For a seat its worker remembers, the token is not read at all: the
  statement's read of the seat's row also checks the token's hash, the revocation, the role and the
  department, and returns no row where any differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.renderers import JSONRenderer

from appraisal.models import RaterRole

from ..canonical import ballot_line, line_digest
from ..models import Ballot, random_ids
from .ballots import payload_of, receipt_generate, scores_as_sent

# The context's columns, in both reads.
_CONTEXT_COLUMNS = """p.id, p.state, p.opened_at, p.department_id, d.code, i.request_hash, i.status_code, i.response,
       b.id, b.state, b.receipt, b.created_at, b.source"""
_CONTEXT_FROM = """FROM meetings_rater r
LEFT JOIN meetings_presentation p ON p.id = %(presentation)s AND p.meeting_id = r.meeting_id
LEFT JOIN appraisal_department d ON d.id = p.department_id
LEFT JOIN voting_idempotencyrecord i ON i.pseudonym = %(record_pseudonym)s AND i.key = %(key)s
LEFT JOIN voting_ballot b ON b.presentation_id = p.id AND b.pseudonym = %(pseudonym)s
WHERE r.id = %(rater)s"""

CONTEXT_SQL = f"SELECT {_CONTEXT_COLUMNS}\n{_CONTEXT_FROM}"

# The values and the idempotency record of the ballot inserted by the CTE ``b``.
_VALUES_AND_RECORD = """v AS (
    INSERT INTO voting_ballotvalue (id, ballot_id, criterion_id, grade_id, points)
    SELECT x.id, b.id, x.criterion_id, x.grade_id, x.points
    FROM b, unnest(%(value_ids)s::text::bigint[], %(criteria)s::text::bigint[], %(grades)s::text::bigint[],
                   %(points)s::text::numeric[])
         AS x(id, criterion_id, grade_id, points)
), k AS (
    INSERT INTO voting_idempotencyrecord (id, pseudonym, key, request_hash, status_code, response, created_at)
    SELECT %(record_id)s, %(record_pseudonym)s, %(key)s::text, %(fingerprint)s, 201, %(response)s::jsonb, %(when)s
    FROM b
    WHERE %(key)s::text IS NOT NULL
)"""

_BALLOT_COLUMNS = """voting_ballot (id, presentation_id, role_id, pseudonym, receipt, state, source, total,
                               created_at, updated_at, void_reason, voided_at, line_sha256)"""
_BALLOT_ROW = """%(id)s, %(presentation)s, %(role)s, %(pseudonym)s, %(receipt)s, 'submitted', 'phone', %(total)s,
           %(when)s, %(when)s, '', NULL, %(line)s"""

# Composed of the constants above, nothing from a request: every value is a parameter.
INSERT_SQL = f"""
WITH b AS (
    INSERT INTO {_BALLOT_COLUMNS}
    VALUES ({_BALLOT_ROW})
    RETURNING id
), {_VALUES_AND_RECORD}
SELECT id FROM b
"""  # noqa: S608

# Every sub-statement of a WITH sees the same snapshot, taken after the lock's statement returned: the
# INSERT's conditions are read from exactly the row the statement returns (the context's thirteen columns,
# then the new ballot's id or NULL). Same-named columns are renamed in ``c``; ``c.*`` keeps their order.
# With a token's hash (a seat the worker remembers instead of reading its token), the seat's row must still
# carry that hash, unrevoked, with the role and department remembered: otherwise no row at all.
GUARDED_SQL = f"""
WITH c AS (
    SELECT p.id AS p_id, p.state AS p_state, p.opened_at, p.department_id, d.code AS d_code, i.request_hash,
           i.status_code, i.response, b.id AS b_id, b.state AS b_state, b.receipt, b.created_at, b.source
    {_CONTEXT_FROM}
      AND (%(token_hash)s::text IS NULL
           OR (r.token_hash = %(token_hash)s::text AND r.revoked_at IS NULL AND r.role_id = %(role)s
               AND r.department_id IS NOT DISTINCT FROM %(seat_department)s::bigint))
), b AS (
    INSERT INTO {_BALLOT_COLUMNS}
    SELECT {_BALLOT_ROW}
    FROM c
    WHERE c.p_state = 'open' AND c.opened_at = %(when)s AND c.department_id = %(department)s
      AND c.d_code = %(department_code)s AND c.request_hash IS NULL AND c.b_id IS NULL
    RETURNING id
), {_VALUES_AND_RECORD}
SELECT c.*, (SELECT id FROM b) FROM c
"""  # noqa: S608

_renderer = JSONRenderer()


def array_literal(items) -> str:
    """A PostgreSQL array literal of ints, Decimals and None (NULL): nothing in it is text from a request."""
    return "{" + ",".join("NULL" if item is None else str(item) for item in items) + "}"


@dataclass(frozen=True)
class NewBallot:
    """A new phone ballot as INSERT_SQL and GUARDED_SQL write it, and the answer its record replays."""

    params: dict
    payload: dict
    body: bytes  # the payload as DRF's JSON renderer writes it: the answer, and the record that replays it


def new_ballot(
    *,
    presentation_id: int,
    department_code: str,
    role: RaterRole,
    pseudonym: str,
    record_pseudonym: str | None,
    form,
    values,
    idempotency_key: str | None,
    fingerprint: str,
    when,
) -> NewBallot:
    """Computes exactly what ballot_store computes (total, receipt, line digest) for a ballot whose rules
    passed (or, for GUARDED_SQL, will be read to pass)."""
    codes = {c.id: c.code for c in form}
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
    body = _renderer.render(payload)
    params = {
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
        "value_ids": array_literal(value_ids),
        "record_id": record_id,
        "record_pseudonym": record_pseudonym,
        "criteria": array_literal(c for c, _g, _p in values),
        "grades": array_literal(g for _c, g, _p in values),
        "points": array_literal(p for _c, _g, p in values),
        "key": idempotency_key,
        "fingerprint": fingerprint,
        "response": body.decode(),
    }
    return NewBallot(params, payload, body)


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


def _aware(value):
    """A timestamp as the ORM would read it. The reads are raw SQL, without the ORM's converters: PostgreSQL
    gives aware datetimes, but SQLite (the demo's database) gives the stored UTC time, naive or as text, which
    Django would otherwise take for local time on saving (the demo's ballots were 8 hours early)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def context_of(row: tuple, *, pseudonym: str) -> SubmitContext:
    """The context read's row (the first thirteen columns of either read)."""
    (p_id, state, opened_at, department_id, department_code, stored_hash, stored_status, stored_response,
     ballot_id, ballot_state, receipt, created_at, source) = row[:13]  # fmt: skip
    opened_at, created_at = _aware(opened_at), _aware(created_at)
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


# Open presentations as this process last read them (meeting, opening time, department id and code), so
# that a ballot can be written in the statement that reads its context. Never trusted: GUARDED_SQL writes
# only where the row it reads says the same. Bounded: a process lives through many meetings.
_open_presentations: dict[int, tuple[int, object, int, str]] = {}
OPEN_PRESENTATIONS_KEPT = 5_000


def open_presentation_remember(context: SubmitContext, *, meeting_id: int) -> None:
    if context.state != "open" or context.opened_at is None or context.department_code is None:
        _open_presentations.pop(context.presentation_id, None)
        return
    if len(_open_presentations) >= OPEN_PRESENTATIONS_KEPT:
        _open_presentations.clear()
    _open_presentations[context.presentation_id] = (
        meeting_id,
        context.opened_at,
        context.department_id,
        context.department_code,
    )


def open_presentation_recall(presentation_id: int) -> tuple[int, object, int, str] | None:
    return _open_presentations.get(presentation_id)
