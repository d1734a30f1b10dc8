"""Load the sample city (综合考核): the appraisal, its component scores, simulated leaders' ballots and
the phone survey as the survey role's ballots (for `make demo`)."""

import csv
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from guardian.shortcuts import assign_perm

from appraisal.parsers import loads_exact
from meetings.services import meeting_import
from reports.services import component_scores_import
from voting.services import survey_import
from voting.simulation import ballots_simulate


class Command(BaseCommand):
    help = "Load the sample city appraisal: development (base) x party building and satisfaction (coefficients)."

    def add_arguments(self, parser):
        parser.add_argument(
            "directory", type=Path, help="the folder with city-appraisal.json, city-components.csv, city-survey.csv"
        )
        parser.add_argument("--seed", type=int, default=2023)

    @transaction.atomic
    def handle(self, *args, **options):
        folder = options["directory"]
        User = get_user_model()
        admin = User.objects.filter(username="admin").first()
        result = meeting_import(
            document=loads_exact((folder / "city-appraisal.json").read_text(encoding="utf-8")), actor=admin
        )
        meeting = result.meeting
        for username, perm in (("organizer", "meetings.organize_meeting"), ("auditor", "meetings.audit_meeting")):
            user = User.objects.filter(username=username).first()
            if user is not None:
                assign_perm(perm, user, meeting)
        with (folder / "city-components.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
        for code in [c for c in rows[0] if c != "department"]:
            component_scores_import(
                meeting=meeting,
                code=code,
                scores={row["department"]: Decimal(row[code]) for row in rows},
                actor=admin,
                ip=None,
            )
        leaders = ballots_simulate(meeting=meeting, seed=options["seed"])
        with (folder / "city-survey.csv").open("rb") as fh:
            answers = survey_import(
                meeting=meeting, role_code="survey", fileobj=fh, filename="city-survey.csv", actor=admin, ip=None
            )
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Meeting {meeting.pk}: {meeting.title}"))
        self.stdout.write(
            f"  {len(result.presentations)} units, {leaders} leaders' ballots simulated, {answers} survey answers imported,"
            f" development and party scores from city-components.csv"
        )
