"""Ballots as stored: receipts, times, validation against the form, the bulk and one-by-one writes, the quota."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from appraisal.models import Criterion, RaterRole
from appraisal.numbers import FOUR_PLACES, decimal_from_input, plain
from meetings.models import Meeting, MeetingChange, Presentation, Rater
from meetings.services import ballots_changed

from ..canonical import ballot_line, line_digest
from ..models import Ballot, BallotValue
from ..selectors import (
    FormCriterion,
    quota_limit,
    quota_used,
    rater_pseudonyms,
    receipt_display,
    seat_pseudonym,
)

logger = logging.getLogger(__name__)

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 12


def ballot_time(opened_at):
    """The time a ballot records: its presentation's opening, never the moment it came in, so that no
    column tells the order of the ballots of one window. Without an opening (paper typed in for a
    presentation that never opened) the hour."""
    from ..models import coarse_now

    return opened_at if opened_at is not None else coarse_now()


def receipt_generate(bits: int | None = None) -> str:
    """A 60-bit receipt code, printed as XXXX-XXXX-XXXX, for the rater to check it was counted. ``bits``: 60
    (or more; the low 60 are read) already drawn from ``secrets`` by a caller drawing several at once."""
    # One draw of 60 random bits, read five at a time: the same uniform code as a choice per character, with
    # one read of the system's randomness instead of twelve (this runs for every ballot of a burst).
    if bits is None:
        bits = secrets.randbits(5 * RECEIPT_LENGTH)
    return "".join(RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(RECEIPT_LENGTH))


@dataclass(frozen=True)
class RecordedBallot:
    """A complete, already validated ballot for bulk recording (simulation, survey import)."""

    presentation_id: int
    role_id: int
    seat_key: str
    values: Sequence[tuple[int, int | None, Decimal]]  # (criterion id, grade id or None, points)
    source: str = Ballot.Source.PHONE


@transaction.atomic
def ballots_bulk_record(
    *,
    meeting: Meeting,
    ballots: Sequence[RecordedBallot],
    batch_size: int = 5000,
    change_kind: str = MeetingChange.Kind.BALLOTS,
    survey_batch_id: int | None = None,
) -> int:
    """Insert many complete ballots at once: totals computed, pseudonyms keyed, receipts drawn.

    Used where a rule-checked path already produced the values (the ballot
    simulation and imported surveys); the rater's own path is ballot_submit.
    """
    departments, opened = {}, {}
    for pk, code, opened_at in Presentation.objects.filter(meeting=meeting).values_list(
        "pk", "department__code", "opened_at"
    ):
        departments[pk], opened[pk] = code, ballot_time(opened_at)
    roles = dict(RaterRole.objects.filter(scheme_id=meeting.scheme_id).values_list("pk", "code"))
    criteria = dict(Criterion.objects.filter(role__scheme_id=meeting.scheme_id).values_list("pk", "code"))
    receipts: set[str] = set()
    rows: list[Ballot] = []
    for item in ballots:
        receipt = receipt_generate()
        while receipt in receipts:
            receipt = receipt_generate()
        receipts.add(receipt)
        rows.append(
            Ballot(
                presentation_id=item.presentation_id,
                role_id=item.role_id,
                pseudonym=seat_pseudonym(
                    meeting_id=meeting.pk, seat_key=item.seat_key, presentation_id=item.presentation_id
                ),
                created_at=opened[item.presentation_id],
                updated_at=opened[item.presentation_id],
                receipt=receipt,
                source=item.source,
                survey_batch_id=survey_batch_id,
                total=sum((points for _c, _g, points in item.values), Decimal(0)),
                line_sha256=line_digest(
                    ballot_line(
                        receipt=receipt,
                        presentation=item.presentation_id,
                        department=departments[item.presentation_id],
                        role=roles[item.role_id],
                        points={criteria[c]: points for c, _g, points in item.values},
                    )
                ),
            )
        )
    created = Ballot.objects.bulk_create(rows, batch_size=batch_size)
    BallotValue.objects.bulk_create(
        (
            BallotValue(ballot_id=ballot.pk, criterion_id=criterion_id, grade_id=grade_id, points=points)
            for ballot, item in zip(created, ballots, strict=True)
            for criterion_id, grade_id, points in item.values
        ),
        batch_size=batch_size,
    )
    ballots_changed(meeting_id=meeting.pk, kind=change_kind)
    return len(created)


@dataclass(frozen=True)
class SubmitResult:
    status: int  # 201 created, 200 replaced (or the stored answer of a repeat)
    payload: dict
    repeated: bool = False
    # The payload as DRF's JSON renderer writes it, where the service already rendered it (a new phone
    # ballot's idempotency record stores the same text): the view answers with it instead of rendering again.
    body: bytes | None = None


def ballot_payload(ballot: Ballot, scores: dict[str, str], department_code: str) -> dict:
    return payload_of(
        presentation_id=ballot.presentation_id,
        department_code=department_code,
        receipt=ballot.receipt,
        state=ballot.state,
        scores=scores,
        total=ballot.total,
        updated_at=ballot.updated_at,
    )


def payload_of(
    *, presentation_id: int, department_code: str, receipt: str, state: str, scores, total, updated_at
) -> dict:
    """What the rater is answered about a ballot (and what its idempotency record replays)."""
    return {
        "presentation": presentation_id,
        "department": department_code,
        "receipt": receipt_display(receipt),
        "state": state,
        "scores": scores,
        "total": str(Decimal(total).quantize(FOUR_PLACES)),
        "updated_at": updated_at.isoformat(),
    }


def scores_validate(form: Sequence[FormCriterion], scores) -> tuple[list[tuple[int, int | None, Decimal]], list[dict]]:
    """Check a ballot's scores against the rater's form: every criterion, in bounds, on the grid, nothing foreign."""
    from django.utils.translation import gettext as _

    if not isinstance(scores, dict):
        return [], [{"path": "scores", "message": _("Scores must be an object of criterion codes and values.")}]
    errors: list[dict] = []
    values: list[tuple[int, int | None, Decimal]] = []
    known = {c.code for c in form}
    for code in scores:
        if code not in known:
            errors.append({"path": f"scores.{code}", "message": _("Not a criterion of your form.")})
    for criterion in form:
        path = f"scores.{criterion.code}"
        if criterion.code not in scores or scores[criterion.code] in (None, ""):
            errors.append({"path": path, "message": _("This criterion needs a value.")})
            continue
        raw = scores[criterion.code]
        if criterion.kind == "grade":
            if not isinstance(raw, str) or raw not in criterion.grades:
                errors.append(
                    {
                        "path": path,
                        # The label people read, with the code an API client sends.
                        "message": _("Choose one of: %(choices)s.")
                        % {
                            "choices": _("、").join(
                                f"{criterion.grade_labels.get(code, code)}（{code}）" for code in criterion.grades
                            )
                        },
                    }
                )
                continue
            grade_id, points = criterion.grades[raw]
            values.append((criterion.id, grade_id, points))
            continue
        number = decimal_from_input(raw)
        if number is None:
            errors.append({"path": path, "message": _("Must be a number.")})
            continue
        if number < 0 or number > criterion.max_value:
            errors.append(
                {
                    "path": path,
                    "message": _("Must be between 0 and %(max)s.") % {"max": plain(criterion.max_value)},
                }
            )
            continue
        if number % criterion.step != 0:
            errors.append(
                {"path": path, "message": _("Must be a multiple of %(step)s.") % {"step": plain(criterion.step)}}
            )
            continue
        values.append((criterion.id, None, number))
    return values, errors


def request_fingerprint(presentation_id: int, scores) -> str:
    """What makes two submissions "the same body" for an Idempotency-Key."""
    from ..canonical import canonical_json

    # Anything but an object is refused later, but its fingerprint is taken first (a replay answers
    # before validation): str() keeps a Decimal from the exact JSON parser serialisable.
    normalised = {str(k): str(v) for k, v in scores.items()} if isinstance(scores, dict) else str(scores)
    return hashlib.sha256(canonical_json({"presentation": presentation_id, "scores": normalised}).encode()).hexdigest()


def scores_as_sent(form: Sequence[FormCriterion], values) -> dict[str, str]:
    codes = {c.id: c.code for c in form}
    grade_codes = {g_id: code for c in form for code, (g_id, _p) in c.grades.items()}
    return {codes[c]: grade_codes[g] if g else str(p.quantize(FOUR_PLACES)) for c, g, p in values}


def ballot_store(
    *,
    presentation_id: int,
    department_code: str,
    role: RaterRole,
    pseudonym: str,
    form,
    values,
    source: str,
    existing: Ballot | None = None,
    existing_known: bool = False,
    opened_at=None,
) -> tuple[Ballot, bool]:
    """Create or replace the seat's ballot for a presentation: total and canonical line digest computed once.

    The callers have checked every rule; a voided ballot is never overwritten. A caller that has
    already read the seat's ballot passes it (``existing_known``) to save the query.
    """
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    codes = {c.id: c.code for c in form}
    ballot = (
        existing
        if existing_known
        else Ballot.objects.filter(presentation_id=presentation_id, pseudonym=pseudonym).first()
    )
    if ballot is not None and ballot.state == Ballot.State.VOID:
        raise Conflict(_("Your ballot for this presentation was voided by the organizers."), code="ballot_void")
    created = ballot is None
    when = ballot_time(opened_at)
    if created:
        ballot = Ballot(
            presentation_id=presentation_id,
            role=role,
            pseudonym=pseudonym,
            receipt=receipt_generate(),
            created_at=when,
        )
    ballot.source, ballot.updated_at = source, when
    ballot.total = sum((points for _c, _g, points in values), Decimal(0))
    ballot.line_sha256 = line_digest(
        ballot_line(
            receipt=ballot.receipt,
            presentation=presentation_id,
            department=department_code,
            role=role.code,
            points={codes[c]: points for c, _g, points in values},
        )
    )
    if created:
        ballot.save(force_insert=True)
    else:
        ballot.save(update_fields=["source", "total", "line_sha256", "updated_at"])
        BallotValue.objects.filter(ballot_id=ballot.pk).delete()
    BallotValue.objects.bulk_create(
        [BallotValue(ballot_id=ballot.pk, criterion_id=c, grade_id=g, points=p) for c, g, p in values]
    )
    return ballot, created


def quota_applies(*, meeting: Meeting, form, values) -> bool:
    """Whether the meeting has a quota and this ballot gives its grade: only such a ballot is counted
    against the quota, and the others need no query."""
    if meeting.excellent_quota_max_percent is None or not meeting.excellent_quota_criterion:
        return False
    quota_grade = next(
        (
            c.grades[meeting.excellent_quota_grade][0]
            for c in form
            if c.code == meeting.excellent_quota_criterion and meeting.excellent_quota_grade in c.grades
        ),
        None,
    )
    return quota_grade is not None and any(grade_id == quota_grade for _c, grade_id, _p in values)


def quota_check(*, meeting: Meeting, form, values, rater: Rater, presentation_id: int) -> None:
    """Refuse (409) a ballot that would give the quota grade more often than the meeting allows."""
    from django.utils.translation import gettext as _

    from appraisal.exceptions import Conflict

    if not quota_applies(meeting=meeting, form=form, values=values):
        return
    presentation_ids = list(Presentation.objects.filter(meeting_id=meeting.pk).values_list("pk", flat=True))
    limit = quota_limit(meeting, len(presentation_ids))
    if limit is None:
        return
    # The seat's other ballots, found by deriving its pseudonyms with the key: no table groups them.
    others = [pid for pid in presentation_ids if pid != presentation_id]
    used = quota_used(pseudonyms=list(rater_pseudonyms(rater, others)), meeting=meeting)
    if used + 1 > limit:
        raise Conflict(
            _("You have already given this grade %(used)d times; at most %(limit)d are allowed.")
            % {"used": used, "limit": limit},
            code="quota_exceeded",
        )
