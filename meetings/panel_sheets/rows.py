"""The rows of each kind of sheet checked against what exists (roles, departments, categories,
components): the rows to create, or every problem with its row and column. Headers may be English or
Chinese, and a role, department or category may be named by its code or by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from appraisal.numbers import decimal_from_input
from appraisal.sheets import code_problem, code_skeleton

from .reading import SheetInvalid, map_columns, problem

PANEL_COLUMNS = {
    "role": ["role", "评委类别", "类别", "评委类型"],
    "count": ["count", "人数", "席位数"],
    "name": ["name", "姓名", "评委姓名"],
    "department": ["department", "所在部门", "回避部门", "单位"],
}
DEPARTMENT_COLUMNS = {
    "code": ["code", "部门代码", "代码", "编号"],
    "name": ["name", "部门名称", "名称", "部门"],
    "category": ["category", "部门类别", "类别"],
}
SURVEY_FIXED_COLUMNS = {"department": ["department", "部门", "部门代码", "被测评部门"]}


@dataclass(frozen=True)
class PanelRow:
    row: int
    role: str
    count: int
    name: str
    department: str | None


def panel_rows(
    header: list[str],
    rows: list[tuple[int, dict]],
    *,
    roles: dict[str, str],
    departments: dict[str, str],
    existing_names: set[tuple[str, str]],
    max_seats: int,
) -> list[PanelRow]:
    """Rows of a rater panel: anonymous seats (role + count) or one named rater (role + name [+ department]).

    ``roles`` and ``departments`` map codes and names to codes.
    """
    columns = map_columns(header, PANEL_COLUMNS, {"role"})
    if not rows:
        raise SheetInvalid([problem(None, None, _("The sheet has no rows."))])
    problems: list[dict] = []
    out: list[PanelRow] = []
    seen: dict[tuple[str, str], int] = {}
    seats = 0
    for number, values in rows:
        get = {field: values.get(name) for field, name in columns.items()}
        role = roles.get(str(get.get("role") or "").strip())
        if role is None:
            problems.append(
                problem(number, columns["role"], _('Unknown role "%(value)s".') % {"value": get.get("role") or ""})
            )
        name = str(get.get("name") or "").strip()
        count = 1
        if get.get("count") not in (None, ""):
            try:
                count_value = decimal_from_input(get["count"])
                if (
                    count_value is None
                    or count_value != count_value.to_integral_value()
                    or not 1 <= count_value <= 5000
                ):
                    raise InvalidOperation
                count = int(count_value)
            except (InvalidOperation, ValueError):
                problems.append(
                    problem(number, columns["count"], _("The number of seats must be a whole number from 1 to 5000."))
                )
                continue
            if name:
                problems.append(
                    problem(
                        number,
                        columns["name"],
                        _("Give either a number of anonymous seats or one rater's name, not both."),
                    )
                )
        elif not name:
            problems.append(
                problem(
                    number,
                    columns.get("name", columns["role"]),
                    _("Give a rater's name, or a number of anonymous seats."),
                )
            )
        if len(name) > 100:
            problems.append(problem(number, columns["name"], _("At most %(n)d characters.") % {"n": 100}))
        department = None
        if get.get("department") not in (None, ""):
            department = departments.get(str(get["department"]).strip())
            if department is None:
                problems.append(
                    problem(
                        number,
                        columns["department"],
                        _('Unknown department "%(value)s".') % {"value": get["department"]},
                    )
                )
        if name and role:
            key = (role, name)
            if key in existing_names:
                problems.append(problem(number, columns["name"], _("This rater is already on the panel.")))
            elif key in seen:
                problems.append(
                    problem(number, columns["name"], _("Listed twice (also row %(row)d).") % {"row": seen[key]})
                )
            seen.setdefault(key, number)
        seats += count
        if role:
            out.append(PanelRow(row=number, role=role, count=count, name=name, department=department))
    if seats > max_seats:
        problems.append(
            problem(None, columns.get("count"), _("At most %(n)d rater seats in one meeting.") % {"n": max_seats})
        )
    if problems:
        raise SheetInvalid(problems)
    return out


@dataclass(frozen=True)
class DepartmentRow:
    row: int
    code: str
    name: str
    category: str


def department_rows(
    header: list[str], rows: list[tuple[int, dict]], *, categories: dict[str, str], existing_codes: set[str]
) -> list[DepartmentRow]:
    """Rows of a department sheet; ``categories`` maps codes and names to codes."""
    columns = map_columns(header, DEPARTMENT_COLUMNS, {"code", "name", "category"})
    if not rows:
        raise SheetInvalid([problem(None, None, _("The sheet has no rows."))])
    problems: list[dict] = []
    out: list[DepartmentRow] = []
    seen: dict[str, int] = {}
    # What each code looks like (appraisal.sheets.code_skeleton), the agenda's first, then the sheet's.
    looks = {code_skeleton(code): code for code in sorted(existing_codes)}
    for number, values in rows:
        code = str(values.get(columns["code"]) or "").strip()
        name = str(values.get(columns["name"]) or "").strip()
        category = categories.get(str(values.get(columns["category"]) or "").strip())
        if message := code_problem(code):
            problems.append(problem(number, columns["code"], message))
        elif code in existing_codes:
            problems.append(problem(number, columns["code"], _("This department is already in the meeting.")))
        elif code in seen:
            problems.append(
                problem(number, columns["code"], _("Listed twice (also row %(row)d).") % {"row": seen[code]})
            )
        elif (clash := looks.setdefault(code_skeleton(code), code)) != code:
            problems.append(
                problem(
                    number,
                    columns["code"],
                    _(
                        '"%(code)s" looks like the department code "%(other)s": codes must differ in more than '
                        "look-alike letters."
                    )
                    % {"code": code, "other": clash},
                )
            )
        seen.setdefault(code, number)
        if not name or len(name) > 200:
            problems.append(problem(number, columns["name"], _("Must be a non-empty text.")))
        if category is None:
            problems.append(
                problem(
                    number,
                    columns["category"],
                    _('Unknown category "%(code)s".') % {"code": values.get(columns["category"]) or ""},
                )
            )
        out.append(DepartmentRow(row=number, code=code, name=name, category=category or ""))
    if problems:
        raise SheetInvalid(problems)
    return out


def component_rows(
    header: list[str],
    rows: list[tuple[int, dict]],
    *,
    components: dict[str, str],
    departments: dict[str, str],
    full_mark,
) -> list[dict]:
    """Rows of a component-score sheet (SCORING.md 5 and 10): a department column (code or name) and a
    column per component (code or name); other columns are left alone. ``components`` and ``departments``
    map codes and names to codes. Every problem is listed by row and column."""

    from appraisal.numbers import decimal_from_input

    columns = map_columns(header, SURVEY_FIXED_COLUMNS, {"department"})
    by_column = {name: components[name.strip()] for name in header if name.strip() in components}
    if not by_column:
        raise SheetInvalid(
            [
                problem(
                    1,
                    None,
                    _("No column names a component (%(codes)s).")
                    % {"codes": ", ".join(sorted(set(components.values())))},
                )
            ]
        )
    if not rows:
        raise SheetInvalid([problem(None, None, _("The sheet has no rows."))])
    problems: list[dict] = []
    out: list[dict] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        raw = str(values.get(columns["department"]) or "").strip()
        department = departments.get(raw)
        if department is None:
            problems.append(
                problem(number, columns["department"], _('Unknown department "%(value)s".') % {"value": raw})
            )
            continue
        if department in seen:
            problems.append(
                problem(
                    number, columns["department"], _("Listed twice (also row %(row)d).") % {"row": seen[department]}
                )
            )
            continue
        seen[department] = number
        scores = {}
        for column, code in by_column.items():
            value = values.get(column)
            if value is None or str(value).strip() == "":
                continue  # left empty: this component is not set for the department
            number_value = decimal_from_input(value if not isinstance(value, float) else repr(value))
            if number_value is None or number_value != number_value.quantize(Decimal("0.0001")):
                problems.append(problem(number, column, _("Must be a number with at most 4 decimal places.")))
            elif not Decimal(0) <= number_value <= full_mark:
                problems.append(
                    problem(number, column, _("Must be between 0 and the full mark %(full)s.") % {"full": full_mark})
                )
            else:
                scores[code] = str(number_value)
        out.append({"row": number, "department": department, "scores": scores})
    if problems:
        raise SheetInvalid(problems)
    return out


CONTACT_COLUMNS = {
    "department": ["department", "部门代码", "部门", "被考评部门", "部门名称"],
    "username": ["username", "用户名", "账号", "登录名"],
    "email": ["email", "邮箱", "电子邮箱", "e-mail"],
}


@dataclass(frozen=True)
class ContactRow:
    row: int
    department: str
    username: str
    email: str


def contact_rows(header: list[str], rows: list[tuple[int, dict]], *, departments: dict[str, str]) -> list[ContactRow]:
    """Rows of a sheet of department contacts (被考评部门联络员); ``departments`` maps codes and names on the
    meeting's agenda to codes. One account per row, each account once."""
    from django.contrib.auth.validators import UnicodeUsernameValidator
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    columns = map_columns(header, CONTACT_COLUMNS, {"department", "username"})
    if not rows:
        raise SheetInvalid([problem(None, None, _("The sheet has no rows."))])
    username_ok = UnicodeUsernameValidator()
    problems: list[dict] = []
    out: list[ContactRow] = []
    seen: dict[str, int] = {}
    for number, values in rows:
        given = str(values.get(columns["department"]) or "").strip()
        code = departments.get(given)
        username = str(values.get(columns["username"]) or "").strip()
        email = str(values.get(columns["email"]) or "").strip() if "email" in columns else ""
        if code is None:
            problems.append(
                problem(
                    number,
                    columns["department"],
                    _('"%(name)s" is not on this meeting\'s agenda.') % {"name": given},
                )
            )
        try:
            if not username or len(username) > 150:
                raise ValidationError("length")
            username_ok(username)
        except ValidationError:
            problems.append(
                problem(
                    number,
                    columns["username"],
                    _("A user name: at most 150 letters, digits and @ . + - _ only."),
                )
            )
        else:
            if username.lower() in seen:
                problems.append(
                    problem(
                        number,
                        columns["username"],
                        _("Listed twice (also row %(row)d).") % {"row": seen[username.lower()]},
                    )
                )
            seen.setdefault(username.lower(), number)
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(problem(number, columns["email"], _("Not an e-mail address.")))
        out.append(ContactRow(row=number, department=code or "", username=username, email=email))
    if problems:
        raise SheetInvalid(problems)
    return out
