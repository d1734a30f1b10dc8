"""Writes and rules of the voting app."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from appraisal.models import Criterion, RaterRole
from meetings.models import Meeting, Presentation, Rater

from .canonical import ballot_line, line_digest
from .models import Ballot, BallotValue

RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
RECEIPT_LENGTH = 12


def seat_pseudonym(*, meeting_id: int, seat_key: str) -> str:
    """HMAC of a seat with BALLOT_PSEUDONYM_KEY: links a ballot to its seat only for whoever holds the key."""
    message = f"{meeting_id}:{seat_key}".encode()
    return hmac.new(settings.BALLOT_PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()


def rater_pseudonym(rater: Rater) -> str:
    return seat_pseudonym(meeting_id=rater.meeting_id, seat_key=f"seat:{rater.pk}")


def receipt_generate() -> str:
    """A 60-bit receipt code, printed as XXXX-XXXX-XXXX, for the rater to check it was counted."""
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(RECEIPT_LENGTH))


def receipt_display(receipt: str) -> str:
    return "-".join(receipt[i : i + 4] for i in range(0, len(receipt), 4))


def receipt_normalise(text: str) -> str:
    """What a person typed back into a receipt code: case, dashes and look-alike letters forgiven."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    return cleaned.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))


@dataclass(frozen=True)
class FormCriterion:
    """A criterion of a role's form, with what a value must satisfy."""

    id: int
    code: str
    kind: str
    max_value: Decimal | None
    step: Decimal | None
    grades: Mapping[str, tuple[int, Decimal]]  # grade code -> (grade id, points)


def role_form(role: RaterRole) -> list[FormCriterion]:
    criteria = Criterion.objects.filter(role=role).prefetch_related("grades").order_by("order", "code")
    return [
        FormCriterion(
            id=c.pk,
            code=c.code,
            kind=c.kind,
            max_value=c.max_value,
            step=c.step,
            grades={g.code: (g.pk, g.points) for g in c.grades.all()},
        )
        for c in criteria
    ]


@dataclass(frozen=True)
class RecordedBallot:
    """A complete, already validated ballot for bulk recording (simulation, survey import)."""

    presentation_id: int
    role_id: int
    seat_key: str
    values: Sequence[tuple[int, int | None, Decimal]]  # (criterion id, grade id or None, points)
    source: str = Ballot.Source.PHONE


@transaction.atomic
def ballots_bulk_record(*, meeting: Meeting, ballots: Sequence[RecordedBallot], batch_size: int = 5000) -> int:
    """Insert many complete ballots at once: totals computed, pseudonyms keyed, receipts drawn.

    Used where a rule-checked path already produced the values (the ballot
    simulation and imported surveys); the rater's own path is ballot_submit.
    """
    departments = dict(Presentation.objects.filter(meeting=meeting).values_list("pk", "department__code"))
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
                pseudonym=seat_pseudonym(meeting_id=meeting.pk, seat_key=item.seat_key),
                receipt=receipt,
                source=item.source,
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
    return len(created)
