from django.contrib import admin

from meetings.admin_setup import ReadOnlyAdminMixin

from .models import (
    Adjustment,
    AggregationRun,
    Appeal,
    ComponentScore,
    DepartmentContact,
    RehearsalJob,
    ResultSnapshot,
    Veto,
)

# Component scores, adjustments and vetoes are written in the console and the API, through their
# services (checked, counted, audited with the real user); here they are only read.


@admin.register(ComponentScore)
class ComponentScoreAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["component", "department", "value", "updated_at"]
    list_filter = ["component__meeting", "component"]
    search_fields = ["department__code", "department__name"]
    list_select_related = ["component", "department"]


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["department", "points", "reason", "created_by", "created_at", "withdrawn_at", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["department__name", "reason"]
    list_select_related = ["department", "created_by", "meeting"]


@admin.register(Veto)
class VetoAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["department", "reason", "created_by", "created_at", "withdrawn_at", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["department__name", "reason"]
    list_select_related = ["department", "created_by", "meeting"]


@admin.register(ResultSnapshot)
class ResultSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["meeting", "computed_at", "ballots_counted", "digest", "published_at"]
    list_filter = ["meeting"]
    exclude = ["inputs"]


@admin.register(AggregationRun)
class AggregationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["meeting", "state", "progress", "requested_by", "requested_at", "finished_at", "attempts"]
    list_filter = ["state", "meeting"]
    list_select_related = ["meeting", "requested_by"]


@admin.register(RehearsalJob)
class RehearsalJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["source", "state", "rehearsal", "ballots", "requested_by", "requested_at", "finished_at"]
    list_filter = ["state"]
    list_select_related = ["source", "rehearsal", "requested_by"]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read here; appeals are made by department contacts and decided by organizers (API), audited."""

    list_display = ["department", "state", "created_by", "created_at", "decided_by", "decided_at", "meeting"]
    list_filter = ["meeting", "state"]
    list_select_related = ["department", "created_by", "decided_by", "meeting"]


@admin.register(DepartmentContact)
class DepartmentContactAdmin(admin.ModelAdmin):
    """Grant an account one department of one meeting (被考评部门联络员), through the service: audited."""

    list_display = ["user", "department", "meeting", "email", "created_at"]
    list_filter = ["meeting"]
    list_select_related = ["user", "department", "meeting"]
    fields = ["user", "meeting", "department", "email"]

    def save_model(self, request, obj, form, change):
        from .publicity import contact_grant

        saved = contact_grant(
            meeting=obj.meeting,
            user=obj.user,
            department_code=obj.department.code,
            email=obj.email,
            actor=request.user,
            ip=request.META.get("REMOTE_ADDR"),
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        from .publicity import contact_revoke

        contact_revoke(contact=obj, actor=request.user, ip=request.META.get("REMOTE_ADDR"))

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)
