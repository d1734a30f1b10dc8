"""Every PDF prints on a machine with no CJK font installed (issue 18): the font lookup pointed at an empty
directory falls back to reportlab's built-in STSong-Light, and the text extracted is the right Chinese."""

import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from meetings.cards import cards_pdf
from meetings.services import meeting_import
from reports import exports
from reports.feedback import department_feedback
from reports.feedback_pdf import feedback_pdf
from reports.services import snapshot_compute
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


def _read(content: bytes, tmp_path, name: str) -> tuple[str, str]:
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return text, fonts


@pytest.fixture
def no_cjk_font(settings, tmp_path):
    empty = tmp_path / "no-fonts"
    empty.mkdir()
    settings.PDF_CJK_FONT = ""
    settings.PDF_FONT_DIRS = [str(empty)]
    return settings


def test_every_pdf_renders_chinese_without_an_installed_font(no_cjk_font, small_document, tmp_path):
    imported = meeting_import(document=small_document(departments=3, seats=6), actor=None)
    meeting = imported.meeting
    ballots_simulate(meeting=meeting, seed=7)
    snapshot = snapshot_compute(meeting=meeting)

    documents = {
        "ranking": exports.to_pdf(snapshot),
        "ranking-analysis": exports.to_pdf(snapshot, analysis=True),
        "cards": cards_pdf(meeting=meeting, raters=imported.raters, base_url=django_settings.PUBLIC_BASE_URL),
        "feedback": feedback_pdf(snapshot, [department_feedback(snapshot, "D01")]),
    }

    for name, content in documents.items():
        text, fonts = _read(content, tmp_path, name)
        assert content.startswith(b"%PDF-"), name
        assert "STSong-Light" in fonts and "TrueType" not in fonts, (name, fonts)
        assert "测试考评大会" in text, (name, text[:200])
    ranking, _fonts = _read(documents["ranking"], tmp_path, "ranking")
    assert "测试部门1" in ranking and "排名" in ranking
    cards, _fonts = _read(documents["cards"], tmp_path, "cards")
    assert "四大班子领导" in cards and "1 号席位" in cards
    feedback, _fonts = _read(documents["feedback"], tmp_path, "feedback")
    assert "测试部门1" in feedback and "考评结果反馈" in feedback


def test_an_installed_truetype_font_is_found_and_embedded(settings, tmp_path, small_document):
    installed = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
    settings.PDF_CJK_FONT = ""
    settings.PDF_FONT_DIRS = [str(tmp_path), "/usr/share/fonts"]
    meeting = meeting_import(document=small_document(departments=2), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=1)

    _text, fonts = _read(exports.to_pdf(snapshot_compute(meeting=meeting)), tmp_path, "embedded")

    assert Path(installed).exists()
    assert "STSong-Light" not in fonts
    assert [line for line in fonts.splitlines() if "WenQuanYi" in line and " TrueType " in line and " yes " in line]
