import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save

from appraisal.models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme
from meetings.models import AuditEntry, Component, Meeting, Presentation, Rater
from meetings.services import meeting_import, rater_token_hash
from meetings.setup_document import SetupInvalid
from meetings.setup_workbook import document_to_workbook

pytestmark = pytest.mark.django_db

IMPORT_URL = "/api/v1/meetings/import"
ALL_MODELS = [Cycle, Scheme, Category, Department, RaterRole, Criterion, Grade, Meeting, Component, Presentation, Rater]


def row_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in ALL_MODELS}


def post_json(client, document, **headers):
    return client.post(IMPORT_URL, data=json.dumps(document, default=str), content_type="application/json", **headers)


def test_import_sample_meeting_creates_everything(admin_client, sample_document):
    response = post_json(admin_client, sample_document)

    assert response.status_code == 201, response.content
    body = response.json()
    meeting = Meeting.objects.get(pk=body["meeting"])
    assert meeting.presentations.count() == 73
    assert meeting.raters.count() == 200
    assert meeting.scheme.roles.count() == 5
    assert Criterion.objects.filter(role__scheme=meeting.scheme).count() == 12
    assert Grade.objects.filter(criterion__role__scheme=meeting.scheme).count() == 4
    assert meeting.rank_within_category is True
    assert meeting.reward_top_percent == Decimal("20")
    assert meeting.tie_break_roles == ["leadership", "public"]
    assert [p["department"] for p in body["presentations"][:3]] == ["D01", "D02", "D03"]
    assert list(meeting.presentations.values_list("order", flat=True)[:3]) == [1, 2, 3]
    assert len(body["raters"]) == 200
    assert response["Cache-Control"] == "no-store"


def test_import_recusal_and_named_raters_kept(admin_client, sample_document):
    body = post_json(admin_client, sample_document).json()

    wang = Rater.objects.get(meeting_id=body["meeting"], name="王芳")
    assert wang.role.code == "public"
    assert wang.department.code == "D41"


def test_import_tokens_are_long_random_and_stored_only_hashed(admin_client, sample_document):
    body = post_json(admin_client, sample_document).json()

    tokens = [r["token"] for r in body["raters"]]
    assert len(set(tokens)) == 200
    assert all(len(t) >= 26 for t in tokens)  # 26 base32 characters = 130 bits
    assert all(r["url"].endswith(f"/r/{r['token']}/") for r in body["raters"])
    stored = set(Rater.objects.values_list("token_hash", flat=True))
    assert not stored & set(tokens)
    assert {rater_token_hash(t) for t in tokens} == stored


def test_import_records_audit_entry_and_grants_importer(admin_client, admin_user, sample_document):
    body = post_json(admin_client, sample_document).json()

    entry = AuditEntry.objects.get(meeting_id=body["meeting"])
    assert entry.action == "meeting.imported"
    assert entry.actor == admin_user
    assert entry.details["seats"] == 200


def test_import_by_staff_without_permission_refused(client, django_user_model, sample_document):
    user = django_user_model.objects.create_user("clerk", password="pw-clerk-12345", is_staff=True)
    client.force_login(user)
    before = row_counts()

    response = post_json(client, sample_document)

    assert response.status_code == 403
    assert row_counts() == before


def test_import_anonymous_refused(client, sample_document):
    response = post_json(client, sample_document)

    assert response.status_code in (401, 403)
    assert Meeting.objects.count() == 0


def _mutate(document, path, value):
    target = document
    *parents, last = path
    for part in parents:
        target = target[part]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value


DELETE = object()
PRODUCT = {
    "formula": "base_times_coefficients",
    "base": "dev",
    "coefficients": [{"source": "meeting", "map": {"kind": "linear", "full": "100"}}],
}

