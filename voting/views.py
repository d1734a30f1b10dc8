"""The rater's phone pages: the card's link is the credential, no login.

Server-rendered and complete without JavaScript; rater.js only adds live
updates, thumb controls, the running total and resending after a dropped
connection. The HTML form and the API both submit through
services.ballot_submit.
"""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from appraisal.converters import form_id
from appraisal.exceptions import DomainError, error_body
from appraisal.numbers import decimal_from_input, plain
from meetings.models import Meeting, Presentation, Rater

from . import selectors, services
from .authentication import RaterThrottled, rater_lookup
from .throttle import WINDOW_SECONDS

FORM_FIELDS = {"csrfmiddlewaretoken", "idempotency_key", "next"}
# 字号 for elderly raters (适老化): 标准, 大, 特大.
TEXT_SIZES = [("m", gettext_lazy("standard")), ("l", gettext_lazy("large")), ("xl", gettext_lazy("extra large"))]


def _private(response: HttpResponse) -> HttpResponse:
    # The URL carries the seat's token and the page its ballot: keep both out of caches and referrers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _rater(request: HttpRequest, token: str) -> tuple[Rater | None, HttpResponse | None]:
    try:
        rater = rater_lookup(token, request.META.get("REMOTE_ADDR", ""))
    except RaterThrottled:
        response = render(request, "voting/invalid_link.html", {"throttled": True}, status=429)
        response["Retry-After"] = str(WINDOW_SECONDS)
        return None, _private(response)
    if rater is None:
        return None, _private(render(request, "voting/invalid_link.html", {"throttled": False}, status=401))
    return rater, None


def criteria_rows(
    form, *, saved: dict | None = None, posted: dict | None = None, view: selectors.RaterView | None = None
) -> list[dict]:
    """A form's criteria for the voting/_criteria.html partial, with the value to show: what was just
    posted, else the saved ballot's. With a rater's view, the quota grade is offered only where allowed."""
    saved = saved or {}
    meeting = view.rater.meeting if view is not None else None
    rows = []
    for criterion in form:
        value = (posted or {}).get(criterion.code, saved.get(criterion.code, ""))
        if criterion.kind == "numeric" and value not in ("", None):
            # A value that is no number is shown back as typed, beside its error message.
            number = decimal_from_input(value)
            if number is not None:
                value = plain(number)
        quota = (
            meeting is not None and criterion.kind == "grade" and criterion.code == meeting.excellent_quota_criterion
        )
        choices = [
            {
                "code": code,
                "label": criterion.grade_labels[code],
                "points": plain(points),
                # Out of quota: the grade is offered only where it is already given.
                "disabled": quota
                and code == meeting.excellent_quota_grade
                and view.quota_remaining == 0
                and saved.get(criterion.code) != code,
            }
            for code, (_id, points) in criterion.grades.items()
        ]
        rows.append(
            {
                "criterion": criterion,
                "value": value,
                "max": plain(criterion.max_value) if criterion.max_value is not None else None,
                "step": plain(criterion.step) if criterion.step is not None else None,
                "choices": choices,
                "quota": quota and view.quota_limit is not None,
            }
        )
    return rows


def _context(rater: Rater, view: selectors.RaterView, token: str, **extra) -> dict:
    meeting: Meeting = rater.meeting
    return {
        "rater": rater,
        "meeting": meeting,
        "view": view,
        "token": token,
        "live_url": reverse("live", args=[meeting.pk]),
        "home_url": reverse("rater-home", args=[token]),
        "api_url": reverse("rater"),
        "text_sizes": TEXT_SIZES,
        # What the page was rendered with, so that a change before the first poll answers is not missed.
        "open_ids": ",".join(str(p.id) for p in view.current),
        "i18n": {
            "sending": _("Sending…"),
            "offline": _(
                "No connection: your scores are kept on this phone and will be sent when the connection returns."
            ),
            "saved": _("Your scores are saved. Receipt code:"),
            "refused": _("Your scores were not accepted:"),
            "nowOpen": _("Now open:"),
            "go": _("Score now"),
            "closedHere": _("Voting for this department has just closed."),
        },
        **extra,
    }


@require_http_methods(["GET"])
def rater_home(request: HttpRequest, token: str) -> HttpResponse:
    rater, refusal = _rater(request, token)
    if refusal:
        return refusal
    view = selectors.rater_view(rater)
    return _private(render(request, "voting/home.html", _context(rater, view, token)))


def _presentation(view: selectors.RaterView, presentation_id: int) -> selectors.RaterPresentation | None:
    return next((p for p in view.presentations if p.id == presentation_id), None)


