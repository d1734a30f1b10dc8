"""Reading an admin's sheet (.xlsx or .csv) into rows under its header, within bounds: size, rows, time
and memory; every problem with its row and column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import IO

from celery.exceptions import SoftTimeLimitExceeded
from django.utils.translation import gettext as _

from appraisal.sheets import SheetRefused, cell_text, xlsx_guard

MAX_ROWS = 20000
MAX_BYTES = 10 * 1024 * 1024


class SheetInvalid(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def problem(row: int | None, column: str | None, message: str) -> dict:
    return {"row": row, "column": column, "message": str(message)}


def rows_bytes_checked(fileobj: IO[bytes], filename: str) -> bytes:
    """A sheet's bytes once its size and, for an .xlsx, its zip directory pass: what the web tier checks
    (milliseconds) before a worker parses it."""
    data = fileobj.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SheetInvalid(
            [problem(None, None, _("The file is larger than %(n)d MB.") % {"n": MAX_BYTES // 1024 // 1024})]
        )
    if not data.strip():
        raise SheetInvalid([problem(None, None, _("The file is empty."))])
    if not filename.lower().endswith(".csv"):
        try:
            xlsx_guard(data)
        except SheetRefused as exc:
            raise SheetInvalid([problem(None, None, str(exc))]) from exc
    return data


def read_rows(
    fileobj: IO[bytes], filename: str, *, meeting=None, actor=None
) -> tuple[list[str], list[tuple[int, dict[str, object]]]]:
    """The header and the non-empty rows (with their sheet row numbers) of an .xlsx or .csv file.

    Checked here, read by a worker (meetings.sheet_reading): a web worker never parses a sheet."""
    from ..sheet_reading import sheet_read

    return sheet_read(data=rows_bytes_checked(fileobj, filename), filename=filename, meeting=meeting, actor=actor)


# A worker's limits surface inside the parse as these; they are the limit's to report, not a broken file.
LIMITS = (MemoryError, SoftTimeLimitExceeded)


def rows_from_bytes(
    data: bytes, filename: str, *, progress: Callable[[int], None] | None = None
) -> tuple[list[str], list[tuple[int, dict[str, object]]]]:
    """What a worker runs for read_rows: parse checked bytes; every problem as SheetInvalid."""
    if filename.lower().endswith(".csv"):
        return _read_csv(data)
    try:
        xlsx_guard(data)
    except SheetRefused as exc:
        raise SheetInvalid([problem(None, None, str(exc))]) from exc
    try:
        return _read_xlsx(data, progress=progress)
    except (SheetInvalid, *LIMITS):
        raise
    except Exception as exc:  # broken worksheet XML surfaces while rows are read, in many kinds
        raise SheetInvalid(
            [
                problem(
                    None, None, _("The workbook cannot be read (%(error)s). Save it again as .xlsx.") % {"error": exc}
                )
            ]
        ) from exc


HEADER_SEARCH_ROWS = 10


def _header_at(rows: list[list[str]], *, found_only: bool = False) -> int | None:
    """The index of the header row: the first with two or more filled cells, so that a merged title row
    above it (2021年度测评人员名单) is passed over; the first row when none has."""
    for index, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for c in cells if c) >= 2:
            return index
    return None if found_only else 0


def _read_csv(data: bytes):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetInvalid([problem(None, None, _("The CSV file is neither UTF-8 nor GB18030 text."))])
    reader = csv.reader(io.StringIO(text))
    rows = list(reader)
    if not rows:
        raise SheetInvalid([problem(None, None, _("The file is empty."))])
    # A workbook cannot hold NUL, but a CSV file can, and PostgreSQL stores it nowhere (not even in JSON).
    titles = [title.replace("\x00", "").strip() for title in rows[0]]
    nul_cells = [
        problem(number, titles[i] if number > 1 and i < len(titles) else None, _("The cell contains a NUL character."))
        for number, cells in enumerate(rows, start=1)
        for i, cell in enumerate(cells)
        if "\x00" in cell
    ]
    if nul_cells:
        raise SheetInvalid(nul_cells)
    start = _header_at([[cell_text(c) for c in cells] for cells in rows[:HEADER_SEARCH_ROWS]])
    header = [cell_text(h) for h in rows[start]]
    out = []
    for number, cells in enumerate(rows[start + 1 :], start=start + 2):
        values = {header[i]: cell_text(cell) for i, cell in enumerate(cells) if i < len(header) and cell_text(cell)}
        if values:
            out.append((number, values))
            if len(out) > MAX_ROWS:
                raise SheetInvalid([problem(number, None, _("At most %(n)d rows.") % {"n": MAX_ROWS})])
    return header, out


def _read_xlsx(data: bytes, *, progress: Callable[[int], None] | None = None):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except LIMITS:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise SheetInvalid(
            [problem(None, None, _("Not a readable .xlsx workbook: %(error)s") % {"error": exc})]
        ) from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows()
    leading = []
    for cells in rows:
        leading.append([cell_text(str(c.value)) if getattr(c, "value", None) is not None else "" for c in cells])
        if _header_at(leading, found_only=True) is not None or len(leading) >= HEADER_SEARCH_ROWS:
            break
    if not leading:
        raise SheetInvalid([problem(None, None, _("The sheet is empty."))])
    start = _header_at(leading)
    header = leading[start]
    problems, out = [], []

    # Rows read past the header while looking for it are data rows, read again below.
    def pending():
        for cells in leading[start + 1 :]:
            yield [type("Cell", (), {"value": v or None, "data_type": "s"})() for v in cells]
        yield from rows

    for number, cells in enumerate(pending(), start=start + 2):
        if progress is not None:
            progress(number)
        values = {}
        for index, cell in enumerate(cells):
            if index >= len(header) or not header[index]:
                continue
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f" or (isinstance(value, str) and value.startswith("=")):
                problems.append(
                    problem(number, header[index], _("Formulas are not accepted; paste the values instead."))
                )
                continue
            if isinstance(value, float):
                value = Decimal(repr(value))
            if isinstance(value, str):
                value = cell_text(value)
            if value not in (None, ""):
                values[header[index]] = value
        if values:
            out.append((number, values))
            # Only rows with values count: a styled empty cell far below the data is no row.
            if len(out) > MAX_ROWS:
                raise SheetInvalid([problem(number, None, _("At most %(n)d rows.") % {"n": MAX_ROWS})])
    if problems:
        raise SheetInvalid(problems)
    return header, out


def map_columns(header: list[str], columns: dict[str, list[str]], required: set[str]) -> dict[str, str]:
    """Which header names the sheet used for each field; raises listing the missing columns."""
    found = {}
    for field, aliases in columns.items():
        for name in header:
            if name.strip().lower() in [a.lower() for a in aliases]:
                found[field] = name
                break
    missing = [columns[f][1] + f" ({f})" for f in sorted(required) if f not in found]
    if missing:
        raise SheetInvalid([problem(1, None, _("Missing column: %(columns)s.") % {"columns": ", ".join(missing)})])
    return found
