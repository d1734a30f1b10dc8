"""Issue 19: a ballot's way to PostgreSQL counted on the wire (libpq's own protocol trace), not timed.

A hall's burst is bound by round trips: each one wakes a backend and waits for it. A phone ballot takes
three: the token's read (which is also the connection's health check), BEGIN with the seat lock and the
context read, and the INSERT with its COMMIT. Before issue 19 it took five (a ``SELECT 1`` first, and the
COMMIT alone)."""

import contextlib
import itertools
import tempfile

import psycopg
import pytest
from django.db import Error, connection

from voting.models import Ballot, IdempotencyRecord
from voting.services import ballot_submit

from .test_database_outage import LEAD_SCORES, put

pytestmark = pytest.mark.django_db(transaction=True)

SCORES = LEAD_SCORES


def round_trips(run) -> tuple[object, int, list[str]]:
    """Runs ``run`` with libpq tracing Django's connection; the trips are the turns from the client's
    messages (F) to the server's (B)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            result = run()
        finally:
            pgconn.untrace()
        trace.seek(0)
        lines = trace.read().splitlines()
    sides = [line.split("\t", 1)[0] for line in lines]
    trips = sum(1 for before, after in itertools.pairwise(sides) if before == "F" and after == "B")
    return result, trips, lines


@contextlib.contextmanager
def ballot_inserts_refused():
    """A real failure of the ballot's INSERT inside PostgreSQL, after every rule passed in Python: a trigger
    that raises, dropped on leaving the block."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'refused by the test'; END$$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON voting_ballot FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse ON voting_ballot")
            cursor.execute("DROP FUNCTION test_refuse()")


def committed_elsewhere(presentation_id) -> int:
    """The presentation's ballots as another session sees them: only what was committed."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as other:
        return other.execute(
            "SELECT count(*) FROM voting_ballot WHERE presentation_id = %s", [presentation_id]
        ).fetchone()[0]


def test_ballot_put_takes_three_round_trips_with_the_health_check_due(client, hall):
    first, second = hall.presentations[:2]
    hall.open(first, second)
    token = hall.token("leadership")
    assert put(client, token, first.pk, key="warm").status_code == 201  # prepares the statements, reads the form

    connection.health_check_done = False  # a new request on the kept connection
    response, trips, trace = round_trips(lambda: put(client, token, second.pk, key="measured"))

    assert response.status_code == 201
    assert trips == 3, "\n".join(trace)
    assert not any(line.startswith("F") and '"SELECT 1"' in line for line in trace)  # no health check query
    assert sum(1 for line in trace if line.startswith("F") and '"BEGIN"' in line) == 1
    assert sum(1 for line in trace if line.startswith("F") and '"COMMIT"' in line) == 1
    assert committed_elsewhere(second.pk) == 1  # the COMMIT that went out with the INSERT took effect


def test_ballot_whose_insert_fails_is_rolled_back_and_the_connection_stays_clean(hall):
    presentation = hall.presentations[0]
    hall.open(presentation)
    rater = next(r for r in hall.raters if r.token == hall.token("leadership"))
    from voting.selectors import rater_by_token

    seat = rater_by_token(rater.token)
    with ballot_inserts_refused():
        with pytest.raises(Error, match="refused by the test"):
            ballot_submit(rater=seat, presentation_id=presentation.pk, scores=SCORES, idempotency_key="k1")

        assert not connection.in_atomic_block
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert Ballot.objects.count() == 0 and IdempotencyRecord.objects.count() == 0

    result = ballot_submit(rater=seat, presentation_id=presentation.pk, scores=SCORES, idempotency_key="k1")

    assert result.status == 201
    assert committed_elsewhere(presentation.pk) == 1
    assert IdempotencyRecord.objects.count() == 1


def test_ballot_inside_a_callers_transaction_leaves_the_commit_to_the_caller(hall):
    from django.db import transaction

    presentation = hall.presentations[0]
    hall.open(presentation)
    from voting.selectors import rater_by_token

    seat = rater_by_token(hall.token("leadership"))

    with transaction.atomic():
        result = ballot_submit(rater=seat, presentation_id=presentation.pk, scores=SCORES)
        assert result.status == 201
        assert committed_elsewhere(presentation.pk) == 0  # still the caller's, not committed behind its back
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS

    assert committed_elsewhere(presentation.pk) == 1


def test_receipt_uses_every_character_in_every_position():
    from voting.services.ballots import RECEIPT_ALPHABET, RECEIPT_LENGTH, receipt_generate

    receipts = {receipt_generate() for _ in range(3000)}

    assert len(receipts) == 3000  # 60 bits: no repeats at this count
    assert all(len(r) == RECEIPT_LENGTH and set(r) <= set(RECEIPT_ALPHABET) for r in receipts)
    for position in range(RECEIPT_LENGTH):  # each of the 32 characters, at each place (misses: about 1e-40)
        assert {r[position] for r in receipts} == set(RECEIPT_ALPHABET)


def prepared_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def test_refused_ballot_keeps_the_connections_prepared_statements(client, hall):
    first, pending, second = hall.presentations[:3]
    hall.open(first, second)
    token = hall.token("leadership")
    assert put(client, token, first.pk, key="warm").status_code == 201
    prepared = prepared_names()

    refused = put(client, token, pending.pk, key="too-early")  # voting not open: refused after the lock

    assert refused.status_code == 409
    assert refused.json()["code"] == "voting_not_open"
    # Refusals end their transaction with a COMMIT: a rollback makes psycopg deallocate every statement.
    assert prepared_names() == prepared
    response, trips, trace = round_trips(lambda: put(client, token, second.pk, key="after"))
    assert response.status_code == 201 and trips == 3  # nothing to prepare again
    assert not any(line.startswith("F") and "Parse" in line and '"_pg3_' in line for line in trace)
    assert committed_elsewhere(pending.pk) == 0 and committed_elsewhere(second.pk) == 1
