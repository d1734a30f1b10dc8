"""Thin Celery tasks of meetings: ids in."""

from celery import shared_task
from django.conf import settings

from .sheet_reading import sheet_job_execute


# Not acks_late: a sheet that kills its worker (the hard limit) is not handed to the next one. The hard
# limit ends the pool process if the soft one, raised inside the parse, is not honoured in time. These
# are defaults: sheet_job_start sends the limits of the request that waits with each message.
@shared_task(bind=True, soft_time_limit=settings.SHEET_TIME_LIMIT, time_limit=settings.SHEET_TIME_LIMIT + 2)
def read_sheet(self, job_id: str) -> str | None:
    _hard, soft = self.request.timelimit or (None, None)
    job = sheet_job_execute(job_id=job_id, limit_memory=not self.request.is_eager, time_limit=soft)
    return job.state if job else None
