"""Hostile input through every entry point: each case named, its status asserted, nothing changed."""

import io
import json
from decimal import Decimal

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
    ("scores a decimal number", '{"scores": 0.0}', "application/json", "token", "presentation", 400),
    ("scores a list of decimals", '{"scores": [1.5, 2]}', "application/json", "token", "presentation", 400),
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


@pytest.mark.parametrize("key", ["k" * 300, "a\x00b", "ключ"])
def test_rater_form_refuses_a_forged_idempotency_key(client, world, key):
    before = state()

    response = client.post(
        f"/r/{world['token']}/p/{world['presentation']}/",
        {"performance": "1", "innovation": "1", "idempotency_key": key},
    )

    assert response.status_code == 400
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


ORGANIZER_CASES = [
    # name, path under the meeting, body, status, the error path the answer must name
    ("misspelt field", "adjustments", {"department": "D01", "points": "1", "reasson": "x"}, 400, "reasson"),
    ("foreign field", "vetoes", {"department": "D01", "reason": "x", "meeting": 1}, 400, "meeting"),
    ("blank reason", "ballots/void", {"receipt": "ABC", "reason": " \u3000\t"}, 400, "reason"),
    ("NUL in a reason", "adjustments", {"department": "D01", "points": "1", "reason": "a\x00b"}, 400, "reason"),
    ("zero points", "adjustments", {"department": "D01", "points": "0.0", "reason": "r"}, 400, "points"),
    ("points in exponent form", "adjustments", {"department": "D01", "points": "1e2", "reason": "r"}, 400, "points"),
    ("points off the grid", "adjustments", {"department": "D01", "points": 1.00001, "reason": "r"}, 400, "points"),
    ("points out of range", "adjustments", {"department": "D01", "points": "1000.0001", "reason": "r"}, 400, "points"),
    ("points a boolean", "adjustments", {"department": "D01", "points": True, "reason": "r"}, 400, "points"),
    ("presentation digits with a sign", "voting", {"presentation": "+1", "action": "open"}, 400, "presentation"),
    ("presentation zero", "voting", {"presentation": 0, "action": "open"}, 400, "presentation"),
    ("presentation a boolean", "voting", {"presentation": True, "action": "open"}, 400, "presentation"),
    ("presentation null", "voting", {"presentation": None, "action": "close"}, 400, "presentation"),
    ("presentation beyond bigint", "voting", {"presentation": 2**63, "action": "open"}, 400, "presentation"),
    ("component score with a sign", "components/annual", {"scores": {"D01": "+1"}}, 400, "scores.D01"),
    ("component score with spaces", "components/annual", {"scores": {"D01": " 90"}}, 400, "scores.D01"),
    ("countdown with a stray field", "countdown", {"seconds": 60, "minutes": 1}, 400, "minutes"),
    ("paper entry with a stray field", "paper", {"seat": 1, "presentation": 1, "scores": {}, "x": 1}, 400, "x"),
]


@pytest.mark.parametrize(
    ("name", "path", "body", "status", "error_path"), ORGANIZER_CASES, ids=[c[0] for c in ORGANIZER_CASES]
)
def test_organizer_api_refuses_unknown_fields_and_loose_values(api_client, world, name, path, body, status, error_path):
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(f"/api/v1/meetings/{world['meeting'].pk}/{path}", body, format="json")

    assert response.status_code == status, response.content
    assert error_path in [e["path"] for e in response.json()["errors"]], response.json()
    assert state() == before


def test_organizer_api_takes_decimals_as_strings_or_exact_numbers(api_client, world):
    api_client.force_authenticate(world["user"])
    url = f"/api/v1/meetings/{world['meeting'].pk}/adjustments"

    as_string = api_client.post(url, {"department": "D01", "points": "-2.5", "reason": "r"}, format="json")
    as_number = api_client.post(url, {"department": "D02", "points": 1000, "reason": "r"}, format="json")
    smallest = api_client.post(url, {"department": "D03", "points": "0.0001", "reason": "r"}, format="json")
    # On the grid though spelt with five places: the schema's multipleOf calls it valid, and so does the server.
    trailing_zeros = api_client.post(
        url, data='{"department": "D01", "points": 1.00000, "reason": "r"}', content_type="application/json"
    )

    assert [r.status_code for r in (as_string, as_number, smallest, trailing_zeros)] == [201, 201, 201, 201]
    assert [a.points for a in Adjustment.objects.order_by("pk")] == [Decimal("-2.5"), 1000, Decimal("0.0001"), 1]


