"""Per-meeting object permissions (django-guardian): organizers run, auditors read."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from .models import Meeting

ORGANIZE = "meetings.organize_meeting"
AUDIT = "meetings.audit_meeting"


def can_organize(user, meeting: Meeting) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(ORGANIZE, meeting))


def can_read(user, meeting: Meeting) -> bool:
    return bool(user and user.is_authenticated and (user.has_perm(ORGANIZE, meeting) or user.has_perm(AUDIT, meeting)))


def meeting_for(user, meeting_id, *, write: bool) -> Meeting:
    """The meeting if the user may read it (and change it, for ``write``).

    Someone with no right on the meeting gets 404, as if it did not exist; an
    auditor trying to change something gets 403. Django's exceptions, so that
    pages and the API (DRF maps them) answer alike.
    """
    meeting = Meeting.objects.filter(pk=meeting_id).first() if str(meeting_id).isdigit() else None
    if meeting is None or not can_read(user, meeting):
        raise Http404(_("No such meeting."))
    if write and not can_organize(user, meeting):
        raise PermissionDenied(_("You may read this meeting but not change it."))
    return meeting
