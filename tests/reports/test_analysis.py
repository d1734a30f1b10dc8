"""SCORING.md 11, 13 and 14 in the aggregation, the API and the exports: the invalid rule removes a
uniform seat's ballots everywhere, every row carries its stability, the diagnostics answer under aliases,
and verify_results recomputes the exact parts from an export and refuses a tampered one."""

import json
import random

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.models import Presentation, Rater
from meetings.services import meeting_import
from reports.exports import export_document, verify_export
from reports.services import snapshot_compute, snapshot_publish
from voting.models import Ballot
from voting.services import ballot_submit, voting_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(small_document):
    document = small_document(departments=6, seats=6, invalid_ballots={"uniform": True, "uniform_min": 5})
    result = meeting_import(document=document, actor=None)
    meeting = result.meeting
    voting_set(meeting=meeting, presentation_id=None, action="open", actor=None, ip=None)
    presentations = list(Presentation.objects.filter(meeting=meeting).select_related("department"))
    rng = random.Random(5)
    raters = list(Rater.objects.filter(meeting=meeting).select_related("role", "meeting").order_by("seat_no"))
    uniform = next(r for r in raters if r.role.code == "leadership")
    for rater in raters:
        for p in presentations:
            if rater.department_id == p.department_id:
                continue
            if rater.role.code == "leadership":
                scores = (
                    {"performance": "50", "innovation": "30"}
                    if rater.pk == uniform.pk
                    else {"performance": str(rng.randint(30, 60)), "innovation": str(rng.randint(10, 40))}
                )
            else:
                scores = {"overall": rng.choice(["excellent", "good", "fair", "poor"])}
            ballot_submit(rater=rater, presentation_id=p.pk, scores=scores)
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    return meeting, organizer, snapshot_compute(meeting=meeting)


def test_uniform_seat_counts_nowhere_and_is_reported_per_role(analysed):
    meeting, _organizer, snapshot = analysed

    assert snapshot.analysis["invalid"] == {
        "leadership": {"raters": 1, "ballots": 6},
        "public": {"raters": 0, "ballots": 0},
    }
    submitted = Ballot.objects.filter(presentation__meeting=meeting, state="submitted").count()
    assert snapshot.ballots_counted == submitted - 6
    assert {row["role_scores"]["leadership"]["ballots"] for row in snapshot.rows} == {5}
    assert snapshot.config["invalid_ballots"] == {"uniform": True, "uniform_min": 5}


def test_every_ranked_row_has_its_stability_and_the_same_snapshot_draws_the_same(analysed):
    meeting, _organizer, snapshot = analysed

    again = snapshot_compute(meeting=meeting)

    ranked = {row["department"] for row in snapshot.rows if row["rank"] is not None}
    assert set(snapshot.analysis["stability"]) == ranked
    assert again.analysis["stability"] == snapshot.analysis["stability"]
    # Aliases are drawn anew: the same figures, under other names.
    assert sorted(p["leniency"] for p in again.analysis["diagnostics"]["raters"]) == sorted(
        p["leniency"] for p in snapshot.analysis["diagnostics"]["raters"]
    )


def test_results_and_diagnostics_api_for_organizers_only(analysed, api_client):
    meeting, organizer, snapshot = analysed
    stranger = get_user_model().objects.create_user("stranger", password="pw-stranger-1")

    api_client.force_authenticate(organizer)
    results = api_client.get(f"/api/v1/meetings/{meeting.pk}/results").json()
    diagnostics = api_client.get(f"/api/v1/meetings/{meeting.pk}/diagnostics")
    api_client.force_authenticate(stranger)
    refused = api_client.get(f"/api/v1/meetings/{meeting.pk}/diagnostics")

    assert results["invalid"]["leadership"] == {"raters": 1, "ballots": 6}
    first = results["rows"][0]["stability"]
    assert set(first) == {
        "reward_margin", "admonition_margin", "rank_by_trim", "rank_range_weights", "fragile", "p_reward",
        "p_admonition",
    }  # fmt: skip
    body = diagnostics.json()
    assert diagnostics.status_code == 200 and body["snapshot"] == snapshot.pk
    assert set(body["roles"]) == {"leadership", "public"}
    assert all(
        set(p) == {"alias", "role", "ballots", "leniency", "spread", "extreme_share", "flags"} for p in body["raters"]
    )
    text = diagnostics.content.decode()
    for pseudonym in Ballot.objects.values_list("pseudonym", flat=True):
        assert pseudonym not in text
    assert "王芳" not in text
    assert refused.status_code in (403, 404)


def test_public_answers_carry_no_stability_nor_diagnostics(analysed, api_client, client):
    meeting, organizer, _snapshot = analysed
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)

    public = api_client.get(f"/api/v1/public/meetings/{meeting.pk}/results").json()
    export = json.loads(client.get(f"/api/v1/public/meetings/{meeting.pk}/export.json").content)
    page = client.get(f"/results/m/{meeting.pk}/").content.decode()

    assert all("stability" not in row for row in public["rows"]) and "invalid" not in public
    assert "analysis" not in export
    assert "结果稳健性" not in page and "评委画像" not in page
    assert verify_export(export) == []  # the invalid marks travel with the public export too


def test_export_verifies_and_a_tampered_one_is_refused(analysed):
    _meeting, _organizer, snapshot = analysed

    document = export_document(snapshot, analysis=True)

    marked = [b for b in document["ballots"] if "invalid" in b]
    assert len(marked) == 6 and len({b["invalid"] for b in marked}) == 1
    assert verify_export(document) == []

    tampered = json.loads(json.dumps(document))
    department, figures = next(iter(tampered["analysis"]["stability"].items()))
    figures["fragile"] = not figures["fragile"]
    assert any(f"department {department}" in p for p in verify_export(tampered))

    tampered = json.loads(json.dumps(document))
    del next(b for b in tampered["ballots"] if "invalid" in b)["invalid"]
    assert any("invalid group" in p or "differ" in p for p in verify_export(tampered))

    tampered = json.loads(json.dumps(document))
    tampered["analysis"]["diagnostics"]["raters"][0]["leniency"] = "0.0000"
    assert any("diagnostics" in p for p in verify_export(tampered))


def test_receipt_check_says_an_invalid_ballot_does_not_count(analysed, api_client):
    meeting, organizer, snapshot = analysed
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    receipt = next(iter(snapshot.analysis["invalid_ballots"]))

    check = api_client.get(f"/api/v1/public/meetings/{meeting.pk}/receipts/{receipt}").json()

    assert (check["known"], check["invalid"], check["counted"]) == (True, True, False)
