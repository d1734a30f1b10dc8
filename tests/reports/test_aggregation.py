"""Aggregation on the database: the SQL path, snapshots, digests, the organizer API."""

import json
import random
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appraisal.models import Criterion
from meetings.models import Presentation
from meetings.services import meeting_import
from reports import selectors
from reports.models import AggregationRun, ResultSnapshot
from reports.scoring import ballots_digest, compute_results, line_digest
from reports.services import aggregation_execute, snapshot_compute
from tests.factories import CategoryFactory, CriterionFactory, DepartmentFactory, MeetingFactory, RaterRoleFactory
from voting.models import Ballot
from voting.services import RecordedBallot, ballots_bulk_record
from voting.simulation import ballots_simulate

pytestmark = pytest.mark.django_db


def rows_via(meeting, tallies):
    return [
        r.as_dict()
        for r in compute_results(
            rules=selectors.scoring_rules(meeting),
            roles=selectors.scoring_roles(meeting),
            departments=selectors.scoring_departments(meeting),
            tallies=tallies,
            components=selectors.component_scores(meeting),
            adjustments=selectors.adjustment_totals(meeting),
            vetoes=selectors.vetoed_departments(meeting),
        )
    ]


def test_sql_tallies_equal_python_tallies_on_sample_meeting(sample_document):
    meeting = meeting_import(document=sample_document, actor=None).meeting
    ballots_simulate(meeting=meeting, seed=1)

    assert selectors.role_tallies_sql(meeting) == selectors.role_tallies_python(meeting)


def _random_meeting(data):
    meeting = MeetingFactory(
        reward_top=None,
        reward_top_percent=Decimal(data.draw(st.sampled_from([10, 20, 34]))),
        admonition_bottom=data.draw(st.integers(0, 1)),
        rank_within_category=data.draw(st.booleans()),
    )
    categories = [CategoryFactory(scheme=meeting.scheme) for _ in range(2)]
    roles = []
    for i in range(data.draw(st.integers(1, 3))):
        role = RaterRoleFactory(
            scheme=meeting.scheme,
            order=i,
            weight=Decimal(data.draw(st.sampled_from(["0.1", "0.25", "0.3", "1"]))),
            trim=data.draw(st.integers(0, 3)),
        )
        criteria = [
            CriterionFactory(role=role, code="a", max_value=Decimal("60"), step=Decimal("0.5")),
            CriterionFactory(role=role, code="b", max_value=Decimal("40"), step=Decimal("0.1")),
        ]
        roles.append((role, criteria))
    meeting.tie_break_roles = [roles[0][0].code]
    meeting.save()
    presentations = []
    for order in range(1, data.draw(st.integers(2, 6)) + 1):
        department = DepartmentFactory(scheme=meeting.scheme, category=categories[order % 2])
        presentations.append(Presentation.objects.create(meeting=meeting, department=department, order=order))
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    ballots = []
    for presentation in presentations:
        for role, criteria in roles:
            for seat in range(data.draw(st.integers(0, 7))):
                a = Decimal(rng.randint(0, 120)) / 2
                b = Decimal(rng.randint(0, 400)) / 10
                ballots.append(
                    RecordedBallot(
                        presentation_id=presentation.pk,
                        role_id=role.pk,
                        seat_key=f"seat:{role.pk}:{seat}",
                        values=[(criteria[0].pk, None, a), (criteria[1].pk, None, b)],
                    )
                )
    ballots_bulk_record(meeting=meeting, ballots=ballots)
    # Void a few: they must count on neither path.
    for ballot in Ballot.objects.filter(presentation__meeting=meeting).order_by("?")[: data.draw(st.integers(0, 3))]:
        Ballot.objects.filter(pk=ballot.pk).update(state="void", void_reason="test", voided_at=timezone.now())
    return meeting


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(data=st.data())
def test_database_path_equals_python_path_on_random_meetings(data):
    meeting = _random_meeting(data)

    sql_tallies = selectors.role_tallies_sql(meeting)
    python_tallies = selectors.role_tallies_python(meeting)

    assert sql_tallies == python_tallies
    assert rows_via(meeting, sql_tallies) == rows_via(meeting, python_tallies)
    lines = selectors.ballot_lines_from_values(meeting)
    assert selectors.counting_ballots_digest(meeting) == (ballots_digest(map(line_digest, lines)), len(lines))


def test_snapshot_recomputed_from_same_ballots_has_same_digest(voted_meeting):
    first = snapshot_compute(meeting=voted_meeting)
    second = snapshot_compute(meeting=voted_meeting)

    assert first.pk != second.pk
    assert first.digest == second.digest
    assert first.rows == second.rows
    assert first.ballots_counted == Ballot.objects.filter(presentation__meeting=voted_meeting).count()


