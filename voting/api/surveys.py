"""Survey sheets (the city's phone survey): imported, listed and withdrawn."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import InvalidInput
from appraisal.schema import ApiErrorSerializer, StrictSerializer
from meetings.api import client_ip, refuse_unknown_form_fields
from meetings.permissions import meeting_for

from .. import selectors, services

SHEET_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary", "description": "the sheet (.xlsx or .csv)"}},
    "required": ["file"],
    "additionalProperties": False,
}


def sheet_upload(request):
    """The uploaded sheet of a multipart request (field "file"), nothing else in the form."""
    refuse_unknown_form_fields(request, {"file"})
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidInput(
            _('Send the sheet in the field "file".'),
            errors=[{"path": "file", "message": _("This field is required.")}],
        )
    return upload


def sheet_refused(exc) -> InvalidInput:
    """A sheet's problems (SheetInvalid) as the API's 400: one error per problem, with its row and column."""
    return InvalidInput(
        _("The sheet has problems; nothing was imported."),
        errors=[
            {
                "path": f"row {p['row'] or '-'} / {p['column'] or '-'}",
                "message": p["message"],
                "row": p["row"],
                "column": p["column"],
            }
            for p in exc.problems
        ],
    )


class SurveyImportedSerializer(serializers.Serializer):
    role = serializers.CharField()
    ballots = serializers.IntegerField()


class SurveyImportApi(APIView):
    """A role's survey ballots from a sheet (.xlsx or .csv, field "file")."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": SHEET_UPLOAD_SCHEMA},
        responses={
            201: OpenApiResponse(SurveyImportedSerializer, description="ballots imported"),
            409: OpenApiResponse(ApiErrorSerializer, description="the same file (by content) was imported already"),
            503: OpenApiResponse(ApiErrorSerializer, description="no worker read the sheet in time"),
        },
    )
    def post(self, request, meeting_id: int, role: str):
        from meetings.panel_sheets import SheetInvalid

        meeting = meeting_for(request.user, meeting_id, write=True)
        upload = sheet_upload(request)
        try:
            count = services.survey_import(
                meeting=meeting,
                role_code=role,
                fileobj=upload,
                filename=upload.name,
                actor=request.user,
                ip=client_ip(request),
            )
        except SheetInvalid as exc:
            raise sheet_refused(exc) from exc
        return Response({"role": role, "ballots": count}, status=201)


class SurveyBatchSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField(help_text="role code")
    role_name = serializers.CharField()
    filename = serializers.CharField()
    sha256 = serializers.CharField(help_text="SHA-256 of the file's bytes")
    ballots = serializers.IntegerField()
    imported_at = serializers.DateTimeField()
    imported_by = serializers.CharField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_by = serializers.CharField(allow_null=True)
    withdraw_reason = serializers.CharField()


def survey_batch_payload(batch) -> dict:
    return {
        "id": batch.pk,
        "role": batch.role.code,
        "role_name": batch.role.name,
        "filename": batch.filename,
        "sha256": batch.content_sha256,
        "ballots": batch.ballots,
        "imported_at": batch.created_at,
        "imported_by": batch.created_by.get_username() if batch.created_by else None,
        "withdrawn_at": batch.withdrawn_at,
        "withdrawn_by": batch.withdrawn_by.get_username() if batch.withdrawn_by else None,
        "withdraw_reason": batch.withdraw_reason,
    }


class SurveyBatchListSerializer(serializers.Serializer):
    batches = SurveyBatchSerializer(many=True)


class SurveyBatchListApi(APIView):
    """The meeting's imported survey sheets (batches), withdrawn ones included."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(SurveyBatchListSerializer, description="survey batches")})
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        response = Response(
            SurveyBatchListSerializer(
                {"batches": [survey_batch_payload(b) for b in selectors.survey_batches(meeting)]}
            ).data
        )
        response["Cache-Control"] = "no-store"
        return response


class SurveyWithdrawInput(StrictSerializer):
    reason = serializers.CharField(max_length=1000, allow_blank=False, trim_whitespace=True)


class SurveyWithdrawApi(APIView):
    """Withdraw an imported survey sheet with a reason: its ballots are voided (audited)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=SurveyWithdrawInput,
        responses={
            200: OpenApiResponse(SurveyBatchSerializer, description="the batch, withdrawn"),
            409: OpenApiResponse(ApiErrorSerializer, description="withdrawn already"),
        },
    )
    def post(self, request, meeting_id: int, batch_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = SurveyWithdrawInput(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.survey_withdraw(
            meeting=meeting,
            batch_id=batch_id,
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(SurveyBatchSerializer(survey_batch_payload(batch)).data)
