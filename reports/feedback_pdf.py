"""The printable feedback (结果反馈) of one department, or of every department in one document for the
organizers: the same figures as the feedback page and API, scores to people with 2 decimals."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape as xml_escape

from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.pdf import cjk_font

from .models import ResultSnapshot
from .templatetags.scores import score as two  # 2 decimals for people, as the pages show them


def _result_words(feedback: dict) -> str:
    if feedback["reward"]:
        return _("Commended (通报表扬)")
    if feedback["admonition"]:
        return _("Admonition talk (诫勉谈话)")
    return "–"


def _stage_words(snapshot: ResultSnapshot) -> str:
    computed = timezone.localtime(snapshot.computed_at).strftime("%Y-%m-%d %H:%M")
    if snapshot.published_at is None:
        stage = _("not published")
    elif snapshot.stage == ResultSnapshot.Stage.PUBLICITY and snapshot.publicity_until:
        stage = _("under public notice until %(until)s") % {
            "until": timezone.localtime(snapshot.publicity_until).strftime("%Y-%m-%d %H:%M")
        }
    else:
        stage = _("final")
    return _("Result computed %(time)s, %(stage)s. Digest (SHA-256): %(digest)s") % {
        "time": computed,
        "stage": stage,
        "digest": snapshot.digest,
    }


def _distribution_drawing(distribution: list[dict], font: str):
    """Ballot totals by band as small bars, the count above each bar and the band below."""
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors

    width, height, bar = 440, 90, 40
    drawing = Drawing(width, height)
    peak = max(b["ballots"] for b in distribution) or 1
    for i, band in enumerate(distribution):
        h = 50 * band["ballots"] / peak
        x = 4 + i * (bar + 4)
        drawing.add(Rect(x, 22, bar, h, fillColor=colors.HexColor("#1d4ed8"), strokeColor=None))
        drawing.add(String(x + bar / 2, 26 + h, str(band["ballots"]), fontName=font, fontSize=7, textAnchor="middle"))
        label = f"{Decimal(band['from']):.0f}–{Decimal(band['to']):.0f}"
        drawing.add(String(x + bar / 2, 10, label, fontName=font, fontSize=6, textAnchor="middle"))
    return drawing


def feedback_story(snapshot: ResultSnapshot, feedback: dict, *, font: str) -> list:
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    def para(text, style):
        return Paragraph(xml_escape(str(text)), style)

    title = ParagraphStyle("title", fontName=font, fontSize=16, leading=22)
    heading = ParagraphStyle("heading", fontName=font, fontSize=12, leading=17, spaceBefore=6)
    text = ParagraphStyle("text", fontName=font, fontSize=9, leading=13)
    grid = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
    ]
    summary = [
        [_("Rank"), str(feedback["rank"]) if feedback["rank"] is not None else "–"],
        [_("Rank from the bottom"), str(feedback["bottom_rank"]) if feedback["bottom_rank"] is not None else "–"],
        [_("Final score"), two(feedback["final"])],
        [_("Result"), _result_words(feedback)],
    ]
    if feedback["margins"]:
        summary += [
            [_("Reward margin"), two(feedback["margins"]["reward"])],
            [_("Admonition margin"), two(feedback["margins"]["admonition"])],
        ]
    if feedback["history"] and feedback["history"].get("previous_rank") is not None:
        summary.append([_("Rank last time"), str(feedback["history"]["previous_rank"])])
    table = Table([[para(a, text), para(b, text)] for a, b in summary], colWidths=[45 * mm, 80 * mm], hAlign="LEFT")
    table.setStyle(TableStyle(grid))
    story = [
        para(f"{snapshot.meeting.title}：{feedback['name']}", title),
        para(_("Feedback on the appraisal"), text),
        para(_stage_words(snapshot), text),
        Spacer(1, 3 * mm),
        table,
    ]
    for role in feedback["roles"].values():
        story.append(para(role["name"], heading))
        story.append(
            para(
                _("Role score %(score)s; %(n)d ballots counted, %(k)d kept after trimming, %(i)d invalid.")
                % {"score": two(role["score"]), "n": role["ballots"], "k": role["kept"], "i": role["invalid"]},
                text,
            )
        )
        if role["criteria"]:
            rows = [[para(_("Criterion"), text), para(_("Mean"), text)]] + [
                [para(c["name"], text), two(c["mean"])] for c in role["criteria"]
            ]
            criteria = Table(rows, colWidths=[80 * mm, 30 * mm], hAlign="LEFT", repeatRows=1)
            criteria.setStyle(TableStyle([*grid[:3], ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))]))
            story.append(criteria)
        if role["distribution"]:
            story.append(para(_("Ballot totals by band"), text))
            story.append(_distribution_drawing(role["distribution"], font))
        else:
            story.append(para(_("The distribution of totals is shown only from 5 ballots up."), text))
    return story


def feedback_pdf(snapshot: ResultSnapshot, feedbacks: list[dict]) -> bytes:
    """One department's feedback, or several, each from a new page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, SimpleDocTemplate

    font = cjk_font()
    out = io.BytesIO()
    title = snapshot.meeting.title if len(feedbacks) != 1 else f"{snapshot.meeting.title}：{feedbacks[0]['name']}"
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="Kaoping",
    )
    story: list = []
    for i, feedback in enumerate(feedbacks):
        if i:
            story.append(PageBreak())
        story += feedback_story(snapshot, feedback, font=font)
    document.build(story)
    return out.getvalue()
