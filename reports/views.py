"""Pages of the organizing department (console, review, audit), the projector, and the public.

Organizer pages need a login and the meeting's object permission: organizers
act, auditors read. Every change goes through the same services as the API.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appraisal.converters import form_id
from appraisal.exceptions import DomainError
from appraisal.numbers import decimal_from_input, plain
from meetings.api import client_ip
from meetings.models import Meeting, Presentation
from meetings.permissions import can_organize, meeting_for
from meetings.selectors import meetings_visible_to
from meetings.services import COUNTDOWN_MAX_SECONDS, countdown_set
from voting.models import Ballot
from voting.selectors import meeting_progress
from voting.services import ballot_void, voting_set

from . import publicity, selectors, services
from .analysis_tables import (
    DIAGNOSTIC_EXPLANATIONS,
    EXPLANATIONS,
    diagnostics_view,
    movement,
    stability_chart,
    stability_rows,
)
from .exports import flag_words
from .models import Adjustment, AggregationRun, Appeal, ResultSnapshot, Veto
from .templatetags.scores import score

# The countdown's minutes as the console's number field sends them (ASCII digits, up to two decimals).
MINUTES = re.compile(r"[0-9]{1,4}(?:\.[0-9]{1,2})?")


def _dashboard(meeting: Meeting) -> str:
    return reverse("console-meeting", args=[meeting.pk])


def _act(request: HttpRequest, action, success: str) -> None:
    """Run a service for a console form; its refusal becomes a message, never a 500."""
    try:
        action()
    except DomainError as exc:
        details = "; ".join(e["message"] for e in exc.errors)
        messages.error(request, f"{exc.message} {details}".strip())
    else:
        messages.success(request, success)


@login_required
def console_index(request: HttpRequest) -> HttpResponse:
    meetings = meetings_visible_to(user=request.user).select_related("rehearsal_of").order_by("-date", "-id")
    if not meetings.exists():
        # A department's contact reaches only its department's feedback: it lands there.
        from .models import DepartmentContact

        contact = (
            DepartmentContact.objects.filter(user=request.user)
            .select_related("department")
            .order_by("-meeting_id")
            .first()
        )
        if contact is not None:
            return redirect(reverse("feedback-page", args=[contact.meeting_id, contact.department.code]))
    return render(request, "reports/console_index.html", {"meetings": meetings})


@login_required
def console_meeting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=False)
    progress = meeting_progress(meeting)
    run = AggregationRun.objects.filter(meeting=meeting).order_by("-requested_at").first()
    roles = list(meeting.scheme.roles.order_by("order", "code").values_list("code", "name"))
    return render(
        request,
        "reports/console_meeting.html",
        {
            "meeting": meeting,
            "progress": progress,
            "roles": roles,
            "can_organize": can_organize(request.user, meeting),
            "run": run,
            "snapshot": selectors.snapshot_latest(meeting),
            "open_count": sum(1 for p in progress["presentations"] if p["state"] == Presentation.State.OPEN),
        },
    )


@login_required
@require_POST
def console_voting(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=True)
    target = request.POST.get("presentation", "all")
    presentation_id = None if target == "all" else form_id(target)
    if target != "all" and presentation_id is None:
        # Never read a garbled id as "all": that would open or close every presentation.
        messages.error(request, _("There is no such presentation in this meeting."))
        return redirect(_dashboard(meeting))
    _act(
        request,
        lambda: voting_set(
            meeting=meeting,
            presentation_id=presentation_id,
            action=request.POST.get("action", ""),
            actor=request.user,
            ip=client_ip(request),
        ),
        _("Voting updated."),
    )
    return redirect(_dashboard(meeting))


@login_required
@require_POST
def console_countdown(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=True)
    minutes = request.POST.get("minutes", "").strip()
    if minutes and not MINUTES.fullmatch(minutes):
        messages.error(request, _("Minutes must be a number such as 5 or 2.5."))
        return redirect(_dashboard(meeting))
    seconds = int(Decimal(minutes) * 60) if minutes else None
    # The console's field offers up to 60 minutes; a longer entry is taken as the longest countdown.
    countdown_set(
        meeting=meeting,
        seconds=min(seconds, COUNTDOWN_MAX_SECONDS) if seconds else None,
        actor=request.user,
        ip=client_ip(request),
    )
    messages.success(request, _("Countdown started.") if seconds else _("Countdown cleared."))
    return redirect(_dashboard(meeting))


@login_required
@require_POST
def console_aggregate(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=True)
    run = services.aggregation_request(meeting=meeting, actor=request.user, ip=client_ip(request))
    messages.info(request, _("Aggregation started."))
    return redirect(_dashboard(meeting) + f"?run={run.pk}")


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
        context.update(
            roles=role_columns(snapshot),
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
                    "notes": flag_words(row["flags"], row.get("missing_roles")),
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
    for c in cycles:
        row = c["row"]
        rows.append(
            {
                **c,
                "flags_words": flag_words(row["flags"], row.get("missing_roles")) if row else "",
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


@login_required
@require_POST
def console_void(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = meeting_for(request.user, meeting_id, write=True)
    _act(
        request,
        lambda: ballot_void(
            meeting=meeting,
            receipt=request.POST.get("receipt", ""),
            reason=request.POST.get("reason", ""),
            actor=request.user,
            ip=client_ip(request),
        ),
        _("The ballot is void. Run the aggregation again."),
    )
    return redirect(reverse("console-review", args=[meeting.pk]))


@login_required
@require_POST
def console_adjust(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Adjustments and vetoes: add or withdraw, each with its reason."""
    meeting = meeting_for(request.user, meeting_id, write=True)
    action = request.POST.get("action")
    department = request.POST.get("department", "")
    reason = request.POST.get("reason", "").strip()
    ip = client_ip(request)
    if action in ("adjust", "veto") and not reason:
        messages.error(request, _("Give the reason."))
    elif action == "adjust":
        points = decimal_from_input(request.POST.get("points", ""))
        if points is None:
            messages.error(request, _("Points must be a non-zero number such as -2 or 1.5."))
        else:
            _act(
                request,
                lambda: services.adjustment_add(
                    meeting=meeting, department_code=department, points=points, reason=reason, actor=request.user, ip=ip
                ),
                _("Adjustment recorded. Run the aggregation again."),
            )
    elif action == "veto":
        _act(
            request,
            lambda: services.veto_set(
                meeting=meeting, department_code=department, reason=reason, actor=request.user, ip=ip
            ),
            _("Veto recorded. Run the aggregation again."),
        )
    elif action == "withdraw-adjustment":
        adjustment = get_object_or_404(
            Adjustment,
            meeting=meeting,
            pk=form_id(request.POST.get("adjustment")) or 0,
        )
        services.adjustment_withdraw(adjustment=adjustment, actor=request.user, ip=ip)
        messages.success(request, _("Adjustment withdrawn. Run the aggregation again."))
    elif action == "withdraw-veto":
        _act(
            request,
            lambda: services.veto_withdraw(meeting=meeting, department_code=department, actor=request.user, ip=ip),
            _("Veto withdrawn. Run the aggregation again."),
        )
    return redirect(reverse("console-review", args=[meeting.pk]))


