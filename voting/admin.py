from django.contrib import admin

from .models import Ballot, BallotValue, IdempotencyRecord


class BallotValueInline(admin.TabularInline):
    model = BallotValue
    extra = 0
    readonly_fields = ["criterion", "grade", "points"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ballot)
class BallotAdmin(admin.ModelAdmin):
    """Ballots are read here; voiding goes through the organizer console (reason, audit)."""

    list_display = ["receipt", "presentation", "role", "state", "source", "total", "updated_at"]
    list_filter = ["state", "source", "role__name", "presentation__meeting"]
    search_fields = ["=receipt"]
    list_select_related = ["presentation__department", "role"]
    inlines = [BallotValueInline]
    exclude = ["pseudonym"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BallotValue)
class BallotValueAdmin(admin.ModelAdmin):
    list_display = ["ballot", "criterion", "grade", "points"]
    list_filter = ["criterion__role__scheme"]
    search_fields = ["=ballot__receipt"]
    list_select_related = ["ballot", "criterion__role", "grade"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "status_code", "created_at"]
    exclude = ["pseudonym", "response"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
