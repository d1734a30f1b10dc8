"""Free text people type into a form, as the services take it."""

from appraisal.exceptions import InvalidInput


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """What is wrong with text typed into a form (NUL, blank, too long), or None.

    PostgreSQL cannot store NUL; the API's serializers refuse the same, but the console's and
    the admin's HTML forms reach the services directly.
    """
    from django.utils.translation import gettext as _

    if "\x00" in value:
        return _("Must not contain NUL.")
    if not value.strip():
        return _("This field is required.")
    if max_length is not None and len(value) > max_length:
        return _("At most %(n)d characters.") % {"n": max_length}
    return None


def reason_clean(reason: str, *, path: str = "reason", detail: str | None = None) -> str:
    """A reason as stored: trimmed, required, without NUL."""
    from django.utils.translation import gettext as _

    if problem := text_problem(reason):
        raise InvalidInput(detail or _("Give the reason."), errors=[{"path": path, "message": problem}])
    return reason.strip()
