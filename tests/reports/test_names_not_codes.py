"""Issue 18: where a person reads (the Chinese pages and exports of the sample meeting), no role, category,
component or grade code, and on pages no score with 4 decimals (people see 2; the API and exports keep 4)."""

import io
import re
import subprocess
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.publicity import contact_grant
from reports.services import adjustment_add, snapshot_compute, snapshot_publish, veto_set
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db

FOUR_DECIMALS = re.compile(r"(?<![\d.])\d{1,4}\.\d{4}(?!\d)")


def visible_text(html: str) -> str:
    html = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", html)


def codes_in(text: str, codes: set[str]) -> list[str]:
    return sorted(code for code in codes if re.search(rf"(?<![A-Za-z0-9_]){re.escape(code)}(?![A-Za-z0-9_])", text))


def test_pages_and_exports_show_names_and_pages_two_decimals(sample_document, tmp_path):
    from appraisal.models import Category, Grade, RaterRole
    from meetings.models import Component

    meeting = meeting_import(document=sample_document, actor=None).meeting
    ballots_simulate(meeting=meeting, seed=18)
    User = get_user_model()
    organizer = User.objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    adjustment_add(
        meeting=meeting, department_code="D02", points=Decimal("-2.5"), reason="通报批评一次", actor=organizer, ip=None
    )
    veto_set(meeting=meeting, department_code="D05", reason="发生重大安全事故", actor=organizer, ip=None)
    snapshot = snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    contact = User.objects.create_user("lianluo", password="pw-lianluo-1")
    contact_grant(meeting=meeting, user=contact, department_code="D01", email="", actor=organizer, ip=None)
    codes = (
        set(RaterRole.objects.filter(scheme=meeting.scheme).values_list("code", flat=True))
        | set(Category.objects.filter(scheme=meeting.scheme).values_list("code", flat=True))
        | set(Component.objects.filter(meeting=meeting).values_list("code", flat=True))
        | set(Grade.objects.filter(criterion__role__scheme=meeting.scheme).values_list("code", flat=True))
    )
    client, public, as_contact = Client(), Client(), Client()
    client.force_login(organizer)
    as_contact.force_login(contact)
    m, s = meeting.pk, snapshot.pk
    pages = {
        f"/console/m/{m}/": client,
        f"/console/m/{m}/review/": client,
        f"/console/m/{m}/audit/": client,
        f"/console/m/{m}/paper/": client,
        f"/console/m/{m}/history/D01/": client,
        f"/projector/m/{m}/": client,
        f"/results/m/{m}/": public,
        "/": public,
        f"/feedback/m/{m}/D01/": as_contact,
    }
    found = {}
    for url, who in pages.items():
        response = who.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        found[url] = {"codes": codes_in(text, codes), "four_decimals": FOUR_DECIMALS.findall(text)[:5]}

    exports = {}
    for fmt in ("csv", "xlsx", "pdf"):
        body = client.get(f"/api/v1/meetings/{m}/snapshots/{s}/export.{fmt}").content
        if fmt == "csv":
            exports[fmt] = body.decode("utf-8-sig")
        elif fmt == "xlsx":
            from openpyxl import load_workbook

            workbook = load_workbook(io.BytesIO(body))
            exports[fmt] = " ".join(
                str(c.value) for sheet in workbook.worksheets for row in sheet.iter_rows() for c in row if c.value
            )
        else:
            path = tmp_path / "ranking.pdf"
            path.write_bytes(body)
            exports[fmt] = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    for fmt, text in exports.items():
        found[f"export.{fmt}"] = {"codes": codes_in(text, codes), "four_decimals": []}

    assert len(codes) >= 12  # 5 roles, 5 categories, 4 grades: the search is not empty
    assert codes_in("leadership 四大班子领导", codes) == ["leadership"]  # and it finds a code where there is one
    problems = {where: what for where, what in found.items() if what["codes"] or what["four_decimals"]}
    assert problems == {}, problems
    assert "一票否决" in exports["csv"] and "一票否决" in exports["xlsx"] and "一票否决" in exports["pdf"]
    assert "-2.5000" in exports["csv"]


def test_review_chart_has_category_headings_when_ranks_restart_per_category(small_document):
    meeting = meeting_import(document=small_document(departments=4, rank_within_category=True), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=2)
    snapshot_compute(meeting=meeting)
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    client = Client()
    client.force_login(organizer)

    chart = client.get(f"/console/m/{meeting.pk}/review/").content.decode().split('<ol class="chart-rows">')[1]
    chart = chart.split("</ol>")[0]

    headings = re.findall(r'<li class="chart-heading"><strong>([^<]+)</strong>', chart)
    assert len(headings) >= 2 and len(set(headings)) == len(headings)


def test_roles_without_a_ballot_are_named_in_chinese_on_the_review_page_and_in_exports(small_document):
    from openpyxl import load_workbook

    from meetings.models import Presentation, Rater
    from reports import exports
    from voting.services import ballot_submit, voting_set

    meeting = meeting_import(document=small_document(departments=2, seats=3), actor=None).meeting
    first = Presentation.objects.filter(meeting=meeting).order_by("order").first()
    voting_set(meeting=meeting, presentation_id=first.pk, action="open", actor=None, ip=None)
    # Only the leadership scores the first department: its public role (群众代表) sent no ballot.
    for rater in Rater.objects.filter(meeting=meeting, role__code="leadership"):
        ballot_submit(rater=rater, presentation_id=first.pk, scores={"performance": "50", "innovation": "30"})
    snapshot = snapshot_compute(meeting=meeting)
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(organizer)

    page = visible_text(client.get(f"/console/m/{meeting.pk}/review/").content.decode())
    csv_text = exports.to_csv(snapshot)
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(snapshot))).active
    cells = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value is not None)

    note = "部分评委类别无有效票（权重按比例调整）（群众代表）"
    assert note in page and note in csv_text and note in cells
    assert codes_in(page + csv_text + cells, {"public", "leadership"}) == []
