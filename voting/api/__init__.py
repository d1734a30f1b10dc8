"""Rater API (token in the Authorization header) and the organizer's live control (API.md), by concept."""

from .control import (  # noqa: F401
    ID_STRING,
    MAX_ID,
    PresentationChoiceField,
    PresentationStateSerializer,
    PresentationTurnoutSerializer,
    ProgressApi,
    ProgressSerializer,
    RoleTurnoutSerializer,
    VotingApi,
    VotingChangedSerializer,
    VotingInput,
)
from .paper import (  # noqa: F401
    PaperEntryApi,
    PaperEntryInput,
    PaperEntrySerializer,
    PaperResolveApi,
    PaperResolveInput,
    paper_payload,
)
from .rater import (  # noqa: F401
    AgendaItemSerializer,
    BallotInput,
    BallotSerializer,
    CodeNameSerializer,
    FormCriterionSerializer,
    GradeChoiceSerializer,
    QuotaSerializer,
    RaterApi,
    RaterBallotApi,
    RaterHomeSerializer,
    RaterMeetingSerializer,
    RaterPresentationSerializer,
    RaterSeatSerializer,
    ScoresField,
    ScoreValueField,
    rater_payload,
)
from .surveys import (  # noqa: F401
    SHEET_UPLOAD_SCHEMA,
    SurveyBatchListApi,
    SurveyBatchListSerializer,
    SurveyBatchSerializer,
    SurveyImportApi,
    SurveyImportedSerializer,
    SurveyWithdrawApi,
    SurveyWithdrawInput,
    sheet_refused,
    sheet_upload,
    survey_batch_payload,
)
