"""The appraisal scheme: what outlives one meeting.

A Scheme (测评方案) holds the categories, departments, rater roles and their
forms. Every meeting points at one scheme; a rehearsal shares the scheme of
its meeting, and next year's meeting starts from a copy. Keeping these under a
scheme (not global) means importing one meeting never changes another's
departments or forms.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Scores and points: up to 9999.9999, exact. Weights: 0 < w <= 999.999999.
SCORE_DIGITS = {"max_digits": 12, "decimal_places": 4}
WEIGHT_DIGITS = {"max_digits": 12, "decimal_places": 6}


class Cycle(models.Model):
    """One appraisal year (综合考核周期)."""

    year = models.PositiveSmallIntegerField(_("year"))
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appraisal cycle")
        verbose_name_plural = _("appraisal cycles")
        ordering = ["-year", "name"]
        constraints = [
            models.UniqueConstraint(fields=["year", "name"], name="cycle_unique_year_name"),
            models.CheckConstraint(condition=Q(year__gte=1900) & Q(year__lte=2200), name="cycle_year_range"),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.name}"


class Scheme(models.Model):
    """The categories, departments and role forms one or more meetings use (测评方案)."""

    cycle = models.ForeignKey(Cycle, verbose_name=_("cycle"), on_delete=models.PROTECT, related_name="schemes")
    name = models.CharField(_("name"), max_length=200)
    copied_from = models.ForeignKey(
        "self",
        verbose_name=_("copied from"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appraisal scheme")
        verbose_name_plural = _("appraisal schemes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """Department category (部门类别), the scope of a ranking within category."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="categories")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department category")
        verbose_name_plural = _("department categories")
        ordering = ["scheme", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="category_unique_code"),
        ]

    def __str__(self) -> str:
        return self.name


class Department(models.Model):
    """An appraised department (部门 / 单位)."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="departments")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), on_delete=models.PROTECT, related_name="departments"
    )

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["scheme", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="department_unique_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class RaterRole(models.Model):
    """Rater role (评委类别) with its weight, trim and its own form of criteria."""

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.CASCADE, related_name="roles")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    weight = models.DecimalField(_("weight"), **WEIGHT_DIGITS)
    trim = models.PositiveSmallIntegerField(
        _("trim"), default=1, help_text=_("How many highest and how many lowest ballot totals are dropped.")
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("rater role")
        verbose_name_plural = _("rater roles")
        ordering = ["scheme", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "code"], name="role_unique_code"),
            models.CheckConstraint(condition=Q(weight__gt=Decimal("0")), name="role_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """A criterion (测评指标) of one role's form: numeric on a step grid, or a choice of grades."""

    class Kind(models.TextChoices):
        NUMERIC = "numeric", _("numeric")
        GRADE = "grade", _("grade")

    role = models.ForeignKey(RaterRole, verbose_name=_("rater role"), on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    max_value = models.DecimalField(_("maximum"), null=True, blank=True, **SCORE_DIGITS)
    step = models.DecimalField(_("step"), null=True, blank=True, **SCORE_DIGITS)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        ordering = ["role", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["role", "code"], name="criterion_unique_code"),
            models.CheckConstraint(condition=Q(kind__in=["numeric", "grade"]), name="criterion_kind_valid"),
            models.CheckConstraint(
                condition=(
                    Q(kind="numeric", max_value__isnull=False, step__isnull=False, max_value__gt=0, step__gt=0)
                    | Q(kind="grade", max_value__isnull=True, step__isnull=True)
                ),
                name="criterion_bounds_match_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role.code}.{self.code} {self.name}"


class Grade(models.Model):
    """One labelled choice of a grade criterion, worth fixed points (优秀 95 ...)."""

    criterion = models.ForeignKey(
        Criterion, verbose_name=_("criterion"), on_delete=models.CASCADE, related_name="grades"
    )
    code = models.CharField(_("code"), max_length=50)
    label = models.CharField(_("label"), max_length=50)
    points = models.DecimalField(_("points"), **SCORE_DIGITS)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("grade")
        verbose_name_plural = _("grades")
        ordering = ["criterion", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "code"], name="grade_unique_code"),
            models.CheckConstraint(condition=Q(points__gte=Decimal("0")), name="grade_points_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.points})"


class LoginLockout(models.Model):
    """Failed sign-ins (or password-reset requests) of one user name from one address, and until when that
    pair waits (appraisal.login). Keyed on both, so that wrong guesses from elsewhere never lock a user out
    and a hall behind one address is not blocked for everyone by one person's typos; an admin lifts it."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("sign-in")
        RESET = "reset", _("password reset")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.LOGIN)
    address = models.CharField(_("address"), max_length=45)
    username = models.CharField(_("user name"), max_length=254)
    failures = models.PositiveIntegerField(_("failures"), default=0)
    locked_until = models.DateTimeField(_("waits until"), null=True, blank=True)
    last_failure_at = models.DateTimeField(_("last failure"), auto_now=True)

    class Meta:
        verbose_name = _("sign-in lockout")
        verbose_name_plural = _("sign-in lockouts")
        constraints = [
            models.UniqueConstraint(fields=["kind", "address", "username"], name="lockout_one_per_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.username} @ {self.address}"
