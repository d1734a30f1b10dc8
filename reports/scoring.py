"""The scoring rules of SCORING.md as pure functions over Decimal.

No ORM here: plain data in, plain data out, so that every rule can be tested
by hand-computed examples and read next to the spec. Section numbers refer to
SCORING.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext

from appraisal.numbers import FOUR_PLACES
from appraisal.rules import rank_count
from voting.canonical import ballot_line, canonical_json, line_digest

__all__ = ["ballot_line", "canonical_json", "line_digest", "rank_count"]

# Far more digits than any quotient here needs, so the only rounding that
# matters is q4's ROUND_HALF_UP.
EXACT = Context(prec=60)


def q4(value: Decimal) -> Decimal:
    """Round to 4 decimal places, half up."""
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def fmt4(value: Decimal | None) -> str | None:
    return None if value is None else str(q4(value))


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Role:
    code: str
    weight: Decimal
    trim: int


@dataclass(frozen=True)
class DepartmentInfo:
    code: str
    name: str
    category: str
    order: int


@dataclass(frozen=True)
class Rules:
    full_mark: Decimal = Decimal(100)
    rank_within_category: bool = False
    tie_break_roles: tuple[str, ...] = ()
    reward_top: int | None = None
    reward_top_percent: Decimal | None = None
    reward_min_score: Decimal | None = None
    admonition_bottom: int | None = None
    admonition_bottom_percent: Decimal | None = None
    admonition_below: Decimal | None = None
    meeting_weight: Decimal = Decimal(1)
    components: tuple[tuple[str, Decimal | None], ...] = ()  # weights are None under the product formula
    final: Mapping | None = None  # SCORING.md 10: base_times_coefficients; None for the weighted sum


@dataclass(frozen=True)
class RoleTally:
    """What one role's counting ballots for one department come to (section 3)."""

    ballots: int
    kept: int
    kept_sum: Decimal

    @property
    def score(self) -> Decimal | None:
        if self.kept == 0:
            return None
        with localcontext(EXACT):
            return q4(self.kept_sum / self.kept)


def rules_from_config(config: Mapping) -> Rules:
    """The Rules recorded in a snapshot's configuration (decimals as strings)."""

    def dec(value):
        return None if value is None else Decimal(value)

    return Rules(
        full_mark=Decimal(config["full_mark"]),
        rank_within_category=config["rank_within_category"],
        tie_break_roles=tuple(config["tie_break_roles"]),
        reward_top=config["reward"]["top"],
        reward_top_percent=dec(config["reward"]["top_percent"]),
        reward_min_score=dec(config["reward"]["min_score"]),
        admonition_bottom=config["admonition"]["bottom"],
        admonition_bottom_percent=dec(config["admonition"]["bottom_percent"]),
        admonition_below=dec(config["admonition"]["below"]),
        meeting_weight=Decimal(config["meeting_weight"]),
        components=tuple((c["code"], dec(c["weight"])) for c in config["components"]),
        final=config.get("final"),
    )


# --- sections 2 and 3 ------------------------------------------------------------------------


def ballot_total(points: Iterable[Decimal]) -> Decimal:
    """B(b): the sum of the ballot's points, exact."""
    with localcontext(EXACT):
        return sum(points, Decimal(0))


def role_tally(totals: Iterable[Decimal], trim: int) -> RoleTally:
    """Trim t lowest and t highest totals when n > 2t; otherwise keep all."""
    ordered = sorted(totals)
    n = len(ordered)
    kept = ordered[trim : n - trim] if n > 2 * trim else ordered
    with localcontext(EXACT):
        return RoleTally(ballots=n, kept=len(kept), kept_sum=sum(kept, Decimal(0)))


# --- sections 4 to 7 -------------------------------------------------------------------------


@dataclass
class ResultRow:
    department: str
    name: str
    category: str
    order: int
    role_scores: dict[str, dict]
    meeting_score: Decimal | None
    components: dict[str, Decimal | None]
    adjustments: Decimal
    final: Decimal | None
    veto: bool = False
    rank: int | None = None
    bottom_rank: int | None = None
    reward: bool = False
    admonition: bool = False
    flags: list[str] = field(default_factory=list)
    missing_roles: list[str] = field(default_factory=list)
    scope: str | None = None
    history: dict | None = None  # SCORING.md 12, only for a meeting with a previous meeting or a streak rule

    def as_dict(self) -> dict:
        """The row as the API and the snapshot carry it: decimals as 4-place strings."""
        return {
            "department": self.department,
            "name": self.name,
            "category": self.category,
            "scope": self.scope,
            "role_scores": self.role_scores,
            "meeting_score": fmt4(self.meeting_score),
            "components": {code: fmt4(value) for code, value in self.components.items()},
            "adjustments": fmt4(self.adjustments),
            "final": fmt4(self.final),
            "veto": self.veto,
            "rank": self.rank,
            "bottom_rank": self.bottom_rank,
            "reward": self.reward,
            "admonition": self.admonition,
            "flags": list(self.flags),
            "missing_roles": list(self.missing_roles),
            # Only when there is one: rows of every other meeting (and their digests) stay as they were.
            **({"history": dict(self.history)} if self.history is not None else {}),
        }


