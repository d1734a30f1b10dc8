"""Path converters."""


class IdConverter:
    """A database id: at most 18 digits, so that it always fits PostgreSQL's bigint.
    A longer number is no id of ours and gets a 404, never a database error."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)
