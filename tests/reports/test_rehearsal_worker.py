"""A rehearsal is built on a real worker; a failure midway leaves nothing of it behind (issue 12, hole 6)."""

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from appraisal.celery import app
from meetings.models import Meeting, Presentation, Rater
from meetings.services import meeting_import
from reports.models import RehearsalJob, ResultSnapshot
from reports.services import rehearsal_execute, rehearsal_request
from tests.reports.test_publish_integrity import wait_for
from tests.worker import WorkerProcess
from voting.models import Ballot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.worker
def test_rehearsal_built_on_a_worker_from_the_console(small_document):
    real = meeting_import(document=small_document(departments=4, seats=4), actor=None).meeting
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    client = Client()
    client.force_login(admin)
    app.control.purge()
    worker = WorkerProcess("rehearsal").start()
    try:
        status_url = client.post(f"/console/m/{real.pk}/rehearsal")["Location"]
        job = wait_for(lambda: RehearsalJob.objects.filter(source=real, state="succeeded").first(), timeout=60)
    finally:
        worker.stop()

    rehearsal = Meeting.objects.get(rehearsal_of=real)
    assert job.rehearsal == rehearsal and job.ballots == Ballot.objects.filter(presentation__meeting=rehearsal).count()
    assert ResultSnapshot.objects.filter(meeting=rehearsal).count() == 1
    assert "rehearsal.created" in real.audit_entries.values_list("action", flat=True)
    assert f"/console/m/{rehearsal.pk}/review/" in client.get(status_url).content.decode()


def test_rehearsal_failing_midway_leaves_nothing_behind(small_document):
    real = meeting_import(document=small_document(departments=4, seats=4), actor=None).meeting
    meetings_before, raters_before = Meeting.objects.count(), Rater.objects.count()
    presentations_before = Presentation.objects.count()
    job = rehearsal_request(source=real, actor=None, ip=None)
    db = connection.settings_dict
    blocker = psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"])
    try:
        # Another session holds the ballot table: the build copies the meeting, then cannot write its
        # simulated ballots within the lock timeout, and fails as on any database failure midway.
        blocker.execute("LOCK TABLE voting_ballot IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        result = rehearsal_execute(job_id=job.pk)
    finally:
        blocker.rollback()
        blocker.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")

    assert result.state == "failed" and "lock" in result.error.lower()
    assert (Meeting.objects.count(), Rater.objects.count()) == (meetings_before, raters_before)
    assert Presentation.objects.count() == presentations_before
    actions = list(real.audit_entries.values_list("action", flat=True))
    assert "rehearsal.failed" in actions and "rehearsal.created" not in actions
