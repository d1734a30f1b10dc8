"""Paper ballots entered twice, blind; survey ballots imported from a sheet."""

import io

import pytest
from django.contrib.auth import get_user_model
from openpyxl import Workbook

from appraisal.exceptions import Conflict, InvalidInput
from meetings.models import Presentation
from meetings.panel_sheets import SheetInvalid
from meetings.services import meeting_import
from voting.models import Ballot, PaperEntry
from voting.services import paper_entry_resolve, paper_entry_submit, survey_import, voting_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(small_document):
    result = meeting_import(document=small_document(departments=3, seats=2), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="open", actor=None, ip=None)
    staff = [get_user_model().objects.create_user(f"staff{i}", password=f"pw-staff-{i}-x") for i in range(3)]
    seat = next(r.seat_no for r in result.raters if r.role == "leadership")
    presentation = Presentation.objects.filter(meeting=result.meeting).order_by("order").first()
    return result.meeting, seat, presentation, staff


SCORES = {"performance": "50", "innovation": "30.5"}


def enter(meeting, seat, presentation, scores, who):
    return paper_entry_submit(
        meeting=meeting, seat_no=seat, presentation_id=presentation.pk, scores=scores, actor=who, ip="10.0.0.5"
    )


def test_paper_ballot_counts_only_after_a_matching_second_entry(setup):
    meeting, seat, presentation, staff = setup

    first = enter(meeting, seat, presentation, SCORES, staff[0])
    assert (first.state, Ballot.objects.count()) == ("awaiting", 0)
    with pytest.raises(Conflict):
        enter(meeting, seat, presentation, SCORES, staff[0])  # the same person cannot confirm
    second = enter(meeting, seat, presentation, {"performance": "50.0", "innovation": "30.5"}, staff[1])

    assert second.state == "matched"
    ballot = Ballot.objects.get()
    assert (ballot.source, ballot.total, ballot.state) == ("paper", 80.5, "submitted")
    actions = list(meeting.audit_entries.values_list("action", flat=True))
    assert "paper.first_entry" in actions and "paper.matched" in actions


def test_paper_mismatch_counts_nothing_until_resolved(setup):
    meeting, seat, presentation, staff = setup
    enter(meeting, seat, presentation, SCORES, staff[0])

    second = enter(meeting, seat, presentation, {"performance": "50", "innovation": "35"}, staff[1])

    assert second.state == "mismatch"
    assert Ballot.objects.count() == 0
    with pytest.raises(Conflict):
        enter(meeting, seat, presentation, SCORES, staff[2])
    resolved = paper_entry_resolve(meeting=meeting, entry_id=second.pk, scores=SCORES, actor=staff[2], ip=None)
    assert resolved.state == "resolved"
    assert Ballot.objects.get().total == 80.5


def test_paper_entry_validated_like_any_ballot(setup):
    meeting, seat, presentation, staff = setup

    with pytest.raises(InvalidInput):
        enter(meeting, seat, presentation, {"performance": "61", "innovation": "30"}, staff[0])

    assert PaperEntry.objects.count() == 0


def survey_sheet(rows) -> io.BytesIO:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def test_survey_import_creates_receipted_ballots_of_the_role(setup):
    meeting, _seat, _presentation, staff = setup
    sheet = survey_sheet([["部门", "总体评价"], ["D01", "良好"], ["测试部门2", "excellent"], ["D03", "较差"]])

    count = survey_import(
        meeting=meeting, role_code="public", fileobj=sheet, filename="survey.xlsx", actor=staff[0], ip=None
    )

    assert count == 3
    ballots = Ballot.objects.filter(source="survey").order_by("total")
    assert [b.total for b in ballots] == [50, 85, 100]
    assert all(b.role.code == "public" and len(b.receipt) == 12 for b in ballots)
    assert meeting.audit_entries.filter(action="survey.imported").exists()


def test_survey_import_with_a_bad_row_imports_nothing(setup):
    meeting, *_ = setup
    sheet = survey_sheet([["部门", "总体评价"], ["D01", "良好"], ["D09", "良好"], ["D02", "极好"]])

    with pytest.raises(SheetInvalid) as info:
        survey_import(meeting=meeting, role_code="public", fileobj=sheet, filename="survey.xlsx", actor=None, ip=None)

    assert {p["row"] for p in info.value.problems} == {3, 4}
    assert Ballot.objects.count() == 0


