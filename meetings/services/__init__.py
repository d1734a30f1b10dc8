"""Writes and rules of the meetings app, by concept: the audit log, change counters, rater tokens, the
setup document, rater panels and copies. Import from here."""

from .audit import (  # noqa: F401
    GENESIS_HASH,
    audit_entry_hash,
    audit_record,
)
from .changes import (  # noqa: F401
    BALLOT_CHANGE_SHARDS,
    ballots_changed,
    meeting_changed,
    setup_changed,
)
from .panels import (  # noqa: F401
    meeting_copy,
    meeting_rehearsal_create,
    panel_import_commit,
    panel_import_preview,
    panel_kind_checked,
    raters_reissue,
)
from .setup import (  # noqa: F401
    COUNTDOWN_MAX_SECONDS,
    ImportResult,
    IssuedRater,
    countdown_set,
    meeting_import,
    meeting_previous_set,
    raters_create,
)
from .tokens import (  # noqa: F401
    RATER_PATH_PREFIX,
    rater_path,
    rater_revoke,
    rater_token_generate,
    rater_token_hash,
    rater_token_reissue,
)
