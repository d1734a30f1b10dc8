"""Reads of the reports app: the inputs of the scoring engine, and results.

The heavy part of aggregation happens in the database: on PostgreSQL one
query reduces the counting ballots to one tally per (presentation, role), so
only a few hundred rows reach Python. Elsewhere (SQLite in the demo) the
ballot totals are read and tallied by the same pure functions.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from appraisal.models import RaterRole
from meetings.models import Meeting, Presentation
from meetings.selectors import audit_chain_problems
from voting.models import Ballot, BallotValue

from .models import Adjustment, ComponentScore, ResultSnapshot, Veto
from .scoring import DepartmentInfo, Role, RoleTally, Rules, ballot_line, ballots_digest, role_tally


def scoring_rules(meeting: Meeting) -> Rules:
    return Rules(
        full_mark=meeting.full_mark,
        rank_within_category=meeting.rank_within_category,
        tie_break_roles=tuple(meeting.tie_break_roles),
        reward_top=meeting.reward_top,
        reward_top_percent=meeting.reward_top_percent,
        reward_min_score=meeting.reward_min_score,
        admonition_bottom=meeting.admonition_bottom,
        admonition_bottom_percent=meeting.admonition_bottom_percent,
        admonition_below=meeting.admonition_below,
        meeting_weight=meeting.meeting_weight,
        components=tuple((c.code, c.weight) for c in meeting.components.order_by("order", "code")),
        final=meeting.final or None,
    )


def scoring_roles(meeting: Meeting) -> list[Role]:
    return [
        Role(code=r.code, weight=r.weight, trim=r.trim)
        for r in RaterRole.objects.filter(scheme_id=meeting.scheme_id).order_by("order", "code")
    ]


def scoring_departments(meeting: Meeting) -> list[DepartmentInfo]:
    presentations = (
        Presentation.objects.filter(meeting=meeting).select_related("department__category").order_by("order")
    )
    return [
        DepartmentInfo(
            code=p.department.code, name=p.department.name, category=p.department.category.code, order=p.order
        )
        for p in presentations
    ]


def _codes(meeting: Meeting) -> tuple[dict[int, str], dict[int, str]]:
    departments = dict(Presentation.objects.filter(meeting=meeting).values_list("pk", "department__code"))
    roles = dict(RaterRole.objects.filter(scheme_id=meeting.scheme_id).values_list("pk", "code"))
    return departments, roles


_TALLY_SIMPLE_SQL = """
SELECT g.presentation_id, g.role_id, g.n,
       CASE WHEN g.n > 2 * r.trim THEN g.n - 2 * r.trim ELSE g.n END AS kept,
       CASE WHEN g.n > 2 * r.trim AND r.trim = 1 THEN g.s - g.lo - g.hi ELSE g.s END AS kept_sum
FROM (
    SELECT b.presentation_id, b.role_id, count(*) AS n, sum(b.total) AS s, min(b.total) AS lo, max(b.total) AS hi
    FROM voting_ballot b
    JOIN meetings_presentation p ON p.id = b.presentation_id
    WHERE p.meeting_id = %s AND b.state = 'submitted'
    GROUP BY b.presentation_id, b.role_id
) g
JOIN appraisal_raterrole r ON r.id = g.role_id
"""

_TALLY_WINDOW_SQL = """
SELECT x.presentation_id, x.role_id, max(x.n) AS n,
       count(*) FILTER (WHERE x.n <= 2 * x.trim OR (x.pos > x.trim AND x.pos <= x.n - x.trim)) AS kept,
       coalesce(sum(x.total) FILTER (WHERE x.n <= 2 * x.trim OR (x.pos > x.trim AND x.pos <= x.n - x.trim)), 0) AS kept_sum
