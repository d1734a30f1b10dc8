"""Organizer/admin API of the meetings app."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import InvalidInput
from appraisal.parsers import DecimalJSONParser

from .models import SheetJob
from .services import ImportResult, meeting_import, rater_path
from .setup_document import SetupInvalid
from .setup_workbook import locate_errors, setup_bytes_checked
from .sheet_reading import sheet_read


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


class IssuedRaterSerializer(serializers.Serializer):
    seat = serializers.IntegerField()
    role = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    token = serializers.CharField(help_text="shown once; only its hash is kept")
    url = serializers.URLField()


class ImportedPresentationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField()


class MeetingImportedSerializer(serializers.Serializer):
    meeting = serializers.IntegerField()
    raters = IssuedRaterSerializer(many=True)
    presentations = ImportedPresentationSerializer(many=True)


SETUP_DOCUMENT_SCHEMA = {
    "type": "object",
    "description": "The setup document of API.md (cycle, meeting, categories, departments, roles, raters, "
    "components). Its rules (forms add up, weights sum to 1, references resolve) are checked on import; "
    "every problem comes back at once with its JSON path.",
    "additionalProperties": True,
}

SETUP_WORKBOOK_SCHEMA = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary", "description": "the setup workbook (.xlsx)"}},
    "required": ["file"],
    "additionalProperties": False,
}


def refuse_unknown_form_fields(request, allowed: set[str]) -> None:
    """A multipart body may carry only the fields the operation reads."""
    unknown = sorted(set(request.data) - allowed)
    if unknown:
        raise InvalidInput(
            _("The form has fields this operation does not read."),
            errors=[{"path": name, "message": _("Unknown field.")} for name in unknown],
        )


class MeetingImportApi(APIView):
    """Create a whole meeting from a setup document (JSON body, or an .xlsx file in field "file")."""

    permission_classes = [IsAuthenticated, CanImportMeetings]
    parser_classes = [DecimalJSONParser, MultiPartParser]

    @extend_schema(
        operation_id="meetings_import",
        request={"application/json": SETUP_DOCUMENT_SCHEMA, "multipart/form-data": SETUP_WORKBOOK_SCHEMA},
        responses={201: MeetingImportedSerializer},
    )
    def post(self, request):
        locations: dict[str, str] = {}
        if request.content_type.startswith("multipart/"):
            refuse_unknown_form_fields(request, {"file"})
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(
                    _('Send the workbook in the field "file".'),
                    errors=[{"path": "file", "message": _("This field is required.")}],
                )
            try:
                document, locations = sheet_read(
                    data=setup_bytes_checked(upload), filename=upload.name, kind=SheetJob.Kind.SETUP, actor=request.user
                )
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
