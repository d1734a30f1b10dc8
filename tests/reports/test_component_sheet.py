"""Component scores from a sheet (issue 15): previewed with every problem by row and column, then set all
at once; the sample city's own file goes in whole."""

import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm
from openpyxl import Workbook

from appraisal.parsers import loads_exact
from meetings.services import meeting_import
from reports.models import ComponentScore

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def city(api_client):
    document = loads_exact((ROOT / "data/city-appraisal.json").read_text(encoding="utf-8"))
    meeting = meeting_import(document=document, actor=None).meeting
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    api_client.force_authenticate(organizer)
    return meeting


def upload(content: bytes, name: str):
    sheet = io.BytesIO(content)
    sheet.name = name
    return sheet


def test_city_components_file_previewed_then_committed(city, api_client):
    sheet = upload((ROOT / "data/city-components.csv").read_bytes(), "city-components.csv")

    preview = api_client.post(f"/api/v1/meetings/{city.pk}/component-sheets", {"file": sheet}, format="multipart")
    before = ComponentScore.objects.count()
    sheet_id = preview.json()["id"]
    committed = api_client.post(f"/api/v1/meetings/{city.pk}/component-sheets/{sheet_id}/commit")
    again = api_client.post(f"/api/v1/meetings/{city.pk}/component-sheets/{sheet_id}/commit")

    assert preview.status_code == 201 and len(preview.json()["rows"]) == 11 and before == 0
    assert preview.json()["rows"][0] == {
        "row": 2,
        "department": "C01",
        "scores": {"development": "84.89", "party": "98.69"},
    }
    assert committed.status_code == 200 and committed.json() == {"imported": 22}
    assert ComponentScore.objects.filter(component__meeting=city).count() == 22
    assert city.audit_entries.filter(action="component.imported").count() == 2
    assert again.status_code == 409


def test_sheet_with_names_as_headers_and_problems_by_row_creates_nothing(city, api_client):
    workbook = Workbook()
    for row in [
        ["部门", "高质量发展考核（基数）", "党的建设考核（系数）", "备注"],
        ["东湖区", 84.5, 98, "ok"],
        ["不存在的县", 80, 90, ""],
        ["C02", 101, "很好", ""],
    ]:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)

    refused = api_client.post(
        f"/api/v1/meetings/{city.pk}/component-sheets", {"file": upload(out.getvalue(), "c.xlsx")}, format="multipart"
    )

    assert refused.status_code == 400
    cells = {(e["row"], e["column"]) for e in refused.json()["errors"]}
    assert cells == {(3, "部门"), (4, "高质量发展考核（基数）"), (4, "党的建设考核（系数）")}
    assert ComponentScore.objects.count() == 0


def test_component_sheet_refused_for_another_meetings_user(city, api_client):
    stranger = get_user_model().objects.create_user("stranger", password="pw-stranger-1")
    api_client.force_authenticate(stranger)

    answer = api_client.post(
        f"/api/v1/meetings/{city.pk}/component-sheets",
        {"file": upload(b"department,development\\nC01,80\\n", "c.csv")},
        format="multipart",
    )

    assert answer.status_code in (403, 404)


def test_a_rehearsal_copies_the_component_scores_so_its_departments_rank(city, api_client):
    from reports.models import RehearsalJob
    from reports.services import rehearsal_execute

    sheet = upload((ROOT / "data/city-components.csv").read_bytes(), "city-components.csv")
    sheet_id = api_client.post(f"/api/v1/meetings/{city.pk}/component-sheets", {"file": sheet}, format="multipart")
    api_client.post(f"/api/v1/meetings/{city.pk}/component-sheets/{sheet_id.json()['id']}/commit")
    job = RehearsalJob.objects.create(source=city)

    job = rehearsal_execute(job_id=job.pk)

    assert job.state == "succeeded", job.error
    copied = ComponentScore.objects.filter(component__meeting=job.rehearsal)
    assert copied.count() == 22
    assert sorted(copied.values_list("component__code", "department__code", "value")) == sorted(
        ComponentScore.objects.filter(component__meeting=city).values_list(
            "component__code", "department__code", "value"
        )
    )
    ranked = [r for r in job.rehearsal.snapshots.first().rows if r["rank"] is not None]
    assert len(ranked) == 11
