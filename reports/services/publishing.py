"""Publishing a snapshot, withdrawing it, sealing it, and runs left behind by a worker."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appraisal.exceptions import Conflict
from appraisal.queue import task_send
from meetings.models import Meeting, MeetingChange
from meetings.selectors import meeting_revision, revision_behind
from meetings.services import audit_record

from .. import selectors
from ..models import AggregationRun, ResultSnapshot


def snapshot_stale_changes(snapshot: ResultSnapshot) -> list[dict]:
    """The kinds of change the snapshot did not see, as [{"path": "changes.KIND", "message": name}].

    Exact under concurrency (MeetingChange): a change committed after the snapshot's view began, or
    still in flight then, moved a counter past the value the snapshot recorded inside that view.
    """
    current = meeting_revision(meeting_id=snapshot.meeting_id)
    labels = dict(MeetingChange.Kind.choices)
    return [
        {"path": f"changes.{kind}", "message": str(labels[kind])}
        for kind in revision_behind(recorded=snapshot.revision, current=current)
    ]


def snapshot_stale_reasons(snapshot: ResultSnapshot) -> list[str]:
    """What changed in the meeting's inputs that the snapshot did not see, in words."""
    return [change["message"] for change in snapshot_stale_changes(snapshot)]


@transaction.atomic
def snapshot_publish(*, meeting: Meeting, actor: AbstractBaseUser, ip: str | None, seal: bool = True) -> ResultSnapshot:
    """Publish the latest snapshot; refuse a stale one or a rehearsal. ``seal``: queue the ballots' seal
    (a final result; not while it is only under public notice, reports.publicity)."""
    Meeting.objects.select_for_update().filter(pk=meeting.pk).values_list("pk", flat=True).get()
    if meeting.is_rehearsal:
        raise Conflict(_("A rehearsal is never published."), code="rehearsal")
    snapshot = selectors.snapshot_latest(meeting)
    if snapshot is None:
        raise Conflict(_("There is no result to publish yet: run the aggregation first."), code="no_snapshot")
    changes = snapshot_stale_changes(snapshot)
    if changes:
        raise Conflict(
            _("The latest result is out of date (%(reasons)s): run the aggregation again.")
            % {"reasons": _("、").join(c["message"] for c in changes)},
            code="stale",
            errors=changes,
        )
    if snapshot.published_at is not None:
        return snapshot
    ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).update(
        published_at=None, published_by=None, published_audit_head=None, stage="", publicity_until=None
    )
    entry = audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="result.published",
        details={"snapshot": snapshot.pk, "digest": snapshot.digest},
    )
    snapshot.published_at = timezone.now()
    snapshot.published_by = actor
    # The publication's own audit entry is the head it vouches for: everything up to it is on record.
    snapshot.published_audit_head = {"seq": entry.seq, "hash": entry.entry_hash}
    snapshot.save(update_fields=["published_at", "published_by", "published_audit_head"])
    snapshot.stage = ResultSnapshot.Stage.FINAL if seal else ResultSnapshot.Stage.PUBLICITY
    snapshot.save(update_fields=["stage"])
    if seal:
        # The result is final: the ballots are sealed (random physical order, one transaction id) on a worker.
        transaction.on_commit(lambda: seal_enqueue(meeting_id=meeting.pk))
    return snapshot


def seal_enqueue(*, meeting_id: int) -> None:
    """Queue the seal of a meeting's ballots; with the broker down it is logged, and `manage.py
    seal_meeting` does it by hand (docs/operations.md)."""
    import logging

    from voting.tasks import seal_meeting

    failure = task_send(seal_meeting, object_id=meeting_id, task_id=f"seal-{meeting_id}-{uuid.uuid4().hex[:8]}")
    if failure is not None:
        logging.getLogger(__name__).warning("Seal of meeting %s not queued: %s", meeting_id, failure)


@transaction.atomic
def snapshot_unpublish(*, meeting: Meeting, actor: AbstractBaseUser, ip: str | None) -> None:
    updated = ResultSnapshot.objects.filter(meeting=meeting, published_at__isnull=False).update(
        published_at=None, published_by=None, published_audit_head=None, stage="", publicity_until=None
    )
    if updated:
        audit_record(meeting=meeting, actor=actor, ip=ip, action="result.unpublished", details={})


def aggregation_runs_orphaned(
    *, active_task_ids: set[str], queued_older_than_seconds: int = 300
) -> list[AggregationRun]:
    """Runs that no worker is working on: running but not active anywhere, or queued for too long."""
    cutoff = timezone.now() - timezone.timedelta(seconds=queued_older_than_seconds)
    running = AggregationRun.objects.filter(state=AggregationRun.State.RUNNING).exclude(task_id__in=active_task_ids)
    queued = AggregationRun.objects.filter(state=AggregationRun.State.QUEUED, requested_at__lt=cutoff)
    return list(running) + list(queued)
