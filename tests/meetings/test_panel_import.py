"""Rater panels and departments from admins' sheets: checked by row and column, then all or nothing."""

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from meetings.models import Department, PanelImport, Presentation, Rater
from meetings.panel_sheets import SheetInvalid
from meetings.services import meeting_import, panel_import_commit, panel_import_preview

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(small_document):
    return meeting_import(document=small_document(departments=3, seats=2), actor=None).meeting


def xlsx(rows) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    return out


def preview(meeting, rows, kind="raters", name="panel.xlsx"):
    return panel_import_preview(meeting=meeting, kind=kind, fileobj=xlsx(rows), filename=name, actor=None)


def counts():
    return Rater.objects.count(), Department.objects.count(), Presentation.objects.count(), PanelImport.objects.count()


def test_panel_sheet_with_chinese_headers_and_names_imports(meeting):
    rows = [
        ["评委类别", "人数", "姓名", "所在部门"],
        ["群众代表", 5, None, None],
        ["leadership", 2, None, None],
        ["四大班子领导", None, "张伟", "测试部门2"],
        ["public", None, "李娜", "D03"],
    ]
    before = Rater.objects.filter(meeting=meeting).count()

    pending = preview(meeting, rows)
    assert Rater.objects.filter(meeting=meeting).count() == before  # the preview saves no seat
    issued = panel_import_commit(panel_import=pending, actor=None, ip=None)

    assert len(issued) == 9
    assert Rater.objects.filter(meeting=meeting).count() == before + 9
    zhang = Rater.objects.get(meeting=meeting, name="张伟")
    assert (zhang.role.code, zhang.department.code) == ("leadership", "D02")
    assert [i.seat_no for i in issued] == list(range(before + 1, before + 10))
    with pytest.raises(Exception, match="already"):
        panel_import_commit(panel_import=pending, actor=None, ip=None)


PROBLEMS = [
    ("missing column", [["姓名", "人数"], ["王芳", None]], 1, None),
    ("unknown role", [["评委类别", "人数"], ["市长", 3]], 2, "评委类别"),
    ("unknown department", [["评委类别", "姓名", "所在部门"], ["群众代表", "赵六", "不存在的局"]], 2, "所在部门"),
    ("duplicate name", [["评委类别", "姓名"], ["群众代表", "钱七"], ["群众代表", "钱七"]], 3, "姓名"),
    ("name already on the panel", [["评委类别", "姓名"], ["群众代表", "王芳"]], 2, "姓名"),
    ("bad number", [["评委类别", "人数"], ["群众代表", "三十"]], 2, "人数"),
    ("fraction of a seat", [["评委类别", "人数"], ["群众代表", 2.5]], 2, "人数"),
    (
        "neither name nor count",
        [["评委类别", "人数", "姓名"], ["群众代表", None, None], ["群众代表", 1, None]],
        2,
        "姓名",
    ),
    ("formula cell", [["评委类别", "人数"], ["群众代表", "=2+3"]], 2, "人数"),
]


