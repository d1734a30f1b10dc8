"""Reviewing a result before it is published: the ranking with its analysis, a department's history, and
publishing.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appraisal.converters import form_id
from appraisal.exceptions import DomainError
from meetings.api import client_ip
from meetings.models import Presentation
from meetings.permissions import can_organize, meeting_for
from voting.models import Ballot

from .. import publicity, selectors, services
from ..analysis_tables import (
    DIAGNOSTIC_EXPLANATIONS,
    EXPLANATIONS,
    diagnostics_view,
    movement,
    stability_chart,
    stability_rows,
)
from ..exports import flag_words
from ..models import Adjustment, Appeal, ResultSnapshot, Veto
from .console import _act


def category_names(snapshot: ResultSnapshot) -> dict[str, str]:
    return snapshot.config.get("categories", {})


def role_columns(snapshot: ResultSnapshot) -> list[dict]:
    """The snapshot's rater roles in order, each with the name people read."""
    from appraisal.models import RaterRole

    names = dict(RaterRole.objects.filter(scheme_id=snapshot.meeting.scheme_id).values_list("code", "name"))
    return [{**r, "name": names.get(r["code"], r["code"])} for r in snapshot.config["roles"]]


def chart_rows(snapshot: ResultSnapshot) -> list[dict]:
    """Bars for the ranking chart, scaled to the meeting's full mark."""
    full = Decimal(snapshot.config["full_mark"])
    by_category = bool(snapshot.config.get("rank_within_category"))
    names = category_names(snapshot)
    bars, previous = [], None
    for row in snapshot.rows:
        if row["final"] is None:
            continue
        bars.append(
            {
                "row": row,
                "width": (Decimal(row["final"]) / full * 100).quantize(Decimal("0.01")) if row["final"] else Decimal(0),
                "kind": "reward" if row["reward"] else "admonition" if row["admonition"] else "",
                # Ranks restart in each category when the meeting ranks within categories: each gets a heading.
                "heading": names.get(row["category"], row["category"])
                if by_category and row["category"] != previous
                else None,
            }
        )
        previous = row["category"]
    return bars


@login_required
def console_review(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=False)
    snapshot = selectors.snapshot_latest(meeting)
    context = {
        "meeting": meeting,
        "snapshot": snapshot,
        "can_organize": can_organize(request.user, meeting),
        "adjustments": Adjustment.objects.filter(meeting=meeting)
        .select_related("department", "created_by")
        .order_by("created_at"),
        "vetoes": Veto.objects.filter(meeting=meeting)
        .select_related("department", "created_by")
        .order_by("created_at"),
        "voided": Ballot.objects.filter(presentation__meeting=meeting, state=Ballot.State.VOID)
        .select_related("presentation__department", "role")
        .order_by("-voided_at"),
        "departments": Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"),
        "appeals": Appeal.objects.filter(meeting=meeting).select_related("department", "created_by", "decided_by"),
    }
    if snapshot is not None:
        roles = role_columns(snapshot)
        role_names = {role["code"]: role["name"] for role in roles}
        context.update(
            roles=roles,
            stale=services.snapshot_stale_reasons(snapshot),
            chart=chart_rows(snapshot),
            has_history=any("history" in row for row in snapshot.rows),
            stability=stability_rows(snapshot),
            stability_chart=stability_chart(snapshot),
            diagnostics=diagnostics_view(snapshot),
            explanations=EXPLANATIONS,
            diagnostic_explanations=DIAGNOSTIC_EXPLANATIONS,
            rows=[
                {
                    **row,
                    "category_name": category_names(snapshot).get(row["category"], row["category"]),
                    "notes": flag_words(row["flags"], row.get("missing_roles"), role_names),
                    "movement": movement(row, previous="previous" in snapshot.config),
                }
                for row in snapshot.rows
            ],
        )
    return render(request, "reports/console_review.html", context)


