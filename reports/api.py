"""Organizer and public API of the reports app (API.md)."""

import json
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import NotFound
from appraisal.schema import (
    NONZERO_POINTS,
    UNSIGNED_DECIMAL,
    ApiErrorSerializer,
    DecimalInputField,
    StrictSerializer,
    text_field,
)
from meetings.api import client_ip
from meetings.permissions import meeting_for
from meetings.services import COUNTDOWN_MAX_SECONDS
from voting.api import SHEET_UPLOAD_SCHEMA
from voting.models import Ballot

from . import selectors, services
from .models import Adjustment, AggregationRun, ResultSnapshot


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


class PublishInput(StrictSerializer):
    stage = serializers.ChoiceField(choices=["publicity", "final"], required=False, default="final")
    until = serializers.DateTimeField(required=False, help_text="the end of the public notice (stage publicity)")
    early_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="why the notice ends before `until`"
    )


class PublishApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PublishInput,
        responses={
            200: ResultsSerializer,
            202: OpenApiResponse(ResultsSerializer, description="four eyes: asked; another organizer confirms"),
            403: OpenApiResponse(ApiErrorSerializer, description="four eyes: the one who asked cannot confirm"),
            409: OpenApiResponse(
                ApiErrorSerializer,
                description="no snapshot, a stale one, a rehearsal, an open appeal, or a notice still running",
            ),
        },
    )
    def post(self, request, meeting_id: int):
        from . import publicity

        meeting = meeting_for(request.user, meeting_id, write=True)
        data = PublishInput(data=request.data or {})  # no body: final at once, as before
        data.is_valid(raise_exception=True)
        snapshot = publicity.publish(
            meeting=meeting,
            stage=data.validated_data["stage"],
            until=data.validated_data.get("until"),
            early_reason=data.validated_data.get("early_reason"),
            actor=request.user,
            ip=client_ip(request),
        )
        # Four eyes: asked, not yet final; another organizer's same request makes it final.
        waiting = data.validated_data["stage"] == "final" and snapshot.stage != "final"
        return Response(snapshot_payload(snapshot), status=202 if waiting else 200)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        services.snapshot_unpublish(meeting=meeting, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicResultsApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: ResultsSerializer})
    def get(self, request, meeting_id: int):
        snapshot = ResultSnapshot.objects.filter(
            meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
        ).first()
        if snapshot is None:
            raise NotFound(_("Nothing has been published for this meeting."))
        response = Response(snapshot_payload(snapshot))
        # A published snapshot never changes; it may be cached briefly anywhere (it can be unpublished).
        response["Cache-Control"] = "public, max-age=60"
        response["ETag"] = f'"{snapshot.digest}"'
        return response


class ComponentScoresInput(StrictSerializer):
    scores = serializers.DictField(
        child=DecimalInputField(pattern=UNSIGNED_DECIMAL, minimum=Decimal(0), maximum=Decimal("99999999.9999")),
        allow_empty=False,
        help_text="department code -> score",
    )


class ComponentImportedSerializer(serializers.Serializer):
    component = serializers.CharField()
    imported = serializers.IntegerField()


class ComponentScoresApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ComponentScoresInput,
        responses={200: ComponentImportedSerializer},
    )
    def post(self, request, meeting_id: int, code: str):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = ComponentScoresInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.component_scores_import(
            meeting=meeting, code=code, scores=data.validated_data["scores"], actor=request.user, ip=client_ip(request)
        )
        return Response({"component": code, "imported": count})


class ComponentSheetRowSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="the sheet's row number")
    department = serializers.CharField()
    scores = serializers.DictField(child=serializers.CharField(), help_text="per component code")


class ComponentSheetSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="commit it with POST .../component-sheets/{id}/commit")
    filename = serializers.CharField()
    rows = ComponentSheetRowSerializer(many=True)


class ComponentSheetCommittedSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="scores set")


class ComponentSheetApi(APIView):
    """Component scores from a sheet (.xlsx or .csv, field "file"): checked and previewed, nothing set yet."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": SHEET_UPLOAD_SCHEMA},
        responses={
            201: ComponentSheetSerializer,
            400: OpenApiResponse(ApiErrorSerializer, description="by row and column"),
            503: OpenApiResponse(ApiErrorSerializer, description="no worker read the sheet in time"),
        },
    )
    def post(self, request, meeting_id: int):
        from meetings.panel_sheets import SheetInvalid
        from voting.api import sheet_refused, sheet_upload

        meeting = meeting_for(request.user, meeting_id, write=True)
        upload = sheet_upload(request)
        try:
            sheet = services.component_sheet_preview(
                meeting=meeting, fileobj=upload, filename=upload.name, actor=request.user
            )
        except SheetInvalid as exc:
            raise sheet_refused(exc) from exc
        return Response({"id": str(sheet.pk), "filename": sheet.filename, "rows": sheet.rows}, status=201)


class ComponentSheetCommitApi(APIView):
    """Set every score of a previewed component sheet, all or nothing (audited)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: ComponentSheetCommittedSerializer})
    def post(self, request, meeting_id: int, sheet_id):
        meeting = meeting_for(request.user, meeting_id, write=True)
        count = services.component_sheet_commit(
            meeting=meeting, import_id=sheet_id, actor=request.user, ip=client_ip(request)
        )
        return Response({"imported": count})


