"""A database expert with the live database and Redis, but not the pseudonym key, links no ballot to a
seat or a name, and cannot even group two ballots of one seat (issue 13).

The meeting is driven through the API on PostgreSQL with named, recused and anonymous seats: phone
ballots (some with an Idempotency-Key), a paper ballot typed in twice, a survey sheet. Then, with SQL
alone (xmin, xmax, ctid, ids, timestamps, every column) and the Redis keys, the five attacks of the
issue are tried, before and after the meeting's seal. The truth (which seat cast which receipt) is
known only to the test, from the answers its phones received.
"""

import io
import random
import uuid

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from guardian.shortcuts import assign_perm
from openpyxl import Workbook
from rest_framework.test import APIClient

from meetings.models import Presentation, Rater
from meetings.services import meeting_import
from reports.services import snapshot_compute, snapshot_publish
from voting.services import meeting_seal, voting_set

pytestmark = pytest.mark.django_db(transaction=True)


def sql(query, params=None):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def kendall_tau(order_a, order_b) -> float:
    """Kendall's tau between two orderings of the same items (no ties)."""
    rank_b = {item: i for i, item in enumerate(order_b)}
    ranks = [rank_b[item] for item in order_a]
    n = len(ranks)
    concordant = sum(1 for i in range(n) for j in range(i + 1, n) if ranks[i] < ranks[j])
    pairs = n * (n - 1) // 2
    return (2 * concordant - pairs) / pairs


def scores_for(role, rng):
    if role == "leadership":
        return {"performance": str(rng.randint(30, 60)), "innovation": str(rng.randint(20, 40))}
    return {"overall": rng.choice(["excellent", "good", "fair"])}


@pytest.fixture
def meeting_voted(small_document):
    document = small_document(departments=5, seats=5)
    document["raters"].append({"role": "leadership", "name": "李强", "department": "D02"})
    result = meeting_import(document=document, actor=None)
    meeting = result.meeting
    organizer = get_user_model().objects.create_user("organizer", password="pw-organizer-1")
    staff = get_user_model().objects.create_user("staff", password="pw-staff-1")
    for user in (organizer, staff):
        assign_perm("meetings.organize_meeting", user, meeting)
    voting_set(meeting=meeting, presentation_id=None, action="open", actor=None, ip=None)
    presentations = list(Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"))
    raters = {r.pk: r for r in Rater.objects.filter(meeting=meeting).select_related("department", "role")}
    issued = {i.rater_id: i for i in result.raters}
    paper_seat = next(i for i in result.raters if i.role == "public" and not i.name)
    paper_presentation = presentations[-1]

    rng = random.Random(13)
    casts = [
        (rater_id, p)
        for rater_id in issued
        for p in presentations
        if raters[rater_id].department_id != p.department_id
        and not (rater_id == paper_seat.rater_id and p.pk == paper_presentation.pk)
    ]
    rng.shuffle(casts)
    truth, order = {}, []  # receipt -> seat; receipts in the order they were cast
    phone = APIClient()
    for rater_id, p in casts:
        headers = {"HTTP_AUTHORIZATION": f"Rater {issued[rater_id].token}"}
        if rng.random() < 0.5:
            headers["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
        phone.get(f"/r/{issued[rater_id].token}/")  # the card is opened: Redis notes the token as seen
        answer = phone.put(
            f"/api/v1/rater/ballots/{p.pk}",
            {"scores": scores_for(raters[rater_id].role.code, rng)},
            format="json",
            **headers,
        )
        assert answer.status_code == 201, answer.content
        receipt = answer.json()["receipt"].replace("-", "")
        truth[receipt] = rater_id
        order.append(receipt)

    office = APIClient()
    paper = {"seat": paper_seat.seat_no, "presentation": paper_presentation.pk, "scores": {"overall": "good"}}
    office.force_authenticate(organizer)
    assert office.post(f"/api/v1/meetings/{meeting.pk}/paper", paper, format="json").status_code == 201
    office.force_authenticate(staff)
    second = office.post(f"/api/v1/meetings/{meeting.pk}/paper", paper, format="json")
    assert second.json()["state"] == "matched"
    truth[second.json()["receipt"].replace("-", "")] = paper_seat.rater_id

    workbook = Workbook()
    for row in [["部门", "总体评价"], ["D01", "良好"], ["D02", "优秀"], ["D03", "一般"]]:
        workbook.active.append(row)
    sheet = io.BytesIO()
    workbook.save(sheet)
    sheet.seek(0)
    sheet.name = "survey.xlsx"
    office.force_authenticate(organizer)
    assert (
        office.post(f"/api/v1/meetings/{meeting.pk}/surveys/public", {"file": sheet}, format="multipart").status_code
        == 201
    )
    return meeting, organizer, truth, order, raters


def assert_no_link(meeting, truth, raters):
    ballots = sql(
        """SELECT b.receipt, b.xmin::text, b.pseudonym, b.id, b.created_at, b.updated_at, b.ctid::text
           FROM voting_ballot b JOIN meetings_presentation p ON p.id = b.presentation_id WHERE p.meeting_id = %s""",
        [meeting.pk],
    )
    ballot_xmins = {row[1] for row in ballots}
    # 1. Row locks: no rater row (or any row naming a seat) carries a ballot transaction's id.
    rater_xids = {x for (x,) in sql("SELECT xmax::text FROM meetings_rater WHERE xmax::text <> '0'")} | {
        x for (x,) in sql("SELECT xmin::text FROM meetings_rater")
    }
    assert not rater_xids & ballot_xmins
    seat_rows = sql("SELECT xmin::text, xmax::text FROM voting_paperentry WHERE seat_no IS NOT NULL")
    assert not {x for row in seat_rows for x in row} & ballot_xmins
    audit_with_seat = sql(
        "SELECT xmin::text FROM meetings_auditentry WHERE meeting_id = %s AND details ? 'seat'", [meeting.pk]
    )
    assert not {x for (x,) in audit_with_seat} & ballot_xmins
    # 2. Paper entries: no seat number once counted, and never a pseudonym column.
    columns = {c.name for c in connection.introspection.get_table_description(connection.cursor(), "voting_paperentry")}
    assert "pseudonym" not in columns
    assert sql("SELECT count(*) FROM voting_paperentry WHERE seat_no IS NOT NULL AND ballot_id IS NOT NULL") == [(0,)]
    # 3. Grouping: no column value, system columns included, is shared by two ballots of one seat alone.
    for index, name in [(1, "xmin"), (2, "pseudonym"), (3, "id"), (6, "ctid")]:
        groups = {}
        for row in ballots:
            groups.setdefault(row[index], set()).add(row[0])
        for value, receipts in groups.items():
            seats = {truth.get(r, ("survey", r)) for r in receipts}
            assert len(receipts) == 1 or len(seats) > 1, (name, value)
    records = sql("SELECT pseudonym, count(*) FROM voting_idempotencyrecord GROUP BY pseudonym HAVING count(*) > 1")
    assert records == []
    # 4. Time: one time per presentation, never the moment a ballot came in.
    per_presentation = sql(
        """SELECT b.presentation_id, count(DISTINCT b.created_at), count(DISTINCT b.updated_at)
           FROM voting_ballot b JOIN meetings_presentation p ON p.id = b.presentation_id
           WHERE p.meeting_id = %s AND b.source = 'phone' GROUP BY 1""",
        [meeting.pk],
    )
    assert per_presentation and all(row[1:] == (1, 1) for row in per_presentation)
    record_times = sql("SELECT count(DISTINCT created_at), count(*) FROM voting_idempotencyrecord")
    assert record_times[0][0] <= len(per_presentation)
    # 5. Redis: the keys name no token hash the database holds.
    hashes = set(Rater.objects.filter(meeting=meeting).values_list("token_hash", flat=True))
    keys = [k.decode() for k in redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]).scan_iter("*")]
    # Since issue 17 the rater path keeps no per-token key (a valid card is never refused, so none is
    # remembered); whatever the cache holds, no key may name a token hash.
    assert not [k for k in keys if any(h in k for h in hashes)]
    # Names: 李强 (recused from D02) and every other seat, linked to nothing.
    assert {r.name for r in raters.values() if r.name} == {"王芳", "李强"}
    return ballots


