"""Reads of the voting app: forms, pseudonyms, what a rater's phone shows, turnout, the live meeting state."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count

from appraisal.models import Criterion, RaterRole
from meetings.models import Meeting, Presentation, Rater
from meetings.services import rater_token_hash

from .models import Ballot, BallotValue

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


@dataclass(frozen=True)
class FormCriterion:
    """A criterion of a role's form, with what a value must satisfy."""

    id: int
    code: str
    name: str
    kind: str
    max_value: Decimal | None
    step: Decimal | None
    grades: Mapping[str, tuple[int, Decimal]]  # grade code -> (grade id, points), best first
    grade_labels: Mapping[str, str]

    @property
    def max_points(self) -> Decimal:
        return self.max_value if self.kind == "numeric" else max(points for _id, points in self.grades.values())


# Forms are fixed once a meeting is set up; every ballot reads one, so each process keeps them briefly.
_form_memo: dict[int, tuple[float, list]] = {}
FORM_MEMO_SECONDS = 30.0


def role_form(role: RaterRole) -> list[FormCriterion]:
    now = time.monotonic()
    memo = _form_memo.get(role.pk)
    if memo is not None and now - memo[0] < FORM_MEMO_SECONDS:
        return memo[1]
    form = _role_form_read(role)
    _form_memo[role.pk] = (now, form)
    return form


def _role_form_read(role: RaterRole) -> list[FormCriterion]:
    criteria = Criterion.objects.filter(role=role).prefetch_related("grades").order_by("order", "code")
    return [
        FormCriterion(
            id=c.pk,
            code=c.code,
            name=c.name,
            kind=c.kind,
            max_value=c.max_value,
            step=c.step,
            grades={g.code: (g.pk, g.points) for g in c.grades.all()},
            grade_labels={g.code: g.label for g in c.grades.all()},
        )
        for c in criteria
    ]


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

        only = BALLOT_COLUMNS if shape == "ballot" else {}
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
        sql = (
            f"SELECT {', '.join(columns)} FROM {Rater._meta.db_table} r "  # noqa: S608
            f"JOIN {Meeting._meta.db_table} m ON m.id = r.meeting_id "
            f"JOIN {RaterRole._meta.db_table} ro ON ro.id = r.role_id "
        )
        if len(parts) == 4:
            sql += f"LEFT JOIN {Department._meta.db_table} d ON d.id = r.department_id "
        query = _rater_queries[shape] = (sql + "WHERE r.token_hash = %s AND r.revoked_at IS NULL", models)
    return query


def rater_by_token(token: str, *, shape: str = "full") -> Rater | None:
    """The active seat a token belongs to, or None (unknown, malformed or revoked), with its meeting, role and
    department loaded as select_related would ("full"), or what a ballot reads of them ("ballot")."""
    from django.db import connection

    if not token or len(token) > 64 or not token.isascii():
        return None
    from appraisal.prepared import fetchone_first

    sql, models = _rater_query(shape)
    # Planned once per connection, not per ballot; the request's first statement, so it is the health check.
    row = fetchone_first(sql, [rater_token_hash(token)])
    if row is None:
        return None
    instances, start = {}, 0
    for name, model, attnames, converters in models:
        values = list(row[start : start + len(attnames)])
        start += len(attnames)
        if values[0] is None:  # no department (a seat not tied to one)
            instances[name] = None
            continue
        for i, (column, functions) in enumerate(converters):
            for convert in functions:  # as the ORM's compiler applies them, None included
                values[i] = convert(values[i], column, connection)
        # Fewer names than columns: the others are deferred, as with QuerySet.only().
        instances[name] = model.from_db(connection.alias, attnames, values)
    rater = instances["rater"]
    Rater.meeting.field.set_cached_value(rater, instances["meeting"])
    Rater.role.field.set_cached_value(rater, instances["role"])
    if "department" in instances:
        Rater.department.field.set_cached_value(rater, instances["department"])
    return rater


