"""SCORING.md section 12: year over year. Pure: the previous meeting's figures (recorded in the snapshot's
configuration, so that an export recomputes alone) and this meeting's rows in; each row's history and
the repeat flags out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .scoring import ResultRow


def apply_history(rows: Sequence[ResultRow], previous: Mapping | None, streak_rule: Mapping | None) -> None:
    """Give every row its "history" and, under a streak rule, the flags repeat_admonition and repeat_reward.

    ``previous`` is {"meeting": id, "departments": {code: {"rank", "final", "reward_streak",
    "admonition_streak"}}}: the previous meeting's final published figures, its streaks counted back
    through its own previous meetings while each had a published result; empty departments when nothing
    of it is published."""
    before = (previous or {}).get("departments", {})
    rule = streak_rule or {}
    for row in rows:
        last = before.get(row.department) or {}
        previous_rank = last.get("rank")
        reward_streak = 1 + (last.get("reward_streak") or 0) if row.reward else 0
        admonition_streak = 1 + (last.get("admonition_streak") or 0) if row.admonition else 0
        row.history = {
            "previous_rank": previous_rank,
            "previous_final": last.get("final"),
            "rank_change": previous_rank - row.rank if previous_rank is not None and row.rank is not None else None,
            "reward_streak": reward_streak,
            "admonition_streak": admonition_streak,
        }
        if "repeat_admonition" in rule and admonition_streak >= rule["repeat_admonition"]:
            row.flags.append("repeat_admonition")
        if "repeat_reward" in rule and reward_streak >= rule["repeat_reward"]:
            row.flags.append("repeat_reward")
        row.flags.sort()


def previous_figures(chain: Sequence[tuple[int, Sequence[Mapping] | None]]) -> dict:
    """The previous meeting's figures for apply_history, from the chain of previous meetings, nearest first:
    (meeting id, the rows of its final published snapshot, or None when nothing is published)."""
    if not chain:
        return {}
    meeting_id, rows = chain[0]
    departments: dict[str, dict] = {}
    if rows is not None:
        for row in rows:
            code = row["department"]
            streaks = {"reward_streak": 0, "admonition_streak": 0}
            for flag, key in (("reward", "reward_streak"), ("admonition", "admonition_streak")):
                for _id, earlier in chain:
                    if earlier is None:
                        break
                    match = next((r for r in earlier if r["department"] == code), None)
                    if match is None or not match[flag]:
                        break
                    streaks[key] += 1
            departments[code] = {
                "rank": row["rank"],
                "final": row["final"],
                **streaks,
            }
    return {"meeting": meeting_id, "departments": departments}
