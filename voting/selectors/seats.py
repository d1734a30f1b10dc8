"""The seat behind a token and the keyed names of its ballots: pseudonyms, the seat lock, receipts."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from django.conf import settings

from meetings.models import Meeting, Rater
from meetings.services import rater_token_hash

logger = logging.getLogger(__name__)


_keyed: tuple[str, object] | None = None


def _hmac(message: str) -> str:
    """HMAC-SHA256 under BALLOT_PSEUDONYM_KEY. The keyed state is built once per process and copied per
    message: the worker derives hundreds of thousands of pseudonyms per aggregation."""
    global _keyed
    key = settings.BALLOT_PSEUDONYM_KEY
    if _keyed is None or _keyed[0] != key:  # a test may change the setting
        _keyed = (key, hmac.new(key.encode(), digestmod=hashlib.sha256))
    mac = _keyed[1].copy()
    mac.update(message.encode())
    return mac.hexdigest()


def seat_pseudonym(*, meeting_id: int, seat_key: str, presentation_id: int) -> str:
    """HMAC of a seat and one presentation with BALLOT_PSEUDONYM_KEY (not in the database).

    One pseudonym per seat and presentation: whoever holds the key and the seat finds the seat's
    ballots; the data alone cannot even tell that two ballots came from one seat (docs/architecture.md)."""
    return _hmac(f"{meeting_id}:{seat_key}:p{presentation_id}")


def rater_pseudonym(rater: Rater, presentation_id: int) -> str:
    """The pseudonym of the seat's ballot for one presentation."""
    return seat_pseudonym(meeting_id=rater.meeting_id, seat_key=f"seat:{rater.pk}", presentation_id=presentation_id)


def rater_pseudonyms(rater: Rater, presentation_ids) -> dict[str, int]:
    """The seat's pseudonyms for the given presentations (pseudonym -> presentation id), derived with the
    key where a seat's ballots are needed together (its own pages, the quota); no table stores them."""
    return {rater_pseudonym(rater, pid): pid for pid in presentation_ids}


def idempotency_pseudonym(rater: Rater, key: str) -> str:
    """The owner of an idempotency record: an HMAC of the seat and the key itself, so that two records
    of one seat share nothing a database reader could group."""
    return _hmac(f"{rater.meeting_id}:seat:{rater.pk}:idempotency:{key}")


def seat_lock_id(rater: Rater) -> int:
    """A 64-bit advisory-lock id for the seat (pg_advisory_xact_lock), keyed so that neither pg_locks nor
    anything else written links it to the rater's row. Never a row lock on meetings_rater: that would leave
    the ballot transaction's id in the rater row's xmax (issue 13)."""
    digest = hmac.new(
        settings.BALLOT_PSEUDONYM_KEY.encode(), f"{rater.meeting_id}:lock:{rater.pk}".encode(), hashlib.sha256
    ).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def receipt_display(receipt: str) -> str:
    return "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def receipt_normalise(text: str) -> str:
    """What a person typed back into a receipt code: case, dashes and look-alike letters forgiven."""
    cleaned = text.upper().translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    # Only ASCII letters and digits can be part of a code: dashes, spaces and anything stray
    # (a NUL included, which PostgreSQL would refuse to look up) go.
    return "".join(c for c in cleaned if c.isascii() and c.isalnum())


# What a ballot reads of its seat (voting.ballot_view): the rest of the meeting is deferred, its department not
# joined. A meeting row is some thirty columns, three of them JSON; converting them all cost a ballot more
# than the SELECT itself (issue 19). Anything else touched on a ballot's path loads as a deferred field would.
BALLOT_COLUMNS = {
    # The seat without its name and the time its token was issued (a timestamp costs a parse).
    "rater": ("id", "meeting_id", "role_id", "seat_no", "department_id", "token_hash", "revoked_at"),
    "meeting": ("id", "scheme_id", "excellent_quota_criterion", "excellent_quota_grade", "excellent_quota_max_percent"),
    "department": (),
}

_rater_queries: dict[str, tuple[str, list]] = {}


