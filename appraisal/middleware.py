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
