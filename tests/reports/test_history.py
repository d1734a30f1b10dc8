"""SCORING.md 12 by hand: previous ranks and finals, rank changes, streaks of 1, 2 and 3 and an
interrupted one, repeat flags; the previous meeting set through the API, loops refused; the sample
city's ranking recomputed by hand for two counties from the sample files."""

import csv
from decimal import ROUND_HALF_UP
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from guardian.shortcuts import assign_perm

from meetings.models import Meeting
from meetings.services import meeting_import
from reports.history import apply_history, previous_figures
from reports.services import snapshot_compute, snapshot_publish
from tests.reports.test_stability import config, official
from voting.simulation import ballots_simulate

ROOT = Path(__file__).resolve().parents[2]


def rows_of(reward=(), admonition=(), ranks=None):
    """A published snapshot's rows, as previous_figures reads them."""
    ranks = ranks or {}
    return [
        {
            "department": d,
            "rank": ranks.get(d, i + 1),
            "final": f"{90 - i}.0000",
            "reward": d in reward,
            "admonition": d in admonition,
        }
        for i, d in enumerate(["A", "B", "C", "D"])
    ]


def current(reward_top=1, admonition_bottom=1):
    cfg = config(["A", "B", "C", "D"], reward={"top": reward_top}, admonition={"bottom": admonition_bottom})
    totals = {("A", "a"): [D(95)], ("B", "a"): [D(85)], ("C", "a"): [D(75)], ("D", "a"): [D(65)]}
    return official(cfg, totals)


def test_streaks_of_one_two_three_and_an_interrupted_one():
    chain = [
        (3, rows_of(reward={"A"}, admonition={"D"})),  # last year
        (2, rows_of(reward={"A"}, admonition={"C"})),  # two years ago
        (1, rows_of(reward={"B"}, admonition={"D"})),
    ]
    rows = {r.department: r for r in current()}

    apply_history(list(rows.values()), previous_figures(chain), {"repeat_admonition": 2, "repeat_reward": 3})

    assert rows["A"].history["reward_streak"] == 3 and "repeat_reward" in rows["A"].flags  # A, A, this year
    # D: admonished last year and this year, but not two years ago (C was): a streak of 2, interrupted.
    assert rows["D"].history["admonition_streak"] == 2 and "repeat_admonition" in rows["D"].flags
    assert rows["B"].history == {
        "previous_rank": 2, "previous_final": "89.0000", "rank_change": 0, "reward_streak": 0, "admonition_streak": 0,
    }  # fmt: skip
    assert rows["C"].flags == []


def test_a_streak_of_one_and_no_repeat_flag():
    rows = {r.department: r for r in current()}

    apply_history(list(rows.values()), previous_figures([(5, rows_of(reward={"B"}))]), {"repeat_reward": 2})

    assert rows["A"].history["reward_streak"] == 1 and "repeat_reward" not in rows["A"].flags


def test_unpublished_previous_and_a_department_absent_last_year():
    rows = {r.department: r for r in current()}

    apply_history(list(rows.values()), previous_figures([(7, None)]), {"repeat_admonition": 1})

    assert rows["A"].history == {
        "previous_rank": None, "previous_final": None, "rank_change": None, "reward_streak": 1, "admonition_streak": 0,
    }  # fmt: skip
    assert "repeat_admonition" in rows["D"].flags  # 1 year suffices under this rule

    last_year = [r for r in rows_of(ranks={"A": 3}) if r["department"] != "B"]  # B did not take part
    rows = {r.department: r for r in current()}
    apply_history(list(rows.values()), previous_figures([(8, last_year)]), None)
    assert rows["B"].history["previous_rank"] is None and rows["B"].history["rank_change"] is None
    assert rows["A"].history["rank_change"] == 2  # from 3rd to 1st: up two


def test_a_department_that_changed_category_is_followed_by_its_code():
    rows = {r.department: r for r in current()}
    before = rows_of()
    before[3]["rank"] = 1  # D was first in its old category

    apply_history(list(rows.values()), previous_figures([(9, before)]), None)

    assert rows["D"].history["previous_rank"] == 1 and rows["D"].history["rank_change"] == -3


