"""Set up the demo: the sample meeting, demo logins, and a few rater links printed."""

import copy
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from guardian.shortcuts import assign_perm

from appraisal.parsers import loads_exact
from meetings.api import import_result_payload
from meetings.models import Meeting
from meetings.services import meeting_import, meeting_previous_set

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
        parser.add_argument(
            "--no-previous",
            dest="previous",
            action="store_false",
            help="Do not add the published meeting of the cycle before (SCORING.md 12).",
        )

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
        previous = self._previous_year(document, users) if options["previous"] else None
        if previous is not None:
            meeting_previous_set(meeting=result.meeting, previous=previous, actor=users["admin"], ip=None)
            Meeting.objects.filter(pk=result.meeting.pk).update(
                streak_rule={"repeat_admonition": 2, "repeat_reward": 2}
            )

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

    def _previous_year(self, document: dict, users: dict) -> Meeting:
        """The same appraisal one cycle earlier, simulated and published, so that the demo shows ranks
        moving and repeat flags (SCORING.md 12). Its ballots come from the same departments' quality with
        other raters' draws: close to this year's, not the same."""
        from reports.services import snapshot_compute, snapshot_publish
        from voting.simulation import ballots_simulate

        earlier = copy.deepcopy(document)
        year = earlier["cycle"]["year"] - 1
        earlier["cycle"] = {"year": year, "name": earlier["cycle"]["name"].replace(str(year + 1), str(year))}
        earlier["meeting"]["title"] = earlier["meeting"]["title"].replace(str(year + 1), str(year))
        earlier["meeting"]["date"] = f"{year + 1}-01-20"
        meeting = meeting_import(document=earlier, actor=users["admin"]).meeting
        for username, _password, _superuser, perm in DEMO_USERS:
            if perm:
                assign_perm(perm, users[username], meeting)
        ballots_simulate(meeting=meeting, seed=2022, turnout=0.9)
        snapshot_compute(meeting=meeting)
        snapshot_publish(meeting=meeting, actor=users["organizer"], ip=None)
        self.stdout.write(self.style.SUCCESS(f"Meeting {meeting.pk}: {meeting.title} (simulated and published)"))
        return meeting
