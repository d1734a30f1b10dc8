"""The organizer's live control: opening and closing voting, voiding a ballot."""

from __future__ import annotations

import logging

from django.db import transaction

from meetings.models import Meeting, MeetingChange, Presentation
from meetings.services import ballots_changed

from ..models import Ballot

logger = logging.getLogger(__name__)


def meeting_live_forget(meeting_id: int) -> None:
    """Drop the cached live state so phones see a change on their next poll."""
    from django.core.cache import cache

    from ..selectors import live_state_key

    try:
        cache.delete(live_state_key(meeting_id))
    except Exception:
        logger.warning("cache unavailable; live state expires by itself")


@transaction.atomic
def voting_set(
    *, meeting: Meeting, presentation_id: int | None, action: str, actor, ip: str | None
) -> list[Presentation]:
    """Open or close voting for one presentation, or for all (presentation_id None). Audited.

    "next" closes whatever is open and opens the first presentation still pending.
    """
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import InvalidInput, NotFound
    from meetings.services import audit_record

    now = timezone.now()
    presentations = Presentation.objects.select_for_update().filter(meeting=meeting)
    if action == "next":
        closing = list(presentations.filter(state=Presentation.State.OPEN))
        following = presentations.filter(state=Presentation.State.PENDING).order_by("order").first()
        changed = []
        for p in closing:
            p.state, p.closed_at = Presentation.State.CLOSED, now
            changed.append(p)
        if following is not None:
            following.state, following.opened_at = Presentation.State.OPEN, now
            changed.append(following)
    else:
        if action not in ("open", "close"):
            raise InvalidInput(
                _("Unknown action."), errors=[{"path": "action", "message": _('Use "open", "close" or "next".')}]
            )
        if presentation_id is not None:
            presentations = presentations.filter(pk=presentation_id)
            if not presentations.exists():
                raise NotFound(_("There is no such presentation in this meeting."))
        changed = []
        for p in presentations:
            if action == "open" and p.state != Presentation.State.OPEN:
                p.state, p.opened_at, p.closed_at = Presentation.State.OPEN, now, None
                changed.append(p)
            elif action == "close" and p.state == Presentation.State.OPEN:
                p.state, p.closed_at = Presentation.State.CLOSED, now
                changed.append(p)
    Presentation.objects.bulk_update(changed, ["state", "opened_at", "closed_at"])
    if changed:
        audit_record(
            meeting=meeting,
            actor=actor,
            ip=ip,
            action=f"voting.{action}",
            details={"presentations": [p.pk for p in changed], "states": {str(p.pk): p.state for p in changed}},
        )
    transaction.on_commit(lambda: meeting_live_forget(meeting.pk))
    return changed


@transaction.atomic
def ballot_void(*, meeting: Meeting, receipt: str, reason: str, actor, ip: str | None) -> Ballot:
    """Void a ballot of the meeting by its receipt code, with a reason. Audited; it stops counting."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, NotFound
    from appraisal.text import reason_clean
    from meetings.services import audit_record

    from ..selectors import receipt_normalise

    reason = reason_clean(reason or "", detail=_("Give the reason for voiding."))
    code = receipt_normalise(receipt)
    ballot = (
        Ballot.objects.select_for_update()
        .select_related("presentation__department", "role")
        .filter(presentation__meeting=meeting, receipt=code)
        .first()
    )
    if ballot is None:
        raise NotFound(_("No ballot of this meeting has the receipt code %(code)s.") % {"code": receipt})
    if ballot.state == Ballot.State.VOID:
        raise Conflict(_("This ballot is already void."), code="already_void")
    ballot.state = Ballot.State.VOID
    ballot.void_reason = reason
    ballot.voided_at = timezone.now()
    ballot.save(update_fields=["state", "void_reason", "voided_at", "updated_at"])
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.VOIDS)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="ballot.voided",
        details={
            "receipt": ballot.receipt,
            "department": ballot.presentation.department.code,
            "role": ballot.role.code,
            "reason": ballot.void_reason,
        },
    )
    return ballot