@pytest.mark.django_db
def test_previous_meeting_through_the_api_loops_refused_and_history_in_results(small_document, api_client):
    first = meeting_import(document=small_document(departments=3), actor=None).meeting
    second = meeting_import(document=small_document(departments=3), actor=None).meeting
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    for meeting in (first, second):
        assign_perm("meetings.organize_meeting", organizer, meeting)
    ballots_simulate(meeting=first, seed=1)
    snapshot_compute(meeting=first)
    snapshot_publish(meeting=first, actor=organizer, ip=None)
    ballots_simulate(meeting=second, seed=2)
    api_client.force_authenticate(organizer)

    itself = api_client.put(f"/api/v1/meetings/{second.pk}/previous", {"meeting": second.pk}, format="json")
    linked = api_client.put(f"/api/v1/meetings/{second.pk}/previous", {"meeting": first.pk}, format="json")
    loop = api_client.put(f"/api/v1/meetings/{first.pk}/previous", {"meeting": second.pk}, format="json")
    api_client.post(f"/api/v1/meetings/{second.pk}/aggregate")
    results = snapshot_compute(meeting=second)

    assert itself.status_code == 400 and itself.json()["errors"][0]["path"] == "meeting"
    assert linked.status_code == 200 and Meeting.objects.get(pk=second.pk).previous_id == first.pk
    assert loop.status_code == 400 and Meeting.objects.get(pk=first.pk).previous_id is None
    published = {r["department"]: r for r in first.snapshots.get(published_at__isnull=False).rows}
    for row in results.rows:
        assert row["history"]["previous_rank"] == published[row["department"]]["rank"]
    assert results.config["previous"]["meeting"] == first.pk
    assert second.audit_entries.filter(action="meeting.previous_set").exists()


@pytest.mark.django_db
def test_unknown_previous_in_the_setup_document_creates_nothing(small_document):
    from meetings.setup_document import SetupInvalid

    document = small_document(previous={"cycle": 2020, "title": "没有这个会议"})
    before = Meeting.objects.count()

    with pytest.raises(SetupInvalid) as refused:
        meeting_import(document=document, actor=None)

    assert refused.value.errors[0]["path"] == "meeting.previous"
    assert Meeting.objects.count() == before


def q4(value: D) -> D:
    return value.quantize(D("0.0001"), rounding=ROUND_HALF_UP)


@pytest.mark.django_db
def test_sample_city_ranking_recomputed_by_hand_for_two_counties():
    call_command("demo_city", str(ROOT / "data"), verbosity=0)
    meeting = Meeting.objects.get(title__startswith="2022年度全市综合考核")
    snapshot = snapshot_compute(meeting=meeting)
    rows = {row["department"]: row for row in snapshot.rows}
    components = {
        r["department"]: r for r in csv.DictReader((ROOT / "data/city-components.csv").open(encoding="utf-8"))
    }
    points = {"very": D(100), "fair": D(80), "poor": D(50)}
    survey: dict[str, list[D]] = {}
    for answer in csv.DictReader((ROOT / "data/city-survey.csv").open(encoding="utf-8")):
        survey.setdefault(answer["department"], []).append(points[answer["overall"]])
    for county in ("C03", "C04"):  # 南岭县 and 北川县
        leaders = D(rows[county]["role_scores"]["leaders"]["score"])  # the simulated hall, as counted
        public = q4(sum(survey[county]) / len(survey[county]))
        assert D(rows[county]["role_scores"]["survey"]["score"]) == public
        meeting_score = q4(D("0.15") * leaders + D("0.85") * public)
        band = next(
            k
            for low, k in [(95, "1.02"), (90, "1.00"), (85, "0.98"), (80, "0.96"), (0, "0.94")]
            if meeting_score >= low
        )
        final = q4(D(components[county]["development"]) * D(components[county]["party"]) / 100 * D(band))
        assert rows[county]["final"] == str(final), county


@pytest.mark.django_db
def test_a_meeting_without_the_new_settings_keeps_its_snapshot_shape(small_document):
    meeting = meeting_import(document=small_document(departments=3), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=4)

    snapshot = snapshot_compute(meeting=meeting)

    assert not {"final", "previous", "streak_rule", "invalid_ballots"} & set(snapshot.config)
    assert all("history" not in row for row in snapshot.rows)
    assert snapshot_compute(meeting=meeting).digest == snapshot.digest
