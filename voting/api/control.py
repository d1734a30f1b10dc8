"""The organizer's live control: opening and closing voting, and the turnout."""

import re

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.schema import StrictSerializer
from meetings.api import client_ip
from meetings.models import Presentation
from meetings.permissions import meeting_for

from .. import selectors, services
from .rater import AgendaItemSerializer

MAX_ID = 2**63 - 1


ID_STRING = r"^[1-9][0-9]{0,17}$"
_id_string = re.compile(ID_STRING)


@extend_schema_field(
    {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "pattern": ID_STRING},
            {"type": "string", "enum": ["all"]},
        ],
        "description": 'a presentation id (a number, or its digits as a string), or "all"; ignored by "next"',
    }
)
class PresentationChoiceField(serializers.Field):
    default_error_messages = {"invalid": gettext_lazy('A presentation id, or "all".')}

    def to_internal_value(self, data):
        if data == "all":
            return None
        if isinstance(data, str) and _id_string.fullmatch(data):
            return int(data)
        if isinstance(data, bool) or not isinstance(data, int) or not 1 <= data <= MAX_ID:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return "all" if value is None else value


class VotingInput(StrictSerializer):
    presentation = PresentationChoiceField()
    action = serializers.ChoiceField(choices=["open", "close", "next"])


class PresentationStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.ChoiceField(choices=Presentation.State.choices)


class VotingChangedSerializer(serializers.Serializer):
    changed = PresentationStateSerializer(many=True)


class RoleTurnoutSerializer(serializers.Serializer):
    name = serializers.CharField()
    expected = serializers.IntegerField(help_text="seats expected to vote (recusals excepted)")
    ballots = serializers.IntegerField(help_text="counting ballots in: hall + survey")
    hall = serializers.IntegerField(help_text="counting ballots from the seats (phone and paper)")
    survey = serializers.IntegerField(help_text="counting ballots from imported survey sheets")


class PresentationTurnoutSerializer(AgendaItemSerializer):
    roles = serializers.DictField(child=RoleTurnoutSerializer(), help_text="per role code")
    expected = serializers.IntegerField()
    ballots = serializers.IntegerField()
    hall = serializers.IntegerField()
    survey = serializers.IntegerField()


class ProgressSerializer(serializers.Serializer):
    meeting = serializers.IntegerField()
    presentations = PresentationTurnoutSerializer(many=True)


class VotingApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VotingInput,
        responses={200: OpenApiResponse(VotingChangedSerializer, description="the presentations that changed")},
    )
    def post(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=True)
        data = VotingInput(data=request.data)
        data.is_valid(raise_exception=True)
        changed = services.voting_set(
            meeting=meeting,
            presentation_id=data.validated_data["presentation"],
            action=data.validated_data["action"],
            actor=request.user,
            ip=client_ip(request),
        )
        return Response({"changed": [{"id": p.pk, "state": p.state} for p in changed]})


class ProgressApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses={200: OpenApiResponse(ProgressSerializer, description="turnout per presentation and role")}
    )
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        response = Response(selectors.meeting_progress(meeting))
        response["Cache-Control"] = "no-store"
        return response
