"""Results and their analysis: aggregation runs, the snapshot's rows, diagnostics, the previous year."""

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import NotFound
from appraisal.schema import (
    StrictSerializer,
)
from meetings.api import client_ip
from meetings.permissions import meeting_for

from .. import selectors, services
from ..models import AggregationRun, ResultSnapshot


def snapshot_payload(snapshot: ResultSnapshot, *, analysis: bool = False) -> dict:
    """The snapshot as the API gives it; with ``analysis`` (organizers and auditors only) each row's
    stability and the invalid ballots per role (SCORING.md 11 and 13)."""
    rows = snapshot.rows
    payload = {
        "snapshot": snapshot.pk,
        "meeting": snapshot.meeting_id,
        "computed_at": snapshot.computed_at.isoformat(),
        "digest": snapshot.digest,
        "published": snapshot.published_at is not None,
        "published_at": snapshot.published_at.isoformat() if snapshot.published_at else None,
        "ballots_counted": snapshot.ballots_counted,
        # 公示中 until publicity_until, then final (a result published before notices existed is final).
        "stage": (snapshot.stage or "final") if snapshot.published_at else None,
        "publicity_until": snapshot.publicity_until.isoformat() if snapshot.publicity_until else None,
    }
    if analysis:
        figures = snapshot.analysis or {}
        stability = figures.get("stability", {})
        rows = [{**row, "stability": stability.get(row["department"])} for row in rows]
        payload["invalid"] = figures.get("invalid", {})
    payload["rows"] = rows
    return payload


def score_field(**kwargs):
    """A score as the snapshot carries it: a 4-place decimal string, null where there is none."""
    kwargs.setdefault("help_text", '4-place decimal, e.g. "86.2500"')
    return serializers.CharField(allow_null=True, **kwargs)


class RoleScoreSerializer(serializers.Serializer):
    score = score_field()
    ballots = serializers.IntegerField()
    kept = serializers.IntegerField()


class HistorySerializer(serializers.Serializer):
    previous_rank = serializers.IntegerField(allow_null=True)
    previous_final = score_field()
    rank_change = serializers.IntegerField(allow_null=True, help_text="previous rank - rank: positive moved up")
    reward_streak = serializers.IntegerField()
    admonition_streak = serializers.IntegerField()


class ResultRowSerializer(serializers.Serializer):
    department = serializers.CharField()
    name = serializers.CharField()
    category = serializers.CharField()
    scope = serializers.CharField(allow_null=True)
    role_scores = serializers.DictField(child=RoleScoreSerializer(), help_text="per role code")
    meeting_score = score_field()
    components = serializers.DictField(child=score_field(), help_text="per component code")
    adjustments = score_field()
    final = score_field()
    veto = serializers.BooleanField()
    rank = serializers.IntegerField(allow_null=True)
    bottom_rank = serializers.IntegerField(allow_null=True)
    reward = serializers.BooleanField()
    admonition = serializers.BooleanField()
    flags = serializers.ListField(child=serializers.CharField())
    missing_roles = serializers.ListField(child=serializers.CharField())
    history = HistorySerializer(required=False, help_text="with a previous meeting or a streak rule (SCORING.md 12)")


class StabilitySerializer(serializers.Serializer):
    reward_margin = score_field(help_text="F(d) minus the F across the reward line (SCORING.md 13)")
    admonition_margin = score_field(help_text="F(d) minus the F across the admonition line")
    rank_by_trim = serializers.DictField(child=serializers.IntegerField(allow_null=True), help_text='"0", "1", "2"')
    rank_range_weights = serializers.ListField(child=serializers.IntegerField(), help_text="[best, worst]")
    fragile = serializers.BooleanField()
    p_reward = serializers.CharField(help_text='share of bootstrap resamples, e.g. "0.97"')
    p_admonition = serializers.CharField()


class PreviousInput(StrictSerializer):
    meeting = serializers.IntegerField(
        allow_null=True, min_value=1, max_value=2**63 - 1, help_text="the previous meeting's id, or null for none"
    )


class PreviousSerializer(serializers.Serializer):
    meeting = serializers.IntegerField()
    previous = serializers.IntegerField(allow_null=True)