def test_multipart_uploads_refuse_fields_they_do_not_read(client, world):
    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123")
    client.force_login(admin)
    before = state()

    setup = client.post("/api/v1/meetings/import", data={"file": io.BytesIO(b"x"), "meeting": "1"})
    survey = client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/surveys/public", data={"file": io.BytesIO(b"x"), "role": "x"}
    )

    assert (setup.status_code, survey.status_code) == (400, 400)
    assert [e["path"] for e in setup.json()["errors"]] == ["meeting"]
    assert [e["path"] for e in survey.json()["errors"]] == ["role"]
    assert state() == before


@pytest.mark.parametrize("key", ["ключ", "a\tb", " padded", "x" * 256])
def test_rater_api_refuses_idempotency_keys_outside_printable_ascii(client, world, key):
    before = state()

    response = client.put(
        f"/api/v1/rater/ballots/{world['presentation']}",
        data='{"scores": {"performance": "1", "innovation": "1"}}',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {world['token']}",
        HTTP_IDEMPOTENCY_KEY=key,
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "Idempotency-Key"
    assert state() == before


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status"),
    [
        ("get", "/api/v1/meetings/1/results", {}, 401),
        ("get", "/api/v1/no/such/thing", {}, 404),
        ("get", "/api/v1/rater", {"HTTP_AUTHORIZATION": "Rater nope"}, 401),
        ("get", "/api/v1/public/meetings/1/results", {"HTTP_ACCEPT": "application/xml"}, 406),
        ("put", "/api/v1/rater/ballots/1", {"data": "x", "content_type": "text/plain"}, 401),
    ],
)
def test_every_api_error_has_the_one_error_shape(client, method, url, kwargs, status):
    response = getattr(client, method)(url, **kwargs)

    assert response.status_code == status
    assert set(response.json()) == {"detail", "code", "errors"}


def test_live_state_answers_other_methods_with_405_not_a_csrf_page(world):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(f"/api/v1/meetings/{world['meeting'].pk}/live")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_voting_takes_a_presentation_id_as_a_number_or_as_digits(api_client, world):
    api_client.force_authenticate(world["user"])
    url = f"/api/v1/meetings/{world['meeting'].pk}/voting"
    presentation = world["presentation"]

    closed = api_client.post(url, {"presentation": presentation, "action": "close"}, format="json")
    reopened = api_client.post(url, {"presentation": str(presentation), "action": "open"}, format="json")

    assert (closed.status_code, reopened.status_code) == (200, 200)
    assert closed.json()["changed"] == [{"id": presentation, "state": "closed"}]
    assert reopened.json()["changed"] == [{"id": presentation, "state": "open"}]


# --- the organizer's console and the admin's own forms (HTML, post-redirect-get) ----------------------------------

SUPERSCRIPT_TWO = "²"  # str.isdigit() says yes, int() says no
BEYOND_BIGINT = "99999999999999999999"


def console_state():
    from meetings.models import Presentation

    return (
        state(),
        tuple(Presentation.objects.order_by("pk").values_list("state", flat=True)),
        tuple(Meeting.objects.order_by("pk").values_list("countdown_ends_at", flat=True)),
    )


CONSOLE_CASES = [
    # name, path under /console/m/<meeting>/, form data
    ("voting: superscript digit as presentation", "voting", {"presentation": SUPERSCRIPT_TWO, "action": "close"}),
    ("voting: id beyond bigint", "voting", {"presentation": BEYOND_BIGINT, "action": "close"}),
    ("voting: SQL as presentation is not read as all", "voting", {"presentation": "1 OR 1=1", "action": "close"}),
    ("voting: unknown action", "voting", {"presentation": "all", "action": "drop"}),
    ("countdown: superscript digit", "countdown", {"minutes": SUPERSCRIPT_TWO}),
    ("countdown: exponent", "countdown", {"minutes": "1e9"}),
    ("countdown: NaN", "countdown", {"minutes": "NaN"}),
    ("countdown: negative", "countdown", {"minutes": "-5"}),
    ("countdown: NUL", "countdown", {"minutes": "5\x00"}),
    ("adjust: NUL in reason", "adjust", {"action": "adjust", "department": "D01", "points": "1", "reason": "a\x00"}),
    ("adjust: NaN points", "adjust", {"action": "adjust", "department": "D01", "points": "NaN", "reason": "r"}),
    ("veto: NUL in department", "adjust", {"action": "veto", "department": "D01\x00", "reason": "r"}),
    ("veto: NUL in reason", "adjust", {"action": "veto", "department": "D01", "reason": "\x00"}),
    ("void: NUL in receipt", "void", {"receipt": "AB\x00", "reason": "r"}),
    ("void: NUL in reason", "void", {"receipt": "AAAA-BBBB-CCCC", "reason": "r\x00"}),
    ("paper: seat as exponent", "paper/", {"action": "enter", "seat": "1e9", "presentation": "1", "performance": "1"}),
    ("paper: seat as hex", "paper/", {"action": "enter", "seat": "0x10", "presentation": "1", "performance": "1"}),
    ("paper: superscript seat", "paper/", {"action": "enter", "seat": SUPERSCRIPT_TWO, "presentation": "1"}),
    ("paper: presentation beyond bigint", "paper/", {"action": "enter", "seat": "1", "presentation": BEYOND_BIGINT}),
    ("paper: entry as NaN", "paper/", {"action": "resolve", "entry": "NaN"}),
    ("paper: entry as SQL", "paper/", {"action": "resolve", "entry": "1; DROP TABLE voting_ballot"}),
]