@require_http_methods(["GET", "POST"])
def rater_form(request: HttpRequest, token: str, presentation_id: int) -> HttpResponse:
    rater, refusal = _rater(request, token)
    if refusal:
        return refusal
    view = selectors.rater_view(rater)
    presentation = _presentation(view, presentation_id)
    if presentation is None:
        return _private(
            render(
                request,
                "voting/message.html",
                _context(rater, view, token, message=_("There is no such presentation in your meeting.")),
                status=404,
            )
        )
    errors: dict[str, str] = {}
    problem = None
    posted = None
    status = 200
    if request.method == "POST":
        posted = {k: v for k, v in request.POST.items() if k not in FORM_FIELDS}
        try:
            services.ballot_submit(
                rater=rater,
                presentation_id=presentation.id,
                scores=posted,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except DomainError as exc:
            status = exc.status_code
            problem = exc.message
            errors = {e["path"].removeprefix("scores."): e["message"] for e in exc.errors}
        else:
            if request.POST.get("next") == "sheet":
                return redirect(reverse("rater-sheet", args=[token]) + f"?saved={presentation.id}#p{presentation.id}")
            return redirect(reverse("rater-form", args=[token, presentation.id]) + "?saved=1")
        view = selectors.rater_view(rater)
        presentation = _presentation(view, presentation_id)
    context = _context(
        rater,
        view,
        token,
        presentation=presentation,
        rows=criteria_rows(view.form, saved=(presentation.ballot or {}).get("scores"), posted=posted, view=view),
        errors=errors,
        problem=problem,
        saved=request.GET.get("saved") == "1" and presentation.ballot is not None,
        idempotency_key=uuid.uuid4().hex,
        full_mark=plain(rater.meeting.full_mark),
    )
    return _private(render(request, "voting/form.html", context, status=status))


@require_http_methods(["GET"])
def rater_sheet(request: HttpRequest, token: str) -> HttpResponse:
    """whole_meeting mode: one page with every department's form, saved one department at a time."""
    rater, refusal = _rater(request, token)
    if refusal:
        return refusal
    view = selectors.rater_view(rater)
    entries = [
        {
            "presentation": p,
            "rows": criteria_rows(view.form, saved=(p.ballot or {}).get("scores"), view=view),
            "idempotency_key": uuid.uuid4().hex,
            "prefix": f"p{p.id}-",
        }
        for p in view.presentations
    ]
    saved = request.GET.get("saved", "")
    context = _context(
        rater,
        view,
        token,
        entries=entries,
        saved_id=form_id(saved),
        full_mark=plain(rater.meeting.full_mark),
        open_state=Presentation.State.OPEN,
        current_id=view.current[0].id if view.current else None,
    )
    return _private(render(request, "voting/sheet.html", context))


@require_http_methods(["GET"])
def rater_text_size(request: HttpRequest, token: str, size: str) -> HttpResponse:
    """The 字号 switch (标准 / 大 / 特大): a plain link, no script; remembered on the phone for a year, and back
    to the page it was chosen on. The card's own page checks the token."""
    back = request.GET.get("back", "")
    target = reverse("rater-home", args=[token])
    if back == "sheet":
        target = reverse("rater-sheet", args=[token])
    elif form_id(back) is not None:
        target = reverse("rater-form", args=[token, form_id(back)])
    response = redirect(target)
    if size in dict(TEXT_SIZES):
        response.set_cookie("kp_text", size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return _private(response)


def _may_follow(request: HttpRequest, meeting_id: int) -> bool:
    """A rater of the meeting (its card in `Authorization: Rater TOKEN`), or an organizer or auditor."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Rater "):
        try:
            return selectors.token_meeting(header[6:].strip(), request.META.get("REMOTE_ADDR", "")) == meeting_id
        except RaterThrottled:
            return False
    if request.user.is_authenticated:
        from meetings.permissions import can_read

        meeting = Meeting.objects.filter(pk=meeting_id).first()
        return meeting is not None and can_read(request.user, meeting)
    return False


# Read-only: exempt from CSRF so that any other method gets its 405 rather than a CSRF 403 page.
@csrf_exempt
@require_http_methods(["GET", "HEAD"])
def live_state(request: HttpRequest, meeting_id: int) -> HttpResponse:
    """The tiny state every phone and the projector poll; 304 while nothing changed.

    A plain view, not DRF: two thousand phones poll it every few seconds.
    """
    state = selectors.meeting_live_state(meeting_id)
    if state is None or not (selectors.meeting_public(meeting_id) or _may_follow(request, meeting_id)):
        # A meeting that is not public reveals nothing, not even that it exists, to anyone but its raters,
        # organizers and auditors.
        return JsonResponse(error_body(_("No such meeting."), "not_found"), status=404)
    etag = f'"{state["etag"]}"'
    response = HttpResponseNotModified() if request.headers.get("If-None-Match") == etag else JsonResponse(state)
    response["ETag"] = etag
    response["Cache-Control"] = "no-cache"
    return response
