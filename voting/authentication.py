"""The rater's token as a credential: `Authorization: Rater TOKEN` for the API, the card's link for pages."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from meetings.models import Rater

from . import throttle
from .selectors import rater_by_token


class RaterThrottled(Exception):
    """Too many failed token look-ups from this address."""


def rater_lookup(token: str, ip: str, *, shape: str = "full") -> Rater | None:
    """The active seat of a token; None when unknown or revoked. Raises RaterThrottled for an unknown token
    from an address past its failure limit. A valid token is never refused, whatever others guessed from
    the same address: tokens carry 130 random bits, so the throttle only keeps guessers from eating the
    hall's capacity and tells their scripts to back off (429 with Retry-After)."""
    rater = rater_by_token(token, shape=shape)
    if rater is None:
        over_limit = throttle.failures_exceeded(ip)
        throttle.failure_record(ip)
        if over_limit:
            raise RaterThrottled
        return None
    return rater


class RaterAuthentication(BaseAuthentication):
    keyword = "Rater"
    # Guessing tokens is throttled (voting.throttle): the schema documents the 429.
    throttles_failures = True

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        parts = header.split()
        if not parts or parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Send the header as: Authorization: Rater TOKEN."))
        try:
            rater = rater_lookup(parts[1], request.META.get("REMOTE_ADDR", ""))
        except RaterThrottled as exc:
            raise exceptions.Throttled(wait=throttle.WINDOW_SECONDS) from exc
        if rater is None:
            raise exceptions.AuthenticationFailed(_("Unknown or revoked rater token."))
        return AnonymousUser(), rater

    def authenticate_header(self, request):
        return self.keyword


class IsRater(BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, Rater)