VIOLATIONS = [
    # (name, [(path in document, new value)], expected error path)
    ("unknown top-level key", [(("extra",), 1)], "extra"),
    ("unknown meeting key", [(("meeting", "colour"), "red")], "meeting.colour"),
    ("missing departments", [(("departments",), DELETE)], "departments"),
    ("unknown category", [(("departments", 0, "category"), "nope")], "departments[0].category"),
    ("duplicate department code", [(("departments", 1, "code"), "D01")], "departments[1].code"),
    ("unknown rater role", [(("raters", 0, "role"), "mayor")], "raters[0].role"),
    ("unknown recusal department", [(("raters", 5, "department"), "D99")], "raters[5].department"),
    ("duplicate named rater", [(("raters", 6, "name"), "王芳"), (("raters", 6, "role"), "public")], "raters[6].name"),
    ("zero seats", [(("raters", 0, "count"), 0)], "raters[0].count"),
    ("form total above full mark", [(("roles", 0, "criteria", 0, "max"), 45)], "roles[0].criteria"),
    ("grade form below full mark", [(("roles", 4, "criteria", 0, "choices", 0, "points"), 90)], "roles[4].criteria"),
    ("max off the step grid", [(("roles", 1, "criteria", 0, "step"), "3")], "roles[1].criteria[0].step"),
    ("unknown criterion kind", [(("roles", 0, "criteria", 0, "kind"), "slider")], "roles[0].criteria[0].kind"),
    (
        "single grade choice",
        [(("roles", 4, "criteria", 0, "choices"), [{"code": "ok", "label": "好", "points": 100}])],
        "roles[4].criteria[0].choices",
    ),
    ("zero role weight", [(("roles", 0, "weight"), "0")], "roles[0].weight"),
    ("negative trim", [(("roles", 0, "trim"), -1)], "roles[0].trim"),
    ("text trim", [(("roles", 0, "trim"), "one")], "roles[0].trim"),
    ("weights do not add to 1", [(("meeting", "meeting_weight"), "0.6")], "meeting.meeting_weight"),
    (
        "components do not complete the weights",
        [
            (("meeting", "meeting_weight"), "0.6"),
            (("components",), [{"code": "annual", "name": "年度目标考核", "weight": "0.3"}]),
        ],
        "meeting.meeting_weight",
    ),
    (
        "reward and admonition exceed a category",
        [(("meeting", "reward"), {"top": 5}), (("meeting", "admonition"), {"bottom": 2})],
        "meeting.reward",
    ),
    ("below above min_score", [(("meeting", "admonition", "below"), "90")], "meeting.admonition.below"),
    ("top and top_percent", [(("meeting", "reward", "top"), 3)], "meeting.reward"),
    ("percent above 100", [(("meeting", "reward", "top_percent"), 120)], "meeting.reward.top_percent"),
    ("unknown tie-break role", [(("meeting", "tie_break_roles"), ["mayor"])], "meeting.tie_break_roles[0]"),
    ("quota on unknown grade", [(("meeting", "excellent_quota", "grade"), "superb")], "meeting.excellent_quota.grade"),
    (
        "quota on numeric criterion",
        [(("meeting", "excellent_quota", "criterion"), "performance")],
        "meeting.excellent_quota.criterion",
    ),
    ("bad date", [(("meeting", "date"), "2022-13-40")], "meeting.date"),
    ("bad mode", [(("meeting", "mode"), "live")], "meeting.mode"),
    ("NaN full mark", [(("meeting", "full_mark"), "NaN")], "meeting.full_mark"),
    ("too many decimals", [(("roles", 0, "weight"), "0.1234567")], "roles[0].weight"),
    ("boolean as number", [(("roles", 0, "trim"), True)], "roles[0].trim"),
    # SCORING.md 11
    (
        "invalid rule with an unknown key",
        [(("meeting", "invalid_ballots"), {"uniform": True, "same": True})],
        "meeting.invalid_ballots.same",
    ),
    (
        "invalid rule under 2 ballots",
        [(("meeting", "invalid_ballots"), {"uniform": True, "uniform_min": 1})],
        "meeting.invalid_ballots.uniform_min",
    ),
    (
        "invalid rule minimum not an integer",
        [(("meeting", "invalid_ballots"), {"uniform": True, "uniform_min": 5.5})],
        "meeting.invalid_ballots.uniform_min",
    ),
    (
        "invalid rule minimum as text",
        [(("meeting", "invalid_ballots"), {"uniform": True, "uniform_min": "5"})],
        "meeting.invalid_ballots.uniform_min",
    ),
    (
        "invalid rule uniform not a boolean",
        [(("meeting", "invalid_ballots"), {"uniform": "yes"})],
        "meeting.invalid_ballots.uniform",
    ),
    ("invalid rule not an object", [(("meeting", "invalid_ballots"), [5])], "meeting.invalid_ballots"),
    ("four eyes not a boolean", [(("meeting", "four_eyes"), "yes")], "meeting.four_eyes"),
    # SCORING.md 10
    ("unknown formula", [(("meeting", "final"), {"formula": "product"})], "meeting.final.formula"),
    ("formula not an object", [(("meeting", "final"), "base_times_coefficients")], "meeting.final"),
    (
        "meeting weight under the product formula",
        [(("meeting", "final"), {**PRODUCT, "base": "meeting"})],
        "meeting.meeting_weight",
    ),
    (
        "component weight under the product formula",
        [
            (("meeting", "meeting_weight"), DELETE),
            (("components",), [{"code": "dev", "name": "发展", "weight": "0.5"}]),
            (("meeting", "final"), PRODUCT),
        ],
        "components[0].weight",
    ),
    (
        "unknown source",
        [(("meeting", "meeting_weight"), DELETE), (("meeting", "final"), {**PRODUCT, "base": "gdp"})],
        "meeting.final.base",
    ),
    (
        "bands without a band at 0",
        [
            (("meeting", "meeting_weight"), DELETE),
            (("components",), [{"code": "dev", "name": "发展"}]),
            (
                ("meeting", "final"),
                {
                    **PRODUCT,
                    "coefficients": [
                        {"source": "meeting", "map": {"kind": "bands", "bands": [{"min": "80", "coefficient": "1"}]}}
                    ],
                },
            ),
        ],
        "meeting.final.coefficients[0].map.bands",
    ),
    (
        "bands with the same min twice",
        [
            (("meeting", "meeting_weight"), DELETE),
            (("components",), [{"code": "dev", "name": "发展"}]),
            (
                ("meeting", "final"),
                {
                    **PRODUCT,
                    "coefficients": [
                        {
                            "source": "meeting",
                            "map": {
                                "kind": "bands",
                                "bands": [{"min": "0", "coefficient": "1"}, {"min": "0", "coefficient": "0.9"}],
                            },
                        }
                    ],
                },
            ),
        ],
        "meeting.final.coefficients[0].map.bands[1].min",
    ),
    (
        "band coefficient of zero",
        [
            (("meeting", "meeting_weight"), DELETE),
            (("components",), [{"code": "dev", "name": "发展"}]),
            (
                ("meeting", "final"),
                {
                    **PRODUCT,
                    "coefficients": [
                        {"source": "meeting", "map": {"kind": "bands", "bands": [{"min": "0", "coefficient": "0"}]}}
                    ],
                },
            ),
        ],
        "meeting.final.coefficients[0].map.bands[0].coefficient",
    ),
    (
        "linear map without full",
        [
            (("meeting", "meeting_weight"), DELETE),
            (("components",), [{"code": "dev", "name": "发展"}]),
            (("meeting", "final"), {**PRODUCT, "coefficients": [{"source": "meeting", "map": {"kind": "linear"}}]}),
        ],
        "meeting.final.coefficients[0].map.full",
    ),
]


