"""A survey sheet is a batch: the same file counts once, a batch is withdrawn with a reason, and the
hall's turnout never includes survey answers (issue 12, hole 3)."""

import io

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm
from openpyxl import Workbook

from appraisal.exceptions import Conflict, InvalidInput
from meetings.models import MeetingChange, Presentation
from meetings.services import meeting_import
from voting.models import Ballot, SurveyBatch
from voting.selectors import meeting_progress
from voting.services import survey_import, survey_withdraw, voting_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(small_document):
    result = meeting_import(document=small_document(departments=3, seats=2), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="open", actor=None, ip=None)
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, result.meeting)
    return result.meeting, organizer


def sheet(rows, name="survey.xlsx") -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = name
    return out


ROWS = [["部门", "总体评价"], ["D01", "良好"], ["D01", "优秀"], ["D02", "较差"]]


def test_survey_same_file_twice_is_refused_and_counts_once(setup):
    meeting, organizer = setup
    data = sheet(ROWS).getvalue()
    survey_import(
        meeting=meeting, role_code="public", fileobj=io.BytesIO(data), filename="a.xlsx", actor=organizer, ip=None
    )

    with pytest.raises(Conflict) as refused:  # the same bytes under another name
        survey_import(
            meeting=meeting, role_code="public", fileobj=io.BytesIO(data), filename="b.xlsx", actor=organizer, ip=None
        )

    assert refused.value.code == "duplicate_survey"
    assert "a.xlsx" in refused.value.message and "3" in refused.value.message
    assert Ballot.objects.filter(source="survey").count() == 3
    assert SurveyBatch.objects.count() == 1


def test_survey_withdraw_voids_the_batch_and_allows_a_reimport(setup):
    meeting, organizer = setup
    data = sheet(ROWS).getvalue()
    survey_import(
        meeting=meeting, role_code="public", fileobj=io.BytesIO(data), filename="a.xlsx", actor=organizer, ip=None
    )
    batch = SurveyBatch.objects.get()
    before = sum(MeetingChange.objects.filter(meeting=meeting).values_list("count", flat=True))

    survey_withdraw(meeting=meeting, batch_id=batch.pk, reason="导入了错误的表格", actor=organizer, ip="10.0.0.1")

    batch.refresh_from_db()
    assert batch.withdrawn_by == organizer and batch.withdraw_reason == "导入了错误的表格"
    assert set(Ballot.objects.filter(survey_batch=batch).values_list("state", "void_reason")) == {
        ("void", "导入了错误的表格")
    }
    assert sum(MeetingChange.objects.filter(meeting=meeting).values_list("count", flat=True)) > before
    entry = meeting.audit_entries.get(action="survey.withdrawn")
    assert entry.details["ballots"] == 3 and entry.actor == organizer
    with pytest.raises(Conflict):
        survey_withdraw(meeting=meeting, batch_id=batch.pk, reason="again", actor=organizer, ip=None)
    # Withdrawn, the same file may come in again as a new batch.
    survey_import(
        meeting=meeting, role_code="public", fileobj=io.BytesIO(data), filename="a.xlsx", actor=organizer, ip=None
    )
    assert Ballot.objects.filter(source="survey", state="submitted").count() == 3


def test_survey_withdraw_without_a_reason_changes_nothing(setup):
    meeting, organizer = setup
    survey_import(meeting=meeting, role_code="public", fileobj=sheet(ROWS), filename="a.xlsx", actor=None, ip=None)
    batch = SurveyBatch.objects.get()

    with pytest.raises(InvalidInput) as refused:
        survey_withdraw(meeting=meeting, batch_id=batch.pk, reason="   ", actor=organizer, ip=None)

    assert refused.value.errors[0]["path"] == "reason"
    assert Ballot.objects.filter(state="void").count() == 0
    assert SurveyBatch.objects.get().withdrawn_at is None


