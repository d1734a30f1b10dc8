"""The city formula's inputs: component scores and sheets, adjustments, vetoes."""

from decimal import Decimal

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
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
from voting.api import SHEET_UPLOAD_SCHEMA

from .. import services
from ..models import Adjustment


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
