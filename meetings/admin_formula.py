"""The admin edits SCORING.md 10's formula as fields and band rows, never as JSON: a choice of formula, a
base, and up to three coefficients, each with its source and either a linear full mark or a band table
of one "min coefficient" row per line. The result is checked by the same rules as the import
(SetupAdminMixin)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from appraisal.numbers import decimal_from_input

from .models import Meeting

COEFFICIENTS = 3


class MeetingForm(forms.ModelForm):
    formula = forms.ChoiceField(
        label=_("final score formula"),
        choices=[
            ("weighted_sum", _("weighted sum (meeting weight and component weights)")),
            ("base_times_coefficients", _("a base times coefficients (综合考核)")),
        ],
    )
    base = forms.CharField(
        label=_("base"), required=False, help_text=_('"meeting" (the meeting score) or a component code')
    )

    # The quota's criterion and grade, chosen by name among the scheme's graded criteria (the model keeps codes).
    excellent_quota_criterion = forms.ChoiceField(label=_("excellent quota: criterion"), required=False)
    excellent_quota_grade = forms.ChoiceField(label=_("excellent quota: grade"), required=False)
    # The repeat flags as two numbers, not the JSON the model keeps.
    streak_repeat_admonition = forms.IntegerField(
        label=_("repeat flag: at the admonition line this many years in a row"),
        required=False,
        min_value=1,
        max_value=100,
    )
    streak_repeat_reward = forms.IntegerField(
        label=_("repeat flag: commended this many years in a row"), required=False, min_value=1, max_value=100
    )

    class Meta:
        model = Meeting
        fields = "__all__"  # noqa: DJ007 - the admin chooses the fields (and leaves out "final")
        widgets = {"tie_break_roles": forms.HiddenInput(), "streak_rule": forms.HiddenInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        scheme = self.instance.scheme if self.instance and self.instance.pk else None
        roles = list(scheme.roles.order_by("order", "code").values_list("code", "name")) if scheme else []
        order = list(self.instance.tie_break_roles or []) if scheme else []
        for i in range(1, TIE_BREAK_SLOTS + 1):
            field = self.fields[f"tie_break_{i}"]
            field.choices = [("", "–"), *roles]
            field.initial = order[i - 1] if i <= len(order) else ""
        if "tie_break_roles" in self.fields:
            self.fields["tie_break_roles"].required = False
        streak = (self.instance.streak_rule or {}) if self.instance and self.instance.pk else {}
        self.fields["streak_repeat_admonition"].initial = streak.get("repeat_admonition")
        self.fields["streak_repeat_reward"].initial = streak.get("repeat_reward")
        graded, grades = [("", "–")], {}
        if scheme:
            from appraisal.models import Grade

            for grade in Grade.objects.filter(criterion__role__scheme=scheme).select_related("criterion__role"):
                criterion = grade.criterion
                graded.append((criterion.code, f"{criterion.name}（{criterion.role.name}）"))
                grades.setdefault(grade.code, grade.label)
        self.fields["excellent_quota_criterion"].choices = list(dict(graded).items())
        self.fields["excellent_quota_grade"].choices = [("", "–"), *grades.items()]
        final = (self.instance.final or {}) if self.instance and self.instance.pk else {}
        self.fields["formula"].initial = final.get("formula", "weighted_sum")
        self.fields["base"].initial = final.get("base", "")
        coefficients = final.get("coefficients", [])
        for i in range(1, COEFFICIENTS + 1):
            item = coefficients[i - 1] if i <= len(coefficients) else {}
            mapping = item.get("map", {})
            self.fields[f"coefficient_{i}_source"].initial = item.get("source", "")
            self.fields[f"coefficient_{i}_kind"].initial = mapping.get("kind", "")
            self.fields[f"coefficient_{i}_full"].initial = mapping.get("full", "")
            self.fields[f"coefficient_{i}_bands"].initial = "\n".join(
                f"{b['min']} {b['coefficient']}" for b in mapping.get("bands", [])
            )

    def clean(self):
        data = super().clean()
        # The tie-break order from the ordered choices, each role once.
        chosen = [data.get(f"tie_break_{i}") for i in range(1, TIE_BREAK_SLOTS + 1)]
        order = [code for code in chosen if code]
        if len(order) != len(set(order)):
            self.add_error("tie_break_1", _("Each role may come once in the tie-break order."))
        data["tie_break_roles"] = order
        self.instance.tie_break_roles = order
        streak = {
            key: data[field]
            for key, field in (
                ("repeat_admonition", "streak_repeat_admonition"),
                ("repeat_reward", "streak_repeat_reward"),
            )
            if data.get(field) is not None
        }
        self.instance.streak_rule = streak or None
        if data.get("formula") != "base_times_coefficients":
            self.instance.final = None
            return data
        coefficients = []
        for i in range(1, COEFFICIENTS + 1):
            source = (data.get(f"coefficient_{i}_source") or "").strip()
            kind = data.get(f"coefficient_{i}_kind") or ""
            if not source and not kind:
                continue
            if kind == "linear":
                mapping = {"kind": "linear", "full": (data.get(f"coefficient_{i}_full") or "").strip()}
            elif kind == "bands":
                bands = []
                for number, line in enumerate((data.get(f"coefficient_{i}_bands") or "").splitlines(), start=1):
                    parts = line.replace("，", " ").replace(",", " ").split()
                    if not parts:
                        continue
                    low = decimal_from_input(parts[0]) if parts else None
                    value = decimal_from_input(parts[1]) if len(parts) == 2 else None
                    if low is None or value is None:
                        self.add_error(
                            f"coefficient_{i}_bands",
                            _('Line %(n)d: write the lowest score and the coefficient, e.g. "90 1.00".')
                            % {"n": number},
                        )
                        continue
                    bands.append({"min": str(low), "coefficient": str(value)})
                mapping = {"kind": "bands", "bands": bands}
            else:
                self.add_error(f"coefficient_{i}_kind", _("Choose linear or a band table."))
                continue
            coefficients.append({"source": source, "map": mapping})
        self.instance.final = {
            "formula": "base_times_coefficients",
            "base": (data.get("base") or "").strip(),
            "coefficients": coefficients,
        }
        return data


def _coefficient_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for i in range(1, COEFFICIENTS + 1):
        fields[f"coefficient_{i}_source"] = forms.CharField(
            label=_("coefficient %(n)d: source") % {"n": i}, required=False
        )
        fields[f"coefficient_{i}_kind"] = forms.ChoiceField(
            label=_("coefficient %(n)d: mapping") % {"n": i},
            required=False,
            choices=[("", "–"), ("linear", _("linear: value / full mark")), ("bands", _("band table"))],
        )
        fields[f"coefficient_{i}_full"] = forms.CharField(
            label=_("coefficient %(n)d: full mark (linear)") % {"n": i}, required=False
        )
        fields[f"coefficient_{i}_bands"] = forms.CharField(
            label=_("coefficient %(n)d: bands") % {"n": i},
            required=False,
            widget=forms.Textarea(attrs={"rows": 5, "cols": 30}),
            help_text=_(
                'One band per line: the lowest score of the band, then its coefficient, e.g. "90 1.00". '
                "One band starts at 0."
            ),
        )
    return fields


TIE_BREAK_SLOTS = 5


def _tie_break_fields() -> dict[str, forms.Field]:
    return {
        f"tie_break_{i}": forms.ChoiceField(
            label=_("tie-break: role %(n)d") % {"n": i},
            required=False,
            help_text=_("Equal final scores are ordered by these roles' scores, first role first.") if i == 1 else "",
        )
        for i in range(1, TIE_BREAK_SLOTS + 1)
    }


# Declared on the class, so that the admin lays them out like the model's own fields.
MeetingForm.base_fields.update(_tie_break_fields())
MeetingForm.declared_fields.update(_tie_break_fields())
MeetingForm.base_fields.update(_coefficient_fields())
MeetingForm.declared_fields.update({k: v for k, v in MeetingForm.base_fields.items() if k.startswith("coefficient_")})
FORMULA_FIELDS = ["formula", "base", *_coefficient_fields()]
TIE_BREAK_FIELDS = list(_tie_break_fields())