def meeting_score(role_scores: Mapping[str, Decimal | None], roles: Sequence[Role]) -> Decimal | None:
    """M(d): weighted mean over the roles present, weights of missing roles renormalised away."""
    present = [(r.weight, role_scores.get(r.code)) for r in roles if role_scores.get(r.code) is not None]
    if not present:
        return None
    with localcontext(EXACT):
        weighted = sum((w * s for w, s in present), Decimal(0))
        weights = sum((w for w, _s in present), Decimal(0))
        return q4(weighted / weights)


def final_score(
    *,
    meeting: Decimal,
    meeting_weight: Decimal,
    components: Sequence[tuple[Decimal, Decimal]],
    adjustments: Decimal,
) -> Decimal:
    """F(d) = q4(w_meeting * M + sum(w_j * C_j) + adjustments)."""
    with localcontext(EXACT):
        total = meeting_weight * meeting + sum((w * c for w, c in components), Decimal(0)) + adjustments
        return q4(total)


def department_final(
    rules: Rules, *, meeting: Decimal | None, components: Mapping[str, Decimal | None], adjustments: Decimal
) -> tuple[Decimal | None, bool]:
    """F(d) by the meeting's formula (section 5, or section 10's base times coefficients), and whether a
    component it needs is missing. None when F cannot be computed (a missing source)."""
    if rules.final:
        from .formula import product_final, sources

        needed = sources(rules.final)
        missing = any(src != "meeting" and components.get(src) is None for src in needed)
        if missing or ("meeting" in needed and meeting is None):
            return None, missing
        return product_final(rules.final, meeting=meeting, components=components, adjustments=adjustments), False
    missing = any(v is None for v in components.values())
    if meeting is None or missing:
        return None, missing
    return (
        final_score(
            meeting=meeting,
            meeting_weight=rules.meeting_weight,
            components=[(w, components[code]) for code, w in rules.components],
            adjustments=adjustments,
        ),
        False,
    )


