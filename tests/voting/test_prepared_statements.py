"""Issue 19: the ballot's hot statements are prepared once per connection on PostgreSQL, and Django still
counts each of them, so the guards against N+1 keep counting them."""

import json

import pytest
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext

from voting.models import Ballot

pytestmark = pytest.mark.django_db


def put(client, token, presentation_id, scores):
    return client.put(
        f"/api/v1/rater/ballots/{presentation_id}",
        data=json.dumps({"scores": scores}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {token}",
        HTTP_IDEMPOTENCY_KEY=f"key-{presentation_id}",
    )


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(statement, name) FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_ballot_statements_are_prepared_once_and_still_counted(client, hall):
    for presentation in hall.presentations[:2]:
        hall.open(presentation)
    first, second = hall.presentations[:2]
    scores = {"performance": "55.5", "innovation": "30"}

    reset_queries()  # with DEBUG on, a full log (9,000 entries) would hide what is captured
    with CaptureQueriesContext(connection) as captured:
        created = put(client, hall.token("leadership"), first.pk, scores)
    sql = [q["sql"] for q in captured.captured_queries]  # read now: the next request clears Django's log
    after_one = prepared_statements()
    again = put(client, hall.token("leadership"), second.pk, scores)
    after_two = prepared_statements()

    assert created.status_code == 201 and again.status_code == 201
    assert Ballot.objects.filter(presentation__in=[first, second]).count() == 2
    # Counted by Django (8: token, savepoint, lock, context, form reads, INSERT, release), text not kept.
    assert len(sql) == 8 and sum(1 for s in sql if s is None) == 4
    hot = [s for s in after_one if "pg_advisory_xact_lock" in s or "INSERT INTO voting_ballot" in s]
    assert len(hot) == 2 and "token_hash" in " ".join(after_one)
    assert len(after_two) == len(after_one)  # the second ballot reused them: nothing prepared anew
