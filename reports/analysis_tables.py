"""SCORING.md 11, 13 and 14 as people read them: names and words, scores with 2 decimals on pages
(4 in exports), one explanation per figure. Shared by the review page, the Excel and the PDF exports;
the projector, the public pages and the rater pages never use it."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appraisal.models import RaterRole

from .models import ResultSnapshot

FLAG_WORDS = {
    "lenient": gettext_lazy("lenient"),
    "severe": gettext_lazy("severe"),
    "erratic": gettext_lazy("erratic"),
    "uniform": gettext_lazy("all totals identical"),
}

# One line of plain explanation per figure, shown beside it.
EXPLANATIONS = [
    (
        gettext_lazy("Reward margin"),
        gettext_lazy(
            "How many points the department is inside (positive) or outside (zero or negative) the commended group."
        ),
    ),
    (
        gettext_lazy("Admonition margin"),
        gettext_lazy(
            "How many points the department is above (positive) or inside (zero or negative) the admonition group."
        ),
    ),
    (
        gettext_lazy("Probability"),
        gettext_lazy(
            "The share of 1,000 resamplings of the ballots in which the department gets the flag: near 1 or 0 is firm."
        ),
    ),
    (
        gettext_lazy("Rank under trims"),
        gettext_lazy("The rank if every role dropped 0, 1 or 2 highest and lowest totals."),
    ),
    (
        gettext_lazy("Rank range"),
        gettext_lazy("The best and worst rank when one role's weight is a fifth lower or higher."),
    ),
    (
        gettext_lazy("Fragile"),
        gettext_lazy("Removing one single ballot would change the department's commendation or admonition."),
    ),
]

DIAGNOSTIC_EXPLANATIONS = [
    (
        gettext_lazy("Leniency"),
        gettext_lazy("The rater's average distance from each department's role score: above 0 means more generous."),
    ),
    (gettext_lazy("Spread"), gettext_lazy("The rater's average distance from the role score, either way.")),
    (
        gettext_lazy("Extreme share"),
        gettext_lazy("The share of the rater's ballots above or below every ballot kept for that department."),
    ),
    (
        gettext_lazy("Agreement"),
        gettext_lazy("Kendall's W: 1 when the role's raters rank the departments alike, 0 when they agree on nothing."),
    ),
]


def _two(value: str | None) -> str:
    if value is None:
        return "–"
    return f"{Decimal(value):.2f}"


def role_names(snapshot: ResultSnapshot) -> dict[str, str]:
    return dict(RaterRole.objects.filter(scheme_id=snapshot.meeting.scheme_id).values_list("code", "name"))


def near_line(figures: dict | None) -> bool:
    """A rank to look at twice: fragile, or a flag that fewer than 95 of 100 resamples agree on."""
    if not figures:
        return False
    unsure = any(Decimal("0.05") < Decimal(figures[k]) < Decimal("0.95") for k in ("p_reward", "p_admonition"))
    return figures["fragile"] or unsure


def stability_rows(snapshot: ResultSnapshot, *, places: int = 2) -> list[dict]:
    """One row per ranked department, in ranking order, with its section 13 figures in words."""
    stability = (snapshot.analysis or {}).get("stability", {})
    out = []
    for row in snapshot.rows:
        figures = stability.get(row["department"])
        if figures is None:
            continue
        show = _two if places == 2 else (lambda v: "–" if v is None else v)
        trims = figures["rank_by_trim"]
        best, worst = figures["rank_range_weights"]
        out.append(
            {
                "rank": row["rank"],
                "department": row["department"],
                "name": row["name"],
                "final": row["final"],
                "final_shown": show(row["final"]),
                "reward": row["reward"],
                "admonition": row["admonition"],
                "reward_margin": show(figures["reward_margin"]),
                "admonition_margin": show(figures["admonition_margin"]),
                "p_reward": figures["p_reward"],
                "p_admonition": figures["p_admonition"],
                "trims": f"{trims['0'] or '–'} / {trims['1'] or '–'} / {trims['2'] or '–'}",
                "range": str(best) if best == worst else f"{best}–{worst}",
                "fragile": figures["fragile"],
                "near": near_line(figures),
            }
        )
    return out


def stability_table(snapshot: ResultSnapshot) -> tuple[list[str], list[list]]:
    """Header and rows for the exports (4 decimals)."""
    header = [
        _("Rank"),
        _("Department"),
        _("Final score"),
        _("Reward margin"),
        _("Admonition margin"),
        _("Probability of commendation"),
        _("Probability of admonition"),
        _("Rank under trims 0 / 1 / 2"),
        _("Rank range (one weight ±20 percent)"),
        _("Fragile"),
    ]
    rows = [
        [
            r["rank"],
            r["name"],
            r["final"],
            r["reward_margin"],
            r["admonition_margin"],
            r["p_reward"],
            r["p_admonition"],
            r["trims"],
            r["range"],
            _("yes") if r["fragile"] else "",
        ]
        for r in stability_rows(snapshot, places=4)
    ]
    return header, rows


def diagnostics_view(snapshot: ResultSnapshot, *, places: int = 2) -> dict:
    """Each role's agreement and its flagged aliases with their figures, in words."""
    diagnostics = (snapshot.analysis or {}).get("diagnostics", {"roles": {}, "raters": []})
    names = role_names(snapshot)
    show = _two if places == 2 else (lambda v: v)
    roles = []
    for code, agreement in diagnostics["roles"].items():
        profiles = [p for p in diagnostics["raters"] if p["role"] == code]
        flagged = [
            {
                **p,
                "leniency_shown": show(p["leniency"]),
                "spread_shown": show(p["spread"]),
                "extreme_shown": show(p["extreme_share"]),
                "flag_words": "、".join(str(FLAG_WORDS[f]) for f in p["flags"]),
            }
            for p in profiles
            if p["flags"]
        ]
        roles.append(
            {
                "code": code,
                "name": names.get(code, code),
                "agreement": agreement["agreement"],
                "agreement_shown": show(agreement["agreement"]) if agreement["agreement"] is not None else "–",
                "agreement_raters": agreement["raters"],
                "profiled": len(profiles),
                "flagged": flagged,
            }
        )
    invalid = (snapshot.analysis or {}).get("invalid", {})
    return {
        "roles": roles,
        "invalid": [{"name": names.get(code, code), **counts} for code, counts in invalid.items() if counts["ballots"]],
    }


