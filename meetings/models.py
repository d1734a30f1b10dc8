"""The meeting as configured for the day: rules, agenda, rater seats, audit log."""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appraisal.models import SCORE_DIGITS, WEIGHT_DIGITS, Department, RaterRole, Scheme


class Meeting(models.Model):
    """An appraisal meeting (考评大会) with its ranking rules."""

    class Mode(models.TextChoices):
        PER_PRESENTATION = "per_presentation", _("per presentation")
        WHOLE_MEETING = "whole_meeting", _("whole meeting")

    scheme = models.ForeignKey(Scheme, verbose_name=_("scheme"), on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(_("title"), max_length=200)
    date = models.DateField(_("date"))
    mode = models.CharField(_("voting mode"), max_length=20, choices=Mode.choices, default=Mode.PER_PRESENTATION)
    full_mark = models.DecimalField(_("full mark"), default=Decimal("100"), **SCORE_DIGITS)
    rank_within_category = models.BooleanField(_("rank within category"), default=False)
    tie_break_roles = models.JSONField(
        _("tie-break roles"), default=list, blank=True, help_text=_("Role codes, in order.")
    )
    reward_top = models.PositiveIntegerField(_("reward: top count"), null=True, blank=True)
    reward_top_percent = models.DecimalField(_("reward: top percent"), null=True, blank=True, **SCORE_DIGITS)
    reward_min_score = models.DecimalField(_("reward: minimum score"), null=True, blank=True, **SCORE_DIGITS)
    admonition_bottom = models.PositiveIntegerField(_("admonition: bottom count"), null=True, blank=True)
    admonition_bottom_percent = models.DecimalField(
        _("admonition: bottom percent"), null=True, blank=True, **SCORE_DIGITS
    )
    admonition_below = models.DecimalField(_("admonition: below score"), null=True, blank=True, **SCORE_DIGITS)
    excellent_quota_criterion = models.CharField(_("excellent quota: criterion"), max_length=50, blank=True)
    excellent_quota_grade = models.CharField(_("excellent quota: grade"), max_length=50, blank=True)
    excellent_quota_max_percent = models.DecimalField(
        _("excellent quota: maximum percent"), null=True, blank=True, **SCORE_DIGITS
    )
    meeting_weight = models.DecimalField(_("meeting weight"), default=Decimal("1"), **WEIGHT_DIGITS)
    # SCORING.md 10: {"formula": "base_times_coefficients", "base", "coefficients"}; empty for the weighted sum.
    final = models.JSONField(
        _("final score formula"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: the weighted sum. Otherwise a base times coefficients (综合考核), as in the setup document."
        ),
    )
    four_eyes = models.BooleanField(
        _("four eyes for the final publication"),
        default=False,
        help_text=_("A second organizer confirms the final publication; both names are recorded."),
    )
    # SCORING.md 12: the same appraisal one cycle earlier, and when a repeated flag is worth a mark.
    previous = models.ForeignKey(
        "self",
        verbose_name=_("previous meeting"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="next_meetings",
        help_text=_("The same appraisal one cycle earlier: ranks move and streaks count against it."),
    )
    streak_rule = models.JSONField(
        _("repeat flags"),
        null=True,
        blank=True,
        help_text=_(
            '{"repeat_admonition": 2, "repeat_reward": 2}: flag a department at the line that many years in a row.'
        ),
    )
    # SCORING.md 11: a seat whose ballots all carry the same total, at least `invalid_uniform_min` of them.
    invalid_uniform = models.BooleanField(
        _("invalid ballots: identical totals"),
        default=False,
        help_text=_(
            "A rater whose ballots all carry the same total has them all declared invalid (评价完全相同视为无效)."
        ),
    )
    invalid_uniform_min = models.PositiveSmallIntegerField(_("invalid ballots: at least this many ballots"), default=5)
    rehearsal_of = models.ForeignKey(
        "self",
        verbose_name=_("rehearsal of"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rehearsals",
        help_text=_("Set on a rehearsal (演练): never mixed into real results, never published."),
    )
    countdown_ends_at = models.DateTimeField(_("countdown ends at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("appraisal meeting")
        verbose_name_plural = _("appraisal meetings")
        ordering = ["-date", "-id"]
        permissions = [
            ("organize_meeting", _("Can run, review and publish the meeting")),
            ("audit_meeting", _("Can read everything of the meeting, including the audit log")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(mode__in=["per_presentation", "whole_meeting"]), name="meeting_mode_valid"
            ),
            models.CheckConstraint(condition=Q(full_mark__gt=0), name="meeting_full_mark_positive"),
            models.CheckConstraint(
                condition=Q(meeting_weight__gt=0) & Q(meeting_weight__lte=1), name="meeting_weight_range"
            ),
            models.CheckConstraint(
                condition=Q(reward_top__isnull=True) | Q(reward_top_percent__isnull=True),
                name="meeting_reward_count_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(admonition_bottom__isnull=True) | Q(admonition_bottom_percent__isnull=True),
                name="meeting_admonition_count_or_percent",
            ),
            models.CheckConstraint(
                condition=Q(reward_top_percent__isnull=True)
                | (Q(reward_top_percent__gte=0) & Q(reward_top_percent__lte=100)),
                name="meeting_reward_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(admonition_bottom_percent__isnull=True)
                | (Q(admonition_bottom_percent__gte=0) & Q(admonition_bottom_percent__lte=100)),
                name="meeting_admonition_percent_range",
            ),
            models.CheckConstraint(
                condition=Q(excellent_quota_max_percent__isnull=True)
                | (Q(excellent_quota_max_percent__gte=0) & Q(excellent_quota_max_percent__lte=100)),
                name="meeting_quota_percent_range",
            ),
            models.CheckConstraint(condition=Q(invalid_uniform_min__gte=2), name="meeting_invalid_uniform_min"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_rehearsal(self) -> bool:
        return self.rehearsal_of_id is not None


class Component(models.Model):
    """A score imported from outside the meeting (年度目标考核 ...), with its weight."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="components")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("name"), max_length=100)
    # Empty under the base_times_coefficients formula (SCORING.md 10): there a component is a base or a coefficient.
    weight = models.DecimalField(_("weight"), null=True, blank=True, **WEIGHT_DIGITS)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("score component")
        verbose_name_plural = _("score components")
        ordering = ["meeting", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "code"], name="component_unique_code"),
            models.CheckConstraint(
                condition=Q(weight__isnull=True) | (Q(weight__gt=0) & Q(weight__lt=1)), name="component_weight_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Presentation(models.Model):
    """A department's report on stage (述职), in agenda order, with its voting state."""

    class State(models.TextChoices):
        PENDING = "pending", _("not open yet")
        OPEN = "open", _("voting open")
        CLOSED = "closed", _("voting closed")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="presentations"
    )
    department = models.ForeignKey(
        Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="presentations"
    )
    order = models.PositiveIntegerField(_("agenda order"))
    state = models.CharField(_("voting state"), max_length=10, choices=State.choices, default=State.PENDING)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("presentation")
        verbose_name_plural = _("presentations")
        ordering = ["meeting", "order"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "department"], name="presentation_unique_department"),
            models.UniqueConstraint(fields=["meeting", "order"], name="presentation_unique_order"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "open", "closed"]), name="presentation_state_valid"
            ),
        ]
        indexes = [models.Index(fields=["meeting", "state"], name="presentation_meeting_state")]

    def __str__(self) -> str:
        return f"{self.order}. {self.department.name}"


class Rater(models.Model):
    """A rater seat (评委). The token is stored only as a SHA-256 hash: a database
    leak does not give voting power, and a lost card is reissued, never read back."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="raters")
    role = models.ForeignKey(RaterRole, verbose_name=_("rater role"), on_delete=models.PROTECT, related_name="raters")
    seat_no = models.PositiveIntegerField(_("seat number"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("own department (recusal)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_issued_at = models.DateTimeField(_("token issued at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rater seat")
        verbose_name_plural = _("rater seats")
        ordering = ["meeting", "seat_no"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seat_no"], name="rater_unique_seat"),
        ]

    def __str__(self) -> str:
        return f"#{self.seat_no} {self.name or self.role.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PanelImport(models.Model):
    """A checked sheet (departments or a rater panel) waiting for the admin's confirmation.

    The preview stores the rows it checked; the commit creates them all at
    once, so the admin confirms exactly what the preview showed."""

    class Kind(models.TextChoices):
        RATERS = "raters", _("rater panel")
        DEPARTMENTS = "departments", _("departments")
        COMPONENTS = "components", _("component scores")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="panel_imports"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    filename = models.CharField(_("file name"), max_length=255)
    rows = models.JSONField(_("rows"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sheet import")
        verbose_name_plural = _("sheet imports")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["raters", "departments", "components"]), name="panel_import_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"


class SheetJob(models.Model):
    """An uploaded sheet handed to a worker to read (issue 17): the web tier checks its size and zip
    directory, a Celery worker parses it under time and memory limits and writes what it read here.

    The file's bytes are kept only until they are read; the rows stay until the page or request that
    waits for them has used them (at most a day)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("reading")
        DONE = "done", _("read")
        FAILED = "failed", _("refused")

    class Kind(models.TextChoices):
        ROWS = "rows", _("sheet of rows")
        SETUP = "setup", _("setup workbook")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ROWS)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=255)
    data = models.BinaryField(_("file"), editable=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    header = models.JSONField(_("header"), default=list)
    rows = models.JSONField(_("rows"), default=list)
    problems = models.JSONField(_("problems"), default=list)
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sheet being read")
        verbose_name_plural = _("sheets being read")
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "done", "failed"]), name="sheet_job_state_valid"
            ),
            models.CheckConstraint(condition=Q(kind__in=["rows", "setup"]), name="sheet_job_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.filename


class AuditEntry(models.Model):
    """Append-only audit log. Each entry of a meeting carries the hash of the
    previous one, so an edited or deleted row breaks the chain (verify_audit)."""

    meeting = models.ForeignKey(
        Meeting,
        verbose_name=_("meeting"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    seq = models.PositiveIntegerField(_("sequence"))
    created_at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    ip_address = models.GenericIPAddressField(_("address"), null=True, blank=True)
    action = models.CharField(_("action"), max_length=50)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    entry_hash = models.CharField(_("hash"), max_length=64)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["meeting", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "seq"], name="audit_unique_seq"),
            models.UniqueConstraint(fields=["seq"], condition=Q(meeting__isnull=True), name="audit_unique_global_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit entries are append-only.")
        return super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit entries are append-only.")


class MeetingChange(models.Model):
    """Change counters of a meeting, one per kind of input a result depends on.

    Every service that changes such an input bumps its kind in the same
    transaction. A snapshot records the sums it read inside the same
    repeatable-read view as its ballots, and publishing refuses a snapshot
    whose sums are behind: a change that committed after the view began, or
    was still in flight then, is always seen. Ballots spread over a few shard
    rows so that a hall's burst does not queue on one row lock; the shard is
    drawn at random, never derived from the seat.
    """

    class Kind(models.TextChoices):
        BALLOTS = "ballots", _("ballots cast or changed")
        VOIDS = "voids", _("ballots voided")
        PAPER = "paper", _("paper ballots")
        SURVEY = "survey", _("survey answers")
        COMPONENTS = "components", _("component scores")
        ADJUSTMENTS = "adjustments", _("adjustments")
        VETOES = "vetoes", _("vetoes")
        SETUP = "setup", _("meeting setup (rules, weights, forms, agenda)")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    shard = models.PositiveSmallIntegerField(_("shard"), default=0)
    count = models.BigIntegerField(_("changes"), default=0)

    class Meta:
        verbose_name = _("meeting change counter")
        verbose_name_plural = _("meeting change counters")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "kind", "shard"], name="meeting_change_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.kind}[{self.shard}] {self.count}"
