"""One shape for every API error: {"detail": ..., "code": ..., "errors": [{"path", "message"}]}.

"errors" is always there (empty when the problem is not about one field), so a
client and the OpenAPI schema can rely on it."""

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """A rule of the domain refused an operation; carries the HTTP status to answer with."""

    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"

    def __init__(self, message: str, *, errors: list[dict] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        if code:
            self.code = code


class InvalidInput(DomainError):
    status_code = status.HTTP_400_BAD_REQUEST
    code = "invalid"


class PermissionRefused(DomainError):
    status_code = status.HTTP_403_FORBIDDEN
    code = "forbidden"


class NotFound(DomainError):
    status_code = status.HTTP_404_NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    status_code = status.HTTP_409_CONFLICT
    code = "conflict"


class Unprocessable(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "unprocessable"


def flatten_errors(detail, path: str = "") -> list[dict]:
    """DRF's nested error dicts/lists become a flat list of {path, message}."""
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            sub = path if key == "non_field_errors" else f"{path}.{key}" if path else str(key)
            out.extend(flatten_errors(value, sub))
        return out
    if isinstance(detail, list):
        out = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)):
                out.extend(flatten_errors(value, f"{path}[{index}]"))
            else:
                out.extend(flatten_errors(value, path))
        return out
    return [{"path": path, "message": str(detail)}]


def error_body(detail: str, code: str, errors: list[dict] | None = None) -> dict:
    return {"detail": str(detail), "code": code, "errors": list(errors or [])}


def api_exception_handler(exc, context):
    from django.core.exceptions import RequestDataTooBig

    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(_("The request body is too large."), "too_large"), status=413)
    if isinstance(exc, DomainError):
        return Response(error_body(exc.message, exc.code, exc.errors), status=exc.status_code)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(_("The input is invalid."), "invalid", flatten_errors(exc.detail))
    elif isinstance(response.data, dict) and "detail" in response.data:
        code = getattr(response.data["detail"], "code", None)
        response.data = error_body(str(response.data["detail"]), code or "error")
    return response
