"""Collects every problem of a document with its JSON path, and the checks the sections share."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from appraisal.numbers import decimal_from_input
from appraisal.sheets import code_problem, look_alike

from .specs import SCORE_LIMIT, SCORE_PLACES


class _Checker:
    def __init__(self) -> None:
        self.errors: list[dict] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append({"path": path, "message": str(message)})

    def obj(self, value, path: str, *, required: set[str], optional: set[str] = frozenset()) -> dict | None:
        if not isinstance(value, dict):
            self.error(path, _("Must be an object."))
            return None
        for key in value:
            if key not in required and key not in optional:
                self.error(f"{path}.{key}" if path else key, _("Unknown key."))
        for key in sorted(required):
            if key not in value:
                self.error(f"{path}.{key}" if path else key, _("This field is required."))
        return value

    def array(self, value, path: str, *, min_items: int = 1) -> list:
        if not isinstance(value, list):
            self.error(path, _("Must be a list."))
            return []
        if len(value) < min_items:
            self.error(path, _("Must have at least %(n)d item(s).") % {"n": min_items})
        return value

    def text(self, value, path: str, *, max_length: int) -> str:
        if not isinstance(value, str) or not value.strip():
            self.error(path, _("Must be a non-empty text."))
            return ""
        value = value.strip()
        if len(value) > max_length:
            self.error(path, _("At most %(n)d characters.") % {"n": max_length})
        if any(ord(ch) < 32 for ch in value):
            self.error(path, _("Must not contain control characters."))
        return value

    def code(self, value, path: str) -> str:
        value = self.text(value, path, max_length=50)
        if value and (message := code_problem(value)):
            self.error(path, message)
        return value

    def look_alike(self, items: list[tuple[str, str]], message: str) -> None:
        """Codes that differ from another only by look-alike characters or case (D01, DO1, d01)."""
        clashes = look_alike([key for _path, key in items if key])
        for path, key in items:
            if key in clashes:
                self.error(path, message % {"code": key, "other": clashes[key]})

    def integer(self, value, path: str, *, minimum: int, maximum: int) -> int | None:
        number = decimal_from_input(value)
        if number is None or number != number.to_integral_value():
            self.error(path, _("Must be a whole number."))
            return None
        if not minimum <= number <= maximum:
            self.error(path, _("Must be between %(min)s and %(max)s.") % {"min": minimum, "max": maximum})
            return None
        return int(number)

    def decimal(
        self,
        value,
        path: str,
        *,
        places: int = SCORE_PLACES,
        minimum: Decimal | None = None,
        minimum_exclusive: bool = False,
        maximum: Decimal | None = None,
    ) -> Decimal | None:
        number = decimal_from_input(value)
        if number is None:
            self.error(path, _('Must be a decimal number (a string such as "38.5" or a number).'))
            return None
        if abs(number) > SCORE_LIMIT:
            self.error(path, _("The number is too large."))
            return None
        if -number.as_tuple().exponent > places and number != number.quantize(Decimal(1).scaleb(-places)):
            self.error(path, _("At most %(n)d decimal places.") % {"n": places})
            return None
        if minimum is not None:
            if minimum_exclusive and number <= minimum:
                self.error(path, _("Must be greater than %(min)s.") % {"min": minimum})
                return None
            if not minimum_exclusive and number < minimum:
                self.error(path, _("Must be at least %(min)s.") % {"min": minimum})
                return None
        if maximum is not None and number > maximum:
            self.error(path, _("Must be at most %(max)s.") % {"max": maximum})
            return None
        return number

    def boolean(self, value, path: str) -> bool:
        if not isinstance(value, bool):
            self.error(path, _("Must be true or false."))
            return False
        return value

    def unique(self, items: list[tuple[str, str]], message: str) -> None:
        seen: set[str] = set()
        for path, key in items:
            if not key:
                continue
            if key in seen:
                self.error(path, message)
            seen.add(key)
