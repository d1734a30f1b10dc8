"""SCORING.md section 13: how firm each rank is. Advisory: nothing here changes a rank or a flag.

Pure: a snapshot's configuration and the counting ballot totals per (department, role) in, plain
data out. The exact parts (margins, ranks under other trims and weights, fragility) are Decimal and
reuse the rules of reports.scoring; only the bootstrap uses numpy floats, since it estimates a
probability and never produces a score.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from itertools import accumulate
from types import SimpleNamespace

from appraisal.rules import rank_count

from .scoring import (
    ResultRow,
    Role,
    RoleTally,
    _sort_key,
    canonical_json,
    department_final,
    fmt4,
    meeting_score,
    results_from_config,
    roles_from_config,
    rules_from_config,
    tallies_from_totals,
)

TRIMS = (0, 1, 2)
WEIGHT_FACTORS = (Decimal("0.8"), Decimal("1.2"))
BOOTSTRAP_RESAMPLES = 1000

Totals = Mapping[tuple[str, str], Sequence[Decimal]]


def _scopes(rows: Sequence[ResultRow]) -> dict[str | None, list[ResultRow]]:
    """The ranked rows of each scope, in ranking order (rows come in result order)."""
    scopes: dict[str | None, list[ResultRow]] = {}
    for row in rows:
        if row.final is not None:
            scopes.setdefault(row.scope, []).append(row)
    return scopes


def margins(rows: Sequence[ResultRow], config: Mapping) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """reward_margin and admonition_margin of every ranked department (None where undefined)."""
    rules = rules_from_config(config)
    out: dict[str, tuple[Decimal | None, Decimal | None]] = {}
    for scope_rows in _scopes(rows).values():
        n = len(scope_rows)
        f = [row.final for row in scope_rows]  # f[i] is the F at position i + 1
        k_r = rank_count(count=rules.reward_top, percent=rules.reward_top_percent, n=n)
        k_a = rank_count(count=rules.admonition_bottom, percent=rules.admonition_bottom_percent, n=n)
        for position, row in enumerate(scope_rows, start=1):
            reward = admonition = None
            if 1 <= k_r < n:
                reward = row.final - (f[k_r] if position <= k_r else f[k_r - 1])
            if 1 <= k_a < n:
                admonition = row.final - (f[n - k_a] if position <= n - k_a else f[n - k_a - 1])
            out[row.department] = (reward, admonition)
    return out


def _ranks(rows: Sequence[ResultRow]) -> dict[str, int | None]:
    return {row.department: row.rank for row in rows}


def rank_by_trim(config: Mapping, totals: Totals) -> dict[str, dict[str, int | None]]:
    """Each department's rank with every role's trim set to 0, 1 and 2, all else unchanged."""
    roles = roles_from_config(config)
    out: dict[str, dict[str, int | None]] = {}
    for trim in TRIMS:
        changed = [replace(role, trim=trim) for role in roles]
        tallies = tallies_from_totals(totals, {role.code: trim for role in roles})
        for department, rank in _ranks(results_from_config(config, tallies, roles=changed)).items():
            out.setdefault(department, {})[str(trim)] = rank
    return out


def rank_range_weights(config: Mapping, totals: Totals, official: Sequence[ResultRow]) -> dict[str, list[int]]:
    """[best, worst] rank over the official ranking and the 2R rankings with one role's weight x0.8 or x1.2."""
    roles = roles_from_config(config)
    tallies = tallies_from_totals(totals, {role.code: role.trim for role in roles})
    rankings = [_ranks(official)]
    for i, role in enumerate(roles):
        for factor in WEIGHT_FACTORS:
            changed = list(roles)
            changed[i] = replace(role, weight=role.weight * factor)
            rankings.append(_ranks(results_from_config(config, tallies, roles=changed)))
    out: dict[str, list[int]] = {}
    for row in official:
        ranks = [r[row.department] for r in rankings if r.get(row.department) is not None]
        if row.rank is not None and ranks:
            out[row.department] = [min(ranks), max(ranks)]
    return out


