"""Turnout for the console and the projector: the query count does not grow with the meeting."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


def test_progress_query_count_constant_in_presentations_and_seats(
    api_client, small_document, django_assert_num_queries
):
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    api_client.force_authenticate(user)
    counts = []
    for departments, seats in ((3, 2), (70, 60)):
        meeting = meeting_import(document=small_document(departments=departments, seats=seats), actor=None).meeting
        ballots_simulate(meeting=meeting, seed=1, close_voting=False)
        assign_perm("meetings.organize_meeting", user, meeting)
        with CaptureQueriesContext(connection) as captured:
            body = api_client.get(f"/api/v1/meetings/{meeting.pk}/progress").json()
        counts.append(len(captured))
        assert len(body["presentations"]) == departments
        assert body["presentations"][1]["roles"]["leadership"]["expected"] == seats
    assert counts[0] == counts[1], counts
    with django_assert_num_queries(counts[1]):
        api_client.get(f"/api/v1/meetings/{meeting.pk}/progress")
