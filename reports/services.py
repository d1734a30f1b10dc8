"""Writes and rules of the reports app: aggregation, components, adjustments, veto, publishing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.exceptions import Conflict, InvalidInput, NotFound
from appraisal.models import Department
from appraisal.numbers import FOUR_PLACES
from appraisal.queue import task_send
from appraisal.text import reason_clean
from meetings.models import Component, Meeting, MeetingChange
from meetings.selectors import audit_head, meeting_revision, revision_behind
from meetings.services import audit_record, meeting_changed

from . import selectors
from .analysis import analyse
from .history import previous_figures
from .models import Adjustment, AggregationRun, ComponentScore, RehearsalJob, ResultSnapshot, Veto
from .scoring import results_from_config, snapshot_digest

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

    from .tasks import aggregate_meeting

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


# --- components, adjustments, veto -------------------------------------------------------------


def _department(meeting: Meeting, code: str) -> Department:
    if "\x00" in code:  # no code has one, and PostgreSQL would refuse to look it up
        raise NotFound(_('No department "%(code)s" in this meeting.') % {"code": code.replace("\x00", "")})
    try:
        return Department.objects.get(scheme_id=meeting.scheme_id, code=code, presentations__meeting=meeting)
    except Department.DoesNotExist as exc:
        raise NotFound(_('No department "%(code)s" in this meeting.') % {"code": code}) from exc


@transaction.atomic
def component_scores_import(
    *, meeting: Meeting, code: str, scores: Mapping[str, Decimal], actor: AbstractBaseUser | None, ip: str | None
) -> int:
    """Set a component's scores per department code (all or nothing); returns how many were set."""
    try:
        component = Component.objects.get(meeting=meeting, code=code)
    except Component.DoesNotExist as exc:
        raise NotFound(_('No component "%(code)s" in this meeting.') % {"code": code}) from exc
    departments = dict(Department.objects.filter(presentations__meeting=meeting).values_list("code", "pk"))
    errors = []
    for department_code, value in scores.items():
        path = f"scores.{department_code}"
        if department_code not in departments:
            errors.append({"path": path, "message": _('Unknown department "%(code)s".') % {"code": department_code}})
        elif not (Decimal(0) <= value <= meeting.full_mark):
            errors.append(
                {
                    "path": path,
                    "message": _("Must be between 0 and the full mark %(full)s.") % {"full": meeting.full_mark},
                }
            )
    if errors:
        raise InvalidInput(_("The component scores have problems."), errors=errors)
    for department_code, value in scores.items():
        ComponentScore.objects.update_or_create(
            component=component, department_id=departments[department_code], defaults={"value": value}
        )
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.COMPONENTS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="component.imported",
        details={"component": code, "scores": {k: str(v) for k, v in sorted(scores.items())}},
    )
    return len(scores)


def component_sheet_preview(*, meeting: Meeting, fileobj, filename: str, actor: AbstractBaseUser | None):
    """Check a sheet of component scores (a department column, a column per component code or name);
    store the checked rows for confirmation. Raises SheetInvalid listing every problem; creates nothing."""
    from meetings.models import PanelImport
    from meetings.panel_sheets import component_rows, read_rows

    header, rows = read_rows(fileobj, filename)
    components = {}
    for code, name in Component.objects.filter(meeting=meeting).values_list("code", "name"):
        components[code] = components[name] = code
    departments = {}
    for code, name in Department.objects.filter(presentations__meeting=meeting).values_list("code", "name"):
        departments[code] = departments[name] = code
    checked = component_rows(header, rows, components=components, departments=departments, full_mark=meeting.full_mark)
    user = actor if actor is not None and actor.is_authenticated else None
    return PanelImport.objects.create(
        meeting=meeting, kind=PanelImport.Kind.COMPONENTS, filename=filename[:255], rows=checked, created_by=user
    )


