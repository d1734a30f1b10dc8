"""Results: imported component scores, adjustments and veto, aggregation runs, snapshots."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appraisal.models import SCORE_DIGITS, Department
from meetings.models import Component, Meeting


class ComponentScore(models.Model):
    """A department's score in an imported component (年度目标考核 ...), on the 0..full_mark scale."""

    component = models.ForeignKey(
        Component, verbose_name=_("component"), on_delete=models.CASCADE, related_name="scores"
    )
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("score"), **SCORE_DIGITS)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("component score")
        verbose_name_plural = _("component scores")
        constraints = [
            models.UniqueConstraint(fields=["component", "department"], name="component_score_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="component_score_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.component.code} {self.department.code} {self.value}"


class Adjustment(models.Model):
    """Bonus or deduction points (加分/扣分) for a department, with a reason. Audited."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="adjustments"
    )
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("points"), **SCORE_DIGITS)
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("adjustment")
        verbose_name_plural = _("adjustments")
        ordering = ["meeting", "created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="adjustment_has_reason"),
            models.CheckConstraint(condition=~Q(points=0), name="adjustment_non_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} {self.points:+}"


class Veto(models.Model):
    """One-vote veto (一票否决): the department cannot be rewarded and is admonished. Audited."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="vetoes")
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)

    class Meta:
        verbose_name = _("veto")
        verbose_name_plural = _("vetoes")
        ordering = ["meeting", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "department"], condition=Q(withdrawn_at__isnull=True), name="veto_one_active"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="veto_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.department.code} veto"


class ResultSnapshot(models.Model):
    """An immutable computed result: the inputs it used, its rows and their digest (SCORING.md 8)."""

    class Stage(models.TextChoices):
        PUBLICITY = "publicity", _("under public notice")
        FINAL = "final", _("final")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="snapshots")
    computed_at = models.DateTimeField(_("computed at"))
    digest = models.CharField(_("digest (SHA-256)"), max_length=64)
    config = models.JSONField(_("configuration used"))
    # Canonical JSON text: {"ballots": [[id, total], ...], "ballots_sha256": ...}. Text, not jsonb,
    # because PostgreSQL writes it straight from an aggregate without parsing 200,000 entries.
    inputs = models.TextField(_("counting ballots used"))
    rows = models.JSONField(_("result rows"))
    ballots_counted = models.PositiveIntegerField(_("ballots counted"))
    # The meeting's change counters (meetings.MeetingChange) read in the same view as the ballots:
    # publishing refuses the snapshot once any of them moved on. Null on snapshots older than the counters.
    revision = models.JSONField(_("changes seen"), null=True, blank=True)
    # The audit chain's last entry when the computation started, and when it was published: {"seq", "hash"}.
    audit_head = models.JSONField(_("audit chain head"), null=True, blank=True)
    # SCORING.md 11, 13 and 14, computed with the rows (reports.services.snapshot_analysis): invalid ballots
    # per role and their marks, each rank's stability, the rater diagnostics under random aliases.
    analysis = models.JSONField(_("stability and diagnostics"), null=True, blank=True)
    published_audit_head = models.JSONField(_("audit chain head at publication"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # 公示 then 定稿: a published result is first under public notice until a moment, then final.
    stage = models.CharField(_("publication stage"), max_length=10, choices=Stage.choices, blank=True, default="")
    publicity_until = models.DateTimeField(_("public notice until"), null=True, blank=True)
    early_reason = models.TextField(_("reason to end the notice early"), blank=True)
    # Four eyes (meeting.four_eyes): one organizer asks for the final publication, another confirms it.
    final_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("final publication asked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    final_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("final publication confirmed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("published by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("result snapshot")
        verbose_name_plural = _("result snapshots")
        ordering = ["meeting", "-computed_at", "-id"]
        get_latest_by = "computed_at"
        constraints = [
            models.UniqueConstraint(
                fields=["meeting"], condition=Q(published_at__isnull=False), name="snapshot_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} @ {self.computed_at:%Y-%m-%d %H:%M:%S} {self.digest[:12]}"


class AggregationRun(models.Model):
    """One request to aggregate a meeting, tracked in the database so that a run
    lost with a killed worker is found and run again."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="aggregation_runs"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    snapshot = models.ForeignKey(
        ResultSnapshot, verbose_name=_("snapshot"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("aggregation run")
        verbose_name_plural = _("aggregation runs")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="aggregation_progress_range"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "succeeded", "failed"]), name="aggregation_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id} {self.state} {self.progress}%"


class RehearsalJob(models.Model):
    """A request to build a rehearsal (演练) of a meeting on a worker: copy, simulated ballots, a result.

    Built in one transaction, so that a failure leaves no half-made meeting behind; the job records
    the failure."""

    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")

    source = models.ForeignKey(
        Meeting, verbose_name=_("meeting rehearsed"), on_delete=models.CASCADE, related_name="rehearsal_jobs"
    )
    rehearsal = models.ForeignKey(
        Meeting, verbose_name=_("rehearsal"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ballots = models.PositiveIntegerField(_("simulated ballots"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("rehearsal job")
        verbose_name_plural = _("rehearsal jobs")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["queued", "running", "succeeded", "failed"]), name="rehearsal_job_state_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source_id} {self.state}"


class DepartmentContact(models.Model):
    """A department's contact (被考评部门联络员): an account granted one department of one meeting. It reaches
    that department's result, feedback and appeals, and nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="department_contacts"
    )
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="contacts")
    department = models.ForeignKey(
        "appraisal.Department", verbose_name=_("department"), on_delete=models.CASCADE, related_name="+"
    )
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("department contact")
        verbose_name_plural = _("department contacts")
        constraints = [models.UniqueConstraint(fields=["user", "meeting"], name="contact_one_department_per_meeting")]

    def __str__(self) -> str:
        return f"{self.user} · {self.department}"


class Appeal(models.Model):
    """A department's appeal (申诉) against a result under public notice, decided by the organizers with a reason."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        UPHELD = "upheld", _("upheld")
        REJECTED = "rejected", _("rejected")

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="appeals")
    snapshot = models.ForeignKey(
        ResultSnapshot, verbose_name=_("result appealed"), on_delete=models.PROTECT, related_name="appeals"
    )
    department = models.ForeignKey(
        "appraisal.Department", verbose_name=_("department"), on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("appealed by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("appealed at"), auto_now_add=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # An optional attachment, kept under PRIVATE_ROOT (outside the static and media roots) and served only
    # to organizers and auditors; its type is the one read from its content.
    attachment_path = models.CharField(_("attachment file"), max_length=200, blank=True, editable=False)
    attachment_name = models.CharField(_("attachment name"), max_length=200, blank=True)
    attachment_type = models.CharField(
        _("attachment type"),
        max_length=20,
        blank=True,
        choices=[("application/pdf", "PDF"), ("image/jpeg", "JPEG"), ("image/png", "PNG")],
    )
    attachment_size = models.PositiveIntegerField(_("attachment size (bytes)"), null=True, blank=True)
    attachment_sha256 = models.CharField(_("attachment SHA-256"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        ordering = ["meeting", "created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(state__in=["open", "upheld", "rejected"]), name="appeal_state_valid"),
            models.CheckConstraint(
                condition=Q(state="open") | (~Q(decision_reason="") & Q(decided_at__isnull=False)),
                name="appeal_decided_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.state}"
