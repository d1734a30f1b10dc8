"""Slowing down token guessing without ever throttling a hall of valid raters.

Only failed look-ups count, per client address (appraisal.middleware.TrustedProxyMiddleware takes it from
X-Forwarded-For behind the proxies in TRUSTED_PROXIES). Past the limit, an unknown token gets 429 with
Retry-After; a valid token, new card or seat in use, always gets its answer: the whole hall may sit behind
one NAT address, and FAILURE_LIMIT is far above what 300 people mistyping reach in a minute. The counters
live in the cache; if the cache is down the rater path goes on unthrottled rather than failing.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

FAILURE_LIMIT = 600  # failed look-ups per address per window: two typos by each of 300 in a hall
WINDOW_SECONDS = 60

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
# about an address at most once a second.
_exceeded_memo: dict[str, tuple[float, bool]] = {}
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