def test_progress_counts_hall_seats_and_survey_answers_apart(setup):
    meeting, _organizer = setup
    survey_import(meeting=meeting, role_code="public", fileobj=sheet(ROWS), filename="a.xlsx", actor=None, ip=None)
    first = Presentation.objects.filter(meeting=meeting).order_by("order").first()

    progress = meeting_progress(meeting)

    row = next(p for p in progress["presentations"] if p["id"] == first.pk)
    public = row["roles"]["public"]
    assert (public["hall"], public["survey"], public["ballots"]) == (0, 2, 2)
    assert (row["hall"], row["survey"], row["ballots"]) == (0, 2, 2)


def test_survey_batches_api_lists_and_withdraws(setup, api_client):
    meeting, organizer = setup
    api_client.force_authenticate(organizer)
    upload = sheet(ROWS)
    # The same bytes under another name. Two workbooks made apart are the same bytes only within one second
    # (openpyxl writes the time into the file): under load the second was made a second later and counted
    # as another sheet.
    copy = io.BytesIO(upload.getvalue())
    copy.name = "copy.xlsx"
    first = api_client.post(f"/api/v1/meetings/{meeting.pk}/surveys/public", {"file": upload}, format="multipart")
    again = api_client.post(f"/api/v1/meetings/{meeting.pk}/surveys/public", {"file": copy}, format="multipart")
    listed = api_client.get(f"/api/v1/meetings/{meeting.pk}/surveys")
    batch_id = listed.json()["batches"][0]["id"]
    empty = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/survey-batches/{batch_id}/withdraw", {"reason": ""}, format="json"
    )
    withdrawn = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/survey-batches/{batch_id}/withdraw", {"reason": "重复导入"}, format="json"
    )
    twice = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/survey-batches/{batch_id}/withdraw", {"reason": "重复导入"}, format="json"
    )

    assert first.status_code == 201
    assert (again.status_code, again.json()["code"]) == (409, "duplicate_survey")
    batch = listed.json()["batches"][0]
    assert (batch["ballots"], batch["role"], batch["filename"], batch["withdrawn_at"]) == (
        3,
        "public",
        "survey.xlsx",
        None,
    )
    assert empty.status_code == 400 and empty.json()["errors"][0]["path"] == "reason"
    assert withdrawn.status_code == 200 and withdrawn.json()["withdraw_reason"] == "重复导入"
    assert twice.status_code == 409
    assert Ballot.objects.filter(source="survey", state="submitted").count() == 0


def test_survey_batches_api_refuses_other_meetings_users(setup, api_client):
    meeting, _organizer = setup
    stranger = get_user_model().objects.create_user("stranger", password="pw-stranger-1")
    survey_import(meeting=meeting, role_code="public", fileobj=sheet(ROWS), filename="a.xlsx", actor=None, ip=None)
    batch = SurveyBatch.objects.get()
    api_client.force_authenticate(stranger)

    listed = api_client.get(f"/api/v1/meetings/{meeting.pk}/surveys")
    withdrawn = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/survey-batches/{batch.pk}/withdraw", {"reason": "x"}, format="json"
    )

    assert listed.status_code in (403, 404) and withdrawn.status_code in (403, 404)
    assert SurveyBatch.objects.get().withdrawn_at is None


def test_console_paper_page_lists_and_withdraws_batches(setup, client):
    meeting, organizer = setup
    survey_import(
        meeting=meeting, role_code="public", fileobj=sheet(ROWS), filename="电话调查.xlsx", actor=None, ip=None
    )
    batch = SurveyBatch.objects.get()
    client.force_login(organizer)

    page = client.get(f"/console/m/{meeting.pk}/paper/")
    done = client.post(
        f"/console/m/{meeting.pk}/paper/", {"action": "withdraw", "batch": batch.pk, "reason": "表格有误"}, follow=True
    )

    assert "电话调查.xlsx" in page.content.decode()
    assert done.status_code == 200
    assert SurveyBatch.objects.get().withdraw_reason == "表格有误"
    assert "表格有误" in done.content.decode()
