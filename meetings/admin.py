from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from .models import AuditEntry, Component, Meeting, Presentation, Rater
from .services import rater_revoke


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0


@admin.register(Meeting)
class MeetingAdmin(GuardedModelAdmin):
    """Object permissions ("Object permissions" button) grant organizers and auditors per meeting."""

    list_display = ["title", "date", "mode", "rank_within_category", "rehearsal_of", "created_at"]
    list_filter = ["mode", "date"]
    search_fields = ["title"]
    list_select_related = ["rehearsal_of"]
    inlines = [ComponentInline]
    readonly_fields = ["scheme", "created_at"]


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


@admin.register(Rater)
class RaterAdmin(admin.ModelAdmin):
    list_display = ["seat_no", "role", "name", "department", "token_issued_at", "revoked_at", "meeting"]
    list_filter = ["meeting", "role__name"]
    search_fields = ["name", "=seat_no"]
    list_select_related = ["role", "department", "meeting"]
    readonly_fields = ["token_issued_at", "revoked_at"]
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected seats' tokens"))
    def revoke(self, request, queryset):
        for rater in queryset.select_related("meeting"):
            rater_revoke(rater=rater, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


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
