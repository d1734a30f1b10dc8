from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from voting.models import Ballot
from voting.simulation import ballots_simulate


class Command(BaseCommand):
    help = "Cast realistic random ballots for every seat of a meeting (demo, rehearsal, benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)
        parser.add_argument("--seed", type=int, default=2022)
        parser.add_argument("--turnout", type=float, default=0.97, help="Share of seats that score each presentation.")
        parser.add_argument("--keep-open", action="store_true", help="Leave the voting states as they are.")

    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        if Ballot.objects.filter(presentation__meeting=meeting).exists():
            raise CommandError("The meeting already has ballots; simulate only into an empty meeting or rehearsal.")
        count = ballots_simulate(
            meeting=meeting, seed=options["seed"], turnout=options["turnout"], close_voting=not options["keep_open"]
        )
        self.stdout.write(self.style.SUCCESS(f"{count} ballots cast in meeting {meeting.pk}."))
