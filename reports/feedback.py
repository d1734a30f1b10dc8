"""Each department's feedback (结果反馈): the breakdown it needs for its follow-up (整改), from a snapshot.

Read from what the snapshot counted (its inputs), never from ballots that came or went afterwards, and
never ballot by ballot: role scores with ballots counted, kept and invalid, per-criterion means, the
distribution of totals (only from 5 ballots up), rank, margins and history."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

from appraisal.models import RaterRole
from meetings.models import Meeting, Presentation
from voting.models import Ballot, BallotValue

from .models import DepartmentContact, ResultSnapshot

DISTRIBUTION_MIN_BALLOTS = 5
BINS = 10


def q4(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


def feedback_snapshot(meeting: Meeting, *, contact: bool) -> ResultSnapshot | None:
    """The published result for a department's contact; the latest for organizers and auditors."""
    published = ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).first()
    if contact or published is not None:
        return published
    return ResultSnapshot.objects.filter(meeting=meeting).order_by("-computed_at", "-id").first()


def feedback_context(snapshot: ResultSnapshot) -> dict:
    """What every department's feedback of one snapshot reads alike: the ballots it counted, those declared
    invalid, the roles and the full mark. Read once when all departments are printed together."""
    return {
        "counted": {ballot_id for ballot_id, _total in json.loads(snapshot.inputs)["ballots"]},
        "invalid": set((snapshot.analysis or {}).get("invalid_ballots", {})),
        "roles": {
            r.code: r for r in RaterRole.objects.filter(scheme_id=snapshot.meeting.scheme_id).order_by("order", "code")
        },
        "full": Decimal(snapshot.config["full_mark"]),
    }


def departments_feedback(snapshot: ResultSnapshot) -> list[dict]:
    """Every ranked or listed department's feedback, in the snapshot's order (the organizers' PDF).

    The meeting's ballots and their values are read once for all departments, not per department."""
    shared = feedback_context(snapshot)
    counted = shared["counted"]
    ballots: dict[str, list[tuple]] = defaultdict(list)
    for department, *ballot in Ballot.objects.filter(presentation__meeting_id=snapshot.meeting_id).values_list(
        "presentation__department__code", "pk", "role__code", "total", "receipt"
    ):
        if ballot[0] in counted:
            ballots[department].append(tuple(ballot))
    valid_ids = {b[0] for found in ballots.values() for b in found if b[3] not in shared["invalid"]}
    values: dict[int, list[tuple]] = defaultdict(list)
    # By the meeting, not by a list of thousands of ids; the values of ballots not counted are passed over.
    for ballot_id, *value in BallotValue.objects.filter(
        ballot__presentation__meeting_id=snapshot.meeting_id
    ).values_list("ballot_id", "criterion__code", "criterion__name", "points"):
        if ballot_id in valid_ids:
            values[ballot_id].append(tuple(value))
    presented = set(
        Presentation.objects.filter(meeting_id=snapshot.meeting_id).values_list("department__code", flat=True)
    )
    return [
        _feedback(snapshot, row, ballots.get(row["department"], []), values, shared)
        for row in snapshot.rows
        if row["department"] in presented
    ]


def department_feedback(snapshot: ResultSnapshot, code: str, *, shared: dict | None = None) -> dict | None:
    row = next((r for r in snapshot.rows if r["department"] == code), None)
    presentation = Presentation.objects.filter(meeting_id=snapshot.meeting_id, department__code=code).first()
    if row is None or presentation is None:
        return None
    shared = shared or feedback_context(snapshot)
    counted, invalid_receipts = shared["counted"], shared["invalid"]
    # The department's own ballots, kept when the snapshot counted them (its inputs), never others.
    ballots = [
        b
        for b in Ballot.objects.filter(presentation=presentation).values_list("pk", "role__code", "total", "receipt")
        if b[0] in counted
    ]
    values: dict[int, list[tuple]] = defaultdict(list)
    valid_ids = [pk for pk, _role, _total, receipt in ballots if receipt not in invalid_receipts]
    for ballot_id, *value in BallotValue.objects.filter(ballot_id__in=valid_ids).values_list(
        "ballot_id", "criterion__code", "criterion__name", "points"
    ):
        values[ballot_id].append(tuple(value))
    return _feedback(snapshot, row, ballots, values, shared)


def _feedback(snapshot: ResultSnapshot, row: dict, ballots: list[tuple], values: dict, shared: dict) -> dict:
    """One department's feedback from its counted ballots (id, role, total, receipt) and their values."""
    code = row["department"]
    invalid_receipts, roles, full = shared["invalid"], shared["roles"], shared["full"]
    valid = {pk: (role, total) for pk, role, total, receipt in ballots if receipt not in invalid_receipts}
    invalid_count: dict[str, int] = defaultdict(int)
    for _pk, role, _total, receipt in ballots:
        if receipt in invalid_receipts:
            invalid_count[role] += 1
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    names: dict[tuple[str, str], str] = {}
    for ballot_id, (role, _total) in valid.items():
        for criterion, name, points in values.get(ballot_id, ()):
            sums[(role, criterion)] += points
            counts[(role, criterion)] += 1
            names[(role, criterion)] = name
    out_roles = {}
    for code_, role in roles.items():
        totals = [total for role_code, total in valid.values() if role_code == code_]
        score = row["role_scores"].get(code_, {})
        distribution = None
        if len(totals) >= DISTRIBUTION_MIN_BALLOTS:
            bins = [0] * BINS
            for total in totals:
                bins[min(BINS - 1, int(total * BINS / full))] += 1
            distribution = [
                {"from": q4(full * i / BINS), "to": q4(full * (i + 1) / BINS), "ballots": n} for i, n in enumerate(bins)
            ]
        out_roles[code_] = {
            "name": role.name,
            "score": score.get("score"),
            "ballots": score.get("ballots", 0),
            "kept": score.get("kept", 0),
            "invalid": invalid_count.get(code_, 0),
            "criteria": [
                {
                    "code": criterion,
                    "name": names[(r, criterion)],
                    "mean": q4(sums[(r, criterion)] / counts[(r, criterion)]),
                }
                for (r, criterion) in sorted(sums)
                if r == code_
            ],
            # Withheld under 5 ballots: a distribution of a handful of totals would show single ballots.
            "distribution": distribution,
        }
    stability = (snapshot.analysis or {}).get("stability", {}).get(code) or {}
    return {
        "snapshot": snapshot.pk,
        "stage": (snapshot.stage or "final") if snapshot.published_at else None,
        "department": code,
        "name": row["name"],
        "rank": row["rank"],
        "bottom_rank": row["bottom_rank"],
        "final": row["final"],
        "reward": row["reward"],
        "admonition": row["admonition"],
        "roles": out_roles,
        "margins": {"reward": stability.get("reward_margin"), "admonition": stability.get("admonition_margin")}
        if stability
        else None,
        "history": row.get("history"),
    }


def contact_of(user, meeting_id: int) -> DepartmentContact | None:
    if not user.is_authenticated:
        return None
    return (
        DepartmentContact.objects.select_related("department", "meeting")
        .filter(Q(user=user) & Q(meeting_id=meeting_id))
        .first()
    )
