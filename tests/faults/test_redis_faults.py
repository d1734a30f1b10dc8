"""Redis stopped or paused during a meeting: ballots still count, pages still answer, no aggregation lost."""

import json
import subprocess
import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from guardian.shortcuts import assign_perm

from appraisal.celery import app
from meetings.services import meeting_import
from reports.models import AggregationRun
from tests.worker import WorkerProcess
from voting.models import Ballot
from voting.services import voting_set

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCORES = {"performance": "50", "innovation": "30"}


def put(client, token, presentation):
    return client.put(
        f"/api/v1/rater/ballots/{presentation}",
        data=json.dumps({"scores": SCORES}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {token}",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )


@pytest.fixture
def meeting_setup(small_document):
    result = meeting_import(document=small_document(departments=2, seats=10), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="next", actor=None, ip=None)
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, result.meeting)
    tokens = [r.token for r in result.raters if r.role == "leadership"]
    return result.meeting, result.presentations[0][0], tokens, user


def test_redis_stopped_during_voting(redis_control, meeting_setup):
    meeting, presentation, tokens, user = meeting_setup
    rater, organizer = Client(), Client()
    organizer.force_login(user)
    app.control.purge()
    redis_control["stop"]()

    statuses = [put(rater, token, presentation).status_code for token in tokens[:5]]
    live = rater.get(f"/api/v1/meetings/{meeting.pk}/live", HTTP_AUTHORIZATION=f"Rater {tokens[0]}").status_code
    home = rater.get(f"/r/{tokens[0]}/").status_code
    console = organizer.get(f"/console/m/{meeting.pk}/").status_code
    started = time.monotonic()
    requested = organizer.post(f"/api/v1/meetings/{meeting.pk}/aggregate")
    answered_in = time.monotonic() - started

    assert statuses == [201] * 5 and (live, home, console) == (200, 200, 200)
    assert requested.status_code == 202 and answered_in < 5, answered_in
    run = AggregationRun.objects.get()
    assert (run.state == "queued" and "queue" in run.error.lower()) or "队列" in run.error

    redis_control["start"]()
    worker = WorkerProcess("redis-back").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = organizer.get(requested.json()["status_url"].replace("http://testserver", "")).json()["state"]
            if state == "succeeded":
                break
            time.sleep(1)
    finally:
        worker.stop()
    run.refresh_from_db()
    counted = Ballot.objects.filter(presentation_id=presentation).count()
    print(f"Redis stopped: ballots sent 5, stored {counted}; aggregation {run.state} after {run.attempts} attempt(s)")
    assert run.state == "succeeded" and run.snapshot.ballots_counted == 5 == counted


def test_redis_paused_aggregation_request_answers_quickly(redis_control, meeting_setup):
    meeting, _presentation, _tokens, user = meeting_setup
    organizer = Client()
    organizer.force_login(user)
    app.control.purge()
    pause = threading.Thread(
        target=lambda: subprocess.run(["redis-cli", "-p", "6379", "DEBUG", "SLEEP", "8"], capture_output=True)
    )
    pause.start()
    time.sleep(0.3)

    started = time.monotonic()
    response = organizer.post(f"/api/v1/meetings/{meeting.pk}/aggregate")
    answered_in = time.monotonic() - started
    pause.join()

    print(f"Redis paused 8 s: the aggregation request answered {response.status_code} in {answered_in:.1f} s")
    assert response.status_code == 202 and answered_in < 6, answered_in
    worker = WorkerProcess("after-pause").start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (
                organizer.get(response.json()["status_url"].replace("http://testserver", "")).json()["state"]
                == "succeeded"
            ):
                break
            time.sleep(1)
    finally:
        worker.stop()
    assert AggregationRun.objects.get().state == "succeeded"
