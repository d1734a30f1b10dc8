"""Decimals: the places every score keeps, and how to show one to people."""

import re
from decimal import Decimal

# Every score is kept, sent and hashed with 4 decimal places.
FOUR_PLACES = Decimal("0.0001")


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: 60.0000 -> "60", 0.5000 -> "0.5"."""
    return f"{value.normalize():f}"


# How many digits a number from outside may have on each side of the point. Far beyond any score,
# weight or count; what lies beyond is no number of ours, and some of it breaks later steps: 0E-1000000
# passes every comparison and check of a score, then PostgreSQL's numeric refuses to store it.
INPUT_MAX_PLACES = 20
INPUT_MAX_INTEGER_DIGITS = 20
_PLAIN_DECIMAL = re.compile(r"^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$")


def decimal_from_input(value) -> Decimal | None:
    """A number sent by a person or a client, as a Decimal in plain form; None when it is not one.

    Takes an int, a Decimal (JSON numbers are parsed exactly, appraisal.parsers) or a string written
    plainly ("88.5", "-2", "60"). A string in exponent form ("1E3", "0E-1000000") is refused; a JSON
    number written with an exponent (1e3) is normalised to its plain value (1000). Infinity, NaN and
    digits beyond INPUT_MAX_* places are refused. Every path that takes a number goes through here
    before any other check.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _PLAIN_DECIMAL.fullmatch(text) or len(text) > INPUT_MAX_PLACES + INPUT_MAX_INTEGER_DIGITS + 2:
            return None
        value = Decimal(text)
    elif isinstance(value, int):
        if abs(value) >= 10**INPUT_MAX_INTEGER_DIGITS:
            return None
        value = Decimal(value)
    if not isinstance(value, Decimal) or not value.is_finite():
        return None
    _sign, digits, exponent = value.as_tuple()
    if exponent < -INPUT_MAX_PLACES or len(digits) + exponent > INPUT_MAX_INTEGER_DIGITS:
        return None
    return value.quantize(Decimal(1)) if exponent > 0 else value
