"""Security configuration: deploy checks, CSP, secure cookies, the login rate limit."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

ROOT = Path(__file__).resolve().parents[2]


def run_check(env: dict) -> subprocess.CompletedProcess:
    # A deployment environment: none of the test run's own variables (DJANGO_ALLOW_ASYNC_UNSAFE, the keys).
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "BALLOT_PSEUDONYM_KEY", "DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=base | env, capture_output=True, text=True,
    )  # fmt: skip


def test_production_settings_pass_check_deploy():
    result = run_check(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "BALLOT_PSEUDONYM_KEY": secrets.token_urlsafe(40),
            "ALLOWED_HOSTS": "kaoping.example.gov.cn",
        }
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_refuses_the_demo_secrets():
    result = run_check({"DEBUG": "0", "ALLOWED_HOSTS": "kaoping.example.gov.cn"})

    assert result.returncode != 0
    assert "kaoping.E001" in result.stderr + result.stdout and "kaoping.E002" in result.stderr + result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/r/not-a-token-000000000000000/", "/results/m/1/"])
def test_pages_carry_a_strict_content_security_policy(client, path):
    policy = client.get(path)["Content-Security-Policy"]

    assert "script-src 'self';" in policy and "style-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


@pytest.mark.django_db
def test_login_rate_limited_after_repeated_failures(client):
    get_user_model().objects.create_user("kaohe", password="right-password-123")
    for _ in range(10):
        assert client.post("/accounts/login/", {"username": "kaohe", "password": "wrong"}).status_code == 200

    refused = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})
    admin_refused = client.post("/admin/login/", {"username": "kaohe", "password": "right-password-123"})

    assert refused.status_code == 429 and admin_refused.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_works_and_failures_of_others_do_not_lock_a_user_out(client):
    get_user_model().objects.create_user("kaohe", password="right-password-123")
    for _ in range(3):
        client.post("/accounts/login/", {"username": "someone", "password": "wrong"})

    response = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"]


@pytest.mark.django_db
def test_every_html_form_posts_with_a_csrf_token(client, small_document):
    from meetings.services import meeting_import

    result = meeting_import(document=small_document(), actor=None)
    presentation = result.meeting.presentations.first()
    presentation.state = "open"
    presentation.save()
    token = result.raters[0].token
    client.enforce_csrf_checks = True
    strict = client.__class__(enforce_csrf_checks=True)

    page = strict.get(f"/r/{token}/p/{presentation.pk}/").content.decode()
    no_token = strict.post(f"/r/{token}/p/{presentation.pk}/", {"performance": "10", "innovation": "10"})

    assert page.count("csrfmiddlewaretoken") >= 2  # the ballot form and the language switch
    assert no_token.status_code == 403
