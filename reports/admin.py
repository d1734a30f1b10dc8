from django.contrib import admin

from .models import Adjustment, AggregationRun, ComponentScore, ResultSnapshot, Veto


@admin.register(ComponentScore)
class ComponentScoreAdmin(admin.ModelAdmin):
    list_display = ["component", "department", "value", "updated_at"]
    list_filter = ["component__meeting", "component"]
    search_fields = ["department__code", "department__name"]
    list_select_related = ["component", "department"]


@admin.register(Adjustment)
class AdjustmentAdmin(admin.ModelAdmin):
    list_display = ["department", "points", "reason", "created_by", "created_at", "withdrawn_at", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["department__name", "reason"]
    list_select_related = ["department", "created_by", "meeting"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Veto)
class VetoAdmin(admin.ModelAdmin):
    list_display = ["department", "reason", "created_by", "created_at", "withdrawn_at", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["department__name", "reason"]
    list_select_related = ["department", "created_by", "meeting"]

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ResultSnapshot)
class ResultSnapshotAdmin(admin.ModelAdmin):
    list_display = ["meeting", "computed_at", "ballots_counted", "digest", "published_at"]
    list_filter = ["meeting"]
    exclude = ["inputs"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AggregationRun)
class AggregationRunAdmin(admin.ModelAdmin):
    list_display = ["meeting", "state", "progress", "requested_by", "requested_at", "finished_at", "attempts"]
    list_filter = ["state", "meeting"]
    list_select_related = ["meeting", "requested_by"]

    def has_add_permission(self, request):
        return False
