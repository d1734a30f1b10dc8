import io

import pytest
from django.core.management import CommandError, call_command

from meetings.models import AuditEntry
from meetings.selectors import audit_chain_problems
from meetings.services import audit_record
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db


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

    AuditEntry.objects.filter(meeting=meeting, seq=2).update(details={"reason": "edited"})

    assert audit_chain_problems(meeting=meeting) == ["entry 2: content does not match its hash"]


def test_audit_entry_deleted_in_database_detected(admin_user):
    meeting = MeetingFactory()
    for action in ("a", "b", "c"):
        audit_record(meeting=meeting, actor=admin_user, ip=None, action=action)

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

    AuditEntry.objects.filter(meeting=meeting).update(action="forged")
    with pytest.raises(CommandError):
        call_command("verify_audit", str(meeting.pk), stdout=io.StringIO())