@pytest.mark.parametrize(("name", "rows", "row", "column"), PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_panel_sheet_problem_reported_by_row_and_column_nothing_saved(meeting, name, rows, row, column):
    before = counts()

    with pytest.raises(SheetInvalid) as info:
        preview(meeting, rows)

    assert any(p["row"] == row and p["column"] == column for p in info.value.problems), info.value.problems
    assert all(p["message"] for p in info.value.problems)
    assert counts() == before


def test_empty_sheet_refused(meeting):
    before = counts()

    with pytest.raises(SheetInvalid) as header_only:
        preview(meeting, [["评委类别", "人数"]])
    with pytest.raises(SheetInvalid) as empty_file:
        panel_import_preview(meeting=meeting, kind="raters", fileobj=io.BytesIO(b""), filename="x.xlsx", actor=None)
    with pytest.raises(SheetInvalid):
        preview(meeting, [])

    assert "没有数据行" in header_only.value.problems[0]["message"] or header_only.value.problems
    assert empty_file.value.problems[0]["message"]
    assert counts() == before


def test_fifty_thousand_row_sheet_refused_quickly_with_a_message(meeting):
    rows = [["评委类别", "姓名"]] + [["群众代表", f"评委{i}"] for i in range(50000)]
    before = counts()

    with pytest.raises(SheetInvalid) as info:
        preview(meeting, rows)

    assert "20000" in info.value.problems[0]["message"]
    assert counts() == before


def test_csv_panel_in_gb18030_imports(meeting):
    text = "评委类别,人数\n群众代表,4\n".encode("gb18030")

    pending = panel_import_preview(
        meeting=meeting, kind="raters", fileobj=io.BytesIO(text), filename="panel.csv", actor=None
    )

    assert len(panel_import_commit(panel_import=pending, actor=None, ip=None)) == 4


def test_department_sheet_appends_to_the_agenda(meeting):
    pending = preview(
        meeting,
        [["部门代码", "部门名称", "部门类别"], ["D10", "区审计局", "经济部门"], ["D11", "区档案馆", "party"]],
        kind="departments",
    )
    panel_import_commit(panel_import=pending, actor=None, ip=None)

    agenda = list(
        Presentation.objects.filter(meeting=meeting).order_by("order").values_list("department__code", "order")
    )
    assert agenda[-2:] == [("D10", 4), ("D11", 5)]


def test_department_sheet_problems_nothing_saved(meeting):
    before = counts()

    with pytest.raises(SheetInvalid) as info:
        preview(
            meeting,
            [["部门代码", "部门名称", "部门类别"], ["D01", "重复", "party"], ["D12", "", "未知类别"]],
            kind="departments",
        )

    assert {(p["row"], p["column"]) for p in info.value.problems} == {(2, "部门代码"), (3, "部门名称"), (3, "部门类别")}
    assert counts() == before


def test_import_panel_command_writes_cards(meeting, tmp_path):
    sheet = tmp_path / "panel.xlsx"
    sheet.write_bytes(xlsx([["评委类别", "人数"], ["群众代表", 3]]).getvalue())
    cards = tmp_path / "cards.pdf"

    call_command("import_panel", str(meeting.pk), str(sheet), "--cards", str(cards), stdout=io.StringIO())
    with pytest.raises(CommandError, match="row 2"):
        bad = tmp_path / "bad.xlsx"
        bad.write_bytes(xlsx([["评委类别", "人数"], ["市长", 3]]).getvalue())
        call_command("import_panel", str(meeting.pk), str(bad), "--cards", str(tmp_path / "x.pdf"))

    assert cards.read_bytes().startswith(b"%PDF")


def test_admin_panel_page_previews_then_downloads_cards(admin_client, meeting):
    url = f"/admin/meetings/meeting/{meeting.pk}/panel/"
    page = admin_client.get(url).content.decode()
    upload = xlsx([["评委类别", "人数"], ["群众代表", 2]])
    upload.name = "panel.xlsx"

    checked = admin_client.post(url, {"kind": "raters", "file": upload})
    pending = PanelImport.objects.get()
    confirmed = admin_client.post(url, {"confirm": str(pending.pk)})

    assert "群众代表" in page
    assert checked.status_code == 200 and str(pending.pk) in checked.content.decode()
    preview = checked.content.decode().split("<thead>", 1)[1]
    assert "<th>评委类别</th>" in preview and "<td>群众代表</td>" in preview and "<td>public</td>" not in preview
    assert confirmed["Content-Type"] == "application/pdf" and confirmed.content.startswith(b"%PDF")
    assert Rater.objects.filter(meeting=meeting).count() == 7


def test_admin_panel_summary_warns_about_too_few_seats_for_trim(admin_client, meeting):
    page = admin_client.get(f"/admin/meetings/meeting/{meeting.pk}/panel/").content.decode()

    assert "2 个席位无法去掉 1 个最高分和 1 个最低分" in page  # leadership: 2 seats, trim 1
