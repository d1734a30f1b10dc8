"""Hostile input through every entry point: each case named, its status asserted, nothing changed."""

import io
import json

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.models import AuditEntry, Meeting, Rater
from meetings.services import meeting_import
from reports.models import Adjustment, ComponentScore, ResultSnapshot, Veto
from voting.models import Ballot, BallotValue, IdempotencyRecord
from voting.services import voting_set

pytestmark = pytest.mark.django_db

DEEP = "[" * 50000 + "]" * 50000


def state():
    return tuple(
        m.objects.count()
        for m in (
            Meeting,
            Rater,
            Ballot,
            BallotValue,
            IdempotencyRecord,
            ComponentScore,
            Adjustment,
            Veto,
            ResultSnapshot,
            AuditEntry,
        )
    )


@pytest.fixture
def world(small_document, client):
    document = small_document(departments=3, seats=2, meeting_weight="0.6")
    document["components"] = [{"code": "annual", "name": "年度目标考核", "weight": "0.4"}]
    result = meeting_import(document=document, actor=None)
    other = meeting_import(document=small_document(), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="open", actor=None, ip=None)
    voting_set(meeting=other.meeting, presentation_id=None, action="open", actor=None, ip=None)
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, result.meeting)
    return {
        "meeting": result.meeting,
        "token": next(r.token for r in result.raters if r.role == "leadership"),
        "other_token": next(r.token for r in other.raters if r.role == "leadership"),
        "presentation": result.presentations[0][0],
        "other_presentation": other.presentations[0][0],
        "user": user,
    }


RATER_CASES = [
    # name, body (str or bytes), content type, token key, presentation key or literal, expected status
    (
        "oversize body",
        '{"scores": {"performance": "' + "9" * 6_000_000 + '"}}',
        "application/json",
        "token",
        "presentation",
        413,
    ),
    ("broken encoding", b'{"scores": {"performance": "\xff\xfe"}}', "application/json", "token", "presentation", 400),
    ("not JSON at all", "scores=1", "text/plain", "token", "presentation", 415),
    ("broken JSON", '{"scores": {"performance": ', "application/json", "token", "presentation", 400),
    ("JSON nested 50,000 deep", '{"scores": ' + DEEP + "}", "application/json", "token", "presentation", 400),
    (
        "NaN literal",
        '{"scores": {"performance": NaN, "innovation": 1}}',
        "application/json",
        "token",
        "presentation",
        400,
    ),
    (
        "Infinity literal",
        '{"scores": {"performance": Infinity, "innovation": 1}}',
        "application/json",
        "token",
        "presentation",
        400,
    ),
    (
        "huge exponent",
        '{"scores": {"performance": "1e999999999", "innovation": "1"}}',
        "application/json",
        "token",
        "presentation",
        400,
    ),
    (
        "negative zero and a string",
        '{"scores": {"performance": -0.0, "innovation": "ten"}}',
        "application/json",
        "token",
        "presentation",
        400,
    ),
    ("scores null", '{"scores": null}', "application/json", "token", "presentation", 400),
    ("scores a string", '{"scores": "all 100"}', "application/json", "token", "presentation", 400),
    (
        "foreign field",
        '{"scores": {"performance": "1", "innovation": "1"}, "role": "public"}',
        "application/json",
        "token",
        "presentation",
        400,
    ),
    (
        "criterion name 10,000 long",
        json.dumps({"scores": {"x" * 10000: "1"}}),
        "application/json",
        "token",
        "presentation",
        400,
    ),
    ("SQL in presentation id", '{"scores": {}}', "application/json", "token", "1;DROP TABLE voting_ballot", 404),
    ("huge presentation id", '{"scores": {}}', "application/json", "token", "99999999999999999999999", 404),
    ("forged token with SQL", '{"scores": {}}', "application/json", "' OR 1=1 --", "presentation", 401),
    (
        "other meeting's token",
        '{"scores": {"performance": "1", "innovation": "1"}}',
        "application/json",
        "other_token",
        "presentation",
        404,
    ),
    (
        "this token, other meeting's presentation",
        '{"scores": {"performance": "1", "innovation": "1"}}',
        "application/json",
        "token",
        "other_presentation",
        404,
    ),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "token", "presentation", "status"), RATER_CASES, ids=[c[0] for c in RATER_CASES]
)
def test_rater_api_refuses_hostile_input(client, world, name, body, content_type, token, presentation, status):
    before = state()
    token_value = world.get(token, token)
    target = world.get(presentation, presentation)

    response = client.put(
        f"/api/v1/rater/ballots/{target}",
        data=body,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Rater {token_value}",
    )

    assert response.status_code == status, response.content[:300]
    assert state() == before


