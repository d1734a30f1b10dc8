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
    """Issue 17: the pair (address, user name) waits, with growing delays; the right password is refused
    while it waits, on the console's login and the admin's."""
    from django.utils import timezone

    from appraisal.login import FREE_FAILURES
    from appraisal.models import LoginLockout

    get_user_model().objects.create_user("kaohe", password="right-password-123")
    for _ in range(FREE_FAILURES):
        assert client.post("/accounts/login/", {"username": "kaohe", "password": "wrong"}).status_code == 200

    refused = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})
    admin_refused = client.post("/admin/login/", {"username": "kaohe", "password": "right-password-123"})
    LoginLockout.objects.update(locked_until=timezone.now())  # the first wait is over
    client.post("/accounts/login/", {"username": "kaohe", "password": "wrong again"})
    longer = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})

    assert refused.status_code == 429 and admin_refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 30
    assert 30 < int(longer["Retry-After"]) <= 60 and longer.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_login_wait_binds_one_address_and_one_user_and_an_admin_lifts_it(admin_client):
    from django.test import Client

    from appraisal.models import LoginLockout

    get_user_model().objects.create_user("kaohe", password="right-password-123")
    get_user_model().objects.create_user("other", password="other-password-123")
    client = Client()
    for _ in range(10):
        client.post("/accounts/login/", {"username": "kaohe", "password": "wrong"})
    elsewhere = Client(REMOTE_ADDR="10.1.2.3").post(
        "/accounts/login/", {"username": "kaohe", "password": "right-password-123"}
    )
    same_hall_other_user = Client().post("/accounts/login/", {"username": "other", "password": "other-password-123"})
    waiting = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})
    lock = LoginLockout.objects.get(username="kaohe")
    admin_client.post(
        "/admin/appraisal/loginlockout/", {"action": "lift", "_selected_action": [lock.pk]}, REMOTE_ADDR="10.9.9.9"
    )
    lifted = client.post("/accounts/login/", {"username": "kaohe", "password": "right-password-123"})

    assert elsewhere.status_code == 302 and same_hall_other_user.status_code == 302
    assert waiting.status_code == 429
    assert lifted.status_code == 302 and not LoginLockout.objects.filter(username="kaohe").exists()


def test_password_reset_is_off_without_mail(client):
    assert client.get("/accounts/password_reset/").status_code == 404


@pytest.mark.django_db
@pytest.mark.urls("tests.urls_with_reset")
def test_password_reset_requests_are_capped_per_address(mailoutbox):
    from django.test import Client

    from appraisal.login import RESET_PER_HOUR

    get_user_model().objects.create_user("kaohe", email="kaohe@example.cn", password="right-password-123")

    def ask(address):
        return Client(REMOTE_ADDR=address).post("/accounts/password_reset/", {"email": "kaohe@example.cn"})

    answers = [ask("192.0.2.1").status_code for _ in range(RESET_PER_HOUR + 2)]
    elsewhere = ask("192.0.2.99")

    assert answers == [302] * RESET_PER_HOUR + [429, 429]
    assert elsewhere.status_code == 302
    assert len(mailoutbox) == RESET_PER_HOUR + 1


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