def competition_ranks(keys: Sequence[tuple]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of keys already sorted best first."""
    ranks: list[int] = []
    for i, key in enumerate(keys):
        ranks.append(ranks[i - 1] if i and key == keys[i - 1] else i + 1)
    return ranks


# A missing tie-break role score counts as lowest.
_MISSING = Decimal("-Infinity")


def _sort_key(row: ResultRow, tie_break_roles: Sequence[str]) -> tuple:
    scores = []
    for code in tie_break_roles:
        value = row.role_scores.get(code, {}).get("score")
        scores.append(Decimal(value) if value is not None else _MISSING)
    return (row.final, *scores)


def rank_scope(rows: list[ResultRow], rules: Rules) -> None:
    """Section 6 and 7 within one scope: ranks, bottom ranks, reward and admonition."""
    ranked = [r for r in rows if r.final is not None]
    keyed = [(_sort_key(r, rules.tie_break_roles), r) for r in ranked]

    descending = sorted(keyed, key=lambda kr: kr[0], reverse=True)
    for rank, (_key, row) in zip(competition_ranks([k for k, _r in descending]), descending, strict=True):
        row.rank = rank
    ascending = sorted(keyed, key=lambda kr: kr[0])
    for rank, (_key, row) in zip(competition_ranks([k for k, _r in ascending]), ascending, strict=True):
        row.bottom_rank = rank

    n = len(ranked)
    k_reward = rank_count(count=rules.reward_top, percent=rules.reward_top_percent, n=n)
    k_admonition = rank_count(count=rules.admonition_bottom, percent=rules.admonition_bottom_percent, n=n)
    for row in ranked:
        reward = (
            row.rank <= k_reward
            and (rules.reward_min_score is None or row.final >= rules.reward_min_score)
            and not row.veto
        )
        admonition = (
            row.bottom_rank <= k_admonition
            or (rules.admonition_below is not None and row.final < rules.admonition_below)
            or row.veto
        )
        if reward and admonition:
            row.flags.append("boundary_conflict")
            reward = admonition = False
        row.reward, row.admonition = reward, admonition


def compute_results(
    *,
    rules: Rules,
    roles: Sequence[Role],
    departments: Sequence[DepartmentInfo],
    tallies: Mapping[tuple[str, str], RoleTally],
    components: Mapping[str, Mapping[str, Decimal]] | None = None,
    adjustments: Mapping[str, Decimal] | None = None,
    vetoes: Iterable[str] = (),
) -> list[ResultRow]:
    """Every department's row, ranked, in result order (scope, rank, agenda), unranked last.

    ``tallies`` maps (department code, role code) to the role's tally; a
    missing key means no counting ballot of that role.
    """
    components = components or {}
    adjustments = adjustments or {}
    vetoed = set(vetoes)
    rows: list[ResultRow] = []
    for dept in departments:
        role_scores: dict[str, dict] = {}
        scores: dict[str, Decimal | None] = {}
        for role in roles:
            tally = tallies.get((dept.code, role.code)) or RoleTally(0, 0, Decimal(0))
            scores[role.code] = tally.score
            role_scores[role.code] = {"score": fmt4(tally.score), "ballots": tally.ballots, "kept": tally.kept}
        m = meeting_score(scores, roles)
        flags: list[str] = []
        missing = [r.code for r in roles if scores[r.code] is None]
        if m is None:
            flags.append("no_ballots")
        elif missing:
            flags.append("missing_roles")
        dept_components = {code: components.get(dept.code, {}).get(code) for code, _w in rules.components}
        adjustment = q4(adjustments.get(dept.code, Decimal(0)))
        final, missing_component = department_final(
            rules, meeting=m, components=dept_components, adjustments=adjustment
        )
        if missing_component:
            flags.append("missing_component")
        rows.append(
            ResultRow(
                department=dept.code,
                name=dept.name,
                category=dept.category,
                order=dept.order,
                role_scores=role_scores,
                meeting_score=m,
                components=dept_components,
                adjustments=adjustment,
                final=final,
                veto=dept.code in vetoed,
                flags=flags,
                missing_roles=missing if m is not None else [r.code for r in roles],
                scope=dept.category if rules.rank_within_category else None,
            )
        )

    scopes: dict[str | None, list[ResultRow]] = {}
    for row in rows:
        scopes.setdefault(row.scope, []).append(row)
    for scope_rows in scopes.values():
        rank_scope(scope_rows, rules)
    for row in rows:
        if row.final is None and row.veto:
            # Unranked, but a veto still means an admonition talk.
            row.admonition = True
        row.flags.sort()

    scope_order = {dept.category: dept.order for dept in reversed(departments)} if rules.rank_within_category else {}
    return sorted(
        rows,
        key=lambda r: (
            r.final is None,
            scope_order.get(r.scope, 0),
            r.rank if r.rank is not None else 0,
            r.order,
        ),
    )


def roles_from_config(config: Mapping) -> list[Role]:
    return [Role(code=r["code"], weight=Decimal(r["weight"]), trim=r["trim"]) for r in config["roles"]]


def results_from_config(
    config: Mapping, tallies: Mapping[tuple[str, str], RoleTally], *, roles: Sequence[Role] | None = None
) -> list[ResultRow]:
    """SCORING.md applied to a snapshot's recorded configuration and the ballots' tallies; ``roles``
    replaces the recorded roles (other weights or trims, for section 13)."""
    rows = compute_results(
        rules=rules_from_config(config),
        roles=roles if roles is not None else roles_from_config(config),
        departments=[DepartmentInfo(**d) for d in config["departments"]],
        tallies=tallies,
        components={
            dept: {code: Decimal(v) for code, v in scores.items()}
            for dept, scores in config["component_scores"].items()
        },
        adjustments={dept: Decimal(v) for dept, v in config["adjustments"].items()},
        vetoes=config["vetoes"],
    )
    if "previous" in config or "streak_rule" in config:
        from .history import apply_history

        apply_history(rows, config.get("previous"), config.get("streak_rule"))
    return rows


def tallies_from_totals(
    totals: Mapping[tuple[str, str], Sequence[Decimal]], trims: Mapping[str, int]
) -> dict[tuple[str, str], RoleTally]:
    """Section 3 over counting ballot totals grouped by (department, role), each role with its trim."""
    return {key: role_tally(values, trims[key[1]]) for key, values in totals.items() if values}


# --- section 8 -------------------------------------------------------------------------------


def ballots_digest(line_digests: Iterable[str]) -> str:
    """SHA-256 over the 32-byte digests of the counting ballots' canonical lines, in receipt order."""
    digest = hashlib.sha256()
    for line_sha256 in line_digests:
        digest.update(bytes.fromhex(line_sha256))
    return digest.hexdigest()


def snapshot_digest(*, ballots_sha256: str, config: Mapping, rows: Sequence[Mapping]) -> str:
    """The snapshot's digest: SHA-256 of the canonical JSON of the ballots' digest, the configuration and the rows."""
    document = {"ballots_sha256": ballots_sha256, "config": config, "rows": list(rows)}
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()
