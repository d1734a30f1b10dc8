"""How the OpenAPI schema describes what the API really answers.

Every operation documents every status it can give, each error with the one
error body of appraisal.exceptions; request bodies refuse fields they do not
know, and say so (additionalProperties: false). schemathesis holds the running
API to this in tests/api/test_schemathesis.py."""

import re
from collections.abc import Mapping
from decimal import Decimal

from django.core.validators import RegexValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from .numbers import FOUR_PLACES, decimal_from_input


class ErrorItemSerializer(serializers.Serializer):
    path = serializers.CharField(allow_blank=True, help_text="where the problem is, e.g. scores.performance")
    message = serializers.CharField()
    row = serializers.IntegerField(required=False, allow_null=True)
    column = serializers.CharField(required=False, allow_null=True)


class ApiErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = ErrorItemSerializer(many=True)


# Refuses fields it does not know: a misspelt field must not be silently ignored (a "reasson"
# would otherwise become a 400 about a missing "reason", or worse, nothing). Not a docstring:
# drf-spectacular would copy it into every request body's description.
class StrictSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail) if isinstance(exc.detail, Mapping) else {"non_field_errors": exc.detail}
            value = None
        if isinstance(data, Mapping):
            for key in data:
                if key not in self.fields:
                    errors[str(key)] = [_("Unknown field.")]
        if errors:
            raise serializers.ValidationError(errors)
        return value