class AdjustmentInput(StrictSerializer):
    department = text_field(max_length=50)
    points = DecimalInputField(
        pattern=NONZERO_POINTS, minimum=-services.ADJUSTMENT_LIMIT, maximum=services.ADJUSTMENT_LIMIT, nonzero=True
    )
    reason = text_field(max_length=2000)


class AdjustmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField()
    points = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    withdrawn = serializers.BooleanField()


def adjustment_payload(adjustment: Adjustment) -> dict:
    return {
        "id": adjustment.pk,
        "department": adjustment.department.code,
        "points": str(adjustment.points),
        "reason": adjustment.reason,
        "created_at": adjustment.created_at.isoformat(),
        "withdrawn": adjustment.withdrawn_at is not None,
    }


class AdjustmentsApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: AdjustmentSerializer(many=True)})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        adjustments = Adjustment.objects.filter(meeting=meeting).select_related("department").order_by("created_at")
        return Response([adjustment_payload(a) for a in adjustments])

    @extend_schema(
        request=AdjustmentInput,
        responses={201: AdjustmentSerializer},
    )
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = AdjustmentInput(data=request.data)
        data.is_valid(raise_exception=True)
        adjustment = services.adjustment_add(
            meeting=meeting,
            department_code=data.validated_data["department"],
            points=data.validated_data["points"],
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(adjustment_payload(adjustment), status=status.HTTP_201_CREATED)


class AdjustmentDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, meeting_id: int, adjustment_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        adjustment = (
            Adjustment.objects.filter(meeting=meeting, pk=adjustment_id).select_related("department", "meeting").first()
        )
        if adjustment is None:
            raise NotFound(_("No such adjustment."))
        services.adjustment_withdraw(adjustment=adjustment, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VetoInput(StrictSerializer):
    department = text_field(max_length=50)
    reason = text_field(max_length=2000)


class VetoSerializer(serializers.Serializer):
    department = serializers.CharField()
    reason = serializers.CharField()


class VetoesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VetoInput,
        responses={
            201: VetoSerializer,
            409: OpenApiResponse(ApiErrorSerializer, description="the department already has a veto"),
        },
    )
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = VetoInput(data=request.data)
        data.is_valid(raise_exception=True)
        veto = services.veto_set(
            meeting=meeting,
            department_code=data.validated_data["department"],
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response({"department": veto.department.code, "reason": veto.reason}, status=status.HTTP_201_CREATED)


class VetoDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, meeting_id: int, department: str):
        meeting = meeting_for(request.user, meeting_id, write=True)
        services.veto_withdraw(meeting=meeting, department_code=department, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- exports, voiding, audit, countdown -----------------------------------------------------------

EXPORT_TYPES = {
    "json": ("application/json", "ballots.json"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ranking.xlsx"),
    "csv": ("text/csv; charset=utf-8", "ranking.csv"),
    "pdf": ("application/pdf", "ranking.pdf"),
}


def export_response(snapshot, fmt: str, *, analysis: bool = False):
    """An export of the snapshot; with ``analysis`` (organizers and auditors) the stability and the rater
    diagnostics come with it (SCORING.md 13, 14). The public exports never carry them."""
    from django.http import HttpResponse

    from . import exports

    content_type, suffix = EXPORT_TYPES[fmt]
    if fmt == "json":
        body = json.dumps(exports.export_document(snapshot, analysis=analysis), ensure_ascii=False, indent=1)
    elif fmt == "xlsx":
        body = exports.to_xlsx(snapshot, analysis=analysis)
    elif fmt == "csv":
        body = exports.to_csv(snapshot)
    else:
        body = exports.to_pdf(snapshot, analysis=analysis)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="meeting-{snapshot.meeting_id}-snapshot-{snapshot.pk}-{suffix}"'
    )
    return response


EXPORT_RESPONSES = {
    (200, "application/json"): OpenApiResponse(
        {"type": "object", "description": "json: the anonymised ballots and the ranking, for verify_results"}
    ),
    **{
        (200, content_type.split(";")[0]): OpenApiTypes.BINARY
        for fmt, (content_type, _s) in EXPORT_TYPES.items()
        if fmt != "json"
    },
}


def _format(fmt: str) -> str:
    if fmt not in EXPORT_TYPES:
        raise NotFound(_("Exports come as json, xlsx, csv or pdf."))
    return fmt


class SnapshotExportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=EXPORT_RESPONSES)
    def get(self, request, meeting_id: int, snapshot_id: int, fmt: str):
        meeting = meeting_for(request.user, meeting_id, write=False)
        snapshot = ResultSnapshot.objects.filter(meeting=meeting, pk=snapshot_id).select_related("meeting").first()
        if snapshot is None:
            raise NotFound(_("No such result snapshot."))
        return export_response(snapshot, _format(fmt), analysis=True)


class PublicExportApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=EXPORT_RESPONSES)
    def get(self, request, meeting_id: int, fmt: str):
        snapshot = (
            ResultSnapshot.objects.filter(
                meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
            )
            .select_related("meeting")
            .first()
        )
        if snapshot is None:
            raise NotFound(_("Nothing has been published for this meeting."))
        response = export_response(snapshot, _format(fmt))
        response["Cache-Control"] = "public, max-age=60"
        return response


