"""Ballots and their values.

A ballot never points at its rater seat. It carries a pseudonym, an HMAC of
the seat with BALLOT_PSEUDONYM_KEY (not in the database): whoever holds the
key and the seat can find the seat's ballot; a database dump alone cannot
tell who cast which ballot.
"""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from appraisal.models import SCORE_DIGITS, Criterion, Grade, RaterRole
from meetings.models import Presentation


def random_id() -> int:
    """A random positive 63-bit primary key: ids that reveal nothing of the order ballots came in
    (issue 13). Collisions are as likely as guessing a receipt twice; the primary key refuses one."""
    return secrets.randbits(62) + 1


def random_ids(count: int) -> list[int]:
    """``count`` ids as random_id draws them, from one read of the system's randomness instead of one each:
    a phone ballot takes four (the ballot, its values, its idempotency record)."""
    drawn = secrets.token_bytes(8 * count)
    return [(int.from_bytes(drawn[i : i + 8], "big") >> 2) + 1 for i in range(0, 8 * count, 8)]


def coarse_now():
    """The hour: the finest time a ballot row keeps when its presentation's opening is not given
    (voting.services.ballot_time)."""
    from django.utils import timezone

    return timezone.now().replace(minute=0, second=0, microsecond=0)


class SurveyBatch(models.Model):
    """One imported survey sheet (电话满意度调查) of a role: its ballots count together and are withdrawn
    together. The file's SHA-256 refuses the same sheet twice while a batch of it counts."""

    meeting = models.ForeignKey(
        "meetings.Meeting", verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="survey_batches"
    )
    role = models.ForeignKey(RaterRole, verbose_name=_("rater role"), on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    content_sha256 = models.CharField(_("file SHA-256"), max_length=64)
    ballots = models.PositiveIntegerField(_("ballots"))
    created_by = models.ForeignKey(  # empty when imported from the command line
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("withdrawn by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    withdraw_reason = models.TextField(_("reason for withdrawal"), blank=True)

    class Meta:
        verbose_name = _("survey batch")
        verbose_name_plural = _("survey batches")
        ordering = ["meeting", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "content_sha256"],
                condition=Q(withdrawn_at__isnull=True),
                name="survey_batch_one_live_per_file",
            ),
            models.CheckConstraint(
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""), name="survey_batch_withdraw_reason"
            ),
        ]

    def __str__(self) -> str:
        return self.filename


