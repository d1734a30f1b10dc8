"""Decimals: the places every score keeps, and how to show one to people."""

from decimal import Decimal

# Every score is kept, sent and hashed with 4 decimal places.
FOUR_PLACES = Decimal("0.0001")


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 60.0000 -> "60", 0.5000 -> "0.5"."""
    return f"{value.normalize():f}"
