"""The live meeting state every phone polls, and who may follow it."""

from __future__ import annotations

import hashlib
import json
import logging
import time

from django.core.cache import cache

from meetings.models import Presentation
from meetings.services import rater_token_hash

logger = logging.getLogger(__name__)


LIVE_STATE_SECONDS = 2


def live_state_key(meeting_id: int) -> str:
    return f"meeting-live:{meeting_id}"


# Per process, for a fraction of the cache's lifetime: most polls never leave the worker.
_local_live: dict[int, tuple[float, dict]] = {}
LOCAL_LIVE_SECONDS = 1.0


_public_memo: dict[int, tuple[float, bool]] = {}
_token_memo: dict[str, tuple[float, int | None]] = {}
PUBLIC_MEMO_SECONDS = 5.0
TOKEN_MEMO_SECONDS = 60.0


def meeting_public(meeting_id: int) -> bool:
    """Whether anyone may follow the meeting: not a rehearsal, and its result published. Remembered a few
    seconds per process: two thousand phones poll."""
    from reports.models import ResultSnapshot

    now = time.monotonic()
    memo = _public_memo.get(meeting_id)
    if memo is not None and now - memo[0] < PUBLIC_MEMO_SECONDS:
        return memo[1]
    public = ResultSnapshot.objects.filter(
        meeting_id=meeting_id, published_at__isnull=False, meeting__rehearsal_of__isnull=True
    ).exists()
    _public_memo[meeting_id] = (now, public)
    return public


def token_meeting(token: str, ip: str) -> int | None:
    """The meeting of a rater's card (the live poll's credential), remembered a minute per process; unknown
    tokens count against the address as every other look-up does (voting.throttle)."""
    from ..authentication import rater_lookup

    key = rater_token_hash(token)
    now = time.monotonic()
    memo = _token_memo.get(key)
    if memo is not None and now - memo[0] < TOKEN_MEMO_SECONDS:
        return memo[1]
    # The ballot's shape: all a poll needs is the meeting, and the seat is then remembered for its ballots,
    # with the meeting's other seats where this process has not read them lately (voting.selectors.seats).
    rater = rater_lookup(token, ip, shape="poll")
    meeting_id = rater.meeting_id if rater is not None else None
    if rater is not None and len(_token_memo) < 100_000:
        _token_memo[key] = (now, meeting_id)
    return meeting_id


def meeting_live_state(meeting_id: int) -> dict | None:
    """The tiny state every phone polls: which presentation is open. Cached; the cache is optional."""
    now = time.monotonic()
    local = _local_live.get(meeting_id)
    if local is not None and now - local[0] < LOCAL_LIVE_SECONDS:
        return local[1]
    try:
        cached = cache.get(live_state_key(meeting_id))
    except Exception:  # a cache outage falls back to the database
        cached = None
    if cached is not None:
        _local_live[meeting_id] = (now, cached)
        return cached
    rows = list(
        Presentation.objects.filter(meeting_id=meeting_id)
        .order_by("order")
        .values_list("pk", "order", "state", "department__name", "meeting__countdown_ends_at")
    )
    if not rows:
        return None
    open_rows = [r for r in rows if r[2] == Presentation.State.OPEN]
    state = {
        "meeting": meeting_id,
        "open": [r[0] for r in open_rows],
        "current": None
        if not open_rows
        else {"id": open_rows[0][0], "order": open_rows[0][1], "name": open_rows[0][3]},
        "closed": sum(1 for r in rows if r[2] == Presentation.State.CLOSED),
        "total": len(rows),
        "countdown_ends_at": rows[0][4].isoformat() if rows[0][4] else None,
    }
    state["etag"] = hashlib.sha256(json.dumps(state, sort_keys=True).encode()).hexdigest()[:16]
    try:
        # Short-lived: even if an invalidation is lost to a cache outage, phones catch up within seconds.
        cache.set(live_state_key(meeting_id), state, LIVE_STATE_SECONDS)
    except Exception:
        logger.warning("cache unavailable; live state served from the database")
    _local_live[meeting_id] = (now, state)
    return state