@pytest.mark.parametrize(("name", "path", "data"), CONSOLE_CASES, ids=[c[0] for c in CONSOLE_CASES])
def test_console_forms_refuse_hostile_input_with_a_message(client, world, name, path, data):
    from django.contrib.messages import ERROR, get_messages

    client.force_login(world["user"])
    before = console_state()

    response = client.post(f"/console/m/{world['meeting'].pk}/{path}", data)

    assert response.status_code == 302
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]
    assert console_state() == before


@pytest.mark.parametrize("value", [SUPERSCRIPT_TWO, BEYOND_BIGINT, "abc", "1; DROP TABLE x"])
def test_console_withdrawing_a_garbled_adjustment_is_a_404(client, world, value):
    client.force_login(world["user"])
    before = console_state()

    response = client.post(
        f"/console/m/{world['meeting'].pk}/adjust", {"action": "withdraw-adjustment", "adjustment": value}
    )

    assert response.status_code == 404
    assert console_state() == before


@pytest.mark.parametrize(
    "query", [f"seat={SUPERSCRIPT_TWO}&presentation={SUPERSCRIPT_TWO}", f"resolve={SUPERSCRIPT_TWO}", "resolve=NaN"]
)
def test_console_paper_page_ignores_garbled_ids(client, world, query):
    client.force_login(world["user"])

    assert client.get(f"/console/m/{world['meeting'].pk}/paper/?{query}").status_code == 200


def test_survey_import_with_nul_in_the_role_is_refused(client, world):
    from django.contrib.messages import ERROR, get_messages

    client.force_login(world["user"])
    before = console_state()
    upload = io.BytesIO(b"PK\x03\x04 not really a workbook")
    upload.name = "survey.xlsx"

    response = client.post(
        f"/console/m/{world['meeting'].pk}/paper/", {"action": "survey", "role": "public\x00", "file": upload}
    )

    assert response.status_code == 302
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]
    assert console_state() == before


def test_rater_sheet_ignores_a_garbled_saved_marker(client, world):
    assert client.get(f"/r/{world['token']}/sheet/?saved={SUPERSCRIPT_TWO}").status_code == 200


