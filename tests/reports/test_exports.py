"""Exports carry the snapshot's numbers digit for digit; the ballot export verifies from itself alone."""

import io
import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from guardian.shortcuts import assign_perm
from openpyxl import load_workbook

from reports import exports
from reports.services import snapshot_compute, snapshot_publish
from tests.browser import ARTIFACTS
from voting.models import Ballot

pytestmark = pytest.mark.django_db


@pytest.fixture
def snapshot(voted_meeting):
    return snapshot_compute(meeting=voted_meeting)


def test_xlsx_holds_the_snapshot_numbers(snapshot):
    workbook = load_workbook(io.BytesIO(exports.to_xlsx(snapshot)))
    sheet = workbook.worksheets[0]
    header = [c.value for c in sheet[1]]
    final_col, rank_col, code_col = header.index("最终得分"), header.index("排名"), header.index("部门代码")

    table = {row[code_col]: row for row in sheet.iter_rows(min_row=2, values_only=True)}

    assert len(table) == len(snapshot.rows)
    for row in snapshot.rows:
        cells = table[row["department"]]
        assert cells[rank_col] == row["rank"]
        assert Decimal(str(cells[final_col])).quantize(Decimal("0.0001")) == Decimal(row["final"])
    assert [ws.title for ws in workbook.worksheets] == ["排名", "评委类别 leadership", "评委类别 public", "说明"]
    leadership = workbook.worksheets[1]
    assert leadership.cell(2, 3).value is not None and leadership.cell(2, 4).value > 0


def test_csv_neutralises_formula_cells(snapshot):
    snapshot.rows[0]["name"] = '=HYPERLINK("http://evil","x")'
    snapshot.rows[1]["name"] = "@SUM(A1)"

    text = exports.to_csv(snapshot)

    assert text.startswith("\ufeff")
    assert "'=HYPERLINK" in text and "'@SUM" in text
    assert snapshot.digest in text


def test_pdf_embeds_a_cjk_font_and_renders_chinese(snapshot, tmp_path):
    pdf = tmp_path / "ranking.pdf"
    pdf.write_bytes(exports.to_pdf(snapshot))

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(ARTIFACTS / "ranking-pdf")], check=True
    )

    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line or "KaopingCJK" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts
    assert "测试考评大会" in text and "测试部门1" in text
    assert snapshot.digest in text.replace("\n", "")


def test_ballot_export_verifies_and_fails_after_one_change(snapshot, tmp_path):
    path = tmp_path / "ballots.json"
    document = exports.export_document(snapshot)
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    out = io.StringIO()

    call_command("verify_results", str(path), stdout=out)
    assert "Verified" in out.getvalue()

    receipts = {b["receipt"] for b in document["ballots"]}
    assert len(receipts) == snapshot.ballots_counted
    assert not any(key in document["ballots"][0] for key in ("pseudonym", "seat", "name", "token"))

    tampered = json.loads(json.dumps(document))
    ballot = next(b for b in tampered["ballots"] if b["role"] == "leadership")
    code = next(iter(ballot["points"]))
    ballot["points"][code] = str(Decimal(ballot["points"][code]) - Decimal("0.5"))
    path.write_text(json.dumps(tampered, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("verify_results", str(path), stdout=io.StringIO())


def test_ballot_export_with_a_changed_row_fails(snapshot):
    document = exports.export_document(snapshot)
    document["rows"][0]["final"] = "99.9999"

    problems = exports.verify_export(document)

    assert any("final" in p for p in problems)
    assert any("digest" in p for p in problems)


@pytest.fixture
def organizer_api(api_client, voted_meeting):
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, voted_meeting)
    api_client.force_authenticate(user)
    api_client.user = user
    return api_client


def test_export_endpoints_serve_every_format(organizer_api, snapshot):
    base = f"/api/v1/meetings/{snapshot.meeting_id}/snapshots/{snapshot.pk}/export"

    for fmt, magic in (("json", b"{"), ("xlsx", b"PK"), ("csv", "\ufeff".encode()), ("pdf", b"%PDF")):
        response = organizer_api.get(f"{base}.{fmt}")
        assert response.status_code == 200, fmt
        assert response.content.startswith(magic), fmt
    assert organizer_api.get(f"{base}.docx").status_code == 404


def test_public_export_and_receipt_check_only_after_publishing(organizer_api, api_client, snapshot):
    meeting_id = snapshot.meeting_id
    counted = Ballot.objects.filter(presentation__meeting_id=meeting_id).first()
    public = api_client.__class__()

    assert public.get(f"/api/v1/public/meetings/{meeting_id}/export.json").status_code == 404
    assert public.get(f"/api/v1/public/meetings/{meeting_id}/receipts/{counted.receipt}").status_code == 404
    snapshot_publish(meeting=snapshot.meeting, actor=organizer_api.user, ip=None)

    export = public.get(f"/api/v1/public/meetings/{meeting_id}/export.json")
    check = public.get(f"/api/v1/public/meetings/{meeting_id}/receipts/{counted.receipt.lower()}").json()
    unknown = public.get(f"/api/v1/public/meetings/{meeting_id}/receipts/ZZZZZZZZZZZZ").json()

    assert export.status_code == 200 and exports.verify_export(json.loads(export.content)) == []
    assert (check["known"], check["counted"]) == (True, True)
    assert (unknown["known"], unknown["counted"]) == (False, False)


def test_void_by_receipt_audited_and_stops_counting(organizer_api, voted_meeting):
    ballot = Ballot.objects.filter(presentation__meeting=voted_meeting).first()
    url = f"/api/v1/meetings/{voted_meeting.pk}/ballots/void"

    no_reason = organizer_api.post(url, {"receipt": ballot.receipt, "reason": ""}, format="json")
    unknown = organizer_api.post(url, {"receipt": "0000-0000-0000", "reason": "x"}, format="json")
    voided = organizer_api.post(
        url,
        {"receipt": ballot.receipt.lower()[:4] + "-" + ballot.receipt[4:], "reason": "同一人重复投票"},
        format="json",
    )
    again = organizer_api.post(url, {"receipt": ballot.receipt, "reason": "x"}, format="json")

    assert (no_reason.status_code, unknown.status_code, voided.status_code, again.status_code) == (400, 404, 200, 409)
    ballot.refresh_from_db()
    assert (ballot.state, ballot.void_reason) == ("void", "同一人重复投票")
    entry = voted_meeting.audit_entries.get(action="ballot.voided")
    assert entry.details["reason"] == "同一人重复投票" and entry.actor == organizer_api.user
    assert (
        snapshot_compute(meeting=voted_meeting).ballots_counted
        == Ballot.objects.filter(presentation__meeting=voted_meeting).count() - 1
    )


def test_pdftoppm_available_for_the_pdf_check():
    assert shutil.which("pdftoppm") and shutil.which("pdffonts")


def test_csv_formula_guard_leaves_numbers_as_numbers(snapshot):
    snapshot.rows[0]["adjustments"] = "-2.5000"
    snapshot.rows[0]["name"] = "-2+3"

    text = exports.to_csv(snapshot)

    assert ",-2.5000," in text and "'-2.5000" not in text
    assert "'-2+3" in text
