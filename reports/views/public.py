"""The projector in the hall, the home page and the published results."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from appraisal.numbers import plain
from meetings.models import Meeting, Presentation
from meetings.permissions import meeting_for
from voting.selectors import meeting_progress

from .. import selectors
from ..analysis_tables import (
    movement,
)
from ..models import ResultSnapshot
from ..templatetags.scores import score
from .review import category_names, chart_rows, role_columns


@login_required
def projector(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=False)
    return render(
        request,
        "reports/projector.html",
        {
            "meeting": meeting,
            "state": projector_state(meeting),
            "i18n": {
                "progress": _("%(closed)s of %(total)s departments scored"),
                "notice": _("Under public notice until %(until)s."),
                "page": _("page %(page)s of %(pages)s"),
            },
        },
    )


@login_required
@require_http_methods(["GET"])
def projector_json(request: HttpRequest, meeting_id: int) -> JsonResponse:
    meeting = meeting_for(request.user, meeting_id, write=False)
    response = JsonResponse(projector_state(meeting))
    response["Cache-Control"] = "no-store"
    return response


def projector_state(meeting: Meeting) -> dict:
    """What the hall sees: who is presenting, the countdown, turnout per role; the ranking once published."""
    progress = meeting_progress(meeting)
    current = next((p for p in progress["presentations"] if p["state"] == Presentation.State.OPEN), None)
    published = selectors.snapshot_published(meeting) if not meeting.is_rehearsal else None
    remaining = None
    if meeting.countdown_ends_at:
        remaining = max(0, int((meeting.countdown_ends_at - timezone.now()).total_seconds()))
    return {
        "title": meeting.title,
        "current": None
        if current is None
        else {
            "order": current["order"],
            "name": current["name"],
            # The hall's turnout: survey answers are no seat in the hall.
            "expected": current["expected"],
            "ballots": current["hall"],
            "roles": [
                {"name": r["name"], "expected": r["expected"], "ballots": r["hall"]}
                for r in current["roles"].values()
                if r["expected"] or r["hall"]
            ],
        },
        "closed": sum(1 for p in progress["presentations"] if p["state"] == Presentation.State.CLOSED),
        "total": len(progress["presentations"]),
        "countdown": remaining,
        # 公示中: the hall reads that the ranking is under public notice, and until when.
        "notice_until": timezone.localtime(published.publicity_until).strftime("%Y-%m-%d %H:%M")
        if published is not None and published.stage == ResultSnapshot.Stage.PUBLICITY and published.publicity_until
        else None,
        "published": None
        if published is None
        else [
            {
                "rank": r["rank"],
                "name": r["name"],
                "category": category_names(published).get(r["category"], r["category"]),
                "final": r["final"],
                "final_shown": score(r["final"]),
                "reward": r["reward"],
                "admonition": r["admonition"],
                # In words and a sign, not by colour alone: the hall may not tell red from green.
                "mark": "★ " + _("Commended")
                if r["reward"]
                else "▼ " + (_("One-vote veto") if r.get("veto") else _("Admonition"))
                if r["admonition"]
                else "",
            }
            for r in published.rows
            if r["rank"] is not None
        ],
    }


# --- the public ----------------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    published = (
        ResultSnapshot.objects.filter(published_at__isnull=False, meeting__rehearsal_of__isnull=True)
        .select_related("meeting")
        .order_by("-meeting__date")
    )
    return render(request, "home.html", {"published": published})


def public_results(request: HttpRequest, meeting_id: int) -> HttpResponse:
    snapshot = (
        ResultSnapshot.objects.filter(
            meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
        )
        .select_related("meeting")
        .first()
    )
    if snapshot is None:
        return render(request, "reports/public_none.html", status=404)
    check = None
    code = request.GET.get("receipt", "").strip()
    if code:
        check = selectors.receipt_check(meeting_id=meeting_id, receipt=code[:40])
    response = render(
        request,
        "reports/public_results.html",
        {
            "snapshot": snapshot,
            "meeting": snapshot.meeting,
            "roles": role_columns(snapshot),
            "chart": chart_rows(snapshot),
            "rows": [
                {
                    **row,
                    "category_name": category_names(snapshot).get(row["category"], row["category"]),
                    "movement": movement(row, previous="previous" in snapshot.config),
                }
                for row in snapshot.rows
            ],
            "has_history": any("history" in row for row in snapshot.rows),
            "check": check,
            "code": code,
            "full_mark": plain(Decimal(snapshot.config["full_mark"])),
        },
    )
    if not code:
        response["Cache-Control"] = "public, max-age=60"
    return response
