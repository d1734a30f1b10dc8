"""The admin's page of a meeting's department contacts (被考评部门联络员): grant one account, or many from a
sheet, revoke; beside the meeting's organizers and auditors. Every grant and revocation goes through the
audited services of reports.publicity."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from guardian.shortcuts import get_users_with_perms

from appraisal.exceptions import DomainError
from meetings.models import Meeting, Presentation
from meetings.panel_sheets import SheetInvalid, contact_rows, read_rows

from . import publicity
from .models import DepartmentContact


def _departments(meeting: Meeting) -> dict[str, str]:
    """Codes and names of the departments on the agenda, to their codes."""
    out: dict[str, str] = {}
    for code, name in Presentation.objects.filter(meeting=meeting).values_list("department__code", "department__name"):
        out[code] = code
        out[name] = code
    return out


def contacts_view(request, model_admin, meeting_id: int):
    meeting = get_object_or_404(Meeting, pk=meeting_id)
    if not request.user.has_perm("reports.add_departmentcontact"):
        raise PermissionDenied
    ip = request.META.get("REMOTE_ADDR")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Meeting._meta,
        "meeting": meeting,
        "title": _("Department contacts of %(title)s") % {"title": meeting.title},
    }
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "revoke":
                contact = get_object_or_404(DepartmentContact, pk=request.POST.get("contact") or 0, meeting=meeting)
                publicity.contact_revoke(contact=contact, actor=request.user, ip=ip)
                messages.success(request, _("The contact's right is revoked."))
                return redirect(request.path)
            if action == "grant":
                one = {
                    "department": request.POST.get("department") or "",
                    "username": (request.POST.get("username") or "").strip(),
                    "email": (request.POST.get("email") or "").strip(),
                }
                parsed = contact_rows(list(one), [(1, one)], departments=_departments(meeting))
                context["issued"] = publicity.contacts_import(meeting=meeting, rows=parsed, actor=request.user, ip=ip)
            if action == "sheet" and request.FILES.get("file"):
                upload = request.FILES["file"]
                header, rows = read_rows(upload, upload.name)
                parsed = contact_rows(header, rows, departments=_departments(meeting))
                context["issued"] = publicity.contacts_import(meeting=meeting, rows=parsed, actor=request.user, ip=ip)
        except SheetInvalid as exc:
            context["problems"] = exc.problems
        except DomainError as exc:
            context["problems"] = [{"row": None, "column": e["path"], "message": e["message"]} for e in exc.errors] or [
                {"row": None, "column": None, "message": exc.message}
            ]
    context.update(
        contacts=DepartmentContact.objects.filter(meeting=meeting)
        .select_related("user", "department")
        .order_by("department__code"),
        departments=Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"),
        organizers=sorted(
            u.get_username() for u in get_users_with_perms(meeting, only_with_perms_in=["organize_meeting"])
        ),
        auditors=sorted(u.get_username() for u in get_users_with_perms(meeting, only_with_perms_in=["audit_meeting"])),
    )
    response = render(request, "admin/reports/contacts.html", context)
    response["Cache-Control"] = "no-store"  # it may show initial passwords, once
    return response
