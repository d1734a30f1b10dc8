from django.contrib import admin

from meetings.admin_setup import ReadOnlyAdminMixin

from .models import Adjustment, AggregationRun, ComponentScore, RehearsalJob, ResultSnapshot, Veto

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
