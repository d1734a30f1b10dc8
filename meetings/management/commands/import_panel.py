from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from meetings.cards import cards_pdf
from meetings.models import Meeting, PanelImport
from meetings.panel_sheets import SheetInvalid
from meetings.services import panel_import_commit, panel_import_preview


class Command(BaseCommand):
    help = "Import a rater panel or departments sheet (.xlsx/.csv) into a meeting; new seats' cards go to a PDF."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=["raters", "departments"], default="raters")
        parser.add_argument(
            "--cards", type=Path, help="Where to write the new seats' cards (PDF). Required for raters."
        )
        parser.add_argument("--check", action="store_true", help="Only check the sheet; save nothing.")

    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        if options["kind"] == "raters" and not options["cards"] and not options["check"]:
            raise CommandError("New seats' tokens exist only now: give --cards FILE.pdf to print them.")
        path: Path = options["file"]
        try:
            with path.open("rb") as fh:
                pending = panel_import_preview(
                    meeting=meeting, kind=options["kind"], fileobj=fh, filename=path.name, actor=None
                )
        except SheetInvalid as exc:
            lines = [f"  row {p['row'] or '-'}, column {p['column'] or '-'}: {p['message']}" for p in exc.problems]
            raise CommandError("The sheet has problems; nothing was saved.\n" + "\n".join(lines)) from exc
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        if options["check"]:
            PanelImport.objects.filter(pk=pending.pk).delete()
            self.stdout.write(self.style.SUCCESS(f"The sheet is correct: {len(pending.rows)} rows."))
            return
        issued = panel_import_commit(panel_import=pending, actor=None, ip=None)
        if issued:
            options["cards"].write_bytes(cards_pdf(meeting=meeting, raters=issued, base_url=settings.PUBLIC_BASE_URL))
            self.stdout.write(self.style.SUCCESS(f"{len(issued)} seats created; cards in {options['cards']}."))
        else:
            self.stdout.write(self.style.SUCCESS(f"{len(pending.rows)} departments added to the agenda."))
