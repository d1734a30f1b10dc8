from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from appraisal.models import Category, Criterion, Department, Grade, RaterRole

from . import admin_views
from .admin_formula import FORMULA_FIELDS, TIE_BREAK_FIELDS, MeetingForm
from .admin_setup import ReadOnlyAdminMixin, SetupAdminMixin, scheme_meetings
from .models import AuditEntry, Component, Meeting, MeetingChange, PanelImport, Presentation, SheetJob


class ComponentInline(admin.TabularInline):
    model = Component
    extra = 0


PERMISSION_NAMES = {
    "organize_meeting": _("organize: run, review and publish the meeting"),
    "audit_meeting": _("audit: read everything of the meeting, the audit log included"),
    "view_meeting": _("view the meeting in the admin"),
    "change_meeting": _("change the meeting in the admin"),
    "delete_meeting": _("delete the meeting"),
    "add_meeting": _("add meetings"),
}


def _translated_permissions(form_class):
    class TranslatedPermissionsForm(form_class):
        def get_obj_perms_field_choices(self):
            return [(code, PERMISSION_NAMES.get(code, name)) for code, name in super().get_obj_perms_field_choices()]

    return TranslatedPermissionsForm


@admin.register(Meeting)
class MeetingAdmin(SetupAdminMixin, GuardedModelAdmin):
    """Object permissions ("Object permissions" button) grant organizers and auditors per meeting.

    The rater panel page imports sheets and prints cards; a meeting can be copied
    to a new cycle or rehearsed."""

    change_form_template = "admin/meetings/meeting_change_form.html"
    form = MeetingForm
    # The meeting's rules grouped as an organizing department reads them; "final" is edited through the
    # formula fields and band rows, the tie-break order through ordered role choices.
    fieldsets = [
        (_("Meeting"), {"fields": ["title", "date", "mode", "scheme", "previous", "rehearsal_of", "created_at"]}),
        (
            _("Scores and ranking"),
            {"fields": ["full_mark", "meeting_weight", "rank_within_category", *TIE_BREAK_FIELDS]},
        ),
        (
            _("Commendation and admonition"),
            {
                "fields": [
                    "reward_top",
                    "reward_top_percent",
                    "reward_min_score",
                    "admonition_bottom",
                    "admonition_bottom_percent",
                    "admonition_below",
                    "streak_repeat_admonition",
                    "streak_repeat_reward",
                ]
            },
        ),
        (
            _("Ballot rules"),
            {
                "fields": [
                    "excellent_quota_criterion",
                    "excellent_quota_grade",
                    "excellent_quota_max_percent",
                    "invalid_uniform",
                    "invalid_uniform_min",
                ]
            },
        ),
        (_("Comprehensive appraisal formula (综合考核)"), {"fields": FORMULA_FIELDS, "classes": ["collapse"]}),
        (_("Publication"), {"fields": ["four_eyes", "countdown_ends_at"]}),
    ]
    list_display = ["title", "date", "mode", "rank_within_category", "rehearsal_of", "panel_link", "created_at"]
    list_filter = ["mode", "date"]
    search_fields = ["title"]
    list_select_related = ["rehearsal_of"]
    inlines = [ComponentInline]
    readonly_fields = ["scheme", "created_at", "countdown_ends_at"]

    def meetings_of(self, obj):
        return [obj]

    # Permission names are stored in English when the database is set up: the grant page reads them in the
    # admin's language, by codename.
    def get_obj_perms_manage_user_form(self, request):
        return _translated_permissions(super().get_obj_perms_manage_user_form(request))

    def get_obj_perms_manage_group_form(self, request):
        return _translated_permissions(super().get_obj_perms_manage_group_form(request))

    def has_add_permission(self, request):
        return False  # a meeting is set up from its setup document (import), checked as a whole

    def get_urls(self):
        def wrap(view):
            def wrapper(request, *args, **kwargs):
                return self.admin_site.admin_view(view)(request, self, *args, **kwargs)

            return wrapper

        def contacts_view(request, model_admin, meeting_id):
            from reports.admin_contacts import contacts_view as view  # the reports app owns contacts

            return view(request, model_admin, meeting_id)

        return [
            path("<id:meeting_id>/panel/", wrap(admin_views.panel_view), name="meetings_meeting_panel"),
            path("<id:meeting_id>/copy/", wrap(admin_views.copy_view), name="meetings_meeting_copy"),
            path("<id:meeting_id>/contacts/", wrap(contacts_view), name="meetings_meeting_contacts"),
            path("template/<str:kind>.xlsx", wrap(admin_views.template_view), name="meetings_meeting_template"),
            *super().get_urls(),
        ]

    @admin.display(description=_("rater panel"))
    def panel_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:meetings_meeting_panel", args=[obj.pk]), _("Panel and cards")
        )


