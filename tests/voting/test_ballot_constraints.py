"""Invariants held by the database itself, not by Python checks."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from tests.factories import PresentationFactory, RaterRoleFactory
from voting.models import Ballot

pytestmark = pytest.mark.django_db


def make_ballot(presentation, role, *, pseudonym="a" * 64, receipt="R1", total=Decimal("80")):
    return Ballot.objects.create(
        presentation=presentation, role=role, pseudonym=pseudonym, receipt=receipt, total=total
    )


def test_ballot_second_for_same_seat_and_presentation_refused_by_database():
    presentation = PresentationFactory()
    role = RaterRoleFactory(scheme=presentation.meeting.scheme)
    make_ballot(presentation, role)

    # bulk_create skips model validation: only the database can refuse it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.bulk_create(
            [Ballot(presentation=presentation, role=role, pseudonym="a" * 64, receipt="R2", total=Decimal("70"))]
        )
    assert Ballot.objects.count() == 1


def test_ballot_same_seat_other_presentation_allowed():
    presentation = PresentationFactory()
    other = PresentationFactory(meeting=presentation.meeting)
    role = RaterRoleFactory(scheme=presentation.meeting.scheme)

    make_ballot(presentation, role)
    make_ballot(other, role, receipt="R2")

    assert Ballot.objects.count() == 2


def test_ballot_receipt_unique_in_database():
    presentation = PresentationFactory()
    role = RaterRoleFactory(scheme=presentation.meeting.scheme)
    make_ballot(presentation, role)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_ballot(presentation, role, pseudonym="b" * 64, receipt="R1")


def test_ballot_void_without_reason_refused_by_database():
    presentation = PresentationFactory()
    role = RaterRoleFactory(scheme=presentation.meeting.scheme)
    ballot = make_ballot(presentation, role)

    with pytest.raises(IntegrityError), transaction.atomic():
        Ballot.objects.filter(pk=ballot.pk).update(state="void")


def test_ballot_negative_total_refused_by_database():
    presentation = PresentationFactory()
    role = RaterRoleFactory(scheme=presentation.meeting.scheme)

    with pytest.raises(IntegrityError), transaction.atomic():
        make_ballot(presentation, role, total=Decimal("-1"))


def test_role_weight_must_be_positive_in_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        RaterRoleFactory(weight=Decimal("0"))


def test_criterion_numeric_needs_bounds_in_database():
    from tests.factories import CriterionFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        CriterionFactory(max_value=None)


def test_presentation_department_once_per_meeting_in_database():
    presentation = PresentationFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        PresentationFactory(meeting=presentation.meeting, department=presentation.department)


def test_meeting_reward_count_and_percent_exclusive_in_database():
    from tests.factories import MeetingFactory

    with pytest.raises(IntegrityError), transaction.atomic():
        MeetingFactory(reward_top=3, reward_top_percent=Decimal("20"))
