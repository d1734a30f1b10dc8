"""Reads of the voting app, by concept: the seat behind a token and its keyed names (seats), a role's form
and the quota's reads (forms), what a rater's phone and the turnout show (pages), the live meeting state
(live). Import from here."""

from .forms import (  # noqa: F401
    FORM_MEMO_SECONDS,
    FormCriterion,
    _form_memo,
    _role_form_read,
    ballot_scores,
    quota_limit,
    quota_used,
    role_form,
)
from .live import (  # noqa: F401
    LIVE_STATE_SECONDS,
    LOCAL_LIVE_SECONDS,
    PUBLIC_MEMO_SECONDS,
    TOKEN_MEMO_SECONDS,
    _local_live,
    _public_memo,
    _token_memo,
    live_state_key,
    meeting_live_state,
    meeting_public,
    token_meeting,
)
from .pages import (  # noqa: F401
    RaterPresentation,
    RaterView,
    meeting_progress,
    rater_view,
    seat_ballot_counts,
    survey_batches,
)
from .seats import (  # noqa: F401
    BALLOT_COLUMNS,
    SEAT_MEMO_SECONDS,
    _hmac,
    _pruned,
    _rater_query,
    _seat_memo,
    _seated_meetings,
    idempotency_pseudonym,
    rater_by_token,
    rater_pseudonym,
    rater_pseudonyms,
    receipt_display,
    receipt_normalise,
    seat_lock_id,
    seat_pseudonym,
    seat_remembered,
)
