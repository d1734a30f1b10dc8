"""The verifiable anonymised ballot export (JSON) and its verification: everything needed to recompute the
ranking and the digest from the document alone, and no rater identity (ballots are listed by receipt code).
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

from django.utils.translation import gettext as _

from voting.models import Ballot, BallotValue

from ..models import ResultSnapshot
from ..scoring import ballot_line, ballots_digest, line_digest, role_tally, snapshot_digest

EXPORT_FORMAT = "kaoping-results/1"


def export_document(snapshot: ResultSnapshot, *, analysis: bool = False) -> dict:
    """The snapshot with its counting ballots, anonymised: receipt, presentation, department, role, points.

    A ballot declared invalid (SCORING.md 11) carries "invalid": the alias of its invalid seat, so that a
    verifier can check each such group. With ``analysis`` the stability and the rater diagnostics come
    too, each profiled alias with its ballots as (department, role, total), never a receipt."""
    counted = [ballot_id for ballot_id, _total in json.loads(snapshot.inputs)["ballots"]]
    ballots: dict[int, dict] = {}
    for ballot_id, receipt, presentation_id, department, role in (
        Ballot.objects.filter(pk__in=counted)
        .values_list("pk", "receipt", "presentation_id", "presentation__department__code", "role__code")
        .iterator(chunk_size=10000)
    ):
        ballots[ballot_id] = {
            "receipt": receipt,
            "presentation": presentation_id,
            "department": department,
            "role": role,
            "points": {},
        }
    for ballot_id, criterion, points in (
        BallotValue.objects.filter(ballot_id__in=counted)
        .values_list("ballot_id", "criterion__code", "points")
        .iterator(chunk_size=20000)
    ):
        ballots[ballot_id]["points"][criterion] = str(points)
    figures = snapshot.analysis or {}
    for ballot in ballots.values():
        alias = figures.get("invalid_ballots", {}).get(ballot["receipt"])
        if alias is not None:
            ballot["invalid"] = alias
    document = {
        "format": EXPORT_FORMAT,
        "meeting": {
            "id": snapshot.meeting_id,
            "title": snapshot.meeting.title,
            "date": snapshot.meeting.date.isoformat(),
        },
        "snapshot": snapshot.pk,
        "computed_at": snapshot.computed_at.isoformat(),
        "published_at": snapshot.published_at.isoformat() if snapshot.published_at else None,
        "digest": snapshot.digest,
        # The audit chain's last entry this result vouches for (at its publication, else at its computation):
        # verify_audit MEETING --head SEQ:HASH shows the chain still holds it, untruncated.
        "audit_head": snapshot_audit_head(snapshot),
        "config": snapshot.config,
        "rows": snapshot.rows,
        "ballots": sorted(ballots.values(), key=lambda b: b["receipt"]),
    }
    if figures:
        document["invalid"] = figures.get("invalid", {})
    if analysis and figures:
        document["analysis"] = {
            "stability": figures.get("stability", {}),
            "bootstrap": figures.get("bootstrap", {}),
            "diagnostics": figures.get("diagnostics", {}),
            "diagnostic_ballots": figures.get("diagnostic_ballots", {}),
        }
    return document


def snapshot_audit_head(snapshot: ResultSnapshot) -> dict | None:
    """{"seq", "hash"} of the audit entry the snapshot vouches for: its publication's, else its computation's."""
    return snapshot.published_audit_head or snapshot.audit_head


def audit_head_words(head: dict) -> str:
    return _("Audit log: entry %(seq)d, hash %(hash)s") % {"seq": head["seq"], "hash": head["hash"]}


def verify_export(document: dict) -> list[str]:
    """Recompute the ranking and the digest from an export alone; return what does not match."""
    from ..scoring import results_from_config

    problems: list[str] = []
    if document.get("format") != EXPORT_FORMAT:
        return [f"not a {EXPORT_FORMAT} export"]
    config = document["config"]
    trims = {r["code"]: r["trim"] for r in config["roles"]}
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    invalid_groups: dict[str, list[Decimal]] = defaultdict(list)
    digests = []
    for ballot in sorted(document["ballots"], key=lambda b: b["receipt"]):
        points = {code: Decimal(value) for code, value in ballot["points"].items()}
        total = sum(points.values(), Decimal(0))
        if "invalid" in ballot:
            invalid_groups[str(ballot["invalid"])].append(total)
        else:
            totals[(ballot["department"], ballot["role"])].append(total)
        digests.append(
            line_digest(
                ballot_line(
                    receipt=ballot["receipt"],
                    presentation=ballot["presentation"],
                    department=ballot["department"],
                    role=ballot["role"],
                    points=points,
                )
            )
        )
    problems += _verify_invalid(config, invalid_groups)
    tallies = {key: role_tally(values, trims[key[1]]) for key, values in totals.items()}
    official = results_from_config(config, tallies)
    rows = [row.as_dict() for row in official]
    if rows != document["rows"]:
        by_code = {r["department"]: r for r in document["rows"]}
        for row in rows:
            theirs = by_code.get(row["department"])
            if theirs != row:
                fields = sorted(k for k in row if theirs is None or theirs.get(k) != row[k])
                problems.append(f"department {row['department']}: recomputed {', '.join(fields)} differ")
        if not problems:
            problems.append("rows differ in order or number")
    digest = snapshot_digest(ballots_sha256=ballots_digest(digests), config=config, rows=document["rows"])
    if digest != document["digest"]:
        problems.append(f"digest {digest} does not match the export's {document['digest']}")
    if "analysis" in document:
        problems += _verify_analysis(document, config, totals, official)
    return problems


def _verify_invalid(config: dict, groups: dict[str, list[Decimal]]) -> list[str]:
    """SCORING.md 11 from the export: every marked group is uniform and large enough, under a rule that is set."""
    rule = config.get("invalid_ballots") or {}
    if groups and not rule.get("uniform"):
        return ["ballots are marked invalid, but the configuration has no invalid-ballot rule"]
    problems = []
    for alias, values in sorted(groups.items()):
        if len(values) < rule["uniform_min"] or len(set(values)) != 1:
            problems.append(f"invalid group {alias}: {len(values)} ballots, not all of one total or too few")
    return problems


def _verify_analysis(document: dict, config: dict, totals, official) -> list[str]:
    """The exact parts of SCORING.md 13 and 14 recomputed from the export; the bootstrap is only checked
    for its shape (it is an estimate: another implementation differs within sampling error)."""
    from ..diagnostics import SeatBallot, rater_profiles
    from ..stability import fragile, margins, rank_by_trim, rank_range_weights

    problems = []
    claimed = document["analysis"]
    stability = claimed.get("stability", {})
    margin = margins(official, config)
    trims = rank_by_trim(config, totals)
    ranges = rank_range_weights(config, totals, official)
    fragility = fragile(config, totals, official)
    for row in official:
        if row.final is None:
            continue
        theirs = stability.get(row.department) or {}
        mine = {
            "reward_margin": None if margin[row.department][0] is None else str(margin[row.department][0]),
            "admonition_margin": None if margin[row.department][1] is None else str(margin[row.department][1]),
            "rank_by_trim": trims[row.department],
            "rank_range_weights": ranges[row.department],
            "fragile": fragility[row.department],
        }
        differ = sorted(k for k, v in mine.items() if theirs.get(k) != v)
        if differ:
            problems.append(f"department {row.department}: recomputed stability {', '.join(differ)} differ")
    role_scores = {
        (row.department, code): Decimal(score["score"])
        for row in official
        for code, score in row.role_scores.items()
        if score["score"] is not None
    }
    seats = {
        alias: [SeatBallot(department, role, Decimal(total)) for department, role, total in ballots]
        for alias, ballots in claimed.get("diagnostic_ballots", {}).items()
    }
    profiles = rater_profiles(
        seats,
        aliases={alias: alias for alias in seats},
        role_scores=role_scores,
        totals=totals,
        trims={r["code"]: r["trim"] for r in config["roles"]},
        full_mark=Decimal(config["full_mark"]),
    )
    if profiles != claimed.get("diagnostics", {}).get("raters", []):
        problems.append("rater diagnostics differ from those recomputed from their ballots")
    return problems


# --- tables for people ------------------------------------------------------------------------------
