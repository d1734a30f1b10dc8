"""Issue 19: the plain ballot view answers exactly as the DRF view it replaces on the burst path.

Each request goes to both, on two seats in the same state; status, headers and body must match (the
receipt and time of a new ballot are drawn per ballot, so those two are compared by shape)."""

import json
import re

import pytest
from django.test import RequestFactory

from voting import throttle
from voting.api import RaterBallotApi
from voting.ballot_view import ballot_put
from voting.models import Ballot

pytestmark = pytest.mark.django_db

SCORES = {"performance": "55.5", "innovation": "30"}
drf_view = RaterBallotApi.as_view()
factory = RequestFactory()


def request(token, presentation_id, body, *, key=None, content_type="application/json", method="put", **extra):
    headers = {"HTTP_AUTHORIZATION": f"Rater {token}", **extra}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    raw = body if isinstance(body, str | bytes) else json.dumps(body)
    return getattr(factory, method)(
        f"/api/v1/rater/ballots/{presentation_id}", data=raw, content_type=content_type, **headers
    )


def answer(view, req, presentation_id):
    response = view(req, presentation_id=presentation_id)
    if hasattr(response, "render"):
        response.render()
    body = response.content.decode()
    body = re.sub(r'"receipt":\s*"[^"]+"', '"receipt":"…"', body)
    body = re.sub(r'"updated_at":\s*"[^"]+"', '"updated_at":"…"', body)
    return response.status_code, dict(response.items()), body


@pytest.fixture
def seats(small_document):
    from meetings.services import meeting_import
    from tests.voting.conftest import Hall

    hall = Hall(meeting_import(document=small_document(departments=3, seats=30), actor=None))
    hall.open(hall.presentations[0])
    tokens = [r.token for r in hall.raters if r.role == "leadership" and not r.name]
    return hall, iter(tokens)


def both(seats, body, *, presentation=None, key=None, repeat=False, **options):
    """The plain view's and DRF's answers to the same request, each on a fresh seat."""
    hall, tokens = seats
    pid = presentation if presentation is not None else hall.presentations[0].pk
    answers = []
    for view in (ballot_put, drf_view):
        token = next(tokens)
        if repeat:  # the same request sent twice: the second is what is compared
            answer(view, request(token, pid, body, key=key, **options), pid)
        answers.append(answer(view, request(token, pid, body, key=key, **options), pid))
    return answers


CASES = {
    "new ballot": {"body": {"scores": SCORES}, "key": "k-1"},
    "numbers as JSON numbers": {"body": '{"scores": {"performance": 55.5, "innovation": 30}}'},
    "resent with its key": {"body": {"scores": SCORES}, "key": "k-2", "repeat": True},
    "replaced without a key": {"body": {"scores": SCORES}, "repeat": True},
    "malformed key": {"body": {"scores": SCORES}, "key": " spaced "},
    "broken JSON": {"body": '{"scores": '},
    "NaN": {"body": '{"scores": {"performance": NaN, "innovation": 30}}'},
    "a list": {"body": "[1, 2]"},
    "an unknown field": {"body": {"scores": SCORES, "rater": 3}},
    "no scores": {"body": {}},
    "scores not a mapping": {"body": {"scores": [55, 30]}},
    "a null score": {"body": {"scores": {"performance": None, "innovation": "30"}}},
    "a score out of range": {"body": {"scores": {"performance": "99", "innovation": "30"}}},
    "a criterion missing": {"body": {"scores": {"performance": "50"}}},
    "text for a number": {"body": {"scores": {"performance": "很好", "innovation": "30"}}},
    "no such presentation": {"body": {"scores": SCORES}, "presentation": 2**62},
    "not JSON": {"body": "scores=1", "content_type": "application/x-www-form-urlencoded"},
    "JSON in another charset": {"body": {"scores": SCORES}, "content_type": "application/json; charset=latin-1"},
    "asks for HTML": {"body": {"scores": SCORES}, "HTTP_ACCEPT": "text/html"},
    "asks for indented JSON": {"body": {"scores": SCORES}, "HTTP_ACCEPT": "application/json; indent=4"},
    "a format in the query": {"body": {"scores": SCORES}, "QUERY_STRING": "format=json"},
    "a POST": {"body": {"scores": SCORES}, "method": "post"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_plain_view_answers_as_drf(seats, case):
    ours, theirs = both(seats, **CASES[case])

    assert ours == theirs


def test_plain_view_answers_a_closed_presentation_and_an_unknown_token_as_drf(seats):
    hall, tokens = seats
    closed = hall.presentations[1].pk  # still pending
    pid = hall.presentations[0].pk

    pending = [answer(v, request(next(tokens), closed, {"scores": SCORES}), closed) for v in (ballot_put, drf_view)]
    unknown = [answer(v, request("x" * 43, pid, {"scores": SCORES}), pid) for v in (ballot_put, drf_view)]
    garbled = [answer(v, request("a b", pid, {"scores": SCORES}), pid) for v in (ballot_put, drf_view)]

    assert pending[0] == pending[1] and pending[0][0] == 409
    assert unknown[0] == unknown[1] and unknown[0][0] == 401 and unknown[0][1]["WWW-Authenticate"] == "Rater"
    assert garbled[0] == garbled[1] and garbled[0][0] == 401


def test_plain_view_throttles_guessing_as_drf_and_still_takes_a_valid_card(seats, monkeypatch):
    hall, tokens = seats
    pid = hall.presentations[0].pk
    monkeypatch.setattr(throttle, "FAILURE_LIMIT", 2)
    for _ in range(3):
        answer(ballot_put, request("y" * 43, pid, {"scores": SCORES}), pid)

    refused = [answer(v, request("z" * 43, pid, {"scores": SCORES}), pid) for v in (ballot_put, drf_view)]
    valid = answer(ballot_put, request(next(tokens), pid, {"scores": SCORES}), pid)

    assert refused[0] == refused[1] and refused[0][0] == 429 and "Retry-After" in refused[0][1]
    assert valid[0] == 201


def test_the_ballot_url_is_the_plain_view_and_stores_one_ballot(client, seats):
    hall, tokens = seats
    pid = hall.presentations[0].pk
    token = next(tokens)
    headers = {"HTTP_AUTHORIZATION": f"Rater {token}", "HTTP_IDEMPOTENCY_KEY": "once"}
    body = json.dumps({"scores": SCORES})

    first = client.put(f"/api/v1/rater/ballots/{pid}", body, content_type="application/json", **headers)
    again = client.put(f"/api/v1/rater/ballots/{pid}", body, content_type="application/json", **headers)

    assert first.resolver_match.func is ballot_put
    assert first.status_code == 201 and again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert first.json() == again.json()
    assert Ballot.objects.filter(presentation_id=pid).count() == 1