@transaction.atomic
def component_sheet_commit(*, meeting: Meeting, import_id, actor: AbstractBaseUser | None, ip: str | None) -> int:
    """Set every score the previewed sheet lists, all or nothing (each component audited as an import).
    Returns how many scores were set."""
    from meetings.models import PanelImport

    sheet = (
        PanelImport.objects.select_for_update()
        .filter(pk=import_id, meeting=meeting, kind=PanelImport.Kind.COMPONENTS)
        .first()
    )
    if sheet is None:
        raise NotFound(_("No such component sheet for this meeting."))
    if sheet.committed_at is not None:
        raise Conflict(_("This sheet has already been imported."), code="already_imported")
    by_component: dict[str, dict[str, Decimal]] = {}
    for row in sheet.rows:
        for code, value in row["scores"].items():
            by_component.setdefault(code, {})[row["department"]] = Decimal(value)
    count = 0
    for code, scores in sorted(by_component.items()):
        count += component_scores_import(meeting=meeting, code=code, scores=scores, actor=actor, ip=ip)
    sheet.committed_at = timezone.now()
    sheet.save(update_fields=["committed_at"])
    return count


# An adjustment is a few points either way, on the 0.0001 grid of every stored score.
ADJUSTMENT_LIMIT = Decimal(1000)


@transaction.atomic
def adjustment_add(
    *, meeting: Meeting, department_code: str, points: Decimal, reason: str, actor: AbstractBaseUser, ip: str | None
) -> Adjustment:
    if not points.is_finite() or points == 0 or abs(points) > ADJUSTMENT_LIMIT or points % FOUR_PLACES != 0:
        raise InvalidInput(
            _("Points must be a non-zero number such as -2 or 1.5."),
            errors=[{"path": "points", "message": _("Points must be a non-zero number such as -2 or 1.5.")}],
        )
    reason = reason_clean(reason)
    department = _department(meeting, department_code)
    adjustment = Adjustment.objects.create(
        meeting=meeting, department=department, points=points, reason=reason, created_by=actor
    )
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.ADJUSTMENTS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="adjustment.added",
        details={"adjustment": adjustment.pk, "department": department_code, "points": str(points), "reason": reason},
    )
    return adjustment


@transaction.atomic
def adjustment_withdraw(*, adjustment: Adjustment, actor: AbstractBaseUser, ip: str | None) -> None:
    if adjustment.withdrawn_at is not None:
        return
    adjustment.withdrawn_at = timezone.now()
    adjustment.save(update_fields=["withdrawn_at"])
    meeting_changed(meeting_id=adjustment.meeting_id, kind=MeetingChange.Kind.ADJUSTMENTS)
    audit_record(
        meeting=adjustment.meeting,
        actor=actor,
        ip=ip,
        action="adjustment.withdrawn",
        details={"adjustment": adjustment.pk, "department": adjustment.department.code},
    )


@transaction.atomic
def veto_set(*, meeting: Meeting, department_code: str, reason: str, actor: AbstractBaseUser, ip: str | None) -> Veto:
    reason = reason_clean(reason)
    department = _department(meeting, department_code)
    if Veto.objects.filter(meeting=meeting, department=department, withdrawn_at__isnull=True).exists():
        raise Conflict(_("This department already has a veto."))
    veto = Veto.objects.create(meeting=meeting, department=department, reason=reason, created_by=actor)
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VETOES)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="veto.set",
        details={"department": department_code, "reason": reason},
    )
    return veto


@transaction.atomic
def veto_withdraw(*, meeting: Meeting, department_code: str, actor: AbstractBaseUser, ip: str | None) -> None:
    department = _department(meeting, department_code)
    updated = Veto.objects.filter(meeting=meeting, department=department, withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now()
    )
    if not updated:
        raise NotFound(_("This department has no veto."))
    meeting_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VETOES)
    audit_record(meeting=meeting, actor=actor, ip=ip, action="veto.withdrawn", details={"department": department_code})


# --- publishing ----------------------------------------------------------------------------------


def snapshot_stale_changes(snapshot: ResultSnapshot) -> list[dict]:
    """The kinds of change the snapshot did not see, as [{"path": "changes.KIND", "message": name}].

    Exact under concurrency (MeetingChange): a change committed after the snapshot's view began, or
    still in flight then, moved a counter past the value the snapshot recorded inside that view.
    """
    current = meeting_revision(meeting_id=snapshot.meeting_id)
    labels = dict(MeetingChange.Kind.choices)
    return [
        {"path": f"changes.{kind}", "message": str(labels[kind])}
        for kind in revision_behind(recorded=snapshot.revision, current=current)
    ]


