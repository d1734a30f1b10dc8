"""The organizers' login, rate-limited: failed attempts are counted per address and per username."""

from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _

FAILURES_ALLOWED = 10
WINDOW_SECONDS = 15 * 60


def _keys(request) -> list[str]:
    username = (request.POST.get("username") or "").strip().lower()[:150]
    ip = request.META.get("REMOTE_ADDR", "")
    # Per username as well as per address: the hall shares one address, an attacker may rotate them.
    return [f"login-failures:ip:{ip}", f"login-failures:user:{username}"]


def _count(key: str) -> int:
    try:
        return cache.get(key, 0)
    except Exception:  # no cache: no rate limit, but the login still works
        return 0


def _record_failure(keys: list[str]) -> None:
    for key in keys:
        try:
            if not cache.add(key, 1, WINDOW_SECONDS):
                cache.incr(key)
        except Exception:  # noqa: S112 - a cache outage must not stop the login
            continue


class RateLimitedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        keys = _keys(request)
        if any(_count(key) >= FAILURES_ALLOWED for key in keys):
            response = HttpResponse(
                _("Too many failed logins. Wait 15 minutes, or ask an administrator to help."), status=429
            )
            response["Retry-After"] = str(WINDOW_SECONDS)
            return response
        response = super().post(request, *args, **kwargs)
        if not request.user.is_authenticated:
            _record_failure(keys)
        return response
