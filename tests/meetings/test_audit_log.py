import io
from contextlib import contextmanager

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from meetings.models import AuditEntry
from meetings.selectors import audit_chain_problems
from meetings.services import audit_record
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


@contextmanager
def as_database_superuser():
    """Tampering needs a superuser now: PostgreSQL's triggers refuse it to everyone else."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET session_replication_role")


def test_audit_entries_chain_in_sequence(admin_user):
    meeting = MeetingFactory()
    first = audit_record(meeting=meeting, actor=admin_user, ip="10.0.0.1", action="voting.opened", details={"p": 1})
    second = audit_record(meeting=meeting, actor=admin_user, ip="10.0.0.1", action="voting.closed", details={"p": 1})

    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.entry_hash
    assert audit_chain_problems(meeting=meeting) == []


def test_audit_chains_are_per_meeting(admin_user):
    one, two = MeetingFactory(), MeetingFactory()
    audit_record(meeting=one, actor=admin_user, ip=None, action="a")
    entry = audit_record(meeting=two, actor=admin_user, ip=None, action="b")

    assert entry.seq == 1


def test_audit_entry_edited_in_database_detected(admin_user):
    meeting = MeetingFactory()
    for action in ("voting.opened", "ballot.voided", "voting.closed"):
        audit_record(meeting=meeting, actor=admin_user, ip="10.0.0.1", action=action, details={"reason": "x"})

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting, seq=2).update(details={"reason": "edited"})

    assert audit_chain_problems(meeting=meeting) == ["entry 2: content does not match its hash"]


def test_audit_entry_deleted_in_database_detected(admin_user):
    meeting = MeetingFactory()
    for action in ("a", "b", "c"):
        audit_record(meeting=meeting, actor=admin_user, ip=None, action=action)

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting, seq=2)._raw_delete(AuditEntry.objects.db)

    problems = audit_chain_problems(meeting=meeting)
    assert "entry 2 is missing (found 3)" in problems
    assert "entry 3: does not follow the previous entry" in problems


def test_audit_entry_refuses_update_and_delete_through_the_model(admin_user):
    meeting = MeetingFactory()
    entry = audit_record(meeting=meeting, actor=admin_user, ip=None, action="a")

    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_verify_audit_command_passes_then_fails_after_edit(admin_user):
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=admin_user, ip=None, action="a")
    out = io.StringIO()

    call_command("verify_audit", str(meeting.pk), stdout=out)
    assert "intact" in out.getvalue()

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting).update(action="forged")
    with pytest.raises(CommandError):
        call_command("verify_audit", str(meeting.pk), stdout=io.StringIO())


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE meetings_auditentry SET action = 'forged' WHERE meeting_id = %s",
        "DELETE FROM meetings_auditentry WHERE meeting_id = %s",
    ],
)
def test_audit_table_refuses_raw_sql_changes_in_postgresql(admin_user, statement):
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=admin_user, ip=None, action="a")

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [meeting.pk] if "%s" in statement else [])

    assert AuditEntry.objects.filter(meeting=meeting, action="a").count() == 1


@pytest.mark.django_db(transaction=True)
def test_audit_table_refuses_truncate_in_postgresql():
    # Its own committed transaction: a TRUNCATE beside the test's pending constraint checks is refused
    # by PostgreSQL for that reason alone, which would prove nothing.
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=None, ip=None, action="a")

    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("TRUNCATE meetings_auditentry CASCADE")

    assert AuditEntry.objects.filter(meeting=meeting).count() == 1


def test_audit_chain_with_every_entry_deleted_is_not_intact(admin_user):
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=admin_user, ip=None, action="a")

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting)._raw_delete(AuditEntry.objects.db)

    assert audit_chain_problems(meeting=meeting) == ["the audit log of this meeting is empty"]


def test_audit_chain_cut_short_is_caught_by_a_recorded_head(admin_user):
    meeting = MeetingFactory()
    entries = [audit_record(meeting=meeting, actor=admin_user, ip=None, action=a) for a in "abc"]
    head = {"seq": entries[-1].seq, "hash": entries[-1].entry_hash}
    assert audit_chain_problems(meeting=meeting, anchors=[("the export", head)]) == []

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting, seq__gte=2)._raw_delete(AuditEntry.objects.db)

    assert audit_chain_problems(meeting=meeting) == []  # on its own the shorter chain still links up
    assert audit_chain_problems(meeting=meeting, anchors=[("the export", head)]) == [
        "entry 3 recorded in the export is missing: the chain ends at entry 1 (truncated)"
    ]


def test_verify_audit_head_option_reports_a_truncated_chain(admin_user):
    meeting = MeetingFactory()
    entries = [audit_record(meeting=meeting, actor=admin_user, ip=None, action=a) for a in "ab"]
    head = f"{entries[-1].seq}:{entries[-1].entry_hash}"
    out = io.StringIO()
    call_command("verify_audit", str(meeting.pk), "--head", head, stdout=out)
    assert "including entry 2" in out.getvalue()

    with as_database_superuser():
        AuditEntry.objects.filter(meeting=meeting, seq=2)._raw_delete(AuditEntry.objects.db)

    with pytest.raises(CommandError, match="truncated"):
        call_command("verify_audit", str(meeting.pk), "--head", head, stdout=io.StringIO())
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("verify_audit", str(meeting.pk), "--head", "two:abc", stdout=io.StringIO())
