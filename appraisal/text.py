"""Free text people type into a form, as the services take it."""

from appraisal.exceptions import InvalidInput


def reason_clean(reason: str, *, path: str = "reason", detail: str | None = None) -> str:
    """A reason as stored: trimmed and required, without NUL (PostgreSQL cannot store one).

    The API's serializers refuse the same; the console's HTML forms reach the services directly.
    """
    from django.utils.translation import gettext as _

    detail = detail or _("Give the reason.")
    if "\x00" in reason:
        raise InvalidInput(detail, errors=[{"path": path, "message": _("Must not contain NUL.")}])
    if not reason.strip():
        raise InvalidInput(detail, errors=[{"path": path, "message": _("This field is required.")}])
    return reason.strip()


def line_problem(value: str, *, max_length: int) -> str | None:
    """What is wrong with a one-line name typed into a form (blank, NUL, too long), or None."""
    from django.utils.translation import gettext as _

    if "\x00" in value:
        return _("Must not contain NUL.")
    if not value.strip():
        return _("This field is required.")
    if len(value) > max_length:
        return _("At most %(n)d characters.") % {"n": max_length}
    return None
