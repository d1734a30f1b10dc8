"""The project's URLs plus the bare baselines the benchmarks compare against (same middleware, same processes)."""

from django.db import connection
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt


def baseline_not_modified(request):
    """What answering a poll costs with no work at all: the floor for the live-state endpoint."""
    return HttpResponse(status=304)


def baseline_page(request):
    """The smallest page: what fetching any page over the emulated network costs at the least."""
    return HttpResponse("<!doctype html><title>x</title><p>x</p>", content_type="text/html")


@csrf_exempt
def baseline_insert(request):
    """Authenticates nothing, validates nothing, INSERTs one row: the floor for a ballot submission."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_baseline (body) VALUES (%s)", [request.body.decode("utf-8", "replace")[:200]])
    return HttpResponse(status=201)


urlpatterns = [
    path("bench/baseline-304", baseline_not_modified),
    path("bench/baseline-page", baseline_page),
    path("bench/baseline-insert", baseline_insert),
    path("", include("appraisal.urls")),
]
