"""An admin grants department contacts from the meeting's admin page (issue 16): one account, or a sheet of
contacts; every grant audited; a sheet with problems saves nothing and says row and column."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.models import DepartmentContact

pytestmark = pytest.mark.django_db


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.fixture
def meeting(small_document):
    return meeting_import(document=small_document(departments=3), actor=None).meeting


def test_contacts_sheet_creates_accounts_and_grants_each_department(meeting, admin_client):
    get_user_model().objects.create_user("existing", password="pw-existing-1")
    sheet = _xlsx([["部门", "用户名", "邮箱"], ["D01", "lianluo01", "d01@example.cn"], ["测试部门2", "existing", None]])
    page = admin_client.get(f"/admin/meetings/meeting/{meeting.pk}/contacts/")
    response = admin_client.post(
        f"/admin/meetings/meeting/{meeting.pk}/contacts/",
        {"action": "sheet", "file": SimpleUploadedFile("contacts.xlsx", sheet)},
    )

    html = response.content.decode()
    contacts = {c.user.username: c for c in DepartmentContact.objects.select_related("user", "department")}
    created = get_user_model().objects.get(username="lianluo01")
    password = html.split("<code>")[1].split("</code>")[0]
    assert page.status_code == 200 and response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert contacts["lianluo01"].department.code == "D01" and contacts["lianluo01"].email == "d01@example.cn"
    assert contacts["existing"].department.code == "D02"
    assert created.check_password(password) and not created.is_staff
    assert get_user_model().objects.get(username="existing").check_password("pw-existing-1")
    assert meeting.audit_entries.filter(action="contact.granted").count() == 2


def test_contacts_sheet_with_problems_saves_nothing(meeting, admin_client):
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    bad = _xlsx(
        [
            ["部门", "用户名", "邮箱"],
            ["D09", "a1", ""],
            ["D01", "bad name!", ""],
            ["D02", "a2", "not-an-address"],
            ["D03", "a1", ""],
        ]
    )
    rights = _xlsx([["部门", "用户名"], ["D01", "kaohe"]])

    problems = admin_client.post(
        f"/admin/meetings/meeting/{meeting.pk}/contacts/",
        {"action": "sheet", "file": SimpleUploadedFile("c.xlsx", bad)},
    ).content.decode()
    refused = admin_client.post(
        f"/admin/meetings/meeting/{meeting.pk}/contacts/",
        {"action": "sheet", "file": SimpleUploadedFile("c.xlsx", rights)},
    ).content.decode()

    assert DepartmentContact.objects.count() == 0
    assert not get_user_model().objects.filter(username__in=["a1", "a2"]).exists()
    assert "D09" in problems and "bad name!" not in problems.split("<table>")[0]
    for row in ("<td>2</td>", "<td>3</td>", "<td>4</td>", "<td>5</td>"):
        assert row in problems
    assert "kaohe" in refused


def test_grant_one_and_revoke_are_audited(meeting, admin_client):
    granted = admin_client.post(
        f"/admin/meetings/meeting/{meeting.pk}/contacts/",
        {"action": "grant", "username": "lianluo03", "department": "D03", "email": ""},
    )
    contact = DepartmentContact.objects.get()
    revoked = admin_client.post(
        f"/admin/meetings/meeting/{meeting.pk}/contacts/", {"action": "revoke", "contact": contact.pk}
    )

    assert granted.status_code == 200 and "lianluo03" in granted.content.decode()
    assert revoked.status_code == 302 and DepartmentContact.objects.count() == 0
    actions = list(meeting.audit_entries.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["contact.granted", "contact.revoked"]
