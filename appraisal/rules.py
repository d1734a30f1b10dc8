"""Rules of SCORING.md that both the setup check (meetings) and the scoring engine (reports) apply."""

import math
from decimal import Context, Decimal, localcontext


def rank_count(*, count: int | None, percent: Decimal | None, n: int) -> int:
    """SCORING.md 7: k from a count, or ceil(percent / 100 * n); 0 when neither is given."""
    if count is not None:
        return count
    if percent is not None:
        with localcontext(Context(prec=60)):
            return math.ceil(percent * n / Decimal(100))
    return 0
