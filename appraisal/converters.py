"""Path converters, and ids carried by HTML forms."""

import re


class IdConverter:
    """A database id: at most 18 digits, so that it always fits PostgreSQL's bigint.
    A longer number is no id of ours and gets a 404, never a database error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


_ID = re.compile(IdConverter.regex)


def form_id(value: str | None) -> int | None:
    """An id typed into or carried by an HTML form: ASCII digits that fit bigint, else None.

    str.isdigit() is no guard: it takes "²" and "٣", which int() then refuses, and
    twenty digits, which PostgreSQL refuses.
    """
    if value is None or not _ID.fullmatch(value):
        return None
    return int(value)


class CodeConverter:
    """A code in a path (a department, component, role or receipt): up to 50 characters, none of
    them a control character. PostgreSQL refuses NUL in a lookup; such a path is a 404, not a 500."""

    regex = r"[^/\x00-\x1f\x7f]{1,50}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)