@admin.register(Component)
class ComponentAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "weight", "meeting"]
    list_filter = ["meeting"]
    search_fields = ["code", "name"]
    list_select_related = ["meeting"]

    def meetings_of(self, obj):
        return [obj.meeting]


@admin.register(Presentation)
class PresentationAdmin(SetupAdminMixin, admin.ModelAdmin):
    """The agenda. Voting is opened and closed in the console (voting_set, audited), not here."""

    list_display = ["order", "department", "state", "opened_at", "closed_at", "meeting"]
    list_filter = ["state", "meeting"]
    search_fields = ["department__name", "department__code"]
    list_select_related = ["department", "meeting"]
    readonly_fields = ["state", "opened_at", "closed_at"]

    def meetings_of(self, obj):
        return [obj.meeting]


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


@admin.register(MeetingChange)
class MeetingChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """How many changes of each kind a meeting has had: what makes a result stale."""

    list_display = ["meeting", "kind", "shard", "count"]
    list_filter = ["kind", "meeting"]
    list_select_related = ["meeting"]


@admin.register(PanelImport)
class PanelImportAdmin(admin.ModelAdmin):
    list_display = ["filename", "kind", "meeting", "created_by", "created_at", "committed_at"]
    list_filter = ["kind", "meeting"]
    list_select_related = ["meeting", "created_by"]
    readonly_fields = ["id", "meeting", "kind", "filename", "rows", "created_by", "created_at", "committed_at"]

    def has_add_permission(self, request):
        return False


@admin.register(SheetJob)
class SheetJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sheets a worker is reading or has read in the last day: to see one that is stuck, never to edit it.
    The rows are not shown: they may carry names, and the preview shows them to whom uploaded them."""

    list_display = ["filename", "kind", "meeting", "state", "rows_read", "created_by", "created_at", "finished_at"]
    list_filter = ["state", "kind"]
    list_select_related = ["meeting", "created_by"]
    fields = [
        "filename",
        "kind",
        "meeting",
        "state",
        "rows_read",
        "problems_text",
        "created_by",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("problems"))
    def problems_text(self, job: SheetJob):
        """One line per problem, as the panel page words them (row and column, or the setup sheet's place)."""
        return (
            format_html_join(
                mark_safe("<br>"),  # a fixed tag, no data in it
                "{}{}",
                ((_problem_place(p), p.get("message", "")) for p in job.problems if isinstance(p, dict)),
            )
            or "–"
        )


def _problem_place(problem: dict) -> str:
    if problem.get("path"):
        return f"{problem['path']}："
    row, column = problem.get("row"), problem.get("column")
    where = [str(_("row %(n)s") % {"n": row}) if row else "", str(column or "")]
    return "，".join(w for w in where if w) + ("：" if any(where) else "")


# --- the scheme: a change here is a change to every meeting of the scheme ---------------------------


@admin.register(Category)
class CategoryAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "scheme", "order"]
    list_filter = ["scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["scheme"]

    def meetings_of(self, obj):
        return scheme_meetings(obj.scheme_id)


@admin.register(Department)
class DepartmentAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "category", "scheme"]
    list_filter = ["scheme", "category__name"]
    search_fields = ["code", "name"]
    list_select_related = ["category", "scheme"]

    def meetings_of(self, obj):
        return scheme_meetings(obj.scheme_id)


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ["order", "code", "name", "kind", "max_value", "step"]


@admin.register(RaterRole)
class RaterRoleAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "weight", "trim", "scheme"]
    list_filter = ["scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["scheme"]
    inlines = [CriterionInline]

    def meetings_of(self, obj):
        return scheme_meetings(obj.scheme_id)


class GradeInline(admin.TabularInline):
    model = Grade
    extra = 0
    fields = ["order", "code", "label", "points"]


@admin.register(Criterion)
class CriterionAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "max_value", "step", "role"]
    list_filter = ["kind", "role__scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["role"]
    inlines = [GradeInline]

    def meetings_of(self, obj):
        return scheme_meetings(obj.role.scheme_id)


@admin.register(Grade)
class GradeAdmin(SetupAdminMixin, admin.ModelAdmin):
    list_display = ["code", "label", "points", "criterion"]
    list_filter = ["criterion__role__scheme"]
    search_fields = ["code", "label"]
    list_select_related = ["criterion__role"]

    def meetings_of(self, obj):
        return scheme_meetings(obj.criterion.role.scheme_id)
