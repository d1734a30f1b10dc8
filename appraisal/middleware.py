"""Security headers Django 5.2 does not set itself."""

from django.conf import settings

# No inline script or style anywhere in our pages (data goes through json_script, charts through SVG
# attributes), so the policy needs no 'unsafe-inline'. Swagger UI and the admin bring inline code of
# their own and get a policy that allows it, on their paths only.
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
RELAXED = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
RELAXED_PREFIXES = ("/api/docs/", "/api/redoc/", "/admin/")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.relaxed = tuple(getattr(settings, "CSP_RELAXED_PREFIXES", RELAXED_PREFIXES))

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = RELAXED if request.path.startswith(self.relaxed) else STRICT
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class DatabaseUnavailableMiddleware:
    """A lost or failing database connection is a 503 with Retry-After, not a 500.

    While PostgreSQL restarts or fails over, every request fails the same way; a phone resends
    its ballot with the same Idempotency-Key, so "try again shortly" is the true answer. Only
    OperationalError (connection lost or refused, server shutting down, deadlock, timeout) and
    InterfaceError qualify: a programming, data or integrity error is a bug and stays a 500.
    """

    RETRY_AFTER_SECONDS = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.db import InterfaceError, OperationalError

        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request, exception):
    import logging

    from django.http import HttpResponse, JsonResponse
    from django.template.loader import render_to_string
    from django.utils.translation import gettext as _

    from .exceptions import error_body
    from .logging import redact

    # One line, not a traceback per request: during an outage every request says the same.
    reason = (str(exception).strip().splitlines() or [type(exception).__name__])[0]
    logging.getLogger("kaoping.database").warning("database unavailable on %s: %s", redact(request.path), reason)
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(message, "unavailable"), status=503)
    else:
        # A page that was only being read reloads itself; a form that was sent is not resent behind the rater's back.
        retry = DatabaseUnavailableMiddleware.RETRY_AFTER_SECONDS if request.method in ("GET", "HEAD") else None
        response = HttpResponse(render_to_string("503.html", {"message": message, "retry": retry}), status=503)
    response["Retry-After"] = str(DatabaseUnavailableMiddleware.RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # logged above; django.request would add an error per request
    return response


def _networks(entries):
    import ipaddress

    out = []
    for entry in entries:
        entry = entry.strip()
        if entry:
            out.append(ipaddress.ip_network(entry, strict=False))
    return out


class TrustedProxyMiddleware:
    """The client's address behind the reverse proxies we trust (TRUSTED_PROXIES: addresses or networks).

    When the connection comes from a trusted proxy, X-Forwarded-For is read from the right, skipping trusted
    proxies, and the first address that is not one is the client: every later step (the rater throttle, the
    login lockout, the audit log) sees the phone's address, not the proxy's. From anyone else the header is
    ignored, so a client cannot pick its own address."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.trusted = _networks(getattr(settings, "TRUSTED_PROXIES", []))

    def _trusted(self, address: str) -> bool:
        import ipaddress

        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted)

    def __call__(self, request):
        peer = request.META.get("REMOTE_ADDR", "")
        if self.trusted and self._trusted(peer):
            chain = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
            client = peer
            for address in reversed(chain):
                client = address
                if not self._trusted(address):
                    break
            if client != peer:
                import ipaddress

                try:
                    client = str(ipaddress.ip_address(client))
                except ValueError:
                    client = peer  # garbage in the header: keep the proxy's own address
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """Cache-Control: no-store on every answer to a signed-in user or an API client with an account's token
    (organizers, auditors, department contacts, admins): no shared or browser cache keeps a ranking under
    review or an appeal. Public answers and the rater path keep their own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        credentials = request.META.get("HTTP_AUTHORIZATION", "")
        private = (
            # An organizer's API token; a rater's card (Authorization: Rater) keeps the rater path's own headers.
            (credentials and not credentials.startswith("Rater "))
            or request.path.startswith(("/console/", "/feedback/", "/admin/", "/accounts/"))
            or (user is not None and user.is_authenticated)
        )
        if private and "no-store" not in response.get("Cache-Control", ""):
            from django.utils.cache import patch_cache_control

            if response.get("Cache-Control", "").startswith("public"):
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        return response
