"""What is published is what was counted: a change during or after an aggregation makes its snapshot
stale, on a real Celery worker and through the admin (issue 12, hole 1)."""

import json
import time
from decimal import Decimal

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from guardian.shortcuts import assign_perm

from appraisal.celery import app
from meetings.models import AuditEntry, Presentation, Rater
from meetings.services import meeting_import
from reports.models import AggregationRun, ResultSnapshot
from reports.services import snapshot_compute
from tests.worker import WorkerProcess
from voting.models import Ballot
from voting.selectors import rater_pseudonym
from voting.simulation import ballots_simulate


def wait_for(predicate, timeout: float, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


@pytest.fixture
def worker():
    app.control.purge()
    process = WorkerProcess("integrity").start()
    yield process
    process.stop()
    app.control.purge()


@pytest.fixture
def meeting_with_organizer(small_document, api_client):
    meeting = meeting_import(document=small_document(departments=4, seats=6), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=12, turnout=0.7)
    user = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    assign_perm("meetings.organize_meeting", user, meeting)
    api_client.force_authenticate(user)
    return meeting, api_client


class HeldAggregation:
    """Holds a running aggregation still after its repeatable-read view has begun: another connection
    locks a table the computation reads after its first statement, so the worker waits on that lock."""

    def __init__(self):
        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=False
        )

    def __enter__(self):
        self.conn.execute("LOCK TABLE reports_componentscore IN ACCESS EXCLUSIVE MODE")
        return self

    def wait_until_blocked(self):
        def blocked():
            row = self.conn.execute(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'reports_componentscore'::regclass"
            ).fetchone()
            return row[0] > 0

        wait_for(blocked, timeout=30)

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def aggregate_holding(client, meeting, during):
    """Request an aggregation, run ``during`` while it is held mid-computation, let it finish."""
    with HeldAggregation() as held:
        response = client.post(f"/api/v1/meetings/{meeting.pk}/aggregate")
        assert response.status_code == 202
        run_id = response.json()["run"]
        held.wait_until_blocked()
        during()
    wait_for(lambda: AggregationRun.objects.get(pk=run_id).state == "succeeded", timeout=30)
    return AggregationRun.objects.get(pk=run_id).snapshot


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_void_during_running_aggregation_makes_its_snapshot_stale(worker, meeting_with_organizer):
    meeting, client = meeting_with_organizer
    ballot = Ballot.objects.filter(presentation__meeting=meeting).order_by("pk").first()

    def void():
        answer = client.post(
            f"/api/v1/meetings/{meeting.pk}/ballots/void",
            {"receipt": ballot.receipt, "reason": "重复投票"},
            format="json",
        )
        assert answer.status_code == 200, answer.content

    snapshot = aggregate_holding(client, meeting, void)

    counted = {pk for pk, _total in json.loads(ResultSnapshot.objects.get(pk=snapshot.pk).inputs)["ballots"]}
    assert ballot.pk in counted  # the view began before the void: the snapshot counted the ballot
    response = client.post(f"/api/v1/meetings/{meeting.pk}/publish")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "stale"
    assert [e["path"] for e in body["errors"]] == ["changes.voids"]
    assert not ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).exists()

    fresh = snapshot_compute(meeting=meeting)
    assert ballot.pk not in {pk for pk, _t in json.loads(ResultSnapshot.objects.get(pk=fresh.pk).inputs)["ballots"]}
    assert client.post(f"/api/v1/meetings/{meeting.pk}/publish").status_code == 200


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_ballot_accepted_during_running_aggregation_makes_its_snapshot_stale(worker, meeting_with_organizer):
    meeting, client = meeting_with_organizer
    presentation = Presentation.objects.filter(meeting=meeting).order_by("order").first()
    voted = set(Ballot.objects.filter(presentation=presentation).values_list("pseudonym", flat=True))
    rater = next(
        r
        for r in Rater.objects.filter(meeting=meeting, role__code="leadership", department__isnull=True)
        if rater_pseudonym(r, presentation.pk) not in voted
    )
    from meetings.services import rater_token_reissue

    token = rater_token_reissue(rater=rater, actor=None, ip=None)
    Presentation.objects.filter(pk=presentation.pk).update(state="open")
    from rest_framework.test import APIClient

    phone = APIClient()

    def vote():
        answer = phone.put(
            f"/api/v1/rater/ballots/{presentation.pk}",
            {"scores": {"performance": "50", "innovation": "30"}},
            format="json",
            HTTP_AUTHORIZATION=f"Rater {token}",
        )
        assert answer.status_code == 201, answer.content

    snapshot = aggregate_holding(client, meeting, vote)

    new_ballot = Ballot.objects.get(presentation=presentation, pseudonym=rater_pseudonym(rater, presentation.pk))
    counted = {pk for pk, _total in json.loads(ResultSnapshot.objects.get(pk=snapshot.pk).inputs)["ballots"]}
    assert new_ballot.pk not in counted
    response = client.post(f"/api/v1/meetings/{meeting.pk}/publish")
    assert response.status_code == 409
    assert response.json()["code"] == "stale"
    assert [e["path"] for e in response.json()["errors"]] == ["changes.ballots"]


