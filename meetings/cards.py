"""Rater cards: an A4 PDF, eight cards a page, each with the seat's QR code and link.

Made only when tokens are issued (the token is never stored readable), so the
PDF is handed out once, like the tokens themselves. The QR code is drawn as
vector squares so it stays sharp on any printer.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import segno
from django.utils.translation import gettext as _

from appraisal.pdf import cjk_font

from .models import Meeting
from .services import IssuedRater, rater_path

COLUMNS, ROWS = 2, 4


def cards_pdf(*, meeting: Meeting, raters: Sequence[IssuedRater], base_url: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas

    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(_("Rater cards") + " · " + meeting.title)
    width, height = A4
    margin = 10 * mm
    card_w = (width - 2 * margin) / COLUMNS
    card_h = (height - 2 * margin) / ROWS
    for index, rater in enumerate(sorted(raters, key=lambda r: r.seat_no)):
        if index and index % (COLUMNS * ROWS) == 0:
            pdf.showPage()
        slot = index % (COLUMNS * ROWS)
        x = margin + (slot % COLUMNS) * card_w
        y = height - margin - (slot // COLUMNS + 1) * card_h
        url = base_url + rater_path(rater.token)
        pdf.setDash(2, 2)
        pdf.setLineWidth(0.3)
        pdf.rect(x, y, card_w, card_h)  # cutting guide
        pdf.setDash()
        pad = 5 * mm
        pdf.setFont(font, 9)
        pdf.drawString(x + pad, y + card_h - pad - 3 * mm, meeting.title[:40])
        pdf.setFont(font, 16)
        pdf.drawString(x + pad, y + card_h - pad - 11 * mm, rater.role_name)
        pdf.setFont(font, 12)
        seat = _("Seat %(n)d") % {"n": rater.seat_no}
        pdf.drawString(x + pad, y + card_h - pad - 18 * mm, seat + (f" · {rater.name}" if rater.name else ""))
        pdf.setFont(font, 8.5)
        pdf.drawString(x + pad, y + pad + 6 * mm, _("Scan with your phone's camera to score each department."))
        pdf.drawString(x + pad, y + pad + 2 * mm, _("For your use only; keep this card until the meeting ends."))
        pdf.setFont("Courier", 7.5)
        pdf.drawString(x + pad, y + pad + 11 * mm, url)
        qr = segno.make(url, error="m")
        size = 34 * mm
        _draw_qr(pdf, qr, x + card_w - pad - size, y + card_h - pad - size - 2 * mm, size)
    if not raters:
        pdf.setFont(font, 12)
        pdf.drawString(margin, height - margin - 10 * mm, _("No seats."))
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def _draw_qr(pdf, qr: segno.QRCode, x: float, y: float, size: float) -> None:
    matrix = qr.matrix
    border = 2
    modules = len(matrix) + 2 * border
    unit = size / modules
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(x, y, size, size, stroke=0, fill=1)
    pdf.setFillColorRGB(0, 0, 0)
    for row_index, row in enumerate(matrix):
        for col_index, dark in enumerate(row):
            if dark:
                pdf.rect(
                    x + (col_index + border) * unit,
                    y + size - (row_index + border + 1) * unit,
                    unit,
                    unit,
                    stroke=0,
                    fill=1,
                )
