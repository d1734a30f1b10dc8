"""Rehearsals: a copy of a meeting, filled with simulated ballots and aggregated, on the worker."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.exceptions import Conflict
from appraisal.queue import task_send
from meetings.models import Component, Meeting
from meetings.services import audit_record

from ..models import ComponentScore, RehearsalJob
from .aggregation import ProgressCallback, snapshot_compute


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

    from ..tasks import build_rehearsal

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
