"""The API of public notice and appeals (API.md, "Additions (turn 2)")."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.parsers import DecimalJSONParser
from appraisal.schema import ApiErrorSerializer, StrictSerializer
from meetings.api import client_ip
from meetings.permissions import meeting_for

from . import publicity
from .models import Appeal, DepartmentContact


class AppealInput(StrictSerializer):
    department = serializers.CharField(max_length=50)
    reason = serializers.CharField(max_length=publicity.REASON_MAX, allow_blank=True, trim_whitespace=True)
    attachment = serializers.FileField(
        required=False,
        allow_empty_file=True,  # the service refuses an empty file with its own message
        help_text="optional, multipart only: a PDF, JPG or PNG up to 10 MB, its type read from its content",
    )


class AttachmentSerializer(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    url = serializers.CharField(help_text="organizers and auditors only")


class AppealSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    department = serializers.CharField()
    state = serializers.ChoiceField(choices=Appeal.State.choices)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    decision_reason = serializers.CharField(allow_blank=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    attachment = AttachmentSerializer(allow_null=True)


class AppealListSerializer(serializers.Serializer):
    appeals = AppealSerializer(many=True)


class DecisionInput(StrictSerializer):
    decision = serializers.ChoiceField(choices=["upheld", "rejected"])
    reason = serializers.CharField(max_length=publicity.REASON_MAX, allow_blank=True, trim_whitespace=True)


def appeal_payload(appeal: Appeal) -> dict:
    return {
        "id": appeal.pk,
        "department": appeal.department.code,
        "state": appeal.state,
        "reason": appeal.reason,
        "created_at": appeal.created_at,
        "decision_reason": appeal.decision_reason,
        "decided_at": appeal.decided_at,
        "attachment": {
            "name": appeal.attachment_name,
            "type": appeal.attachment_type,
            "size": appeal.attachment_size,
            "sha256": appeal.attachment_sha256,
            "url": reverse("appeal-attachment", args=[appeal.meeting_id, appeal.pk]),
        }
        if appeal.attachment_path
        else None,
    }


def _contact(user, meeting_id: int) -> DepartmentContact | None:
    if not user.is_authenticated:
        return None
    return (
        DepartmentContact.objects.select_related("meeting", "department")
        .filter(user=user, meeting_id=meeting_id)
        .first()
    )


class AppealsApi(APIView):
    """Appeals of a meeting: a department's contact appeals for its own department during the notice;
    organizers and auditors see all, a contact its department's."""

    permission_classes = [IsAuthenticated]
    parser_classes = [DecimalJSONParser, MultiPartParser]

    @extend_schema(responses={200: AppealListSerializer})
    def get(self, request, meeting_id: int):
        contact = _contact(request.user, meeting_id)
        appeals = Appeal.objects.select_related("department").order_by("created_at")
        if contact is not None:
            appeals = appeals.filter(meeting_id=meeting_id, department=contact.department)
        else:
            meeting = meeting_for(request.user, meeting_id, write=False)
            appeals = appeals.filter(meeting=meeting)
        response = Response(AppealListSerializer({"appeals": [appeal_payload(a) for a in appeals]}).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        request=AppealInput,
        responses={
            201: OpenApiResponse(AppealSerializer, description="the appeal, open"),
            400: OpenApiResponse(ApiErrorSerializer, description="no reason, or the attachment is not what it says"),
            403: OpenApiResponse(ApiErrorSerializer, description="not your department"),
            409: OpenApiResponse(ApiErrorSerializer, description="the result is not under public notice"),
            413: OpenApiResponse(ApiErrorSerializer, description="the attachment is larger than 10 MB"),
        },
    )
    def post(self, request, meeting_id: int):
        from .attachments import refuse_oversized_body

        refuse_oversized_body(request)
        contact = _contact(request.user, meeting_id)
        meeting = contact.meeting if contact else meeting_for(request.user, meeting_id, write=False)
        data = AppealInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = publicity.appeal_submit(
            meeting=meeting,
            department_code=data.validated_data["department"],
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
            attachment=data.validated_data.get("attachment"),
        )
        return Response(AppealSerializer(appeal_payload(appeal)).data, status=201)


class AppealAttachmentApi(APIView):
    """An appeal's attachment, to organizers and auditors only (a contact, or anyone else, gets 404)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(description="the file as sent")})
    def get(self, request, meeting_id: int, appeal_id: int):
        from django.http import FileResponse

        from appraisal.exceptions import NotFound

        from .attachments import path_of

        meeting = meeting_for(request.user, meeting_id, write=False)
        appeal = Appeal.objects.filter(meeting=meeting, pk=appeal_id).exclude(attachment_path="").first()
        if appeal is None:
            raise NotFound(_("This appeal has no attachment."))
        path = path_of(appeal.attachment_path)
        if not path.is_file():
            raise NotFound(_("The attachment's file is missing."))
        response = FileResponse(
            open(path, "rb"),  # noqa: SIM115 -- FileResponse closes it
            as_attachment=True,
            filename=appeal.attachment_name,
            content_type=appeal.attachment_type,
        )
        response["Cache-Control"] = "no-store"
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return response


class AppealDecisionApi(APIView):
    """The organizers decide an appeal, upheld or rejected, with a reason; once."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=DecisionInput,
        responses={
            200: AppealSerializer,
            409: OpenApiResponse(ApiErrorSerializer, description="decided already"),
        },
    )
    def post(self, request, meeting_id: int, appeal_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        appeal = publicity.appeal_decide(
            meeting=meeting,
            appeal_id=appeal_id,
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(AppealSerializer(appeal_payload(appeal)).data)


def feedback_for(user, meeting_id: int, code: str) -> dict:
    """A department's feedback as its contact (own department, published result only), an organizer or an
    auditor may read it; refusals as the API answers them."""
    from appraisal.exceptions import NotFound, PermissionRefused

    from .feedback import contact_of, department_feedback, feedback_snapshot

    contact = contact_of(user, meeting_id)
    if contact is not None:
        if contact.department.code != code:
            raise PermissionRefused(_("You may read only your own department's feedback."), code="not_your_department")
        meeting = contact.meeting
    else:
        meeting = meeting_for(user, meeting_id, write=False)
    snapshot = feedback_snapshot(meeting, contact=contact is not None)
    data = department_feedback(snapshot, code) if snapshot is not None else None
    if data is None:
        raise NotFound(_("No result for this department yet."))
    return data


class FeedbackApi(APIView):
    """A department's feedback (SCORING.md 3-7, 12, 13 for one department): its contact, organizers, auditors."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="the department's feedback")})
    def get(self, request, meeting_id: int, code: str):
        response = Response(feedback_for(request.user, meeting_id, code))
        response["Cache-Control"] = "no-store"
        return response
