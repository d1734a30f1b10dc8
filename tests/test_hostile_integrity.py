"""Hostile input against the promises of issue 12: exponent forms in every numeric input, reportlab markup
in every name that reaches a PDF, and a rehearsal asked for without the right. Each case named, its
status asserted, nothing changed, never a 5xx."""

import io
import json
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from guardian.shortcuts import assign_perm
from openpyxl import Workbook

from meetings.models import Meeting
from meetings.services import meeting_import
from reports.models import RehearsalJob
from reports.services import snapshot_compute, snapshot_publish
from tests.test_hostile import state, world  # noqa: F401  (the shared fixture)
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db

# A zero no comparison refuses and PostgreSQL's numeric cannot store, and its relatives.
EXPONENTS = ["0E-1000000", "1E1", "5e-1", "1E+2", "0e0"]


@pytest.mark.parametrize("value", EXPONENTS)
def test_rater_api_refuses_scores_in_exponent_form(client, world, value):  # noqa: F811
    before = state()

    response = client.put(
        f"/api/v1/rater/ballots/{world['presentation']}",
        data=json.dumps({"scores": {"performance": value, "innovation": "10"}}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {world['token']}",
    )

    assert response.status_code == 400, response.content
    assert [e["path"] for e in response.json()["errors"]] == ["scores.performance"]
    assert state() == before


def test_rater_api_refuses_a_json_number_beyond_any_score_precision(client, world):  # noqa: F811
    before = state()

    response = client.put(
        f"/api/v1/rater/ballots/{world['presentation']}",
        data='{"scores": {"performance": 0E-1000000, "innovation": 1e-30}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {world['token']}",
    )

    assert response.status_code == 400, response.content
    assert {e["path"] for e in response.json()["errors"]} == {"scores.performance", "scores.innovation"}
    assert state() == before


def test_rater_api_takes_a_json_number_with_an_exponent_at_its_plain_value(client, world):  # noqa: F811
    response = client.put(
        f"/api/v1/rater/ballots/{world['presentation']}",
        data='{"scores": {"performance": 5E+1, "innovation": 3.0e1}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {world['token']}",
    )

    assert response.status_code == 201, response.content
    assert response.json()["total"] == "80.0000"


@pytest.mark.parametrize("value", EXPONENTS)
def test_rater_form_refuses_scores_in_exponent_form(client, world, value):  # noqa: F811
    before = state()

    response = client.post(
        f"/r/{world['token']}/p/{world['presentation']}/",
        {"performance": value, "innovation": "10", "idempotency_key": "k1"},
    )

    assert response.status_code == 400
    assert state() == before


@pytest.mark.parametrize("value", EXPONENTS)
def test_paper_entry_refuses_scores_in_exponent_form(api_client, world, value):  # noqa: F811
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/paper",
        {"seat": 1, "presentation": world["presentation"], "scores": {"performance": value, "innovation": "10"}},
        format="json",
    )

    assert response.status_code == 400, response.content
    assert state() == before


@pytest.mark.parametrize("value", ["0E-1000000", "1E1"])
def test_survey_sheet_refuses_cells_in_exponent_form(api_client, world, value):  # noqa: F811
    api_client.force_authenticate(world["user"])
    workbook = Workbook()
    workbook.active.append(["部门", "工作实绩", "创新创优"])
    workbook.active.append(["D01", value, "10"])
    upload = io.BytesIO()
    workbook.save(upload)
    upload.seek(0)
    upload.name = "survey.xlsx"
    before = state()

    response = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/surveys/leadership", {"file": upload}, format="multipart"
    )

    assert response.status_code == 400, response.content
    assert state() == before


@pytest.mark.parametrize("value", ["0E-1000000", "1E1"])
def test_component_import_refuses_scores_in_exponent_form(api_client, world, value):  # noqa: F811
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/components/annual", {"scores": {"D01": value}}, format="json"
    )

    assert response.status_code == 400, response.content
    assert state() == before


