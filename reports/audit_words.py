"""The audit log as a supervisor reads it: each action in words, its details as "名称：值" with departments,
roles and components by name, never a code or a Python dict. The stored entry (and its hash) is unchanged;
only its display is translated."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ACTIONS = {
    "meeting.imported": gettext_lazy("meeting set up from its setup document"),
    "meeting.copied": gettext_lazy("meeting copied to a new cycle"),
    "meeting.previous_set": gettext_lazy("previous cycle linked"),
    "meeting.sealed": gettext_lazy("ballots sealed"),
    "setup.changed": gettext_lazy("setup changed in the admin"),
    "panel.changed": gettext_lazy("rater panel changed in the admin"),
    "panel.imported.raters": gettext_lazy("rater panel imported from a sheet"),
    "panel.imported.departments": gettext_lazy("departments imported from a sheet"),
    "panel.imported.components": gettext_lazy("component scores imported from a sheet"),
    "rater.revoked": gettext_lazy("rater card revoked"),
    "rater.token_reissued": gettext_lazy("rater card reissued"),
    "rater.tokens_reissued": gettext_lazy("rater cards reissued"),
    "voting.next": gettext_lazy("next presentation"),
    "voting.open": gettext_lazy("voting opened"),
    "voting.close": gettext_lazy("voting closed"),
    "countdown.set": gettext_lazy("countdown set"),
    "paper.pending": gettext_lazy("paper ballot entered, waiting for the second entry"),
    "paper.matched": gettext_lazy("paper ballot counted (two entries agree)"),
    "paper.mismatch": gettext_lazy("paper ballot entries disagree"),
    "paper.resolved": gettext_lazy("paper ballot disagreement resolved"),
    "survey.imported": gettext_lazy("survey answers imported"),
    "survey.withdrawn": gettext_lazy("survey answers withdrawn"),
    "component.imported": gettext_lazy("component scores entered"),
    "ballot.voided": gettext_lazy("ballot voided"),
    "adjustment.added": gettext_lazy("adjustment added"),
    "adjustment.withdrawn": gettext_lazy("adjustment withdrawn"),
    "veto.set": gettext_lazy("one-vote veto"),
    "veto.withdrawn": gettext_lazy("veto withdrawn"),
    "aggregation.requested": gettext_lazy("aggregation requested"),
    "aggregation.merged": gettext_lazy("aggregation requested again (merged into the one queued)"),
    "rehearsal.requested": gettext_lazy("rehearsal requested"),
    "rehearsal.created": gettext_lazy("rehearsal created"),
    "rehearsal.failed": gettext_lazy("rehearsal failed"),
    "result.published": gettext_lazy("result published"),
    "result.unpublished": gettext_lazy("result withdrawn from the public"),
    "result.notice": gettext_lazy("result put under public notice"),
    "result.final_requested": gettext_lazy("final publication asked for (four eyes)"),
    "result.final": gettext_lazy("result made final"),
    "appeal.submitted": gettext_lazy("appeal submitted"),
    "appeal.decided": gettext_lazy("appeal decided"),
    "contact.granted": gettext_lazy("department contact granted"),
    "contact.revoked": gettext_lazy("department contact revoked"),
}

KEYS = {
    "adjustment": gettext_lazy("adjustment"),
    "appeal": gettext_lazy("appeal"),
    "attachment": gettext_lazy("attachment (SHA-256)"),
    "asked_by": gettext_lazy("asked by"),
    "ballots": gettext_lazy("ballots"),
    "batch": gettext_lazy("batch"),
    "change": gettext_lazy("change"),
    "component": gettext_lazy("component"),
    "decision": gettext_lazy("decision"),
    "department": gettext_lazy("department"),
    "digest": gettext_lazy("digest"),
    "early_reason": gettext_lazy("reason to end the notice early"),
    "entry": gettext_lazy("paper entry"),
    "file": gettext_lazy("file"),
    "from": gettext_lazy("from"),
    "idempotency_records": gettext_lazy("resend records"),
    "job": gettext_lazy("job"),
    "object": gettext_lazy("object"),
    "of": gettext_lazy("of"),
    "points": gettext_lazy("points"),
    "presentation": gettext_lazy("presentation"),
    "presentations": gettext_lazy("presentations"),
    "previous": gettext_lazy("previous cycle"),
    "reason": gettext_lazy("reason"),
    "receipt": gettext_lazy("receipt"),
    "rehearsal": gettext_lazy("rehearsal"),
    "rewritten": gettext_lazy("rewritten"),
    "role": gettext_lazy("rater role"),
    "run": gettext_lazy("run"),
    "scores": gettext_lazy("scores"),
    "seat": gettext_lazy("seat"),
    "seats": gettext_lazy("seats"),
    "seconds": gettext_lazy("seconds"),
    "snapshot": gettext_lazy("result snapshot"),
    "states": gettext_lazy("states"),
    "title": gettext_lazy("title"),
    "until": gettext_lazy("until"),
    "user": gettext_lazy("user"),
    "what": gettext_lazy("what"),
    "kind": gettext_lazy("kind"),
    "count": gettext_lazy("count"),
}

VALUES = {
    "upheld": gettext_lazy("upheld"),
    "rejected": gettext_lazy("rejected"),
    "open": gettext_lazy("open"),
    "closed": gettext_lazy("closed"),
    "pending": gettext_lazy("pending"),
    True: gettext_lazy("yes"),
    False: gettext_lazy("no"),
}


def action_words(action: str) -> str:
    words = ACTIONS.get(action)
    return str(words) if words is not None else action


def _value(key: str, value, names: dict[str, dict[str, str]]) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool) or (isinstance(value, str) and value in VALUES):
        return str(VALUES.get(value, value))
    if isinstance(value, dict):
        return "，".join(f"{_key(k)}：{_value(k, v, names)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "、".join(_value(key, v, names) for v in value)
    text = str(value)
    if isinstance(value, str) and len(text) >= 19 and text[4:5] == "-" and text[10:11] == "T":
        from django.utils import timezone
        from django.utils.dateparse import parse_datetime

        moment = parse_datetime(text)
        if moment is not None:  # an ISO moment (the notice's end) as people write it
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else text
    for kind in ("department", "role", "component"):
        if key.startswith(kind) and text in names.get(kind, {}):
            return names[kind][text]
    if key in ("digest", "attachment") and len(text) > 16:
        return text[:16] + "…"
    return text


def _key(key: str) -> str:
    words = KEYS.get(key)
    return str(words) if words is not None else key


def details_words(details, names: dict[str, dict[str, str]]) -> str:
    """The details of an entry as Chinese words: "部门：区委办公室；理由：……"."""
    if not details:
        return ""
    if not isinstance(details, dict):
        return _value("", details, names)
    return _("；").join(f"{_key(k)}：{_value(k, v, names)}" for k, v in details.items())


def meeting_names(meeting) -> dict[str, dict[str, str]]:
    """Codes to names for the meeting's departments, roles and components."""
    from meetings.models import Component, Presentation

    return {
        "department": dict(
            Presentation.objects.filter(meeting=meeting).values_list("department__code", "department__name")
        ),
        "role": dict(meeting.scheme.roles.values_list("code", "name")),
        "component": dict(Component.objects.filter(meeting=meeting).values_list("code", "name")),
    }
