"""Issue 17: aggregation requests for one meeting merge while one is queued; a meeting never has more than
one run queued, so ten clicks cost one aggregation and other meetings' runs are not crowded out."""

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.models import AggregationRun

pytestmark = pytest.mark.django_db


def test_requests_merge_into_the_queued_run_and_one_follows_a_running_one(small_document, api_client):
    meeting = meeting_import(document=small_document(departments=2), actor=None).meeting
    other = meeting_import(document=small_document(departments=2), actor=None).meeting
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    assign_perm("meetings.organize_meeting", organizer, other)
    api_client.force_authenticate(organizer)

    def request(m):
        response = api_client.post(f"/api/v1/meetings/{m.pk}/aggregate")
        assert response.status_code == 202, response.content
        return response.json()["run"]

    first = {request(meeting) for _ in range(10)}
    elsewhere = request(other)
    AggregationRun.objects.filter(pk__in=first).update(state="running")
    after_start = {request(meeting) for _ in range(5)}

    assert len(first) == 1 and elsewhere not in first
    assert len(after_start) == 1 and after_start != first
    assert AggregationRun.objects.filter(meeting=meeting).count() == 2
    assert AggregationRun.objects.filter(meeting=meeting, state="queued").count() == 1
    actions = list(meeting.audit_entries.values_list("action", flat=True))
    assert actions.count("aggregation.requested") == 2 and actions.count("aggregation.merged") == 13
