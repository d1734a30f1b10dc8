"""A department's feedback pages (结果反馈): its contact reads and appeals here; organizers and auditors read
every department's, and print them all."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from meetings.api import client_ip
from meetings.permissions import meeting_for

from . import publicity
from .models import Appeal, ResultSnapshot
from .views.console import _act


@login_required
def feedback_page(request: HttpRequest, meeting_id: int, department: str) -> HttpResponse:
    """A department's feedback, for its contact (who lands here, and appeals from here during the notice),
    organizers and auditors."""
    from appraisal.exceptions import NotFound, PermissionRefused

    from .api_publicity import feedback_for
    from .feedback import contact_of

    try:
        data = feedback_for(request.user, meeting_id, department)
    except (NotFound, PermissionRefused) as exc:
        return render(request, "reports/public_none.html", {"message": exc.message}, status=exc.status_code)
    contact = contact_of(request.user, meeting_id)
    if request.method == "POST" and contact is not None:
        from .attachments import refuse_oversized_body

        def appeal():
            refuse_oversized_body(request)
            publicity.appeal_submit(
                meeting=contact.meeting,
                department_code=department,
                reason=request.POST.get("reason", ""),
                actor=request.user,
                ip=client_ip(request),
                attachment=request.FILES.get("attachment"),
            )

        _act(request, appeal, _("Your appeal is sent. The organizing department will decide it with a reason."))
        return redirect(reverse("feedback-page", args=[meeting_id, department]))
    for role in data["roles"].values():
        if role["distribution"]:
            peak = max(b["ballots"] for b in role["distribution"]) or 1
            for i, b in enumerate(role["distribution"]):
                b["height"] = round(54 * b["ballots"] / peak, 1)  # room above the tallest bar for its count
                b["y"] = round(70 - b["height"], 1)
                b["x"] = 10 + i * 40
    snapshot = ResultSnapshot.objects.get(pk=data["snapshot"])
    return render(
        request,
        "reports/feedback.html",
        {
            "feedback": data,
            "meeting_id": meeting_id,
            "contact": contact,
            "snapshot": snapshot,
            "appeals": Appeal.objects.filter(meeting_id=meeting_id, department__code=department).order_by("created_at"),
            "can_appeal": contact is not None and publicity.appeals_taken(snapshot),
        },
    )


@login_required
def feedback_pdf(request: HttpRequest, meeting_id: int, department: str) -> HttpResponse:
    """The printable feedback of one department, to whoever may read its page."""
    from appraisal.exceptions import NotFound, PermissionRefused

    from .api_publicity import feedback_for
    from .feedback_pdf import feedback_pdf as render_pdf

    try:
        data = feedback_for(request.user, meeting_id, department)
    except (NotFound, PermissionRefused) as exc:
        return render(request, "reports/public_none.html", {"message": exc.message}, status=exc.status_code)
    snapshot = ResultSnapshot.objects.select_related("meeting").get(pk=data["snapshot"])
    response = HttpResponse(render_pdf(snapshot, [data]), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="feedback-{meeting_id}-{department}.pdf"'
    return response


@login_required
def feedback_pdf_all(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """Every department's feedback in one PDF, a page or more each, for organizers and auditors."""
    from django.http import Http404

    from .feedback import departments_feedback, feedback_snapshot
    from .feedback_pdf import feedback_pdf as render_pdf

    meeting = meeting_for(request.user, meeting_id, write=False)
    snapshot = feedback_snapshot(meeting, contact=False)
    if snapshot is None:
        raise Http404(_("No result for this meeting yet."))
    response = HttpResponse(render_pdf(snapshot, departments_feedback(snapshot)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="feedback-{meeting_id}-all.pdf"'
    return response
