"""Writes and rules of the voting app, by concept: ballots as stored, the rater's own path (submit),
the organizer's live control, paper ballots, survey sheets and the seal. Everything is importable
from ``voting.services`` as before."""

from .ballots import (
    RECEIPT_ALPHABET,
    RECEIPT_LENGTH,
    RecordedBallot,
    SubmitResult,
    ballot_payload,
    ballot_store,
    ballot_time,
    ballots_bulk_record,
    quota_check,
    receipt_generate,
    request_fingerprint,
    scores_as_sent,
    scores_validate,
)
from .control import (
    ballot_void,
    meeting_live_forget,
    voting_set,
)
from .paper import (
    _entry_scores,
    _paper_refuse_over_cast_ballot,
    paper_entry_resolve,
    paper_entry_submit,
)
from .seal import (
    _SEAL_BALLOTS_SQL,
    _SEAL_PHYSICAL,
    _SEAL_RECORDS_SQL,
    _SEAL_VALUES_SQL,
    meeting_seal,
)
from .statements import SubmitContext
from .submit import (
    IDEMPOTENCY_KEY_PATTERN,
    _ballot_insert_postgresql,
    _idempotency_key,
    _submit_context,
    ballot_submit,
    ballot_submit_remembered,
)
from .surveys import (
    _file_sha256,
    _survey_refuse_duplicate,
    _survey_store,
    survey_import,
    survey_withdraw,
)

__all__ = [
    "IDEMPOTENCY_KEY_PATTERN",
    "RECEIPT_ALPHABET",
    "RECEIPT_LENGTH",
    "_SEAL_BALLOTS_SQL",
    "_SEAL_PHYSICAL",
    "_SEAL_RECORDS_SQL",
    "_SEAL_VALUES_SQL",
    "RecordedBallot",
    "SubmitContext",
    "SubmitResult",
    "_ballot_insert_postgresql",
    "_entry_scores",
    "_file_sha256",
    "_idempotency_key",
    "_paper_refuse_over_cast_ballot",
    "_submit_context",
    "_survey_refuse_duplicate",
    "_survey_store",
    "ballot_payload",
    "ballot_store",
    "ballot_submit",
    "ballot_submit_remembered",
    "ballot_time",
    "ballot_void",
    "ballots_bulk_record",
    "meeting_live_forget",
    "meeting_seal",
    "paper_entry_resolve",
    "paper_entry_submit",
    "quota_check",
    "receipt_generate",
    "request_fingerprint",
    "scores_as_sent",
    "scores_validate",
    "survey_import",
    "survey_withdraw",
    "voting_set",
]
