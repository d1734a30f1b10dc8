"""Issue 17: what offices and attackers really upload. Every file is made here: bombs, entity tricks,
broken XML, legacy .xls, CSV in disguise, title rows, full-width digits, GBK and BOM CSV; each is answered
with a message (sheet, row, column where there is one), never a 5xx, and nothing is saved."""

import io
import time
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from openpyxl.styles import Font

from meetings.panel_sheets import SheetInvalid, department_rows, read_rows
from meetings.setup_document import SetupInvalid
from meetings.setup_workbook import workbook_to_document

# A file that passes the web tier's checks is read through a SheetJob row (meetings.sheet_reading).
pytestmark = pytest.mark.django_db


def xlsx(rows: list[list], *, styled_row: int | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    if styled_row:
        sheet.cell(row=styled_row, column=1).font = Font(bold=True)  # an empty cell with a style
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def with_part(data: bytes, name: str, content: bytes, *, drop: str | None = None) -> bytes:
    """The workbook with one part replaced (or added), and maybe one removed."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename not in (name, drop):
                target.writestr(item, source.read(item.filename))
        target.writestr(name, content)
    return out.getvalue()


SHEET = "xl/worksheets/sheet1.xml"
HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def shared_strings_bomb() -> bytes:
    many = b"<si><t>a</t></si>" * 3_000_000
    part = HEAD + b"<sst " + NS + b' count="6000000" uniqueCount="6000000">' + many + b"</sst>"
    return with_part(xlsx([["评委类别", "人数"], ["群众代表", 3]]), "xl/sharedStrings.xml", part)


def entity_sheet(kind: str) -> bytes:
    if kind == "xxe":
        doctype = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        cell = b'<c r="A2" t="inlineStr"><is><t>&e;</t></is></c>'
    else:
        doctype = (
            b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            + b"".join(
                b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">' % ((c,) + (c - 1,) * 10)
                for c in range(ord("c"), ord("j"))
            )
            + b"]>"
        )
        cell = b'<c r="A2" t="inlineStr"><is><t>&i;</t></is></c>'
    body = HEAD + doctype + b"<worksheet " + NS + b'><sheetData><row r="1">' + cell + b"</row></sheetData></worksheet>"
    return with_part(xlsx([["评委类别", "人数"]]), SHEET, body)


def broken_sheet() -> bytes:
    return with_part(xlsx([["评委类别", "人数"]]), SHEET, HEAD + b"<worksheet " + NS + b'><sheetData><row r="1"><c r=')


def no_dimension(rows: list[list]) -> bytes:
    data = xlsx(rows)
    part = zipfile.ZipFile(io.BytesIO(data)).read(SHEET)
    start = part.index(b"<dimension")
    end = part.index(b"/>", start) + 2
    return with_part(data, SHEET, part[:start] + part[end:])


HOSTILE = {
    "shared strings bomb": shared_strings_bomb,
    "external entity": lambda: entity_sheet("xxe"),
    "billion laughs": lambda: entity_sheet("laughs"),
    "broken worksheet XML": broken_sheet,
    "legacy .xls": lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2000,
    "CSV renamed .xlsx": lambda: "评委类别,人数\n群众代表,3\n".encode(),
    "random bytes": lambda: bytes(range(256)) * 40,
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_sheets_are_refused_with_a_message_in_milliseconds(name):
    data = HOSTILE[name]()
    started = time.perf_counter()
    with pytest.raises(SheetInvalid) as refused:
        read_rows(io.BytesIO(data), "sheet.xlsx")
    elapsed = time.perf_counter() - started

    message = refused.value.problems[0]["message"]
    assert message and "Traceback" not in message
    print(f"{name}: {len(data)} bytes refused in {elapsed * 1000:.0f} ms: {message}")
    if name == "legacy .xls":
        assert ".xlsx" in message and ".xls" in message
    if name == "CSV renamed .xlsx":
        assert ".csv" in message


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_setup_workbooks_are_refused_with_a_message(name):
    with pytest.raises(SetupInvalid) as refused:
        workbook_to_document(io.BytesIO(HOSTILE[name]()))
    assert refused.value.errors[0]["message"]


def setup_workbook(meeting_rows: list[list]) -> bytes:
    workbook = Workbook()
    workbook.active.title = "meeting"
    for row in [["key", "value"], *meeting_rows]:
        workbook.active.append(row)
    workbook.create_sheet("cycle").append(["key", "value"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "rows",
    [
        [["title", "大会"], ["reward", 3], ["reward.top_percent", 10]],
        [["reward.top_percent", 10], ["reward", 3]],
        [["title", "大会"], ["title.sub", "副标题"]],
    ],
)
def test_setup_workbook_clashing_keys_are_a_problem_with_its_row(rows):
    with pytest.raises(SetupInvalid) as refused:
        workbook_to_document(io.BytesIO(setup_workbook(rows)))
    clash = [e for e in refused.value.errors if "clashes" in e["message"] or "冲突" in e["message"]]
    assert clash and clash[0]["path"].startswith("meeting!")


def test_setup_workbook_without_dimension_is_read():
    data = no_dimension([["key", "value"], ["title", "大会"]])
    data = with_part(data, "xl/workbook.xml", zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml"))
    with pytest.raises(SetupInvalid) as refused:  # it lacks every other sheet: a plain list of problems
        workbook_to_document(io.BytesIO(data))
    assert all(e["message"] for e in refused.value.errors)


def test_panel_sheet_without_dimension_is_read():
    header, rows = read_rows(io.BytesIO(no_dimension([["评委类别", "人数"], ["群众代表", 3]])), "p.xlsx")
    assert header == ["评委类别", "人数"] and rows == [(2, {"评委类别": "群众代表", "人数": 3})]


def test_title_row_above_the_header_is_passed_over_xlsx_and_csv():
    rows = [
        ["2021年度测评人员名单"],
        ["评委类别", "人数", "姓名"],
        ["群众代表", 3, None],
        ["四大班子领导", None, "王　芳"],
    ]
    header, found = read_rows(io.BytesIO(xlsx(rows)), "p.xlsx")
    csv_header, csv_found = read_rows(
        io.BytesIO("2021年度测评人员名单,,\n评委类别,人数,姓名\n群众代表,3,\n四大班子领导,,王　芳\n".encode("gb18030")),
        "p.csv",
    )

    assert header == csv_header == ["评委类别", "人数", "姓名"]
    assert found[0][0] == csv_found[0][0] == 3 and found[1][1]["姓名"] == csv_found[1][1]["姓名"] == "王芳"


def test_full_width_digits_and_spaces_are_normalised():
    _header, found = read_rows(
        io.BytesIO(xlsx([["部门", "年度考核"], ["Ｄ０１", "１８．５"], ["张　三", "９０"]])), "c.xlsx"
    )
    assert found == [(2, {"部门": "D01", "年度考核": "18.5"}), (3, {"部门": "张三", "年度考核": "90"})]


def test_bom_and_gbk_csv_read_alike():
    text = "评委类别,人数\n群众代表,3\n"
    bom = read_rows(io.BytesIO(("\ufeff" + text).encode("utf-8")), "p.csv")
    gbk = read_rows(io.BytesIO(text.encode("gbk")), "p.csv")
    assert bom == gbk == (["评委类别", "人数"], [(2, {"评委类别": "群众代表", "人数": "3"})])


def test_a_styled_empty_cell_far_below_counts_no_row():
    _header, found = read_rows(io.BytesIO(xlsx([["评委类别", "人数"], ["群众代表", 3]], styled_row=25_000)), "p.xlsx")
    assert len(found) == 1


@pytest.mark.parametrize(
    "code,existing",
    [("DО1", set()), ("DO1", {"D01"}), ("d01", {"D01"}), ("..", set()), ("Ｄ０２", set()), ("D 01", set())],
)
def test_codes_must_be_printable_ascii_and_not_look_alike(code, existing):
    categories = {"党群部门": "party", "party": "party"}
    with pytest.raises(SheetInvalid) as refused:
        department_rows(
            ["code", "name", "category"],
            [(2, {"code": code, "name": "某部门", "category": "party"})],
            categories=categories,
            existing_codes=existing,
        )
    assert refused.value.problems[0]["row"] == 2 and refused.value.problems[0]["column"] == "code"


@pytest.mark.django_db
def test_uploads_through_the_api_answer_4xx_and_save_nothing(small_document, api_client):
    from meetings.models import Meeting
    from meetings.services import meeting_import
    from voting.models import Ballot

    admin = get_user_model().objects.create_superuser("root", password="pw-root-12345")
    meeting = meeting_import(document=small_document(departments=2), actor=None).meeting
    api_client.force_authenticate(admin)
    statuses = []
    for name, make in HOSTILE.items():
        data = make()
        for url in ("/api/v1/meetings/import", f"/api/v1/meetings/{meeting.pk}/surveys/public"):
            response = api_client.post(url, {"file": SimpleUploadedFile("x.xlsx", data)}, format="multipart")
            statuses.append((name, url, response.status_code))
            assert response.json()["errors"] or response.json()["detail"]

    assert all(400 <= code < 500 for _name, _url, code in statuses), statuses
    assert Meeting.objects.count() == 1 and Ballot.objects.count() == 0


@pytest.mark.django_db
def test_templates_each_at_their_own_url_and_an_unknown_name_is_404(admin_client):
    from openpyxl import load_workbook

    setup = admin_client.get("/admin/meetings/meeting/template/setup.xlsx")
    others = {
        k: admin_client.get(f"/admin/meetings/meeting/template/{k}.xlsx") for k in ("raters", "departments", "contacts")
    }
    unknown = admin_client.get("/admin/meetings/meeting/template/anything.xlsx")

    workbook = load_workbook(io.BytesIO(setup.content))
    titles = [sheet.title for sheet in workbook.worksheets]
    document, _locations = workbook_to_document(io.BytesIO(setup.content))
    assert setup.status_code == 200 and unknown.status_code == 404
    assert titles == ["周期", "大会", "部门类别", "部门", "评委类别", "测评指标", "等次", "评委", "其他考核"]
    for sheet in workbook.worksheets:
        header = [c.value for c in sheet[1]]
        assert all(h and not h.isascii() for h in header), (sheet.title, header)
        assert sheet.max_row >= 2 or (sheet.title == "其他考核" and not document.get("components")), sheet.title
    assert document["departments"] and document["roles"] and document["raters"]
    assert all(r.status_code == 200 for r in others.values())
    assert [c.value for c in load_workbook(io.BytesIO(others["contacts"].content)).active[1]] == [
        "部门代码",
        "用户名",
        "邮箱",
    ]
