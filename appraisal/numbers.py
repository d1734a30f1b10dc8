"""Showing decimals to people."""

from decimal import Decimal


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 60.0000 -> "60", 0.5000 -> "0.5"."""
    return f"{value.normalize():f}"