def quota_limit(meeting: Meeting, presentation_count: int) -> int | None:
    """How many presentations one rater may give the quota grade: floor of the percent."""
    if meeting.excellent_quota_max_percent is None or not meeting.excellent_quota_criterion:
        return None
    return int(meeting.excellent_quota_max_percent * presentation_count // 100)


def quota_used(*, pseudonyms: Sequence[str], meeting: Meeting, exclude_presentation_id: int | None = None) -> int:
    """How many of the seat's ballots (its pseudonyms, one per presentation) carry the quota grade."""
    used = BallotValue.objects.filter(
        ballot__pseudonym__in=list(pseudonyms),
        ballot__state=Ballot.State.SUBMITTED,
        criterion__code=meeting.excellent_quota_criterion,
        grade__code=meeting.excellent_quota_grade,
    )
    if exclude_presentation_id is not None:
        used = used.exclude(ballot__presentation_id=exclude_presentation_id)
    return used.count()


def ballot_scores(values: Sequence[BallotValue]) -> dict[str, str]:
    """A ballot's scores as the rater sent them: the number, or the grade's code (values with criterion and grade)."""
    return {v.criterion.code: v.grade.code if v.grade_id else str(v.points) for v in values}


@dataclass
class RaterPresentation:
    id: int
    order: int
    department: str
    name: str
    state: str
    recused: bool
    ballot: dict | None


@dataclass
class RaterView:
    rater: Rater
    form: list[FormCriterion]
    presentations: list[RaterPresentation]
    quota_limit: int | None
    quota_used: int

    @property
    def current(self) -> list[RaterPresentation]:
        return [p for p in self.presentations if p.state == Presentation.State.OPEN]

    @property
    def quota_label(self) -> str:
        """The quota grade's label as the form shows it (优秀)."""
        meeting = self.rater.meeting
        for criterion in self.form:
            if criterion.code == meeting.excellent_quota_criterion:
                return criterion.grade_labels.get(meeting.excellent_quota_grade, meeting.excellent_quota_grade)
        return meeting.excellent_quota_grade

    @property
    def quota_remaining(self) -> int | None:
        return None if self.quota_limit is None else max(0, self.quota_limit - self.quota_used)


def rater_view(rater: Rater) -> RaterView:
    """Everything a rater's phone shows, in a fixed number of queries whatever the agenda's length."""
    meeting = rater.meeting
    presentations = list(
        Presentation.objects.filter(meeting_id=meeting.pk).select_related("department").order_by("order")
    )
    pseudonyms = rater_pseudonyms(rater, [p.pk for p in presentations])
    ballots = {
        b.presentation_id: b
        for b in Ballot.objects.filter(pseudonym__in=list(pseudonyms), presentation__meeting_id=meeting.pk)
    }
    values = defaultdict(list)
    for value in BallotValue.objects.filter(ballot__in=list(ballots.values())).select_related("criterion", "grade"):
        values[value.ballot_id].append(value)
    quota_used = 0
    if meeting.excellent_quota_criterion:
        quota_used = sum(
            1
            for b in ballots.values()
            if b.state == Ballot.State.SUBMITTED
            for v in values[b.pk]
            if v.criterion.code == meeting.excellent_quota_criterion
            and v.grade_id
            and v.grade.code == meeting.excellent_quota_grade
        )
    rows = []
    for p in presentations:
        ballot = ballots.get(p.pk)
        rows.append(
            RaterPresentation(
                id=p.pk,
                order=p.order,
                department=p.department.code,
                name=p.department.name,
                state=p.state,
                recused=rater.department_id is not None and p.department_id == rater.department_id,
                ballot=None
                if ballot is None
                else {
                    "receipt": receipt_display(ballot.receipt),
                    "state": ballot.state,
                    "scores": ballot_scores(values[ballot.pk]),
                    "total": str(ballot.total),
                    "updated_at": ballot.updated_at.isoformat(),
                },
            )
        )
    form = role_form(rater.role)
    # The quota concerns only the roles whose form has that grade criterion.
    quota_applies = any(
        c.code == meeting.excellent_quota_criterion and meeting.excellent_quota_grade in c.grades for c in form
    )
    return RaterView(
        rater=rater,
        form=form,
        presentations=rows,
        quota_limit=quota_limit(meeting, len(presentations)) if quota_applies else None,
        quota_used=quota_used,
    )


def meeting_progress(meeting: Meeting) -> dict:
    """Turnout per presentation and role: seats expected (recusals excepted) and counting ballots in,
    "ballots" in all, "hall" from the seats (phone and paper) and "survey" from imported sheets."""
    seats = defaultdict(int)
    recused = defaultdict(int)  # (department id, role id) -> seats of that role recused from it
    for role_id, department_id, count in (
        Rater.objects.filter(meeting=meeting, revoked_at__isnull=True)
        .values_list("role_id", "department_id")
        .annotate(n=Count("pk"))
    ):
        seats[role_id] += count
        if department_id is not None:
            recused[(department_id, role_id)] += count
    # Seats in the hall (phone and paper) and survey answers apart: a survey role has no seats, and
    # its answers must not read as the hall's turnout.
    hall, survey = defaultdict(int), defaultdict(int)
    for row in (
        Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.SUBMITTED)
        .values("presentation_id", "role_id", "source")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts = survey if row["source"] == Ballot.Source.SURVEY else hall
        counts[(row["presentation_id"], row["role_id"])] += row["n"]
    roles = list(meeting.scheme.roles.order_by("order", "code").values("pk", "code", "name"))
    presentations = []
    for p in Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"):
        per_role = {}
        for role in roles:
            per_role[role["code"]] = {
                "name": role["name"],
                "expected": seats[role["pk"]] - recused[(p.department_id, role["pk"])],
                "ballots": hall[(p.pk, role["pk"])] + survey[(p.pk, role["pk"])],
                "hall": hall[(p.pk, role["pk"])],
                "survey": survey[(p.pk, role["pk"])],
            }
        presentations.append(
            {
                "id": p.pk,
                "order": p.order,
                "department": p.department.code,
                "name": p.department.name,
                "state": p.state,
                "roles": per_role,
                "expected": sum(r["expected"] for r in per_role.values()),
                "ballots": sum(r["ballots"] for r in per_role.values()),
                "hall": sum(r["hall"] for r in per_role.values()),
                "survey": sum(r["survey"] for r in per_role.values()),
            }
        )
    return {"meeting": meeting.pk, "presentations": presentations}


LIVE_STATE_SECONDS = 2


def live_state_key(meeting_id: int) -> str:
    return f"meeting-live:{meeting_id}"


# Per process, for a fraction of the cache's lifetime: most polls never leave the worker.
_local_live: dict[int, tuple[float, dict]] = {}
LOCAL_LIVE_SECONDS = 1.0


_public_memo: dict[int, tuple[float, bool]] = {}
_token_memo: dict[str, tuple[float, int | None]] = {}
PUBLIC_MEMO_SECONDS = 5.0
TOKEN_MEMO_SECONDS = 60.0


def meeting_public(meeting_id: int) -> bool:
    """Whether anyone may follow the meeting: not a rehearsal, and its result published. Remembered a few
    seconds per process: two thousand phones poll."""
    from reports.models import ResultSnapshot

    now = time.monotonic()
    memo = _public_memo.get(meeting_id)
    if memo is not None and now - memo[0] < PUBLIC_MEMO_SECONDS:
        return memo[1]
    public = ResultSnapshot.objects.filter(
        meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
    ).exists()
    _public_memo[meeting_id] = (now, public)
    return public


def token_meeting(token: str, ip: str) -> int | None:
    """The meeting of a rater's card (the live poll's credential), remembered a minute per process; unknown
    tokens count against the address as every other look-up does (voting.throttle)."""
    from .authentication import rater_lookup

    key = rater_token_hash(token)
    now = time.monotonic()
    memo = _token_memo.get(key)
    if memo is not None and now - memo[0] < TOKEN_MEMO_SECONDS:
        return memo[1]
    rater = rater_lookup(token, ip)
    meeting_id = rater.meeting_id if rater is not None else None
    if rater is not None and len(_token_memo) < 100_000:
        _token_memo[key] = (now, meeting_id)
    return meeting_id


def meeting_live_state(meeting_id: int) -> dict | None:
    """The tiny state every phone polls: which presentation is open. Cached; the cache is optional."""
    now = time.monotonic()
    local = _local_live.get(meeting_id)
    if local is not None and now - local[0] < LOCAL_LIVE_SECONDS:
        return local[1]
    try:
        cached = cache.get(live_state_key(meeting_id))
    except Exception:  # a cache outage falls back to the database
        cached = None
    if cached is not None:
        _local_live[meeting_id] = (now, cached)
        return cached
    rows = list(
        Presentation.objects.filter(meeting_id=meeting_id)
        .order_by("order")
        .values_list("pk", "order", "state", "department__name", "meeting__countdown_ends_at")
    )
    if not rows:
        return None
    open_rows = [r for r in rows if r[2] == Presentation.State.OPEN]
    state = {
        "meeting": meeting_id,
        "open": [r[0] for r in open_rows],
        "current": None
        if not open_rows
        else {"id": open_rows[0][0], "order": open_rows[0][1], "name": open_rows[0][3]},
        "closed": sum(1 for r in rows if r[2] == Presentation.State.CLOSED),
        "total": len(rows),
        "countdown_ends_at": rows[0][4].isoformat() if rows[0][4] else None,
    }
    state["etag"] = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    try:
        # Short-lived: even if an invalidation is lost to a cache outage, phones catch up within seconds.
        cache.set(live_state_key(meeting_id), state, LIVE_STATE_SECONDS)
    except Exception:
        logger.warning("cache unavailable; live state served from the database")
    _local_live[meeting_id] = (now, state)
    return state


def seat_ballot_counts(raters: list[Rater]) -> dict[int, int]:
    """How many ballots each seat has cast (never which), in one query."""
    presentations: dict[int, list[int]] = defaultdict(list)
    for meeting_id, pk in Presentation.objects.filter(meeting_id__in={r.meeting_id for r in raters}).values_list(
        "meeting_id", "pk"
    ):
        presentations[meeting_id].append(pk)
    by_pseudonym = {pseudonym: r.pk for r in raters for pseudonym in rater_pseudonyms(r, presentations[r.meeting_id])}
    counts = (
        Ballot.objects.filter(pseudonym__in=list(by_pseudonym), state=Ballot.State.SUBMITTED)
        .values("pseudonym")
        .annotate(n=Count("pk"))
    )
    return {by_pseudonym[row["pseudonym"]]: row["n"] for row in counts}


def survey_batches(meeting: Meeting) -> list:
    """The meeting's imported survey sheets, oldest first, with who imported and withdrew them."""
    from .models import SurveyBatch

    return list(
        SurveyBatch.objects.filter(meeting=meeting).select_related("role", "created_by", "withdrawn_by").order_by("pk")
    )
