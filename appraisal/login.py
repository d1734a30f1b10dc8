"""Sign-in and password reset, slowed per (address, user name) with growing delays.

A pair's first FREE_FAILURES wrong passwords cost nothing; each further one doubles its wait, from
FIRST_DELAY up to MAX_DELAY. The right password from another address, or from the same address for
another user, is never refused: a hall behind one NAT address is not blocked by one person's typos, and
nobody can lock an organizer out from elsewhere. One address trying many user names (spraying) is capped
as a whole, ADDRESS_LIMIT failures per ADDRESS_WINDOW. An admin lifts a wait (LoginLockoutAdmin).
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import LoginLockout

FREE_FAILURES = 5
FIRST_DELAY = 30  # seconds, after the 5th failure
MAX_DELAY = 60 * 60
ADDRESS_LIMIT = 100
ADDRESS_WINDOW = 15 * 60
RESET_PER_HOUR = 3


def delay_after(failures: int) -> int:
    """Seconds a pair waits after its n-th consecutive failure: 0 up to FREE_FAILURES - 1, then doubling."""
    if failures < FREE_FAILURES:
        return 0
    return min(MAX_DELAY, FIRST_DELAY * 2 ** (failures - FREE_FAILURES))


def _address(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "-"


def _address_failures(address: str) -> int:
    try:
        return cache.get(f"login-failures:ip:{address}", 0)
    except Exception:  # no cache: the per-pair waits, kept in the database, still hold
        return 0


def _address_failure(address: str) -> None:
    key = f"login-failures:ip:{address}"
    try:
        if not cache.add(key, 1, ADDRESS_WINDOW):
            cache.incr(key)
    except Exception:  # noqa: S110 - a cache outage must not stop the login
        pass


def waiting(kind: str, address: str, username: str) -> int:
    """Seconds the pair must still wait (0: it may try now)."""
    lock = LoginLockout.objects.filter(kind=kind, address=address, username=username).first()
    if lock is None or lock.locked_until is None:
        return 0
    return max(0, int((lock.locked_until - timezone.now()).total_seconds() + 0.999))


@transaction.atomic
def failure_record(kind: str, address: str, username: str) -> int:
    """Count one more failure of the pair; the seconds it now waits."""
    lock, _created = LoginLockout.objects.select_for_update().get_or_create(
        kind=kind, address=address, username=username
    )
    now = timezone.now()
    if not _created and lock.last_failure_at < now - datetime.timedelta(days=1):
        lock.failures = 0  # a day without failure: the pair starts again
        lock.save(update_fields=["failures"])
    LoginLockout.objects.filter(pk=lock.pk).update(failures=F("failures") + 1, last_failure_at=now)
    lock.refresh_from_db()
    seconds = delay_after(lock.failures)
    if seconds:
        lock.locked_until = now + datetime.timedelta(seconds=seconds)
        lock.save(update_fields=["locked_until"])
    return seconds


def success_record(kind: str, address: str, username: str) -> None:
    LoginLockout.objects.filter(kind=kind, address=address, username=username).delete()


@transaction.atomic
def lockouts_lift(*, lockouts, actor) -> int:
    """An admin lifts waits (LoginLockoutAdmin's action): the pairs start again from no failure."""
    import logging

    pairs = [(lock.kind, lock.address, lock.username) for lock in lockouts]
    deleted = LoginLockout.objects.filter(pk__in=[lock.pk for lock in lockouts]).delete()[0]
    logging.getLogger("kaoping.security").info("%s lifted sign-in waits: %s", actor, pairs)
    return deleted


def _too_many(seconds: int, message: str) -> HttpResponse:
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        address = _address(request)
        username = (request.POST.get("username") or "").strip().lower()[:150]
        wait = waiting(LoginLockout.Kind.LOGIN, address, username)
        if wait:
            return _too_many(
                wait,
                _(
                    "Too many failed sign-ins for this user from here. Try again in %(n)d seconds, or ask an "
                    "administrator to lift the wait."
                )
                % {"n": wait},
            )
        if _address_failures(address) >= ADDRESS_LIMIT:
            return _too_many(ADDRESS_WINDOW, _("Too many failed sign-ins from this address. Try again later."))
        return super().post(request, *args, **kwargs)

    # The form's verdict, not request.user: someone signed in already may sign in as another user.
    def form_valid(self, form):
        success_record(LoginLockout.Kind.LOGIN, _address(self.request), self._username())
        return super().form_valid(form)

    def form_invalid(self, form):
        address = _address(self.request)
        failure_record(LoginLockout.Kind.LOGIN, address, self._username())
        _address_failure(address)
        return super().form_invalid(form)

    def _username(self) -> str:
        return (self.request.POST.get("username") or "").strip().lower()[:150]


class RateLimitedPasswordResetView(auth_views.PasswordResetView):
    """Password reset, only where mail is configured (appraisal.urls); at most RESET_PER_HOUR requests an
    hour from one address, answered alike whether the e-mail address is known or not."""

    def post(self, request, *args, **kwargs):
        from django.db.models import Sum

        address = _address(request)
        email = (request.POST.get("email") or "").strip().lower()[:254]
        recent = LoginLockout.objects.filter(
            kind=LoginLockout.Kind.RESET,
            address=address,
            last_failure_at__gt=timezone.now() - datetime.timedelta(hours=1),
        ).aggregate(n=Sum("failures"))["n"]
        if (recent or 0) >= RESET_PER_HOUR:
            return _too_many(3600, _("Too many password reset requests from here. Try again in an hour."))
        failure_record(LoginLockout.Kind.RESET, address, email)  # every request counts: each may send a mail
        return super().post(request, *args, **kwargs)


def password_reset_enabled() -> bool:
    return bool(getattr(settings, "EMAIL_HOST", ""))
