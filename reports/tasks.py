"""Thin Celery tasks: ids in, recompute from scratch."""

from celery import shared_task

from .services import aggregation_execute


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
