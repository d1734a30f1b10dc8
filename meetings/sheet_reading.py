"""Uploaded sheets are read by a Celery worker, never by a web worker (issue 17).

The web tier only checks what costs milliseconds: the size, and for an .xlsx its zip directory and the
first bytes of its parts (appraisal.sheets.xlsx_guard). Then the bytes go into a SheetJob row and the
task ``meetings.tasks.read_sheet`` parses them under a time limit (Celery's soft and hard limits) and a
memory limit (the worker process's address space, raised by SHEET_MEMORY_MB for the parse only). What
it read (header and rows, or the setup workbook's document) goes back into the row, with every value
tagged so that a Decimal or a date comes back as it was read. A sheet that breaks a limit is refused
with a message that says which; the worker lives on.

A request that must answer with the result (the API's imports) waits for the row; a page does not have
to: the admin's panel page shows the rows read so far and reloads itself until the preview is ready.
With SHEETS_IN_PROCESS (the demo without Redis, and the test suite unless a test starts a real worker)
the same job runs in the requesting process, through the same rows, without the memory limit.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from appraisal.exceptions import DomainError

from .models import Meeting, SheetJob

KEEP_JOBS = datetime.timedelta(days=1)
PROGRESS_EVERY = 500  # rows between two progress writes: a 20,000-row sheet writes 40 times


class SheetUnread(DomainError):
    """No worker took the sheet in time (the queue or every worker is down or busy)."""

    status_code = 503
    code = "worker_unavailable"


def encode(value):
    """JSON for what a sheet reader returns: Decimals and dates tagged, containers walked."""
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, datetime.date):
        return {"$date": value.isoformat()}
    if isinstance(value, datetime.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


_DECODE = {
    "$decimal": Decimal,
    "$datetime": datetime.datetime.fromisoformat,
    "$date": datetime.date.fromisoformat,
    "$time": datetime.time.fromisoformat,
}


def decode(value):
    if isinstance(value, dict):
        if len(value) == 1:
            (key, raw), *_rest = value.items()
            if key in _DECODE:
                return _DECODE[key](raw)
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


@contextlib.contextmanager
def memory_limit(megabytes: int):
    """Let this process grow by at most ``megabytes`` of address space until the block ends.

    Only in a worker's pool process (one task at a time, no other threads): an allocation past the
    limit raises MemoryError in the parse, not in another request."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        with open("/proc/self/statm") as statm:
            current = int(statm.read().split()[0]) * resource.getpagesize()
    except (ImportError, OSError, ValueError):  # not Linux (a developer's laptop): the time limit still holds
        yield
        return
    cap = current + megabytes * 2**20
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def sheet_job_create(
    *, data: bytes, filename: str, kind: str = SheetJob.Kind.ROWS, meeting: Meeting | None = None,
    actor: AbstractBaseUser | None = None,
) -> SheetJob:  # fmt: skip
    """Keep the checked bytes for a worker; forget jobs older than a day (their rows are stale)."""
    SheetJob.objects.filter(created_at__lt=timezone.now() - KEEP_JOBS).delete()
    return SheetJob.objects.create(
        kind=kind,
        meeting=meeting,
        filename=filename[:255],
        data=data,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )


def sheet_job_start(*, job: SheetJob) -> None:
    """Hand the job to a worker, or read it here and now in-process (SHEETS_IN_PROCESS)."""
    from appraisal.queue import task_send

    from .tasks import read_sheet

    if settings.SHEETS_IN_PROCESS:
        sheet_job_execute(job_id=job.pk, limit_memory=False)
        return
    # The limits travel with the message: the request that waits and the worker that reads agree on them.
    limit = settings.SHEET_TIME_LIMIT
    failure = task_send(
        read_sheet, object_id=str(job.pk), task_id=str(job.pk), soft_time_limit=limit, time_limit=limit + 2
    )
    if failure is not None:
        SheetJob.objects.filter(pk=job.pk).delete()
        raise SheetUnread(_("The sheets cannot be read now: the task queue is unavailable. Try again in a minute."))


def _read(job: SheetJob, data: bytes, progress) -> tuple[list, list]:
    """What the worker parses: (header, rows) of a sheet, or (document, locations) of a setup workbook."""
    import io

    if job.kind == SheetJob.Kind.SETUP:
        from .setup_workbook import workbook_to_document

        return workbook_to_document(io.BytesIO(data))
    from .panel_sheets import rows_from_bytes

    return rows_from_bytes(data, job.filename, progress=progress)


def _limit_problem(kind: str, message: str) -> dict:
    return (
        {"path": "", "message": message}
        if kind == SheetJob.Kind.SETUP
        else {"row": None, "column": None, "message": message}
    )


def _too_slow(kind: str, seconds: int) -> dict:
    return _limit_problem(
        kind,
        _("Reading the sheet took longer than %(n)d seconds. Split it, or delete empty rows and columns.")
        % {"n": seconds},
    )


def _no_worker() -> str:
    return _("No worker could read the sheet in time. Try again in a minute.")


def _refusal(kind: str, problems: list[dict]) -> Exception:
    """The reader's own exception for this kind of sheet: SetupInvalid (by JSON path) or SheetInvalid."""
    from .panel_sheets import SheetInvalid
    from .setup_document import SetupInvalid

    return SetupInvalid(problems) if kind == SheetJob.Kind.SETUP else SheetInvalid(problems)


def _connection_reset() -> None:
    """A limit can strike while a progress update is on the wire; the connection is then unusable
    ("another command is already in progress"). The outcome is written on a fresh one."""
    from django.db import connection

    try:
        connection.close()
    except Exception:  # closing a broken connection may complain; it is closed all the same
        connection.connection = None


