"""Aggregation: a meeting's inputs computed into a result snapshot, queued on the worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.queue import task_send
from meetings.models import Meeting
from meetings.selectors import audit_head, meeting_revision
from meetings.services import audit_record

from .. import selectors
from ..analysis import analyse
from ..history import previous_figures
from ..models import AggregationRun, ResultSnapshot
from ..scoring import results_from_config, snapshot_digest

ProgressCallback = Callable[[int], None]


def _config(meeting: Meeting) -> dict:
    rules = selectors.scoring_rules(meeting)

    def dec(value: Decimal | None) -> str | None:
        return None if value is None else str(value)

    config = {
        "meeting": meeting.pk,
        "full_mark": dec(rules.full_mark),
        "rank_within_category": rules.rank_within_category,
        "tie_break_roles": list(rules.tie_break_roles),
        "reward": {
            "top": rules.reward_top,
            "top_percent": dec(rules.reward_top_percent),
            "min_score": dec(rules.reward_min_score),
        },
        "admonition": {
            "bottom": rules.admonition_bottom,
            "bottom_percent": dec(rules.admonition_bottom_percent),
            "below": dec(rules.admonition_below),
        },
        "meeting_weight": dec(rules.meeting_weight),
        "components": [{"code": code, "weight": dec(weight)} for code, weight in rules.components],
        "roles": [{"code": r.code, "weight": dec(r.weight), "trim": r.trim} for r in selectors.scoring_roles(meeting)],
        "departments": [
            {"code": d.code, "name": d.name, "category": d.category, "order": d.order}
            for d in selectors.scoring_departments(meeting)
        ],
        "categories": dict(meeting.scheme.categories.order_by("order", "code").values_list("code", "name")),
        # Every input besides the ballots, so an export can be recomputed from itself alone.
        "component_scores": {
            dept: {code: dec(value) for code, value in sorted(scores.items())}
            for dept, scores in sorted(selectors.component_scores(meeting).items())
        },
        "adjustments": {dept: dec(total) for dept, total in sorted(selectors.adjustment_totals(meeting).items())},
        "vetoes": sorted(selectors.vetoed_departments(meeting)),
    }
    # Only when set, so that the configuration (and the digest) of every other meeting is as before.
    if meeting.invalid_uniform:
        config["invalid_ballots"] = {"uniform": True, "uniform_min": meeting.invalid_uniform_min}
    if meeting.final:
        config["final"] = meeting.final
    if meeting.previous_id:
        # The previous figures this snapshot used, so that its export recomputes alone.
        config["previous"] = previous_figures(selectors.previous_chain(meeting))
    if meeting.streak_rule:
        config["streak_rule"] = meeting.streak_rule
    return config


def snapshot_compute(
    *, meeting: Meeting, progress: ProgressCallback | None = None, analysis: bool = True
) -> ResultSnapshot:
    """Recompute the meeting's result from its ballots, from scratch, and store it as a new snapshot.

    The same ballots and configuration always give the same rows and digest. With ``analysis`` (the
    aggregation task always) the stability and the rater diagnostics are computed too; without, and
    without an invalid-ballot rule, the tallies come straight from the database (the benchmark's
    comparison point).
    """
    report = progress or (lambda _p: None)
    # Read the meeting afresh: an instance still holding what a caller assigned (Decimal("100")
    # rather than the stored 100.0000) would give the same result a different digest.
    meeting = Meeting.objects.select_related("scheme").get(pk=meeting.pk)
    # First, inside the caller's repeatable-read view: the counters of exactly the changes this
    # snapshot sees, and the moment (computed_at) of that view.
    revision = meeting_revision(meeting_id=meeting.pk)
    head = audit_head(meeting_id=meeting.pk)
    computed_at = timezone.now()
    config = _config(meeting)
    report(10)
    # Every submitted ballot with its seat (derived with the pseudonym key, kept in memory only):
    # the invalid rule, the stability and the diagnostics need them (SCORING.md 11, 13, 14).
    ballots_sha256, submitted = selectors.counting_ballots_digest(meeting)
    report(30)
    figures = None
    if analysis or config.get("invalid_ballots"):
        facts = selectors.counting_ballot_seats(meeting)
        analysed = analyse(config, facts, ballots_sha256=ballots_sha256, progress=report, full=analysis)
        rows, counted, figures = analysed.rows, analysed.counted, analysed.analysis
    else:
        rows, counted = results_from_config(config, selectors.role_tallies(meeting)), submitted
    row_dicts = [row.as_dict() for row in rows]
    digest = snapshot_digest(ballots_sha256=ballots_sha256, config=config, rows=row_dicts)
    snapshot = ResultSnapshot.objects.create(
        meeting=meeting,
        computed_at=computed_at,
        digest=digest,
        config=config,
        inputs="",
        rows=row_dicts,
        ballots_counted=counted,
        revision=revision,
        audit_head=head,
        analysis=figures,
    )
    _snapshot_store_inputs(snapshot=snapshot, ballots_sha256=ballots_sha256)
    report(100)
    return snapshot


_INPUTS_SQL = """
UPDATE reports_resultsnapshot SET inputs = (
    SELECT json_build_object(
        'ballots_sha256', %s::text,
        'ballots', coalesce(json_agg(json_build_array(b.id, b.total::text) ORDER BY b.id), '[]'::json)
    )::text
    FROM voting_ballot b
    JOIN meetings_presentation p ON p.id = b.presentation_id
    WHERE p.meeting_id = %s AND b.state = 'submitted'
)
WHERE id = %s
"""


def _snapshot_store_inputs(*, snapshot: ResultSnapshot, ballots_sha256: str) -> None:
    """Record which ballots, with which totals, the snapshot counted."""
    if connection.vendor == "postgresql":
        # Built by PostgreSQL in place: 200,000 pairs never pass through Python.
        with connection.cursor() as cursor:
            cursor.execute(_INPUTS_SQL, [ballots_sha256, snapshot.meeting_id, snapshot.pk])
        # Leave the field deferred: Django loads it from the row if anyone reads it.
        snapshot.__dict__.pop("inputs", None)
        return
    ballots = [[pk, str(total)] for pk, total in selectors.counting_ballot_totals(snapshot.meeting)]
    snapshot.inputs = json.dumps({"ballots_sha256": ballots_sha256, "ballots": ballots})
    snapshot.save(update_fields=["inputs"])


@transaction.atomic
def aggregation_request(*, meeting: Meeting, actor: AbstractBaseUser | None, ip: str | None) -> AggregationRun:
    """Record an aggregation run and enqueue it once the transaction commits.

    Requests for one meeting merge: while a run is queued, a new request is that run (it reads every ballot
    from scratch when it starts), so a meeting has at most one run queued beside the one running, and ten
    impatient clicks cost one aggregation, not ten that crowd out other meetings' runs."""
    Meeting.objects.select_for_update().filter(pk=meeting.pk).values_list("pk", flat=True).get()
    queued = AggregationRun.objects.filter(meeting=meeting, state=AggregationRun.State.QUEUED).order_by("pk").first()
    if queued is not None:
        audit_record(meeting=meeting, actor=actor, ip=ip, action="aggregation.merged", details={"run": queued.pk})
        return queued
    run = AggregationRun.objects.create(
        meeting=meeting,
        requested_by=actor if actor and actor.is_authenticated else None,
        task_id=str(uuid.uuid4()),
    )
    audit_record(meeting=meeting, actor=actor, ip=ip, action="aggregation.requested", details={"run": run.pk})
    transaction.on_commit(lambda: aggregation_enqueue(run=run))
    return run


