import re

from django.core.management.base import BaseCommand, CommandError

from meetings.models import AuditEntry, Meeting
from reports.selectors import audit_problems

HEAD = re.compile(r"^(?P<seq>[0-9]{1,9}):(?P<hash>[0-9a-f]{64})$")


class Command(BaseCommand):
    help = (
        "Check a meeting's audit log hash chain: an edited, deleted or inserted entry is reported, and so "
        "is a chain cut short before a head recorded in a snapshot, a publication or given with --head."
    )

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument(
            "--head",
            help="SEQ:HASH, the audit_head of a published export or of the public results page",
        )

    def handle(self, *args, **options):
        try:
            meeting = Meeting.objects.get(pk=options["meeting"])
        except Meeting.DoesNotExist as exc:
            raise CommandError(f"No meeting {options['meeting']}") from exc
        head = None
        if options["head"]:
            match = HEAD.match(options["head"].strip().lower())
            if not match:
                raise CommandError("--head takes SEQ:HASH, the sequence number and the 64 hex digits of the hash")
            head = {"seq": int(match["seq"]), "hash": match["hash"]}
        problems = audit_problems(meeting, head=head)
        if problems:
            raise CommandError("The audit log has been tampered with:\n" + "\n".join(f"  {p}" for p in problems))
        count = AuditEntry.objects.filter(meeting=meeting).count()
        suffix = f", including entry {head['seq']} with the given hash" if head else ""
        self.stdout.write(self.style.SUCCESS(f"Audit log of meeting {meeting.pk} intact: {count} entries{suffix}."))
