"""Rater tokens: a seat's credential, stored only as a hash; reissue and revoke."""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from ..models import Rater
from .audit import audit_record

RATER_PATH_PREFIX = "/r/"


def rater_token_generate() -> str:
    """A 130-bit random token, lower-case base32 so it can be typed from a card."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=").lower()[:26]


def rater_token_hash(token: str) -> str:
    # The token has 128+ bits of entropy, so a plain SHA-256 is not brute-forceable;
    # a slow password hash would only slow down every rater request.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def rater_path(token: str) -> str:
    """The path of a rater's phone page; the link on the card and in the QR code."""
    return f"{RATER_PATH_PREFIX}{token}/"


@transaction.atomic
def rater_token_reissue(*, rater: Rater, actor: AbstractBaseUser | None, ip: str | None) -> str:
    """Give the seat a new token; the old one stops working at once. Returns the new token."""
    token = rater_token_generate()
    rater.token_hash = rater_token_hash(token)
    rater.token_issued_at = timezone.now()
    rater.revoked_at = None
    rater.save(update_fields=["token_hash", "token_issued_at", "revoked_at"])
    audit_record(
        meeting=rater.meeting, actor=actor, ip=ip, action="rater.token_reissued", details={"seat": rater.seat_no}
    )
    return token


@transaction.atomic
def rater_revoke(*, rater: Rater, actor: AbstractBaseUser | None, ip: str | None) -> None:
    if rater.revoked_at is not None:
        return
    rater.revoked_at = timezone.now()
    rater.save(update_fields=["revoked_at"])
    audit_record(meeting=rater.meeting, actor=actor, ip=ip, action="rater.revoked", details={"seat": rater.seat_no})
