"""The normalised setup document: its dataclasses, its limits and the error that lists every problem."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

MAX_SEATS_PER_ENTRY = 5000
MAX_SEATS_TOTAL = 20000
# Two decimals more than the model keeps would be silently rounded; refuse instead.
SCORE_PLACES = 4
WEIGHT_PLACES = 6
SCORE_LIMIT = Decimal("99999999")


class SetupInvalid(Exception):
    """The document breaks one or more rules; ``errors`` lists each with its path."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} problem(s) in the setup document")
        self.errors = errors


@dataclass(frozen=True)
class GradeSpec:
    code: str
    label: str
    points: Decimal


@dataclass(frozen=True)
class CriterionSpec:
    code: str
    name: str
    kind: str
    max_value: Decimal | None = None
    step: Decimal | None = None
    grades: tuple[GradeSpec, ...] = ()

    @property
    def max_points(self) -> Decimal:
        if self.kind == "numeric":
            return self.max_value
        return max(g.points for g in self.grades)


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    weight: Decimal
    trim: int
    criteria: tuple[CriterionSpec, ...]


@dataclass(frozen=True)
class RaterSpec:
    role: str
    count: int = 1
    name: str = ""
    department: str | None = None


@dataclass
class SetupDocument:
    cycle_year: int
    cycle_name: str
    meeting: dict
    categories: list[tuple[str, str]]
    departments: list[tuple[str, str, str]]
    roles: list[RoleSpec]
    raters: list[RaterSpec]
    components: list[tuple[str, str, Decimal]] = field(default_factory=list)
    previous: tuple[int, str] | None = None  # (cycle year, title) of the previous meeting, found on import

    @property
    def seat_count(self) -> int:
        return sum(r.count for r in self.raters)
