"""Paper ballots typed in twice by two staff members."""

from __future__ import annotations

import logging

from django.db import transaction

from meetings.models import Meeting, MeetingChange, Presentation, Rater
from meetings.services import ballots_changed

from ..models import Ballot
from ..selectors import (
    rater_pseudonym,
    role_form,
)
from .ballots import ballot_store, quota_check, scores_as_sent, scores_validate

logger = logging.getLogger(__name__)


def _entry_scores(form, values) -> dict[str, str]:
    """Scores in a form two entries can be compared in: 55.5 and 55.50 are the same entry."""
    return scores_as_sent(form, values)


def _paper_refuse_over_cast_ballot(*, presentation_id: int, pseudonym: str) -> None:
    """A paper ballot never replaces a ballot the seat cast itself (on the phone): that ballot has a receipt
    its rater can check, so replacing it is a void with a reason, by an organizer, never a side effect."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    existing = (
        Ballot.objects.select_for_update()
        .filter(presentation_id=presentation_id, pseudonym=pseudonym)
        .exclude(source=Ballot.Source.PAPER)
        .values_list("state", flat=True)
        .first()
    )
    if existing == Ballot.State.SUBMITTED:
        raise Conflict(
            _(
                "This seat already voted on the phone for this presentation, and that ballot counts: its rater "
                "holds its receipt. A paper ballot does not replace it."
            ),
            code="ballot_exists",
        )
    if existing == Ballot.State.VOID:
        raise Conflict(
            _("This seat's ballot for this presentation was voided; a voided ballot is not replaced."),
            code="ballot_void",
        )


@transaction.atomic
def paper_entry_submit(*, meeting: Meeting, seat_no: int, presentation_id: int, scores, actor, ip: str | None):
    """Type in a paper ballot. The first entry waits; a second person's identical entry makes it count;
    a different one marks the pair for an organizer to resolve. Nothing counts before that. Audited."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound, PermissionRefused
    from meetings.services import audit_record

    from ..models import PaperEntry

    rater = Rater.objects.select_related("role").filter(meeting=meeting, seat_no=seat_no).first()
    presentation = Presentation.objects.select_related("department").filter(meeting=meeting, pk=presentation_id).first()
    if rater is None or presentation is None:
        raise NotFound(_("No such seat or presentation in this meeting."))
    if rater.department_id is not None and rater.department_id == presentation.department_id:
        raise PermissionRefused(_("You may not score your own department (recusal)."), code="recused")
    if presentation.state == Presentation.State.PENDING:
        raise Conflict(_("Voting for this presentation has not opened yet."), code="voting_not_open")
    form = role_form(rater.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)
    pseudonym = rater_pseudonym(rater, presentation.pk)
    entered = _entry_scores(form, values)
    _paper_refuse_over_cast_ballot(presentation_id=presentation.pk, pseudonym=pseudonym)
    entry = PaperEntry.objects.select_for_update().filter(presentation=presentation, seat_no=rater.seat_no).first()
    if entry is None:
        entry = PaperEntry.objects.create(
            presentation=presentation,
            role=rater.role,
            seat_no=rater.seat_no,
            first_scores=entered,
            first_by=actor,
        )
        action = "paper.first_entry"
    elif entry.state != PaperEntry.State.AWAITING_SECOND:
        raise Conflict(_("This paper ballot has already been entered twice."), code="paper_done")
    elif entry.first_by_id == actor.pk:
        raise Conflict(_("The second entry must be typed by another person."), code="paper_same_person")
    else:
        entry.second_scores, entry.second_by = entered, actor
        if entered == entry.first_scores:
            quota_check(meeting=meeting, form=form, values=values, rater=rater, presentation_id=presentation.pk)
            entry.ballot, _created = ballot_store(
                presentation_id=presentation.pk,
                department_code=presentation.department.code,
                role=rater.role,
                pseudonym=pseudonym,
                form=form,
                values=values,
                source=Ballot.Source.PAPER,
                opened_at=presentation.opened_at,
            )
            # Counted: the seat number goes, so that no row holds a seat beside its ballot.
            entry.state, entry.seat_no = PaperEntry.State.MATCHED, None
            ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.PAPER)
        else:
            entry.state = PaperEntry.State.MISMATCH
        entry.save()
        action = f"paper.{entry.state}"
    # The seat is on record only while the entry waits: a counted paper ballot's audit entry names
    # the entry and the presentation, never the seat beside it.
    details = {"entry": entry.pk, "presentation": presentation.pk}
    if entry.seat_no is not None:
        details["seat"] = entry.seat_no
    audit_record(meeting=meeting, actor=actor, ip=ip, action=action, details=details)
    return entry


@transaction.atomic
def paper_entry_resolve(*, meeting: Meeting, entry_id: int, scores, actor, ip: str | None):
    """An organizer decides a mismatched paper ballot after looking at the paper. Audited."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound
    from meetings.services import audit_record

    from ..models import PaperEntry

    entry = (
        PaperEntry.objects.select_for_update()
        .select_related("presentation__department", "role")
        .filter(pk=entry_id, presentation__meeting=meeting)
        .first()
    )
    if entry is None:
        raise NotFound(_("No such paper ballot entry."))
    if entry.state != PaperEntry.State.MISMATCH:
        raise Conflict(_("Only entries that differ are resolved."), code="paper_not_mismatch")
    form = role_form(entry.role)
    values, errors = scores_validate(form, scores)
    if errors:
        raise InvalidInput(_("Some scores are not valid."), errors=errors)
    rater = Rater.objects.filter(meeting=meeting, seat_no=entry.seat_no).first()
    if rater is None:
        raise NotFound(_("No such seat or presentation in this meeting."))
    pseudonym = rater_pseudonym(rater, entry.presentation_id)
    _paper_refuse_over_cast_ballot(presentation_id=entry.presentation_id, pseudonym=pseudonym)
    quota_check(meeting=meeting, form=form, values=values, rater=rater, presentation_id=entry.presentation_id)
    entry.ballot, _created = ballot_store(
        presentation_id=entry.presentation_id,
        department_code=entry.presentation.department.code,
        role=entry.role,
        pseudonym=pseudonym,
        form=form,
        values=values,
        source=Ballot.Source.PAPER,
        opened_at=entry.presentation.opened_at,
    )
    entry.state, entry.resolved_by, entry.seat_no = PaperEntry.State.RESOLVED, actor, None
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.PAPER)
    entry.save()
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="paper.resolved",
        details={"entry": entry.pk, "presentation": entry.presentation_id},
    )
    return entry
