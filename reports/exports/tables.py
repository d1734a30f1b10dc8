"""The ranking as people read it: flags in words, names for codes, and the CSV and Excel exports."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from ..models import ResultSnapshot


def outcome_words(row: dict) -> str:
    if row["reward"]:
        return _("Commended (通报表扬)")
    if row.get("veto"):
        return _("Admonition talk (诫勉谈话), one-vote veto (一票否决)")
    if row["admonition"]:
        return _("Admonition talk (诫勉谈话)")
    return ""


def flag_words(
    flags: list[str], missing_roles: list[str] | None = None, role_names: dict[str, str] | None = None
) -> str:
    """A row's flags as people read them; the roles without a ballot by their names (``role_names``: code to
    name, names_of), listed and bracketed as the language does (Chinese: 、 and （）, flags apart by ；)."""
    words = {
        "missing_roles": _("some rater roles sent no ballot (weights renormalised)"),
        "no_ballots": _("no ballot at all: not ranked"),
        "missing_component": _("a component score is missing: not ranked"),
        "boundary_conflict": _("tied at both the reward and the admonition boundary: for the organizers to decide"),
        "repeat_admonition": _("at the admonition line again (连续末位): for the follow-up"),
        "repeat_reward": _("commended again, year after year"),
    }
    out = [words.get(flag, flag) for flag in flags]
    if missing_roles and "missing_roles" in flags:
        names = [(role_names or {}).get(code, code) for code in missing_roles]
        roles = pgettext("list of names", ", ").join(names)
        out[flags.index("missing_roles")] += pgettext("roles after a flag", " (%(roles)s)") % {"roles": roles}
    return pgettext("list of flags", "; ").join(out)


_PLAIN_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise(value):
    """A text cell starting with = + - @ (or a control character) must not become a formula in Excel. A
    plain number (a negative adjustment, -2.5000) is no formula and stays a number."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def names_of(snapshot: ResultSnapshot) -> dict[str, dict[str, str]]:
    """Codes to the names people read: rater roles, categories and components of the snapshot's meeting."""
    from appraisal.models import RaterRole
    from meetings.models import Component

    return {
        "role": dict(RaterRole.objects.filter(scheme_id=snapshot.meeting.scheme_id).values_list("code", "name")),
        "category": snapshot.config.get("categories", {}),
        "component": dict(Component.objects.filter(meeting_id=snapshot.meeting_id).values_list("code", "name")),
    }


def ranking_table(snapshot: ResultSnapshot) -> tuple[list[str], list[list]]:
    """The ranking as exports show it: names, not codes, in the headers and cells (the department code
    stays in a column of its own); numbers with 4 decimals, as the API gives them."""
    roles = [r["code"] for r in snapshot.config["roles"]]
    components = [c["code"] for c in snapshot.config["components"]]
    names = names_of(snapshot)
    header = [
        _("Rank"),
        _("Bottom rank"),
        _("Department code"),
        _("Department"),
        _("Category"),
        *[_("%(role)s score") % {"role": names["role"].get(code, code)} for code in roles],
        _("Meeting score"),
        *[names["component"].get(code, code) for code in components],
        _("Adjustments"),
        _("One-vote veto"),
        _("Final score"),
        _("Result"),
        _("Notes"),
    ]
    rows = []
    for row in snapshot.rows:
        rows.append(
            [
                row["rank"],
                row["bottom_rank"],
                row["department"],
                row["name"],
                names["category"].get(row["category"], row["category"]),
                *[row["role_scores"][code]["score"] for code in roles],
                row["meeting_score"],
                *[row["components"].get(code) for code in components],
                row["adjustments"],
                _("yes") if row.get("veto") else "",
                row["final"],
                outcome_words(row),
                flag_words(row["flags"], row.get("missing_roles"), names["role"]),
            ]
        )
    return header, rows


def to_csv(snapshot: ResultSnapshot) -> str:
    header, rows = ranking_table(snapshot)
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 Chinese correctly only with a BOM
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    writer.writerow([])
    writer.writerow([_("Digest (SHA-256)"), snapshot.digest])
    return out.getvalue()


def to_xlsx(snapshot: ResultSnapshot, *, analysis: bool = False) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Ranking")
    header, rows = ranking_table(snapshot)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    numeric = {i for i, name in enumerate(header) if i >= 5 and i < len(header) - 2}
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            if i in numeric and isinstance(value, str) and _PLAIN_NUMBER.fullmatch(value):
                cells.append(Decimal(value))
            else:
                cells.append(neutralise(value))
        sheet.append(cells)
    for column in sheet.iter_cols(min_row=2):
        for cell in column:
            if isinstance(cell.value, (Decimal, float)):
                cell.number_format = "0.0000"
    for role in snapshot.config["roles"]:
        role_sheet = workbook.create_sheet((_("Rater role") + " " + role["code"])[:31])
        role_sheet.append(
            [
                _("Department code"),
                _("Department"),
                _("Role score"),
                _("Ballots counted"),
                _("Ballots kept"),
                _("Weight"),
                _("Trim"),
            ]
        )
        for row in snapshot.rows:
            score = row["role_scores"][role["code"]]
            role_sheet.append(
                [
                    row["department"],
                    neutralise(row["name"]),
                    Decimal(score["score"]) if score["score"] is not None else None,
                    score["ballots"],
                    score["kept"],
                    Decimal(role["weight"]),
                    role["trim"],
                ]
            )
    if analysis and snapshot.analysis:
        from ..analysis_tables import diagnostics_table, stability_table

        for title, (header, table_rows) in (
            ("稳健性", stability_table(snapshot)),
            ("评委画像", diagnostics_table(snapshot)),
        ):
            extra = workbook.create_sheet(title)
            extra.append(header)
            for cell in extra[1]:
                cell.font = Font(bold=True)
            for row in table_rows:
                extra.append([neutralise(v) if isinstance(v, str) else v for v in row])
    about = workbook.create_sheet(_("About"))
    about.append([_("Meeting"), neutralise(snapshot.meeting.title)])
    about.append([_("Computed at"), timezone.localtime(snapshot.computed_at).strftime("%Y-%m-%d %H:%M:%S")])
    about.append([_("Ballots counted"), snapshot.ballots_counted])
    about.append([_("Digest (SHA-256)"), snapshot.digest])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# --- PDF -----------------------------------------------------------------------------------------