REQUEUE_AFTER_SECONDS = 15


def aggregation_enqueue(*, run: AggregationRun) -> bool:
    """Hand the run to the broker. With the broker down the run stays queued in the database,
    and the next status poll or worker start queues it again: never silently lost."""
    import logging

    from ..tasks import aggregate_meeting

    AggregationRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
    failure = task_send(aggregate_meeting, object_id=run.pk, task_id=run.task_id)
    if failure is not None:
        logging.getLogger(__name__).warning("Aggregation run %s not queued yet: %s", run.pk, failure)
        AggregationRun.objects.filter(pk=run.pk).update(
            error=_("The task queue is unavailable; the aggregation will start when it is back.")
        )
        return False
    AggregationRun.objects.filter(pk=run.pk).update(error="")
    return True


def aggregation_requeue_if_stale(*, run: AggregationRun) -> bool:
    """Queue a run again that has waited too long (its message lost with the broker). Harmless if the
    first message still arrives: a run that succeeded is left as it is."""
    if run.state != AggregationRun.State.QUEUED:
        return False
    last = run.heartbeat_at or run.requested_at
    if (timezone.now() - last).total_seconds() < REQUEUE_AFTER_SECONDS:
        return False
    return aggregation_enqueue(run=run)


def aggregation_execute(*, run_id: int, task_id: str = "", progress: ProgressCallback | None = None) -> AggregationRun:
    """Run (or rerun) one aggregation. A run that already succeeded is left as it is.

    The computation reads in one REPEATABLE READ transaction on PostgreSQL, so
    its tallies and its ballot digest see the same ballots even if a late
    ballot commits meanwhile. Progress goes to ``progress`` (the task's state),
    since writes inside that transaction are invisible until it commits.
    """
    with transaction.atomic():
        run = AggregationRun.objects.select_for_update().select_related("meeting").get(pk=run_id)
        if run.state == AggregationRun.State.SUCCEEDED:
            return run
        run.state = AggregationRun.State.RUNNING
        run.attempts += 1
        run.started_at = run.heartbeat_at = timezone.now()
        run.progress = 0
        run.task_id = task_id or run.task_id
        run.save(update_fields=["state", "attempts", "started_at", "heartbeat_at", "progress", "task_id"])

    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic():
            if outermost and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            snapshot = snapshot_compute(meeting=run.meeting, progress=progress)
        with transaction.atomic():
            run.snapshot = snapshot
            run.state = AggregationRun.State.SUCCEEDED
            run.progress = 100
            run.finished_at = run.heartbeat_at = timezone.now()
            run.error = ""
            run.save(update_fields=["snapshot", "state", "progress", "finished_at", "heartbeat_at", "error"])
    except Exception as exc:
        AggregationRun.objects.filter(pk=run.pk).update(
            state=AggregationRun.State.FAILED, error=f"{type(exc).__name__}: {exc}", finished_at=timezone.now()
        )
        raise
    return run
