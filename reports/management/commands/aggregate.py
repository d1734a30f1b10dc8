import unicodedata

from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from reports.models import ResultSnapshot
from reports.services import snapshot_compute


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def ranking_table(snapshot: ResultSnapshot) -> list[str]:
    """The ranking as terminal lines, with reward (★ 通报表扬) and admonition (▼ 诫勉谈话) marks."""
    roles = [r["code"] for r in snapshot.config["roles"]]
    header = (
        f"{'rank':>4} {'bottom':>6}  {pad('department', 26)}{pad('category', 8)}"
        + "".join(f"{code[:10]:>11}" for code in roles)
        + f"{'final':>10}  mark"
    )
    lines = [header, "-" * _width(header)]
    scope = object()
    for row in snapshot.rows:
        if snapshot.config["rank_within_category"] and row["scope"] != scope and row["rank"] is not None:
            scope = row["scope"]
            lines.append(f"[{scope}]")
        mark = "★ 通报表扬" if row["reward"] else ("▼ 诫勉谈话" if row["admonition"] else "")
        if row["flags"]:
            mark = (mark + " " + ",".join(row["flags"])).strip()
        scores = "".join(f"{(row['role_scores'][code]['score'] or '-'):>11}" for code in roles)
        lines.append(
            f"{row['rank'] if row['rank'] is not None else '-':>4} {row['bottom_rank'] if row['bottom_rank'] is not None else '-':>6}  "
            f"{pad(row['department'] + ' ' + row['name'], 26)}{pad(row['category'], 8)}{scores}{row['final'] or '-':>10}  {mark}"
        )
    return lines


class Command(BaseCommand):
    help = "Aggregate a meeting now (in this process) and print the ranking with reward and admonition marks."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)

    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        snapshot = snapshot_compute(meeting=meeting)
        for line in ranking_table(snapshot):
            self.stdout.write(line)
        rewarded = sum(r["reward"] for r in snapshot.rows)
        admonished = sum(r["admonition"] for r in snapshot.rows)
        self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Snapshot {snapshot.pk}: {snapshot.ballots_counted} ballots counted, "
                f"{rewarded} commended (通报表扬), {admonished} admonished (诫勉谈话), digest {snapshot.digest}"
            )
        )
