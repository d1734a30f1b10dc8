"""Rater API (token in the Authorization header) and the organizer's live control (API.md)."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from appraisal.exceptions import InvalidInput, NotFound
from appraisal.parsers import DecimalJSONParser
from meetings.api import ErrorSerializer, client_ip
from meetings.permissions import meeting_for

from . import selectors, services
from .authentication import IsRater, RaterAuthentication

MAX_IDEMPOTENCY_KEY = 255


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
        responses={
            200: inline_serializer(
                "RaterHome", {"meeting": serializers.DictField(), "presentations": serializers.ListField()}
            ),
            401: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def get(self, request):
        response = Response(rater_payload(selectors.rater_view(request.auth)))
        response["Cache-Control"] = "no-store"
        return response


class BallotInput(serializers.Serializer):
    scores = serializers.JSONField()


class RaterBallotApi(APIView):
    authentication_classes = [RaterAuthentication]
    permission_classes = [IsRater]
    # JSON only: phones never ask for the browsable API, and a burst pays for every negotiation.
    renderer_classes = [JSONRenderer]
    parser_classes = [DecimalJSONParser]

    @extend_schema(
        operation_id="rater_ballot_put",
        request=BallotInput,
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
        responses={
            200: OpenApiResponse(description="replaced the rater's earlier ballot"),
            201: OpenApiResponse(description="created"),
            400: ErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
            422: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def put(self, request, presentation_id: str):
        if not presentation_id.isdigit():
            raise NotFound(_("There is no such presentation in your meeting."))
        key = request.headers.get("Idempotency-Key")
        if key is not None and (not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY or not key.isprintable()):
            raise InvalidInput(
                _("The Idempotency-Key header is not valid."),
                errors=[{"path": "Idempotency-Key", "message": _("1 to 255 printable characters.")}],
            )
        if not isinstance(request.data, dict) or set(request.data) - {"scores"}:
            raise InvalidInput(
                _('The body must be {"scores": {...}}.'),
                errors=[{"path": "", "message": _('Send only "scores".')}],
            )
        result = services.ballot_submit(
            rater=request.auth,
            presentation_id=int(presentation_id),
            scores=request.data.get("scores"),
            idempotency_key=key,
        )
        response = Response(result.payload, status=result.status)
        if result.repeated:
            response["Idempotent-Replayed"] = "true"
        return response


class VotingInput(serializers.Serializer):
    presentation = serializers.JSONField()
    action = serializers.ChoiceField(choices=["open", "close", "next"])

    def validate_presentation(self, value):
        if value == "all" or value is None:
            return None
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.isdigit())):
            raise serializers.ValidationError(_('A presentation id, or "all".'))
        return int(value)


class VotingApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VotingInput,
        responses={
            200: OpenApiResponse(description="the presentations that changed"),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
        },
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
        responses={200: OpenApiResponse(description="turnout per presentation and role"), 404: ErrorSerializer}
    )
    def get(self, request, meeting_id: int):
        meeting = meeting_for(request.user, meeting_id, write=False)
        response = Response(selectors.meeting_progress(meeting))
        response["Cache-Control"] = "no-store"
        return response


class PaperEntryInput(serializers.Serializer):
    seat = serializers.IntegerField(min_value=1)
    presentation = serializers.IntegerField(min_value=1)
    scores = serializers.JSONField()


def paper_payload(entry) -> dict:
    from .selectors import receipt_display

    return {
        "id": entry.pk,
        "seat": entry.seat_no,
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
            201: OpenApiResponse(description="entry recorded"),
            400: ErrorSerializer,
            403: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
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
        return Response(paper_payload(entry), status=201)


class PaperResolveInput(serializers.Serializer):
    scores = serializers.JSONField()


class PaperResolveApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PaperResolveInput,
        responses={
            200: OpenApiResponse(description="resolved"),
            400: ErrorSerializer,
            404: ErrorSerializer,
            409: ErrorSerializer,
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


class SurveyImportApi(APIView):
    """A role's survey ballots from a sheet (.xlsx or .csv, field "file")."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": dict},
        responses={201: OpenApiResponse(description="ballots imported"), 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request, meeting_id: int, role: str):
        from meetings.panel_sheets import SheetInvalid

        meeting = meeting_for(request.user, meeting_id, write=True)
        upload = request.FILES.get("file")
        if upload is None:
            raise InvalidInput(
                _('Send the sheet in the field "file".'),
                errors=[{"path": "file", "message": _("This field is required.")}],
            )
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
            raise InvalidInput(
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
            ) from exc
        return Response({"role": role, "ballots": count}, status=201)
