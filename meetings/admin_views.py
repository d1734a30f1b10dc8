"""Admin pages for rater panels: sheets in with a preview, cards out, copies and rehearsals."""

from __future__ import annotations

import datetime
import io
import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from appraisal.exceptions import DomainError

from .cards import cards_pdf
from .models import Meeting, PanelImport, Rater, SheetJob
from .panel_sheets import CONTACT_COLUMNS, DEPARTMENT_COLUMNS, PANEL_COLUMNS, SheetInvalid, rows_bytes_checked
from .services import meeting_copy, panel_import_commit, panel_import_preview, panel_kind_checked
from .sheet_reading import sheet_job_outcome, sheet_job_settle, sheet_submit


def cards_response(meeting: Meeting, issued, *, label: str) -> HttpResponse:
    response = HttpResponse(
        cards_pdf(meeting=meeting, raters=issued, base_url=settings.PUBLIC_BASE_URL), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="meeting-{meeting.pk}-{label}-cards.pdf"'
    response["Cache-Control"] = "no-store"  # it carries live tokens
    return response


def panel_summary(meeting: Meeting) -> list[dict]:
    """Seats per role beside its weight and trim; a role with too few seats to trim gets a warning."""
    seats = dict(
        Rater.objects.filter(meeting=meeting, revoked_at__isnull=True)
        .values_list("role_id")
        .annotate(n=Count("pk"))
        .values_list("role_id", "n")
    )
    rows = []
    for role in meeting.scheme.roles.order_by("order", "code"):
        n = seats.get(role.pk, 0)
        rows.append(
            {
                "role": role,
                "seats": n,
                "warning": _("no seats: the role's score will be missing unless a survey is imported")
                if n == 0
                else _("%(n)d seats cannot drop %(trim)d highest and %(trim)d lowest: nothing is trimmed")
                % {"n": n, "trim": role.trim}
                if n <= 2 * role.trim
                else "",
            }
        )
    return rows


def _guard(request, meeting: Meeting) -> None:
    if not request.user.has_perm("meetings.change_meeting"):
        raise PermissionDenied


def panel_view(request, model_admin, meeting_id: int):
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    _guard(request, meeting)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Meeting._meta,
        "meeting": meeting,
        "title": _("Rater panel of %(title)s") % {"title": meeting.title},
        "summary": panel_summary(meeting),
        "kinds": PANEL_KINDS,
    }
    if request.method == "POST" and request.POST.get("confirm"):
        try:
            pending_id = uuid.UUID(request.POST["confirm"])
        except ValueError as exc:  # a forged or garbled confirmation is no import of ours
            raise Http404 from exc
        pending = get_object_or_404(PanelImport, pk=pending_id, meeting=meeting)
        try:
            issued = panel_import_commit(panel_import=pending, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(request.path)
        if issued:
            return cards_response(meeting, issued, label="new")
        messages.success(request, _("The departments were added to the agenda."))
        return redirect(request.path)
    if request.method == "POST" and request.FILES.get("file"):
        upload = request.FILES["file"]
        kind = request.POST.get("kind", "raters")
        try:
            panel_kind_checked(kind)
            job = sheet_submit(
                data=rows_bytes_checked(upload, upload.name),
                filename=upload.name,
                meeting=meeting,
                actor=request.user,
                wait=SHEET_WAIT_SECONDS,
            )
        except SheetInvalid as exc:
            context["problems"] = exc.problems
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            if job.state in (SheetJob.State.QUEUED, SheetJob.State.RUNNING):
                # A worker is still reading it: the page shows its progress and reloads itself.
                return redirect(f"{request.path}?{urlencode({'job': job.pk, 'kind': kind})}")
            return _panel_preview(request, context, meeting, job, kind)
    elif request.GET.get("job"):
        job = _own_job(request, meeting, request.GET["job"])
        if job is None:
            messages.error(request, _("This sheet is no longer being read. Upload it again."))
            return redirect(request.path)
        job = sheet_job_settle(job=job)
        if job.state in (SheetJob.State.QUEUED, SheetJob.State.RUNNING):
            context["reading"] = job
            return render(request, "admin/meetings/panel.html", context)
        response = _panel_preview(request, context, meeting, job, request.GET.get("kind", "raters"))
        if "pending" in context:  # the preview has its own address: a reload shows it, creates nothing
            return redirect(f"{request.path}?{urlencode({'preview': context['pending'].pk})}")
        return response
    elif request.GET.get("preview"):
        try:
            preview_id = uuid.UUID(request.GET["preview"])
        except ValueError as exc:
            raise Http404 from exc
        pending = get_object_or_404(
            PanelImport, pk=preview_id, meeting=meeting, committed_at=None, kind__in=[k for k, _label in PANEL_KINDS]
        )
        context["pending"] = pending
        context["preview"] = preview_table(meeting, pending)
    return render(request, "admin/meetings/panel.html", context)


SHEET_WAIT_SECONDS = 2  # a sheet read within this shows at once; a longer one shows its progress
PANEL_KINDS = [(k, label) for k, label in PanelImport.Kind.choices if k != PanelImport.Kind.COMPONENTS]


def _own_job(request, meeting: Meeting, raw: str) -> SheetJob | None:
    """The admin's own sheet of this meeting: nobody else's rows, whatever id is typed."""
    try:
        job_id = uuid.UUID(raw)
    except ValueError:
        return None
    return SheetJob.objects.filter(pk=job_id, meeting=meeting, created_by=request.user).first()


def _panel_preview(request, context: dict, meeting: Meeting, job: SheetJob, kind: str):
    """Check what the worker read and keep it for confirmation; the job's rows are then forgotten."""
    try:
        pending = panel_import_preview(
            meeting=meeting,
            kind=kind,
            filename=job.filename,
            actor=request.user,
            sheet=sheet_job_outcome(job=job),
        )
    except SheetInvalid as exc:
        context["problems"] = exc.problems
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        context["pending"] = pending
        context["preview"] = preview_table(meeting, pending)
        SheetJob.objects.filter(pk=job.pk).delete()
    return render(request, "admin/meetings/panel.html", context)


def preview_table(meeting: Meeting, pending: PanelImport) -> dict:
    """The checked rows as the admin reads them: headed columns, roles, departments and categories by name."""
    from appraisal.models import Category, Department

    rows = pending.rows[:200]
    if pending.kind == PanelImport.Kind.RATERS:
        roles = dict(meeting.scheme.roles.values_list("code", "name"))
        departments = dict(Department.objects.filter(scheme_id=meeting.scheme_id).values_list("code", "name"))
        header = [_("row"), _("rater role"), _("seats"), _("name"), _("recused from")]
        body = [
            [
                r["row"],
                roles.get(r["role"], r["role"]),
                r["count"],
                r["name"] or "–",
                departments.get(r["department"], "–"),
            ]
            for r in rows
        ]
    else:
        categories = dict(Category.objects.filter(scheme_id=meeting.scheme_id).values_list("code", "name"))
        header = [_("row"), _("code"), _("name"), _("category")]
        body = [[r["row"], r["code"], r["name"], categories.get(r["category"], r["category"])] for r in rows]
    return {"header": header, "rows": body}


TEMPLATES = ("setup", "raters", "departments", "contacts")


def template_view(request, model_admin, kind: str):
    """A blank sheet to start from, each at its own URL: the whole setup workbook, the rater panel, the
    departments, the department contacts. Any other name is a 404."""
    from openpyxl import Workbook

    if kind not in TEMPLATES:
        raise Http404(_("No such template."))
    workbook = Workbook()
    sheet = workbook.active
    if kind == "setup":
        from appraisal.parsers import loads_exact

        from .setup_workbook import blank_setup_workbook

        example = loads_exact((settings.BASE_DIR / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
        workbook = blank_setup_workbook(example)
    elif kind == "departments":
        sheet.title = "部门"
        sheet.append([aliases[1] for aliases in DEPARTMENT_COLUMNS.values()])
        sheet.append(["D01", "区委办公室", "党群部门"])
    elif kind == "contacts":
        sheet.title = "联络员"
        sheet.append([aliases[1] for aliases in CONTACT_COLUMNS.values()])
        sheet.append(["D01", "lianluo-d01", "d01@example.cn"])
    else:
        sheet.title = "评委"
        sheet.append([aliases[1] for aliases in PANEL_COLUMNS.values()])
        sheet.append(["群众代表", 78, None, None])
        sheet.append(["群众代表", None, "王芳", "区民政局"])
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{kind}-template.xlsx"'
    return response


def copy_view(request, model_admin, meeting_id: int):
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    _guard(request, meeting)
    next_year = meeting.scheme.cycle.year + 1
    defaults = {
        "year": next_year,
        "cycle": meeting.scheme.cycle.name.replace(str(next_year - 1), str(next_year)),
        "title": meeting.title.replace(str(next_year - 1), str(next_year)),
        "date": meeting.date.replace(year=meeting.date.year + 1).isoformat(),
    }
    errors = []
    if request.method == "POST":
        values = {key: request.POST.get(key, "").strip() for key in defaults}
        try:
            year = int(values["year"])
            date = datetime.date.fromisoformat(values["date"])
        except ValueError:  # what the year, names and title may be is meeting_copy's to say
            errors.append(_("Give a year, a cycle name, a title and a date (YYYY-MM-DD)."))
        else:
            try:
                result = meeting_copy(
                    source=meeting, cycle_year=year, cycle_name=values["cycle"], title=values["title"], date=date,
                    actor=request.user, ip=request.META.get("REMOTE_ADDR"),
                )  # fmt: skip
            except DomainError as exc:
                errors.extend(f"{e['path']}: {e['message']}" for e in exc.errors)
            else:
                return cards_response(result.meeting, result.raters, label="all")
        defaults = values
    return render(
        request,
        "admin/meetings/copy.html",
        {**model_admin.admin_site.each_context(request), "opts": Meeting._meta, "meeting": meeting, "values": defaults, "errors": errors,
         "title": _("Copy to a new cycle")},
    )  # fmt: skip
