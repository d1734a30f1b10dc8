"""Publishing a result, and what the public reads of it: results, exports, receipt checks."""

import json

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import NotFound
from appraisal.schema import (
    ApiErrorSerializer,
    StrictSerializer,
)
from meetings.api import client_ip
from meetings.permissions import meeting_for

from .. import selectors, services
from ..models import ResultSnapshot
from .results import ResultsSerializer, snapshot_payload


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
        from .. import publicity

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

    from .. import exports

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
