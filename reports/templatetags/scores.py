"""Scores as people read them (SCORING.md: 2 decimals to people; the API and exports keep 4)."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def score(value) -> str:
    """A score with 2 decimals, half up as SCORING.md rounds; a dash when there is none."""
    if value is None or value == "":
        return "–"
    try:
        return str(Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        return str(value)
