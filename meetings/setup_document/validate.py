"""validate_setup_document: the whole document, section by section, into a SetupDocument."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils.translation import gettext as _

from .checker import _Checker
from .sections import _check_scopes, _criteria, _final_rule
from .specs import MAX_SEATS_PER_ENTRY, MAX_SEATS_TOTAL, WEIGHT_PLACES, RaterSpec, RoleSpec, SetupDocument, SetupInvalid


def validate_setup_document(document) -> SetupDocument:
    """Validate a setup document; raise SetupInvalid listing every problem."""
    c = _Checker()
    top = c.obj(
        document,
        "",
        required={"cycle", "meeting", "categories", "departments", "roles", "raters"},
        optional={"components"},
    )
    if top is None:
        raise SetupInvalid(c.errors)

    cycle = c.obj(top.get("cycle", {}), "cycle", required={"year", "name"}) or {}
    cycle_year = c.integer(cycle.get("year"), "cycle.year", minimum=1900, maximum=2200) if "year" in cycle else None
    cycle_name = c.text(cycle.get("name"), "cycle.name", max_length=200) if "name" in cycle else ""

    categories: list[tuple[str, str]] = []
    for i, item in enumerate(c.array(top.get("categories", []), "categories")):
        path = f"categories[{i}]"
        if c.obj(item, path, required={"code", "name"}) is None:
            continue
        categories.append(
            (c.code(item.get("code"), f"{path}.code"), c.text(item.get("name"), f"{path}.name", max_length=100))
        )
    c.unique(
        [(f"categories[{i}].code", code) for i, (code, _n) in enumerate(categories)], _("Duplicate category code.")
    )
    category_codes = {code for code, _n in categories}

    departments: list[tuple[str, str, str]] = []
    for i, item in enumerate(c.array(top.get("departments", []), "departments")):
        path = f"departments[{i}]"
        if c.obj(item, path, required={"code", "name", "category"}) is None:
            continue
        code = c.code(item.get("code"), f"{path}.code")
        name = c.text(item.get("name"), f"{path}.name", max_length=200)
        category = c.code(item.get("category"), f"{path}.category")
        if category and category not in category_codes:
            c.error(f"{path}.category", _('Unknown category "%(code)s".') % {"code": category})
        departments.append((code, name, category))
    c.unique([(f"departments[{i}].code", d[0]) for i, d in enumerate(departments)], _("Duplicate department code."))
    c.look_alike(
        [(f"departments[{i}].code", d[0]) for i, d in enumerate(departments)],
        _('"%(code)s" looks like the department code "%(other)s": codes must differ in more than look-alike letters.'),
    )
    department_codes = {d[0] for d in departments}

    meeting_raw = (
        c.obj(
            top.get("meeting", {}),
            "meeting",
            required={"title", "date"},
            optional={
                "mode",
                "full_mark",
                "rank_within_category",
                "tie_break_roles",
                "reward",
                "admonition",
                "excellent_quota",
                "meeting_weight",
                "invalid_ballots",
                "final",
                "previous",
                "streak_rule",
                "four_eyes",
            },
        )
        or {}
    )
    meeting: dict = {}
    meeting["title"] = (
        c.text(meeting_raw.get("title"), "meeting.title", max_length=200) if "title" in meeting_raw else ""
    )
    if "date" in meeting_raw:
        try:
            meeting["date"] = datetime.date.fromisoformat(str(meeting_raw["date"]))
        except ValueError:
            c.error("meeting.date", _("Must be a date as YYYY-MM-DD."))
    mode = meeting_raw.get("mode", "per_presentation")
    if mode not in ("per_presentation", "whole_meeting"):
        c.error("meeting.mode", _('Must be "per_presentation" or "whole_meeting".'))
    meeting["mode"] = mode
    full_mark = c.decimal(
        meeting_raw.get("full_mark", 100), "meeting.full_mark", minimum=Decimal(0), minimum_exclusive=True
    )
    meeting["full_mark"] = full_mark
    meeting["rank_within_category"] = (
        c.boolean(meeting_raw["rank_within_category"], "meeting.rank_within_category")
        if "rank_within_category" in meeting_raw
        else False
    )
    score_max = full_mark if full_mark is not None else None

    reward_top = reward_percent = reward_min = None
    if "reward" in meeting_raw:
        reward = c.obj(
            meeting_raw["reward"], "meeting.reward", required=set(), optional={"top", "top_percent", "min_score"}
        )
        if reward is not None:
            if ("top" in reward) == ("top_percent" in reward):
                c.error("meeting.reward", _('Give exactly one of "top" and "top_percent".'))
            if "top" in reward:
                reward_top = c.integer(reward["top"], "meeting.reward.top", minimum=0, maximum=100000)
            if "top_percent" in reward:
                reward_percent = c.decimal(
                    reward["top_percent"], "meeting.reward.top_percent", minimum=Decimal(0), maximum=Decimal(100)
                )
            if "min_score" in reward:
                reward_min = c.decimal(
                    reward["min_score"], "meeting.reward.min_score", minimum=Decimal(0), maximum=score_max
                )
    meeting.update(reward_top=reward_top, reward_top_percent=reward_percent, reward_min_score=reward_min)

    adm_bottom = adm_percent = adm_below = None
    if "admonition" in meeting_raw:
        adm = c.obj(
            meeting_raw["admonition"],
            "meeting.admonition",
            required=set(),
            optional={"bottom", "bottom_percent", "below"},
        )
        if adm is not None:
            if ("bottom" in adm) == ("bottom_percent" in adm):
                c.error("meeting.admonition", _('Give exactly one of "bottom" and "bottom_percent".'))
            if "bottom" in adm:
                adm_bottom = c.integer(adm["bottom"], "meeting.admonition.bottom", minimum=0, maximum=100000)
            if "bottom_percent" in adm:
                adm_percent = c.decimal(
                    adm["bottom_percent"], "meeting.admonition.bottom_percent", minimum=Decimal(0), maximum=Decimal(100)
                )
            if "below" in adm:
                adm_below = c.decimal(adm["below"], "meeting.admonition.below", minimum=Decimal(0), maximum=score_max)
    meeting.update(admonition_bottom=adm_bottom, admonition_bottom_percent=adm_percent, admonition_below=adm_below)
    if adm_below is not None and reward_min is not None and adm_below > reward_min:
        c.error(
            "meeting.admonition.below",
            _("The admonition threshold %(below)s is above the reward minimum %(min)s.")
            % {"below": adm_below, "min": reward_min},
        )

    roles: list[RoleSpec] = []
    for i, item in enumerate(c.array(top.get("roles", []), "roles")):
        path = f"roles[{i}]"
        if c.obj(item, path, required={"code", "name", "weight", "criteria"}, optional={"trim"}) is None:
            continue
        code = c.code(item.get("code"), f"{path}.code")
        name = c.text(item.get("name"), f"{path}.name", max_length=100)
        weight = c.decimal(
            item.get("weight"), f"{path}.weight", places=WEIGHT_PLACES, minimum=Decimal(0), minimum_exclusive=True
        )
        trim = c.integer(item.get("trim", 1), f"{path}.trim", minimum=0, maximum=100)
        criteria = _criteria(c, item.get("criteria", []), f"{path}.criteria")
        if full_mark is not None and criteria and len(criteria) == len(item.get("criteria") or []):
            form_total = sum(cr.max_points for cr in criteria)
            if form_total != full_mark:
                c.error(
                    f"{path}.criteria",
                    _("The form's maximum total is %(total)s, but the meeting's full mark is %(full)s.")
                    % {"total": form_total, "full": full_mark},
                )
        roles.append(
            RoleSpec(
                code=code, name=name, weight=weight, trim=trim if trim is not None else 1, criteria=tuple(criteria)
            )
        )
    c.unique([(f"roles[{i}].code", r.code) for i, r in enumerate(roles)], _("Duplicate role code."))
    role_codes = {r.code for r in roles}

    tie_break = meeting_raw.get("tie_break_roles", [])
    if not isinstance(tie_break, list):
        c.error("meeting.tie_break_roles", _("Must be a list."))
        tie_break = []
    for i, code in enumerate(tie_break):
        if not isinstance(code, str) or code not in role_codes:
            c.error(f"meeting.tie_break_roles[{i}]", _('Unknown role "%(code)s".') % {"code": code})
    c.unique(
        [(f"meeting.tie_break_roles[{i}]", code) for i, code in enumerate(tie_break) if isinstance(code, str)],
        _("Duplicate role."),
    )
    meeting["tie_break_roles"] = [code for code in tie_break if isinstance(code, str)]

    meeting.update(excellent_quota_criterion="", excellent_quota_grade="", excellent_quota_max_percent=None)
    if "excellent_quota" in meeting_raw:
        quota = c.obj(
            meeting_raw["excellent_quota"], "meeting.excellent_quota", required={"criterion", "grade", "max_percent"}
        )
        if quota is not None:
            criterion = c.code(quota.get("criterion"), "meeting.excellent_quota.criterion")
            grade = c.code(quota.get("grade"), "meeting.excellent_quota.grade")
            percent = c.decimal(
                quota.get("max_percent"),
                "meeting.excellent_quota.max_percent",
                minimum=Decimal(0),
                maximum=Decimal(100),
            )
            matching = [cr for r in roles for cr in r.criteria if cr.code == criterion]
            if criterion and not any(cr.kind == "grade" for cr in matching):
                c.error(
                    "meeting.excellent_quota.criterion",
                    _('No role\'s form has a grade criterion "%(code)s".') % {"code": criterion},
                )
            elif grade and not any(g.code == grade for cr in matching for g in cr.grades):
                c.error("meeting.excellent_quota.grade", _('The criterion has no grade "%(code)s".') % {"code": grade})
            meeting.update(
                excellent_quota_criterion=criterion, excellent_quota_grade=grade, excellent_quota_max_percent=percent
            )

    # SCORING.md 11: {"uniform": true, "uniform_min": 5}; uniform_min defaults to 5.
    meeting.update(invalid_uniform=False, invalid_uniform_min=5)
    if "invalid_ballots" in meeting_raw:
        rule = c.obj(
            meeting_raw["invalid_ballots"], "meeting.invalid_ballots", required={"uniform"}, optional={"uniform_min"}
        )
        if rule is not None:
            uniform = c.boolean(rule.get("uniform"), "meeting.invalid_ballots.uniform") if "uniform" in rule else False
            minimum = 5
            if "uniform_min" in rule:
                value = rule["uniform_min"]
                # A whole number, given as one: 5, not 5.5, "5" or true.
                if isinstance(value, bool) or not isinstance(value, int):
                    c.error("meeting.invalid_ballots.uniform_min", _("Must be a whole number."))
                    minimum = None
                else:
                    minimum = c.integer(value, "meeting.invalid_ballots.uniform_min", minimum=2, maximum=10000)
            meeting.update(invalid_uniform=uniform, invalid_uniform_min=minimum or 5)

    # SCORING.md 10: which formula. Under base_times_coefficients components carry no weight and the
    # meeting no meeting_weight.
    final_raw = meeting_raw.get("final")
    product = isinstance(final_raw, dict) and final_raw.get("formula") == "base_times_coefficients"
    components: list[tuple[str, str, Decimal | None]] = []
    for i, item in enumerate(c.array(top.get("components", []), "components", min_items=0)):
        path = f"components[{i}]"
        if (
            c.obj(item, path, required={"code", "name"} | (set() if product else {"weight"}), optional={"weight"})
            is None
        ):
            continue
        weight = None
        if product and "weight" in item:
            c.error(f"{path}.weight", _("Under the base_times_coefficients formula a component carries no weight."))
        elif not product:
            weight = c.decimal(
                item.get("weight"),
                f"{path}.weight",
                places=WEIGHT_PLACES,
                minimum=Decimal(0),
                minimum_exclusive=True,
                maximum=Decimal(1),
            )
        components.append(
            (
                c.code(item.get("code"), f"{path}.code"),
                c.text(item.get("name"), f"{path}.name", max_length=100),
                weight,
            )
        )
    c.unique([(f"components[{i}].code", comp[0]) for i, comp in enumerate(components)], _("Duplicate component code."))

    meeting["four_eyes"] = (
        c.boolean(meeting_raw["four_eyes"], "meeting.four_eyes") if "four_eyes" in meeting_raw else False
    )
    # SCORING.md 12. The previous meeting is named by cycle and title; the import finds it.
    meeting["streak_rule"] = None
    if "streak_rule" in meeting_raw:
        rule = c.obj(
            meeting_raw["streak_rule"],
            "meeting.streak_rule",
            required=set(),
            optional={"repeat_admonition", "repeat_reward"},
        )
        if rule is not None:
            checked = {}
            for key in ("repeat_admonition", "repeat_reward"):
                if key in rule:
                    value = rule[key]
                    if isinstance(value, bool) or not isinstance(value, int):
                        c.error(f"meeting.streak_rule.{key}", _("Must be a whole number."))
                    else:
                        number = c.integer(value, f"meeting.streak_rule.{key}", minimum=1, maximum=100)
                        if number is not None:
                            checked[key] = number
            meeting["streak_rule"] = checked or None
    previous_ref = None
    if "previous" in meeting_raw:
        ref = c.obj(meeting_raw["previous"], "meeting.previous", required={"cycle", "title"})
        if ref is not None:
            year = ref.get("cycle")
            if isinstance(year, bool) or not isinstance(year, int):
                c.error("meeting.previous.cycle", _("Must be a whole number."))
            title = c.text(ref.get("title"), "meeting.previous.title", max_length=200)
            if isinstance(year, int) and not isinstance(year, bool) and title:
                previous_ref = (year, title)
    meeting["final"] = None
    if "final" in meeting_raw:
        meeting["final"] = _final_rule(c, final_raw, {comp[0] for comp in components if comp[0]})
    if product and "meeting_weight" in meeting_raw:
        c.error("meeting.meeting_weight", _("Under the base_times_coefficients formula the meeting carries no weight."))
    meeting_weight = c.decimal(
        meeting_raw.get("meeting_weight", 1) if not product else 1,
        "meeting.meeting_weight",
        places=WEIGHT_PLACES,
        minimum=Decimal(0),
        minimum_exclusive=True,
        maximum=Decimal(1),
    )
    meeting["meeting_weight"] = meeting_weight
    if not product and meeting_weight is not None and all(comp[2] is not None for comp in components):
        total_weight = meeting_weight + sum(comp[2] for comp in components)
        if total_weight != 1:
            c.error(
                "meeting.meeting_weight",
                _("The meeting weight and the component weights add up to %(total)s; they must add up to 1.")
                % {"total": total_weight},
            )

    raters: list[RaterSpec] = []
    named: list[tuple[str, str]] = []
    for i, item in enumerate(c.array(top.get("raters", []), "raters")):
        path = f"raters[{i}]"
        if isinstance(item, dict) and "count" in item:
            if c.obj(item, path, required={"role", "count"}) is None:
                continue
            count = c.integer(item.get("count"), f"{path}.count", minimum=1, maximum=MAX_SEATS_PER_ENTRY)
            spec = RaterSpec(role=c.code(item.get("role"), f"{path}.role"), count=count or 0)
        else:
            if c.obj(item, path, required={"role", "name"}, optional={"department"}) is None:
                continue
            name = c.text(item.get("name"), f"{path}.name", max_length=100)
            department = None
            if item.get("department") is not None:
                department = c.code(item.get("department"), f"{path}.department")
                if department and department not in department_codes:
                    c.error(f"{path}.department", _('Unknown department "%(code)s".') % {"code": department})
            spec = RaterSpec(role=c.code(item.get("role"), f"{path}.role"), name=name, department=department)
            named.append((f"{path}.name", f"{spec.role}/{name}"))
        if spec.role and spec.role not in role_codes:
            c.error(f"{path}.role", _('Unknown role "%(code)s".') % {"code": spec.role})
        raters.append(spec)
    c.unique(named, _("A rater of this role with this name is already listed."))
    if sum(r.count for r in raters) > MAX_SEATS_TOTAL:
        c.error("raters", _("At most %(n)d rater seats in one meeting.") % {"n": MAX_SEATS_TOTAL})

    _check_scopes(c, meeting, departments)

    if c.errors:
        raise SetupInvalid(c.errors)
    return SetupDocument(
        cycle_year=cycle_year,
        cycle_name=cycle_name,
        meeting=meeting,
        categories=categories,
        departments=departments,
        roles=roles,
        raters=raters,
        components=components,
        previous=previous_ref,
    )