def snapshot_stale_reasons(snapshot: ResultSnapshot) -> list[str]:
    """What changed in the meeting's inputs that the snapshot did not see, in words."""
    return [change["message"] for change in snapshot_stale_changes(snapshot)]


@transaction.atomic
def snapshot_publish(*, meeting: Meeting, actor: AbstractBaseUser, ip: str | None, seal: bool = True) -> ResultSnapshot:
    """Publish the latest snapshot; refuse a stale one or a rehearsal. ``seal``: queue the ballots' seal
    (a final result; not while it is only under public notice, reports.publicity)."""
    Meeting.objects.select_for_update().filter(pk=meeting.pk).values_list("pk", flat=True).get()
    if meeting.is_rehearsal:
        raise Conflict(_("A rehearsal is never published."), code="rehearsal")
    snapshot = selectors.snapshot_latest(meeting)
    if snapshot is None:
        raise Conflict(_("There is no result to publish yet: run the aggregation first."), code="no_snapshot")
    changes = snapshot_stale_changes(snapshot)
    if changes:
        raise Conflict(
            _("The latest result is out of date (%(reasons)s): run the aggregation again.")
            % {"reasons": _("、").join(c["message"] for c in changes)},
            code="stale",
            errors=changes,
        )
    if snapshot.published_at is not None:
        return snapshot
    ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).update(
        published_at=None, published_by=None, published_audit_head=None, stage="", publicity_until=None
    )
    entry = audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="result.published",
        details={"snapshot": snapshot.pk, "digest": snapshot.digest},
    )
    snapshot.published_at = timezone.now()
    snapshot.published_by = actor
    # The publication's own audit entry is the head it vouches for: everything up to it is on record.
    snapshot.published_audit_head = {"seq": entry.seq, "hash": entry.entry_hash}
    snapshot.save(update_fields=["published_at", "published_by", "published_audit_head"])
    snapshot.stage = ResultSnapshot.Stage.FINAL if seal else ResultSnapshot.Stage.PUBLICITY
    snapshot.save(update_fields=["stage"])
    if seal:
        # The result is final: the ballots are sealed (random physical order, one transaction id) on a worker.
        transaction.on_commit(lambda: seal_enqueue(meeting_id=meeting.pk))
    return snapshot


def seal_enqueue(*, meeting_id: int) -> None:
    """Queue the seal of a meeting's ballots; with the broker down it is logged, and `manage.py
    seal_meeting` does it by hand (docs/operations.md)."""
    import logging

    from voting.tasks import seal_meeting

    failure = task_send(seal_meeting, object_id=meeting_id, task_id=f"seal-{meeting_id}-{uuid.uuid4().hex[:8]}")
    if failure is not None:
        logging.getLogger(__name__).warning("Seal of meeting %s not queued: %s", meeting_id, failure)


@transaction.atomic
def snapshot_unpublish(*, meeting: Meeting, actor: AbstractBaseUser, ip: str | None) -> None:
    updated = ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).update(
        published_at=None, published_by=None, published_audit_head=None, stage="", publicity_until=None
    )
    if updated:
        audit_record(meeting=meeting, actor=actor, ip=ip, action="result.unpublished", details={})


def aggregation_runs_orphaned(
    *, active_task_ids: set[str], queued_older_than_seconds: int = 300
) -> list[AggregationRun]:
    """Runs that no worker is working on: running but not active anywhere, or queued for too long."""
    cutoff = timezone.now() - timezone.timedelta(seconds=queued_older_than_seconds)
    running = AggregationRun.objects.filter(state=AggregationRun.State.RUNNING).exclude(task_id__in=active_task_ids)
    queued = AggregationRun.objects.filter(state=AggregationRun.State.QUEUED, requested_at__lt=cutoff)
    return list(running) + list(queued)


# --- rehearsals ---------------------------------------------------------------------------------