@login_required
def console_history(request: HttpRequest, meeting_id: int, department: str) -> HttpResponse:
    """A department's rank, final and flags over the cycles (SCORING.md 12), with a small chart of its rank."""
    from django.http import Http404

    meeting = meeting_for(request.user, meeting_id, write=False)
    presentation = (
        Presentation.objects.select_related("department").filter(meeting=meeting, department__code=department).first()
    )
    if presentation is None:
        raise Http404
    cycles = selectors.department_history(meeting, department)
    ranked = [c for c in cycles if c["row"] and c["row"]["rank"] is not None]
    chart = None
    if ranked:
        worst = max(c["row"]["rank"] for c in ranked)
        step = 560 / max(1, len(cycles) - 1)
        points = []
        for i, c in enumerate(cycles):
            if c["row"] and c["row"]["rank"] is not None:
                y = 20 + (c["row"]["rank"] - 1) / max(1, worst - 1) * 140
                points.append(
                    {"x": round(40 + i * step, 1), "y": round(y, 1), "rank": c["row"]["rank"], "year": c["year"]}
                )
        chart = {"points": points, "polyline": " ".join(f"{p['x']},{p['y']}" for p in points), "worst": worst}
    rows = []
    from appraisal.models import RaterRole

    role_names = dict(RaterRole.objects.filter(scheme_id=meeting.scheme_id).values_list("code", "name"))
    for c in cycles:
        row = c["row"]
        rows.append(
            {
                **c,
                "flags_words": flag_words(row["flags"], row.get("missing_roles"), role_names) if row else "",
                "movement": movement(row, previous=c["meeting"].previous_id is not None) if row else None,
            }
        )
    return render(
        request,
        "reports/console_history.html",
        {"meeting": meeting, "department": presentation.department, "cycles": rows, "chart": chart},
    )


@login_required
@require_POST
def console_publish(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=True)
    if request.POST.get("action") == "unpublish":
        services.snapshot_unpublish(meeting=meeting, actor=request.user, ip=client_ip(request))
        messages.success(request, _("The result is no longer public."))
    elif request.POST.get("action") == "notice":
        from django.utils.dateparse import parse_datetime

        until = parse_datetime(request.POST.get("until", "") or "")
        if until is not None and timezone.is_naive(until):
            until = timezone.make_aware(until)  # the organizer's datetime-local, in the site's time zone
        _act(
            request,
            lambda: publicity.publish(
                meeting=meeting,
                stage="publicity",
                until=until,
                early_reason=None,
                actor=request.user,
                ip=client_ip(request),
            ),
            _("The result is under public notice."),
        )
    elif request.POST.get("action") == "decide":
        _act(
            request,
            lambda: publicity.appeal_decide(
                meeting=meeting,
                appeal_id=form_id(request.POST.get("appeal")) or 0,
                decision=request.POST.get("decision", ""),
                reason=request.POST.get("reason", ""),
                actor=request.user,
                ip=client_ip(request),
            ),
            _("The appeal is decided.")
            + (
                " "
                + _(
                    "Upheld: now take the action it calls for (a void, an adjustment or a component correction), "
                    "run the aggregation again and publish the new result for notice."
                )
                if request.POST.get("decision") == "upheld"
                else ""
            ),
        )
    else:
        try:
            snapshot = publicity.publish(
                meeting=meeting,
                stage="final",
                until=None,
                early_reason=request.POST.get("early_reason"),
                actor=request.user,
                ip=client_ip(request),
            )
        except DomainError as exc:
            details = "; ".join(e["message"] for e in exc.errors)
            messages.error(request, f"{exc.message} {details}".strip())
        else:
            if snapshot.stage == "final":
                messages.success(request, _("The result is published."))
            else:  # four eyes: asked, waiting for another organizer
                messages.info(request, _("Asked for the final publication: another organizer confirms it."))
    return redirect(reverse("console-review", args=[meeting.pk]))
