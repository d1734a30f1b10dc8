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

from appraisal.rules import rank_count

from .scoring import (
    ResultRow,
    Role,
    _sort_key,
    canonical_json,
    fmt4,
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
    single_config = dict(config)
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

    for (department, role), values in sorted(totals.items()):
        row = by_department.get(department)
        if row is None or not values:
            continue
        single_config["departments"] = [d for d in config["departments"] if d["code"] == department]
        old_key = _sort_key(row, rules.tie_break_roles) if row.final is not None else None

        def without(removed, department=department, role=role, values=values):
            rest = list(values)
            rest.remove(removed)
            changed = dict(tallies)
            if rest:
                changed[(department, role)] = tallies_from_totals({(department, role): rest}, trims)[(department, role)]
            else:
                changed.pop((department, role), None)
            return changed

        distinct = sorted(set(values))
        # A trimmed mean only falls as the removed total rises, and so do F and the sort key: if removing
        # the lowest and the highest total changes nothing, no removal in between does.
        if all(
            unchanged(row, results_from_config(single_config, without(v))[0], old_key)
            for v in (distinct[0], distinct[-1])
        ):
            continue
        for removed in distinct:
            changed = without(removed)
            if unchanged(row, results_from_config(single_config, changed)[0], old_key):
                continue
            for other, flags in _flags(results_from_config(config, changed)).items():
                if flags != official_flags.get(other):
                    out[other] = True
    return out


# --- the bootstrap ---------------------------------------------------------------------------


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
        values = np.array([float(v) for v in totals[key]])
        n = len(values)
        if n == 0:
            continue
        drawn = np.sort(values[rng.integers(0, n, size=(resamples, n))], axis=1)
        trim = trims[key[1]]
        if n > 2 * trim and trim:
            drawn = drawn[:, trim : n - trim]
        scores[key] = drawn.mean(axis=1)

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
        # better[s, i, j]: in resample s, department j sorts strictly before department i.
        better = np.zeros((resamples, n, n), dtype=bool)
        equal = np.ones((resamples, n, n), dtype=bool)
        for key in keys:
            a, b = key[:, :, None], key[:, None, :]
            better |= equal & (b > a)
            equal &= b == a
        worse = ~better & ~equal
        rank = 1 + better.sum(axis=2)
        bottom_rank = 1 + worse.sum(axis=2)
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
