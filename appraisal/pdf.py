"""PDF helpers shared by the apps that print (rater cards, result reports, feedback)."""

import zlib
from pathlib import Path

from django.conf import settings

# TrueType CJK fonts reportlab can embed (it cannot embed CFF/OpenType CJK such as Noto Sans CJK).
CJK_FONT_FILES = ("wqy-microhei.ttc", "wqy-zenhei.ttc", "uming.ttc", "ukai.ttc")
FONT_NAME = "KaopingCJK"
# reportlab's built-in Adobe CID font: needs no file on the machine, so a fresh machine still prints. It is
# not embedded; viewers substitute their own Song face and text extraction reads it as Unicode.
FALLBACK_FONT = "STSong-Light"

_chosen: dict[tuple, str] = {}


def _truetype_font() -> Path | None:
    configured = getattr(settings, "PDF_CJK_FONT", "")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for directory in getattr(settings, "PDF_FONT_DIRS", ["/usr/share/fonts"]):
        root = Path(directory)
        if not root.is_dir():
            continue
        for name in CJK_FONT_FILES:
            found = next(iter(sorted(root.rglob(name))), None)
            if found is not None:
                return found
    return None


def cjk_font() -> str:
    """Register and return the name of a CJK font for reportlab: an embedded TrueType font when one is
    configured (PDF_CJK_FONT) or installed, else the built-in STSong-Light, which needs no system package."""
    from reportlab.pdfbase import pdfmetrics

    key = (getattr(settings, "PDF_CJK_FONT", ""), tuple(getattr(settings, "PDF_FONT_DIRS", ["/usr/share/fonts"])))
    if key in _chosen:
        return _chosen[key]
    path = _truetype_font()
    if path is not None:
        from reportlab.pdfbase.ttfonts import TTFont

        # One registered name per file, so a test that points the lookup elsewhere never sees a stale font.
        name = f"{FONT_NAME}-{zlib.crc32(str(path).encode()):08x}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    else:
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont

        name = FALLBACK_FONT
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    _chosen[key] = name
    return name
