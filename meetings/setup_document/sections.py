"""Checks of single sections: the final rule (SCORING.md 10), coefficient maps, criteria, scopes."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext as _

from appraisal.rules import rank_count

from .checker import _Checker
from .specs import CriterionSpec, GradeSpec


def _final_rule(c: _Checker, raw, component_codes: set[str]) -> dict | None:
    """meeting.final checked (SCORING.md 10); the rule as stored, decimals as strings, or None for the
    default weighted sum."""
    rule = c.obj(raw, "meeting.final", required={"formula"}, optional={"base", "coefficients"})
    if rule is None:
        return None
    formula = rule.get("formula")
    if formula == "weighted_sum":
        for key in ("base", "coefficients"):
            if key in rule:
                c.error(f"meeting.final.{key}", _("Only the base_times_coefficients formula takes this."))
        return None
    if formula != "base_times_coefficients":
        c.error("meeting.final.formula", _('Must be "weighted_sum" or "base_times_coefficients".'))
        return None
    sources = {"meeting", *component_codes}

    def source(value, path: str) -> str | None:
        if not isinstance(value, str) or value not in sources:
            c.error(
                path,
                _('Unknown source: "meeting" or a component code (%(codes)s).')
                % {"codes": ", ".join(sorted(component_codes)) or "–"},
            )
            return None
        return value

    if "base" not in rule:
        c.error("meeting.final.base", _("This field is required."))
    if "coefficients" not in rule:
        c.error("meeting.final.coefficients", _("This field is required."))
    base = source(rule.get("base"), "meeting.final.base") if "base" in rule else None
    coefficients = []
    for i, item in enumerate(c.array(rule.get("coefficients", []), "meeting.final.coefficients")):
        path = f"meeting.final.coefficients[{i}]"
        if c.obj(item, path, required={"source", "map"}) is None:
            continue
        name = source(item.get("source"), f"{path}.source")
        mapping = _coefficient_map(c, item.get("map"), f"{path}.map")
        if name and mapping:
            coefficients.append({"source": name, "map": mapping})
    if base is None or any(e["path"].startswith("meeting.final") for e in c.errors):
        return None
    return {"formula": "base_times_coefficients", "base": base, "coefficients": coefficients}


def _coefficient_map(c: _Checker, raw, path: str) -> dict | None:
    mapping = c.obj(raw, path, required={"kind"}, optional={"full", "bands"})
    if mapping is None:
        return None
    kind = mapping.get("kind")
    if kind == "linear":
        if "bands" in mapping:
            c.error(f"{path}.bands", _("Only a band table takes bands."))
        if "full" not in mapping:
            c.error(f"{path}.full", _("This field is required."))
            return None
        full = c.decimal(mapping.get("full"), f"{path}.full", minimum=Decimal(0), minimum_exclusive=True)
        return None if full is None else {"kind": "linear", "full": str(full)}
    if kind != "bands":
        c.error(f"{path}.kind", _('Must be "linear" or "bands".'))
        return None
    if "full" in mapping:
        c.error(f"{path}.full", _("Only a linear map takes full."))
    bands = []
    for i, band in enumerate(c.array(mapping.get("bands"), f"{path}.bands")):
        band_path = f"{path}.bands[{i}]"
        if c.obj(band, band_path, required={"min", "coefficient"}) is None:
            continue
        low = c.decimal(band.get("min"), f"{band_path}.min", minimum=Decimal(0))
        coefficient = c.decimal(
            band.get("coefficient"), f"{band_path}.coefficient", minimum=Decimal(0), minimum_exclusive=True
        )
        if low is not None and coefficient is not None:
            bands.append((band_path, low, coefficient))
    c.unique([(f"{p}.min", str(low)) for p, low, _k in bands], _("Two bands have the same min."))
    if bands and not any(low == 0 for _p, low, _k in bands):
        c.error(f"{path}.bands", _("One band must start at 0, so that every value has a coefficient."))
    return {"kind": "bands", "bands": [{"min": str(low), "coefficient": str(k)} for _p, low, k in bands]}


def _criteria(c: _Checker, value, path: str) -> list[CriterionSpec]:
    criteria: list[CriterionSpec] = []
    for j, item in enumerate(c.array(value, path)):
        cpath = f"{path}[{j}]"
        kind = item.get("kind") if isinstance(item, dict) else None
        if kind == "grade":
            if c.obj(item, cpath, required={"code", "name", "kind", "choices"}) is None:
                continue
            grades: list[GradeSpec] = []
            for k, choice in enumerate(c.array(item.get("choices", []), f"{cpath}.choices", min_items=2)):
                gpath = f"{cpath}.choices[{k}]"
                if c.obj(choice, gpath, required={"code", "label", "points"}) is None:
                    continue
                points = c.decimal(choice.get("points"), f"{gpath}.points", minimum=Decimal(0))
                grades.append(
                    GradeSpec(
                        code=c.code(choice.get("code"), f"{gpath}.code"),
                        label=c.text(choice.get("label"), f"{gpath}.label", max_length=50),
                        points=points if points is not None else Decimal(0),
                    )
                )
            c.unique([(f"{cpath}.choices[{k}].code", g.code) for k, g in enumerate(grades)], _("Duplicate grade code."))
            if not grades:
                continue
            criteria.append(
                CriterionSpec(
                    code=c.code(item.get("code"), f"{cpath}.code"),
                    name=c.text(item.get("name"), f"{cpath}.name", max_length=100),
                    kind="grade",
                    grades=tuple(grades),
                )
            )
        elif kind == "numeric":
            if c.obj(item, cpath, required={"code", "name", "kind", "max", "step"}) is None:
                continue
            max_value = c.decimal(item.get("max"), f"{cpath}.max", minimum=Decimal(0), minimum_exclusive=True)
            step = c.decimal(item.get("step"), f"{cpath}.step", minimum=Decimal(0), minimum_exclusive=True)
            if max_value is not None and step is not None and max_value % step != 0:
                c.error(
                    f"{cpath}.step",
                    _("The maximum %(max)s is not on the grid of step %(step)s.") % {"max": max_value, "step": step},
                )
            code = c.code(item.get("code"), f"{cpath}.code")
            name = c.text(item.get("name"), f"{cpath}.name", max_length=100)
            if max_value is None or step is None:
                continue
            criteria.append(CriterionSpec(code=code, name=name, kind="numeric", max_value=max_value, step=step))
        else:
            if isinstance(item, dict):
                c.error(f"{cpath}.kind", _('Must be "numeric" or "grade".'))
            else:
                c.error(cpath, _("Must be an object."))
    c.unique([(f"{path}[{j}].code", cr.code) for j, cr in enumerate(criteria)], _("Duplicate criterion code."))
    return criteria


def _check_scopes(c: _Checker, meeting: dict, departments: list[tuple[str, str, str]]) -> None:
    """SCORING.md 7: in every scope, reward and admonition counts fit in the scope."""
    if meeting.get("rank_within_category"):
        scopes: dict[str, int] = {}
        for _code, _name, category in departments:
            scopes[category] = scopes.get(category, 0) + 1
    else:
        scopes = {"": len(departments)}
    for scope, n in scopes.items():
        if n == 0:
            continue
        k_reward = rank_count(count=meeting.get("reward_top"), percent=meeting.get("reward_top_percent"), n=n)
        k_admonition = rank_count(
            count=meeting.get("admonition_bottom"), percent=meeting.get("admonition_bottom_percent"), n=n
        )
        if k_reward + k_admonition > n:
            where = _('in category "%(code)s"') % {"code": scope} if scope else _("in the meeting")
            c.error(
                "meeting.reward",
                _(
                    "%(reward)d rewarded and %(admonished)d admonished departments exceed the %(n)d departments %(where)s."
                )
                % {"reward": k_reward, "admonished": k_admonition, "n": n, "where": where},
            )