FROM (
    SELECT b.presentation_id, b.role_id, b.total, r.trim,
           count(*) OVER w AS n,
           row_number() OVER (w ORDER BY b.total, b.id) AS pos
    FROM voting_ballot b
    JOIN meetings_presentation p ON p.id = b.presentation_id
    JOIN appraisal_raterrole r ON r.id = b.role_id
    WHERE p.meeting_id = %s AND b.state = 'submitted'
    WINDOW w AS (PARTITION BY b.presentation_id, b.role_id)
) x
GROUP BY x.presentation_id, x.role_id
"""


def role_tallies_sql(meeting: Meeting) -> dict[tuple[str, str], RoleTally]:
    """Tallies computed by PostgreSQL. With trims of at most 1 (the usual
    去掉一个最高分和一个最低分) sum - min - max in one aggregate; deeper trims
    need a window over each group."""
    departments, roles = _codes(meeting)
    deep_trim = RaterRole.objects.filter(scheme_id=meeting.scheme_id, trim__gt=1).exists()
    with connection.cursor() as cursor:
        cursor.execute(_TALLY_WINDOW_SQL if deep_trim else _TALLY_SIMPLE_SQL, [meeting.pk])
        return {
            (departments[presentation_id], roles[role_id]): RoleTally(ballots=n, kept=kept, kept_sum=Decimal(kept_sum))
            for presentation_id, role_id, n, kept, kept_sum in cursor.fetchall()
        }


def role_tallies_python(meeting: Meeting) -> dict[tuple[str, str], RoleTally]:
    """The same tallies from the ballot totals, trimmed in Python (any database)."""
    departments, roles = _codes(meeting)
    trims = dict(RaterRole.objects.filter(scheme_id=meeting.scheme_id).values_list("pk", "trim"))
    totals: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    counting = Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.SUBMITTED)
    for presentation_id, role_id, total in counting.values_list("presentation_id", "role_id", "total").iterator(
        chunk_size=10000
    ):
        totals[(presentation_id, role_id)].append(total)
    return {(departments[p], roles[r]): role_tally(values, trims[r]) for (p, r), values in totals.items()}


def counting_ballot_seats(meeting: Meeting) -> list[tuple[str, str, str, Decimal, object]]:
    """(receipt, department code, role code, total, seat) of every submitted ballot of the meeting.

    The seat is the rater's id where the pseudonym key finds one (phone and paper ballots), else the
    ballot's own receipt (a survey answer). The grouping is derived here, with the key, for the worker's
    computation only (SCORING.md 11 and 14); no table stores it (docs/architecture.md)."""
    from meetings.models import Rater
    from voting.selectors import rater_pseudonyms

    presentations = list(Presentation.objects.filter(meeting=meeting).values_list("pk", flat=True))
    seat_of: dict[str, int] = {}
    for rater in Rater.objects.filter(meeting=meeting).only("pk", "meeting_id"):
        for pseudonym in rater_pseudonyms(rater, presentations):
            seat_of[pseudonym] = rater.pk
    departments, roles = _codes(meeting)
    return [
        (receipt, departments[presentation_id], roles[role_id], total, seat_of.get(pseudonym, ("answer", receipt)))
        for receipt, presentation_id, role_id, total, pseudonym in Ballot.objects.filter(
            presentation__meeting=meeting, state=Ballot.State.SUBMITTED
        )
        .values_list("receipt", "presentation_id", "role_id", "total", "pseudonym")
        .iterator(chunk_size=20000)
    ]


def role_tallies(meeting: Meeting) -> dict[tuple[str, str], RoleTally]:
    if connection.vendor == "postgresql":
        return role_tallies_sql(meeting)
    return role_tallies_python(meeting)


def component_scores(meeting: Meeting) -> dict[str, dict[str, Decimal]]:
    scores: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for code, department, value in ComponentScore.objects.filter(component__meeting=meeting).values_list(
        "component__code", "department__code", "value"
    ):
        scores[department][code] = value
    return dict(scores)


def adjustment_totals(meeting: Meeting) -> dict[str, Decimal]:
    rows = (
        Adjustment.objects.filter(meeting=meeting, withdrawn_at__isnull=True)
        .values("department__code")
        .annotate(total=Sum("points"))
    )
    return {row["department__code"]: row["total"] for row in rows}


def vetoed_departments(meeting: Meeting) -> set[str]:
    return set(
        Veto.objects.filter(meeting=meeting, withdrawn_at__isnull=True).values_list("department__code", flat=True)
    )


_DIGEST_SQL = """
SELECT encode(sha256(coalesce(string_agg(decode(b.line_sha256, 'hex'), ''::bytea ORDER BY b.receipt COLLATE "C"), ''::bytea)), 'hex'),
       count(*)
FROM voting_ballot b
JOIN meetings_presentation p ON p.id = b.presentation_id
WHERE p.meeting_id = %s AND b.state = 'submitted'
"""


def counting_ballots_digest(meeting: Meeting) -> tuple[str, int]:
    """The counting ballots' digest (scoring.ballots_digest) and their number."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_DIGEST_SQL, [meeting.pk])
            digest, count = cursor.fetchone()
            return digest, count
    digests = sorted(
        Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.SUBMITTED).values_list(
            "receipt", "line_sha256"
        )
    )
    return ballots_digest(line_sha256 for _receipt, line_sha256 in digests), len(digests)


def ballot_lines_from_values(meeting: Meeting) -> list[str]:
    """The counting ballots' canonical lines rebuilt from their values, in receipt order.

    Checks the lines stored at acceptance; the digest itself hashes the stored lines.
    """
    values = BallotValue.objects.filter(
        ballot__presentation__meeting=meeting, ballot__state=Ballot.State.SUBMITTED
    ).values_list(
        "ballot__receipt",
        "ballot__presentation_id",
        "ballot__presentation__department__code",
        "ballot__role__code",
        "criterion__code",
        "points",
    )
    ballots: dict[str, tuple] = {}
    points: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for receipt, presentation_id, department, role, criterion, value in values.iterator(chunk_size=20000):
        ballots[receipt] = (presentation_id, department, role)
        points[receipt][criterion] = value
    return [
        ballot_line(receipt=receipt, presentation=p, department=d, role=r, points=points[receipt])
        for receipt, (p, d, r) in sorted(ballots.items())
    ]


