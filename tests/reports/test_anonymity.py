"""No page, API answer or export puts a rater's name, token or pseudonym next to ballot values."""

import io
import subprocess
import tempfile

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from guardian.shortcuts import assign_perm
from openpyxl import load_workbook

from meetings.services import meeting_import
from reports.services import snapshot_compute, snapshot_publish
from voting.models import Ballot, IdempotencyRecord
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db

NAMES = ["王芳", "李强", "赵敏", "孙悟空"]


def text_of(response) -> str:
    content_type = response.get("Content-Type", "")
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if "spreadsheetml" in content_type:
        workbook = load_workbook(io.BytesIO(body))
        return "\n".join(str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row)
    if "pdf" in content_type:
        with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
            fh.write(body)
            fh.flush()
            return subprocess.run(["pdftotext", fh.name, "-"], capture_output=True, text=True, check=True).stdout
    return body.decode("utf-8", "replace")


def test_no_answer_links_a_rater_to_ballot_values(small_document):
    document = small_document(departments=3, seats=3)
    document["raters"] += [{"role": "leadership", "name": name} for name in NAMES[1:]]
    result = meeting_import(document=document, actor=None)
    meeting = result.meeting
    ballots_simulate(meeting=meeting, seed=9)
    snapshot = snapshot_compute(meeting=meeting)
    User = get_user_model()
    organizer = User.objects.create_user("organizer", password="pw-organizer-1")
    auditor = User.objects.create_user("auditor", password="pw-auditor-1")
    admin = User.objects.create_superuser("root", "r@example.com", "pw-root-123")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    assign_perm("meetings.audit_meeting", auditor, meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)

    tokens = {r.token for r in result.raters}
    pseudonyms = set(Ballot.objects.values_list("pseudonym", flat=True)) | set(
        IdempotencyRecord.objects.values_list("pseudonym", flat=True)
    )
    receipts = set(Ballot.objects.values_list("receipt", flat=True))
    assert {r.name for r in result.raters if r.name} == set(NAMES)
    m, s = meeting.pk, snapshot.pk
    pages = [
        f"/console/m/{m}/", f"/console/m/{m}/review/", f"/console/m/{m}/audit/", f"/console/m/{m}/paper/",
        f"/projector/m/{m}/", f"/projector/m/{m}/state.json", f"/results/m/{m}/", "/",
        f"/api/v1/meetings/{m}/results", f"/api/v1/meetings/{m}/progress", f"/api/v1/meetings/{m}/audit",
        f"/api/v1/meetings/{m}/adjustments", f"/api/v1/meetings/{m}/live", f"/api/v1/meetings/{m}/diagnostics",
        f"/api/v1/meetings/{m}/surveys",
        *[f"/api/v1/meetings/{m}/snapshots/{s}/export.{fmt}" for fmt in ("json", "xlsx", "csv", "pdf")],
        f"/api/v1/public/meetings/{m}/results", *[f"/api/v1/public/meetings/{m}/export.{fmt}" for fmt in ("json", "xlsx", "csv", "pdf")],
        "/admin/voting/ballot/", f"/admin/voting/ballot/{Ballot.objects.first().pk}/change/", "/admin/voting/ballotvalue/",
        "/admin/reports/resultsnapshot/", "/admin/meetings/auditentry/",
    ]  # fmt: skip
    checked = 0
    for user in (admin, organizer, auditor, None):
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in pages:
            response = client.get(url)
            if response.status_code != 200:
                continue
            text = text_of(response)
            checked += 1
            assert not any(token in text for token in tokens), url
            assert not any(pseudonym in text for pseudonym in pseudonyms), url
            if any(receipt in text for receipt in receipts):
                assert not any(name in text for name in NAMES), url
    assert checked >= 60

    # The seat list names raters and counts their ballots, but shows no ballot.
    client = Client()
    client.force_login(admin)
    seats = client.get(f"/admin/meetings/rater/?meeting__id__exact={m}").content.decode()
    assert "王芳" in seats
    assert not any(receipt in seats for receipt in receipts)
    panel = client.get(f"/admin/meetings/meeting/{m}/panel/").content.decode()
    assert not any(receipt in panel for receipt in receipts)
