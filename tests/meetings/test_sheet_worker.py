"""Issue 17: uploaded sheets are parsed by a real Celery worker under a time and a memory limit, never by
the web process; the admin's panel page shows the reading's progress and reloads itself until the
preview is ready; a sheet that breaks a limit is refused with a message, and the worker reads the next."""

import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from openpyxl import Workbook

from appraisal.celery import app
from meetings.models import Meeting, PanelImport, SheetJob
from meetings.services import meeting_import
from meetings.sheet_reading import sheet_job_create
from tests.worker import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)


def panel_sheet(rows: int, *, extra_columns: int = 0) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["2021年度测评人员名单"])  # a title row above the header, as offices send them
    sheet.append(["评委类别", "人数", "姓名", "所在部门", *[f"备注{i}" for i in range(extra_columns)]])
    for i in range(rows):
        sheet.append(["群众代表", None, f"王芳{i}", None, *[f"第{i}行的说明文字" for _ in range(extra_columns)]])
    out = io.BytesIO()
    workbook.save(out)
    out.seek(0)
    out.name = "panel.xlsx"
    return out


@pytest.fixture
def meeting_and_admin(small_document, settings):
    settings.SHEETS_IN_PROCESS = False  # the test's own process must not parse: the worker does
    meeting = meeting_import(document=small_document(departments=2, seats=2), actor=None).meeting
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw-root-123"))
    app.control.purge()
    return meeting, client


def upload_and_follow(client: Client, meeting, sheet: io.BytesIO, *, timeout: float = 60) -> tuple[str, list[str]]:
    """Post the sheet on the panel page and reload as the page tells a browser to; the final page and the
    pages seen while the worker was reading."""
    url = f"/admin/meetings/meeting/{meeting.pk}/panel/"
    response = client.post(url, {"kind": "raters", "file": sheet})
    waiting = []
    deadline = time.monotonic() + timeout
    while response.status_code == 302 and time.monotonic() < deadline:
        location = response["Location"]
        response = client.get(location)
        while response.status_code == 200 and 'http-equiv="refresh"' in response.content.decode():
            assert time.monotonic() < deadline, "the worker never finished reading"
            waiting.append(response.content.decode())
            time.sleep(0.5)  # the page's own refresh is every second
            response = client.get(location)
    assert response.status_code == 200
    return response.content.decode(), waiting


@pytest.mark.worker
def test_panel_sheet_is_read_by_the_worker_and_the_page_waits_for_it(meeting_and_admin):
    meeting, client = meeting_and_admin
    worker = WorkerProcess("sheets").start()
    try:
        page, _waiting = upload_and_follow(client, meeting, panel_sheet(3000))
    finally:
        worker.stop()

    pending = PanelImport.objects.get(meeting=meeting)
    first = pending.rows[0]
    assert len(pending.rows) == 3000 and (first["row"], first["role"], first["name"]) == (3, "public", "王芳0")
    assert "<td>王芳0</td>" in page and str(pending.pk) in page
    assert not SheetJob.objects.exists()  # the rows now live in the preview alone


def test_the_panel_page_shows_a_sheet_still_being_read_and_reloads_itself(meeting_and_admin):
    meeting, client = meeting_and_admin
    admin = get_user_model().objects.get(username="root")
    job = sheet_job_create(data=b"x", filename="名单.xlsx", meeting=meeting, actor=admin)
    SheetJob.objects.filter(pk=job.pk).update(state=SheetJob.State.RUNNING, rows_read=1500)
    url = f"/admin/meetings/meeting/{meeting.pk}/panel/?job={job.pk}&kind=raters"

    page = client.get(url).content.decode()
    someone_else = Client()
    someone_else.force_login(get_user_model().objects.create_superuser("root2", "s@example.com", "pw-root-456"))
    theirs = someone_else.get(url)

    assert '<meta http-equiv="refresh" content="1">' in page
    assert "名单.xlsx" in page and "已读取 1500 行" in page
    assert theirs.status_code == 302 and "job" not in theirs["Location"]  # nobody else's rows, nor a hint


