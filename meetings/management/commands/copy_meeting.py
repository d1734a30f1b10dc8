import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from meetings.cards import cards_pdf
from meetings.models import Meeting
from meetings.services import meeting_copy


class Command(BaseCommand):
    help = "Copy a meeting's scheme, rules, agenda and panel into a new meeting of a new cycle; cards to a PDF."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--cycle", required=True)
        parser.add_argument("--title", required=True)
        parser.add_argument("--date", required=True, help="YYYY-MM-DD")
        parser.add_argument("--cards", type=Path, required=True)

    def handle(self, *args, **options):
        source = Meeting.objects.filter(pk=options["meeting"]).first()
        if source is None:
            raise CommandError(f"No meeting {options['meeting']}")
        try:
            date = datetime.date.fromisoformat(options["date"])
        except ValueError as exc:
            raise CommandError("--date must be YYYY-MM-DD") from exc
        result = meeting_copy(
            source=source,
            cycle_year=options["year"],
            cycle_name=options["cycle"],
            title=options["title"],
            date=date,
            actor=None,
            ip=None,
        )
        options["cards"].write_bytes(
            cards_pdf(meeting=result.meeting, raters=result.raters, base_url=settings.PUBLIC_BASE_URL)
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Meeting {result.meeting.pk}: {len(result.presentations)} presentations, {len(result.raters)} seats; cards in {options['cards']}."
            )
        )
