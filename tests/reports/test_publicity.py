"""Public notice, appeals and the final publication (issue 16), through the API: every refusal answered
with a clear 4xx and nothing changed, every step audited."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.models import Appeal, ResultSnapshot
from reports.publicity import contact_grant
from reports.services import snapshot_compute
from voting.models import Ballot
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


@pytest.fixture
def notice(small_document, api_client):
    meeting = meeting_import(document=small_document(departments=3), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=3)
    snapshot_compute(meeting=meeting)
    User = get_user_model()
    organizer = User.objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    contact = User.objects.create_user("d01", password="pw-contact-1")
    contact_grant(meeting=meeting, user=contact, department_code="D01", email="", actor=organizer, ip=None)
    return meeting, organizer, contact


def publish(client, meeting, body=None):
    return client.post(f"/api/v1/meetings/{meeting.pk}/publish", body or {}, format="json")


def test_whole_flow_notice_appeal_decision_final(notice, api_client):
    meeting, organizer, contact = notice
    until = timezone.now() + datetime.timedelta(days=5)
    api_client.force_authenticate(organizer)
    noticed = publish(api_client, meeting, {"stage": "publicity", "until": until.isoformat()})
    public = api_client.get(f"/api/v1/public/meetings/{meeting.pk}/results").json()

    api_client.force_authenticate(contact)
    appealed = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "部门得分统计有误"}, format="json"
    )
    own = api_client.get(f"/api/v1/meetings/{meeting.pk}/appeals").json()["appeals"]

    api_client.force_authenticate(organizer)
    refused_final = publish(api_client, meeting, {"stage": "final", "early_reason": "提前结束"})
    decided = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals/{appealed.json()['id']}/decision",
        {"decision": "rejected", "reason": "经复核，统计无误"},
        format="json",
    )
    too_early = publish(api_client, meeting, {"stage": "final"})
    final = publish(api_client, meeting, {"stage": "final", "early_reason": "申诉已处理完毕，提前定稿"})

    assert noticed.status_code == 200 and noticed.json()["stage"] == "publicity"
    assert public["stage"] == "publicity" and public["publicity_until"]
    assert appealed.status_code == 201 and appealed.json()["state"] == "open"
    assert [a["department"] for a in own] == ["D01"]
    assert (refused_final.status_code, refused_final.json()["code"]) == (409, "appeals_open")
    assert decided.status_code == 200 and decided.json()["state"] == "rejected"
    assert (too_early.status_code, too_early.json()["code"]) == (409, "notice_running")
    assert final.status_code == 200 and final.json()["stage"] == "final"
    snapshot = ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False)
    assert snapshot.early_reason == "申诉已处理完毕，提前定稿"
    actions = set(meeting.audit_entries.values_list("action", flat=True))
    assert {"result.notice", "appeal.submitted", "appeal.decided", "result.final", "contact.granted"} <= actions


def test_appeal_refusals_change_nothing(notice, api_client):
    meeting, organizer, contact = notice
    api_client.force_authenticate(contact)
    outside = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "x"}, format="json"
    )

    api_client.force_authenticate(organizer)
    publish(
        api_client, meeting, {"stage": "publicity", "until": (timezone.now() + datetime.timedelta(days=3)).isoformat()}
    )
    api_client.force_authenticate(contact)
    other = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D02", "reason": "x"}, format="json"
    )
    empty = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "  "}, format="json"
    )
    long = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "长" * 2001}, format="json"
    )

    assert (outside.status_code, outside.json()["code"]) == (409, "not_under_notice")
    assert other.status_code == 403
    assert empty.status_code == 400 and empty.json()["errors"][0]["path"] == "reason"
    assert long.status_code == 400
    assert Appeal.objects.count() == 0


def test_second_decision_and_a_contact_deciding_are_refused(notice, api_client):
    meeting, organizer, contact = notice
    api_client.force_authenticate(organizer)
    publish(
        api_client, meeting, {"stage": "publicity", "until": (timezone.now() + datetime.timedelta(days=3)).isoformat()}
    )
    api_client.force_authenticate(contact)
    appeal = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "理由"}, format="json"
    ).json()
    url = f"/api/v1/meetings/{meeting.pk}/appeals/{appeal['id']}/decision"
    by_contact = api_client.post(url, {"decision": "upheld", "reason": "我自己批准"}, format="json")

    api_client.force_authenticate(organizer)
    first = api_client.post(url, {"decision": "upheld", "reason": "属实，予以更正"}, format="json")
    second = api_client.post(url, {"decision": "rejected", "reason": "改变主意"}, format="json")

    assert by_contact.status_code in (403, 404)
    assert first.status_code == 200 and (second.status_code, second.json()["code"]) == (409, "decided")
    assert Appeal.objects.get().state == "upheld"


def test_notice_must_end_in_the_future_and_publish_without_body_is_final(notice, api_client):
    meeting, organizer, _contact = notice
    api_client.force_authenticate(organizer)

    past = publish(api_client, meeting, {"stage": "publicity", "until": "2020-01-01T00:00:00Z"})
    plain = api_client.post(f"/api/v1/meetings/{meeting.pk}/publish")

    assert past.status_code == 400 and past.json()["errors"][0]["path"] == "until"
    assert plain.status_code == 200 and plain.json()["stage"] == "final"


def test_console_notice_decision_and_final(notice, api_client, client):
    meeting, organizer, contact = notice
    client.force_login(organizer)
    until = (timezone.localtime() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")

    client.post(f"/console/m/{meeting.pk}/publish", {"action": "notice", "until": until})
    api_client.force_authenticate(contact)
    appeal = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "请复核"}, format="json"
    ).json()
    page = client.get(f"/console/m/{meeting.pk}/review/").content.decode()
    client.post(
        f"/console/m/{meeting.pk}/publish",
        {"action": "decide", "appeal": appeal["id"], "decision": "rejected", "reason": "复核无误"},
    )
    refused = client.post(f"/console/m/{meeting.pk}/publish", {"action": "final"}, follow=True)
    client.post(f"/console/m/{meeting.pk}/publish", {"action": "final", "early_reason": "申诉已处理"})

    assert "请复核" in page and "公示" in page
    assert Appeal.objects.get().state == "rejected"
    assert "提前结束" in refused.content.decode()  # final refused: the notice runs, no reason given
    assert ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False).stage == "final"


def test_projector_and_receipt_check_say_under_notice(notice, api_client, client):
    meeting, organizer, _contact = notice
    api_client.force_authenticate(organizer)
    publish(
        api_client, meeting, {"stage": "publicity", "until": (timezone.now() + datetime.timedelta(days=3)).isoformat()}
    )
    client.force_login(organizer)
    receipt = Ballot.objects.filter(presentation__meeting=meeting).values_list("receipt", flat=True).first()

    state = client.get(f"/projector/m/{meeting.pk}/state.json").json()
    projector = client.get(f"/projector/m/{meeting.pk}/").content.decode()
    check = api_client.get(f"/api/v1/public/meetings/{meeting.pk}/receipts/{receipt}").json()

    assert state["notice_until"] and "公示中" in projector
    assert (check["stage"], check["counted"], check["invalid"]) == ("publicity", True, False)


def test_four_eyes_the_one_who_asked_cannot_confirm(notice, api_client):
    meeting, organizer, _contact = notice
    meeting.four_eyes = True
    meeting.save(update_fields=["four_eyes"])
    second = get_user_model().objects.create_user("organizer2", password="pw-organizer-2")
    assign_perm("meetings.organize_meeting", second, meeting)
    api_client.force_authenticate(organizer)

    asked = publish(api_client, meeting, {"stage": "final"})
    self_confirmed = publish(api_client, meeting, {"stage": "final"})
    api_client.force_authenticate(second)
    confirmed = publish(api_client, meeting, {"stage": "final"})

    assert asked.status_code == 202 and asked.json()["published"] is False
    assert (self_confirmed.status_code, self_confirmed.json()["code"]) == (403, "four_eyes")
    assert confirmed.status_code == 200 and confirmed.json()["stage"] == "final"
    snapshot = ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False)
    assert (snapshot.final_requested_by, snapshot.final_confirmed_by) == (organizer, second)
    assert meeting.audit_entries.filter(action="result.final_requested").exists()


def test_console_says_a_four_eyes_request_waits(notice, client):
    meeting, organizer, _contact = notice
    meeting.four_eyes = True
    meeting.save(update_fields=["four_eyes"])
    client.force_login(organizer)

    page = client.post(f"/console/m/{meeting.pk}/publish", {"action": "final"}, follow=True).content.decode()

    assert "另一位组织人员" in page
    assert not ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).exists()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _appeal_with(api_client, meeting, upload, reason="得分统计有误，见附件"):
    return api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals",
        {"department": "D01", "reason": reason, "attachment": upload},
        format="multipart",
    )


@pytest.fixture
def under_notice(notice, api_client, settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"
    meeting, organizer, contact = notice
    api_client.force_authenticate(organizer)
    publish(
        api_client, meeting, {"stage": "publicity", "until": (timezone.now() + datetime.timedelta(days=3)).isoformat()}
    )
    api_client.force_authenticate(contact)
    return notice


def test_appeal_attachment_stored_privately_and_served_to_organizers_only(under_notice, api_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    meeting, organizer, _contact = under_notice
    auditor = get_user_model().objects.create_user("auditor", password="pw-auditor-1")
    assign_perm("meetings.audit_meeting", auditor, meeting)
    appealed = _appeal_with(api_client, meeting, SimpleUploadedFile("统计表.pdf", PDF, content_type="application/pdf"))
    url = appealed.json()["attachment"]["url"]
    as_contact = api_client.get(url)
    api_client.force_authenticate(organizer)
    as_organizer = api_client.get(url)
    api_client.force_authenticate(auditor)
    as_auditor = api_client.get(url)
    api_client.force_authenticate(None)
    anonymous = api_client.get(url)

    appeal = Appeal.objects.get()
    stored = settings.PRIVATE_ROOT / appeal.attachment_path
    assert appealed.status_code == 201, appealed.content
    assert appealed.json()["attachment"]["type"] == "application/pdf"
    assert stored.read_bytes() == PDF and settings.PRIVATE_ROOT in stored.parents
    assert as_contact.status_code == 404 and anonymous.status_code in (401, 403)
    for response in (as_organizer, as_auditor):
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
        assert "attachment" in response["Content-Disposition"]
    entry = meeting.audit_entries.get(action="appeal.submitted")
    assert entry.details["attachment"] == appeal.attachment_sha256


def test_appeal_attachment_refusals_change_nothing(under_notice, api_client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    meeting, _organizer, _contact = under_notice
    oversized = _appeal_with(
        api_client, meeting, SimpleUploadedFile("big.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")
    )
    renamed = _appeal_with(api_client, meeting, SimpleUploadedFile("scan.pdf", PNG, "application/pdf"))
    wrong_claim = _appeal_with(api_client, meeting, SimpleUploadedFile("scan.png", PNG, "application/pdf"))
    script = _appeal_with(api_client, meeting, SimpleUploadedFile("x.pdf", b"<script>alert(1)</script>", "text/html"))
    empty = _appeal_with(api_client, meeting, SimpleUploadedFile("x.pdf", b"", "application/pdf"))
    not_a_file = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals",
        {"department": "D01", "reason": "x", "attachment": "%PDF-"},
        format="json",
    )

    assert (oversized.status_code, oversized.json()["code"]) == (413, "too_large")
    for response in (renamed, wrong_claim, script, empty, not_a_file):
        assert response.status_code == 400, response.content
        assert response.json()["errors"][0]["path"] == "attachment"
    assert Appeal.objects.count() == 0
    assert not (settings.PRIVATE_ROOT / "appeals").exists() or not any((settings.PRIVATE_ROOT / "appeals").rglob("*.*"))


def test_appeal_page_form_takes_reason_and_attachment(under_notice, client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    meeting, _organizer, contact = under_notice
    client.force_login(contact)
    page = client.get(f"/feedback/m/{meeting.pk}/D01/")
    sent = client.post(
        f"/feedback/m/{meeting.pk}/D01/",
        {
            "reason": "第三项评分有误",
            "attachment": SimpleUploadedFile("照片.jpg", b"\xff\xd8\xff\xe0" + b"0" * 40, "image/jpeg"),
        },
        follow=True,
    )
    refused = client.post(
        f"/feedback/m/{meeting.pk}/D01/",
        {"reason": "再申诉", "attachment": SimpleUploadedFile("a.jpg", PNG, "image/jpeg")},
        follow=True,
    )

    assert 'enctype="multipart/form-data"' in page.content.decode()
    appeal = Appeal.objects.get()
    assert appeal.reason == "第三项评分有误" and appeal.attachment_type == "image/jpeg"
    assert "第三项评分有误" in sent.content.decode() and "照片.jpg" in sent.content.decode()
    assert refused.status_code == 200 and Appeal.objects.count() == 1
    assert "a.jpg" in refused.content.decode()  # the refusal says which file and why


def test_contacts_hear_of_the_notice_and_the_decision_by_mail(
    notice, api_client, mailoutbox, django_capture_on_commit_callbacks
):
    meeting, organizer, contact = notice
    other = get_user_model().objects.create_user("d02", password="pw-contact-2")
    contact_grant(meeting=meeting, user=other, department_code="D02", email="d02@example.cn", actor=None, ip=None)
    from reports.models import DepartmentContact

    DepartmentContact.objects.filter(user=contact).update(email="d01@example.cn")
    api_client.force_authenticate(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            api_client,
            meeting,
            {"stage": "publicity", "until": (timezone.now() + datetime.timedelta(days=3)).isoformat()},
        )
    noticed = sorted(m.to[0] for m in mailoutbox)
    api_client.force_authenticate(contact)
    appeal = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "统计有误"}, format="json"
    ).json()
    api_client.force_authenticate(organizer)
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post(
            f"/api/v1/meetings/{meeting.pk}/appeals/{appeal['id']}/decision",
            {"decision": "upheld", "reason": "经复核，第三项漏计"},
            format="json",
        )

    assert noticed == ["d01@example.cn", "d02@example.cn"]
    assert "公示" in mailoutbox[0].subject and f"/feedback/m/{meeting.pk}/" in mailoutbox[0].body
    decided = mailoutbox[2:]
    assert [m.to for m in decided] == [["d01@example.cn"]]
    assert "经复核，第三项漏计" in decided[0].body


def test_upheld_appeal_changes_the_result_which_goes_under_notice_again(notice, api_client):
    meeting, organizer, contact = notice
    until = (timezone.now() + datetime.timedelta(days=3)).isoformat()
    api_client.force_authenticate(organizer)
    first = publish(api_client, meeting, {"stage": "publicity", "until": until}).json()
    api_client.force_authenticate(contact)
    appeal = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals", {"department": "D01", "reason": "漏计加分"}, format="json"
    ).json()
    api_client.force_authenticate(organizer)
    api_client.post(
        f"/api/v1/meetings/{meeting.pk}/appeals/{appeal['id']}/decision",
        {"decision": "upheld", "reason": "属实，加 1.5 分"},
        format="json",
    )
    adjusted = api_client.post(
        f"/api/v1/meetings/{meeting.pk}/adjustments",
        {"department": "D01", "points": "1.5", "reason": "申诉属实，补记加分"},
        format="json",
    )
    stale = publish(api_client, meeting, {"stage": "final", "early_reason": "申诉已处理"})
    snapshot_compute(meeting=meeting)
    unnoticed = publish(api_client, meeting, {"stage": "final", "early_reason": "申诉已处理"})
    second = publish(api_client, meeting, {"stage": "publicity", "until": until})
    final = publish(api_client, meeting, {"stage": "final", "early_reason": "更正后无异议，提前定稿"})

    assert adjusted.status_code == 201, adjusted.content
    assert stale.status_code == 409 and unnoticed.status_code == 409
    assert unnoticed.json()["code"] == "changed_since_notice"
    assert second.status_code == 200 and second.json()["snapshot"] != first["snapshot"]
    assert final.status_code == 200 and final.json()["stage"] == "final"
    published = ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False)
    row = next(r for r in published.rows if r["department"] == "D01")
    assert published.pk == second.json()["snapshot"] and row["adjustments"] == "1.5000"