def _rater_query(shape: str) -> tuple[str, list]:
    """The seat with its meeting, role and department in one SELECT, written once per shape from the models'
    columns: "full" (every column, as select_related reads them) or "ballot" (BALLOT_COLUMNS).

    Every ballot looks its token up; building that query through the ORM (select_related, first()) cost
    about a third of a ballot's Python time in compiling it (issue 19). The SQL is the same each time, so it
    is composed once per process, with the converters the ORM would apply to each column (SQLite's decimals
    and dates, JSON), and each request only executes it."""
    query = _rater_queries.get(shape)
    if query is None:
        from django.db import connection

        from appraisal.models import Department, RaterRole

        only = BALLOT_COLUMNS if shape in ("ballot", "poll") else {}
        parts = [("rater", Rater, "r"), ("meeting", Meeting, "m"), ("role", RaterRole, "ro")]
        if only.get("department", True):
            parts.append(("department", Department, "d"))
        models, columns = [], []
        for name, model, alias in parts:
            fields = [f for f in model._meta.concrete_fields if name not in only or f.attname in only[name]]
            converters = []
            for field in fields:
                column = field.get_col(alias)
                converters.append(
                    (column, connection.ops.get_db_converters(column) + field.get_db_converters(connection))
                )
            models.append((name, model, [f.attname for f in fields], converters))
            columns += [f'{alias}."{f.column}"' for f in fields]
        # Table and column names from the models, never from input; the token's hash is a parameter.
        joins = (
            f"JOIN {Meeting._meta.db_table} m ON m.id = r.meeting_id "
            f"JOIN {RaterRole._meta.db_table} ro ON ro.id = r.role_id "
        )
        if len(parts) == 4:
            joins += f"LEFT JOIN {Department._meta.db_table} d ON d.id = r.department_id "
        select = f"SELECT {', '.join(columns)} FROM {Rater._meta.db_table} r {joins}"  # noqa: S608
        sql = select + "WHERE r.token_hash = %s AND r.revoked_at IS NULL"
        if shape == "poll" and connection.vendor == "postgresql":
            # The seat, then every other active seat of its meeting unless the meeting is among those the
            # process read lately (the array): one statement still. The meeting is filtered before the join,
            # so a meeting already read costs the index look-up of the token's row and nothing more.
            sql += (
                f" UNION ALL SELECT {', '.join(columns)} "  # noqa: S608
                f"FROM (SELECT meeting_id FROM {Rater._meta.db_table} WHERE token_hash = %s AND revoked_at IS NULL"
                " AND NOT (meeting_id = ANY(%s::text::bigint[])) AND %s::boolean) t "
                f"JOIN {Rater._meta.db_table} r ON r.meeting_id = t.meeting_id {joins}"
                "WHERE r.revoked_at IS NULL AND r.token_hash <> %s"
            )
        query = _rater_queries[shape] = (sql, models)
    return query


def _rater_of(row, models, connection, shared: dict | None = None) -> Rater:
    """A seat from one row of _rater_query, its meeting, role and department set as select_related sets them.
    ``shared`` (model name and id -> instance) lets the rows of one meeting share their meeting and role."""
    instances, start = {}, 0
    for name, model, attnames, converters in models:
        values = list(row[start : start + len(attnames)])
        start += len(attnames)
        if values[0] is None:  # no department (a seat not tied to one)
            instances[name] = None
            continue
        if shared is not None and (name, values[0]) in shared:
            instances[name] = shared[name, values[0]]
            continue
        for i, (column, functions) in enumerate(converters):
            for convert in functions:  # as the ORM's compiler applies them, None included
                values[i] = convert(values[i], column, connection)
        # Fewer names than columns: the others are deferred, as with QuerySet.only().
        instances[name] = model.from_db(connection.alias, attnames, values)
        if shared is not None and name != "rater":
            shared[name, values[0]] = instances[name]
    rater = instances["rater"]
    Rater.meeting.field.set_cached_value(rater, instances["meeting"])
    Rater.role.field.set_cached_value(rater, instances["role"])
    if "department" in instances:
        Rater.department.field.set_cached_value(rater, instances["department"])
    return rater


# Seats as a ballot reads them ("ballot"), per process, by their token's hash, as the last read found them:
# a ballot of a seat its worker remembers skips the token's read, and the statement that writes it checks
# again that the token is the seat's and not revoked, with the seat's role and department
# (voting.services.submit.ballot_submit_remembered). Never trusted alone; bounded and short-lived.
_seat_memo: dict[str, tuple[float, Rater]] = {}
SEAT_MEMO_SECONDS = 30.0
SEATS_KEPT = 20_000
# The meetings whose active seats a live poll's read brought in (shape "poll"), and when.
_seated_meetings: dict[int, float] = {}
# When expired seats were last dropped (_room_for_meetings).
_pruned: dict[str, float] = {}
PRUNE_SECONDS = 1.0