@login_required
def console_audit(request: HttpRequest, meeting_id: int) -> HttpResponse:
    from .audit_words import action_words, details_words, meeting_names

    meeting = meeting_for(request.user, meeting_id, write=False)
    names = meeting_names(meeting)
    entries = [
        {"entry": e, "action": action_words(e.action), "details": details_words(e.details, names)}
        for e in meeting.audit_entries.order_by("-seq")
    ]
    return render(
        request,
        "reports/console_audit.html",
        {"meeting": meeting, "entries": entries, "problems": selectors.audit_problems(meeting)},
    )


# --- the projector -----------------------------------------------------------------------------------


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


@login_required
@require_POST
def rehearsal_create(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """A rehearsal with simulated ballots, aggregated, built on a worker: the organizers check forms,
    weights and rules before the day. Needs the right to organize this meeting and to create meetings."""
    from django.core.exceptions import PermissionDenied

    meeting = meeting_for(request.user, meeting_id, write=True)
    if not request.user.has_perm("meetings.add_meeting"):
        raise PermissionDenied(_("You may not create meetings."))
    try:
        job = services.rehearsal_request(source=meeting, actor=request.user, ip=client_ip(request))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_dashboard(meeting))
    return redirect(reverse("rehearsal-status", args=[meeting.pk, job.pk]))