def _flags(rows: Sequence[ResultRow]) -> dict[str, tuple[bool, bool]]:
    return {row.department: (row.reward, row.admonition) for row in rows}


def tally_without(
    ordered: Sequence[Decimal], prefix: Sequence[Decimal], removed: Decimal, trim: int
) -> RoleTally | None:
    """Section 3's tally of sorted totals with one `removed` taken out, in constant time from their prefix
    sums (prefix[k] = sum of the k lowest). Any instance of an equal total leaves the same multiset."""
    n = len(ordered)
    m = n - 1
    if m == 0:
        return None
    i = bisect_left(ordered, removed)

    def span(a: int, b: int) -> Decimal:
        return prefix[b] - prefix[a] if b > a else Decimal(0)

    if m <= 2 * trim:
        return RoleTally(ballots=m, kept=m, kept_sum=prefix[n] - removed)
    if i < trim:
        kept = span(trim + 1, n - trim)
    elif i > m - trim - 1:
        kept = span(trim, n - 1 - trim)
    else:
        kept = span(trim, n - trim) - removed
    return RoleTally(ballots=m, kept=m - 2 * trim, kept_sum=kept)


def fragile(config: Mapping, totals: Totals, official: Sequence[ResultRow]) -> dict[str, bool]:
    """Whether removing one single counting ballot, any one, would change the department's reward or
    admonition flag (sections 3 to 7 recomputed).

    Exact, without recomputing the whole ranking once per ballot: removing a ballot changes only its
    own department's F (and tie-break scores). Removals of equal totals give the same result, so each
    distinct total of each (department, role) is tried once; when the department's new sort key keeps
    it between the same neighbours, with no new tie, on the same side of the score thresholds and
    still ranked, no flag can change and the full recomputation is skipped.
    """
    rules = rules_from_config(config)
    roles = roles_from_config(config)
    trims = {role.code: role.trim for role in roles}
    tallies = tallies_from_totals(totals, trims)
    official_flags = _flags(official)
    by_department = {row.department: row for row in official}
    scope_keys: dict[str | None, list[tuple]] = {}
    for row in official:
        if row.final is not None:
            scope_keys.setdefault(row.scope, []).append(_sort_key(row, rules.tie_break_roles))
    for keys in scope_keys.values():
        keys.sort()
    out = dict.fromkeys(by_department, False)

    def thresholds(final: Decimal | None) -> tuple:
        if final is None:
            return (None, None)
        return (
            rules.reward_min_score is None or final >= rules.reward_min_score,
            rules.admonition_below is not None and final < rules.admonition_below,
        )

    def unchanged(row: ResultRow, new_row: ResultRow, old_key) -> bool:
        """No flag can change: the department keeps its neighbours, gains no tie, stays on the same side
        of the score thresholds, and stays ranked (or unranked)."""
        if new_row.final is None or old_key is None:
            return new_row.final is None and old_key is None
        keys = scope_keys[row.scope]
        if keys.count(old_key) != 1:
            return False  # tied now: any move breaks or changes the tie
        new_key = _sort_key(new_row, rules.tie_break_roles)
        # The department's own key sits among `keys`: count the others around the new key.
        below_new = bisect_left(keys, new_key) - (1 if old_key < new_key else 0)
        equal_new = bisect_right(keys, new_key) - bisect_left(keys, new_key) - (1 if new_key == old_key else 0)
        return (
            below_new == bisect_left(keys, old_key)
            and equal_new == 0
            and thresholds(new_row.final) == thresholds(row.final)
        )

    k_reward: dict = {}
    k_admonition: dict = {}
    scope_rows: dict = {}
    for scope, rows_of_scope in _scopes(official).items():
        n = len(rows_of_scope)
        k_reward[scope] = rank_count(count=rules.reward_top, percent=rules.reward_top_percent, n=n)
        k_admonition[scope] = rank_count(count=rules.admonition_bottom, percent=rules.admonition_bottom_percent, n=n)
        ordered = sorted(rows_of_scope, key=lambda r: _sort_key(r, rules.tie_break_roles))
        scope_rows[scope] = ordered

    def flag_pair(scope, rank: int, bottom: int, final: Decimal, veto: bool) -> tuple[bool, bool]:
        """Section 7 for one department, from its rank and bottom rank (the scope's size unchanged)."""
        reward = rank <= k_reward[scope] and thresholds(final)[0] and not veto
        admonition = bottom <= k_admonition[scope] or thresholds(final)[1] or veto
        return (False, False) if reward and admonition else (reward, admonition)

    def changed_flags(row: ResultRow, new_row: ResultRow) -> list[str] | None:
        """The departments whose flags change when only `row`'s department moves to `new_row`, from the
        ranks alone: it, and those whose keys lie between its old and new key. None when it enters or
        leaves the ranking (the scope's size changes): then everything is recomputed."""
        if new_row.final is None or row.final is None:
            return None
        keys = scope_keys[row.scope]
        old_key = _sort_key(row, rules.tie_break_roles)
        new_key = _sort_key(new_row, rules.tie_break_roles)
        out = []
        greater = len(keys) - bisect_right(keys, new_key) - (1 if old_key > new_key else 0)
        less = bisect_left(keys, new_key) - (1 if old_key < new_key else 0)
        if flag_pair(row.scope, 1 + greater, 1 + less, new_row.final, row.veto) != official_flags[row.department]:
            out.append(row.department)
        low, high = min(old_key, new_key), max(old_key, new_key)
        ordered = scope_rows[row.scope]
        for other in ordered[bisect_left(keys, low) : bisect_right(keys, high)]:
            if other.department == row.department:
                continue
            key = _sort_key(other, rules.tie_break_roles)
            rank = other.rank - (1 if old_key > key else 0) + (1 if new_key > key else 0)
            bottom = other.bottom_rank - (1 if old_key < key else 0) + (1 if new_key < key else 0)
            if flag_pair(other.scope, rank, bottom, other.final, other.veto) != official_flags[other.department]:
                out.append(other.department)
        return out

    def row_after(row: ResultRow, role: str, tally: RoleTally | None):
        """The department's F and tie-break scores with one role's tally replaced: sections 4 and 5 for this
        one department, exactly as compute_results computes them."""
        scores = {code: None if s["score"] is None else Decimal(s["score"]) for code, s in row.role_scores.items()}
        scores[role] = None if tally is None else tally.score
        meeting = meeting_score(scores, roles)
        final, _missing = department_final(
            rules, meeting=meeting, components=row.components, adjustments=row.adjustments
        )
        return SimpleNamespace(final=final, role_scores={code: {"score": fmt4(v)} for code, v in scores.items()})

    for (department, role), values in sorted(totals.items()):
        row = by_department.get(department)
        if row is None or not values:
            continue
        old_key = _sort_key(row, rules.tie_break_roles) if row.final is not None else None
        ordered = sorted(values)
        prefix = [Decimal(0), *accumulate(ordered)]
        trim = trims[role]

        def after(removed, row=row, role=role, ordered=ordered, prefix=prefix, trim=trim):
            return row_after(row, role, tally_without(ordered, prefix, removed, trim))

        distinct = sorted(set(values))
        # A trimmed mean only falls as the removed total rises, and so do F and the sort key: if removing
        # the lowest and the highest total changes nothing, no removal in between does.
        if all(unchanged(row, after(v), old_key) for v in (distinct[0], distinct[-1])):
            continue
        for removed in distinct:
            new_row = after(removed)
            if unchanged(row, new_row, old_key):
                continue
            moved = changed_flags(row, new_row)
            if moved is None:  # the department enters or leaves the ranking: recompute everything
                rest = list(values)
                rest.remove(removed)
                changed = dict(tallies)
                if rest:
                    changed[(department, role)] = tallies_from_totals({(department, role): rest}, trims)[
                        (department, role)
                    ]
                else:
                    changed.pop((department, role), None)
                recomputed = _flags(results_from_config(config, changed))
                moved = [other for other, flags in recomputed.items() if flags != official_flags.get(other)]
            for other in moved:
                out[other] = True
    return out