class Ballot(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        VOID = "void", _("void")

    class Source(models.TextChoices):
        PHONE = "phone", _("phone")
        PAPER = "paper", _("paper ballot")
        SURVEY = "survey", _("survey import")

    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    presentation = models.ForeignKey(
        Presentation, verbose_name=_("presentation"), on_delete=models.PROTECT, related_name="ballots"
    )
    role = models.ForeignKey(RaterRole, verbose_name=_("rater role"), on_delete=models.PROTECT, related_name="ballots")
    pseudonym = models.CharField(_("seat pseudonym"), max_length=64, editable=False)
    receipt = models.CharField(_("receipt code"), max_length=20, unique=True, editable=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SUBMITTED)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.PHONE)
    # Computed once when the ballot is accepted, so aggregation never re-adds values.
    total = models.DecimalField(_("total"), **SCORE_DIGITS)
    # Also computed once on acceptance: the SHA-256 of the anonymised canonical line (voting.canonical).
    line_sha256 = models.CharField(_("canonical line digest"), max_length=64, editable=False, default="")
    # No finer than the presentation's voting window (its opening time), so that no one can read the
    # order of the ballots from them (voting.services.ballot_time).
    created_at = models.DateTimeField(_("created at"), default=coarse_now)
    updated_at = models.DateTimeField(_("updated at"), default=coarse_now)
    void_reason = models.TextField(_("void reason"), blank=True)
    # Survey ballots only: the sheet they came from, so that a sheet is withdrawn as a whole.
    survey_batch = models.ForeignKey(
        SurveyBatch,
        verbose_name=_("survey batch"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ballot_set",
    )
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        ordering = ["presentation", "receipt"]
        constraints = [
            models.UniqueConstraint(fields=["presentation", "pseudonym"], name="ballot_one_per_seat_and_presentation"),
            models.CheckConstraint(condition=Q(state__in=["submitted", "void"]), name="ballot_state_valid"),
            models.CheckConstraint(condition=Q(source__in=["phone", "paper", "survey"]), name="ballot_source_valid"),
            models.CheckConstraint(condition=Q(total__gte=0), name="ballot_total_non_negative"),
            models.CheckConstraint(
                condition=Q(state="submitted") | (~Q(void_reason="") & Q(voided_at__isnull=False)),
                name="ballot_void_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["pseudonym"], name="ballot_pseudonym"),
            models.Index(fields=["presentation", "role", "state"], name="ballot_aggregation"),
        ]

    def __str__(self) -> str:
        return self.receipt


class BallotValue(models.Model):
    """One criterion's value on a ballot: the number given, or the chosen grade and its points."""

    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    ballot = models.ForeignKey(Ballot, verbose_name=_("ballot"), on_delete=models.CASCADE, related_name="values")
    criterion = models.ForeignKey(Criterion, verbose_name=_("criterion"), on_delete=models.PROTECT, related_name="+")
    grade = models.ForeignKey(
        Grade, verbose_name=_("grade"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    points = models.DecimalField(_("points"), **SCORE_DIGITS)

    class Meta:
        verbose_name = _("ballot value")
        verbose_name_plural = _("ballot values")
        constraints = [
            models.UniqueConstraint(fields=["ballot", "criterion"], name="ballot_value_one_per_criterion"),
            models.CheckConstraint(condition=Q(points__gte=0), name="ballot_value_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion.code}={self.points}"


class IdempotencyRecord(models.Model):
    """The first answer to a (seat, Idempotency-Key): a retry gets it again and changes nothing.

    Kept in the database, not only in a cache, so it survives a Redis outage."""

    id = models.BigIntegerField(primary_key=True, default=random_id, editable=False)
    # An HMAC of the seat and the key (voting.selectors.idempotency_pseudonym): records of one seat share nothing.
    pseudonym = models.CharField(_("seat pseudonym"), max_length=64)
    key = models.CharField(_("idempotency key"), max_length=255)
    request_hash = models.CharField(_("request hash"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response = models.JSONField(_("response"))
    created_at = models.DateTimeField(_("created at"), default=coarse_now)  # as coarse as the ballot's

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["pseudonym", "key"], name="idempotency_unique_key"),
        ]

    def __str__(self) -> str:
        return self.key


class PaperEntry(models.Model):
    """A paper ballot typed in by staff, twice, blind. It counts only once two people agree (or
    an organizer resolves a mismatch).

    The seat number is kept only while the entry waits for its second entry or a decision; once it
    counts, the number is dropped and only the ballot (keyed by its pseudonym) remains. An entry never
    holds a pseudonym: a row with both would link the seat to its ballots (issue 13)."""

    class State(models.TextChoices):
        AWAITING_SECOND = "awaiting", _("awaiting the second entry")
        MATCHED = "matched", _("both entries match: counted")
        MISMATCH = "mismatch", _("entries differ: to be resolved")
        RESOLVED = "resolved", _("resolved by an organizer: counted")

    presentation = models.ForeignKey(
        Presentation, verbose_name=_("presentation"), on_delete=models.PROTECT, related_name="paper_entries"
    )
    role = models.ForeignKey(RaterRole, verbose_name=_("rater role"), on_delete=models.PROTECT, related_name="+")
    seat_no = models.PositiveIntegerField(_("seat number"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.AWAITING_SECOND)
    first_scores = models.JSONField(_("first entry"))
    first_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("first entered by"), on_delete=models.PROTECT, related_name="+"
    )
    second_scores = models.JSONField(_("second entry"), null=True, blank=True)
    second_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("second entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("resolved by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ballot = models.ForeignKey(
        Ballot, verbose_name=_("ballot"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("paper ballot entry")
        verbose_name_plural = _("paper ballot entries")
        ordering = ["presentation", "seat_no"]
        constraints = [
            models.UniqueConstraint(
                fields=["presentation", "seat_no"],
                condition=Q(seat_no__isnull=False),
                name="paper_entry_one_per_seat",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["matched", "resolved"], seat_no__isnull=True)
                | Q(state__in=["awaiting", "mismatch"], seat_no__isnull=False),
                name="paper_entry_seat_only_until_counted",
            ),
            models.CheckConstraint(
                condition=Q(state__in=["awaiting", "matched", "mismatch", "resolved"]), name="paper_entry_state_valid"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["matched", "resolved"]) | Q(ballot__isnull=False),
                name="paper_entry_counted_has_ballot",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seat_no or '–'} {self.presentation_id} {self.state}"
