"""Organizer/admin API of the meetings app."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import InvalidInput
from appraisal.parsers import DecimalJSONParser

from .services import ImportResult, meeting_import, rater_path
from .setup_document import SetupInvalid
from .setup_workbook import locate_errors, workbook_to_document


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


class CanImportMeetings(BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perm("meetings.add_meeting"))


def import_result_payload(result: ImportResult, *, build_url) -> dict:
    return {
        "meeting": result.meeting.pk,
        "raters": [
            {
                "seat": r.seat_no,
                "role": r.role,
                "name": r.name,
                "token": r.token,
                "url": build_url(rater_path(r.token)),
            }
            for r in result.raters
        ],
        "presentations": [{"id": pk, "department": code} for pk, code in result.presentations],
    }


ErrorSerializer = inline_serializer(
    "ValidationErrors",
    {
        "detail": serializers.CharField(),
        "code": serializers.CharField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)


class MeetingImportApi(APIView):
    """Create a whole meeting from a setup document (JSON body, or an .xlsx file in field "file")."""

    permission_classes = [IsAuthenticated, CanImportMeetings]
    parser_classes = [DecimalJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="meetings_import",
        request={"application/json": dict, "multipart/form-data": dict},
        responses={
            201: inline_serializer(
                "MeetingImported",
                {
                    "meeting": serializers.IntegerField(),
                    "raters": serializers.ListField(child=serializers.DictField()),
                    "presentations": serializers.ListField(child=serializers.DictField()),
                },
            ),
            400: OpenApiResponse(ErrorSerializer),
        },
    )
    def post(self, request):
        locations: dict[str, str] = {}
        if request.content_type.startswith("multipart/"):
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(
                    _('Send the workbook in the field "file".'),
                    errors=[{"path": "file", "message": _("This field is required.")}],
                )
            try:
                document, locations = workbook_to_document(upload)
            except SetupInvalid as exc:
                raise InvalidInput(_("The setup workbook has problems."), errors=exc.errors) from exc
        else:
            document = request.data
        try:
            result = meeting_import(document=document, actor=request.user, ip=client_ip(request))
        except SetupInvalid as exc:
            raise InvalidInput(
                _("The setup document has problems."), errors=locate_errors(exc.errors, locations)
            ) from exc
        payload = import_result_payload(result, build_url=request.build_absolute_uri)
        response = Response(payload, status=status.HTTP_201_CREATED)
        # The tokens are shown once: no cache may keep them.
        response["Cache-Control"] = "no-store"
        return response
