"""Survey sheets of a role: imported as ballots, withdrawn as a whole."""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal

from django.db import transaction

from appraisal.models import RaterRole
from meetings.models import Meeting, MeetingChange, Presentation
from meetings.services import ballots_changed

from ..models import Ballot, SurveyBatch
from ..selectors import (
    role_form,
)
from .ballots import RecordedBallot, ballots_bulk_record, scores_validate

logger = logging.getLogger(__name__)


def survey_import(*, meeting: Meeting, role_code: str, fileobj, filename: str, actor, ip: str | None) -> int:
    """A role's ballots collected outside the hall (电话满意度调查), one row per ballot: the department
    (code or name) and a column per criterion (code or name). Every row is checked like a phone
    ballot; any problem refuses the whole sheet. Each ballot gets a receipt code. Audited.

    The sheet is read by a worker before the transaction begins (the worker must see its job row);
    what it read is then checked and stored in one transaction."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import NotFound
    from meetings.panel_sheets import read_rows

    # A code with NUL is no code of ours, and PostgreSQL would refuse to look it up.
    role = (
        None if "\x00" in role_code else RaterRole.objects.filter(scheme_id=meeting.scheme_id, code=role_code).first()
    )
    if role is None:
        raise NotFound(_('Unknown role "%(code)s".') % {"code": role_code.replace("\x00", "")})
    content_sha256 = _file_sha256(fileobj)
    _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)  # before a worker reads it
    sheet = read_rows(fileobj, filename, meeting=meeting, actor=actor)
    return _survey_store(
        meeting=meeting, role=role, sheet=sheet, content_sha256=content_sha256, filename=filename, actor=actor, ip=ip
    )


@transaction.atomic
def _survey_store(
    *, meeting: Meeting, role: RaterRole, sheet, content_sha256: str, filename: str, actor, ip: str | None
) -> int:
    from django.db import IntegrityError
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput
    from meetings.panel_sheets import SURVEY_FIXED_COLUMNS, SheetInvalid, map_columns, problem
    from meetings.services import audit_record

    form = role_form(role)
    _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)
    header, rows = sheet
    columns = map_columns(header, SURVEY_FIXED_COLUMNS, {"department"})
    by_header = {}
    for criterion in form:
        for name in header:
            if name.strip() in (criterion.code, criterion.name):
                by_header[criterion.code] = name
    missing = [c.name for c in form if c.code not in by_header]
    if missing:
        raise SheetInvalid([problem(1, None, _("Missing column: %(columns)s.") % {"columns": ", ".join(missing)})])
    presentations = {}
    for p in Presentation.objects.filter(meeting=meeting).select_related("department"):
        presentations[p.department.code] = presentations[p.department.name] = p
    labels = {c.code: {label: code for code, label in c.grade_labels.items()} for c in form}
    problems, ballots = [], []
    for number, values in rows:
        presentation = presentations.get(str(values.get(columns["department"]) or "").strip())
        if presentation is None:
            problems.append(
                problem(
                    number,
                    columns["department"],
                    _('Unknown department "%(value)s".') % {"value": values.get(columns["department"]) or ""},
                )
            )
            continue
        scores = {}
        for criterion in form:
            raw = values.get(by_header[criterion.code])
            if criterion.kind == "grade" and isinstance(raw, str):
                raw = labels[criterion.code].get(raw.strip(), raw.strip())  # 良好 or good
            scores[criterion.code] = raw if not isinstance(raw, (int, Decimal)) else str(raw)
        checked, errors = scores_validate(form, scores)
        for error in errors:
            code = error["path"].removeprefix("scores.")
            problems.append(problem(number, by_header.get(code), error["message"]))
        if not errors:
            ballots.append((number, presentation.pk, checked))
    if problems:
        raise SheetInvalid(problems)
    if not ballots:
        raise InvalidInput(_("The sheet has no rows."))
    try:
        with transaction.atomic():
            batch = SurveyBatch.objects.create(
                meeting=meeting,
                role=role,
                filename=filename[:255],
                content_sha256=content_sha256,
                ballots=len(ballots),
                created_by=actor,
            )
    except IntegrityError as exc:  # the same sheet sent twice at once: the second loses
        _survey_refuse_duplicate(meeting=meeting, content_sha256=content_sha256)
        raise Conflict(_("This survey sheet is being imported already."), code="duplicate_survey") from exc
    count = ballots_bulk_record(
        meeting=meeting,
        ballots=[
            RecordedBallot(
                presentation_id=presentation_id,
                role_id=role.pk,
                seat_key=f"survey:{batch.pk}:{number}",  # each answer its own seat
                values=checked,
                source=Ballot.Source.SURVEY,
            )
            for number, presentation_id, checked in ballots
        ],
        change_kind=MeetingChange.Kind.SURVEY,
        survey_batch_id=batch.pk,
    )
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="survey.imported",
        details={"role": role.code, "ballots": count, "file": filename, "batch": batch.pk, "sha256": content_sha256},
    )
    return count


def _file_sha256(fileobj) -> str:
    """The SHA-256 of an uploaded file's bytes, read in chunks; the file is left at its start."""
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 16), b""):
        digest.update(chunk.encode() if isinstance(chunk, str) else chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def _survey_refuse_duplicate(*, meeting: Meeting, content_sha256: str) -> None:
    """The same sheet (by content, whatever its name) counts once: refused while a batch of it counts."""
    from django.utils.formats import date_format
    from django.utils.timezone import localtime
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    earlier = SurveyBatch.objects.filter(
        meeting=meeting, content_sha256=content_sha256, withdrawn_at__isnull=True
    ).first()
    if earlier is not None:
        raise Conflict(
            _(
                "This sheet was imported already: %(file)s, %(when)s, %(n)d ballots. "
                "Withdraw that batch first to import it again."
            )
            % {
                "file": earlier.filename,
                "when": date_format(localtime(earlier.created_at), "DATETIME_FORMAT"),
                "n": earlier.ballots,
            },
            code="duplicate_survey",
        )


@transaction.atomic
def survey_withdraw(*, meeting: Meeting, batch_id: int, reason: str, actor, ip: str | None) -> SurveyBatch:
    """Withdraw an imported survey sheet: its ballots are voided with the reason (they count nowhere,
    their receipts say so) and the batch is marked. Audited; the meeting's result becomes stale."""
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict, InvalidInput, NotFound
    from meetings.services import audit_record

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _("Give a reason for withdrawing the sheet."),
            errors=[{"path": "reason", "message": _("This field is required.")}],
        )
    if len(reason) > 1000:
        raise InvalidInput(
            _("The reason is too long."),
            errors=[{"path": "reason", "message": _("At most 1000 characters.")}],
        )
    batch = SurveyBatch.objects.select_for_update().filter(meeting=meeting, pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such survey batch in this meeting."))
    if batch.withdrawn_at is not None:
        raise Conflict(_("This survey batch was withdrawn already."), code="withdrawn")
    now = timezone.now()
    voided = Ballot.objects.filter(survey_batch=batch, state=Ballot.State.SUBMITTED).update(
        state=Ballot.State.VOID, void_reason=reason, voided_at=now
    )
    batch.withdrawn_at, batch.withdrawn_by, batch.withdraw_reason = now, actor, reason
    batch.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
    ballots_changed(meeting_id=meeting.pk, kind=MeetingChange.Kind.SURVEY)
    audit_record(
        meeting=meeting,
        actor=actor,
        ip=ip,
        action="survey.withdrawn",
        details={"batch": batch.pk, "file": batch.filename, "ballots": voided, "reason": reason},
    )
    return batch
