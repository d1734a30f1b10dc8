"""The project as a whole: compose file, API schema and docs, admin, translations."""

import re
from pathlib import Path

import polib
import pytest
import yaml
from django.apps import apps
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_docker_compose_parses_and_names_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))

    services = compose["services"]
    assert {"postgres", "redis", "web", "worker"} <= set(services)
    assert "gunicorn" in " ".join(services["web"]["command"])
    assert services["worker"]["command"][:3] == ["celery", "-A", "appraisal"]
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "DATABASE_URL" in services["web"]["environment"]
    assert "BALLOT_PSEUDONYM_KEY" in services["worker"]["environment"]


@pytest.mark.django_db
def test_openapi_schema_served_with_import_endpoint(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/meetings/import" in schema["paths"]


@pytest.mark.django_db
def test_api_docs_page_works_offline(client):
    response = client.get(reverse("api-docs"))

    assert response.status_code == 200
    html = response.content.decode()
    external = [src for src in re.findall(r'(?:src|href)="([^"]+)"', html) if src.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.django_db
def test_healthz_answers(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_home_page_in_chinese_by_default_and_english_on_request(client):
    chinese = client.get("/").content.decode()
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert "考评" in chinese
    assert "Kaoping appraisal" in english


@pytest.mark.django_db
def test_admin_changelist_of_every_model_loads(admin_client):
    from django.contrib import admin

    for model in apps.get_models():
        if model not in admin.site._registry or model._meta.app_label not in {
            "appraisal",
            "meetings",
            "voting",
            "reports",
        }:
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_every_project_model_is_in_the_admin():
    from django.contrib import admin

    missing = [
        model.__name__
        for model in apps.get_models()
        if model._meta.app_label in {"appraisal", "meetings", "voting", "reports"} and model not in admin.site._registry
    ]
    assert missing == []


def test_chinese_catalogue_translates_every_message():
    entries = polib.pofile(str(ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))

    untranslated = [
        e.msgid
        for e in entries
        if e.msgid
        and ("fuzzy" in e.flags or (not e.msgstr if not e.msgid_plural else not all(e.msgstr_plural.values())))
    ]
    assert untranslated == []
    assert len(entries) > 100


def test_compiled_catalogues_present():
    for language in ("zh_Hans", "en"):
        po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        assert mo.exists(), mo
        assert mo.stat().st_size > 0


def test_openapi_schema_validates_without_warnings():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stderr[-2000:]
