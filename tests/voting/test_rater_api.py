"""The rater API of API.md: every status code, and nothing changed where a call was refused."""

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Max

from meetings.models import Rater
from meetings.services import rater_revoke, rater_token_reissue
from voting import throttle
from voting.models import Ballot, BallotValue, IdempotencyRecord

pytestmark = pytest.mark.django_db

LEAD_SCORES = {"performance": "55.5", "innovation": "30"}


def state():
    return (
        Ballot.objects.count(),
        BallotValue.objects.count(),
        IdempotencyRecord.objects.count(),
        Ballot.objects.aggregate(m=Max("updated_at"))["m"],
    )


def put(client, token, presentation_id, scores, key=None, raw=None):
    headers = {"HTTP_AUTHORIZATION": f"Rater {token}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    body = raw if raw is not None else json.dumps({"scores": scores})
    return client.put(f"/api/v1/rater/ballots/{presentation_id}", data=body, content_type="application/json", **headers)


def get(client, token):
    return client.get("/api/v1/rater", HTTP_AUTHORIZATION=f"Rater {token}")


def test_rater_get_shows_meeting_role_form_and_presentations(client, hall):
    hall.open(hall.presentations[0])

    body = get(client, hall.token("public")).json()

    assert body["meeting"]["title"] == "测试考评大会"
    assert body["role"] == {"code": "public", "name": "群众代表"}
    assert body["form"][0]["kind"] == "grade"
    assert [c["code"] for c in body["form"][0]["choices"]] == ["excellent", "good", "fair", "poor"]
    assert [p["state"] for p in body["presentations"]] == ["open", "pending", "pending"]
    assert body["presentations"][0]["ballot"] is None
    assert body["quota"] == {"criterion": "overall", "grade": "excellent", "limit": 1, "used": 0, "remaining": 1}


def test_rater_get_numeric_form_bounds(client, hall):
    form = get(client, hall.token("leadership")).json()["form"]

    assert form[0] == {"code": "performance", "name": "工作实绩", "kind": "numeric", "max": "60.0000", "step": "0.5000"}
    assert get(client, hall.token("leadership")).json()["quota"] is None  # no grade criterion on this form


def test_ballot_created_201_with_receipt(client, hall):
    hall.open(hall.presentations[0])

    response = put(client, hall.token("leadership"), hall.presentations[0].pk, LEAD_SCORES, key="k1")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["scores"] == {"performance": "55.5000", "innovation": "30.0000"}
    assert body["total"] == "85.5000"
    assert len(body["receipt"]) == 14 and body["receipt"].count("-") == 2
    ballot = Ballot.objects.get()
    assert ballot.total == 85.5 and ballot.role.code == "leadership"
    assert get(client, hall.token("leadership")).json()["presentations"][0]["ballot"]["receipt"] == body["receipt"]


def test_ballot_replaced_200_while_open_keeps_receipt(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    first = put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="k1").json()

    response = put(client, token, hall.presentations[0].pk, {"performance": "40", "innovation": "20.5"}, key="k2")

    assert response.status_code == 200
    assert response.json()["receipt"] == first["receipt"]
    assert Ballot.objects.get().total == 60.5
    assert BallotValue.objects.count() == 2


def test_ballot_repeat_same_key_same_body_returns_first_answer(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    first = put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="retry-1")
    before = state()

    again = put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="retry-1")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert state() == before


def test_ballot_repeat_after_close_still_returns_first_answer(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    first = put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="late")
    hall.close(hall.presentations[0])

    again = put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="late")

    assert (again.status_code, again.json()) == (201, first.json())


