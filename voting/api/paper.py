"""Paper ballots typed in by two people, and their differences resolved."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.schema import ApiErrorSerializer, StrictSerializer
from meetings.api import client_ip
from meetings.permissions import meeting_for

from .. import services
from ..models import PaperEntry
from .control import MAX_ID
from .rater import ScoresField


class PaperEntryInput(StrictSerializer):
    seat = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    presentation = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    scores = ScoresField()


class PaperEntrySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    seat = serializers.IntegerField(allow_null=True, help_text="null once the entry counts: its seat is not kept")
    presentation = serializers.IntegerField()
    state = serializers.ChoiceField(choices=PaperEntry.State.choices)
    receipt = serializers.CharField(allow_null=True, help_text="once the entry counts")


def paper_payload(entry, seat: int | None = None) -> dict:
    """The entry as its typist sees it; the seat they sent is echoed, as it is no longer stored once counted."""
    from ..selectors import receipt_display

    return {
        "id": entry.pk,
        "seat": entry.seat_no if entry.seat_no is not None else seat,
        "presentation": entry.presentation_id,
        "state": entry.state,
        "receipt": receipt_display(entry.ballot.receipt) if entry.ballot_id else None,
    }


class PaperEntryApi(APIView):
    """Paper ballots, typed in twice by two people (blind); they count once both agree."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PaperEntryInput,
        responses={
            201: OpenApiResponse(PaperEntrySerializer, description="entry recorded"),
            409: OpenApiResponse(ApiErrorSerializer, description="entered twice already, or by the same person"),
        },
    )
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = PaperEntryInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.paper_entry_submit(
            meeting=meeting,
            seat_no=data.validated_data["seat"],
            presentation_id=data.validated_data["presentation"],
            scores=data.validated_data["scores"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(paper_payload(entry, seat=data.validated_data["seat"]), status=201)


class PaperResolveInput(StrictSerializer):
    scores = ScoresField()


class PaperResolveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PaperResolveInput,
        responses={
            200: OpenApiResponse(PaperEntrySerializer, description="resolved"),
            409: OpenApiResponse(ApiErrorSerializer, description="the entry is not a mismatch"),
        },
    )
    def post(self, request, meeting_id: int, entry_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = PaperResolveInput(data=request.data)
        data.is_valid(raise_exception=True)
        entry = services.paper_entry_resolve(
            meeting=meeting,
            entry_id=entry_id,
            scores=data.validated_data["scores"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response(paper_payload(entry))
