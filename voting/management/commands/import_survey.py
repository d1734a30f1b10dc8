from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from appraisal.exceptions import DomainError
from meetings.models import Meeting
from meetings.panel_sheets import SheetInvalid
from voting.services import survey_import


class Command(BaseCommand):
    help = "Import a role's ballots collected outside the hall (e.g. a telephone survey) from a sheet."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument("role", help="the role code, e.g. public")
        parser.add_argument("file", type=Path)

    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        try:
            with options["file"].open("rb") as fh:
                count = survey_import(
                    meeting=meeting,
                    role_code=options["role"],
                    fileobj=fh,
                    filename=options["file"].name,
                    actor=None,
                    ip=None,
                )
        except SheetInvalid as exc:
            lines = [f"  row {p['row'] or '-'}, column {p['column'] or '-'}: {p['message']}" for p in exc.problems]
            raise CommandError("The sheet has problems; nothing was imported.\n" + "\n".join(lines)) from exc
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(f"{count} survey ballots of role {options['role']} imported, each with a receipt code.")
        )