def test_survey_api_and_paper_api(setup, api_client):
    from guardian.shortcuts import assign_perm

    meeting, seat, presentation, staff = setup
    for user in staff:
        assign_perm("meetings.organize_meeting", user, meeting)
    api_client.force_authenticate(staff[0])
    upload = survey_sheet([["department", "overall"], ["D01", "good"]])
    upload.name = "survey.xlsx"

    survey = api_client.post(f"/api/v1/meetings/{meeting.pk}/surveys/public", {"file": upload}, format="multipart")
    first = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/paper",
        {"seat": seat, "presentation": presentation.pk, "scores": SCORES},
        format="json",
    )
    api_client.force_authenticate(staff[1])
    second = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/paper",
        {"seat": seat, "presentation": presentation.pk, "scores": SCORES},
        format="json",
    )

    assert (survey.status_code, survey.json()["ballots"]) == (201, 1)
    assert first.json()["state"] == "awaiting" and second.json()["state"] == "matched"
    assert second.json()["receipt"]


def phone_vote(meeting, seat, presentation, scores):
    from meetings.models import Rater
    from voting.services import ballot_submit

    rater = Rater.objects.select_related("role", "meeting").get(meeting=meeting, seat_no=seat)
    return ballot_submit(rater=rater, presentation_id=presentation.pk, scores=scores)


def test_paper_entries_never_replace_a_phone_ballot(setup):
    meeting, seat, presentation, staff = setup
    answer = phone_vote(meeting, seat, presentation, {"performance": "52", "innovation": "30"})
    phone = Ballot.objects.get()

    with pytest.raises(Conflict) as refused:
        enter(meeting, seat, presentation, SCORES, staff[0])

    assert refused.value.code == "ballot_exists"
    assert PaperEntry.objects.count() == 0
    ballot = Ballot.objects.get()
    assert (ballot.pk, ballot.source, ballot.total, ballot.receipt) == (phone.pk, "phone", 82, phone.receipt)
    assert answer.status == 201


def test_phone_ballot_between_two_paper_entries_keeps_the_phone_ballot(setup):
    meeting, seat, presentation, staff = setup
    enter(meeting, seat, presentation, SCORES, staff[0])
    phone_vote(meeting, seat, presentation, {"performance": "52", "innovation": "30"})

    with pytest.raises(Conflict):
        enter(meeting, seat, presentation, SCORES, staff[1])

    ballot = Ballot.objects.get()
    assert (ballot.source, ballot.total) == ("phone", 82)
    assert PaperEntry.objects.get().state == "awaiting"
    assert not meeting.audit_entries.filter(action="paper.matched").exists()


def test_phone_does_not_overwrite_a_counted_paper_ballot(setup):
    meeting, seat, presentation, staff = setup
    enter(meeting, seat, presentation, SCORES, staff[0])
    enter(meeting, seat, presentation, SCORES, staff[1])

    with pytest.raises(Conflict) as refused:
        phone_vote(meeting, seat, presentation, {"performance": "52", "innovation": "30"})

    assert refused.value.code == "paper_ballot"
    assert (Ballot.objects.get().source, Ballot.objects.get().total) == ("paper", 80.5)


def test_admin_shows_paper_entries_by_criterion_and_grade_name(admin_client, admin_user, small_document):
    from meetings.services import meeting_import
    from voting.models import PaperEntry

    meeting = meeting_import(document=small_document(departments=2, seats=1), actor=None).meeting
    presentation = meeting.presentations.first()
    role = meeting.scheme.roles.get(code="public")
    entry = PaperEntry.objects.create(
        presentation=presentation, role=role, seat_no=1, first_scores={"overall": "fair"}, first_by=admin_user
    )

    page = admin_client.get(f"/admin/voting/paperentry/{entry.pk}/change/").content.decode()

    assert "总体评价：" in page and '"overall"' not in page and "{&quot;overall" not in page