@pytest.mark.parametrize(("name", "changes", "path"), VIOLATIONS, ids=[v[0] for v in VIOLATIONS])
def test_import_violation_refused_with_path_and_nothing_created(admin_client, sample_document, name, changes, path):
    for where, value in changes:
        _mutate(sample_document, where, value)
    before = row_counts()

    response = post_json(admin_client, sample_document)

    assert response.status_code == 400, response.content
    paths = [e["path"] for e in response.json()["errors"]]
    assert path in paths, paths
    assert row_counts() == before


def test_import_lists_every_problem_at_once(admin_client, sample_document):
    sample_document["departments"][0]["category"] = "nope"
    sample_document["roles"][0]["weight"] = "-1"
    sample_document["meeting"]["mode"] = "live"

    response = post_json(admin_client, sample_document)

    paths = {e["path"] for e in response.json()["errors"]}
    assert {"departments[0].category", "roles[0].weight", "meeting.mode"} <= paths


def test_import_not_an_object_refused(admin_client):
    response = admin_client.post(IMPORT_URL, data="[1, 2]", content_type="application/json")

    assert response.status_code == 400
    assert Meeting.objects.count() == 0


def test_import_broken_json_refused(admin_client):
    response = admin_client.post(IMPORT_URL, data='{"cycle": ', content_type="application/json")

    assert response.status_code == 400
    assert Meeting.objects.count() == 0