def diagnostics_table(snapshot: ResultSnapshot) -> tuple[list[str], list[list]]:
    """Header and rows for the exports: every flagged alias, with its role's name (4 decimals)."""
    header = [
        _("Rater role"),
        _("Alias"),
        _("Ballots"),
        _("Leniency"),
        _("Spread"),
        _("Extreme share"),
        _("Flags"),
        _("Agreement of the role (Kendall's W)"),
    ]
    rows = []
    for role in diagnostics_view(snapshot, places=4)["roles"]:
        for p in role["flagged"]:
            rows.append(
                [
                    role["name"],
                    p["alias"],
                    p["ballots"],
                    p["leniency"],
                    p["spread"],
                    p["extreme_share"],
                    p["flag_words"],
                    role["agreement"] or "–",
                ]
            )
        if not role["flagged"]:
            rows.append([role["name"], "–", "", "", "", "", _("none flagged"), role["agreement"] or "–"])
    return header, rows


def stability_chart(snapshot: ResultSnapshot) -> list[dict]:
    """Per ranking scope (the whole meeting, or each category), the final scores of its ranked departments
    with the reward and admonition lines, the departments near a line marked: coordinates for a
    server-drawn SVG (no script)."""
    rows = stability_rows(snapshot)
    scope_of = {row["department"]: row.get("scope") for row in snapshot.rows}
    categories = snapshot.config.get("categories", {})
    scopes: dict = {}
    for r in rows:
        scopes.setdefault(scope_of.get(r["department"]), []).append(r)
    charts = []
    for scope, scope_rows in scopes.items():
        finals = [Decimal(r["final"]) for r in scope_rows]
        low, high = min(finals), max(finals)
        pad = max((high - low) / 20, Decimal("0.5"))
        low, high = low - pad, high + pad

        def x(value: Decimal, low=low, high=high) -> Decimal:
            # An SVG coordinate, kept in Decimal like every score it is drawn from.
            return (40 + (value - low) / (high - low) * 400).quantize(Decimal("0.1"))

        def line(flag: str, scope_rows=scope_rows, x=x) -> Decimal | None:
            inside = [Decimal(r["final"]) for r in scope_rows if r[flag]]
            outside = [Decimal(r["final"]) for r in scope_rows if not r[flag]]
            if not inside or not outside:
                return None
            edge = min(inside) if flag == "reward" else max(inside)
            other = max(outside) if flag == "reward" else min(outside)
            return x((edge + other) / 2)

        charts.append(
            {
                "title": categories.get(scope, scope) if scope else "",
                "points": [{**r, "x": x(Decimal(r["final"])), "y": 14 + i * 14} for i, r in enumerate(scope_rows)],
                "height": 34 + len(scope_rows) * 14,
                "reward_x": line("reward"),
                "admonition_x": line("admonition"),
                "low": f"{low:.2f}",
                "high": f"{high:.2f}",
            }
        )
    return charts


def movement(row: dict, *, previous: bool = True) -> dict | None:
    """A row's year-over-year movement in words and signs (SCORING.md 12): ▲3, ▼1, – or 新, and its
    streaks when they are two years or more. No sign without a previous meeting (a streak rule alone)."""
    history = row.get("history")
    if history is None:
        return None
    change = history["rank_change"]
    if row.get("rank") is None or not previous:
        sign, words, kind = "", "", "none"
    elif history["previous_rank"] is None:
        sign, words, kind = "新", _("not ranked last time"), "new"
    elif change > 0:
        sign, words, kind = (
            f"▲{change}",
            _("up %(n)d from rank %(rank)d") % {"n": change, "rank": history["previous_rank"]},
            "up",
        )
    elif change < 0:
        sign, words, kind = (
            f"▼{-change}",
            _("down %(n)d from rank %(rank)d") % {"n": -change, "rank": history["previous_rank"]},
            "down",
        )
    else:
        sign, words, kind = "–", _("same rank as last time"), "same"
    streaks = []
    if history["reward_streak"] >= 2:
        streaks.append(_("commended %(n)d years in a row") % {"n": history["reward_streak"]})
    if history["admonition_streak"] >= 2:
        streaks.append(_("admonished %(n)d years in a row") % {"n": history["admonition_streak"]})
    return {"sign": sign, "words": words, "kind": kind, "streaks": "，".join(streaks)}