def test_snapshot_digest_changes_when_a_ballot_is_voided(voted_meeting):
    before = snapshot_compute(meeting=voted_meeting)
    ballot = Ballot.objects.filter(presentation__meeting=voted_meeting).first()
    Ballot.objects.filter(pk=ballot.pk).update(state="void", void_reason="双重投票", voided_at=timezone.now())

    after = snapshot_compute(meeting=voted_meeting)

    assert after.digest != before.digest
    assert after.ballots_counted == before.ballots_counted - 1
    assert [b for b, _t in json.loads(after.inputs)["ballots"]] == sorted(
        Ballot.objects.filter(presentation__meeting=voted_meeting, state="submitted").values_list("pk", flat=True)
    )


def test_snapshot_rows_hold_every_department_in_rank_order(voted_meeting):
    snapshot = snapshot_compute(meeting=voted_meeting)

    assert len(snapshot.rows) == 5
    ranks = [r["rank"] for r in snapshot.rows]
    assert ranks == sorted(ranks)
    assert set(snapshot.rows[0]) >= {
        "department",
        "name",
        "category",
        "role_scores",
        "meeting_score",
        "components",
        "adjustments",
        "final",
        "rank",
        "bottom_rank",
        "reward",
        "admonition",
        "flags",
    }
    recused = next(r for r in snapshot.rows if r["department"] == "D01")
    assert recused["role_scores"]["public"]["ballots"] == 6  # 王芳 (public, own department D01) abstained


def test_aggregation_execute_twice_is_one_success(voted_meeting):
    run = AggregationRun.objects.create(meeting=voted_meeting)

    aggregation_execute(run_id=run.pk)
    aggregation_execute(run_id=run.pk)

    run.refresh_from_db()
    assert (run.state, run.progress, run.attempts) == ("succeeded", 100, 1)
    assert ResultSnapshot.objects.filter(meeting=voted_meeting).count() == 1


def test_aggregation_execute_reports_progress(voted_meeting):
    run = AggregationRun.objects.create(meeting=voted_meeting)
    seen = []

    aggregation_execute(run_id=run.pk, progress=seen.append)

    assert seen == sorted(seen) and seen[-1] == 100 and len(seen) >= 4


def test_grade_and_numeric_criteria_mixed_in_totals(voted_meeting):
    ballot = Ballot.objects.filter(presentation__meeting=voted_meeting, role__code="public").first()
    value = ballot.values.get()

    assert value.grade is not None
    assert ballot.total == value.points == value.grade.points
    lead = Ballot.objects.filter(presentation__meeting=voted_meeting, role__code="leadership").first()
    assert lead.total == sum(v.points for v in lead.values.all())
    assert Criterion.objects.filter(role__scheme=voted_meeting.scheme).count() == 3


# --- the organizer API ---------------------------------------------------------------------------


@pytest.fixture
def organizer(voted_meeting):
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, voted_meeting)
    return user


@pytest.fixture
def organizer_client(api_client, organizer):
    api_client.force_authenticate(organizer)
    return api_client


def test_results_before_any_aggregation_is_404(organizer_client, voted_meeting):
    assert organizer_client.get(f"/api/v1/meetings/{voted_meeting.pk}/results").status_code == 404


def test_results_api_returns_latest_snapshot_in_api_shape(organizer_client, voted_meeting):
    snapshot = snapshot_compute(meeting=voted_meeting)

    body = organizer_client.get(f"/api/v1/meetings/{voted_meeting.pk}/results").json()

    assert (body["snapshot"], body["digest"], body["published"]) == (snapshot.pk, snapshot.digest, False)
    # The snapshot's rows, each with its stability beside it (SCORING.md 13; API.md turn 2).
    assert [{k: v for k, v in row.items() if k != "stability"} for row in body["rows"]] == snapshot.rows
    assert [row["stability"] is not None for row in body["rows"]] == [row["rank"] is not None for row in snapshot.rows]
    assert set(body["invalid"]) == {"leadership", "public"}
    assert body["rows"][0]["final"].count(".") == 1 and len(body["rows"][0]["final"].split(".")[1]) == 4


def test_publish_then_public_results(organizer_client, api_client, voted_meeting):
    public_url = f"/api/v1/public/meetings/{voted_meeting.pk}/results"
    snapshot_compute(meeting=voted_meeting)
    assert organizer_client.get(public_url).status_code == 404

    response = organizer_client.post(f"/api/v1/meetings/{voted_meeting.pk}/publish")

    assert response.status_code == 200 and response.json()["published"] is True
    api_client.force_authenticate(None)
    public = api_client.get(public_url)
    assert public.status_code == 200
    assert public.json()["digest"] == response.json()["digest"]


def test_publish_stale_snapshot_refused(organizer_client, voted_meeting):
    snapshot_compute(meeting=voted_meeting)
    ballot = Ballot.objects.filter(presentation__meeting=voted_meeting).first()
    ballot.state, ballot.void_reason, ballot.voided_at = "void", "重复", timezone.now()
    ballot.save()

    response = organizer_client.post(f"/api/v1/meetings/{voted_meeting.pk}/publish")

    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert not ResultSnapshot.objects.filter(published_at__isnull=False).exists()


