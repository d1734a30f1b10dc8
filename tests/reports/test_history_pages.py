"""The rank change on the review and public pages, and a department's history page (SCORING.md 12)."""

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import, meeting_previous_set
from reports.services import snapshot_compute, snapshot_publish
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_years(small_document):
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    meetings = []
    for year, seed in ((2020, 1), (2021, 2)):
        document = small_document(departments=4, streak_rule={"repeat_admonition": 2})
        document["cycle"] = {"year": year, "name": f"{year}年度测试考评"}
        meeting = meeting_import(document=document, actor=None).meeting
        assign_perm("meetings.organize_meeting", organizer, meeting)
        ballots_simulate(meeting=meeting, seed=seed)
        meetings.append(meeting)
    first, second = meetings
    snapshot_compute(meeting=first)
    snapshot_publish(meeting=first, actor=organizer, ip=None)
    meeting_previous_set(meeting=second, previous=first, actor=organizer, ip=None)
    snapshot = snapshot_compute(meeting=second)
    snapshot_publish(meeting=second, actor=organizer, ip=None)
    return first, second, snapshot, organizer


def test_review_and_public_pages_show_the_rank_change(two_years, client):
    _first, second, snapshot, organizer = two_years
    client.force_login(organizer)

    review = client.get(f"/console/m/{second.pk}/review/").content.decode()
    public = client.get(f"/results/m/{second.pk}/").content.decode()

    signs = {row["department"]: row["history"] for row in snapshot.rows}
    assert all(h["previous_rank"] is not None for h in signs.values())  # every department was there in 2020
    for text in (review, public):
        assert "与上次相比" in text
        for history in signs.values():
            change = history["rank_change"]
            if change and change > 0:
                assert f"▲{change}" in text
            elif change and change < 0:
                assert f"▼{-change}" in text


def test_history_page_lists_every_cycle_with_a_chart(two_years, client):
    first, second, snapshot, organizer = two_years
    client.force_login(organizer)
    code = snapshot.rows[0]["department"]

    page = client.get(f"/console/m/{second.pk}/history/{code}/")
    missing = client.get(f"/console/m/{second.pk}/history/NOPE/")

    text = page.content.decode()
    assert page.status_code == 200 and "<polyline" in text
    assert "2020" in text and "2021" in text and first.title in text
    assert missing.status_code == 404


def test_history_page_refuses_strangers(two_years, client):
    _first, second, snapshot, _organizer = two_years
    stranger = get_user_model().objects.create_user("stranger", password="pw-stranger-1")
    client.force_login(stranger)

    page = client.get(f"/console/m/{second.pk}/history/{snapshot.rows[0]['department']}/")

    assert page.status_code in (403, 404)
