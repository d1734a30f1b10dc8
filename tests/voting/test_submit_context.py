"""The submission's context is read with raw SQL, without the ORM's converters: its timestamps must come out as
the ORM would give them on every database (SQLite, the demo's, returns the stored UTC time naive or as text)."""

from datetime import UTC, datetime

import pytest

from voting.services.statements import context_of

OPENED = datetime(2026, 12, 6, 2, 35, 23, 712015, tzinfo=UTC)


def row(opened_at, created_at):
    return (1, "open", opened_at, 2, "D01", None, None, None, 3, "submitted", "ABC", created_at, "phone")


@pytest.mark.parametrize(
    "stored",
    [OPENED, OPENED.replace(tzinfo=None), "2026-12-06 02:35:23.712015"],
    ids=["aware (PostgreSQL)", "naive UTC (SQLite)", "text (SQLite)"],
)
def test_context_timestamps_are_aware_utc_whatever_the_database_returns(stored):
    context = context_of(row(stored, stored), pseudonym="p")

    assert context.opened_at == OPENED and context.opened_at.utcoffset().total_seconds() == 0
    assert context.ballot.created_at == OPENED


def test_context_without_an_opening_or_a_ballot_stays_empty():
    context = context_of(row(None, None)[:8] + (None,) * 5, pseudonym="p")

    assert context.opened_at is None and context.ballot is None
