from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from voting.services import meeting_seal


class Command(BaseCommand):
    help = (
        "Seal a final meeting's ballots: rewritten in one transaction and in random physical order, so that a "
        "backup taken afterwards tells nothing of who voted when. Run it as the tables' owner (docs/operations.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)

    def handle(self, *args, **options):
        if not Meeting.objects.filter(pk=options["meeting"]).exists():
            raise CommandError(f"No meeting {options['meeting']}")
        result = meeting_seal(meeting_id=options["meeting"])
        if not result["physical"]:
            raise CommandError(
                f"{result['ballots']} ballots rewritten, but the tables were not reordered: run this command as "
                "the database owner of the tables (on PostgreSQL)."
            )
        self.stdout.write(self.style.SUCCESS(f"{result['ballots']} ballots sealed."))
