"""Set up the demo: the sample meeting, demo logins, and a few rater links printed."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from guardian.shortcuts import assign_perm

from appraisal.parsers import loads_exact
from meetings.api import import_result_payload
from meetings.services import meeting_import

DEMO_USERS = [
    # username, password, superuser, object permission on the meeting
    ("admin", "kaoping-admin", True, None),
    ("organizer", "kaoping-organizer", False, "meetings.organize_meeting"),
    ("auditor", "kaoping-auditor", False, "meetings.audit_meeting"),
]


class Command(BaseCommand):
    help = "Load the sample meeting with demo logins (for `make demo`)."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--links", type=int, default=5, help="How many rater links to print.")

    @transaction.atomic
    def handle(self, *args, **options):
        document = loads_exact(options["file"].read_text(encoding="utf-8"))
        User = get_user_model()
        users = {}
        for username, password, superuser, _perm in DEMO_USERS:
            user, _created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
            user.is_staff = True
            user.is_superuser = superuser
            user.set_password(password)
            user.save()
            users[username] = user
        result = meeting_import(document=document, actor=users["admin"])
        for username, _password, _superuser, perm in DEMO_USERS:
            if perm:
                assign_perm(perm, users[username], result.meeting)
        payload = import_result_payload(result, build_url=lambda p: settings.PUBLIC_BASE_URL + p)

        out = self.stdout
        out.write("")
        out.write(self.style.SUCCESS(f"Meeting {result.meeting.pk}: {result.meeting.title}"))
        out.write(f"  {len(result.presentations)} presentations, {len(result.raters)} rater seats")
        out.write("")
        out.write("Logins (http://127.0.0.1:8000/admin/):")
        for username, password, superuser, perm in DEMO_USERS:
            what = "superuser" if superuser else perm.split(".")[1].replace("_", " ")
            out.write(f"  {username:<10} {password:<18} {what}")
        out.write("")
        out.write("Rater links (one per seat; the card's QR code carries it):")
        shown = payload["raters"][: options["links"]] + [r for r in payload["raters"] if r["name"]]
        for r in shown:
            out.write(f"  #{r['seat']:<4} {r['role']:<13} {r['name'] or '':<4} {r['url']}")
        from rest_framework.authtoken.models import Token

        token, _created = Token.objects.get_or_create(user=users["organizer"])
        base, pk = settings.PUBLIC_BASE_URL, result.meeting.pk
        out.write("")
        out.write(f"Organizer console:  {base}/console/m/{pk}/   (log in as organizer)")
        out.write(f"Projector:          {base}/projector/m/{pk}/")
        out.write(f"Public results:     {base}/results/m/{pk}/   (after the organizer publishes)")
        out.write(f"API docs:           {base}/api/docs/")
        out.write(f"Organizer API:      curl -H 'Authorization: Token {token.key}' {base}/api/v1/meetings/{pk}/results")
