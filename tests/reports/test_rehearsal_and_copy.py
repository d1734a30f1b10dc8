"""Rehearsals never mix into the real meeting; a copy starts next year's meeting with new cards."""

import datetime
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from guardian.shortcuts import assign_perm

from appraisal.exceptions import Conflict
from meetings.models import Meeting, Rater
from meetings.services import meeting_copy, meeting_import
from reports.models import RehearsalJob
from reports.services import rehearsal_execute, snapshot_compute, snapshot_publish
from voting.models import Ballot
from voting.selectors import meeting_progress

pytestmark = pytest.mark.django_db


def test_rehearsal_ballots_never_reach_the_real_meeting(small_document):
    real = meeting_import(document=small_document(departments=3, seats=3), actor=None).meeting
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    organizer = get_user_model().objects.create_user("org", password="pw-org-1234")
    assign_perm("meetings.organize_meeting", organizer, real)
    client = Client()
    client.force_login(admin)

    response = client.post(f"/console/m/{real.pk}/rehearsal")

    # Built by a worker (reports.tasks.build_rehearsal); here its body runs in the test's transaction.
    job = RehearsalJob.objects.get(source=real)
    assert response.status_code == 302 and response["Location"] == f"/console/m/{real.pk}/rehearsals/{job.pk}/"
    assert rehearsal_execute(job_id=job.pk).state == "succeeded"
    rehearsal = Meeting.objects.get(rehearsal_of=real)
    assert Ballot.objects.filter(presentation__meeting=rehearsal).count() > 0
    assert Ballot.objects.filter(presentation__meeting=real).count() == 0
    assert all(p["ballots"] == 0 for p in meeting_progress(real)["presentations"])
    real_snapshot = snapshot_compute(meeting=real)
    assert real_snapshot.ballots_counted == 0
    assert all("no_ballots" in row["flags"] for row in real_snapshot.rows)
    assert json.loads(real_snapshot.inputs)["ballots"] == []
    assert rehearsal.title.startswith("【演练】")
    assert organizer.has_perm("meetings.organize_meeting", rehearsal)
    with pytest.raises(Conflict):
        snapshot_publish(meeting=rehearsal, actor=admin, ip=None)
    assert client.get(f"/api/v1/public/meetings/{rehearsal.pk}/results").status_code == 404
    assert client.get(f"/results/m/{rehearsal.pk}/").status_code == 404


def test_copy_to_a_new_cycle_keeps_forms_and_panel_with_new_tokens(small_document):
    result = meeting_import(document=small_document(departments=3, seats=2), actor=None)

    copy = meeting_copy(
        source=result.meeting, cycle_year=2022, cycle_name="2022年度测试考评", title="2022年度测试考评大会",
        date=datetime.date(2023, 1, 18), actor=None, ip=None,
    )  # fmt: skip

    new = copy.meeting
    assert new.scheme.cycle.year == 2022 and new.scheme.copied_from == result.meeting.scheme
    assert new.scheme_id != result.meeting.scheme_id
    assert list(new.scheme.roles.values_list("code", "weight", "trim")) == list(
        result.meeting.scheme.roles.values_list("code", "weight", "trim")
    )
    assert new.presentations.count() == 3 and Rater.objects.filter(meeting=new).count() == 5
    assert Rater.objects.get(meeting=new, name="王芳").department.code == "D01"
    assert {r.token for r in copy.raters}.isdisjoint({r.token for r in result.raters})
    assert (new.reward_top, new.tie_break_roles) == (result.meeting.reward_top, result.meeting.tie_break_roles)


def test_rehearsal_needs_the_right_to_organize_that_meeting(small_document):
    meeting = meeting_import(document=small_document(departments=3, seats=2), actor=None).meeting
    other = meeting_import(document=small_document(departments=3, seats=2), actor=None).meeting
    creator = get_user_model().objects.create_user("creator", password="pw-creator-1")
    creator.user_permissions.add(Permission.objects.get(codename="add_meeting"))
    assign_perm("meetings.organize_meeting", creator, other)
    entries = meeting.audit_entries.count()
    client = Client()
    client.force_login(creator)

    response = client.post(f"/console/m/{meeting.pk}/rehearsal")

    assert response.status_code == 404
    assert not Meeting.objects.filter(rehearsal_of=meeting).exists()
    assert not RehearsalJob.objects.exists()
    assert meeting.audit_entries.count() == entries
    assert client.post(f"/console/m/{other.pk}/rehearsal").status_code == 302  # its own meeting: allowed


def test_rehearsal_status_page_follows_the_job(small_document):
    real = meeting_import(document=small_document(departments=3, seats=2), actor=None).meeting
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    client = Client()
    client.force_login(admin)
    status_url = client.post(f"/console/m/{real.pk}/rehearsal")["Location"]

    waiting = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    rehearsal_execute(job_id=RehearsalJob.objects.get().pk)
    ready = client.get(status_url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert 'http-equiv="refresh"' in waiting and "Building the rehearsal" in waiting
    assert 'http-equiv="refresh"' not in ready and "The rehearsal is ready" in ready
    rehearsal = Meeting.objects.get(rehearsal_of=real)
    assert f"/console/m/{rehearsal.pk}/review/" in ready
