"""Issue 19: a ballot reads only the columns of its seat's meeting that it uses; the rest stays deferred,
loaded by the ORM on first touch, and the seat's other pages still get the whole rows."""

import pytest

from meetings.models import Rater
from voting.selectors import BALLOT_COLUMNS, rater_by_token

pytestmark = pytest.mark.django_db


def test_rater_by_token_ballot_shape_defers_the_meetings_other_columns(hall, django_assert_num_queries):
    with django_assert_num_queries(1):
        seat = rater_by_token(hall.recused_token, shape="ballot")
        # what a ballot reads: the quota, the role, the seat's department id
        assert (seat.meeting.excellent_quota_criterion, seat.meeting.excellent_quota_grade) == ("overall", "excellent")
        assert seat.meeting.excellent_quota_max_percent == 34
        assert seat.role.code and seat.role.weight is not None
        assert seat.department_id is not None

    assert "title" in seat.meeting.get_deferred_fields()
    assert not seat.meeting.get_deferred_fields() & set(BALLOT_COLUMNS["meeting"])
    assert not Rater.department.is_cached(seat)
    with django_assert_num_queries(1):  # a deferred field loads as with QuerySet.only()
        assert seat.meeting.title == hall.meeting.title
    with django_assert_num_queries(1):
        assert seat.department.code


def test_rater_by_token_full_shape_loads_every_column_and_the_department(hall, django_assert_num_queries):
    with django_assert_num_queries(1):
        seat = rater_by_token(hall.recused_token)
        assert seat.meeting.title == hall.meeting.title
        assert seat.department.code
    assert not seat.meeting.get_deferred_fields()
    assert not seat.role.get_deferred_fields()


def test_rater_by_token_either_shape_refuses_a_revoked_token(hall):
    token = hall.token("leadership")
    Rater.objects.filter(pk=rater_by_token(token).pk).update(revoked_at=hall.meeting.created_at)

    assert rater_by_token(token) is None
    assert rater_by_token(token, shape="ballot") is None
