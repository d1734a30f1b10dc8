"""Queueing a Celery task from a request that must answer within seconds."""

from __future__ import annotations


def task_send(task, *, object_id: int | str, task_id: str, **options) -> Exception | None:
    """Queue a task for one object; the broker's error if it could not be reached (None when queued).

    In-process (the demo) the task runs here and now. Otherwise one short connection attempt, then
    publish without Celery's default 100 retries: the organizer's request must answer within seconds.
    ``options`` go to apply_async (time limits, for one)."""
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.apply_async(args=[object_id], task_id=task_id, **options)
        return None
    try:
        with task.app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0.2, timeout=2)
            task.apply_async(args=[object_id], task_id=task_id, connection=connection, retry=False, **options)
    except Exception as exc:  # kombu raises several kinds when Redis is down or paused
        return exc
    return None
