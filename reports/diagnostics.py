"""SCORING.md sections 11 and 14: invalid ballots and anonymous rater diagnostics.

Pure: seats come in as opaque keys chosen by the caller (the worker groups ballots by seat with the
pseudonym key and throws the grouping away); what goes out carries only random aliases. Exact, over
Decimal and Fraction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from fractions import Fraction

from .scoring import EXACT, fmt4, q4

DIAGNOSTIC_MIN_BALLOTS = 3


@dataclass(frozen=True)
class SeatBallot:
    """One counting ballot of a seat: its department, role and total B(b)."""

    department: str
    role: str
    total: Decimal


# --- section 11 ------------------------------------------------------------------------------


def uniform_invalid_seats(seats: Mapping[Hashable, Sequence[Decimal]], *, uniform_min: int) -> set[Hashable]:
    """The seats with at least ``uniform_min`` submitted ballots whose totals are all equal: all their
    ballots are invalid (评价完全相同视为无效)."""
    return {seat for seat, totals in seats.items() if len(totals) >= uniform_min and len(set(totals)) == 1}


def invalid_summary(
    seats: Mapping[Hashable, Sequence[SeatBallot]], invalid: set[Hashable], roles: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per role, how many seats and ballots were declared invalid (never which)."""
    out = {role: {"raters": 0, "ballots": 0} for role in roles}
    for seat in invalid:
        ballots = seats[seat]
        if not ballots:
            continue
        role = ballots[0].role
        out.setdefault(role, {"raters": 0, "ballots": 0})
        out[role]["raters"] += 1
        out[role]["ballots"] += len(ballots)
    return out


# --- section 14 ------------------------------------------------------------------------------


def _kept_range(totals: Sequence[Decimal], trim: int) -> tuple[Decimal, Decimal]:
    ordered = sorted(totals)
    n = len(ordered)
    kept = ordered[trim : n - trim] if n > 2 * trim else ordered
    return kept[0], kept[-1]


def rater_profiles(
    seats: Mapping[Hashable, Sequence[SeatBallot]],
    *,
    aliases: Mapping[Hashable, str],
    role_scores: Mapping[tuple[str, str], Decimal],
    totals: Mapping[tuple[str, str], Sequence[Decimal]],
    trims: Mapping[str, int],
    full_mark: Decimal,
) -> list[dict]:
    """Leniency, spread, extreme share and flags of every seat with at least 3 counting ballots,
    under its alias, sorted by alias. ``role_scores`` are S(d, r); ``totals`` the counting totals of
    every (department, role), whose kept range decides what is extreme."""
    kept = {key: _kept_range(values, trims[key[1]]) for key, values in totals.items() if values}
    out = []
    for seat, ballots in seats.items():
        scored = [b for b in ballots if (b.department, b.role) in role_scores]
        if len(scored) < DIAGNOSTIC_MIN_BALLOTS:
            continue
        deviations = [b.total - role_scores[(b.department, b.role)] for b in scored]
        extreme = 0
        for b in scored:
            low, high = kept[(b.department, b.role)]
            if b.total > high or b.total < low:
                extreme += 1
        with localcontext(EXACT):
            n = Decimal(len(scored))
            leniency = q4(sum(deviations, Decimal(0)) / n)
            spread = q4(sum((abs(d) for d in deviations), Decimal(0)) / n)
            extreme_share = q4(Decimal(extreme) / n)
        flags = []
        if leniency > full_mark / 10:
            flags.append("lenient")
        if leniency < -full_mark / 10:
            flags.append("severe")
        if spread > full_mark * Decimal("0.15"):
            flags.append("erratic")
        if len({b.total for b in scored}) == 1:
            flags.append("uniform")
        out.append(
            {
                "alias": aliases[seat],
                "role": scored[0].role,
                "ballots": len(scored),
                "leniency": str(leniency),
                "spread": str(spread),
                "extreme_share": str(extreme_share),
                "flags": flags,
            }
        )
    return sorted(out, key=lambda item: item["alias"])


def _average_ranks(values: Sequence[Decimal]) -> tuple[list[Fraction], int]:
    """Ranks 1..n with ties given their average rank, and the tie correction sum of t^3 - t."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks: list[Fraction] = [Fraction(0)] * len(values)
    correction = 0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        average = Fraction(i + 1 + j + 1, 2)
        for k in range(i, j + 1):
            ranks[order[k]] = average
        t = j - i + 1
        correction += t**3 - t
        i = j + 1
    return ranks, correction


def kendall_w(matrix: Sequence[Sequence[Decimal]]) -> Decimal | None:
    """Kendall's coefficient of concordance W, with the correction for ties, of m raters (rows) over
    the same n objects (columns); None with fewer than 3 raters or 3 objects, or when every rater
    ties every object (W undefined)."""
    m = len(matrix)
    n = len(matrix[0]) if m else 0
    if m < 3 or n < 3:
        return None
    sums = [Fraction(0)] * n
    ties = 0
    for row in matrix:
        ranks, correction = _average_ranks(row)
        ties += correction
        for i, rank in enumerate(ranks):
            sums[i] += rank
    mean = sum(sums, Fraction(0)) / n
    s = sum(((r - mean) ** 2 for r in sums), Fraction(0))
    denominator = Fraction(m * m * (n**3 - n) - m * ties)
    if denominator == 0:
        return None
    w = 12 * s / denominator
    with localcontext(EXACT):
        return q4(Decimal(w.numerator) / Decimal(w.denominator))


def role_agreement(
    seats: Mapping[Hashable, Sequence[SeatBallot]], *, ranked: Sequence[str], roles: Sequence[str]
) -> dict[str, dict]:
    """Per role: Kendall's W over its seats that scored every ranked department, and how many seats
    the role's diagnostics cover."""
    by_role: dict[str, list[list[Decimal]]] = defaultdict(list)
    for ballots in seats.values():
        if not ballots:
            continue
        by_department = {b.department: b.total for b in ballots}
        if all(code in by_department for code in ranked):
            by_role[ballots[0].role].append([by_department[code] for code in ranked])
    out = {}
    for role in roles:
        matrix = by_role.get(role, [])
        with localcontext(EXACT):
            w = kendall_w(matrix) if len(ranked) >= 3 else None
        out[role] = {"agreement": fmt4(w), "raters": len(matrix)}
    return out
