"""Issue 19: a new ballot for a presentation the process has read open goes out as one guarded statement,
BEGIN, the seat's lock and the COMMIT beside it: two round trips with the token's read instead of three,
and one for a seat the worker remembers (the statement then checks the token again).

The statement writes only where its own read, after the lock, shows what every rule passes; anything else
is decided by the same rules on that read (a refusal, the stored answer of a repeat) or by the ordinary
transaction (a replacement, a presentation that changed since the process read it). Counted on the wire,
never timed."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.db import Error, connection, transaction
from django.test import Client

from appraisal.models import Department
from meetings.models import Presentation, Rater
from meetings.services import rater_token_hash
from voting.canonical import ballot_line, line_digest
from voting.models import Ballot, BallotValue, IdempotencyRecord
from voting.selectors import rater_by_token
from voting.services import ballot_submit, voting_set

from .test_ballot_round_trips import ballot_inserts_refused, committed_elsewhere, prepared_names, round_trips
from .test_database_outage import LEAD_SCORES, lose_connection, put  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def open_now(hall, presentation) -> Presentation:
    """Open voting as the console does (the opening time set), and read it back."""
    voting_set(meeting=hall.meeting, presentation_id=presentation.pk, action="open", actor=None, ip=None)
    return Presentation.objects.get(pk=presentation.pk)


def close_now(hall, presentation) -> None:
    voting_set(meeting=hall.meeting, presentation_id=presentation.pk, action="close", actor=None, ip=None)


def read_open(client, hall, presentation) -> None:
    """Another seat's ballot: the process reads the presentation open (the ordinary path, three trips)."""
    assert (
        put(client, hall.token("leadership", 1), presentation.pk, key=f"first-seat-{presentation.pk}").status_code
        == 201
    )