# --- the bootstrap ---------------------------------------------------------------------------


def _competition_ranks(keys):
    """Per resample (row), every department's competition rank (1 + how many sort strictly before it)
    and bottom rank (1 + how many strictly after), by the lexicographic keys (F, then tie-break scores).
    One sort of all resamples at once: O(R n log(R n)), not the R n^2 of comparing every pair."""
    import numpy as np

    resamples, n = keys[0].shape
    flat = [k.ravel() for k in keys]
    row = np.repeat(np.arange(resamples), n)
    # np.lexsort sorts by its last key first: the resample, then F, then the tie-break scores.
    order = np.lexsort([*reversed(flat), row])
    same = np.ones(resamples * n, dtype=bool)
    same[0] = False
    for k in flat:
        ordered = k[order]
        same[1:] &= ordered[1:] == ordered[:-1]
    same[1:] &= row[order][1:] == row[order][:-1]
    position = np.arange(resamples * n) % n  # ascending position within the resample
    # Tied keys share the position of their group's first (for "below") and last (for "above") member.
    start = np.maximum.accumulate(np.where(same, -1, np.arange(resamples * n)))
    first = position[start]
    end_index = np.arange(resamples * n)[::-1]
    same_next = np.append(same[1:], False)
    last_index = np.minimum.accumulate(np.where(same_next[::-1], resamples * n, end_index))[::-1]
    last = position[last_index]
    less = np.empty(resamples * n, dtype=np.int64)
    greater = np.empty(resamples * n, dtype=np.int64)
    less[order] = first
    greater[order] = n - 1 - last
    return 1 + greater.reshape(resamples, n), 1 + less.reshape(resamples, n)