@transaction.atomic
def rehearsal_request(*, source: Meeting, actor: AbstractBaseUser | None, ip: str | None) -> RehearsalJob:
    """Ask a worker to build a rehearsal of the meeting: the copy, simulated ballots and a result.

    The caller has checked the right to organize ``source``. A 20,000-seat meeting takes minutes,
    which no request may hold."""
    if source.is_rehearsal:
        raise Conflict(_("A rehearsal is not rehearsed again."), code="rehearsal")
    job = RehearsalJob.objects.create(
        source=source, requested_by=actor if actor and actor.is_authenticated else None, task_id=str(uuid.uuid4())
    )
    audit_record(meeting=source, actor=actor, ip=ip, action="rehearsal.requested", details={"job": job.pk})
    transaction.on_commit(lambda: rehearsal_enqueue(job=job))
    return job


def rehearsal_enqueue(*, job: RehearsalJob) -> bool:
    """Hand the job to the broker (in-process in the demo). With the broker down the job is marked failed
    with the reason, so that the organizer can ask again, rather than wait on nothing."""
    import logging

    from .tasks import build_rehearsal

    failure = task_send(build_rehearsal, object_id=job.pk, task_id=job.task_id)
    if failure is not None:
        logging.getLogger(__name__).warning("Rehearsal job %s not queued: %s", job.pk, failure)
        RehearsalJob.objects.filter(pk=job.pk).update(
            state=RehearsalJob.State.FAILED,
            finished_at=timezone.now(),
            error=_("The task queue is unavailable; ask for the rehearsal again when it is back."),
        )
        return False
    return True


def rehearsal_components_copy(*, source: Meeting, rehearsal: Meeting) -> int:
    """The source's component scores (年度目标考核 …) into the rehearsal's components of the same code: without
    them no department of a meeting with components would rank in its rehearsal."""
    from meetings.models import Component

    targets = dict(Component.objects.filter(meeting=rehearsal).values_list("code", "pk"))
    copies = [
        ComponentScore(component_id=targets[code], department_id=department_id, value=value)
        for code, department_id, value in ComponentScore.objects.filter(component__meeting=source).values_list(
            "component__code", "department_id", "value"
        )
        if code in targets
    ]
    ComponentScore.objects.bulk_create(copies)
    return len(copies)


def rehearsal_execute(*, job_id: int, progress: ProgressCallback | None = None) -> RehearsalJob:
    """Build the rehearsal in one transaction: on any failure nothing of it remains, and the job says why."""
    from meetings.services import meeting_rehearsal_create
    from voting.simulation import ballots_simulate

    report = progress or (lambda _p: None)
    with transaction.atomic():
        job = (
            RehearsalJob.objects.select_for_update(of=("self",)).select_related("source", "requested_by").get(pk=job_id)
        )
        if job.state in (RehearsalJob.State.SUCCEEDED, RehearsalJob.State.FAILED):
            return job  # a redelivered message; a job left "running" by a killed worker is built again
        job.state = RehearsalJob.State.RUNNING
        job.save(update_fields=["state"])
    actor = job.requested_by
    try:
        with transaction.atomic():
            result = meeting_rehearsal_create(source=job.source, actor=actor, ip=None, audit_source=False)
            rehearsal_components_copy(source=job.source, rehearsal=result.meeting)
            report(20)
            ballots = ballots_simulate(meeting=result.meeting)
            report(70)
            snapshot_compute(meeting=result.meeting)
            report(95)
    except Exception as exc:
        with transaction.atomic():
            RehearsalJob.objects.filter(pk=job.pk).update(
                state=RehearsalJob.State.FAILED, finished_at=timezone.now(), error=f"{type(exc).__name__}: {exc}"
            )
            audit_record(meeting=job.source, actor=actor, ip=None, action="rehearsal.failed", details={"job": job.pk})
        job.refresh_from_db()
        return job
    with transaction.atomic():
        RehearsalJob.objects.filter(pk=job.pk).update(
            state=RehearsalJob.State.SUCCEEDED, rehearsal=result.meeting, ballots=ballots, finished_at=timezone.now()
        )
        audit_record(
            meeting=job.source,
            actor=actor,
            ip=None,
            action="rehearsal.created",
            details={"rehearsal": result.meeting.pk, "job": job.pk},
        )
    report(100)
    job.refresh_from_db()
    return job
