"""Exports of a result snapshot: the verifiable anonymised ballot export (JSON), Excel, CSV and PDF.

Every export carries the snapshot's own rows, digit for digit. The JSON
export holds everything needed to recompute the ranking and the digest from
it alone (verify_export), and no rater identity: ballots are listed by
receipt code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import defaultdict
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.pdf import cjk_font
from voting.models import Ballot, BallotValue

from .models import ResultSnapshot
from .scoring import ballot_line, ballots_digest, line_digest, role_tally, snapshot_digest

EXPORT_FORMAT = "kaoping-results/1"


def export_document(snapshot: ResultSnapshot, *, analysis: bool = False) -> dict:
    """The snapshot with its counting ballots, anonymised: receipt, presentation, department, role, points.

    A ballot declared invalid (SCORING.md 11) carries "invalid": the alias of its invalid seat, so that a
    verifier can check each such group. With ``analysis`` the stability and the rater diagnostics come
    too, each profiled alias with its ballots as (department, role, total), never a receipt."""
    counted = [ballot_id for ballot_id, _total in json.loads(snapshot.inputs)["ballots"]]
    ballots: dict[int, dict] = {}
    for ballot_id, receipt, presentation_id, department, role in (
        Ballot.objects.filter(pk__in=counted)
        .values_list("pk", "receipt", "presentation_id", "presentation__department__code", "role__code")
        .iterator(chunk_size=10000)
    ):
        ballots[ballot_id] = {
            "receipt": receipt,
            "presentation": presentation_id,
            "department": department,
            "role": role,
            "points": {},
        }
    for ballot_id, criterion, points in (
        BallotValue.objects.filter(ballot_id__in=counted)
        .values_list("ballot_id", "criterion__code", "points")
        .iterator(chunk_size=20000)
    ):
        ballots[ballot_id]["points"][criterion] = str(points)
    figures = snapshot.analysis or {}
    for ballot in ballots.values():
        alias = figures.get("invalid_ballots", {}).get(ballot["receipt"])
        if alias is not None:
            ballot["invalid"] = alias
    document = {
        "format": EXPORT_FORMAT,
        "meeting": {
            "id": snapshot.meeting_id,
            "title": snapshot.meeting.title,
            "date": snapshot.meeting.date.isoformat(),
        },
        "snapshot": snapshot.pk,
        "computed_at": snapshot.computed_at.isoformat(),
        "published_at": snapshot.published_at.isoformat() if snapshot.published_at else None,
        "digest": snapshot.digest,
        # The audit chain's last entry this result vouches for (at its publication, else at its computation):
        # verify_audit MEETING --head SEQ:HASH shows the chain still holds it, untruncated.
        "audit_head": snapshot_audit_head(snapshot),
        "config": snapshot.config,
        "rows": snapshot.rows,
        "ballots": sorted(ballots.values(), key=lambda b: b["receipt"]),
    }
    if figures:
        document["invalid"] = figures.get("invalid", {})
    if analysis and figures:
        document["analysis"] = {
            "stability": figures.get("stability", {}),
            "bootstrap": figures.get("bootstrap", {}),
            "diagnostics": figures.get("diagnostics", {}),
            "diagnostic_ballots": figures.get("diagnostic_ballots", {}),
        }
    return document


def snapshot_audit_head(snapshot: ResultSnapshot) -> dict | None:
    """{"seq", "hash"} of the audit entry the snapshot vouches for: its publication's, else its computation's."""
    return snapshot.published_audit_head or snapshot.audit_head


def audit_head_words(head: dict) -> str:
    return _("Audit log: entry %(seq)d, hash %(hash)s") % {"seq": head["seq"], "hash": head["hash"]}


def verify_export(document: dict) -> list[str]:
    """Recompute the ranking and the digest from an export alone; return what does not match."""
    from .scoring import results_from_config

    problems: list[str] = []
    if document.get("format") != EXPORT_FORMAT:
        return [f"not a {EXPORT_FORMAT} export"]
    config = document["config"]
    trims = {r["code"]: r["trim"] for r in config["roles"]}
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    invalid_groups: dict[str, list[Decimal]] = defaultdict(list)
    digests = []
    for ballot in sorted(document["ballots"], key=lambda b: b["receipt"]):
        points = {code: Decimal(value) for code, value in ballot["points"].items()}
        total = sum(points.values(), Decimal(0))
        if "invalid" in ballot:
            invalid_groups[str(ballot["invalid"])].append(total)
        else:
            totals[(ballot["department"], ballot["role"])].append(total)
        digests.append(
            line_digest(
                ballot_line(
                    receipt=ballot["receipt"],
                    presentation=ballot["presentation"],
                    department=ballot["department"],
                    role=ballot["role"],
                    points=points,
                )
            )
        )
    problems += _verify_invalid(config, invalid_groups)
    tallies = {key: role_tally(values, trims[key[1]]) for key, values in totals.items()}
    official = results_from_config(config, tallies)
    rows = [row.as_dict() for row in official]
    if rows != document["rows"]:
        by_code = {r["department"]: r for r in document["rows"]}
        for row in rows:
            theirs = by_code.get(row["department"])
            if theirs != row:
                fields = sorted(k for k in row if theirs is None or theirs.get(k) != row[k])
                problems.append(f"department {row['department']}: recomputed {', '.join(fields)} differ")
        if not problems:
            problems.append("rows differ in order or number")
    digest = snapshot_digest(ballots_sha256=ballots_digest(digests), config=config, rows=document["rows"])
    if digest != document["digest"]:
        problems.append(f"digest {digest} does not match the export's {document['digest']}")
    if "analysis" in document:
        problems += _verify_analysis(document, config, totals, official)
    return problems


def _verify_invalid(config: dict, groups: dict[str, list[Decimal]]) -> list[str]:
    """SCORING.md 11 from the export: every marked group is uniform and large enough, under a rule that is set."""
    rule = config.get("invalid_ballots") or {}
    if groups and not rule.get("uniform"):
        return ["ballots are marked invalid, but the configuration has no invalid-ballot rule"]
    problems = []
    for alias, values in sorted(groups.items()):
        if len(values) < rule["uniform_min"] or len(set(values)) != 1:
            problems.append(f"invalid group {alias}: {len(values)} ballots, not all of one total or too few")
    return problems


def _verify_analysis(document: dict, config: dict, totals, official) -> list[str]:
    """The exact parts of SCORING.md 13 and 14 recomputed from the export; the bootstrap is only checked
    for its shape (it is an estimate: another implementation differs within sampling error)."""
    from .diagnostics import SeatBallot, rater_profiles
    from .stability import fragile, margins, rank_by_trim, rank_range_weights

    problems = []
    claimed = document["analysis"]
    stability = claimed.get("stability", {})
    margin = margins(official, config)
    trims = rank_by_trim(config, totals)
    ranges = rank_range_weights(config, totals, official)
    fragility = fragile(config, totals, official)
    for row in official:
        if row.final is None:
            continue
        theirs = stability.get(row.department) or {}
        mine = {
            "reward_margin": None if margin[row.department][0] is None else str(margin[row.department][0]),
            "admonition_margin": None if margin[row.department][1] is None else str(margin[row.department][1]),
            "rank_by_trim": trims[row.department],
            "rank_range_weights": ranges[row.department],
            "fragile": fragility[row.department],
        }
        differ = sorted(k for k, v in mine.items() if theirs.get(k) != v)
        if differ:
            problems.append(f"department {row.department}: recomputed stability {', '.join(differ)} differ")
    role_scores = {
        (row.department, code): Decimal(score["score"])
        for row in official
        for code, score in row.role_scores.items()
        if score["score"] is not None
    }
    seats = {
        alias: [SeatBallot(department, role, Decimal(total)) for department, role, total in ballots]
        for alias, ballots in claimed.get("diagnostic_ballots", {}).items()
    }
    profiles = rater_profiles(
        seats,
        aliases={alias: alias for alias in seats},
        role_scores=role_scores,
        totals=totals,
        trims={r["code"]: r["trim"] for r in config["roles"]},
        full_mark=Decimal(config["full_mark"]),
    )
    if profiles != claimed.get("diagnostics", {}).get("raters", []):
        problems.append("rater diagnostics differ from those recomputed from their ballots")
    return problems


# --- tables for people ------------------------------------------------------------------------------


def _mark(row: dict) -> str:
    if row["reward"]:
        return _("Commended (通报表扬)")
    if row.get("veto"):
        return _("Admonition talk (诫勉谈话), one-vote veto (一票否决)")
    if row["admonition"]:
        return _("Admonition talk (诫勉谈话)")
    return ""


def flag_words(flags: list[str], missing_roles: list[str] | None = None) -> str:
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
        out[flags.index("missing_roles")] += f" ({', '.join(missing_roles)})"
    return "; ".join(out)


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
                _mark(row),
                flag_words(row["flags"], row.get("missing_roles")),
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
        from .analysis_tables import diagnostics_table, stability_table

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


def _para(text, style):
    """A reportlab Paragraph of plain text: Paragraph reads its text as markup, and a name like "A<B" or
    "<img src=...>" must stay text."""
    from reportlab.platypus import Paragraph

    return Paragraph(xml_escape(str(text)), style)


def to_pdf(snapshot: ResultSnapshot, *, analysis: bool = False) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

    para = _para
    font = cjk_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    text_style = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10)
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=snapshot.meeting.title,
        author="Kaoping",
    )
    roles = [r["code"] for r in snapshot.config["roles"]]
    components = [c["code"] for c in snapshot.config["components"]]
    names = names_of(snapshot)
    header = [
        _("Rank"),
        _("Department"),
        _("Category"),
        *[names["role"].get(code, code) for code in roles],
        _("Meeting score"),
        *[names["component"].get(code, code) for code in components],
        _("Adjustments"),
        _("Final score"),
        _("Result"),
    ]
    data = [[para(h, cell_style) for h in header]]
    for row in snapshot.rows:
        data.append(
            [
                row["rank"] if row["rank"] is not None else "-",
                para(f"{row['department']} {row['name']}", cell_style),
                para(names["category"].get(row["category"], row["category"]), cell_style),
                *[row["role_scores"][code]["score"] or "-" for code in roles],
                row["meeting_score"] or "-",
                *[row["components"].get(code) or "-" for code in components],
                row["adjustments"] or "-",
                row["final"] or "-",
                para(_mark(row) or flag_words(row["flags"]), cell_style),
            ]
        )
    table = Table(data, repeatRows=1)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    for i, row in enumerate(snapshot.rows, start=1):
        if row["reward"]:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#e7f4ea")))
        elif row["admonition"]:
            style.append(("BACKGROUND", (0, i), (-1, i), colors.HexColor("#fde8e7")))
    table.setStyle(TableStyle(style))
    computed = timezone.localtime(snapshot.computed_at).strftime("%Y-%m-%d %H:%M")
    story = [
        para(snapshot.meeting.title, title_style),
        para(
            _("Result computed %(time)s from %(n)d ballots. Digest (SHA-256): %(digest)s")
            % {"time": computed, "n": snapshot.ballots_counted, "digest": snapshot.digest},
            text_style,
        ),
        *([para(audit_head_words(head), text_style)] if (head := snapshot_audit_head(snapshot)) else []),
        Spacer(1, 4 * mm),
        table,
    ]
    if analysis and snapshot.analysis:
        story += _analysis_appendix(snapshot, font=font, title_style=title_style, text_style=text_style)
    document.build(story)
    return out.getvalue()


def _analysis_appendix(snapshot: ResultSnapshot, *, font: str, title_style, text_style) -> list:
    """The appendix page of the organizers' PDF: stability and rater profiles (SCORING.md 13, 14)."""
    from reportlab.lib import colors
    from reportlab.platypus import PageBreak, Table, TableStyle

    from .analysis_tables import diagnostics_table, stability_table

    para = _para
    story = [PageBreak(), para(_("Appendix: stability of the result and rater profiles"), title_style)]
    story.append(
        para(
            _(
                "None of this changes the ranking. Ballots are excluded only by the invalid-ballot rule or by a "
                "void with a reason."
            ),
            text_style,
        )
    )
    for header, rows in (stability_table(snapshot), diagnostics_table(snapshot)):
        data = [[para(str(h), text_style) for h in header]] + [
            [para("" if v is None else str(v), text_style) for v in row] for row in rows
        ]
        table = Table(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ]
            )
        )
        story += [table, para(" ", text_style)]
    return story