def test_database_and_redis_link_no_ballot_to_a_seat(meeting_voted):
    meeting, _organizer, truth, order, raters = meeting_voted

    ballots = assert_no_link(meeting, truth, raters)

    # Ids reveal no order: the ballots sorted by id are not the order they came in.
    phone = [r for r in order]
    by_id = [row[0] for row in sorted(ballots, key=lambda row: row[3]) if row[0] in set(phone)]
    assert len(phone) >= 50
    assert abs(kendall_tau(phone, by_id)) < 0.5


def test_seal_rewrites_the_meeting_in_random_order_and_results_still_verify(meeting_voted):
    meeting, organizer, truth, order, raters = meeting_voted
    voting_set(meeting=meeting, presentation_id=None, action="close", actor=None, ip=None)
    snapshot = snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    before = sql("SELECT receipt, line_sha256, total FROM voting_ballot ORDER BY receipt")

    sealed = meeting_seal(meeting_id=meeting.pk)

    assert sealed["ballots"] == len(before) and sealed["physical"] is True
    ballots = assert_no_link(meeting, truth, raters)
    # One transaction rewrote every ballot: a single xmin, and the physical order is random.
    assert len({row[1] for row in ballots}) == 1
    phone = set(order)
    by_ctid = [
        row[0]
        for row in sorted(ballots, key=lambda row: tuple(int(x) for x in row[6].strip("()").split(",")))
        if row[0] in phone
    ]
    assert abs(kendall_tau(order, by_ctid)) < 0.5
    # Nothing a result is computed from changed: the digest, the receipts and the snapshot verify.
    assert sql("SELECT receipt, line_sha256, total FROM voting_ballot ORDER BY receipt") == before
    assert snapshot_compute(meeting=meeting).digest == snapshot.digest
    assert meeting.audit_entries.filter(action="meeting.sealed").exists()