def put_scores(client, token, presentation_id, scores, key):
    return client.put(
        f"/api/v1/rater/ballots/{presentation_id}",
        data=json.dumps({"scores": scores}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {token}",
        HTTP_IDEMPOTENCY_KEY=key,
    )


def verifies(ballot: Ballot) -> bool:
    """The ballot's stored line digest is the one its stored values give (as the exports recompute it)."""
    values = BallotValue.objects.filter(ballot=ballot).select_related("criterion")
    line = ballot_line(
        receipt=ballot.receipt,
        presentation=ballot.presentation_id,
        department=ballot.presentation.department.code,
        role=ballot.role.code,
        points={v.criterion.code: v.points for v in values},
    )
    return ballot.line_sha256 == line_digest(line)


def test_new_ballot_of_a_presentation_read_open_takes_two_round_trips(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")

    connection.health_check_done = False  # a new request on the kept connection
    response, trips, trace = round_trips(lambda: put(client, token, presentation.pk, key="measured"))

    assert response.status_code == 201, response.content
    assert trips == 2, "\n".join(trace)
    assert sum(1 for line in trace if line.startswith("F") and '"BEGIN"' in line) == 1
    assert sum(1 for line in trace if line.startswith("F") and '"COMMIT"' in line) == 1
    assert committed_elsewhere(presentation.pk) == 2
    body = response.json()
    ballot = Ballot.objects.select_related("presentation__department", "role").get(
        receipt=body["receipt"].replace("-", "")
    )
    assert body["department"] == presentation.department.code
    assert body["updated_at"] == presentation.opened_at.isoformat() == ballot.created_at.isoformat()
    assert (
        body["scores"] == {"performance": "55.5000", "innovation": "30.0000"}
        and body["total"] == "85.5000"
        and body["state"] == "submitted"
    )
    assert ballot.total == 85.5 and ballot.source == "phone" and verifies(ballot)
    record = IdempotencyRecord.objects.get(key="measured")
    assert record.response == body and record.status_code == 201


def test_guarded_ballot_after_voting_closed_is_refused_and_writes_nothing(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    prepared = prepared_names()
    close_now(hall, presentation)

    response, trips, _trace = round_trips(lambda: put(client, hall.token("leadership"), presentation.pk, key="late"))

    assert response.status_code == 409 and response.json()["code"] == "voting_closed"
    assert trips == 2  # decided on the guarded statement's own read
    assert committed_elsewhere(presentation.pk) == 1
    assert not IdempotencyRecord.objects.filter(key="late").exists()
    assert prepared <= prepared_names()  # ended with a COMMIT: nothing deallocated


def test_guarded_ballot_sent_twice_is_stored_once_and_answered_from_its_key(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")
    first = put(client, token, presentation.pk, key="twice")

    again, trips, _trace = round_trips(lambda: put(client, token, presentation.pk, key="twice"))

    assert first.status_code == 201 and again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    assert trips == 1  # the seat remembered from the first send: no token read
    assert committed_elsewhere(presentation.pk) == 2


def test_guarded_ballot_key_used_for_other_scores_is_422(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")
    assert put(client, token, presentation.pk, key="one-key").status_code == 201

    other = put_scores(client, token, presentation.pk, {"performance": "40", "innovation": "20"}, key="one-key")

    assert other.status_code == 422 and other.json()["code"] == "idempotency_mismatch"
    assert Ballot.objects.filter(presentation=presentation).count() == 2


def test_replacement_after_a_guarded_ballot_keeps_its_receipt(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")
    created = put(client, token, presentation.pk, key="before")

    replaced = put_scores(client, token, presentation.pk, {"performance": "40", "innovation": "20"}, key="after")

    assert created.status_code == 201 and replaced.status_code == 200
    assert replaced.json()["receipt"] == created.json()["receipt"] and replaced.json()["total"] == "60.0000"
    ballot = Ballot.objects.select_related("presentation__department", "role").get(
        receipt=created.json()["receipt"].replace("-", "")
    )
    assert ballot.total == 60 and verifies(ballot)
    assert Ballot.objects.filter(presentation=presentation).count() == 2


def test_reopened_presentation_is_read_again_and_the_ballot_keeps_the_new_opening(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    close_now(hall, presentation)
    reopened = open_now(hall, presentation)
    assert reopened.opened_at != presentation.opened_at

    response = put(client, hall.token("leadership"), presentation.pk, key="reopened")

    assert response.status_code == 201
    assert response.json()["updated_at"] == reopened.opened_at.isoformat()
    ballot = Ballot.objects.get(receipt=response.json()["receipt"].replace("-", ""))
    assert ballot.created_at == reopened.opened_at


def test_department_code_changed_since_read_is_read_again(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    Department.objects.filter(pk=presentation.department_id).update(code="RENAMED")

    response = put(client, hall.token("leadership"), presentation.pk, key="renamed")

    assert response.status_code == 201 and response.json()["department"] == "RENAMED"
    ballot = Ballot.objects.select_related("presentation__department", "role").get(
        receipt=response.json()["receipt"].replace("-", "")
    )
    assert verifies(ballot)


def test_recused_seat_is_refused_after_the_presentation_was_read_open(client, hall):
    recused = rater_by_token(hall.recused_token)
    presentation = open_now(hall, next(p for p in hall.presentations if p.department_id == recused.department_id))
    read_open(client, hall, presentation)

    response = put_scores(client, hall.recused_token, presentation.pk, {"overall": "good"}, key="own")

    assert response.status_code == 403 and response.json()["code"] == "recused"
    assert committed_elsewhere(presentation.pk) == 1


def test_concurrent_guarded_submissions_of_one_seat_end_with_one_ballot(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")

    def send(i):
        try:
            key = "same-key" if i % 2 else f"key-{i}"
            return put(Client(), token, presentation.pk, key=key).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(send, range(24)))

    assert set(codes) <= {200, 201} and codes.count(201) >= 1
    assert Ballot.objects.filter(presentation=presentation).count() == 2
    assert BallotValue.objects.filter(ballot__presentation=presentation).count() == 4


def test_quota_grade_on_presentations_read_open_still_holds_the_quota(client, hall):
    presentations = [open_now(hall, p) for p in hall.presentations[1:]]
    for p in presentations:  # another public seat reads both open
        assert put_scores(client, hall.token("public", 1), p.pk, {"overall": "good"}, key=f"r{p.pk}").status_code == 201
    token = hall.token("public")

    def send(p):
        try:
            return put_scores(Client(), token, p.pk, {"overall": "excellent"}, key=f"q{p.pk}").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(send, presentations))

    assert codes == [201, 409]
    assert BallotValue.objects.filter(grade__code="excellent").count() == 1


def test_guarded_ballot_inside_a_callers_transaction_leaves_the_commit_to_the_caller(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    seat = rater_by_token(hall.token("leadership"))

    with transaction.atomic():
        result = ballot_submit(rater=seat, presentation_id=presentation.pk, scores=LEAD_SCORES)
        assert result.status == 201
        assert committed_elsewhere(presentation.pk) == 1  # still the caller's
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS

    assert committed_elsewhere(presentation.pk) == 2


def test_guarded_ballot_whose_insert_fails_is_rolled_back_and_the_connection_stays_clean(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    seat = rater_by_token(hall.token("leadership"))
    with ballot_inserts_refused():
        with pytest.raises(Error, match="refused by the test"):
            ballot_submit(rater=seat, presentation_id=presentation.pk, scores=LEAD_SCORES, idempotency_key="k1")

        assert not connection.in_atomic_block
        assert connection.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert committed_elsewhere(presentation.pk) == 1
        assert not IdempotencyRecord.objects.filter(key="k1").exists()

    result = ballot_submit(rater=seat, presentation_id=presentation.pk, scores=LEAD_SCORES, idempotency_key="k1")

    assert result.status == 201
    assert committed_elsewhere(presentation.pk) == 2


def two_open(client, hall):
    """Two presentations open and read open by this process; the measured seat remembered from a ballot for
    the first."""
    first, second = (open_now(hall, p) for p in hall.presentations[:2])
    read_open(client, hall, first)
    read_open(client, hall, second)
    assert put(client, hall.token("leadership"), first.pk, key="remembered").status_code == 201
    return first, second


def test_ballot_of_a_remembered_seat_takes_one_round_trip(client, hall):
    _first, second = two_open(client, hall)

    response, trips, trace = round_trips(lambda: put(client, hall.token("leadership"), second.pk, key="one-trip"))

    assert response.status_code == 201, response.content
    assert trips == 1, "\n".join(trace)
    assert not any(line.startswith("F") and "token_hash = $1" in line for line in trace)  # no token read
    assert committed_elsewhere(second.pk) == 2
    ballot = Ballot.objects.select_related("presentation__department", "role").get(
        receipt=response.json()["receipt"].replace("-", "")
    )
    assert verifies(ballot) and ballot.created_at == second.opened_at


def test_remembered_seat_whose_token_was_revoked_is_refused_at_once(client, hall):
    from meetings.services import rater_revoke

    _first, second = two_open(client, hall)
    rater_revoke(rater=rater_by_token(hall.token("leadership")), actor=None, ip=None)

    response = put(client, hall.token("leadership"), second.pk, key="revoked")

    assert response.status_code == 401
    assert committed_elsewhere(second.pk) == 1
    assert put(client, hall.token("leadership"), second.pk, key="revoked-again").status_code == 401


def test_remembered_seat_whose_token_was_reissued_answers_only_the_new_token(client, hall):
    from meetings.services import rater_token_reissue

    _first, second = two_open(client, hall)
    new_token = rater_token_reissue(rater=rater_by_token(hall.token("leadership")), actor=None, ip=None)

    assert put(client, hall.token("leadership"), second.pk, key="old-card").status_code == 401
    assert put(client, new_token, second.pk, key="new-card").status_code == 201
    assert committed_elsewhere(second.pk) == 2


def test_remembered_seat_on_a_lost_connection_reconnects_and_stores_once(client, hall, lose_connection):  # noqa: F811
    _first, second = two_open(client, hall)
    lose_connection()
    connection.health_check_done = False  # a new request on the kept (now dead) connection

    response = put(client, hall.token("leadership"), second.pk, key="after-restart")

    assert response.status_code == 201
    assert committed_elsewhere(second.pk) == 2


def test_live_poll_remembers_the_seat_for_its_ballot(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    token = hall.token("leadership")
    poll = client.get(f"/api/v1/meetings/{hall.meeting.pk}/live", HTTP_AUTHORIZATION=f"Rater {token}")
    assert poll.status_code == 200

    response, trips, _trace = round_trips(lambda: put(client, token, presentation.pk, key="after-poll"))

    assert response.status_code == 201 and trips == 1
    assert committed_elsewhere(presentation.pk) == 2


def test_remembered_seat_with_a_malformed_body_is_answered_as_before(client, hall):
    _first, second = two_open(client, hall)

    response = client.put(
        f"/api/v1/rater/ballots/{second.pk}",
        data="{not json",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Rater {hall.token('leadership')}",
        HTTP_IDEMPOTENCY_KEY="bad-body",
    )

    assert response.status_code == 400
    assert committed_elsewhere(second.pk) == 1


def poll(client, hall, token):
    return client.get(f"/api/v1/meetings/{hall.meeting.pk}/live", HTTP_AUTHORIZATION=f"Rater {token}")


def seat_rows(trace: list[str]) -> int:
    """Seats the traced requests read: rows from the server carrying a token's hash (64 hex digits)."""
    return sum(1 for line in trace if line.startswith("B") and "DataRow" in line and re.search(r"'[0-9a-f]{64}'", line))


def test_live_poll_brings_in_the_meetings_other_seats_for_their_ballots(client, hall):
    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    assert poll(client, hall, hall.token("leadership", 2)).status_code == 200
    token = hall.token("leadership")  # a seat this process has never read

    response, trips, trace = round_trips(lambda: put(client, token, presentation.pk, key="brought-in"))

    assert response.status_code == 201, response.content
    assert trips == 1, "\n".join(trace)
    assert not any(line.startswith("F") and "token_hash = $1" in line for line in trace)  # no token read
    assert committed_elsewhere(presentation.pk) == 2
    ballot = Ballot.objects.select_related("presentation__department", "role").get(
        receipt=response.json()["receipt"].replace("-", "")
    )
    assert verifies(ballot) and ballot.created_at == presentation.opened_at
    assert rater_by_token(token).pk == Rater.objects.get(pk=ballot_seat(ballot, hall)).pk


def ballot_seat(ballot: Ballot, hall) -> int:
    """The seat whose pseudonym the ballot carries (found with the key, as the seat's own pages find it)."""
    from voting.selectors import rater_pseudonym

    seats = Rater.objects.filter(meeting=hall.meeting)
    return next(seat.pk for seat in seats if rater_pseudonym(seat, ballot.presentation_id) == ballot.pseudonym)


def test_live_poll_reads_the_meetings_seats_once_and_then_only_its_own(client, hall):
    active = Rater.objects.filter(meeting=hall.meeting, revoked_at__isnull=True).count()

    _first, _trips, first_trace = round_trips(lambda: poll(client, hall, hall.token("leadership")))
    _second, _trips, second_trace = round_trips(lambda: poll(client, hall, hall.token("leadership", 1)))

    assert active > 3 and seat_rows(first_trace) == active
    assert seat_rows(second_trace) == 1


def test_seat_revoked_after_a_poll_brought_it_in_is_refused_and_writes_nothing(client, hall):
    from meetings.services import rater_revoke

    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    assert poll(client, hall, hall.token("leadership", 2)).status_code == 200
    token = hall.token("leadership")
    rater_revoke(rater=rater_by_token(token), actor=None, ip=None)

    response = put(client, token, presentation.pk, key="revoked-after-poll")

    assert response.status_code == 401
    assert committed_elsewhere(presentation.pk) == 1


def test_revoked_seat_is_not_brought_in_and_a_reissued_card_votes_once(client, hall):
    from meetings.services import rater_revoke, rater_token_reissue

    presentation = open_now(hall, hall.presentations[0])
    read_open(client, hall, presentation)
    revoked = hall.token("leadership")
    rater_revoke(rater=rater_by_token(revoked), actor=None, ip=None)
    reissued = rater_token_reissue(rater=rater_by_token(hall.token("leadership", 2)), actor=None, ip=None)
    assert poll(client, hall, hall.token("leadership", 1)).status_code == 200

    assert put(client, revoked, presentation.pk, key="revoked-card").status_code == 401
    assert put(client, hall.token("leadership", 2), presentation.pk, key="old-card").status_code == 401
    response, trips, _trace = round_trips(lambda: put(client, reissued, presentation.pk, key="new-card"))

    assert response.status_code == 201 and trips == 1  # issued before the poll: brought in with the others
    assert committed_elsewhere(presentation.pk) == 2


def second_hall(small_document) -> tuple[object, list[str]]:
    """Another meeting (its own seats), as a city runs several at once."""
    from meetings.services import meeting_import

    document = small_document(departments=3, seats=3, title="第二场考评大会")
    result = meeting_import(document=document, actor=None)
    return result.meeting, [r.token for r in result.raters if r.role == "leadership" and not r.name]


def test_meeting_past_half_the_seat_memo_is_not_brought_in_and_the_memo_stays_bounded(
    client, hall, small_document, monkeypatch
):
    from voting.selectors import seats

    active = Rater.objects.filter(meeting=hall.meeting, revoked_at__isnull=True).count()
    monkeypatch.setattr(seats, "SEATS_KEPT", 2 * active)  # room for one such meeting: half the bound
    other, tokens = second_hall(small_document)
    assert poll(client, hall, hall.token("leadership")).status_code == 200

    response, _trips, trace = round_trips(
        lambda: client.get(f"/api/v1/meetings/{other.pk}/live", HTTP_AUTHORIZATION=f"Rater {tokens[0]}")
    )

    assert response.status_code == 200
    assert seat_rows(trace) == 1  # its own seat, remembered alone
    assert seats.seat_remembered(rater_token_hash(tokens[0])) is not None
    assert seats.seat_remembered(rater_token_hash(tokens[1])) is None
    assert len(seats._seat_memo) == active + 1 <= seats.SEATS_KEPT


def test_expired_seats_make_room_for_the_next_meeting(client, hall, small_document, monkeypatch):
    from voting.selectors import seats

    active = Rater.objects.filter(meeting=hall.meeting, revoked_at__isnull=True).count()
    monkeypatch.setattr(seats, "SEATS_KEPT", 2 * active)
    other, tokens = second_hall(small_document)
    assert poll(client, hall, hall.token("leadership")).status_code == 200
    monkeypatch.setattr(seats, "SEAT_MEMO_SECONDS", 0.0)  # every seat remembered so far has expired

    response, _trips, trace = round_trips(
        lambda: client.get(f"/api/v1/meetings/{other.pk}/live", HTTP_AUTHORIZATION=f"Rater {tokens[0]}")
    )

    assert response.status_code == 200
    assert seat_rows(trace) == Rater.objects.filter(meeting=other, revoked_at__isnull=True).count()
    assert all(hash_ not in seats._seat_memo for hash_ in map(rater_token_hash, hall.tokens.values()))
