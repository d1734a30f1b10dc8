"""What every uploaded sheet goes through before openpyxl sees it, and the text it holds after.

A 700 KB .xlsx can declare six million shared strings and take a web worker's memory and thirty seconds
to parse; an XML entity can expand a billion times or read a file of the server. Such a file is refused
from its zip directory and the first bytes of its parts, which costs milliseconds: Excel never writes a
DOCTYPE, and no sheet an office sends is near the caps below. A legacy .xls, or a CSV renamed .xlsx, is
told apart from a broken file and the message says what to do.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile

from django.utils.translation import gettext as _

MAX_UNCOMPRESSED = 60 * 1024 * 1024  # every part of the workbook, unpacked
MAX_RATIO = 100  # unpacked / packed, per part over 1 MB: spreadsheets compress 5 to 20 times
MAX_SHARED_STRINGS = 300_000
MAX_CELLS = 2_000_000
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a legacy .xls (and .doc): the Compound File header
_COUNT = re.compile(rb'(?:uniqueCount|count)="(\d+)"')
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


class SheetRefused(Exception):
    """The file is not a workbook we will parse; the message says why and what to do."""


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.decode():
        number = number * 26 + ord(ch) - 64
    return number


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    if b"\x00" in head:
        return False
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def xlsx_guard(data: bytes) -> None:
    """Refuse, before parsing, what is not an .xlsx we can read safely (SheetRefused)."""
    if data.startswith(OLE_MAGIC):
        raise SheetRefused(
            _("This is an old Excel file (.xls). Open it in Excel or WPS and save it as .xlsx, then upload again.")
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if _looks_like_text(data):
            raise SheetRefused(
                _("This file is text (CSV) named as .xlsx. Rename it to .csv, or save it as .xlsx, then upload again.")
            )
        raise SheetRefused(_("This is not an .xlsx workbook. Save it as .xlsx (Excel or WPS), then upload again."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SheetRefused(_("The workbook is damaged (%(error)s). Save it again as .xlsx.") % {"error": exc}) from exc
    total = sum(m.file_size for m in members)
    if total > MAX_UNCOMPRESSED:
        raise SheetRefused(
            _("The workbook unpacks to %(n)d MB, more than the %(max)d MB allowed.")
            % {"n": total // 2**20, "max": MAX_UNCOMPRESSED // 2**20}
        )
    cells = 0
    with archive:
        for member in members:
            if member.file_size > 2**20 and member.file_size > MAX_RATIO * max(1, member.compress_size):
                raise SheetRefused(
                    _("The workbook part %(name)s is compressed %(ratio)d times: no spreadsheet is. It is refused.")
                    % {"name": member.filename, "ratio": member.file_size // max(1, member.compress_size)}
                )
            if not member.filename.endswith((".xml", ".rels")):
                continue
            try:
                with archive.open(member) as part:
                    head = part.read(4096)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as exc:
                raise SheetRefused(
                    _("The workbook part %(name)s cannot be read (%(error)s). Save the file again as .xlsx.")
                    % {"name": member.filename, "error": exc}
                ) from exc
            if b"<!DOCTYPE" in head.upper() or b"<!ENTITY" in head.upper():
                raise SheetRefused(
                    _("The workbook part %(name)s declares XML entities, which Excel never writes. It is refused.")
                    % {"name": member.filename}
                )
            if member.filename == "xl/sharedStrings.xml":
                counts = [int(n) for n in _COUNT.findall(head)]
                if counts and max(counts) > MAX_SHARED_STRINGS:
                    raise SheetRefused(
                        _("The workbook holds %(n)d texts, more than the %(max)d allowed.")
                        % {"n": max(counts), "max": MAX_SHARED_STRINGS}
                    )
            if member.filename.startswith("xl/worksheets/"):
                found = _DIMENSION.search(head)
                if found and found.group(3):
                    cells += (int(found.group(4)) - int(found.group(2)) + 1) * (
                        _column_number(found.group(3)) - _column_number(found.group(1)) + 1
                    )
    if cells > MAX_CELLS:
        raise SheetRefused(
            _("The workbook spans %(n)d cells, more than the %(max)d allowed. Delete the empty rows and columns.")
            % {"n": cells, "max": MAX_CELLS}
        )


_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff])\s+(?=[\u3400-\u9fff\uf900-\ufaff])")
# Full-width letters, digits and the signs of a number (Ａ, １, ．, －, ＋) and the ideographic and no-break
# spaces become their plain forms, as NFKC makes them; Chinese punctuation (，（）：、) is left as it is,
# since it is what Chinese text should carry (NFKC would turn （ into an ASCII parenthesis).
_PLAIN = {
    **{cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF10, 0xFF1A)},
    **{cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF21, 0xFF3B)},
    **{cp: unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFF41, 0xFF5B)},
    0xFF0E: ".",
    0xFF0D: "-",
    0xFF0B: "+",
    0xFF05: "%",
    0x3000: " ",
    0x00A0: " ",
    0x2002: " ",
    0x2003: " ",
    0x200B: "",
    0xFEFF: "",
}


def cell_text(value: str) -> str:
    """Text as offices type it, as we keep it: full-width letters, digits and number signs as their plain
    forms (`１８．５` is 18.5, `Ｄ０１` is D01), odd spaces as plain ones, trimmed, and the spaces people pad
    Chinese names with (`张　三`) gone."""
    text = value.translate(_PLAIN).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


# Characters that look alike in the fonts of a printed agenda or a phone: O and 0, I, l and 1.
_LOOK_ALIKE = str.maketrans({"O": "0", "o": "0", "I": "1", "l": "1", "i": "1"})
CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")


def code_problem(code: str) -> str | None:
    """What is wrong with a code (a department, role, criterion, grade or component): printable ASCII
    letters, digits, '_', '-' and '.', starting with a letter or digit, at most 50."""
    if not CODE_RE.fullmatch(code):
        return _(
            "A code is 1 to 50 ASCII letters, digits, '_', '-' and '.', starting with a letter or digit "
            "(no full-width or look-alike letters)."
        )
    return None


def code_skeleton(code: str) -> str:
    """What a code looks like, for finding two that differ only by look-alike characters or case (D01,
    DO1 and d01)."""
    return code.translate(_LOOK_ALIKE).upper()


def look_alike(codes: list[str]) -> dict[str, str]:
    """Each code that looks like an earlier different one, to that one."""
    first: dict[str, str] = {}
    clashes: dict[str, str] = {}
    for code in codes:
        skeleton = code_skeleton(code)
        other = first.setdefault(skeleton, code)
        if other != code:
            clashes[code] = other
    return clashes
