from django.contrib import admin

from .models import Category, Criterion, Cycle, Department, Grade, RaterRole, Scheme


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


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "scheme", "order"]
    list_filter = ["scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["scheme"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "scheme"]
    list_filter = ["scheme", "category__name"]
    search_fields = ["code", "name"]
    list_select_related = ["category", "scheme"]


class CriterionInline(admin.TabularInline):
    model = Criterion
    extra = 0
    fields = ["order", "code", "name", "kind", "max_value", "step"]


@admin.register(RaterRole)
class RaterRoleAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "weight", "trim", "scheme"]
    list_filter = ["scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["scheme"]
    inlines = [CriterionInline]


class GradeInline(admin.TabularInline):
    model = Grade
    extra = 0
    fields = ["order", "code", "label", "points"]


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "max_value", "step", "role"]
    list_filter = ["kind", "role__scheme"]
    search_fields = ["code", "name"]
    list_select_related = ["role"]
    inlines = [GradeInline]


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "points", "criterion"]
    list_filter = ["criterion__role__scheme"]
    search_fields = ["code", "label"]
    list_select_related = ["criterion__role"]
