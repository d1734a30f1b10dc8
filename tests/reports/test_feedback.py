"""Each department's feedback (issue 16): the same data in the API and the page, its contact reaches
nothing of another department and no ballot-level data, the distribution is withheld under 5 ballots."""

from decimal import Decimal

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


def _pdf_text(content: bytes, tmp_path, name: str) -> str:
    import subprocess

    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_feedback_pdf_of_one_department_and_of_all(published, client, tmp_path):
    import subprocess

    from tests.reports.test_exports import ARTIFACTS

    meeting, organizer, contact = published
    client.force_login(contact)
    own = client.get(f"/feedback/m/{meeting.pk}/D01/feedback.pdf")
    foreign = client.get(f"/feedback/m/{meeting.pk}/D02/feedback.pdf")
    every_as_contact = client.get(f"/console/m/{meeting.pk}/feedback.pdf")
    client.force_login(organizer)
    every = client.get(f"/console/m/{meeting.pk}/feedback.pdf")
    api = client.get(f"/api/v1/meetings/{meeting.pk}/feedback/D01").json()

    text = _pdf_text(own.content, tmp_path, "own")
    all_text = _pdf_text(every.content, tmp_path, "all")
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", str(tmp_path / "own.pdf"), str(ARTIFACTS / "feedback")],
        check=True,
    )
    assert own.status_code == 200 and own["Content-Type"] == "application/pdf"
    assert foreign.status_code == 403 and every_as_contact.status_code == 404
    assert "测试部门1" in text and "测试部门2" not in text
    assert f"{Decimal(api['final']):.2f}" in text and api["final"] not in text  # 2 decimals for people
    for role in api["roles"].values():
        assert role["name"] in text
    assert every.status_code == 200 and all(f"测试部门{i}" in all_text for i in (1, 2, 3))
    assert all_text.count("考评结果反馈") == 3


def _routes(resolver=None, prefix=""):
    """Every route of the site as (name, route string), the admin's aside (a contact is not staff)."""
    from django.urls import URLPattern, URLResolver, get_resolver

    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if not route.startswith("admin/"):
                yield from _routes(entry, route)
        elif isinstance(entry, URLPattern):
            yield entry.name, route


@pytest.fixture
def appealed(published, settings, tmp_path):
    """The result under notice, the contact's appeal with an attachment in, a voided ballot in the log."""
    import datetime

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from reports.publicity import appeal_submit, publish

    settings.PRIVATE_ROOT = tmp_path / "private"
    meeting, organizer, contact = published
    from reports.services import snapshot_unpublish

    snapshot_unpublish(meeting=meeting, actor=organizer, ip=None)
    publish(
        meeting=meeting,
        stage="publicity",
        until=timezone.now() + datetime.timedelta(days=2),
        early_reason=None,
        actor=organizer,
        ip=None,
    )
    appeal = appeal_submit(
        meeting=meeting,
        department_code="D01",
        reason="统计有误",
        actor=contact,
        ip=None,
        attachment=SimpleUploadedFile("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    return meeting, organizer, contact, appeal


def test_a_contact_walking_every_page_api_and_export_sees_only_its_department(appealed, client):
    """Every route of the site, GET as the contact: the public ones answer as they answer anyone; every other
    one is refused, except the contact's own feedback (page, PDF, API) and appeals, which hold nothing of
    another department and nothing at ballot level (no receipt, pseudonym, rater token or alias)."""
    import re

    from django.test import Client

    from meetings.models import Presentation
    from reports.models import ResultSnapshot
    from voting.models import Ballot

    meeting, _organizer, contact, appeal = appealed
    client.force_login(contact)
    anonymous = Client()
    snapshot = ResultSnapshot.objects.filter(meeting=meeting).first()
    other = Presentation.objects.get(meeting=meeting, department__code="D02")
    values = {
        "meeting_id": meeting.pk,
        "snapshot_id": snapshot.pk,
        "appeal_id": appeal.pk,
        "presentation_id": other.pk,
        "token": "not-a-card",
        "role": "lead",
        "fmt": ["json", "csv", "xlsx", "pdf"],
        "run_id": 1,
        "entry_id": 1,
        "batch_id": 1,
        "adjustment_id": 1,
        "job_id": 1,
        "sheet_id": "00000000-0000-0000-0000-000000000001",
        "code": ["D01", "D02"],
        "department": ["D01", "D02"],
    }
    secrets = set(Ballot.objects.values_list("receipt", flat=True)) | set(
        Ballot.objects.values_list("pseudonym", flat=True)
    )
    own_routes = {
        "feedback-page",
        "feedback-pdf",
        "feedback",
        "appeals",
        "console",
        "password_change",
        "password_change_done",
    }
    urls = []
    for name, route in _routes():
        variants = ["/" + route]
        for key in re.findall(r"<(?:\w+:)?(\w+)>", route):
            choices = values.get(key, 1)
            choices = choices if isinstance(choices, list) else [choices]
            variants = [
                re.sub(rf"<(?:\w+:)?{key}>", str(choice), variant) for variant in variants for choice in choices
            ]
        urls += [(name, url) for url in variants]

    seen = []
    for name, url in urls:
        response = client.get(url)
        public = anonymous.get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        seen.append((name, url, response.status_code))
        same_redirect = public.status_code == response.status_code == 302 and public["Location"] == response["Location"]
        if public.status_code == 200 or same_redirect or name in ("login", "home", "healthz", "set_language", "logout"):
            assert response.status_code == public.status_code, (url, response.status_code, public.status_code)
            continue
        if name in own_routes and response.status_code == 200 and "D02" not in url:
            text = body.decode("utf-8", "replace") if not body.startswith(b"%PDF") else body.decode("latin-1")
            assert "测试部门2" not in text and "测试部门3" not in text, url
            assert not any(secret in text for secret in secrets), url
            continue
        assert response.status_code in (302, 400, 401, 403, 404, 405), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith(("/accounts/login/", "/feedback/m/")), (url, response["Location"])

    assert len(seen) >= 80  # every route, each format and both departments: 87 when written
    reached = {name for name, url, code in seen if code == 200 and name in own_routes}
    assert {"feedback-page", "feedback-pdf", "feedback", "appeals"} <= reached
    assert ("appeal-attachment", f"/api/v1/meetings/{meeting.pk}/appeals/{appeal.pk}/attachment", 404) in seen


@pytest.mark.parametrize("departments", [3, 7])
def test_every_departments_feedback_reads_alike_one_by_one_in_constant_queries(
    small_document, departments, django_assert_num_queries
):
    from reports.feedback import department_feedback, departments_feedback, feedback_context

    meeting = meeting_import(document=small_document(departments=departments, seats=6), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=11)
    snapshot = snapshot_compute(meeting=meeting)
    snapshot.refresh_from_db()
    one_by_one = [department_feedback(snapshot, row["department"]) for row in snapshot.rows]

    feedback_context(snapshot)  # loads the snapshot's inputs and its meeting once, outside the count
    # The roles, the ballots, their values and the agenda: 4 whatever the number of departments.
    with django_assert_num_queries(4):
        together = departments_feedback(snapshot)

    assert together == one_by_one and len(together) == departments
