"""Every organizer endpoint and page refuses whoever lacks the right on that meeting."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from meetings.services import meeting_import
from reports.models import ResultSnapshot
from reports.services import snapshot_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(voted_meeting, small_document):
    other = meeting_import(document=small_document(), actor=None).meeting
    users = {}
    for name, perm, meeting in (
        ("organizer", "meetings.organize_meeting", voted_meeting),
        ("auditor", "meetings.audit_meeting", voted_meeting),
        ("other_organizer", "meetings.organize_meeting", other),
        ("nobody", None, None),
    ):
        users[name] = get_user_model().objects.create_user(name, password=f"pw-{name}-123")
        if perm:
            assign_perm(perm, users[name], meeting)
    snapshot = snapshot_compute(meeting=voted_meeting)
    voted_meeting.audit_before = voted_meeting.audit_entries.count()  # the import's own entry
    return voted_meeting, snapshot, users


def api_calls(meeting, snapshot):
    m = f"/api/v1/meetings/{meeting.pk}"
    reads = [
        ("get", f"{m}/results", None),
        ("get", f"{m}/progress", None),
        ("get", f"{m}/audit", None),
        ("get", f"{m}/adjustments", None),
        ("get", f"{m}/snapshots/{snapshot.pk}/export.json", None),
        ("get", f"{m}/snapshots/{snapshot.pk}/export.csv", None),
    ]
    writes = [
        ("post", f"{m}/voting", {"presentation": "all", "action": "open"}),
        ("post", f"{m}/aggregate", None),
        ("post", f"{m}/publish", None),
        ("delete", f"{m}/publish", None),
        ("post", f"{m}/components/none", {"scores": {"D01": "1"}}),
        ("post", f"{m}/adjustments", {"department": "D01", "points": "1", "reason": "r"}),
        ("post", f"{m}/vetoes", {"department": "D01", "reason": "r"}),
        ("delete", f"{m}/vetoes/D01", None),
        ("post", f"{m}/ballots/void", {"receipt": "X", "reason": "r"}),
        ("post", f"{m}/countdown", {"seconds": 60}),
    ]
    return reads, writes


def call(client, method, url, body):
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


def test_organizer_api_refuses_everyone_without_the_right(world):
    meeting, snapshot, users = world
    reads, writes = api_calls(meeting, snapshot)
    for who, allowed_reads, allowed_writes in (
        (None, False, False),
        ("nobody", False, False),
        ("other_organizer", False, False),
        ("auditor", True, False),
    ):
        client = APIClient()
        if who:
            client.force_authenticate(users[who])
        for method, url, body in reads + writes:
            status = call(client, method, url, body).status_code
            is_read = (method, url, body) in reads
            if who is None:
                assert status in (401, 403), (who, url, status)
            elif (is_read and allowed_reads) or (not is_read and allowed_writes):
                assert status < 400, (who, url, status)
            elif who == "auditor":
                assert status == 403, (who, method, url, status)
            else:
                assert status == 404, (who, url, status)  # does not reveal that the meeting exists
    assert meeting.presentations.filter(state="open").count() == 0
    assert not ResultSnapshot.objects.filter(published_at__isnull=False).exists()
    assert meeting.audit_entries.count() == meeting.audit_before


def test_organizer_api_allows_the_right_organizer(world):
    meeting, _snapshot, users = world
    client = APIClient()
    client.force_authenticate(users["organizer"])
    m = f"/api/v1/meetings/{meeting.pk}"

    assert client.get(f"{m}/results").status_code == 200
    assert client.post(f"{m}/voting", {"presentation": "all", "action": "open"}, format="json").status_code == 200
    assert client.post(f"{m}/countdown", {"seconds": 300}, format="json").status_code == 200
    assert client.post(f"{m}/vetoes", {"department": "D01", "reason": "违规"}, format="json").status_code == 201
    assert client.delete(f"{m}/vetoes/D01").status_code == 204


CONSOLE_PAGES = [
    "/console/m/{id}/",
    "/console/m/{id}/review/",
    "/console/m/{id}/audit/",
    "/projector/m/{id}/",
    "/projector/m/{id}/state.json",
]
CONSOLE_POSTS = [
    ("/console/m/{id}/voting", {"presentation": "all", "action": "open"}),
    ("/console/m/{id}/aggregate", {}),
    ("/console/m/{id}/publish", {"action": "publish"}),
    ("/console/m/{id}/void", {"receipt": "X", "reason": "r"}),
    ("/console/m/{id}/adjust", {"action": "veto", "department": "D01", "reason": "r"}),
    ("/console/m/{id}/countdown", {"minutes": "5"}),
]


def test_console_pages_refuse_everyone_without_the_right(world):
    meeting, _snapshot, users = world
    anonymous = Client()
    for url in CONSOLE_PAGES:
        response = anonymous.get(url.format(id=meeting.pk))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for who, page_status, post_status in (("nobody", 404, 404), ("other_organizer", 404, 404), ("auditor", 200, 403)):
        client = Client()
        client.force_login(users[who])
        for url in CONSOLE_PAGES:
            assert client.get(url.format(id=meeting.pk)).status_code == page_status, (who, url)
        for url, data in CONSOLE_POSTS:
            assert client.post(url.format(id=meeting.pk), data).status_code == post_status, (who, url)
    assert meeting.presentations.filter(state="open").count() == 0
    assert meeting.audit_entries.count() == meeting.audit_before


def test_console_auditor_sees_no_buttons(world):
    meeting, _snapshot, users = world
    client = Client()
    client.force_login(users["auditor"])

    page = client.get(f"/console/m/{meeting.pk}/").content.decode()
    review = client.get(f"/console/m/{meeting.pk}/review/").content.decode()

    assert "下一个述职" not in page and "开始汇总计算" not in page
    assert "发布该结果" not in review and "作废选票" not in review


def test_console_posts_work_for_the_organizer(world):
    meeting, _snapshot, users = world
    client = Client()
    client.force_login(users["organizer"])

    first = meeting.presentations.order_by("order").first()
    client.post(f"/console/m/{meeting.pk}/voting", {"presentation": str(first.pk), "action": "open"})
    bad = client.post(
        f"/console/m/{meeting.pk}/adjust",
        {"action": "adjust", "department": "D01", "points": "abc", "reason": "r"},
        follow=True,
    )

    assert meeting.presentations.filter(state="open").count() == 1
    assert "分值必须是非零数字" in bad.content.decode()
    assert not meeting.adjustments.exists()


def test_console_paper_page_two_people_make_a_ballot(world):
    meeting, _snapshot, users = world
    second = get_user_model().objects.create_user("organizer2", password="pw-organizer-2")
    assign_perm("meetings.organize_meeting", second, meeting)
    from meetings.models import Presentation
    from voting.models import Ballot

    presentation = Presentation.objects.filter(meeting=meeting).order_by("order").last()
    seat = meeting.raters.filter(role__code="leadership").order_by("seat_no").first().seat_no
    Ballot.objects.filter(presentation=presentation).delete()
    data = {"action": "enter", "seat": seat, "presentation": presentation.pk, "performance": "40", "innovation": "20"}
    first, other = Client(), Client()
    first.force_login(users["organizer"])
    other.force_login(second)

    form = first.get(f"/console/m/{meeting.pk}/paper/?seat={seat}&presentation={presentation.pk}").content.decode()
    first.post(f"/console/m/{meeting.pk}/paper/", data)
    assert not Ballot.objects.filter(presentation=presentation).exists()
    other.post(f"/console/m/{meeting.pk}/paper/", data)

    assert 'name="performance"' in form
    ballot = Ballot.objects.get(presentation=presentation)
    assert (ballot.source, ballot.total) == ("paper", 60)
    auditor = Client()
    auditor.force_login(users["auditor"])
    assert auditor.get(f"/console/m/{meeting.pk}/paper/").status_code == 403


def test_adjustment_points_rule_is_the_same_for_api_and_console(world):
    meeting, _snapshot, users = world
    api = APIClient()
    api.force_authenticate(users["organizer"])
    console = Client()
    console.force_login(users["organizer"])

    for points in ("0", "1001", "0.00001"):
        response = api.post(
            f"/api/v1/meetings/{meeting.pk}/adjustments",
            {"department": "D01", "points": points, "reason": "r"},
            format="json",
        )
        assert response.status_code == 400, points
        console.post(
            f"/console/m/{meeting.pk}/adjust",
            {"action": "adjust", "department": "D01", "points": points, "reason": "r"},
        )

    assert not meeting.adjustments.exists()
