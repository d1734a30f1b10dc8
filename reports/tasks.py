"""Thin Celery tasks: ids in, recompute from scratch."""

import logging

from celery import shared_task
from celery.signals import worker_ready

from .services import aggregation_execute, aggregation_runs_orphaned, rehearsal_execute

logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=3, default_retry_delay=5)
def aggregate_meeting(self, run_id: int) -> dict:
    def progress(percent: int) -> None:
        if not self.request.called_directly and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"progress": percent})

    try:
        run = aggregation_execute(run_id=run_id, task_id=self.request.id or "", progress=progress)
    except Exception as exc:  # a database hiccup: try again, the run recomputes from scratch
        raise self.retry(exc=exc) from exc
    return {"run": run.pk, "snapshot": run.snapshot_id, "digest": run.snapshot.digest if run.snapshot else None}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True)
def build_rehearsal(self, job_id: int) -> dict:
    def progress(percent: int) -> None:
        if not self.request.called_directly and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"progress": percent})

    job = rehearsal_execute(job_id=job_id, progress=progress)
    return {"job": job.pk, "state": job.state, "rehearsal": job.rehearsal_id}


def reconcile_aggregations(app) -> int:
    """Re-enqueue runs whose worker died (SIGKILL, lost machine).

    The broker would redeliver an unacknowledged task only after its
    visibility timeout (an hour); the database knows sooner which runs no
    worker is holding.
    """
    inspector = app.control.inspect(timeout=1.0)
    active: set[str] = set()
    for method in (inspector.active, inspector.reserved):
        for tasks in (method() or {}).values():
            active.update(task["id"] for task in tasks)
    orphans = aggregation_runs_orphaned(active_task_ids=active)
    for run in orphans:
        logger.warning("Re-enqueueing aggregation run %s of meeting %s (no worker holds it)", run.pk, run.meeting_id)
        aggregate_meeting.apply_async(args=[run.pk], task_id=run.task_id or None)
    return len(orphans)


@worker_ready.connect
def _reconcile_on_start(sender, **kwargs):
    try:
        reconcile_aggregations(sender.app)
    except Exception:  # never keep a worker from starting
        logger.exception("Reconciling aggregation runs failed")