def sheet_job_execute(*, job_id, limit_memory: bool, time_limit: int | None = None) -> SheetJob | None:
    """Read the job's sheet and store the outcome; a job already read, or deleted, is left alone."""
    from celery.exceptions import SoftTimeLimitExceeded

    from .panel_sheets import SheetInvalid
    from .setup_document import SetupInvalid

    claimed = SheetJob.objects.filter(pk=job_id, state=SheetJob.State.QUEUED).update(
        state=SheetJob.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return SheetJob.objects.filter(pk=job_id).first()
    job = SheetJob.objects.get(pk=job_id)

    def progress(rows: int) -> None:
        if rows % PROGRESS_EVERY == 0:
            SheetJob.objects.filter(pk=job_id).update(rows_read=rows)

    import openpyxl  # noqa: F401  (the library's own import is not the sheet's memory)

    first = second = problems = None
    with translation.override(job.language):
        try:
            with memory_limit(settings.SHEET_MEMORY_MB) if limit_memory else contextlib.nullcontext():
                first, second = _read(job, bytes(job.data), progress)
                first, second = encode(first), encode(second)
        except (SheetInvalid, SetupInvalid) as exc:
            problems = exc.problems if isinstance(exc, SheetInvalid) else exc.errors
        except MemoryError:
            first = second = None  # let go of what was read before the limit is reported
            _connection_reset()
            problems = [
                _limit_problem(
                    job.kind,
                    _(
                        "Reading the sheet needs more than %(n)d MB of memory. Split it, or delete empty rows and columns."
                    )
                    % {"n": settings.SHEET_MEMORY_MB},
                )
            ]
        except SoftTimeLimitExceeded:
            _connection_reset()
            problems = [_too_slow(job.kind, time_limit or settings.SHEET_TIME_LIMIT)]
    done = problems is None
    SheetJob.objects.filter(pk=job_id).update(
        state=SheetJob.State.DONE if done else SheetJob.State.FAILED,
        header=first if done else [],
        rows=second if done else [],
        rows_read=len(second) if done and job.kind == SheetJob.Kind.ROWS else job.rows_read,
        problems=problems or [],
        data=b"",
        finished_at=timezone.now(),
    )
    return SheetJob.objects.get(pk=job_id)


def sheet_job_wait(*, job: SheetJob, timeout: float) -> SheetJob:
    """The job once read (or refused), or as it is when ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    pause = 0.02
    while True:
        job.refresh_from_db(fields=["state", "rows_read", "header", "rows", "problems", "finished_at"])
        if job.state in (SheetJob.State.DONE, SheetJob.State.FAILED) or time.monotonic() >= deadline:
            return job
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


QUEUE_PATIENCE = datetime.timedelta(minutes=5)  # a page waits this long for a busy worker to take a sheet


def sheet_job_settle(*, job: SheetJob) -> SheetJob:
    """A job no worker will finish is refused: read for longer than the limit allows (the worker was
    killed at the hard limit, or died), or not taken by any worker for QUEUE_PATIENCE."""
    now = timezone.now()
    running_since = now - datetime.timedelta(seconds=settings.SHEET_TIME_LIMIT + 5)
    with translation.override(job.language):
        overdue = {
            SheetJob.State.RUNNING: (
                Q(started_at__lt=running_since),
                _too_slow(job.kind, settings.SHEET_TIME_LIMIT),
            ),
            SheetJob.State.QUEUED: (Q(created_at__lt=now - QUEUE_PATIENCE), _limit_problem(job.kind, _no_worker())),
        }
    if job.state in overdue:
        late, problem = overdue[job.state]
        SheetJob.objects.filter(late, pk=job.pk, state=job.state).update(
            state=SheetJob.State.FAILED, problems=[problem], data=b"", finished_at=now
        )
        job.refresh_from_db()
    return job


def sheet_job_outcome(*, job: SheetJob):
    """What the worker read, decoded: (header, rows) or (document, locations); raises with the problems."""
    if job.state == SheetJob.State.FAILED:
        raise _refusal(job.kind, job.problems)
    if job.kind == SheetJob.Kind.SETUP:
        return decode(job.header), job.rows  # the locations are plain text
    return job.header, [(number, decode(values)) for number, values in job.rows]


def sheet_submit(
    *, data: bytes, filename: str, kind: str = SheetJob.Kind.ROWS, meeting: Meeting | None = None,
    actor: AbstractBaseUser | None = None, wait: float = 0,
) -> SheetJob:  # fmt: skip
    """Queue checked bytes for a worker and wait at most ``wait`` seconds: a page shows the job's
    progress until it is read (the admin's panel page), a small sheet is often read by then."""
    job = sheet_job_create(data=data, filename=filename, kind=kind, meeting=meeting, actor=actor)
    sheet_job_start(job=job)
    return sheet_job_wait(job=job, timeout=wait)


def sheet_read(
    *, data: bytes, filename: str, kind: str = SheetJob.Kind.ROWS, meeting: Meeting | None = None,
    actor: AbstractBaseUser | None = None,
):  # fmt: skip
    """Have a worker read checked bytes and wait for what it read (see sheet_job_outcome).

    Waits at most the task's hard time limit; a job no worker has taken by then is withdrawn
    (SheetUnread, 503), one still being read is refused as too slow."""
    job = sheet_submit(
        data=data, filename=filename, kind=kind, meeting=meeting, actor=actor, wait=settings.SHEET_TIME_LIMIT + 3
    )
    try:
        if job.state == SheetJob.State.QUEUED:
            raise SheetUnread(_no_worker())
        if job.state == SheetJob.State.RUNNING:
            raise _refusal(kind, [_too_slow(kind, settings.SHEET_TIME_LIMIT)])
        return sheet_job_outcome(job=job)
    finally:
        SheetJob.objects.filter(pk=job.pk).delete()
