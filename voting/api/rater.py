"""What a rater's phone reads and sends: the seat's home, its ballot (token in the Authorization header)."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.parsers import DecimalJSONParser
from appraisal.schema import ApiErrorSerializer, StrictSerializer
from meetings.models import Presentation

from .. import selectors, services
from ..authentication import IsRater, RaterAuthentication
from ..models import Ballot


@extend_schema_field(
    {
        "anyOf": [{"type": "string"}, {"type": "number"}],
        "description": 'a number (as a JSON number or a string such as "55.5"), or a grade\'s code',
    }
)
class ScoreValueField(serializers.Field):
    """Taken as sent: the rater's form decides what is valid (voting.services.scores_validate)."""

    def to_internal_value(self, data):
        return data

    def to_representation(self, value):
        return value


class ScoresField(serializers.DictField):
    child = ScoreValueField()


class BallotSerializer(serializers.Serializer):
    presentation = serializers.IntegerField()
    department = serializers.CharField()
    receipt = serializers.CharField()
    state = serializers.ChoiceField(choices=Ballot.State.choices)
    scores = serializers.DictField(child=serializers.CharField())
    total = serializers.CharField()
    updated_at = serializers.DateTimeField()


class RaterMeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    date = serializers.DateField()
    mode = serializers.CharField()


class RaterSeatSerializer(serializers.Serializer):
    seat = serializers.IntegerField()
    name = serializers.CharField(allow_blank=True)
    department = serializers.CharField(allow_null=True)


class CodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class GradeChoiceSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    points = serializers.CharField()


class FormCriterionSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["numeric", "grade"])
    max = serializers.CharField(required=False, help_text="numeric criteria")
    step = serializers.CharField(required=False, help_text="numeric criteria")
    choices = GradeChoiceSerializer(many=True, required=False, help_text="grade criteria")


class QuotaSerializer(serializers.Serializer):
    criterion = serializers.CharField()
    grade = serializers.CharField()
    limit = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()


class AgendaItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    department = serializers.CharField()
    name = serializers.CharField()
    state = serializers.ChoiceField(choices=Presentation.State.choices)


class RaterPresentationSerializer(AgendaItemSerializer):
    recused = serializers.BooleanField()
    ballot = BallotSerializer(allow_null=True, help_text="the rater's own ballot, if any")


class RaterHomeSerializer(serializers.Serializer):
    meeting = RaterMeetingSerializer()
    rater = RaterSeatSerializer()
    role = CodeNameSerializer()
    form = FormCriterionSerializer(many=True)
    quota = QuotaSerializer(allow_null=True)
    presentations = RaterPresentationSerializer(many=True)


def rater_payload(view: selectors.RaterView) -> dict:
    rater = view.rater
    meeting = rater.meeting
    return {
        "meeting": {"id": meeting.pk, "title": meeting.title, "date": meeting.date.isoformat(), "mode": meeting.mode},
        "rater": {
            "seat": rater.seat_no,
            "name": rater.name,
            "department": rater.department.code if rater.department else None,
        },
        "role": {"code": rater.role.code, "name": rater.role.name},
        "form": [
            {
                "code": c.code,
                "name": c.name,
                "kind": c.kind,
                **(
                    {"max": str(c.max_value), "step": str(c.step)}
                    if c.kind == "numeric"
                    else {
                        "choices": [
                            {"code": code, "label": c.grade_labels[code], "points": str(points)}
                            for code, (_id, points) in c.grades.items()
                        ]
                    }
                ),
            }
            for c in view.form
        ],
        "quota": None
        if view.quota_limit is None
        else {
            "criterion": meeting.excellent_quota_criterion,
            "grade": meeting.excellent_quota_grade,
            "limit": view.quota_limit,
            "used": view.quota_used,
            "remaining": view.quota_remaining,
        },
        "presentations": [
            {
                "id": p.id,
                "order": p.order,
                "department": p.department,
                "name": p.name,
                "state": p.state,
                "recused": p.recused,
                "ballot": p.ballot,
            }
            for p in view.presentations
        ],
    }


class RaterApi(APIView):
    authentication_classes = [RaterAuthentication]
    permission_classes = [IsRater]

    @extend_schema(
        operation_id="rater_home",
        responses={200: RaterHomeSerializer},
    )
    def get(self, request):
        response = Response(rater_payload(selectors.rater_view(request.auth)))
        response["Cache-Control"] = "no-store"
        return response


class BallotInput(StrictSerializer):
    scores = ScoresField(help_text="criterion code -> value, every criterion of the rater's form")


class RaterBallotApi(APIView):
    authentication_classes = [RaterAuthentication]
    permission_classes = [IsRater]
    # JSON only: phones never ask for the browsable API, and a burst pays for every negotiation.
    renderer_classes = [JSONRenderer]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        operation_id="rater_ballot_put",
        request=BallotInput,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                {"type": "string", "pattern": services.IDEMPOTENCY_KEY_PATTERN, "maxLength": 255},
                OpenApiParameter.HEADER,
                required=False,
                description="client-generated; a repeat with the same body answers as the first time",
            )
        ],
        responses={
            200: OpenApiResponse(BallotSerializer, description="replaced the rater's earlier ballot"),
            201: OpenApiResponse(BallotSerializer, description="created"),
            403: OpenApiResponse(ApiErrorSerializer, description="recused: the rater's own department"),
            409: OpenApiResponse(
                ApiErrorSerializer, description="voting not open or closed, quota exceeded, or ballot voided"
            ),
            422: OpenApiResponse(ApiErrorSerializer, description="this Idempotency-Key came with another body"),
        },
    )
    def put(self, request, presentation_id: int):
        data = BallotInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.ballot_submit(
            rater=request.auth,
            presentation_id=presentation_id,
            scores=data.validated_data["scores"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        response = Response(result.payload, status=result.status)
        if result.repeated:
            response["Idempotent-Replayed"] = "true"
        return response
