"""Rater cards: readable Chinese, and a QR code that decodes to the seat's link."""

import subprocess

import pytest
from django.conf import settings
from django.test import Client

from meetings.cards import cards_pdf
from meetings.models import Rater
from meetings.services import meeting_import, raters_reissue
from tests.browser import ARTIFACTS

pytestmark = pytest.mark.django_db


def test_cards_pdf_qr_decodes_to_rater_link_and_text_is_chinese(small_document, tmp_path):
    result = meeting_import(document=small_document(seats=5), actor=None)
    pdf = tmp_path / "cards.pdf"
    pdf.write_bytes(cards_pdf(meeting=result.meeting, raters=result.raters, base_url=settings.PUBLIC_BASE_URL))

    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    png = next(tmp_path.glob("page*.png"))
    decoded = subprocess.run(["zbarimg", "--quiet", "--raw", str(png)], capture_output=True, text=True).stdout.split()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "rater-cards.png").write_bytes(png.read_bytes())

    expected = {f"{settings.PUBLIC_BASE_URL}/r/{r.token}/" for r in result.raters[:8]}
    assert set(decoded) == expected
    assert "测试考评大会" in text and "四大班子领导" in text and "1 号席位" in text


def test_reissued_card_replaces_the_old_token(small_document):
    result = meeting_import(document=small_document(seats=2), actor=None)
    old = result.raters[0]
    rater = Rater.objects.select_related("role").get(pk=old.rater_id)

    new = raters_reissue(meeting=result.meeting, raters=[rater], actor=None, ip=None)[0]

    client = Client()
    assert client.get("/api/v1/rater", HTTP_AUTHORIZATION=f"Rater {old.token}").status_code == 401
    assert client.get("/api/v1/rater", HTTP_AUTHORIZATION=f"Rater {new.token}").status_code == 200
    assert result.meeting.audit_entries.filter(action="rater.tokens_reissued").exists()
