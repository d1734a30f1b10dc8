from django.contrib import admin

# Categories, departments, roles, criteria and grades are registered by meetings.admin: a change to
# them is a change to the setup of every meeting of their scheme, checked and audited there.
from .models import Cycle, Scheme


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
