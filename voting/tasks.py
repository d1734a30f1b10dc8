"""Thin Celery tasks of the voting app: ids in."""

from celery import shared_task

from .services import meeting_seal


@shared_task(acks_late=True, reject_on_worker_lost=True)
def seal_meeting(meeting_id: int) -> dict:
    """Seal a published meeting's ballots (voting.services.meeting_seal); harmless to run twice."""
    return meeting_seal(meeting_id=meeting_id)
