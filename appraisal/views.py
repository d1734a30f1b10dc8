from django.db import connection
from django.http import JsonResponse


def healthz(request):
    """Liveness for the load balancer: the web process answers and reaches the database."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request, exception=None):
    """A JSON 404 for API clients, the usual page for people."""
    from django.utils.translation import gettext as _
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        from .exceptions import error_body

        return JsonResponse(error_body(_("Not found."), "not_found"), status=404)
    return page_not_found(request, exception)