def test_import_error_messages_chinese_by_default_english_on_request(admin_client, sample_document):
    sample_document["meeting"]["mode"] = "live"

    chinese = post_json(admin_client, sample_document).json()
    english = post_json(admin_client, sample_document, HTTP_ACCEPT_LANGUAGE="en").json()

    assert chinese["errors"][0]["message"] != english["errors"][0]["message"]
    assert "per_presentation" in english["errors"][0]["message"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese["detail"])


def test_import_failure_midway_rolls_everything_back(sample_document):
    """A fault after categories, departments and roles exist leaves no row behind."""

    def explode(sender, instance, created, **kwargs):
        raise RuntimeError("disk full")

    post_save.connect(explode, sender=Meeting, dispatch_uid="explode")
    try:
        with pytest.raises(RuntimeError):
            meeting_import(document=sample_document, actor=None)
    finally:
        post_save.disconnect(dispatch_uid="explode")

    assert all(count == 0 for count in row_counts().values()), row_counts()


def test_import_accepts_numbers_as_strings_and_numbers(admin_client, small_document):
    document = small_document(full_mark="100.0")
    document["roles"][0]["criteria"][0]["max"] = "60"
    document["roles"][0]["weight"] = 0.5

    response = post_json(admin_client, document)

    assert response.status_code == 201, response.content


def test_import_components_with_weights(admin_client, small_document):
    document = small_document(meeting_weight="0.6")
    document["components"] = [
        {"code": "annual_targets", "name": "年度目标考核", "weight": "0.3"},
        {"code": "survey", "name": "满意度电话调查", "weight": "0.1"},
    ]

    response = post_json(admin_client, document)

    assert response.status_code == 201, response.content
    meeting = Meeting.objects.get(pk=response.json()["meeting"])
    assert list(meeting.components.values_list("code", "weight")) == [
        ("annual_targets", Decimal("0.3")),
        ("survey", Decimal("0.1")),
    ]


def test_import_twice_keeps_meetings_apart(admin_client, small_document):
    first = post_json(admin_client, small_document()).json()
    changed = small_document()
    changed["departments"][0]["name"] = "改名后的部门"
    second = post_json(admin_client, changed).json()

    first_name = Presentation.objects.get(meeting_id=first["meeting"], order=1).department.name
    second_name = Presentation.objects.get(meeting_id=second["meeting"], order=1).department.name
    assert (first_name, second_name) == ("测试部门1", "改名后的部门")
    assert Cycle.objects.count() == 1


def _xlsx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document_to_workbook(document).save(buffer)
    return buffer.getvalue()


def test_import_xlsx_workbook_through_api(admin_client, sample_document):
    upload = io.BytesIO(_xlsx_bytes(sample_document))
    upload.name = "meeting.xlsx"

    response = admin_client.post(IMPORT_URL, data={"file": upload})

    assert response.status_code == 201, response.content
    meeting = Meeting.objects.get(pk=response.json()["meeting"])
    assert meeting.presentations.count() == 73
    assert meeting.raters.count() == 200
    assert meeting.excellent_quota_grade == "excellent"
    assert meeting.tie_break_roles == ["leadership", "public"]
    assert Grade.objects.filter(criterion__role__scheme=meeting.scheme).count() == 4


