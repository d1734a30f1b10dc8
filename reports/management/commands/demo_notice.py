"""Put a demo meeting under public notice with one open appeal, and give each department a contact
(被考评部门联络员) login (for `make demo`)."""

import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from meetings.models import Meeting, Presentation
from reports.publicity import appeal_submit, contact_grant, publish

CONTACT_PASSWORD = "kaoping-department"  # noqa: S105 - a demo login, printed for the user


def _statement(department: str) -> bytes:
    """A one-page statement (情况说明) for the demo appeal's attachment."""
    import io

    from reportlab.pdfgen import canvas

    from appraisal.pdf import cjk_font

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.setFont(cjk_font(), 14)
    page.drawString(72, 760, f"{department}：关于考评结果的情况说明")
    page.drawString(72, 730, "本部门全年完成重点任务 12 项，其中 3 项获上级表彰，请求复核。")
    page.save()
    return out.getvalue()


class Command(BaseCommand):
    help = "Demo: department contact logins, the result under public notice for 7 days, one open appeal."

    def add_arguments(self, parser):
        parser.add_argument("meeting", type=int)

    @transaction.atomic
    def handle(self, *args, **options):
        meeting = Meeting.objects.filter(pk=options["meeting"]).first()
        if meeting is None:
            raise CommandError(f"No meeting {options['meeting']}")
        User = get_user_model()
        organizer = User.objects.get(username="organizer")
        contacts = []
        hashed = make_password(CONTACT_PASSWORD)  # once: hashing 73 times would take the demo 15 s
        for presentation in Presentation.objects.filter(meeting=meeting).select_related("department").order_by("order"):
            code = presentation.department.code
            user, _created = User.objects.get_or_create(username=f"dept-{code.lower()}")
            user.password = hashed
            user.save(update_fields=["password"])
            contacts.append((user, presentation.department))
        for index, (user, department) in enumerate(contacts):
            # The two contacts printed below have an address: the demo's mail (the console) shows what they get.
            email = f"{user.username}@example.cn" if index in (0, len(contacts) - 1) else ""
            contact_grant(
                meeting=meeting, user=user, department_code=department.code, email=email, actor=organizer, ip=None
            )
        publish(
            meeting=meeting,
            stage="publicity",
            until=timezone.now() + datetime.timedelta(days=7),
            early_reason=None,
            actor=organizer,
            ip=None,
        )
        user, department = contacts[-1]
        appeal_submit(
            meeting=meeting,
            department_code=department.code,
            reason="本部门认为部分评委打分与实际工作不符，请求复核。",
            actor=user,
            ip=None,
            attachment=SimpleUploadedFile("情况说明.pdf", _statement(department.name), "application/pdf"),
        )
        self.stdout.write(
            self.style.SUCCESS(f"Meeting {meeting.pk} is under public notice for 7 days; one appeal is open.")
        )
        self.stdout.write(f"Department contacts ({len(contacts)}, password {CONTACT_PASSWORD}), for example:")
        for user, department in (contacts[0], contacts[-1]):
            self.stdout.write(
                f"  {user.username:<12} {department.name}   http://127.0.0.1:8000/console/ -> its feedback"
            )
