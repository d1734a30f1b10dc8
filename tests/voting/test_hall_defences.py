"""Issue 17: a hall behind one address or a reverse proxy is neither locked out nor exposed: the rater
throttle per client address (TRUSTED_PROXIES), /live of a meeting that is not public, no-store on every
private answer."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from guardian.shortcuts import assign_perm

from voting import throttle

pytestmark = pytest.mark.django_db


def rater_get(client, token, **extra):
    return client.get("/api/v1/rater", HTTP_AUTHORIZATION=f"Rater {token}", **extra)


def live(client, meeting, **extra):
    return client.get(f"/api/v1/meetings/{meeting.pk}/live", **extra)


def test_guessing_from_one_address_never_refuses_a_valid_card(hall, monkeypatch):
    monkeypatch.setattr(throttle, "FAILURE_LIMIT", 24)
    hall.open(hall.presentations[0])
    client = Client()
    guesses = [rater_get(client, f"guess{i:021d}").status_code for i in range(30)]
    fresh = [rater_get(client, r.token).status_code for r in hall.raters]
    page = client.get(f"/r/{hall.raters[-1].token}/")

    assert guesses[:24] == [401] * 24 and set(guesses[24:]) == {429}
    assert set(fresh) == {200}
    assert page.status_code == 200


def test_a_hall_of_300_mistyping_twice_stays_under_the_limit():
    # Each of 300 raters mistyping their card twice in one minute: 600 failures, the limit.
    assert throttle.FAILURE_LIMIT >= 2 * 300


@override_settings(TRUSTED_PROXIES=["127.0.0.1", "10.0.0.0/8"])
def test_behind_a_trusted_proxy_each_phone_has_its_own_counter(hall, monkeypatch):
    from appraisal import middleware

    monkeypatch.setattr(throttle, "FAILURE_LIMIT", 5)
    proxy = Client(REMOTE_ADDR="10.0.0.2")
    guesser = [rater_get(proxy, f"guess{i:021d}", HTTP_X_FORWARDED_FOR="203.0.113.7").status_code for i in range(7)]
    neighbour = rater_get(proxy, "not-a-card-00000000000000", HTTP_X_FORWARDED_FOR="203.0.113.8")
    # Not from a trusted proxy: the header is the client's own claim and is ignored.
    spoofed = [
        rater_get(Client(REMOTE_ADDR="198.51.100.1"), f"g{i:025d}", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code
        for i in range(7)
    ]

    assert guesser[-1] == 429 and neighbour.status_code == 401
    assert spoofed[-1] == 429
    assert middleware  # imported: the middleware under test


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_client_address_from_x_forwarded_for_skips_trusted_hops(rf):
    from appraisal.middleware import TrustedProxyMiddleware

    seen = {}
    middleware = TrustedProxyMiddleware(lambda request: seen.setdefault("ip", request.META["REMOTE_ADDR"]))

    def client_of(peer, header):
        seen.clear()
        middleware(rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=header))
        return seen["ip"]

    assert client_of("10.0.0.1", "203.0.113.5, 10.0.0.9") == "203.0.113.5"
    assert client_of("10.0.0.1", "1.1.1.1, 203.0.113.5") == "203.0.113.5"  # the leftmost is the phone's claim
    assert client_of("10.0.0.1", "garbage") == "10.0.0.1"
    assert client_of("192.0.2.1", "203.0.113.5") == "192.0.2.1"


def test_live_of_a_meeting_not_public_answers_only_its_people(hall, small_document):
    from meetings.services import meeting_import

    hall.open(hall.presentations[0])
    other = meeting_import(document=small_document(departments=2, seats=1), actor=None)
    User = get_user_model()
    organizer = User.objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, hall.meeting)
    stranger = User.objects.create_user("stranger", password="pw-stranger-1")
    as_organizer, as_stranger = Client(), Client()
    as_organizer.force_login(organizer)
    as_stranger.force_login(stranger)

    anonymous = live(Client(), hall.meeting)
    missing = live(Client(), type("M", (), {"pk": 999999})())
    rater = live(Client(), hall.meeting, HTTP_AUTHORIZATION=f"Rater {hall.token('leadership')}")
    other_rater = live(Client(), hall.meeting, HTTP_AUTHORIZATION=f"Rater {other.raters[0].token}")

    assert anonymous.status_code == 404 and anonymous.json() == missing.json()
    assert rater.status_code == 200 and rater.json()["current"]["name"] == "测试部门1"
    assert other_rater.status_code == 404
    assert live(as_organizer, hall.meeting).status_code == 200
    assert live(as_stranger, hall.meeting).status_code == 404


def test_live_of_a_published_meeting_is_public(hall):
    from reports.services import snapshot_compute, snapshot_publish

    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    snapshot_compute(meeting=hall.meeting)
    snapshot_publish(meeting=hall.meeting, actor=organizer, ip=None)

    assert live(Client(), hall.meeting).status_code == 200


def test_private_answers_are_no_store(hall, small_document):
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-1")
    assign_perm("meetings.organize_meeting", organizer, hall.meeting)
    client = Client()
    client.force_login(organizer)
    m = hall.meeting.pk
    private = [
        client.get(path)
        for path in (f"/console/m/{m}/", f"/api/v1/meetings/{m}/progress", "/console/", f"/console/m/{m}/audit/")
    ]
    public = Client().get("/")

    for response in private:
        assert "no-store" in response["Cache-Control"], response.request["PATH_INFO"]
    assert "no-store" not in public.get("Cache-Control", "")