def seat_remembered(token_hash: str) -> Rater | None:
    memo = _seat_memo.get(token_hash)
    if memo is None or time.monotonic() - memo[0] >= SEAT_MEMO_SECONDS:
        return None
    return memo[1]


def _seat_keep(token_hash: str, rater: Rater, now: float) -> None:
    if len(_seat_memo) >= SEATS_KEPT:
        _seat_memo.clear()
        _seated_meetings.clear()
    _seat_memo[token_hash] = (now, rater)


def _room_for_meetings(now: float) -> bool:
    """Whether a meeting's seats may still be brought in: the memo under half its bound, counting only seats
    not yet expired (expired ones are dropped at most once a PRUNE_SECONDS). A city with more seats than that
    has the rest remembered one by one as they are read, rather than clearing the memo at its bound and
    reading whole meetings again on every poll."""
    if len(_seat_memo) < SEATS_KEPT // 2:
        return True
    if now - _pruned.get("at", float("-inf")) >= PRUNE_SECONDS:
        _pruned["at"] = now
        # Copies (one C call each): with gunicorn's threads, another request may change the dicts meanwhile.
        for token_hash, (when, _rater) in list(_seat_memo.items()):
            if now - when >= SEAT_MEMO_SECONDS:
                _seat_memo.pop(token_hash, None)
        for meeting_id, when in list(_seated_meetings.items()):
            if now - when >= SEAT_MEMO_SECONDS:
                _seated_meetings.pop(meeting_id, None)
    return len(_seat_memo) < SEATS_KEPT // 2


def rater_by_token(token: str, *, shape: str = "full") -> Rater | None:
    """The active seat a token belongs to, or None (unknown, malformed or revoked), with its meeting, role and
    department loaded as select_related would ("full"), or what a ballot reads of them ("ballot", remembered
    per process: seat_remembered).

    "poll" (the live poll's read) is "ballot" with, in the same statement, every other active seat of the
    meeting, once per SEAT_MEMO_SECONDS per process. Phones poll through whichever worker is free, and a poll
    is mostly answered from the worker's memo of its token (voting.selectors.live.token_meeting) without
    reading the seat: a worker remembering only the seats it read would take a hall's burst with a token
    read per ballot, a round trip more. A seat issued later is read when it comes; one revoked or reissued
    since fails the guarded statement's check and is read again."""
    from django.db import connection

    if not token or len(token) > 64 or not token.isascii():
        return None
    from appraisal.prepared import fetchall_first, fetchone_first

    sql, models = _rater_query(shape)
    token_hash = rater_token_hash(token)
    # Planned once per connection, not per ballot; the request's first statement, so it is the health check.
    if shape == "poll" and connection.vendor == "postgresql":
        now = time.monotonic()
        seated = [m for m, when in list(_seated_meetings.items()) if now - when < SEAT_MEMO_SECONDS]
        room = _room_for_meetings(now)
        seated_array = "{" + ",".join(map(str, seated)) + "}"
        rows = fetchall_first(sql, [token_hash, token_hash, seated_array, room, token_hash])
    else:
        row = fetchone_first(sql, [token_hash])
        rows = [] if row is None else [row]
    if not rows:
        _seat_memo.pop(token_hash, None)  # revoked or reissued: forgotten at once
        return None
    # The token's own row comes from the union's first branch, but PostgreSQL does not promise the order.
    hash_at = models[0][2].index("token_hash")
    own = next(row for row in rows if row[hash_at] == token_hash)
    rater = _rater_of(own, models, connection)
    if shape == "full":
        return rater
    now = time.monotonic()
    _seat_keep(token_hash, rater, now)
    if shape == "poll" and connection.vendor == "postgresql" and room and rater.meeting_id not in seated:
        # The meeting's other seats came with it (none, for a meeting of one seat): remembered sharing one
        # meeting and one role instance per role, as the meeting's seats.
        shared = {("meeting", rater.meeting_id): rater.meeting, ("role", rater.role_id): rater.role}
        for row in rows:
            if row is not own:
                other = _rater_of(row, models, connection, shared)
                _seat_keep(other.token_hash, other, now)
        _seated_meetings[rater.meeting_id] = now
    return rater
