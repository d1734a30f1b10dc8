"""Organizer and public API of the reports app (API.md)."""

import json
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import NotFound
from meetings.api import ErrorSerializer, client_ip
from meetings.permissions import meeting_for

from . import selectors, services
from .models import Adjustment, AggregationRun, ResultSnapshot

ScoreField = serializers.DecimalField(max_digits=12, decimal_places=4, coerce_to_string=True)


def snapshot_payload(snapshot: ResultSnapshot) -> dict:
    return {
        "snapshot": snapshot.pk,
        "meeting": snapshot.meeting_id,
        "computed_at": snapshot.computed_at.isoformat(),
        "digest": snapshot.digest,
        "published": snapshot.published_at is not None,
        "published_at": snapshot.published_at.isoformat() if snapshot.published_at else None,
        "ballots_counted": snapshot.ballots_counted,
        "rows": snapshot.rows,
    }


ResultsSerializer = inline_serializer(
    "Results",
    {
        "snapshot": serializers.IntegerField(),
        "meeting": serializers.IntegerField(),
        "computed_at": serializers.DateTimeField(),
        "digest": serializers.CharField(),
        "published": serializers.BooleanField(),
        "published_at": serializers.DateTimeField(allow_null=True),
        "ballots_counted": serializers.IntegerField(),
        "rows": serializers.ListField(child=serializers.DictField()),
    },
)


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


RunSerializer = inline_serializer(
    "AggregationRun",
    {
        "run": serializers.IntegerField(),
        "task_id": serializers.CharField(),
        "state": serializers.CharField(),
        "progress": serializers.IntegerField(),
        "status_url": serializers.URLField(),
    },
)


class AggregateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={202: RunSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        run = services.aggregation_request(meeting=meeting, actor=request.user, ip=client_ip(request))
        return Response(run_payload(request, run), status=status.HTTP_202_ACCEPTED)


class AggregationStatusApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: RunSerializer, 404: ErrorSerializer})
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

    @extend_schema(responses={200: ResultsSerializer, 404: ErrorSerializer})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        snapshot = selectors.snapshot_latest(meeting)
        if snapshot is None:
            raise NotFound(_("No result has been computed for this meeting yet."))
        return Response(snapshot_payload(snapshot))


class PublishApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: ResultsSerializer, 409: ErrorSerializer, 404: ErrorSerializer})
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        snapshot = services.snapshot_publish(meeting=meeting, actor=request.user, ip=client_ip(request))
        return Response(snapshot_payload(snapshot))

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer})
    def delete(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        services.snapshot_unpublish(meeting=meeting, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class PublicResultsApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: ResultsSerializer, 404: ErrorSerializer})
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


class ComponentScoresInput(serializers.Serializer):
    scores = serializers.DictField(
        child=serializers.DecimalField(max_digits=12, decimal_places=4, min_value=Decimal(0)), allow_empty=False
    )


class ComponentScoresApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ComponentScoresInput,
        responses={
            200: inline_serializer(
                "ComponentImported", {"component": serializers.CharField(), "imported": serializers.IntegerField()}
            ),
            400: ErrorSerializer,
            404: ErrorSerializer,
        },
    )
    def post(self, request, meeting_id: int, code: str):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = ComponentScoresInput(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.component_scores_import(
            meeting=meeting, code=code, scores=data.validated_data["scores"], actor=request.user, ip=client_ip(request)
        )
        return Response({"component": code, "imported": count})


class AdjustmentInput(serializers.Serializer):
    department = serializers.CharField(max_length=50)
    points = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=Decimal(-1000), max_value=Decimal(1000)
    )
    reason = serializers.CharField(max_length=2000)

    def validate_points(self, value):
        if value == 0:
            raise serializers.ValidationError(_("An adjustment of 0 points changes nothing."))
        return value


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

    @extend_schema(responses={200: serializers.ListSerializer(child=serializers.DictField()), 404: ErrorSerializer})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        adjustments = Adjustment.objects.filter(meeting=meeting).select_related("department").order_by("created_at")
        return Response([adjustment_payload(a) for a in adjustments])

    @extend_schema(
        request=AdjustmentInput,
        responses={201: OpenApiResponse(description="created"), 400: ErrorSerializer, 404: ErrorSerializer},
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

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer})
    def delete(self, request, meeting_id: int, adjustment_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        adjustment = (
            Adjustment.objects.filter(meeting=meeting, pk=adjustment_id).select_related("department", "meeting").first()
        )
        if adjustment is None:
            raise NotFound(_("No such adjustment."))
        services.adjustment_withdraw(adjustment=adjustment, actor=request.user, ip=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class VetoInput(serializers.Serializer):
    department = serializers.CharField(max_length=50)
    reason = serializers.CharField(max_length=2000)


class VetoesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VetoInput,
        responses={201: OpenApiResponse(description="created"), 400: ErrorSerializer, 409: ErrorSerializer},
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

    @extend_schema(request=None, responses={204: None, 404: ErrorSerializer})
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


def export_response(snapshot, fmt: str):
    from django.http import HttpResponse

    from . import exports

    content_type, suffix = EXPORT_TYPES[fmt]
    if fmt == "json":
        body = json.dumps(exports.export_document(snapshot), ensure_ascii=False, indent=1)
    elif fmt == "xlsx":
        body = exports.to_xlsx(snapshot)
    elif fmt == "csv":
        body = exports.to_csv(snapshot)
    else:
        body = exports.to_pdf(snapshot)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="meeting-{snapshot.meeting_id}-snapshot-{snapshot.pk}-{suffix}"'
    )
    return response


def _format(fmt: str) -> str:
    if fmt not in EXPORT_TYPES:
        raise NotFound(_("Exports come as json, xlsx, csv or pdf."))
    return fmt


class SnapshotExportApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorSerializer})
    def get(self, request, meeting_id: int, snapshot_id: int, fmt: str):
        meeting = meeting_for(request.user, meeting_id, write=False)
        snapshot = ResultSnapshot.objects.filter(meeting=meeting, pk=snapshot_id).select_related("meeting").first()
        if snapshot is None:
            raise NotFound(_("No such result snapshot."))
        return export_response(snapshot, _format(fmt))


class PublicExportApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorSerializer})
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


class PublicReceiptApi(APIView):
    """Was this receipt's ballot counted in the published result?"""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        responses={
            200: inline_serializer(
                "ReceiptCheck", {"receipt": serializers.CharField(), "counted": serializers.BooleanField()}
            ),
            404: ErrorSerializer,
        }
    )
    def get(self, request, meeting_id: int, code: str):
        result = selectors.receipt_check(meeting_id=meeting_id, receipt=code)
        if result is None:
            raise NotFound(_("Nothing has been published for this meeting."))
        return Response(result)


class VoidInput(serializers.Serializer):
    receipt = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=2000)


class BallotVoidApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VoidInput,
        responses={
            200: OpenApiResponse(description="voided"),
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
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


class AuditLogApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={
            200: OpenApiResponse(description="the meeting's audit log and whether its chain is intact"),
            404: ErrorSerializer,
        }
    )
    def get(self, request, meeting_id: int):
        from meetings.selectors import audit_chain_problems

        meeting = meeting_for(request.user, meeting_id, write=False)
        entries = meeting.audit_entries.order_by("seq")
        return Response(
            {
                "intact": not audit_chain_problems(meeting=meeting),
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


class CountdownInput(serializers.Serializer):
    seconds = serializers.IntegerField(min_value=1, max_value=3600, allow_null=True)


class CountdownApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=CountdownInput, responses={200: OpenApiResponse(description="countdown set"), 400: ErrorSerializer}
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
