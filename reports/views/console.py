"""The organizer's console: the meeting's agenda and voting, the countdown, aggregation, voiding,
adjustments, the audit, rehearsals and paper ballots.

Organizer pages need a login and the meeting's object permission: organizers act, auditors read. Every
change goes through the same services as the API.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from appraisal.converters import form_id
from appraisal.exceptions import DomainError
from appraisal.numbers import decimal_from_input
from meetings.api import client_ip
from meetings.models import Meeting, Presentation
from meetings.permissions import can_organize, meeting_for
from meetings.selectors import meetings_visible_to
from meetings.services import COUNTDOWN_MAX_SECONDS, countdown_set
from voting.selectors import meeting_progress
from voting.services import ballot_void, voting_set

from .. import selectors, services
from ..models import Adjustment, AggregationRun

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
        from ..models import DepartmentContact

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
    from ..audit_words import action_words, details_words, meeting_names

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

    from ..models import RehearsalJob

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
