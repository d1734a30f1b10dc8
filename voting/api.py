"""Rater API (token in the Authorization header) and the organizer's live control (API.md)."""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import InvalidInput
from appraisal.parsers import DecimalJSONParser
from appraisal.schema import ApiErrorSerializer, StrictSerializer
from meetings.api import client_ip, refuse_unknown_form_fields
from meetings.models import Presentation
from meetings.permissions import meeting_for

from . import selectors, services
from .authentication import IsRater, RaterAuthentication
from .models import Ballot, PaperEntry


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
    from .selectors import receipt_display

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
