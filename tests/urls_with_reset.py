"""The site's URLs as where mail is configured: with password reset (appraisal.urls adds it then)."""

from appraisal.urls import password_reset_urls
from appraisal.urls import urlpatterns as site

urlpatterns = [*password_reset_urls, *site]
