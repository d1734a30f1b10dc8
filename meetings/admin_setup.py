"""The admin's writes to a meeting's setup go through setup_changed: checked by the import's rules,
counted so that an older result cannot be published, and audited with the real user."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect

from appraisal.exceptions import DomainError

from .models import Meeting
from .services import setup_changed


def _changed_fields(form, formsets) -> list[str]:
    fields = [str(form.fields[name].label or name) for name in form.changed_data if name in form.fields]
    for formset in formsets:
        if formset.has_changed():
            fields.append(str(formset.model._meta.verbose_name_plural))
    return fields


class SetupAdminMixin:
    """For admin pages of models a result depends on. ``meetings_of(obj)`` names the meetings one
    object belongs to; every save and delete is handed to setup_changed inside the admin's transaction,
    so a change that breaks a rule is rolled back whole and shown as messages."""

    setup_action = "setup.changed"

    def meetings_of(self, obj) -> list[Meeting]:
        raise NotImplementedError

    def _ip(self, request) -> str | None:
        return request.META.get("REMOTE_ADDR")

    def _refused(self, request, exc: DomainError):
        self.message_user(request, exc.message, messages.ERROR)
        for error in exc.errors:  # the rule in words; the document path means nothing to a person here
            self.message_user(request, error["message"], messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:  # raised inside the admin's atomic block: nothing was saved
            return self._refused(request, exc)

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, extra_context=None):
        try:
            return super().changelist_view(request, extra_context)
        except DomainError as exc:
            return self._refused(request, exc)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        setup_changed(
            meetings=self.meetings_of(obj),
            actor=request.user,
            ip=self._ip(request),
            action=self.setup_action,
            details={
                "what": str(obj._meta.verbose_name),
                "object": str(obj),
                "change": "changed" if change else "added",
                "fields": _changed_fields(form, formsets),
            },
        )

    def delete_model(self, request, obj):
        meetings = self.meetings_of(obj)
        label = str(obj)
        super().delete_model(request, obj)
        setup_changed(
            meetings=meetings,
            actor=request.user,
            ip=self._ip(request),
            action=self.setup_action,
            details={"what": str(obj._meta.verbose_name), "object": label, "change": "deleted"},
        )

    def delete_queryset(self, request, queryset):
        # One by one, so that each deletion is checked and audited like a single one; all or nothing
        # (Django's "delete selected" action runs outside the admin's transaction).
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)


def scheme_meetings(scheme_id: int) -> list[Meeting]:
    return list(Meeting.objects.filter(scheme_id=scheme_id))


class ReadOnlyAdminMixin:
    """Shown, never written here: the console and the API write these through their services."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