@pytest.mark.django_db
def test_role_weight_changed_in_admin_after_snapshot_is_stale_and_audited(admin_client, voted_meeting):
    from appraisal.models import RaterRole
    from reports.services import snapshot_publish

    snapshot_compute(meeting=voted_meeting)
    role = RaterRole.objects.get(scheme=voted_meeting.scheme, code="leadership")
    other = RaterRole.objects.get(scheme=voted_meeting.scheme, code="public")
    url = f"/admin/appraisal/raterrole/{role.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data |= management_of_inline(admin_client, url) | {"weight": "0.3"}

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    role.refresh_from_db()
    assert role.weight == Decimal("0.3")
    entry = AuditEntry.objects.filter(meeting=voted_meeting).order_by("-seq").first()
    assert (entry.action, entry.actor_label) == ("setup.changed", "root")
    assert entry.details["object"] == str(role)
    assert len(entry.details["fields"]) == 1  # the weight, and nothing else
    from appraisal.exceptions import Conflict

    admin = get_user_model().objects.get(username="root")
    with pytest.raises(Conflict) as refused:
        snapshot_publish(meeting=voted_meeting, actor=admin, ip=None)
    assert refused.value.code == "stale"
    assert [e["path"] for e in refused.value.errors] == ["changes.setup"]
    assert other.weight  # untouched


def management_of_inline(client, url) -> dict:
    """The inline formsets' rows as the change page renders them, so a POST keeps them as they are."""
    context = client.get(url).context
    data = {}
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        data[f"{formset.prefix}-TOTAL_FORMS"] = str(formset.total_form_count())
        data[f"{formset.prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        for form in formset.forms:
            for name in form.fields:
                value = form[name].value()
                if value is not None:
                    data[form.add_prefix(name)] = value
    return data


@pytest.mark.django_db
def test_admin_refuses_component_weights_that_break_the_setup_rules(admin_client, small_document):
    from meetings.models import Component

    document = small_document(meeting_weight="0.6") | {
        "components": [{"code": "annual", "name": "年度目标考核", "weight": "0.4"}]
    }
    meeting = meeting_import(document=document, actor=None).meeting
    component = Component.objects.get(meeting=meeting)
    entries_before = AuditEntry.objects.filter(meeting=meeting).count()
    url = f"/admin/meetings/component/{component.pk}/change/"
    data = {"meeting": meeting.pk, "code": "annual", "name": "年度目标考核", "weight": "0.6", "order": 0}

    response = admin_client.post(url, data, follow=True)

    component.refresh_from_db()
    assert component.weight == Decimal("0.4")  # rolled back: 0.6 + 0.6 = 1.2
    text = response.content.decode()
    assert "之和为 1.2，必须等于 1" in text
    assert AuditEntry.objects.filter(meeting=meeting).count() == entries_before


@pytest.mark.django_db
def test_published_audit_head_is_in_the_export_page_and_pdf_and_verifies(client, voted_meeting, admin_user):
    import io
    import subprocess

    from django.core.management import CommandError, call_command

    from reports.services import snapshot_publish
    from tests.meetings.test_audit_log import as_database_superuser

    snapshot_compute(meeting=voted_meeting)
    published = snapshot_publish(meeting=voted_meeting, actor=admin_user, ip=None)
    head = published.published_audit_head
    last = AuditEntry.objects.filter(meeting=voted_meeting).order_by("-seq").first()
    assert head == {"seq": last.seq, "hash": last.entry_hash} and last.action == "result.published"

    export = client.get(f"/api/v1/public/meetings/{voted_meeting.pk}/export.json").json()
    page = client.get(f"/results/m/{voted_meeting.pk}/").content.decode()
    pdf = client.get(f"/api/v1/public/meetings/{voted_meeting.pk}/export.pdf").content
    pdf_text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    assert export["audit_head"] == head
    assert head["hash"] in page
    assert head["hash"] in "".join(pdf_text.decode().split())
    out = io.StringIO()
    call_command("verify_audit", str(voted_meeting.pk), "--head", f"{head['seq']}:{head['hash']}", stdout=out)
    assert "intact" in out.getvalue()

    with as_database_superuser():  # someone who could, deletes the publication's entry from the log
        AuditEntry.objects.filter(meeting=voted_meeting, seq=head["seq"])._raw_delete(AuditEntry.objects.db)
    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit", str(voted_meeting.pk), "--head", f"{head['seq']}:{head['hash']}")
    with pytest.raises(CommandError, match="publication of snapshot"):
        call_command("verify_audit", str(voted_meeting.pk))  # the database's own record of the head
