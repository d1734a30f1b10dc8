"""Public notice, an appeal upheld with an adjustment, a new notice and the final result, in Chromium
(issue 16): the organizer at a laptop, the department's contact on a phone, the public page at each stage."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from appraisal.celery import app
from meetings.services import meeting_import
from reports.models import Appeal, ResultSnapshot
from reports.publicity import contact_grant
from reports.services import snapshot_compute
from tests.browser import PHONE, screenshot
from tests.worker import WorkerProcess
from voting.simulation import ballots_simulate

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LAPTOP = {"viewport": {"width": 1366, "height": 800}}
SCAN = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def login(page, username: str, password: str) -> None:
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def notice_form(page, until: datetime.datetime) -> None:
    form = page.locator("form:has(button[value=notice])")
    form.locator("input[name=until]").fill(timezone.localtime(until).strftime("%Y-%m-%dT%H:%M"))
    form.locator("button[value=notice]").click()


def test_notice_appeal_upheld_new_notice_and_final(browser, live_server, small_document, settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"
    meeting = meeting_import(document=small_document(departments=3, seats=6), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=11)
    first = snapshot_compute(meeting=meeting)
    User = get_user_model()
    organizer = User.objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    contact = User.objects.create_user("lianluo", password="pw-lianluo-2022")
    contact_grant(meeting=meeting, user=contact, department_code="D01", email="", actor=None, ip=None)
    before = next(r for r in first.rows if r["department"] == "D01")["final"]

    desk = browser.new_context(**LAPTOP, base_url=live_server.url, locale="zh-CN")
    console = desk.new_page()
    console.goto(f"/console/m/{meeting.pk}/review/")
    login(console, "kaohe", "pw-kaohe-2022")
    notice_form(console, timezone.now() + datetime.timedelta(days=5))
    expect(console.get_by_text("结果已发布公示。")).to_be_visible()
    public = desk.new_page()
    public.goto(f"/results/m/{meeting.pk}/")
    expect(public.locator("p.warning strong")).to_have_text("公示中")
    screenshot(public, "publicity-1-notice")

    hand = browser.new_context(**PHONE, base_url=live_server.url, locale="zh-CN")
    phone = hand.new_page()
    phone.goto("/console/")
    login(phone, "lianluo", "pw-lianluo-2022")
    expect(phone).to_have_url(f"{live_server.url}/feedback/m/{meeting.pk}/D01/")
    expect(phone.get_by_role("heading", name="测试部门1")).to_be_visible()
    screenshot(phone, "publicity-2-feedback")
    phone.locator("textarea[name=reason]").fill("我单位年度加分项未计入，请复核。")
    phone.locator("input[name=attachment]").set_input_files(
        {"name": "加分证明.pdf", "mimeType": "application/pdf", "buffer": SCAN}
    )
    phone.locator("form:has(textarea[name=reason]) button[type=submit]").click()
    expect(phone.get_by_text("申诉已提交")).to_be_visible()
    expect(phone.locator("#appeals li strong")).to_have_text("待处理")
    screenshot(phone, "publicity-3-appealed")

    console.reload()
    appeal_item = console.locator("li:has(input[name=appeal])")
    expect(appeal_item).to_contain_text("我单位年度加分项未计入")
    expect(appeal_item.get_by_role("link", name="附件：加分证明.pdf")).to_be_visible()
    appeal_item.locator("input[name=reason]").fill("经核实，加分项漏计，予以更正。")
    appeal_item.locator("button[value=upheld]").click()
    expect(console.get_by_text("申诉已处理。")).to_be_visible()
    adjust = console.locator("form:has(button[value=adjust])")
    adjust.locator("select[name=department]").select_option("D01")
    adjust.locator("input[name=points]").fill("1.5")
    adjust.locator("input[name=reason]").fill("申诉成立：补记年度加分")
    adjust.locator("button[value=adjust]").click()
    expect(console.get_by_text("申诉成立：补记年度加分")).to_be_visible()

    app.control.purge()
    worker = WorkerProcess("publicity").start()
    try:
        console.goto(f"/console/m/{meeting.pk}/")
        console.get_by_role("button", name="开始汇总计算").click()
        expect(console.locator("[data-run-state]")).to_have_text("已完成", timeout=30000)
    finally:
        worker.stop()
    console.goto(f"/console/m/{meeting.pk}/review/")
    notice_form(console, timezone.now() + datetime.timedelta(days=3))
    expect(console.get_by_text("结果已发布公示。")).to_be_visible()
    second = ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False)
    after = next(r for r in second.rows if r["department"] == "D01")
    assert second.pk != first.pk and second.stage == "publicity" and after["adjustments"] == "1.5000"
    public.reload()
    expect(public.locator("p.warning strong")).to_have_text("公示中")
    screenshot(public, "publicity-4-second-notice")

    phone.reload()
    expect(phone.locator("#appeals li strong")).to_have_text("申诉成立")
    expect(phone.get_by_text("经核实，加分项漏计，予以更正。")).to_be_visible()

    # Five days on: the notice has ended and no appeal is open.
    ResultSnapshot.objects.filter(pk=second.pk).update(publicity_until=timezone.now() - datetime.timedelta(minutes=1))
    assert not Appeal.objects.filter(meeting=meeting, state="open").exists()
    console.reload()
    console.locator("form:has(button[value=final]) button[value=final]").click()
    expect(console.get_by_text("结果已发布。")).to_be_visible()
    public.reload()
    expect(public.locator("p.warning")).to_have_count(0)
    expect(public.locator("table.ranking tbody tr")).to_have_count(3)
    screenshot(public, "publicity-5-final")

    final = ResultSnapshot.objects.get(meeting=meeting, published_at__isnull=False)
    assert final.pk == second.pk and final.stage == "final"
    assert before != after["final"]
    actions = list(meeting.audit_entries.order_by("seq").values_list("action", flat=True))
    for step in ("result.notice", "appeal.submitted", "appeal.decided", "adjustment.added", "result.final"):
        assert step in actions, (step, actions)
    desk.close()
    hand.close()
