"""Each department's feedback (issue 16): the same data in the API and the page, its contact reaches
nothing of another department and no ballot-level data, the distribution is withheld under 5 ballots."""

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.publicity import contact_grant
from reports.services import snapshot_compute, snapshot_publish
from voting.models import Ballot
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(small_document):
    meeting = meeting_import(document=small_document(departments=3, seats=6), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=5)
    User = get_user_model()
    organizer = User.objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    contact = User.objects.create_user("d01", password="pw-contact-1")
    contact_grant(meeting=meeting, user=contact, department_code="D01", email="", actor=organizer, ip=None)
    return meeting, organizer, contact


def test_feedback_of_its_department_with_role_figures(published, api_client):
    meeting, _organizer, contact = published
    api_client.force_authenticate(contact)

    body = api_client.get(f"/api/v1/meetings/{meeting.pk}/feedback/D01").json()

    row = next(r for r in meeting.snapshots.get(published_at__isnull=False).rows if r["department"] == "D01")
    assert (body["rank"], body["final"]) == (row["rank"], row["final"])
    leadership = body["roles"]["leadership"]
    assert leadership["score"] == row["role_scores"]["leadership"]["score"]
    assert {c["code"] for c in leadership["criteria"]} == {"performance", "innovation"}
    assert leadership["distribution"] and sum(b["ballots"] for b in leadership["distribution"]) == leadership["ballots"]


def test_distribution_withheld_under_five_ballots(small_document, api_client):
    meeting = meeting_import(document=small_document(departments=3, seats=3), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=6)
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    snapshot_compute(meeting=meeting)
    api_client.force_authenticate(organizer)

    body = api_client.get(f"/api/v1/meetings/{meeting.pk}/feedback/D01").json()

    # 3 seats per role (王芳 is recused from D01): never 5 ballots, so no distribution at all.
    assert {role["ballots"] < 5 for role in body["roles"].values()} == {True}
    assert [role["distribution"] for role in body["roles"].values()] == [None, None]


def test_contact_reaches_nothing_else(published, api_client, client):
    meeting, _organizer, contact = published
    api_client.force_authenticate(contact)
    client.force_login(contact)
    receipts = set(Ballot.objects.values_list("receipt", flat=True))
    pseudonyms = set(Ballot.objects.values_list("pseudonym", flat=True))

    other = api_client.get(f"/api/v1/meetings/{meeting.pk}/feedback/D02")
    refused = [
        api_client.get(f"/api/v1/meetings/{meeting.pk}/{path}").status_code
        for path in ("results", "diagnostics", "progress", "audit", "surveys")
    ]
    pages = [client.get(f"/console/m/{meeting.pk}/{path}").status_code for path in ("", "review/", "audit/", "paper/")]
    landing = client.get("/console/", follow=False)
    own = client.get(f"/feedback/m/{meeting.pk}/D01/")
    foreign = client.get(f"/feedback/m/{meeting.pk}/D02/")
    text = own.content.decode() + api_client.get(f"/api/v1/meetings/{meeting.pk}/feedback/D01").content.decode()

    assert other.status_code == 403
    assert all(code in (403, 404) for code in refused), refused
    assert all(code in (403, 404) for code in pages), pages
    assert landing.status_code == 302 and landing["Location"].endswith(f"/feedback/m/{meeting.pk}/D01/")
    assert own.status_code == 200 and foreign.status_code == 403
    assert not any(r in text for r in receipts) and not any(p in text for p in pseudonyms)
    assert "测试部门2" not in text  # nothing of another department