@login_required
def rehearsal_status(request: HttpRequest, meeting_id: int, job_id: int) -> HttpResponse:
    """Where a rehearsal being built stands; the page refreshes itself until it is done."""
    from celery.result import AsyncResult

    from .models import RehearsalJob

    meeting = meeting_for(request.user, meeting_id, write=False)
    job = get_object_or_404(RehearsalJob, pk=job_id, source=meeting)
    progress = 100 if job.state == RehearsalJob.State.SUCCEEDED else 0
    if job.state == RehearsalJob.State.RUNNING and job.task_id:
        try:
            meta = AsyncResult(job.task_id).info
        except Exception:  # the result backend is down: the page still answers, without a percentage
            meta = None
        if isinstance(meta, dict):
            progress = int(meta.get("progress", 0))
    done = job.state in (RehearsalJob.State.SUCCEEDED, RehearsalJob.State.FAILED)
    return render(
        request,
        "reports/rehearsal_status.html",
        {"meeting": meeting, "job": job, "progress": progress, "done": done},
    )


@login_required
@require_http_methods(["GET", "POST"])
def console_paper(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Paper ballots typed in twice by two staff members (blind), and survey sheets of a role."""
    from meetings.models import Rater
    from meetings.panel_sheets import SheetInvalid
    from voting.models import PaperEntry
    from voting.selectors import role_form, survey_batches
    from voting.services import paper_entry_resolve, paper_entry_submit, survey_import, survey_withdraw
    from voting.views import criteria_rows

    meeting = meeting_for(request.user, meeting_id, write=True)
    ip = client_ip(request)
    problems = []
    if request.method == "POST":
        action = request.POST.get("action")
        scores = {
            k: v
            for k, v in request.POST.items()
            if k not in {"csrfmiddlewaretoken", "action", "seat", "presentation", "entry", "role", "batch", "reason"}
        }
        if action == "enter":
            _act(
                request,
                lambda: paper_entry_submit(
                    meeting=meeting, seat_no=form_id(request.POST.get("seat")) or 0, presentation_id=form_id(request.POST.get("presentation")) or 0,
                    scores=scores, actor=request.user, ip=ip,
                ),
                _("Entry recorded."),
            )  # fmt: skip
        elif action == "resolve":
            _act(
                request,
                lambda: paper_entry_resolve(
                    meeting=meeting,
                    entry_id=form_id(request.POST.get("entry")) or 0,
                    scores=scores,
                    actor=request.user,
                    ip=ip,
                ),
                _("Resolved: the ballot counts."),
            )
        elif action == "withdraw":
            _act(
                request,
                lambda: survey_withdraw(
                    meeting=meeting,
                    batch_id=form_id(request.POST.get("batch")) or 0,
                    reason=request.POST.get("reason", ""),
                    actor=request.user,
                    ip=ip,
                ),
                _("The survey sheet is withdrawn: its ballots no longer count."),
            )
        elif action == "survey" and request.FILES.get("file"):
            upload = request.FILES["file"]
            try:
                count = survey_import(
                    meeting=meeting,
                    role_code=request.POST.get("role", ""),
                    fileobj=upload,
                    filename=upload.name,
                    actor=request.user,
                    ip=ip,
                )
            except SheetInvalid as exc:
                problems = exc.problems
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("%(n)d survey ballots imported.") % {"n": count})
        if not problems:
            return redirect(reverse("console-paper", args=[meeting.pk]))
    form_rows, chosen = None, {}
    seat, presentation_id, resolve_id = (
        form_id(request.GET.get("seat")),
        form_id(request.GET.get("presentation")),
        form_id(request.GET.get("resolve")),
    )
    if resolve_id is not None:
        entry = get_object_or_404(
            PaperEntry, pk=resolve_id, presentation__meeting=meeting, state=PaperEntry.State.MISMATCH
        )
        chosen = {"entry": entry}
        form_rows = criteria_rows(role_form(entry.role))
    elif seat is not None and presentation_id is not None:
        rater = Rater.objects.select_related("role").filter(meeting=meeting, seat_no=seat).first()
        presentation = (
            Presentation.objects.select_related("department").filter(meeting=meeting, pk=presentation_id).first()
        )
        if rater is None or presentation is None:
            messages.error(request, _("No such seat or presentation in this meeting."))
        else:
            chosen = {"rater": rater, "presentation": presentation}
            form_rows = criteria_rows(role_form(rater.role))
    return render(
        request,
        "reports/console_paper.html",
        {
            "meeting": meeting,
            "presentations": Presentation.objects.filter(meeting=meeting)
            .select_related("department")
            .order_by("order"),
            "roles": meeting.scheme.roles.order_by("order", "code"),
            "entries": PaperEntry.objects.filter(presentation__meeting=meeting)
            .select_related("presentation__department", "role", "first_by", "second_by")
            .order_by("-updated_at")[:200],
            "rows": form_rows,
            "chosen": chosen,
            "problems": problems,
            "batches": survey_batches(meeting),
        },
    )
