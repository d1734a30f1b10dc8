"""The canonical, anonymised form of a ballot (SCORING.md section 8).

Pure. A counting ballot becomes one line of canonical JSON: keys sorted, no
spaces, non-ASCII kept, points as 4-place decimal strings. The line is
hashed once when the ballot is accepted and its SHA-256 stored beside it, so
a snapshot's digest hashes 32 bytes per ballot instead of rebuilding every
line; anyone holding the export rebuilds every line from the values it lists.
"""

import hashlib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from appraisal.numbers import FOUR_PLACES


def canonical_json(value) -> str:
    import json

    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def ballot_line(*, receipt: str, presentation: int, department: str, role: str, points: Mapping[str, Decimal]) -> str:
    return canonical_json(
        {
            "receipt": receipt,
            "presentation": presentation,
            "department": department,
            "role": role,
            "points": {
                code: str(value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)) for code, value in points.items()
            },
        }
    )


def line_digest(line: str) -> str:
    """SHA-256 (hex) of one canonical ballot line."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()
