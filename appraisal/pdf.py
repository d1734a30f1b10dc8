"""PDF helpers shared by the apps that print (rater cards, result reports)."""

from pathlib import Path

from django.conf import settings

CJK_FONT_CANDIDATES = [
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
    Path("/usr/share/fonts/truetype/arphic/uming.ttc"),
]
FONT_NAME = "KaopingCJK"


def cjk_font() -> str:
    """Register and return an embeddable TrueType CJK font (reportlab cannot embed CFF/OpenType CJK)."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return FONT_NAME
    configured = getattr(settings, "PDF_CJK_FONT", "")
    for path in [Path(configured)] if configured else CJK_FONT_CANDIDATES:
        if path.exists():
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(path), subfontIndex=0))
            return FONT_NAME
    raise RuntimeError("No TrueType CJK font found: install fonts-wqy-microhei or set PDF_CJK_FONT")
