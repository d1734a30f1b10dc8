"""Deployment checks of our own: the demo's secrets must never reach production."""

from django.conf import settings
from django.core.checks import Error, Tags, register

DEMO_SECRET_PREFIX = "demo-"  # noqa: S105 - the marker of the demo values, not a secret


@register(Tags.security, deploy=True)
def secrets_are_set(app_configs, **kwargs):
    errors = []
    if settings.BALLOT_PSEUDONYM_KEY.startswith(DEMO_SECRET_PREFIX) or len(settings.BALLOT_PSEUDONYM_KEY) < 32:
        errors.append(
            Error(
                "BALLOT_PSEUDONYM_KEY is the demo key or shorter than 32 characters.",
                hint="Set a long random BALLOT_PSEUDONYM_KEY in the environment, kept out of the database and its backups.",
                id="kaoping.E001",
            )
        )
    if settings.SECRET_KEY.startswith(DEMO_SECRET_PREFIX):
        errors.append(
            Error("SECRET_KEY is the demo key.", hint="Set SECRET_KEY in the environment.", id="kaoping.E002")
        )
    return errors
