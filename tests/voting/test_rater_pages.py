"""Rater pages through the test client: statuses, query counts, contrast."""

import re
from pathlib import Path

import pytest

from meetings.services import meeting_import
from voting.models import Ballot

pytestmark = pytest.mark.django_db


def test_rater_pages_query_count_constant_in_presentations(client, small_document, django_assert_num_queries):
    counts = {}
    for size in (3, 70):
        result = meeting_import(document=small_document(departments=size, seats=2), actor=None)
        token = result.raters[0].token
        presentation = result.meeting.presentations.order_by("order").first()
        presentation.state = "open"
        presentation.save()
        for name, url in (
            ("home", f"/r/{token}/"),
            ("form", f"/r/{token}/p/{presentation.pk}/"),
            ("sheet", f"/r/{token}/sheet/"),
        ):
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            from voting import selectors

            selectors._form_memo.clear()
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts.setdefault(name, []).append(len(captured))
    for name, (small, large) in counts.items():
        assert small == large, (name, counts)
    # Pin the numbers so that a new query per page is a conscious choice: cold (the role's
    # form read) and warm (the form memoised, as for every later request of a phone).
    from voting import selectors

    selectors._form_memo.clear()
    with django_assert_num_queries(5):
        client.get(f"/r/{token}/")
    with django_assert_num_queries(3):
        client.get(f"/r/{token}/")


def test_rater_form_post_without_js_submits_through_the_service(client, small_document):
    result = meeting_import(document=small_document(), actor=None)
    token = next(r.token for r in result.raters if r.role == "leadership")
    presentation = result.meeting.presentations.order_by("order").first()
    presentation.state = "open"
    presentation.save()
    url = f"/r/{token}/p/{presentation.pk}/"

    bad = client.post(url, {"performance": "61", "innovation": "30", "idempotency_key": "a"})
    foreign = client.post(url, {"performance": "60", "innovation": "30", "overall": "good", "idempotency_key": "b"})
    good = client.post(url, {"performance": "60", "innovation": "30", "idempotency_key": "c"})
    again = client.post(url, {"performance": "60", "innovation": "30", "idempotency_key": "c"})

    assert (bad.status_code, foreign.status_code) == (400, 400)
    assert good.status_code == 302 and good["Location"].endswith("?saved=1")
    assert again.status_code == 302
    assert Ballot.objects.count() == 1


def test_rater_pages_private_and_no_token_in_logs(client, small_document, caplog):
    result = meeting_import(document=small_document(), actor=None)
    token = result.raters[0].token

    response = client.get(f"/r/{token}/")
    client.get("/r/not-a-token-0000000000000/")

    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "same-origin"
    assert token not in caplog.text


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_rater_colours_meet_wcag_aa():
    css = (Path(__file__).resolve().parents[2] / "voting" / "static" / "voting" / "rater.css").read_text()
    colours = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [
        ("fg", "bg"),
        ("muted", "bg"),
        ("accent", "bg"),
        ("accent-fg", "accent"),
        ("ok", "ok-bg"),
        ("err", "err-bg"),
        ("fg", "warn-bg"),
        ("muted", "warn-bg"),
    ]
    for fg, bg in pairs:
        assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg, contrast(colours[fg], colours[bg]))


def test_whole_meeting_sheet_saves_each_department(client, small_document):
    from voting.services import voting_set

    result = meeting_import(document=small_document(departments=3, mode="whole_meeting"), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="open", actor=None, ip=None)
    token = next(r.token for r in result.raters if r.role == "leadership")
    presentations = list(result.meeting.presentations.order_by("order"))

    home = client.get(f"/r/{token}/").content.decode()
    sheet = client.get(f"/r/{token}/sheet/").content.decode()
    saved = client.post(
        f"/r/{token}/p/{presentations[1].pk}/",
        {"performance": "50", "innovation": "30", "idempotency_key": "s1", "next": "sheet"},
    )

    assert f"/r/{token}/sheet/" in home
    assert sheet.count('class="ballot"') == 3
    assert saved.status_code == 302 and saved["Location"].endswith(
        f"/sheet/?saved={presentations[1].pk}#p{presentations[1].pk}"
    )
    page = client.get(saved["Location"]).content.decode()
    assert "已保存" in page
    assert Ballot.objects.get().presentation_id == presentations[1].pk


def test_rater_page_switches_to_english(client, small_document):
    result = meeting_import(document=small_document(), actor=None)
    token = result.raters[0].token

    client.post("/i18n/setlang/", {"language": "en", "next": f"/r/{token}/"})
    page = client.get(f"/r/{token}/").content.decode()

    assert "Now presenting" in page and "Agenda" in page
    assert "正在述职" not in page


def test_rater_pages_say_a_voided_ballot_does_not_count(client, small_document):
    from voting.services import ballot_submit, ballot_void, voting_set

    result = meeting_import(document=small_document(), actor=None)
    meeting = result.meeting
    issued = next(r for r in result.raters if r.role == "leadership")
    presentation = meeting.presentations.order_by("order").first()
    voting_set(meeting=meeting, presentation_id=presentation.pk, action="open", actor=None, ip=None)
    from meetings.models import Rater

    rater = Rater.objects.select_related("role", "meeting").get(pk=issued.rater_id)
    ballot_submit(rater=rater, presentation_id=presentation.pk, scores={"performance": "50", "innovation": "30"})
    ballot_void(meeting=meeting, receipt=Ballot.objects.get().receipt, reason="重复", actor=None, ip=None)
    said = "It does not count"

    for state in ("open", "closed"):
        voting_set(meeting=meeting, presentation_id=presentation.pk, action="open" if state == "open" else "close",
                   actor=None, ip=None)  # fmt: skip
        form = client.get(f"/r/{issued.token}/p/{presentation.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert said in form, state
    home = client.get(f"/r/{issued.token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    sheet = client.get(f"/r/{issued.token}/sheet/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "voided: does not count" in home and "voided: does not count" in sheet