class MeetingPreviousApi(APIView):
    """The same appraisal one cycle earlier (SCORING.md 12); organizers of the meeting, who can read the other."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PreviousInput, responses={200: PreviousSerializer})
    def put(self, request, meeting_id: int):
        from meetings.services import meeting_previous_set

        meeting = meeting_for(request.user, meeting_id, write=True)
        data = PreviousInput(data=request.data)
        data.is_valid(raise_exception=True)
        previous = None
        if data.validated_data["meeting"] is not None:
            previous = meeting_for(request.user, data.validated_data["meeting"], write=False)
        meeting_previous_set(meeting=meeting, previous=previous, actor=request.user, ip=client_ip(request))
        return Response({"meeting": meeting.pk, "previous": previous.pk if previous else None})


class AnalysedRowSerializer(ResultRowSerializer):
    stability = StabilitySerializer(allow_null=True, help_text="null for an unranked department")


class InvalidCountSerializer(serializers.Serializer):
    raters = serializers.IntegerField()
    ballots = serializers.IntegerField()


class ResultsSerializer(serializers.Serializer):
    snapshot = serializers.IntegerField()
    meeting = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    digest = serializers.CharField()
    published = serializers.BooleanField()
    published_at = serializers.DateTimeField(allow_null=True)
    ballots_counted = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=["publicity", "final"], allow_null=True, help_text="null while unpublished")
    publicity_until = serializers.DateTimeField(allow_null=True)
    rows = ResultRowSerializer(many=True, help_text="in rank order, unranked ones last")


class AnalysedResultsSerializer(ResultsSerializer):
    invalid = serializers.DictField(child=InvalidCountSerializer(), help_text="per role code (SCORING.md 11)")
    rows = AnalysedRowSerializer(many=True, help_text="in rank order, unranked ones last")


def run_payload(request, run: AggregationRun) -> dict:
    return {
        "run": run.pk,
        "task_id": run.task_id,
        "state": run.state,
        "progress": run.progress,
        "attempts": run.attempts,
        "requested_at": run.requested_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "snapshot": run.snapshot_id,
        "error": run.error,
        "status_url": request.build_absolute_uri(reverse("aggregation-status", args=[run.meeting_id, run.pk])),
    }


class RunSerializer(serializers.Serializer):
    run = serializers.IntegerField()
    task_id = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=AggregationRun.State.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    attempts = serializers.IntegerField()
    requested_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    snapshot = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True, allow_null=True)
    status_url = serializers.URLField()


class AggregateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: RunSerializer})
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        run = services.aggregation_request(meeting=meeting, actor=request.user, ip=client_ip(request))
        return Response(run_payload(request, run), status=status.HTTP_202_ACCEPTED)


class AggregationStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: RunSerializer})
    def get(self, request, meeting_id: int, run_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        run = AggregationRun.objects.filter(meeting=meeting, pk=run_id).first()
        if run is None:
            raise NotFound(_("No such aggregation run."))
        if services.aggregation_requeue_if_stale(run=run):
            run.refresh_from_db()
        payload = run_payload(request, run)
        if run.state == AggregationRun.State.RUNNING:
            payload["progress"] = max(run.progress, _task_progress(run.task_id))
        return Response(payload)


def _task_progress(task_id: str) -> int:
    """The running task's own progress report; 0 when the result backend cannot say."""
    from celery.result import AsyncResult

    try:
        info = AsyncResult(task_id).info if task_id else None
    except Exception:  # an unreachable result backend only hides the percentage
        return 0
    return int(info.get("progress", 0)) if isinstance(info, dict) else 0


class ResultsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AnalysedResultsSerializer})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        snapshot = selectors.snapshot_latest(meeting)
        if snapshot is None:
            raise NotFound(_("No result has been computed for this meeting yet."))
        return Response(snapshot_payload(snapshot, analysis=True))


class RaterProfileSerializer(serializers.Serializer):
    alias = serializers.CharField(help_text="random per computation; never a seat, name or pseudonym")
    role = serializers.CharField()
    ballots = serializers.IntegerField()
    leniency = score_field()
    spread = score_field()
    extreme_share = score_field()
    flags = serializers.ListField(child=serializers.CharField(), help_text="lenient, severe, erratic, uniform")


class RoleAgreementSerializer(serializers.Serializer):
    agreement = score_field(help_text="Kendall's W, null with fewer than 3 raters or departments")
    raters = serializers.IntegerField(help_text="raters who scored every ranked department")


class DiagnosticsSerializer(serializers.Serializer):
    snapshot = serializers.IntegerField()
    roles = serializers.DictField(child=RoleAgreementSerializer(), help_text="per role code")
    raters = RaterProfileSerializer(many=True)


class DiagnosticsApi(APIView):
    """Anonymous rater diagnostics of the latest snapshot (SCORING.md 14): organizers and auditors."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: DiagnosticsSerializer})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        snapshot = selectors.snapshot_latest(meeting)
        if snapshot is None:
            raise NotFound(_("No result has been computed for this meeting yet."))
        diagnostics = (snapshot.analysis or {}).get("diagnostics", {"roles": {}, "raters": []})
        response = Response({"snapshot": snapshot.pk, **diagnostics})
        response["Cache-Control"] = "no-store"
        return response
