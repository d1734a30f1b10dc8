"""What changes the meeting's record beside the vote: voiding a ballot, the audit log, the countdown."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.schema import (
    ApiErrorSerializer,
    StrictSerializer,
    text_field,
)
from meetings.api import client_ip
from meetings.permissions import meeting_for
from meetings.services import COUNTDOWN_MAX_SECONDS
from voting.models import Ballot

from .. import selectors


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
