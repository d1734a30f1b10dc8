"""Mail to departments' contacts (联络员): the notice has started, an appeal is decided.

Sent after the write commits, through one connection of Django's mail backend (the console in the demo,
SMTP from the environment in production, EMAIL_TIMEOUT bounding each). A mail that fails is logged, never
undoes the organizer's step: the contact also sees both on the feedback page. The mails are few (one per
contact with an address), so they go from the request itself, where a test can see them, not from a worker.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import Appeal, DepartmentContact, ResultSnapshot

logger = logging.getLogger(__name__)


def _link(contact: DepartmentContact) -> str:
    return settings.PUBLIC_BASE_URL + reverse("feedback-page", args=[contact.meeting_id, contact.department.code])


def _send(messages: list[EmailMessage]) -> int:
    if not messages:
        return 0
    try:
        with get_connection() as connection:
            return connection.send_messages(messages) or 0
    except Exception:  # SMTP down or refusing: the step stands, the page shows the same news
        logger.exception("Mail to %d contact(s) not sent", len(messages))
        return 0


def _with_address(**where) -> list[DepartmentContact]:
    return list(DepartmentContact.objects.filter(**where).exclude(email="").select_related("department", "meeting"))


def notice_started(snapshot: ResultSnapshot) -> None:
    """Each contact of the meeting with an address hears that the result is under notice, until when."""
    contacts = _with_address(meeting_id=snapshot.meeting_id)
    with translation.override(settings.LANGUAGE_CODE):
        until = timezone.localtime(snapshot.publicity_until).strftime("%Y-%m-%d %H:%M")
        messages = [
            EmailMessage(
                subject=_("%(meeting)s: the result is under public notice") % {"meeting": c.meeting.title},
                body=_(
                    "%(department)s:\n\nThe result of %(meeting)s is under public notice until %(until)s. "
                    "Your department's feedback: %(link)s\n\nIf you find your department's result wrong, "
                    "log in and appeal with your reasons before the notice ends."
                )
                % {"department": c.department.name, "meeting": c.meeting.title, "until": until, "link": _link(c)},
                to=[c.email],
            )
            for c in contacts
        ]
    sent = _send(messages)
    logger.info("Notice of meeting %s: %d mail(s) sent", snapshot.meeting_id, sent)


def appeal_decided(appeal: Appeal) -> None:
    """The appealing department's contacts with an address hear the decision and its reason."""
    contacts = _with_address(meeting_id=appeal.meeting_id, department_id=appeal.department_id)
    with translation.override(settings.LANGUAGE_CODE):
        decision = _("upheld") if appeal.state == Appeal.State.UPHELD else _("rejected")
        messages = [
            EmailMessage(
                subject=_("%(meeting)s: your appeal is decided") % {"meeting": c.meeting.title},
                body=_(
                    "%(department)s:\n\nYour appeal of %(date)s is %(decision)s.\nReason: %(reason)s\n\n"
                    "Your department's feedback: %(link)s"
                )
                % {
                    "department": c.department.name,
                    "date": timezone.localtime(appeal.created_at).strftime("%Y-%m-%d %H:%M"),
                    "decision": decision,
                    "reason": appeal.decision_reason,
                    "link": _link(c),
                },
                to=[c.email],
            )
            for c in contacts
        ]
    _send(messages)


def on_commit_notice_started(snapshot: ResultSnapshot) -> None:
    transaction.on_commit(lambda: notice_started(snapshot))


def on_commit_appeal_decided(appeal: Appeal) -> None:
    transaction.on_commit(lambda: appeal_decided(appeal))
