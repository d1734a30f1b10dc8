"""Slowing down token guessing without ever throttling a hall of valid raters.

Only failed look-ups count, per client address. Past the limit, an address
gets 429 for any token not already seen working (a guess cannot be told from
a new card), while seats already in use keep voting: the whole hall sits
behind one NAT address. The counters live in the cache; if the cache is
down the rater path goes on unthrottled rather than failing.
"""

from __future__ import annotations

import logging

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


def failures_exceeded(ip: str) -> bool:
    return (_safe(lambda: cache.get(_failures_key(ip)), 0) or 0) >= FAILURE_LIMIT


def failure_record(ip: str) -> None:
    key = _failures_key(ip)

    def incr():
        if cache.add(key, 1, WINDOW_SECONDS):
            return 1
        return cache.incr(key)

    _safe(incr, 0)


def token_seen(token_hash: str) -> bool:
    """Mark a working token as seen; True if it had been seen before."""
    return not _safe(lambda: cache.add(f"rater-seen:{token_hash}", 1, SEEN_SECONDS), True)
