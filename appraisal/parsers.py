"""JSON parsing that keeps every number exact."""

import json
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a number")


def loads_exact(text: str):
    """json.loads with floats as Decimal and NaN/Infinity refused; absurd nesting is a ValueError."""
    try:
        return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


class BodyTooLarge(APIException):
    status_code = 413
    default_code = "too_large"


class DecimalJSONParser(JSONParser):
    """Floats arrive as Decimal, so no score ever passes through binary floating point.

    DRF reads the raw stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE: the limit is enforced here.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise BodyTooLarge(_("The request body is larger than %(n)d bytes.") % {"n": limit})
        try:
            return loads_exact(raw.decode(encoding))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(_("The request body is not valid JSON: %(error)s") % {"error": exc}) from exc