def counting_ballot_totals(meeting: Meeting) -> list[tuple[int, Decimal]]:
    return list(
        Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.SUBMITTED)
        .order_by("pk")
        .values_list("pk", "total")
    )


def snapshot_latest(meeting: Meeting) -> ResultSnapshot | None:
    return ResultSnapshot.objects.filter(meeting=meeting).order_by("-computed_at", "-id").first()


def snapshot_published(meeting: Meeting) -> ResultSnapshot | None:
    return ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).first()


def receipt_check(*, meeting_id: int, receipt: str) -> dict | None:
    """Whether a receipt's ballot was counted in the meeting's published result; None if nothing is published."""
    import json

    from voting.selectors import receipt_display, receipt_normalise

    snapshot = ResultSnapshot.objects.filter(
        meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
    ).first()
    if snapshot is None:
        return None
    code = receipt_normalise(receipt)
    ballot = Ballot.objects.filter(presentation__meeting_id=meeting_id, receipt=code).values("pk", "state").first()
    counted = False
    # Declared invalid (SCORING.md 11): submitted, but it counts nowhere.
    invalid = ballot is not None and code in (snapshot.analysis or {}).get("invalid_ballots", {})
    if ballot is not None and not invalid:
        counted = any(ballot_id == ballot["pk"] for ballot_id, _t in json.loads(snapshot.inputs)["ballots"])
    return {
        "receipt": receipt_display(code) if ballot else receipt,
        "known": ballot is not None,
        "counted": counted,
        "void": ballot is not None and ballot["state"] == Ballot.State.VOID,
        "invalid": invalid,
        "snapshot": snapshot.pk,
        "digest": snapshot.digest,
        "stage": snapshot.stage or "final",
        "publicity_until": snapshot.publicity_until.isoformat() if snapshot.publicity_until else None,
    }


def audit_anchors(meeting: Meeting) -> list[tuple[str, dict]]:
    """The audit heads the meeting's snapshots and publications recorded, to catch a truncated chain."""
    anchors: list[tuple[str, dict]] = []
    for pk, head, published_head in ResultSnapshot.objects.filter(meeting=meeting).values_list(
        "pk", "audit_head", "published_audit_head"
    ):
        if head:
            anchors.append((f"snapshot {pk}", head))
        if published_head:
            anchors.append((f"the publication of snapshot {pk}", published_head))
    return anchors


def audit_problems(meeting: Meeting, *, head: dict | None = None) -> list[str]:
    """The meeting's audit chain checked on its own and against every head recorded of it
    (and ``head``, one taken from an export or the public page)."""
    anchors = audit_anchors(meeting)
    if head is not None:
        anchors.append(("the head given", head))
    return audit_chain_problems(meeting=meeting, anchors=anchors)


def previous_chain(meeting: Meeting) -> list[tuple[int, list | None]]:
    """The meeting's previous meetings, nearest first, each with the rows of its published snapshot (None
    when nothing of it is published, where the walk stops), for SCORING.md 12. Loops are cut."""
    chain: list[tuple[int, list | None]] = []
    seen = {meeting.pk}
    previous_id = meeting.previous_id
    while previous_id is not None and previous_id not in seen:
        seen.add(previous_id)
        published = (
            ResultSnapshot.objects.filter(meeting_id=previous_id, published_at__isnull=False)
            .values_list("rows", flat=True)
            .first()
        )
        chain.append((previous_id, published))
        if published is None:
            break
        previous_id = Meeting.objects.filter(pk=previous_id).values_list("previous_id", flat=True).first()
    return chain


def department_history(meeting: Meeting, code: str) -> list[dict]:
    """A department's every cycle, oldest first: this meeting's latest result and each previous meeting's
    published one (SCORING.md 12), with rank, final and flags. Loops are cut."""
    out = []
    seen: set[int] = set()
    current: Meeting | None = meeting
    while current is not None and current.pk not in seen:
        seen.add(current.pk)
        snapshots = ResultSnapshot.objects.filter(meeting=current)
        snapshot = (
            snapshot_latest(current)
            if current.pk == meeting.pk
            else snapshots.filter(published_at__isnull=False).first()
        )
        row = next((r for r in snapshot.rows if r["department"] == code), None) if snapshot else None
        out.append(
            {
                "meeting": current,
                "year": current.scheme.cycle.year,
                "published": bool(snapshot and snapshot.published_at),
                "row": row,
            }
        )
        current = Meeting.objects.select_related("scheme__cycle").filter(pk=current.previous_id).first()
    return list(reversed(out))
