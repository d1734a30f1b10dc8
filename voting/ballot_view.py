"""PUT /api/v1/rater/ballots/{id} as a plain Django view: the hall's burst path, outside DRF (issue 19).

The DRF view (voting.api.RaterBallotApi) stays the definition: its schema is this view's OpenAPI
description, and every request that is not the common case goes to it unchanged: another method, a
missing or malformed Authorization header, a body that is not plain JSON or is empty or too large. What
this view answers itself, it answers as DRF would, through the same pieces: the rater lookup and its
failure throttle, the JSON parser, BallotInput for any body the quick check does not pass, the service,
the project's exception handler and DRF's JSON renderer. tests/voting/test_ballot_view.py sends the same
requests to both and compares status, headers and body.

What it saves per ballot is DRF's dispatch (its Request, authenticators, permission and negotiation) and,
for a well-formed body, the serializer: measured in BENCHMARKS.md.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from appraisal.exceptions import DomainError, api_exception_handler
from appraisal.parsers import DecimalJSONParser
from meetings.services import rater_token_hash

from . import selectors, services, throttle
from .api import BallotInput, RaterBallotApi
from .authentication import RaterThrottled, rater_lookup

_drf_view = RaterBallotApi.as_view()
_renderer = JSONRenderer()
_parser = DecimalJSONParser()
_ALLOW = "PUT, OPTIONS"  # what DRF's finalize_response sends for this view


def _json(payload, status: int, rendered: bytes | None = None) -> HttpResponse:
    """DRF's JSON rendering of ``payload``; ``rendered`` where the service already rendered it so."""
    body = rendered if rendered is not None else _renderer.render(payload)
    response = HttpResponse(body, status=status, content_type="application/json")
    response["Allow"] = _ALLOW
    return response


def _answer(result: services.SubmitResult) -> HttpResponse:
    """A submission's answer as DRF's view gives it: a repeat's is marked replayed."""
    response = _json(result.payload, result.status, result.body)
    if result.repeated:
        response["Idempotent-Replayed"] = "true"
    return response


def _error(request, exc: Exception) -> HttpResponse:
    """The answer DRF gives for this exception: the project's handler, rendered by the same renderer."""
    if isinstance(exc, exceptions.AuthenticationFailed):
        exc.auth_header = RaterBallotApi.authentication_classes[0]().authenticate_header(request)
    handled = api_exception_handler(exc, {"request": request, "view": None})
    response = _json(handled.data, handled.status_code)
    for name, value in handled.items():  # WWW-Authenticate, Retry-After; the type is the renderer's
        if name.lower() != "content-type":
            response[name] = value
    return response


_JSON_ACCEPTED = {"*/*", "application/*", "application/json"}


def _takes_plain_json(accept: str) -> bool:
    """DRF would pick its JSON renderer, without parameters (``indent``), for this Accept header."""
    kinds = [part.strip().lower() for part in accept.split(",")] if accept.strip() else ["*/*"]
    return any(kind in _JSON_ACCEPTED for kind in kinds) and not any(";" in kind for kind in kinds)


def _common_case(request) -> bool:
    """A PUT with one Rater token and a plain JSON body of a sane length, asking for plain JSON, with no
    query string (DRF reads ?format=): everything else goes to DRF."""
    if request.method != "PUT" or request.META.get("QUERY_STRING"):
        return False
    if not _takes_plain_json(request.META.get("HTTP_ACCEPT", "")):
        return False
    parts = request.META.get("HTTP_AUTHORIZATION", "").split()
    if len(parts) != 2 or parts[0] != RaterBallotApi.authentication_classes[0].keyword:
        return False
    if request.content_type != "application/json":
        return False
    charset = request.content_params.get("charset")
    if charset is not None and charset.lower() not in ("utf-8", "utf8"):
        return False
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return 0 < length <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _scores(data) -> dict | None:
    """BallotInput's result for a body it would accept as it is, without running it; None otherwise."""
    if type(data) is not dict or len(data) != 1:
        return None
    scores = data.get("scores")
    if type(scores) is not dict or any(value is None for value in scores.values()):
        return None
    return scores


def _remembered(request, token: str, presentation_id: int) -> HttpResponse | None:
    """The answer for a seat this worker remembers (services.ballot_submit_remembered), or None: then the
    token is read as for any other. Only a body the quick check passes; anything else is answered in the
    order DRF would answer it (the token first)."""
    if len(token) > 64 or not token.isascii():
        return None
    token_hash = rater_token_hash(token)
    seat = selectors.seat_remembered(token_hash)
    if seat is None:
        return None
    try:
        scores = _scores(_parser.parse(io.BytesIO(request.body), "application/json", {"encoding": "utf-8"}))
    except exceptions.APIException:
        return None
    if scores is None:
        return None
    try:
        result = services.ballot_submit_remembered(
            rater=seat,
            token_hash=token_hash,
            presentation_id=presentation_id,
            scores=scores,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except DomainError as exc:
        return _error(request, exc)
    return None if result is None else _answer(result)


@csrf_exempt
def ballot_put(request, presentation_id: int) -> HttpResponse:
    if not _common_case(request):
        return _drf_view(request, presentation_id=presentation_id)
    token = request.META["HTTP_AUTHORIZATION"].split()[1]
    remembered = _remembered(request, token, presentation_id)
    if remembered is not None:
        return remembered
    try:
        # Only what a ballot reads of the seat (voting.selectors.BALLOT_COLUMNS).
        rater = rater_lookup(token, request.META.get("REMOTE_ADDR", ""), shape="ballot")
    except RaterThrottled:
        return _error(request, exceptions.Throttled(wait=throttle.WINDOW_SECONDS))
    if rater is None:
        from django.utils.translation import gettext as _

        return _error(request, exceptions.AuthenticationFailed(_("Unknown or revoked rater token.")))
    try:
        data = _parser.parse(io.BytesIO(request.body), "application/json", {"encoding": "utf-8"})
        scores = _scores(data)
        if scores is None:
            checked = BallotInput(data=data)
            checked.is_valid(raise_exception=True)
            scores = checked.validated_data["scores"]
        result = services.ballot_submit(
            rater=rater,
            presentation_id=presentation_id,
            scores=scores,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
    except (exceptions.APIException, DomainError) as exc:
        return _error(request, exc)
    return _answer(result)


# drf-spectacular documents a URL by its view class: this view is described as the DRF view it stands for.
ballot_put.cls = RaterBallotApi
ballot_put.initkwargs = {}