class ReceiptCheckSerializer(serializers.Serializer):
    receipt = serializers.CharField()
    counted = serializers.BooleanField()
    invalid = serializers.BooleanField(help_text="declared invalid by the meeting's rule (SCORING.md 11)")
    stage = serializers.ChoiceField(choices=["publicity", "final"], help_text="公示中 or final")
    publicity_until = serializers.DateTimeField(allow_null=True)


class PublicReceiptApi(APIView):
    """Was this receipt's ballot counted in the published result?"""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: ReceiptCheckSerializer})
    def get(self, request, meeting_id: int, code: str):
        result = selectors.receipt_check(meeting_id=meeting_id, receipt=code)
        if result is None:
            raise NotFound(_("Nothing has been published for this meeting."))
        return Response(result)


class VoidInput(StrictSerializer):
    receipt = text_field(max_length=40)
    reason = text_field(max_length=2000)


class VoidedSerializer(serializers.Serializer):
    receipt = serializers.CharField()
    state = serializers.ChoiceField(choices=Ballot.State.choices)
    reason = serializers.CharField()


class BallotVoidApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VoidInput,
        responses={
            200: OpenApiResponse(VoidedSerializer, description="voided"),
            409: OpenApiResponse(ApiErrorSerializer, description="the ballot is already void"),
        },
    )
    def post(self, request, meeting_id: int):
        from voting.services import ballot_void

        meeting = meeting_for(request.user, meeting_id, write=True)
        data = VoidInput(data=request.data)
        data.is_valid(raise_exception=True)
        ballot = ballot_void(
            meeting=meeting,
            receipt=data.validated_data["receipt"],
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response({"receipt": ballot.receipt, "state": ballot.state, "reason": ballot.void_reason})


class AuditEntrySerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    time = serializers.DateTimeField()
    actor = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_null=True)
    action = serializers.CharField()
    details = serializers.DictField()
    hash = serializers.CharField()


class AuditLogSerializer(serializers.Serializer):
    intact = serializers.BooleanField()
    entries = AuditEntrySerializer(many=True)


class AuditLogApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: OpenApiResponse(
                AuditLogSerializer, description="the meeting's audit log and whether its chain is intact"
            )
        }
    )
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        entries = meeting.audit_entries.order_by("seq")
        return Response(
            {
                "intact": not selectors.audit_problems(meeting),
                "entries": [
                    {
                        "seq": e.seq,
                        "time": e.created_at.isoformat(),
                        "actor": e.actor_label,
                        "address": e.ip_address,
                        "action": e.action,
                        "details": e.details,
                        "hash": e.entry_hash,
                    }
                    for e in entries
                ],
            }
        )


class CountdownInput(StrictSerializer):
    seconds = serializers.IntegerField(
        min_value=1, max_value=COUNTDOWN_MAX_SECONDS, allow_null=True, help_text="null stops it"
    )


class CountdownSerializer(serializers.Serializer):
    countdown_ends_at = serializers.DateTimeField(allow_null=True)


class CountdownApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=CountdownInput, responses={200: OpenApiResponse(CountdownSerializer, description="countdown set")}
    )
    def post(self, request, meeting_id: int):
        from meetings.services import countdown_set

        meeting = meeting_for(request.user, meeting_id, write=True)
        data = CountdownInput(data=request.data)
        data.is_valid(raise_exception=True)
        meeting = countdown_set(
            meeting=meeting, seconds=data.validated_data["seconds"], actor=request.user, ip=client_ip(request)
        )
        return Response(
            {"countdown_ends_at": meeting.countdown_ends_at.isoformat() if meeting.countdown_ends_at else None}
        )
