from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from meetings import admin_views
from meetings.admin_setup import SetupAdminMixin
from meetings.models import Rater
from meetings.services import rater_revoke, raters_reissue

from .models import Ballot, BallotValue, IdempotencyRecord, PaperEntry, SurveyBatch
from .selectors import seat_ballot_counts


@admin.register(Rater)
class RaterAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["seat_no", "role", "name", "department", "ballots_cast", "token_issued_at", "revoked_at", "meeting"]
    list_filter = ["meeting", "role__name"]
    search_fields = ["name", "=seat_no"]
    list_select_related = ["role", "department", "meeting"]
    readonly_fields = ["token_issued_at", "revoked_at"]
    actions = ["revoke", "reissue_cards"]
    setup_action = "panel.changed"

    def meetings_of(self, obj):
        return [obj.meeting]

    def has_add_permission(self, request):
        return False  # seats are issued with their cards on the panel page (tokens are shown once)

    def get_changelist_instance(self, request):
        """How many ballots each listed seat has cast (never which), in one query for the page."""
        changelist = super().get_changelist_instance(request)
        counts = seat_ballot_counts(list(changelist.result_list))
        for rater in changelist.result_list:
            rater.ballots_cast_count = counts.get(rater.pk, 0)
        return changelist

    @admin.display(description=_("ballots cast"))
    def ballots_cast(self, obj):
        return getattr(obj, "ballots_cast_count", "–")

    @admin.action(description=_("Issue new cards for the selected seats (old cards stop working)"))
    def reissue_cards(self, request, queryset):
        raters = list(queryset.select_related("meeting", "role").order_by("meeting", "seat_no"))
        meetings = {r.meeting_id for r in raters}
        if len(meetings) != 1:
            self.message_user(request, _("Select seats of one meeting at a time."), messages.ERROR)
            return None
        issued = raters_reissue(
            meeting=raters[0].meeting, raters=raters, actor=request.user, ip=request.META.get("REMOTE_ADDR")
        )
        return admin_views.cards_response(raters[0].meeting, issued, label="reissued")

    @admin.action(description=_("Revoke the selected seats' tokens"))
    def revoke(self, request, queryset):
        for rater in queryset.select_related("meeting"):
            rater_revoke(rater=rater, actor=request.user, ip=request.META.get("REMOTE_ADDR"))
        self.message_user(request, _("Tokens revoked."), messages.SUCCESS)


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


@admin.register(PaperEntry)
class PaperEntryAdmin(admin.ModelAdmin):
    """Read here; entering and resolving go through the console (two people, audited)."""

    list_display = ["seat_no", "presentation", "state", "first_by", "second_by", "resolved_by", "updated_at"]
    list_filter = ["state", "presentation__meeting"]
    list_select_related = ["presentation__department", "first_by", "second_by", "resolved_by"]
    # The entries as the form reads them ("总体评价：一般"), not as JSON with codes.
    exclude = ["pseudonym", "first_scores", "second_scores"]
    readonly_fields = ["first_entry", "second_entry"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("first entry"))
    def first_entry(self, obj):
        return scores_words(obj.role, obj.first_scores)

    @admin.display(description=_("second entry"))
    def second_entry(self, obj):
        return scores_words(obj.role, obj.second_scores)


def scores_words(role, scores: dict | None) -> str:
    """A ballot's scores by criterion and grade name: "工作实绩：55；总体评价：好"."""
    if not scores:
        return "–"
    from appraisal.models import Criterion

    criteria = {c.code: c for c in Criterion.objects.filter(role=role).prefetch_related("grades")}
    out = []
    for code, value in scores.items():
        criterion = criteria.get(code)
        if criterion is None:
            out.append(f"{code}：{value}")
            continue
        labels = {g.code: g.label for g in criterion.grades.all()}
        out.append(f"{criterion.name}：{labels.get(str(value), value)}")
    return "；".join(out)


@admin.register(SurveyBatch)
class SurveyBatchAdmin(admin.ModelAdmin):
    """Read here; importing and withdrawing go through the console's paper page (reason, audit)."""

    list_display = ["filename", "meeting", "role", "ballots", "created_by", "created_at", "withdrawn_at"]
    list_filter = ["meeting", "role__name"]
    list_select_related = ["meeting", "role", "created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