def test_import_xlsx_error_names_sheet_and_row(admin_client, sample_document):
    sample_document["departments"][2]["category"] = "nope"
    upload = io.BytesIO(_xlsx_bytes(sample_document))
    upload.name = "meeting.xlsx"

    response = admin_client.post(IMPORT_URL, data={"file": upload})

    assert response.status_code == 400
    error = next(e for e in response.json()["errors"] if e["path"] == "departments[2].category")
    assert error["location"] == "departments!4"
    assert Meeting.objects.count() == 0


def test_import_xlsx_formula_cell_refused(admin_client, sample_document):
    workbook = document_to_workbook(sample_document)
    workbook["roles"]["C2"] = "=0.1+0.2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "meeting.xlsx"

    response = admin_client.post(IMPORT_URL, data={"file": buffer})

    assert response.status_code == 400
    assert any(e["path"] == "roles!C2" for e in response.json()["errors"])
    assert Meeting.objects.count() == 0


def test_import_not_a_workbook_refused(admin_client):
    upload = io.BytesIO(b"PK\x03\x04 not really a zip")
    upload.name = "meeting.xlsx"

    response = admin_client.post(IMPORT_URL, data={"file": upload})

    assert response.status_code == 400
    assert Meeting.objects.count() == 0


def test_import_command_json_and_xlsx(tmp_path, sample_document):
    json_path = tmp_path / "meeting.json"
    json_path.write_text(json.dumps(sample_document, default=str, ensure_ascii=False), encoding="utf-8")
    xlsx_path = tmp_path / "meeting.xlsx"
    xlsx_path.write_bytes(_xlsx_bytes(sample_document))
    out = io.StringIO()

    call_command("import_meeting", str(json_path), "--links-csv", str(tmp_path / "links.csv"), stdout=out)
    call_command("import_meeting", str(xlsx_path), stdout=io.StringIO())

    assert Meeting.objects.count() == 2
    assert Rater.objects.count() == 400
    assert "73 presentations, 200 rater seats" in out.getvalue()
    assert len((tmp_path / "links.csv").read_text(encoding="utf-8").splitlines()) == 201


def test_import_command_reports_problems_and_creates_nothing(tmp_path, sample_document):
    sample_document["raters"][0]["role"] = "mayor"
    path = tmp_path / "meeting.json"
    path.write_text(json.dumps(sample_document, default=str), encoding="utf-8")

    with pytest.raises(CommandError, match=r"raters\[0\]\.role"):
        call_command("import_meeting", str(path))
    assert Meeting.objects.count() == 0


def test_validate_rejects_non_object():
    from meetings.setup_document import validate_setup_document

    with pytest.raises(SetupInvalid) as info:
        validate_setup_document([])
    assert info.value.errors[0]["path"] == ""


def test_city_formula_round_trips_through_the_workbook(admin_client):
    from pathlib import Path

    from appraisal.parsers import loads_exact
    from meetings.setup_workbook import workbook_to_document

    document = loads_exact((Path(__file__).resolve().parents[2] / "data/city-appraisal.json").read_text("utf-8"))
    workbook = document_to_workbook(document)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)

    read, _locations = workbook_to_document(io.BytesIO(out.getvalue()))
    upload = io.BytesIO(out.getvalue())
    upload.name = "city.xlsx"
    response = admin_client.post(IMPORT_URL, data={"file": upload})

    assert read["meeting"]["final"] == document["meeting"]["final"]
    assert read["meeting"]["streak_rule"] == {"repeat_admonition": 2, "repeat_reward": 2}
    assert response.status_code == 201, response.content
    assert Meeting.objects.get(title=document["meeting"]["title"]).final == document["meeting"]["final"]