def _product_float(final: Mapping, meeting, components: Mapping[str, float]):
    """SCORING.md 10 over resampled meeting scores (numpy floats): base times the coefficients."""
    import numpy as np

    def value(source: str):
        return meeting if source == "meeting" else np.full_like(meeting, components[source])

    product = value(final["base"])
    for item in final["coefficients"]:
        x = value(item["source"])
        mapping = item["map"]
        if mapping["kind"] == "linear":
            product = product * (x / float(mapping["full"]))
        else:
            bands = sorted(((float(b["min"]), float(b["coefficient"])) for b in mapping["bands"]), reverse=True)
            product = product * np.select([x >= low for low, _k in bands], [k for _low, k in bands], default=0.0)
    return product


def bootstrap_seed(*, ballots_sha256: str, config: Mapping) -> int:
    """The same snapshot (ballots and configuration) always draws the same resamples."""
    document = canonical_json({"ballots_sha256": ballots_sha256, "config": config})
    return int(hashlib.sha256(document.encode("utf-8")).hexdigest()[:16], 16)


def _share(count: int, resamples: int) -> str:
    return str((Decimal(count) / Decimal(resamples)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def bootstrap(
    config: Mapping,
    totals: Totals,
    official: Sequence[ResultRow],
    *,
    seed: int,
    resamples: int = BOOTSTRAP_RESAMPLES,
) -> dict[str, tuple[str, str]]:
    """p_reward and p_admonition of every ranked department: the share of resamples in which it gets the
    flag, each resample drawing, for every (department, role), as many totals as it has, with
    replacement, from its counting totals. Floats, since this only estimates a probability."""
    import numpy as np

    rules = rules_from_config(config)
    roles: list[Role] = roles_from_config(config)
    rng = np.random.Generator(np.random.PCG64(seed))
    # Role scores per resample: (department, role) -> array of `resamples` trimmed means.
    scores: dict[tuple[str, str], np.ndarray] = {}
    trims = {role.code: role.trim for role in roles}
    for key in sorted(totals):
        n = len(totals[key])
        if n == 0:
            continue
        # Drawing n totals with replacement is drawing how many times each distinct total comes up
        # (a multinomial): the trimmed mean then follows from the counts, without sorting n draws.
        distinct, counts = np.unique(np.array([float(v) for v in totals[key]]), return_counts=True)
        drawn = rng.multinomial(n, counts / n, size=resamples)  # (resamples, distinct totals)
        total = drawn @ distinct
        trim = trims[key[1]]
        if trim and n > 2 * trim:
            below = np.cumsum(drawn, axis=1)
            lowest = np.minimum(below, trim) - np.minimum(below - drawn, trim)
            above = np.cumsum(drawn[:, ::-1], axis=1)
            highest = (np.minimum(above, trim) - np.minimum(above - drawn[:, ::-1], trim))[:, ::-1]
            scores[key] = (total - lowest @ distinct - highest @ distinct) / (n - 2 * trim)
        else:
            scores[key] = total / n

    components = {
        dept: {code: float(v) for code, v in values.items()} for dept, values in config["component_scores"].items()
    }
    adjustments = {dept: float(v) for dept, v in config["adjustments"].items()}
    vetoed = set(config["vetoes"])
    out: dict[str, tuple[str, str]] = {}
    for scope_rows in _scopes(official).values():
        codes = [row.department for row in scope_rows]
        n = len(codes)
        finals = np.zeros((resamples, n))
        for j, code in enumerate(codes):
            weighted = np.zeros(resamples)
            weight = 0.0
            for role in roles:
                role_scores = scores.get((code, role.code))
                if role_scores is not None:
                    weighted += float(role.weight) * role_scores
                    weight += float(role.weight)
            meeting = weighted / weight
            if rules.final:
                finals[:, j] = _product_float(rules.final, meeting, components.get(code, {})) + adjustments.get(
                    code, 0.0
                )
            else:
                finals[:, j] = (
                    float(rules.meeting_weight) * meeting
                    + sum(float(w) * components.get(code, {}).get(c, 0.0) for c, w in rules.components)
                    + adjustments.get(code, 0.0)
                )
        keys = [finals] + [
            np.stack(
                [scores.get((code, tb), np.full(resamples, -np.inf)) for code in codes],
                axis=1,
            )
            for tb in rules.tie_break_roles
        ]
        rank, bottom_rank = _competition_ranks(keys)
        k_r = rank_count(count=rules.reward_top, percent=rules.reward_top_percent, n=n)
        k_a = rank_count(count=rules.admonition_bottom, percent=rules.admonition_bottom_percent, n=n)
        veto = np.array([code in vetoed for code in codes])[None, :]
        reward = rank <= k_r
        if rules.reward_min_score is not None:
            reward &= finals >= float(rules.reward_min_score)
        reward &= ~veto
        admonition = bottom_rank <= k_a
        if rules.admonition_below is not None:
            admonition |= finals < float(rules.admonition_below)
        admonition |= veto
        conflict = reward & admonition
        reward &= ~conflict
        admonition &= ~conflict
        for j, code in enumerate(codes):
            out[code] = (_share(int(reward[:, j].sum()), resamples), _share(int(admonition[:, j].sum()), resamples))
    return out


def stability(
    config: Mapping, totals: Totals, official: Sequence[ResultRow], *, seed: int, resamples: int = BOOTSTRAP_RESAMPLES
) -> dict[str, dict]:
    """Section 13 for every ranked department, as the API's row "stability" carries it."""
    margin = margins(official, config)
    trims = rank_by_trim(config, totals)
    ranges = rank_range_weights(config, totals, official)
    fragility = fragile(config, totals, official)
    probabilities = bootstrap(config, totals, official, seed=seed, resamples=resamples)
    out = {}
    for row in official:
        if row.final is None:
            continue
        reward_margin, admonition_margin = margin[row.department]
        p_reward, p_admonition = probabilities[row.department]
        out[row.department] = {
            "reward_margin": fmt4(reward_margin),
            "admonition_margin": fmt4(admonition_margin),
            "rank_by_trim": trims[row.department],
            "rank_range_weights": ranges[row.department],
            "fragile": fragility[row.department],
            "p_reward": p_reward,
            "p_admonition": p_admonition,
        }
    return out
