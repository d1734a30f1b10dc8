from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from meetings.cards import cards_pdf
from meetings.models import Meeting, Rater
from meetings.services import raters_reissue


def seat_numbers(text: str) -> set[int]:
    seats: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            low, high = part.split("-", 1)
            seats.update(range(int(low), int(high) + 1))
        elif part.strip():
            seats.add(int(part))
    return seats


class Command(BaseCommand):
    help = "Issue new cards (new tokens) for seats of a meeting; their old cards stop working at once."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument("--seats", default="", help="e.g. 1-30,45 (default: every active seat)")
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        raters = Rater.objects.filter(meeting=meeting).select_related("role").order_by("seat_no")
        if options["seats"]:
            try:
                raters = raters.filter(seat_no__in=seat_numbers(options["seats"]))
            except ValueError as exc:
                raise CommandError(f"Seats look like 1-30,45: {exc}") from exc
        else:
            raters = raters.filter(revoked_at__isnull=True)
        issued = raters_reissue(meeting=meeting, raters=list(raters), actor=None, ip=None)
        options["out"].write_bytes(cards_pdf(meeting=meeting, raters=issued, base_url=settings.PUBLIC_BASE_URL))
        self.stdout.write(
            self.style.SUCCESS(f"{len(issued)} new cards in {options['out']}; the old ones no longer work.")
        )