HTML_CASES = [
    ("score above the bound", {"performance": "9e9", "innovation": "1"}, 400),
    ("foreign criterion", {"performance": "1", "innovation": "1", "x' OR '1": "1"}, 400),
    ("script in a value", {"performance": "<script>alert(1)</script>", "innovation": "1"}, 400),
]


@pytest.mark.parametrize(("name", "data", "status"), HTML_CASES, ids=[c[0] for c in HTML_CASES])
def test_rater_form_refuses_hostile_input_and_escapes_it(client, world, name, data, status):
    before = state()

    response = client.post(f"/r/{world['token']}/p/{world['presentation']}/", data | {"idempotency_key": "k"})

    assert response.status_code == status
    assert "<script>alert(1)</script>" not in response.content.decode()
    assert state() == before


def test_setup_import_refuses_deep_and_oversize_documents(client, world):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    client.force_login(admin)
    before = state()

    deep = client.post("/api/v1/meetings/import", data='{"cycle": ' + DEEP + "}", content_type="application/json")
    large = client.post("/api/v1/meetings/import", data="x" * 6_000_000, content_type="application/json")
    not_xlsx = client.post("/api/v1/meetings/import", data={"file": io.BytesIO(b"\x00" * 100)})

    assert (deep.status_code, large.status_code, not_xlsx.status_code) == (400, 413, 400)
    assert state() == before


def test_names_with_html_are_escaped_on_every_page(client, small_document):
    document = small_document()
    document["meeting"]["title"] = "<img src=x onerror=alert(1)>大会"
    document["departments"][0]["name"] = "<script>alert('dept')</script>"
    result = meeting_import(document=document, actor=None)
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    from reports.services import snapshot_compute, snapshot_publish

    snapshot_compute(meeting=result.meeting)
    snapshot_publish(meeting=result.meeting, actor=admin, ip=None)
    client.force_login(admin)
    m = result.meeting.pk
    for url in (
        f"/console/m/{m}/",
        f"/console/m/{m}/review/",
        f"/projector/m/{m}/",
        f"/results/m/{m}/",
        "/",
        f"/r/{result.raters[0].token}/",
    ):
        page = client.get(url).content.decode()
        assert "<script>alert('dept')</script>" not in page, url
        assert "<img src=x onerror" not in page, url


COMPONENT_CASES = [
    ("NaN", {"scores": {"D01": "NaN"}}, 400),
    ("Infinity", {"scores": {"D01": "Infinity"}}, 400),
    ("huge", {"scores": {"D01": "1e400"}}, 400),
    ("negative", {"scores": {"D01": "-1"}}, 400),
    ("wrong type", {"scores": ["D01", 90]}, 400),
    ("SQL in department code", {"scores": {"D01' OR '1'='1": "90"}}, 400),
    ("empty", {"scores": {}}, 400),
]


@pytest.mark.parametrize(("name", "body", "status"), COMPONENT_CASES, ids=[c[0] for c in COMPONENT_CASES])
def test_component_import_refuses_hostile_input(api_client, world, name, body, status):
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(f"/api/v1/meetings/{world['meeting'].pk}/components/annual", body, format="json")

    assert response.status_code == status, response.content
    assert state() == before


def test_public_and_void_endpoints_take_sql_metacharacters_calmly(client, api_client, world):
    api_client.force_authenticate(world["user"])
    before = state()

    void = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/ballots/void", {"receipt": "' OR 1=1 --", "reason": "x"}, format="json"
    )
    receipt = client.get(f"/api/v1/public/meetings/{world['meeting'].pk}/receipts/%27%20OR%201%3D1%20--")
    page = client.get(f"/results/m/{world['meeting'].pk}/?receipt=%27%20OR%201%3D1")

    assert (void.status_code, receipt.status_code, page.status_code) == (404, 404, 404)
    assert state() == before


@pytest.mark.parametrize("username", ["' OR '1'='1", "admin'--", "<script>x</script>", "a" * 5000])
def test_login_with_hostile_usernames_is_a_plain_failure(client, username):
    response = client.post("/accounts/login/", {"username": username, "password": "x"})

    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/meetings/99999999999999999999/live",
        "/api/v1/public/meetings/99999999999999999999/results",
        "/api/v1/meetings/99999999999999999999/results",
        "/results/m/99999999999999999999/",
        "/r/token/p/99999999999999999999/",
    ],
)
def test_ids_too_large_for_the_database_are_a_404(client, url):
    assert client.get(url).status_code == 404


def test_unknown_api_url_answers_json_404(client):
    response = client.get("/api/v1/meetings/%C2%84/results")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"