def test_ballot_same_key_other_body_422_and_unchanged(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    put(client, token, hall.presentations[0].pk, LEAD_SCORES, key="k")
    before = state()

    response = put(client, token, hall.presentations[0].pk, {"performance": "10", "innovation": "10"}, key="k")

    assert response.status_code == 422
    assert state() == before


def test_same_key_from_other_seat_is_independent(client, hall):
    hall.open(hall.presentations[0])

    a = put(client, hall.token("leadership", 0), hall.presentations[0].pk, LEAD_SCORES, key="same")
    b = put(client, hall.token("leadership", 1), hall.presentations[0].pk, LEAD_SCORES, key="same")

    assert (a.status_code, b.status_code) == (201, 201)
    assert Ballot.objects.count() == 2


INVALID = [
    ("missing criterion", {"performance": "50"}, {"scores.innovation"}),
    ("above max", {"performance": "60.5", "innovation": "10"}, {"scores.performance"}),
    ("negative", {"performance": "-1", "innovation": "10"}, {"scores.performance"}),
    ("off the step grid", {"performance": "50.25", "innovation": "10"}, {"scores.performance"}),
    ("foreign criterion", {"performance": "50", "innovation": "10", "overall": "good"}, {"scores.overall"}),
    ("text", {"performance": "fifty", "innovation": "10"}, {"scores.performance"}),
    ("NaN", {"performance": "NaN", "innovation": "10"}, {"scores.performance"}),
    ("Infinity", {"performance": "Infinity", "innovation": "10"}, {"scores.performance"}),
    ("boolean", {"performance": True, "innovation": "10"}, {"scores.performance"}),
    ("list", {"performance": [1], "innovation": "10"}, {"scores.performance"}),
    ("huge", {"performance": "1e400", "innovation": "10"}, {"scores.performance"}),
    ("two bad", {"performance": "99", "innovation": "-3"}, {"scores.performance", "scores.innovation"}),
    ("not an object", ["50", "10"], {"scores"}),
]


@pytest.mark.parametrize(("name", "scores", "paths"), INVALID, ids=[i[0] for i in INVALID])
def test_ballot_invalid_400_per_criterion_and_unchanged(client, hall, name, scores, paths):
    hall.open(hall.presentations[0])
    before = state()

    response = put(client, hall.token("leadership"), hall.presentations[0].pk, scores, key="k")

    assert response.status_code == 400, response.content
    assert {e["path"] for e in response.json()["errors"]} == paths
    assert state() == before


def test_ballot_json_number_accepted_exactly(client, hall):
    hall.open(hall.presentations[0])

    response = put(
        client,
        hall.token("leadership"),
        hall.presentations[0].pk,
        None,
        raw='{"scores": {"performance": 55.5, "innovation": 30}}',
    )

    assert response.status_code == 201
    assert response.json()["total"] == "85.5000"


def test_ballot_grade_by_code(client, hall):
    hall.open(hall.presentations[1])

    response = put(client, hall.token("public"), hall.presentations[1].pk, {"overall": "good"})
    wrong = put(client, hall.token("public", 1), hall.presentations[1].pk, {"overall": "良好"})

    assert response.status_code == 201 and response.json()["total"] == "85.0000"
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["path"] == "scores.overall"


def test_ballot_broken_json_400_and_unchanged(client, hall):
    hall.open(hall.presentations[0])

    response = put(client, hall.token("leadership"), hall.presentations[0].pk, None, raw='{"scores": {')

    assert response.status_code == 400
    assert state() == (0, 0, 0, None)


def test_ballot_unknown_body_keys_400(client, hall):
    hall.open(hall.presentations[0])

    response = put(
        client,
        hall.token("leadership"),
        hall.presentations[0].pk,
        None,
        raw=json.dumps({"scores": LEAD_SCORES, "seat": 1}),
    )

    assert response.status_code == 400
    assert Ballot.objects.count() == 0


@pytest.mark.parametrize("header", ["", "Rater", "Rater nosuchtoken0000000000000", "Token abc", "Rater a b"])
def test_rater_unknown_token_401(client, hall, header):
    hall.open(hall.presentations[0])
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    got = client.get("/api/v1/rater", **extra)
    sent = client.put(
        f"/api/v1/rater/ballots/{hall.presentations[0].pk}",
        data=json.dumps({"scores": LEAD_SCORES}),
        content_type="application/json",
        **extra,
    )

    assert (got.status_code, sent.status_code) == (401, 401)
    assert Ballot.objects.count() == 0


def test_rater_revoked_token_401_reissued_works(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    rater = Rater.objects.get(seat_no=next(r.seat_no for r in hall.raters if r.token == token))
    rater_revoke(rater=rater, actor=None, ip=None)

    assert put(client, token, hall.presentations[0].pk, LEAD_SCORES).status_code == 401
    new_token = rater_token_reissue(rater=rater, actor=None, ip=None)
    assert put(client, token, hall.presentations[0].pk, LEAD_SCORES).status_code == 401
    assert put(client, new_token, hall.presentations[0].pk, LEAD_SCORES).status_code == 201


def test_rater_recused_department_403_and_unchanged(client, hall):
    hall.open(hall.presentations[0])  # D01, 王芳's own department

    response = put(client, hall.recused_token, hall.presentations[0].pk, {"overall": "good"})

    assert response.status_code == 403
    assert response.json()["code"] == "recused"
    assert state() == (0, 0, 0, None)
    assert get(client, hall.recused_token).json()["presentations"][0]["recused"] is True


def test_ballot_unknown_presentation_404(client, hall, small_document):
    from meetings.services import meeting_import

    other = meeting_import(document=small_document(), actor=None).meeting
    foreign = other.presentations.first()
    foreign.state = "open"
    foreign.save()

    for presentation_id in (999999, foreign.pk, "abc"):
        response = put(client, hall.token("leadership"), presentation_id, LEAD_SCORES)
        assert response.status_code == 404, presentation_id
    assert Ballot.objects.count() == 0


def test_ballot_voting_not_open_409(client, hall):
    response = put(client, hall.token("leadership"), hall.presentations[0].pk, LEAD_SCORES)

    assert response.status_code == 409
    assert response.json()["code"] == "voting_not_open"
    assert Ballot.objects.count() == 0


def test_ballot_voting_closed_409_keeps_earlier_ballot(client, hall):
    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    put(client, token, hall.presentations[0].pk, LEAD_SCORES)
    hall.close(hall.presentations[0])
    before = state()

    response = put(client, token, hall.presentations[0].pk, {"performance": "1", "innovation": "1"})

    assert response.status_code == 409
    assert response.json()["code"] == "voting_closed"
    assert state() == before


def test_ballot_excellent_quota_409(client, hall):
    hall.open(*hall.presentations)
    token = hall.token("public")
    assert put(client, token, hall.presentations[0].pk, {"overall": "excellent"}).status_code == 201
    before = state()

    response = put(client, token, hall.presentations[1].pk, {"overall": "excellent"})

    assert response.status_code == 409
    assert response.json()["code"] == "quota_exceeded"
    assert state() == before
    # Changing the one excellent to good frees the quota again.
    assert put(client, token, hall.presentations[0].pk, {"overall": "good"}).status_code == 200
    assert put(client, token, hall.presentations[1].pk, {"overall": "excellent"}).status_code == 201
    # Re-sending excellent for the same presentation is an edit, not a second use.
    assert put(client, token, hall.presentations[1].pk, {"overall": "excellent"}).status_code == 200


def test_ballot_voided_cannot_be_overwritten(client, hall):
    from django.utils import timezone

    hall.open(hall.presentations[0])
    token = hall.token("leadership")
    put(client, token, hall.presentations[0].pk, LEAD_SCORES)
    Ballot.objects.update(state="void", void_reason="重复投票", voided_at=timezone.now())

    response = put(client, token, hall.presentations[0].pk, LEAD_SCORES)

    assert response.status_code == 409
    assert Ballot.objects.get().state == "void"


def test_invalid_idempotency_key_400(client, hall):
    hall.open(hall.presentations[0])

    response = put(client, hall.token("leadership"), hall.presentations[0].pk, LEAD_SCORES, key="x" * 300)

    assert response.status_code == 400
    assert Ballot.objects.count() == 0


def test_token_guessing_throttled_429_valid_hall_unaffected(client, hall):
    hall.open(hall.presentations[0])
    seated = hall.token("leadership", 0)
    assert get(client, seated).status_code == 200  # already voting before the attack
    for i in range(throttle.FAILURE_LIMIT):
        assert get(client, f"guess{i:022d}").status_code == 401

    assert get(client, "guess-after-limit-000000000").status_code == 429
    assert get(client, seated).status_code == 200
    assert put(client, seated, hall.presentations[0].pk, LEAD_SCORES).status_code == 201
    # A card never used before is not refused for others' guesses from the same address (issue 17).
    assert get(client, hall.token("leadership", 1)).status_code == 200


def test_many_valid_raters_from_one_address_never_throttled(client, hall):
    hall.open(hall.presentations[0])
    for rater in hall.raters * 5:
        assert get(client, rater.token).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_one_seat_end_with_one_ballot(hall):
    from django.test import Client

    hall.open(hall.presentations[0])
    token = hall.token("leadership")

    def send(i):
        try:
            key = "same-key" if i % 2 else f"key-{i}"
            return put(Client(), token, hall.presentations[0].pk, LEAD_SCORES, key=key).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(send, range(24)))

    assert set(codes) <= {200, 201}
    assert codes.count(201) >= 1
    assert Ballot.objects.count() == 1
    assert BallotValue.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_quota_race_holds_the_quota(hall):
    from django.test import Client

    hall.open(*hall.presentations[1:])
    token = hall.token("public")

    def send(presentation):
        try:
            return put(Client(), token, presentation.pk, {"overall": "excellent"}).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(send, hall.presentations[1:]))

    assert codes == [201, 409]
    assert BallotValue.objects.filter(grade__code="excellent").count() == 1
