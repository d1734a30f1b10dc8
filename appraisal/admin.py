from django.contrib import admin
from django.utils.translation import gettext_lazy as _

# Categories, departments, roles, criteria and grades are registered by meetings.admin: a change to
# them is a change to the setup of every meeting of their scheme, checked and audited there.
from .models import Cycle, LoginLockout, Scheme


@admin.register(Cycle)
class CycleAdmin(admin.ModelAdmin):
    list_display = ["year", "name", "created_at"]
    search_fields = ["name"]
    list_filter = ["year"]


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "cycle", "copied_from", "created_at"]
    list_filter = ["cycle"]
    search_fields = ["name"]
    list_select_related = ["cycle", "copied_from"]


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    """Sign-in waits per (address, user name): read here, lifted by the action (appraisal.login)."""

    list_display = ["username", "address", "kind", "failures", "locked_until", "last_failure_at"]
    list_filter = ["kind"]
    search_fields = ["username", "address"]
    readonly_fields = ["kind", "address", "username", "failures", "locked_until", "last_failure_at"]
    actions = ["lift"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # lifting is the action below, through the service

    @admin.action(description=_("Lift the wait of the selected sign-ins"), permissions=["change"])
    def lift(self, request, queryset):
        from .login import lockouts_lift

        n = lockouts_lift(lockouts=list(queryset), actor=request.user)
        self.message_user(request, _("%(n)d wait(s) lifted.") % {"n": n})
