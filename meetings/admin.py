from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from . import admin_views
from .models import AuditEntry, Component, Meeting, PanelImport, Presentation


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(GuardedModelAdmin):
    """Object permissions ("Object permissions" button) grant organizers and auditors per meeting.

    The rater panel page imports sheets and prints cards; a meeting can be copied
    to a new cycle or rehearsed."""

    change_form_template = "admin/meetings/meeting_change_form.html"
    list_display = ["title", "date", "mode", "rank_within_category", "rehearsal_of", "panel_link", "created_at"]
    list_filter = ["mode", "date"]
    search_fields = ["title"]
    list_select_related = ["rehearsal_of"]
    inlines = [ComponentInline]
    readonly_fields = ["scheme", "created_at"]

    def get_urls(self):
        def wrap(view):
            def wrapper(request, *args, **kwargs):
                return self.admin_site.admin_view(view)(request, self, *args, **kwargs)

            return wrapper

        return [
            path("<id:meeting_id>/panel/", wrap(admin_views.panel_view), name="meetings_meeting_panel"),
            path("<id:meeting_id>/copy/", wrap(admin_views.copy_view), name="meetings_meeting_copy"),
            path("template/<str:kind>.xlsx", wrap(admin_views.template_view), name="meetings_meeting_template"),
            *super().get_urls(),
        ]

    @admin.display(description=_("rater panel"))
    def panel_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:meetings_meeting_panel", args=[obj.pk]), _("Panel and cards")
        )


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "weight", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["code", "name"]
    list_select_related = ["meeting"]


@admin.register(Presentation)
class PresentationAdmin(admin.ModelAdmin):
    list_display = ["order", "department", "state", "opened_at", "closed_at", "meeting"]
    list_filter = ["state", "meeting"]
    search_fields = ["department__name", "department__code"]
    list_select_related = ["department", "meeting"]


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["seq", "created_at", "actor_label", "ip_address", "action", "meeting"]
    list_filter = ["action", "meeting"]
    search_fields = ["actor_label", "action"]
    list_select_related = ["meeting"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PanelImport)
class PanelImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "meeting", "created_by", "created_at", "committed_at"]
    list_filter = ["kind", "meeting"]
    list_select_related = ["meeting", "created_by"]
    readonly_fields = ["id", "meeting", "kind", "filename", "rows", "created_by", "created_at", "committed_at"]

    def has_add_permission(self, request):
        return False