def test_component_import_and_final_score(organizer_client, voted_meeting, small_document):
    meeting = meeting_import(
        document=small_document(meeting_weight="0.6")
        | {"components": [{"code": "annual", "name": "年度目标考核", "weight": "0.4"}]},
        actor=None,
    ).meeting
    ballots_simulate(meeting=meeting, seed=3)
    assign_perm("meetings.organize_meeting", organizer_client.handler._force_user, meeting)
    scores = {"D01": "90", "D02": "80.5", "D03": "70"}

    response = organizer_client.post(
        f"/api/v1/meetings/{meeting.pk}/components/annual", {"scores": scores}, format="json"
    )

    assert response.status_code == 200, response.content
    rows = {r["department"]: r for r in snapshot_compute(meeting=meeting).rows}
    d2 = rows["D02"]
    assert d2["components"] == {"annual": "80.5000"}
    expected = (Decimal("0.6") * Decimal(d2["meeting_score"]) + Decimal("0.4") * Decimal("80.5")).quantize(
        Decimal("0.0001")
    )
    assert d2["final"] == str(expected)


def test_component_import_bad_values_refused_and_nothing_saved(organizer_client, voted_meeting, small_document):
    meeting = meeting_import(
        document=small_document(meeting_weight="0.6")
        | {"components": [{"code": "annual", "name": "年度目标考核", "weight": "0.4"}]},
        actor=None,
    ).meeting
    assign_perm("meetings.organize_meeting", organizer_client.handler._force_user, meeting)
    url = f"/api/v1/meetings/{meeting.pk}/components/annual"

    over = organizer_client.post(url, {"scores": {"D01": "90", "D02": "101"}}, format="json")
    unknown = organizer_client.post(url, {"scores": {"D99": "90"}}, format="json")
    wrong = organizer_client.post(url, {"scores": {"D01": "abc"}}, format="json")

    assert [r.status_code for r in (over, unknown, wrong)] == [400, 400, 400]
    assert {e["path"] for e in over.json()["errors"]} == {"scores.D02"}
    from reports.models import ComponentScore

    assert ComponentScore.objects.count() == 0
    assert (
        organizer_client.post(
            f"/api/v1/meetings/{meeting.pk}/components/nope", {"scores": {"D01": "1"}}, format="json"
        ).status_code
        == 404
    )


def test_adjustment_and_veto_change_the_result_and_are_audited(organizer_client, voted_meeting):
    url = f"/api/v1/meetings/{voted_meeting.pk}"
    before = {r["department"]: r for r in snapshot_compute(meeting=voted_meeting).rows}

    added = organizer_client.post(
        f"{url}/adjustments", {"department": "D02", "points": "-2.5", "reason": "安全生产事故"}, format="json"
    )
    vetoed = organizer_client.post(f"{url}/vetoes", {"department": "D03", "reason": "违反廉政规定"}, format="json")
    no_reason = organizer_client.post(f"{url}/vetoes", {"department": "D04", "reason": ""}, format="json")

    assert (added.status_code, vetoed.status_code, no_reason.status_code) == (201, 201, 400)
    after = {r["department"]: r for r in snapshot_compute(meeting=voted_meeting).rows}
    assert Decimal(after["D02"]["final"]) == Decimal(before["D02"]["final"]) - Decimal("2.5")
    assert after["D02"]["adjustments"] == "-2.5000"
    assert (after["D03"]["reward"], after["D03"]["admonition"], after["D03"]["veto"]) == (False, True, True)
    actions = list(voted_meeting.audit_entries.values_list("action", flat=True))
    assert "adjustment.added" in actions and "veto.set" in actions


def test_organizer_api_hides_meeting_from_users_without_right(api_client, voted_meeting):
    stranger = get_user_model().objects.create_user("stranger", password="pw-stranger-1")
    auditor = get_user_model().objects.create_user("auditor", password="pw-auditor-1")
    assign_perm("meetings.audit_meeting", auditor, voted_meeting)
    snapshot_compute(meeting=voted_meeting)
    url = f"/api/v1/meetings/{voted_meeting.pk}"

    assert api_client.get(f"{url}/results").status_code in (401, 403)
    api_client.force_authenticate(stranger)
    assert api_client.get(f"{url}/results").status_code == 404
    assert api_client.post(f"{url}/aggregate").status_code == 404
    api_client.force_authenticate(auditor)
    assert api_client.get(f"{url}/results").status_code == 200
    assert api_client.post(f"{url}/publish").status_code == 403
    assert api_client.post(f"{url}/aggregate").status_code == 403
    assert not ResultSnapshot.objects.filter(published_at__isnull=False).exists()


def test_snapshot_digest_does_not_depend_on_how_the_meeting_was_loaded(small_document):
    """A meeting fresh from the import holds Decimal("100"); read back it holds 100.0000: same digest."""
    from meetings.models import Meeting

    fresh = meeting_import(document=small_document(), actor=None).meeting
    ballots_simulate(meeting=fresh, seed=2)

    assert snapshot_compute(meeting=fresh).digest == snapshot_compute(meeting=Meeting.objects.get(pk=fresh.pk)).digest
