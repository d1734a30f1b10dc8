"""The setup document as an .xlsx workbook: one sheet per list, key/value sheets
for ``cycle`` and ``meeting``. Converted to the JSON structure and then
validated by the same rules; every problem keeps its JSON path and gains the
sheet and row it came from.
"""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import IO

from celery.exceptions import SoftTimeLimitExceeded
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from appraisal.sheets import SheetRefused, cell_text, xlsx_guard

from .setup_document import SetupInvalid

MAX_BYTES = 10 * 1024 * 1024  # a setup workbook of 73 departments and 300 seats is under 100 KB

LIST_SHEETS: dict[str, list[str]] = {
    "categories": ["code", "name"],
    "departments": ["code", "name", "category"],
    "roles": ["code", "name", "weight", "trim"],
    "criteria": ["role", "code", "name", "kind", "max", "step"],
    "choices": ["role", "criterion", "code", "label", "points"],
    "raters": ["role", "count", "name", "department"],
    "components": ["code", "name", "weight"],
}
# Admins' sheets often carry Chinese headers; both are accepted.
HEADER_ALIASES = {
    "代码": "code",
    "编码": "code",
    "名称": "name",
    "姓名": "name",
    "类别": "category",
    "部门类别": "category",
    "权重": "weight",
    "去掉最高最低分个数": "trim",
    "评委类别": "role",
    "指标": "criterion",
    "类型": "kind",
    "满分": "max",
    "步长": "step",
    "等次": "label",
    "分值": "points",
    "人数": "count",
    "所在部门": "department",
    "部门": "department",
    "键": "key",
    "值": "value",
}
SHEET_ALIASES = {
    "周期": "cycle",
    "大会": "meeting",
    "部门类别": "categories",
    "部门": "departments",
    "评委类别": "roles",
    "测评指标": "criteria",
    "等次": "choices",
    "评委": "raters",
    "其他考核": "components",
}
MAX_ROWS = 60000


