"""SCORING.md section 10: a base times coefficients (综合考核), as a pure function over Decimal.

    F(d) = q4( base(d) * product of the coefficients(d) + sum of d's adjustments )

exact until the one q4. A source is "meeting" (M(d)) or a component code (C_j(d)); a coefficient maps
its source's value linearly (value / full) or through a band table (the band with the largest min not
above the value).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, localcontext

WEIGHTED_SUM = "weighted_sum"
BASE_TIMES_COEFFICIENTS = "base_times_coefficients"


def coefficient(value: Decimal, mapping: Mapping) -> Decimal:
    """The coefficient a value maps to, exact (the caller rounds F once)."""
    from .scoring import EXACT

    if mapping["kind"] == "linear":
        with localcontext(EXACT):
            return value / Decimal(mapping["full"])
    chosen = None
    for band in mapping["bands"]:
        low = Decimal(band["min"])
        if low <= value and (chosen is None or low > chosen[0]):
            chosen = (low, Decimal(band["coefficient"]))
    if chosen is None:  # below every band: validation requires a band at 0, so only a negative value
        raise ValueError(f"no band for {value}")
    return chosen[1]


def source_value(source: str, *, meeting: Decimal | None, components: Mapping[str, Decimal | None]) -> Decimal | None:
    return meeting if source == "meeting" else components.get(source)


def product_final(
    final: Mapping,
    *,
    meeting: Decimal | None,
    components: Mapping[str, Decimal | None],
    adjustments: Decimal,
) -> Decimal | None:
    """F(d) under base_times_coefficients; None when a source value is missing (the caller flags it)."""
    from .scoring import EXACT, q4

    base = source_value(final["base"], meeting=meeting, components=components)
    if base is None:
        return None
    with localcontext(EXACT):
        product = base
        for item in final["coefficients"]:
            value = source_value(item["source"], meeting=meeting, components=components)
            if value is None:
                return None
            product *= coefficient(value, item["map"])
        return q4(product + adjustments)


def sources(final: Mapping) -> list[str]:
    """Every source the formula reads, base first."""
    return [final["base"], *(item["source"] for item in final["coefficients"])]
