"""A snapshot's rows with SCORING.md 11, 13 and 14 around them, from the submitted ballots.

Pure: the configuration and (receipt, department, role, total, seat) of every submitted ballot in,
the tallies, rows and the snapshot's "analysis" out. The seats are opaque keys the worker derived
with the pseudonym key; only random aliases leave this module.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .diagnostics import SeatBallot, invalid_summary, rater_profiles, role_agreement, uniform_invalid_seats
from .scoring import ResultRow, results_from_config, roles_from_config, tallies_from_totals
from .stability import BOOTSTRAP_RESAMPLES, bootstrap_seed, stability

Fact = tuple[str, str, str, Decimal, Hashable]  # receipt, department, role, total, seat


@dataclass
class Analysed:
    rows: list[ResultRow]
    analysis: dict
    counted: int  # ballots that count: submitted and not invalid


def random_aliases(seats: Sequence[Hashable], prefix: str) -> dict[Hashable, str]:
    """Aliases numbered in a random order, drawn anew for every computation: nothing links an alias
    to a seat, a pseudonym, a receipt, or the alias of another snapshot."""
    order = list(seats)
    secrets.SystemRandom().shuffle(order)
    width = max(3, len(str(len(order))))
    return {seat: f"{prefix}{i:0{width}d}" for i, seat in enumerate(order, start=1)}


def is_rater_seat(seat: Hashable) -> bool:
    return not (isinstance(seat, tuple) and seat and seat[0] == "answer")


def analyse(
    config: Mapping,
    facts: Sequence[Fact],
    *,
    ballots_sha256: str,
    progress: Callable[[int], None] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    full: bool = True,
) -> Analysed:
    """The rows under the invalid rule; with ``full`` also the stability and the diagnostics."""
    report = progress or (lambda _p: None)
    roles = roles_from_config(config)
    trims = {role.code: role.trim for role in roles}
    seats: dict[Hashable, list[tuple[str, str, str, Decimal]]] = defaultdict(list)
    for receipt, department, role, total, seat in facts:
        seats[seat].append((receipt, department, role, total))

    rule = config.get("invalid_ballots") or {}
    invalid: set[Hashable] = set()
    if rule.get("uniform"):
        invalid = uniform_invalid_seats(
            {seat: [b[3] for b in ballots] for seat, ballots in seats.items() if is_rater_seat(seat)},
            uniform_min=rule["uniform_min"],
        )
    invalid_aliases = random_aliases(sorted(invalid, key=str), "X")
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for seat, ballots in seats.items():
        if seat not in invalid:
            for _receipt, department, role, total in ballots:
                totals[(department, role)].append(total)
    rows = results_from_config(config, tallies_from_totals(totals, trims))
    report(60)

    seat_ballots = {
        seat: [SeatBallot(department, role, total) for _r, department, role, total in ballots]
        for seat, ballots in seats.items()
    }
    analysis: dict = {
        "invalid": invalid_summary(seat_ballots, invalid, [role.code for role in roles]),
        "invalid_ballots": {receipt: invalid_aliases[seat] for seat in invalid for receipt, *_rest in seats[seat]},
        "bootstrap": {"resamples": resamples},
    }
    counted = sum(len(ballots) for seat, ballots in seats.items() if seat not in invalid)
    if not full:
        return Analysed(rows=rows, analysis=analysis, counted=counted)
    seed = bootstrap_seed(ballots_sha256=ballots_sha256, config=config)
    analysis["stability"] = stability(config, totals, rows, seed=seed, resamples=resamples)
    report(80)

    counting = {seat: ballots for seat, ballots in seat_ballots.items() if seat not in invalid and is_rater_seat(seat)}
    role_scores = {
        (row.department, code): Decimal(score["score"])
        for row in rows
        for code, score in row.role_scores.items()
        if score["score"] is not None
    }
    aliases = random_aliases(sorted(counting, key=str), "R")
    profiles = rater_profiles(
        counting,
        aliases=aliases,
        role_scores=role_scores,
        totals=totals,
        trims=trims,
        full_mark=Decimal(config["full_mark"]),
    )
    profiled = {item["alias"] for item in profiles}
    analysis["diagnostics"] = {
        "roles": role_agreement(
            counting, ranked=[row.department for row in rows if row.rank is not None], roles=list(trims)
        ),
        "raters": profiles,
    }
    # What a verifier needs to recompute the profiles from the export alone: each alias's ballots as
    # (department, role, total), never a receipt.
    analysis["diagnostic_ballots"] = {
        aliases[seat]: sorted([b.department, b.role, str(b.total)] for b in ballots)
        for seat, ballots in counting.items()
        if aliases[seat] in profiled
    }
    report(90)
    return Analysed(rows=rows, analysis=analysis, counted=counted)
