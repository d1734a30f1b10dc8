import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from appraisal.parsers import loads_exact
from reports.exports import verify_export


class Command(BaseCommand):
    help = "Recompute the ranking and the digest of a published result from its JSON export alone."

    def add_arguments(self, parser):
        parser.add_argument("export", type=Path, help="The anonymised ballot export (…-ballots.json).")

    def handle(self, *args, **options):
        try:
            document = loads_exact(options["export"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read {options['export']}: {exc}") from exc
        try:
            problems = verify_export(document)
        except (KeyError, TypeError, ArithmeticError) as exc:
            raise CommandError(f"The export is incomplete or malformed: {exc!r}") from exc
        if problems:
            raise CommandError("The export does NOT verify:\n" + "\n".join(f"  {p}" for p in problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Verified: {len(document['ballots'])} ballots give the {len(document['rows'])} rows "
                f"and the digest {document['digest']}."
            )
        )
        head = document.get("audit_head")
        if head:
            self.stdout.write(
                f"Audit head: entry {head['seq']}, hash {head['hash']}. Check the audit log against it with: "
                f"manage.py verify_audit {document['meeting']['id']} --head {head['seq']}:{head['hash']}"
            )
        self.stdout.write(
            json.dumps({"digest": document["digest"], "ballots": len(document["ballots"]), "audit_head": head})
        )
