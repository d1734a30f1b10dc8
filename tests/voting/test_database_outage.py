"""The database connection lost mid-meeting (a PostgreSQL restart): a 503 with Retry-After, never a 500,
and the phone's resend with the same Idempotency-Key stores its ballot once.

The fault is real: another session terminates this test's PostgreSQL backend."""

import json

import psycopg
import pytest
from django.db import connection

from voting.models import Ballot

pytestmark = pytest.mark.django_db(transaction=True)

LEAD_SCORES = {"performance": "55.5", "innovation": "30"}


@pytest.fixture
def lose_connection():
    """Terminate the backend Django is connected to, as a restart would; reconnect afterwards."""

    def lose():
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    yield lose
    connection.close()


def put(client, token, presentation_id, key):
    return client.put(
        f"/api/v1/rater/ballots/{presentation_id}",
        data=json.dumps({"scores": LEAD_SCORES}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def test_ballot_put_during_a_database_outage_is_503_and_the_resend_stores_once(client, hall, lose_connection):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")

    lose_connection()
    response = put(client, token, hall.presentations[0].pk, key="resend-me")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"detail": "服务暂时不可用，请稍后重试。", "code": "unavailable", "errors": []}
    connection.close()  # what Django does at the end of every request once a connection broke
    assert Ballot.objects.count() == 0

    again = put(client, token, hall.presentations[0].pk, key="resend-me")

    assert again.status_code == 201
    assert Ballot.objects.count() == 1


def test_rater_page_during_a_database_outage_is_503_that_reloads_itself(client, hall, lose_connection, caplog):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")

    lose_connection()
    response = client.get(f"/r/{token}/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert '<meta http-equiv="refresh" content="5">' in page
    assert "服务暂时不可用，请稍后重试。" in page
    logged = [r.getMessage() for r in caplog.records if r.name == "kaoping.database"]
    assert len(logged) == 1 and "/r/[redacted]/" in logged[0] and token not in logged[0]


def test_rater_form_post_during_a_database_outage_asks_to_send_again(client, hall, lose_connection):
    hall.open(hall.presentations[0])
    url = f"/r/{hall.token('leadership')}/p/{hall.presentations[0].pk}/"

    lose_connection()
    response = client.post(url, {"performance": "50", "innovation": "30", "idempotency_key": "k1"})

    assert response.status_code == 503
    page = response.content.decode()
    assert "http-equiv" not in page  # a sent form is never resent behind the rater's back
    assert "返回" in page
    connection.close()
    assert Ballot.objects.count() == 0


def test_database_errors_that_are_not_an_outage_are_left_alone():
    from django.db import DataError, IntegrityError, ProgrammingError

    from appraisal.middleware import DatabaseUnavailableMiddleware

    middleware = DatabaseUnavailableMiddleware(lambda request: None)

    for error in (DataError("value too long"), IntegrityError("duplicate key"), ProgrammingError("no such column")):
        assert middleware.process_exception(None, error) is None


def test_console_page_during_a_database_outage_is_503_not_a_login_loop(client, hall, lose_connection):
    from django.contrib.auth import get_user_model
    from guardian.shortcuts import assign_perm

    user = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", user, hall.meeting)
    client.force_login(user)

    lose_connection()
    response = client.get(f"/console/m/{hall.meeting.pk}/")

    # The session could not be read: a redirect to the login page would be a lie.
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


@pytest.fixture
def usable_checks(monkeypatch):
    """How often Django's health check query (is_usable) runs; the real check still runs."""
    from django.db import connections

    wrapper = connections["default"]
    calls = []
    real = wrapper.is_usable

    def counted():
        calls.append(1)
        return real()

    monkeypatch.setattr(wrapper, "is_usable", counted)
    return calls


def test_ballot_put_checks_the_connection_with_its_first_read_not_a_select_1(client, hall, usable_checks):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    connection.ensure_connection()
    connection.health_check_done = False  # what the start of every request does (close_old_connections)

    response = put(client, token, hall.presentations[0].pk, key="first")

    assert response.status_code == 201
    assert usable_checks == []  # the token's read was the check
    assert connection.health_check_done


def test_ballot_put_on_a_connection_lost_between_requests_reconnects_and_stores(
    client, hall, lose_connection, usable_checks
):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")

    lose_connection()  # PostgreSQL restarted while the worker waited for its next request
    connection.health_check_done = False  # a new request
    response = put(client, token, hall.presentations[0].pk, key="after-restart")

    assert response.status_code == 201  # as Django's own check would have: no 503 for a stale connection
    assert usable_checks == [1]  # asked once, after the read failed
    assert Ballot.objects.count() == 1
