import pytest

from meetings.services import meeting_import
from voting.simulation import ballots_simulate


@pytest.fixture
def voted_meeting(db, small_document):
    """A small meeting with simulated ballots, voting closed."""
    result = meeting_import(document=small_document(departments=5, seats=6), actor=None)
    ballots_simulate(meeting=result.meeting, seed=7)
    return result.meeting
