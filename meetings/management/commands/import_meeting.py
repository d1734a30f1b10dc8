import csv
import json
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from appraisal.parsers import loads_exact
from meetings.api import import_result_payload
from meetings.services import meeting_import
from meetings.setup_document import SetupInvalid
from meetings.setup_workbook import locate_errors, workbook_to_document


class Command(BaseCommand):
    help = "Create a whole meeting from a setup document (.json or .xlsx). Rater links are printed once."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--links-csv", type=Path, help="Write every seat's link to this CSV file instead of the terminal."
        )
        parser.add_argument("--json", action="store_true", help="Print the API's answer as JSON.")
        parser.add_argument("--actor", help="Username recorded in the audit log.")

    def handle(self, *args, **options):
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"No such file: {path}")
        locations: dict[str, str] = {}
        try:
            if path.suffix.lower() == ".xlsx":
                with path.open("rb") as fh:
                    document, locations = workbook_to_document(fh)
            else:
                try:
                    document = loads_exact(path.read_text(encoding="utf-8"))
                except (ValueError, UnicodeDecodeError) as exc:
                    raise CommandError(f"{path} is not valid JSON: {exc}") from exc
            actor = None
            if options["actor"]:
                actor = get_user_model().objects.get(username=options["actor"])
            result = meeting_import(document=document, actor=actor)
        except SetupInvalid as exc:
            lines = [
                f"  {e.get('location', '') or e['path']}: {e['message']}" for e in locate_errors(exc.errors, locations)
            ]
            raise CommandError("The setup document has problems; nothing was created.\n" + "\n".join(lines)) from exc

        payload = import_result_payload(result, build_url=lambda p: settings.PUBLIC_BASE_URL + p)
        if options["json"]:
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2))
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Meeting {result.meeting.pk} «{result.meeting.title}»: "
                f"{len(result.presentations)} presentations, {len(result.raters)} rater seats."
            )
        )
        if options["links_csv"]:
            with options["links_csv"].open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["seat", "role", "name", "url"])
                for r in payload["raters"]:
                    writer.writerow([r["seat"], r["role"], r["name"], r["url"]])
            self.stdout.write(
                f"Rater links written to {options['links_csv']} (shown once: tokens are not stored readable)."
            )
        else:
            for r in payload["raters"]:
                self.stdout.write(f"  #{r['seat']:>4} {r['role']:<14} {r['name'] or '-':<8} {r['url']}")
