"""Slowing down token guessing without ever throttling a hall of valid raters.

Only failed look-ups count, per client address. Past the limit, an address
gets 429 for any token not already seen working (a guess cannot be told from
a new card), while seats already in use keep voting: the whole hall sits
behind one NAT address. The counters live in the cache; if the cache is
down the rater path goes on unthrottled rather than failing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache

FAILURE_LIMIT = 30
WINDOW_SECONDS = 60
SEEN_SECONDS = 24 * 3600

logger = logging.getLogger(__name__)


def _safe(operation, default):
    try:
        return operation()
    except Exception:  # a cache outage must never block a ballot
        logger.warning("cache unavailable for rater throttling", exc_info=False)
        return default


def _failures_key(ip: str) -> str:
    return f"rater-failures:{ip}"


# A hall behind one address sends hundreds of requests a second: each process asks the cache
# about an address at most once a second, and remembers tokens it has already seen working.
_exceeded_memo: dict[str, tuple[float, bool]] = {}
_seen_memo: set[str] = set()
MEMO_SECONDS = 1.0


def failures_exceeded(ip: str) -> bool:
    now = time.monotonic()
    memo = _exceeded_memo.get(ip)
    if memo is not None and now - memo[0] < MEMO_SECONDS:
        return memo[1]
    exceeded = (_safe(lambda: cache.get(_failures_key(ip)), 0) or 0) >= FAILURE_LIMIT
    _exceeded_memo[ip] = (now, exceeded)
    return exceeded


def failure_record(ip: str) -> None:
    key = _failures_key(ip)
    _exceeded_memo.pop(ip, None)

    def incr():
        if cache.add(key, 1, WINDOW_SECONDS):
            return 1
        return cache.incr(key)

    _safe(incr, 0)


def token_cache_id(token: str) -> str:
    """What the cache knows a token by: an HMAC under SECRET_KEY, never the hash stored beside the seat
    in the database, so that Redis keys (and their remaining lifetimes, i.e. when a card was first
    opened) cannot be joined to the raters table (issue 13)."""
    return hmac.new(settings.SECRET_KEY.encode(), f"rater-cache:{token}".encode(), hashlib.sha256).hexdigest()


def token_seen(token: str) -> bool:
    """Mark a working token as seen; True if it had been seen before."""
    cache_id = token_cache_id(token)
    if cache_id in _seen_memo:
        return True
    seen = not _safe(lambda: cache.add(f"rater-seen:{cache_id}", 1, SEEN_SECONDS), True)
    if len(_seen_memo) < 100_000:
        _seen_memo.add(cache_id)
    return seen
