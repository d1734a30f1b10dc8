"""The ranking and its analysis as a PDF, with the embedded CJK font."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape as xml_escape

from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.pdf import cjk_font

from ..models import ResultSnapshot
from .document import audit_head_words, snapshot_audit_head
from .tables import flag_words, names_of, outcome_words


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
                para(
                    outcome_words(row) or flag_words(row["flags"], row.get("missing_roles"), names["role"]), cell_style
                ),
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

    from ..analysis_tables import diagnostics_table, stability_table

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
