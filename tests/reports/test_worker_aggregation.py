"""Aggregation on real Celery workers against Redis, including a SIGKILL mid-run."""

import time

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from appraisal.celery import app
from meetings.services import meeting_import
from reports.models import AggregationRun
from reports.services import aggregation_request
from tests.worker import WorkerProcess
from voting.simulation import ballots_simulate

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def clean_broker():
    app.control.purge()
    yield
    app.control.purge()


@pytest.fixture
def worker(clean_broker):
    process = WorkerProcess("agg").start()
    yield process
    process.stop()


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


def test_aggregate_api_runs_on_worker_and_reports_status(worker, api_client, small_document):
    meeting = meeting_import(document=small_document(departments=4, seats=5), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=11)
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, meeting)
    api_client.force_authenticate(user)

    response = api_client.post(f"/api/v1/meetings/{meeting.pk}/aggregate")

    assert response.status_code == 202
    body = response.json()
    assert body["task_id"] and body["status_url"].endswith(f"/api/v1/meetings/{meeting.pk}/aggregations/{body['run']}")
    status = wait_for(
        lambda: (s := api_client.get(body["status_url"]).json())["state"] == "succeeded" and s, timeout=30
    )
    assert status["progress"] == 100
    results = api_client.get(f"/api/v1/meetings/{meeting.pk}/results").json()
    assert results["snapshot"] == status["snapshot"]


def test_worker_killed_mid_aggregation_new_worker_gives_same_digest(clean_broker, sample_document):
    meeting = meeting_import(document=sample_document, actor=None).meeting
    ballots_simulate(meeting=meeting, seed=5)
    first_worker = WorkerProcess("first").start()
    try:
        clean = aggregation_request(meeting=meeting, actor=None, ip=None)
        wait_for(lambda: AggregationRun.objects.get(pk=clean.pk).state == "succeeded", timeout=60)
        clean.refresh_from_db()

        second = aggregation_request(meeting=meeting, actor=None, ip=None)
        wait_for(lambda: AggregationRun.objects.get(pk=second.pk).state == "running", timeout=30, interval=0.01)
        first_worker.kill()
    finally:
        first_worker.stop()
    second.refresh_from_db()
    assert second.state == "running"  # killed mid-run: nobody will finish it on their own

    replacement = WorkerProcess("second").start()
    try:
        started = time.monotonic()
        wait_for(lambda: AggregationRun.objects.get(pk=second.pk).state == "succeeded", timeout=60)
        elapsed = time.monotonic() - started
    finally:
        replacement.stop()

    second.refresh_from_db()
    assert second.attempts == 2
    assert second.snapshot.digest == clean.snapshot.digest
    assert second.snapshot.rows == clean.snapshot.rows
    print(f"killed run completed {elapsed:.1f}s after the new worker started")
