"""Root URLs: the one module that knows every app."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from appraisal import views as appraisal_views
from meetings import api as meetings_api

api_v1 = [
    path("meetings/import", meetings_api.MeetingImportApi.as_view(), name="meetings-import"),
]

urlpatterns = [
    path("", appraisal_views.home, name="home"),
    path("healthz", appraisal_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
