import pytest

from meetings.models import Presentation
from meetings.services import meeting_import


class Hall:
    """A small imported meeting with its seats' tokens, for rater tests."""

    def __init__(self, result):
        self.meeting = result.meeting
        self.tokens = {r.seat_no: r.token for r in result.raters}
        self.raters = result.raters
        self.presentations = list(Presentation.objects.filter(meeting=self.meeting).order_by("order"))

    def token(self, role: str, index: int = 0) -> str:
        return [r.token for r in self.raters if r.role == role and not r.name][index]

    @property
    def recused_token(self) -> str:
        return next(r.token for r in self.raters if r.name == "王芳")

    def open(self, *presentations):
        Presentation.objects.filter(pk__in=[p.pk for p in presentations]).update(state="open")

    def close(self, *presentations):
        Presentation.objects.filter(pk__in=[p.pk for p in presentations]).update(state="closed")


@pytest.fixture
def hall(db, small_document):
    document = small_document(departments=3, seats=3)
    document["meeting"]["excellent_quota"] = {"criterion": "overall", "grade": "excellent", "max_percent": 34}
    return Hall(meeting_import(document=document, actor=None))
