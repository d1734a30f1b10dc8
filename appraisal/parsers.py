"""JSON parsing that keeps every number exact."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


def loads_exact(text: str):
    """json.loads with floats as Decimal and NaN/Infinity refused."""
    return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)


class DecimalJSONParser(JSONParser):
    """Floats arrive as Decimal, so no score ever passes through binary floating point."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = stream.read()
            return loads_exact(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("The request body is not valid JSON: %(error)s") % {"error": exc}) from exc