# Decimal strings as the API reads them: at most 8 digits before the point and 4 after.
UNSIGNED_DECIMAL = r"^[0-9]{1,8}(\.[0-9]{1,4})?$"
# An adjustment: -1000 to 1000 and not zero, at most 4 decimals.
NONZERO_POINTS = (
    r"^-?(1000(\.0{1,4})?|[1-9][0-9]{0,2}(\.[0-9]{1,4})?|0\.([1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)


class DecimalInputField(serializers.Field):
    """A decimal the client sends as a string matching ``pattern`` or as a JSON number on the
    0.0001 grid, within the bounds. The schema states exactly the same rule, so a generated
    request the schema calls valid is accepted and one it calls invalid is refused."""

    default_error_messages = {
        "invalid": gettext_lazy('Must be a number with at most 4 decimals, e.g. "88.5".'),
        "range": gettext_lazy("Must be between %(minimum)s and %(maximum)s."),
        "zero": gettext_lazy("Must not be 0."),
    }

    def __init__(self, *, pattern: str, minimum: Decimal, maximum: Decimal, nonzero: bool = False, **kwargs):
        self.pattern, self.minimum, self.maximum, self.nonzero = pattern, minimum, maximum, nonzero
        self._regex = re.compile(pattern)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> Decimal:
        if isinstance(data, str):
            if not self._regex.fullmatch(data):
                self.fail("invalid")
            value = Decimal(data)
        elif isinstance(data, (int, Decimal)) and not isinstance(data, bool):
            value = decimal_from_input(data)
            if value is None or value % FOUR_PLACES != 0:
                self.fail("invalid")
        else:
            self.fail("invalid")
        if not self.minimum <= value <= self.maximum:
            self.fail("range", minimum=self.minimum, maximum=self.maximum)
        if self.nonzero and value == 0:
            self.fail("zero")
        return value

    def to_representation(self, value):
        return str(value)

    def openapi_schema(self) -> dict:
        number = {
            "type": "number",
            "minimum": float(self.minimum),
            "maximum": float(self.maximum),
            "multipleOf": float(FOUR_PLACES),
        }
        if self.nonzero:
            number["not"] = {"enum": [0]}
        return {"anyOf": [{"type": "string", "pattern": self.pattern}, number]}


# Every character str.strip() removes, spelt out: \s differs between Python's and ECMA's regexes,
# and the schema's pattern must mean the same to both.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"^[^\x00]*[^\x00{WHITESPACE}][^\x00]*$"


def text_field(*, max_length: int, **kwargs) -> serializers.CharField:
    """Text as sent (no trimming, so the length the schema states is the length checked): not
    blank, no NUL character (PostgreSQL cannot store one)."""
    return serializers.CharField(
        max_length=max_length,
        trim_whitespace=False,
        validators=[RegexValidator(NOT_BLANK, message=gettext_lazy("Must not be blank."))],
        **kwargs,
    )


# The schema is developer documentation, in English like the rest of it; the error bodies themselves are translated.
ERROR_DESCRIPTIONS = {
    400: "The input is invalid: one message per field in errors.",
    401: "No credentials, or unknown or revoked ones.",
    403: "Not allowed for this user, seat or meeting.",
    404: "No such object, or not visible to this user.",
    406: "The Accept header asks for a format the API does not give.",
    409: "Refused by the state of the meeting (see code).",
    413: "The request body is too large.",
    415: "The Content-Type is not one this operation reads.",
    422: "The request conflicts with an earlier one (see code).",
    429: "Too many requests: wait and try again.",
    503: "The database is briefly unavailable (a restart or failover): retry after the Retry-After seconds.",
}


class KaopingAutoSchema(AutoSchema):
    def _error_statuses(self) -> set[int]:
        statuses = {406, 503}
        if "{" in self.path:
            statuses.add(404)
        view = self.view
        public = all(isinstance(p, AllowAny) for p in view.get_permissions())
        if not public:
            statuses |= {401, 403}
        if any(getattr(a, "throttles_failures", False) for a in view.get_authenticators()):
            statuses.add(429)
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            statuses |= {400, 413, 415}
        return statuses

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in sorted(self._error_statuses() | {int(code) for code in responses if code[0] in "45"}):
            key = str(status)
            documented = responses.get(key, {})
            if "content" not in documented:
                responses[key] = self._get_response_for_code(ApiErrorSerializer, key, None, direction)
                responses[key]["description"] = documented.get("description", "")
            if not responses[key].get("description"):
                responses[key]["description"] = ERROR_DESCRIPTIONS.get(status, "")
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if isinstance(field, DecimalInputField):
            return field.openapi_schema()
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # drf-spectacular leaves allow_empty=False out; the server refuses {} and [] for such fields.
        if isinstance(field, serializers.DictField) and not field.allow_empty:
            schema["minProperties"] = 1
        elif isinstance(field, serializers.ListField) and not field.allow_empty:
            schema["minItems"] = max(1, schema.get("minItems", 0))
        return schema

    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        if direction == "request" and isinstance(serializer, StrictSerializer):
            schema["additionalProperties"] = False
        return schema


LIVE_STATE_SCHEMA = {
    "type": "object",
    "properties": {
        "meeting": {"type": "integer"},
        "open": {"type": "array", "items": {"type": "integer"}, "description": "ids of the presentations open"},
        "current": {
            "type": "object",
            "nullable": True,
            "properties": {"id": {"type": "integer"}, "order": {"type": "integer"}, "name": {"type": "string"}},
            "required": ["id", "order", "name"],
        },
        "closed": {"type": "integer"},
        "total": {"type": "integer"},
        "countdown_ends_at": {"type": "string", "format": "date-time", "nullable": True},
        "etag": {"type": "string"},
    },
    "required": ["meeting", "open", "current", "closed", "total", "countdown_ends_at", "etag"],
}


def document_plain_views(result, generator, request, public):
    """The live state is a plain Django view (two thousand phones poll it), so drf-spectacular
    does not see it; it is part of the API all the same."""
    result.setdefault("components", {}).setdefault("schemas", {})["LiveState"] = LIVE_STATE_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    result["paths"]["/api/v1/meetings/{meeting_id}/live"] = {
        "get": {
            "operationId": "meetings_live_retrieve",
            "description": "The tiny state every phone and the projector poll: which presentation is open. "
            "No login. 304 while the ETag sent in If-None-Match is still current.",
            "tags": ["meetings"],
            "parameters": [
                {
                    "in": "path",
                    "name": "meeting_id",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"},
                },
                {"in": "header", "name": "If-None-Match", "required": False, "schema": {"type": "string"}},
            ],
            "security": [{}],
            "responses": {
                "200": {
                    "description": "",
                    "headers": {"ETag": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/LiveState"}}},
                },
                "304": {"description": "nothing changed since the ETag sent"},
                "404": {"description": ERROR_DESCRIPTIONS[404], "content": error},
                "503": {"description": ERROR_DESCRIPTIONS[503], "content": error},
            },
        }
    }
    return result