def _cell_value(cell, where: str, problems: list[dict]):
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
        problems.append({"path": where, "message": _("Formulas are not accepted; paste the values instead.")})
        return None
    if isinstance(value, float):
        # Excel stores every number as a binary float; its shortest repr is what the admin typed.
        return Decimal(repr(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        value = cell_text(value)
        return value or None
    return value


def _rows(sheet, title: str, problems: list[dict]) -> tuple[list[str], list[tuple[int, dict]]]:
    # A worksheet without a <dimension> element has no max_row until it is read: the rows are counted below.
    if (sheet.max_row or 0) > MAX_ROWS:
        problems.append({"path": title, "message": _("At most %(n)d rows.") % {"n": MAX_ROWS}})
        return [], []
    rows = sheet.iter_rows()
    try:
        header_cells = next(rows)
    except StopIteration:
        return [], []
    headers = []
    for cell in header_cells:
        raw = str(cell.value).strip() if cell.value is not None else ""
        headers.append(HEADER_ALIASES.get(raw, raw.lower()))
    out = []
    for row_no, row in enumerate(rows, start=2):
        if len(out) > MAX_ROWS:
            problems.append({"path": title, "message": _("At most %(n)d rows.") % {"n": MAX_ROWS}})
            return [], []
        values = {}
        for column, (header, cell) in enumerate(zip(headers, row, strict=False), start=1):
            if not header:
                continue
            value = _cell_value(cell, f"{title}!{get_column_letter(column)}{row_no}", problems)
            if value is not None:
                values[header] = value
        if values:
            out.append((row_no, values))
    return headers, out


def setup_bytes_checked(fileobj: IO[bytes]) -> bytes:
    """The workbook's bytes once its size and zip directory pass (appraisal.sheets.xlsx_guard): what the
    web tier checks before a worker parses it."""
    data = fileobj.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SetupInvalid(
            [{"path": "", "message": _("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // 2**20}}]
        )
    try:
        xlsx_guard(data)
    except SheetRefused as exc:
        raise SetupInvalid([{"path": "", "message": str(exc)}]) from exc
    return data


def workbook_to_document(fileobj: IO[bytes]) -> tuple[dict, dict[str, str]]:
    """Read a setup workbook. Returns the document and, per JSON path, the sheet row it came from.

    Whatever the file holds, the answer is the document or SetupInvalid with its problems: a file refused
    before parsing (appraisal.sheets.xlsx_guard), or one whose XML breaks while it is read, says so.
    The API has a worker run this (meetings.sheet_reading); the command line runs it itself."""
    data = setup_bytes_checked(fileobj)
    try:
        return _workbook_to_document(io.BytesIO(data))
    except (SetupInvalid, MemoryError, SoftTimeLimitExceeded):  # a worker's limits are reported as such
        raise
    except Exception as exc:  # broken worksheet XML surfaces while rows are read, in many kinds
        raise SetupInvalid(
            [
                {
                    "path": "",
                    "message": _("The workbook cannot be read (%(error)s). Save it again as .xlsx.") % {"error": exc},
                }
            ]
        ) from exc


def _workbook_to_document(fileobj: IO[bytes]) -> tuple[dict, dict[str, str]]:
    try:
        workbook = load_workbook(fileobj, read_only=True, data_only=False)
    except (MemoryError, SoftTimeLimitExceeded):
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SetupInvalid(
            [{"path": "", "message": _("Not a readable .xlsx workbook: %(error)s") % {"error": exc}}]
        ) from exc
    problems: list[dict] = []
    sheets = {}
    for sheet in workbook.worksheets:
        name = SHEET_ALIASES.get(sheet.title.strip(), sheet.title.strip().lower())
        sheets[name] = sheet
    document: dict = {}
    locations: dict[str, str] = {}

    for key in ("cycle", "meeting"):
        if key not in sheets:
            problems.append({"path": key, "message": _('The workbook has no sheet "%(name)s".') % {"name": key}})
            continue
        _headers, rows = _rows(sheets[key], key, problems)
        section: dict = {}
        for row_no, values in rows:
            dotted = str(values.get("key", "")).strip()
            if not dotted:
                continue
            value = values.get("value")
            if dotted == "tie_break_roles":
                value = [v.strip() for v in str(value or "").split(",") if v.strip()]
            elif dotted in ("rank_within_category", "invalid_ballots.uniform"):
                value = (
                    str(value).strip().lower() in {"true", "1", "yes", "是"} if not isinstance(value, bool) else value
                )
            if (
                dotted in ("invalid_ballots.uniform_min", "streak_rule.repeat_admonition", "streak_rule.repeat_reward")
                and isinstance(value, float)
                and value.is_integer()
            ):
                value = int(value)  # a spreadsheet's numbers are floats
            target = section
            parts = dotted.split(".")
            for part in parts[:-1]:
                target = target.setdefault(part, {})
                if not isinstance(target, dict):
                    break
            if not isinstance(target, dict) or isinstance(target.get(parts[-1]), dict):
                # "reward" beside "reward.top_percent", or "title.sub" beside "title": one must go.
                problems.append(
                    {
                        "path": f"{key}!{row_no}",
                        "message": _('The key "%(key)s" clashes with another row that sets part of it.')
                        % {"key": dotted},
                    }
                )
                continue
            target[parts[-1]] = value
            locations[f"{key}.{dotted}"] = f"{key}!{row_no}"
        if key == "meeting" and isinstance(section.get("final"), dict):
            section["final"] = final_from_sheet(section["final"])
        document[key] = section

    lists: dict[str, list[tuple[int, dict]]] = {}
    for key in LIST_SHEETS:
        if key not in sheets:
            if key not in {"components", "choices"}:
                problems.append({"path": key, "message": _('The workbook has no sheet "%(name)s".') % {"name": key}})
            lists[key] = []
            continue
        headers, rows = _rows(sheets[key], key, problems)
        for column in LIST_SHEETS[key]:
            if rows and column not in headers and column not in {"trim", "count", "name", "department", "max", "step"}:
                problems.append({"path": key, "message": _('The sheet has no column "%(name)s".') % {"name": column}})
        lists[key] = rows

    def plain(rows, key, columns):
        out = []
        for i, (row_no, values) in enumerate(rows):
            out.append(
                {c: values[c] for c in columns if c in values} | {k: v for k, v in values.items() if k not in columns}
            )
            locations[f"{key}[{i}]"] = f"{key}!{row_no}"
        return out

    document["categories"] = plain(lists["categories"], "categories", LIST_SHEETS["categories"])
    document["departments"] = plain(lists["departments"], "departments", LIST_SHEETS["departments"])
    document["raters"] = plain(lists["raters"], "raters", LIST_SHEETS["raters"])
    if lists["components"]:
        document["components"] = plain(lists["components"], "components", LIST_SHEETS["components"])

    roles = []
    for i, (row_no, values) in enumerate(lists["roles"]):
        role = dict(values)
        role["criteria"] = []
        locations[f"roles[{i}]"] = f"roles!{row_no}"
        roles.append(role)
    role_index = {str(r.get("code")): i for i, r in enumerate(roles)}
    for row_no, values in lists["criteria"]:
        values = dict(values)
        role_code = str(values.pop("role", ""))
        if role_code not in role_index:
            problems.append(
                {"path": f"criteria!{row_no}", "message": _('Unknown role "%(code)s".') % {"code": role_code}}
            )
            continue
        i = role_index[role_code]
        if values.get("kind") == "grade":
            values.pop("max", None)
            values.pop("step", None)
            values["choices"] = []
        locations[f"roles[{i}].criteria[{len(roles[i]['criteria'])}]"] = f"criteria!{row_no}"
        roles[i]["criteria"].append(values)
    for row_no, values in lists["choices"]:
        values = dict(values)
        role_code, criterion_code = str(values.pop("role", "")), str(values.pop("criterion", ""))
        criterion = None
        if role_code in role_index:
            for j, crit in enumerate(roles[role_index[role_code]]["criteria"]):
                if str(crit.get("code")) == criterion_code and "choices" in crit:
                    criterion = crit
                    path = f"roles[{role_index[role_code]}].criteria[{j}].choices[{len(crit['choices'])}]"
        if criterion is None:
            problems.append(
                {
                    "path": f"choices!{row_no}",
                    "message": _('No grade criterion "%(criterion)s" in role "%(role)s".')
                    % {"criterion": criterion_code, "role": role_code},
                }
            )
            continue
        locations[path] = f"choices!{row_no}"
        criterion["choices"].append(values)
    document["roles"] = roles
    if problems:
        raise SetupInvalid(problems)
    return document, locations


def locate_errors(errors: list[dict], locations: dict[str, str]) -> list[dict]:
    """Add the sheet and row to each error whose JSON path came from a row of the workbook."""
    located = []
    for error in errors:
        path = error["path"]
        best = ""
        for prefix in locations:
            if (path == prefix or path.startswith(prefix + ".") or path.startswith(prefix + "[")) and len(prefix) > len(
                best
            ):
                best = prefix
        located.append(error | {"location": locations[best]} if best else error)
    return located


def document_to_workbook(document: dict) -> Workbook:
    """Write a setup document as a workbook (the downloadable template, and round trips in tests)."""
    workbook = Workbook()
    workbook.remove(workbook.active)

    def flat(prefix: str, value, out: list):
        if isinstance(value, dict):
            for k, v in value.items():
                flat(f"{prefix}.{k}" if prefix else k, v, out)
        elif isinstance(value, list):
            out.append((prefix, ",".join(str(v) for v in value)))
        else:
            out.append((prefix, value if not isinstance(value, Decimal) else str(value)))

    for key in ("cycle", "meeting"):
        sheet = workbook.create_sheet(key)
        sheet.append(["key", "value"])
        rows: list = []
        section = dict(document.get(key, {}))
        final = section.pop("final", None) if key == "meeting" else None
        flat("", section, rows)
        if final:
            rows += final_rows(final)
        for row in rows:
            sheet.append(list(row))

    def table(name: str, items: list[dict]):
        sheet = workbook.create_sheet(name)
        sheet.append(LIST_SHEETS[name])
        for item in items:
            sheet.append([_plain(item.get(column)) for column in LIST_SHEETS[name]])

    table("categories", document.get("categories", []))
    table("departments", document.get("departments", []))
    table("roles", document.get("roles", []))
    criteria, choices = [], []
    for role in document.get("roles", []):
        for crit in role.get("criteria", []):
            criteria.append({"role": role["code"]} | crit)
            for choice in crit.get("choices", []):
                choices.append({"role": role["code"], "criterion": crit["code"]} | choice)
    table("criteria", criteria)
    table("choices", choices)
    table("raters", document.get("raters", []))
    table("components", document.get("components", []))
    return workbook


def final_rows(final: dict) -> list[tuple[str, str]]:
    """meeting.final as key/value rows of the meeting sheet: final.coefficients.1.map.bands reads
    "95:1.02, 90:1.00, 0:0.94" (min:coefficient), one row per coefficient field."""
    rows = [("final.formula", final.get("formula", ""))]
    if "base" in final:
        rows.append(("final.base", final["base"]))
    for i, item in enumerate(final.get("coefficients", []), start=1):
        rows.append((f"final.coefficients.{i}.source", item.get("source", "")))
        mapping = item.get("map", {})
        rows.append((f"final.coefficients.{i}.map.kind", mapping.get("kind", "")))
        if "full" in mapping:
            rows.append((f"final.coefficients.{i}.map.full", str(mapping["full"])))
        if "bands" in mapping:
            bands = ", ".join(f"{b['min']}:{b['coefficient']}" for b in mapping["bands"])
            rows.append((f"final.coefficients.{i}.map.bands", bands))
    return rows


def final_from_sheet(final: dict) -> dict:
    """The rows of final_rows back into meeting.final: numbered coefficients into a list, band text into
    band objects. What cannot be read is passed on as it is, for the document's checks to name."""
    out = dict(final)
    coefficients = out.get("coefficients")
    if isinstance(coefficients, dict):
        items = []
        for key in sorted(coefficients, key=lambda k: int(k) if str(k).isdigit() else 10**9):
            item = coefficients[key]
            mapping = item.get("map") if isinstance(item, dict) else None
            if isinstance(mapping, dict) and isinstance(mapping.get("bands"), str):
                bands = []
                for part in mapping["bands"].replace("，", ",").split(","):
                    low, sep, coefficient = part.strip().partition(":")
                    bands.append({"min": low.strip(), "coefficient": coefficient.strip()} if sep else part.strip())
                mapping["bands"] = bands
            items.append(item)
        out["coefficients"] = items
    return out


def _plain(value):
    return str(value) if isinstance(value, Decimal) else value


def blank_setup_workbook(example: dict) -> Workbook:
    """The setup workbook an admin starts from: every sheet, Chinese sheet names and column names, and one
    example row per list (taken from ``example``, a whole setup document). It reads back as it is."""
    one = {key: value for key, value in example.items() if key in ("cycle", "meeting")}
    for key in ("categories", "departments", "raters", "components"):
        if example.get(key):
            one[key] = example[key][:1]
    # A role scored by points and one scored by grades (等次), one criterion each, so every sheet has a row.
    scored = next(r for r in example["roles"] if not any(c.get("choices") for c in r.get("criteria", [])))
    graded = next((r for r in example["roles"] if any(c.get("choices") for c in r.get("criteria", []))), None)
    roles = [scored | {"criteria": scored["criteria"][:1]}]
    if graded is not None:
        criterion = next(c for c in graded["criteria"] if c.get("choices"))
        roles.append(graded | {"criteria": [criterion | {"choices": criterion["choices"][:2]}]})
    one["roles"] = roles
    one["raters"] = [r for r in example.get("raters", []) if r.get("role") == scored["code"]][:1]
    one["departments"] = [
        d for d in example.get("departments", []) if d.get("category") == one["categories"][0]["code"]
    ][:1]
    workbook = document_to_workbook(one)
    sheet_names = {english: chinese for chinese, english in SHEET_ALIASES.items()}
    headers = {
        "code": "代码",
        "name": "名称",
        "category": "部门类别",
        "weight": "权重",
        "trim": "去掉最高最低分个数",
        "role": "评委类别",
        "criterion": "指标",
        "kind": "类型",
        "max": "满分",
        "step": "步长",
        "label": "等次",
        "points": "分值",
        "count": "人数",
        "department": "所在部门",
        "key": "键",
        "value": "值",
    }
    for sheet in workbook.worksheets:
        english = sheet.title
        sheet.title = sheet_names.get(english, english)
        for cell in sheet[1]:
            if english == "raters" and cell.value == "name":
                cell.value = "姓名"
            else:
                cell.value = headers.get(cell.value, cell.value)
    return workbook
