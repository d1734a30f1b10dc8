from django.core.management.base import BaseCommand, CommandError

from meetings.models import AuditEntry, Meeting
from meetings.selectors import audit_chain_problems


class Command(BaseCommand):
    help = "Check a meeting's audit log hash chain: an edited, deleted or inserted entry is reported."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)

    def handle(self, *args, **options):
        try:
            meeting = Meeting.objects.get(pk=options["meeting"])
        except Meeting.DoesNotExist as exc:
            raise CommandError(f"No meeting {options['meeting']}") from exc
        problems = audit_chain_problems(meeting=meeting)
        if problems:
            raise CommandError("The audit log has been tampered with:\n" + "\n".join(f"  {p}" for p in problems))
        count = AuditEntry.objects.filter(meeting=meeting).count()
        self.stdout.write(self.style.SUCCESS(f"Audit log of meeting {meeting.pk} intact: {count} entries."))