@pytest.mark.parametrize("confirm", ["not-a-uuid", "\x00", BEYOND_BIGINT])
def test_admin_panel_confirmation_that_is_no_import_is_a_404(client, world, confirm):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-12345"))
    before = console_state()

    response = client.post(f"/admin/meetings/meeting/{world['meeting'].pk}/panel/", {"confirm": confirm})

    assert response.status_code == 404
    assert console_state() == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("title", "考评\x00大会", "NUL"), ("title", "长" * 201, "200"), ("cycle", "周期" * 101, "200")],
)
def test_admin_copy_refuses_names_the_database_cannot_store(client, world, field, value, message):
    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-12345"))
    before = console_state()
    data = {"year": "2023", "cycle": "2023年度", "title": "2023年度考评大会", "date": "2023-01-20"} | {field: value}

    response = client.post(f"/admin/meetings/meeting/{world['meeting'].pk}/copy/", data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert console_state() == before


PATH_CODE_CASES = [
    ("component code with NUL", "post", "components/annual%00", {"scores": {"D01": "90"}}),
    ("component code that is only NUL", "post", "components/%00", {"scores": {"D01": "90"}}),
    ("veto department with NUL", "delete", "vetoes/D01%00", None),
    ("veto department with a newline", "delete", "vetoes/D01%0A", None),
    ("component code 51 characters long", "post", "components/" + "a" * 51, {"scores": {"D01": "90"}}),
]


@pytest.mark.parametrize(("name", "method", "path", "body"), PATH_CODE_CASES, ids=[c[0] for c in PATH_CODE_CASES])
def test_codes_in_api_paths_with_control_characters_are_a_404(api_client, world, name, method, path, body):
    api_client.force_authenticate(world["user"])
    before = state()
    url = f"/api/v1/meetings/{world['meeting'].pk}/{path}"

    response = getattr(api_client, method)(url, body, format="json") if body else getattr(api_client, method)(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert state() == before


def test_receipt_check_with_nul_is_a_404(client, world):
    response = client.get(f"/api/v1/public/meetings/{world['meeting'].pk}/receipts/AAAA%00")

    assert response.status_code == 404


def csv_upload(text: str, name: str = "sheet.csv") -> io.BytesIO:
    upload = io.BytesIO(text.encode())
    upload.name = name
    return upload


PANEL_SHEET_CASES = [
    ("NUL inside a rater's name", "raters", "role,count,name,department\npublic,,王\x00芳,\n", "NUL"),
    ("NUL inside a department's code", "departments", "code,name,category\nD9\x00,审计局,party\n", "NUL"),
    ("formula as a name is kept as text", "raters", 'role,count,name,department\npublic,,"=HYPERLINK(""x"")",\n', None),
]


@pytest.mark.parametrize(("name", "kind", "text", "problem"), PANEL_SHEET_CASES, ids=[c[0] for c in PANEL_SHEET_CASES])
def test_admin_panel_sheet_with_hostile_cells(client, world, name, kind, text, problem):
    from meetings.models import PanelImport

    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-12345"))
    before = (console_state(), PanelImport.objects.count())

    response = client.post(
        f"/admin/meetings/meeting/{world['meeting'].pk}/panel/", {"kind": kind, "file": csv_upload(text)}
    )

    assert response.status_code == 200
    if problem:  # refused, row by row, and nothing kept for confirmation
        assert problem in response.content.decode()
        assert (console_state(), PanelImport.objects.count()) == before
    else:  # a preview only: the seats are created on confirmation, with the formula as plain text
        assert console_state() == before[0]
        assert PanelImport.objects.get().rows[0]["name"] == '=HYPERLINK("x")'


def test_admin_panel_sheet_of_an_unknown_kind_is_refused(client, world):
    from django.contrib.messages import ERROR, get_messages

    from meetings.models import PanelImport

    client.force_login(get_user_model().objects.create_superuser("root", password="pw-root-12345"))

    response = client.post(
        f"/admin/meetings/meeting/{world['meeting'].pk}/panel/",
        {"kind": "bogus", "file": csv_upload("role,count,name,department\npublic,2,,\n")},
    )

    assert response.status_code == 200
    assert [m.level for m in get_messages(response.wsgi_request)] == [ERROR]
    assert PanelImport.objects.count() == 0


def test_survey_api_refuses_a_csv_with_nul_cells(api_client, world):
    api_client.force_authenticate(world["user"])
    before = state()

    response = api_client.post(
        f"/api/v1/meetings/{world['meeting'].pk}/surveys/public",
        {"file": csv_upload("部门,总体评价\nD01,良\x00好\n", "survey.csv")},
        format="multipart",
    )

    assert response.status_code == 400
    assert state() == before


def test_public_receipt_check_with_nul_is_an_unknown_receipt(client, world):
    from reports.services import snapshot_compute, snapshot_publish

    snapshot_compute(meeting=world["meeting"])
    snapshot_publish(meeting=world["meeting"], actor=world["user"], ip=None)
    before = state()

    page = client.get(f"/results/m/{world['meeting'].pk}/?receipt=AAAA%00BBBB")

    assert page.status_code == 200
    assert page.context["check"]["known"] is False
    assert state() == before


@pytest.mark.parametrize("seconds", [0, -5, 3601])
def test_countdown_service_refuses_what_the_api_and_console_cannot_send(world, seconds):
    from appraisal.exceptions import InvalidInput
    from meetings.services import countdown_set

    before = console_state()

    with pytest.raises(InvalidInput):
        countdown_set(meeting=world["meeting"], seconds=seconds, actor=None, ip=None)

    assert console_state() == before


def test_receipt_codes_are_read_from_their_letters_and_digits_only():
    from voting.selectors import receipt_normalise

    assert receipt_normalise(" abcd-efgh ijk0\x00 ") == "ABCDEFGH1JK0"