def test_component_import_refuses_a_json_number_beyond_any_score_precision(api_client, world):  # noqa: F811
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/components/annual",
        data='{"scores": {"D01": 0E-1000000}}',
        content_type="application/json",
    )

    assert response.status_code == 400, response.content
    assert state() == before


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("meeting", "full_mark"), "0E-1000000"),
        (("meeting", "full_mark"), "1E2"),
        (("meeting", "meeting_weight"), "1E0"),
        (("meeting", "reward"), {"top": 1, "min_score": "0E-1000000"}),
        (("meeting", "admonition"), {"bottom": "1E0"}),
        (("roles", 0, "weight"), "0E-1000000"),
        (("roles", 0, "criteria", 0, "step"), "5E-1"),
    ],
    ids=[
        "full mark 0E-1000000",
        "full mark 1E2",
        "meeting weight",
        "reward minimum",
        "admonition count",
        "role weight",
        "criterion step",
    ],
)
def test_setup_import_refuses_numbers_in_exponent_form(api_client, small_document, where, value):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    api_client.force_authenticate(admin)
    document = small_document()
    target = document
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    before = Meeting.objects.count()

    response = api_client.post("/api/v1/meetings/import", document, format="json")

    assert response.status_code == 400, response.content
    assert Meeting.objects.count() == before


@pytest.mark.parametrize("value", ["1E1", "0E-1000000"])
def test_console_adjustment_refuses_points_in_exponent_form(client, world, value):  # noqa: F811
    client.force_login(world["user"])
    before = state()

    response = client.post(
        f"/console/m/{world['meeting'].pk}/adjust",
        {"action": "adjust", "department": "D01", "points": value, "reason": "r"},
        follow=True,
    )

    assert response.status_code == 200
    assert state() == before


MARKUP_NAMES = [
    "区委办公室 A<B",
    '<img src="/usr/share/pixmaps/debian-logo.png" width="400" height="400"/>',
    "<font size=40 color=red>第一名</font>",
    "<para>&amp; &lt;b&gt;</para>",
]


def pdf_text(content: bytes) -> str:
    result = subprocess.run(["pdftotext", "-raw", "-", "-"], input=content, capture_output=True, check=True)
    return result.stdout.decode()


def test_names_with_reportlab_markup_stay_text_in_every_pdf(client, small_document):
    document = small_document(departments=len(MARKUP_NAMES))
    for department, name in zip(document["departments"], MARKUP_NAMES, strict=True):
        department["name"] = name
    document["meeting"]["title"] = "<font size=60>考评大会</font> A<B"
    document["categories"][0]["name"] = "<b>党群</b>"
    result = meeting_import(document=document, actor=None)
    meeting = result.meeting
    ballots_simulate(meeting=meeting, seed=4)
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    snapshot = snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=admin, ip=None)
    client.force_login(admin)

    pdfs = {
        "organizer export": client.get(f"/api/v1/meetings/{meeting.pk}/snapshots/{snapshot.pk}/export.pdf"),
        "public export": client.get(f"/api/v1/public/meetings/{meeting.pk}/export.pdf"),
    }
    for where, response in pdfs.items():
        assert response.status_code == 200, where
        assert b"/Subtype /Image" not in response.content, where  # no server file pulled into the PDF
        text = "".join(pdf_text(response.content).split())  # the cells wrap long names over lines
        for name in MARKUP_NAMES:
            shown = name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">") if "<para>" in name else name
            assert "".join(name.split()) in text or "".join(shown.split()) in text, (where, name)
        assert "<fontsize=60>考评大会</font>A<B" in text, where


def test_rehearsal_asked_with_only_the_global_add_meeting_right_is_a_404(client, small_document):
    meeting = meeting_import(document=small_document(), actor=None).meeting
    user = get_user_model().objects.create_user("creator", password="pw-creator-1")
    user.user_permissions.add(Permission.objects.get(codename="add_meeting"))
    client.force_login(user)
    audit = meeting.audit_entries.count()

    response = client.post(f"/console/m/{meeting.pk}/rehearsal")

    assert response.status_code == 404
    assert not RehearsalJob.objects.exists() and not Meeting.objects.filter(rehearsal_of=meeting).exists()
    assert meeting.audit_entries.count() == audit


def test_rehearsal_asked_by_an_organizer_without_add_meeting_is_a_403(client, small_document):
    meeting = meeting_import(document=small_document(), actor=None).meeting
    user = get_user_model().objects.create_user("organizer2", password="pw-organizer-2")
    assign_perm("meetings.organize_meeting", user, meeting)
    client.force_login(user)

    response = client.post(f"/console/m/{meeting.pk}/rehearsal")

    assert response.status_code == 403
    assert not RehearsalJob.objects.exists()