@pytest.mark.worker
@pytest.mark.parametrize(
    ("limit", "worker_env", "web_time_limit", "message"),
    [
        ("memory", {"SHEET_MEMORY_MB": "16"}, None, "读取这张表需要超过 16 MB 内存"),
        # The time limit is sent with each message: the worker's own default stays 20 s.
        ("time", {}, 1, "读取这张表超过了 1 秒"),
    ],
)
def test_a_sheet_beyond_a_limit_is_refused_and_the_worker_reads_the_next(
    meeting_and_admin, settings, limit, worker_env, web_time_limit, message
):
    meeting, client = meeting_and_admin
    if web_time_limit:
        settings.SHEET_TIME_LIMIT = web_time_limit
    worker = WorkerProcess(f"sheets-{limit}", env=worker_env).start()
    try:
        refused, _waiting = upload_and_follow(client, meeting, panel_sheet(20000, extra_columns=20))
        accepted, _waiting = upload_and_follow(client, meeting, panel_sheet(5))
    finally:
        worker.stop()

    assert message in refused and "Traceback" not in refused
    assert PanelImport.objects.get(meeting=meeting).rows[4]["name"] == "王芳4"
    assert "<td>王芳4</td>" in accepted


@pytest.mark.worker
def test_setup_workbook_through_the_api_is_read_by_the_worker(meeting_and_admin, sample_document):
    from openpyxl import load_workbook

    from meetings.setup_workbook import document_to_workbook

    _meeting, client = meeting_and_admin
    sample_document["meeting"]["title"] = "工作簿导入的考评大会"
    out = io.BytesIO()
    document_to_workbook(sample_document).save(out)
    load_workbook(io.BytesIO(out.getvalue()))  # a real workbook
    out.seek(0)
    out.name = "setup.xlsx"
    worker = WorkerProcess("sheets-setup").start()
    try:
        response = client.post("/api/v1/meetings/import", {"file": out})
    finally:
        worker.stop()

    assert response.status_code == 201, response.content
    assert Meeting.objects.get(pk=response.json()["meeting"]).title == "工作簿导入的考评大会"
    assert not SheetJob.objects.exists()


def test_api_answers_503_when_no_worker_takes_the_sheet(meeting_and_admin, settings):
    meeting, client = meeting_and_admin
    settings.SHEET_TIME_LIMIT = 1  # the request waits the limit and 3 s more for a worker, then gives up
    app.control.purge()

    sheet = panel_sheet(3)
    sheet.name = "survey.xlsx"
    survey = client.post(f"/api/v1/meetings/{meeting.pk}/surveys/public", {"file": sheet})

    assert survey.status_code == 503, survey.content
    assert survey.json()["code"] == "worker_unavailable" and "稍后" in survey.json()["detail"]
    assert not SheetJob.objects.exists()  # the withdrawn job is not left for a late worker
    app.control.purge()


def test_a_sheet_whose_worker_died_is_refused_on_the_page_not_awaited_for_ever(meeting_and_admin):
    import datetime

    from django.utils import timezone

    meeting, client = meeting_and_admin
    admin = get_user_model().objects.get(username="root")
    stuck = sheet_job_create(data=b"x", filename="名单.xlsx", meeting=meeting, actor=admin)
    # Killed at the hard limit: the row still says "reading", long past the limit.
    SheetJob.objects.filter(pk=stuck.pk).update(
        state=SheetJob.State.RUNNING, started_at=timezone.now() - datetime.timedelta(minutes=2)
    )
    fresh = sheet_job_create(data=b"x", filename="新表.xlsx", meeting=meeting, actor=admin)
    url = f"/admin/meetings/meeting/{meeting.pk}/panel/?kind=raters&job="

    refused = client.get(url + str(stuck.pk)).content.decode()
    waiting = client.get(url + str(fresh.pk)).content.decode()

    assert "读取这张表超过了 20 秒" in refused and 'http-equiv="refresh"' not in refused
    assert SheetJob.objects.get(pk=stuck.pk).state == SheetJob.State.FAILED
    assert "正在等待后台进程读取表格" in waiting and 'http-equiv="refresh"' in waiting


def test_the_admin_shows_a_refused_sheet_problems_in_words_not_json(meeting_and_admin):
    meeting, client = meeting_and_admin
    job = sheet_job_create(data=b"x", filename="名单.xlsx", meeting=meeting, actor=None)
    problems = [{"row": 3, "column": "姓名", "message": "人数与姓名只能填写一项。"}]
    SheetJob.objects.filter(pk=job.pk).update(state=SheetJob.State.FAILED, problems=problems)

    page = client.get(f"/admin/meetings/sheetjob/{job.pk}/change/").content.decode()

    assert "第 3 行，姓名：人数与姓名只能填写一项。" in page
    assert '"message":' not in page and "&quot;message&quot;" not in page
