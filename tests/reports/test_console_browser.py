"""Running a small meeting end to end from the console, in Chromium at a laptop viewport."""

import re

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from appraisal.celery import app
from meetings.models import Presentation, Rater
from meetings.services import meeting_import
from tests.browser import screenshot
from tests.worker import WorkerProcess
from voting.models import Ballot
from voting.services import ballot_submit

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LAPTOP = {"viewport": {"width": 1366, "height": 800}}


def cast(meeting, presentation, role, index, scores):
    rater = Rater.objects.filter(meeting=meeting, role__code=role, name="").order_by("seat_no")[index]
    return ballot_submit(rater=rater, presentation_id=presentation.pk, scores=scores)


def test_console_runs_a_meeting_end_to_end(browser, live_server, small_document):
    meeting = meeting_import(document=small_document(departments=3, seats=3), actor=None).meeting
    presentations = list(Presentation.objects.filter(meeting=meeting).order_by("order"))
    user = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", user, meeting)
    context = browser.new_context(**LAPTOP, base_url=live_server.url, locale="zh-CN")
    console = context.new_page()
    console.goto(f"/console/m/{meeting.pk}/")
    console.get_by_label("用户名").fill("kaohe")
    console.get_by_label("密码").fill("pw-kaohe-2022")
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("heading", name="测试考评大会")).to_be_visible()

    console.get_by_role("button", name="下一个述职").click()
    expect(console.locator(f'tr[data-presentation="{presentations[0].pk}"] [data-state]')).to_have_text("正在测评")
    projector = context.new_page()
    projector.goto(f"/projector/m/{meeting.pk}/")
    expect(projector.locator("[data-name]")).to_have_text("1. 测试部门1")

    cast(meeting, presentations[0], "leadership", 0, {"performance": "55", "innovation": "35"})
    cast(meeting, presentations[0], "public", 0, {"overall": "good"})
    turnout = console.locator(f'tr[data-presentation="{presentations[0].pk}"] [data-total]')
    expect(turnout).to_have_text("2 / 6", timeout=5000)  # 王芳 is recused from D01: 3 + 3 seats
    expect(projector.locator(".role .count").first).to_have_text("1 / 3", timeout=3000)
    screenshot(console, "console-turnout")
    screenshot(projector, "projector-voting")

    console.get_by_role("button", name="下一个述职").click()
    expect(console.locator(f'tr[data-presentation="{presentations[1].pk}"] [data-state]')).to_have_text("正在测评")
    expect(projector.locator("[data-name]")).to_have_text("2. 测试部门2", timeout=3000)
    cast(meeting, presentations[1], "leadership", 0, {"performance": "40", "innovation": "30"})
    console.get_by_role("button", name="全部结束").click()
    expect(console.locator(".state-open")).to_have_count(0)

    app.control.purge()
    worker = WorkerProcess("console").start()
    try:
        console.get_by_role("button", name="开始汇总计算").click()
        expect(console.locator("[data-run-state]")).to_have_text("已完成", timeout=30000)
    finally:
        worker.stop()
    console.get_by_role("link", name="审核结果").first.click()
    expect(console.locator("table.ranking tbody tr")).to_have_count(3)
    screenshot(console, "console-review")
    console.get_by_role("button", name="发布该结果").click()
    expect(console.get_by_text("结果已发布。")).to_be_visible()

    expect(projector.locator("[data-ranking-list] li")).to_have_count(2, timeout=3000)  # D03 has no ballots: unranked
    screenshot(projector, "projector-ranking")
    public = context.new_page()
    public.goto(f"/results/m/{meeting.pk}/")
    expect(public.locator("table.ranking tbody tr")).to_have_count(3)
    receipt = Ballot.objects.filter(presentation=presentations[0]).first().receipt
    public.get_by_label("查询回执码").fill(receipt.lower())
    public.get_by_role("button", name="查询").click()
    expect(public.get_by_text(re.compile("已计入本次结果"))).to_be_visible()
    screenshot(public, "public-results")
    context.close()


def test_console_keeps_following_a_run_after_a_refused_poll(browser, live_server, small_document):
    from reports.models import AggregationRun

    meeting = meeting_import(document=small_document(departments=2, seats=2), actor=None).meeting
    user = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", user, meeting)
    run = AggregationRun.objects.create(meeting=meeting, task_id="not-enqueued")
    context = browser.new_context(**LAPTOP, base_url=live_server.url, locale="zh-CN")
    console = context.new_page()
    console.goto(f"/console/m/{meeting.pk}/")
    console.get_by_label("用户名").fill("kaohe")
    console.get_by_label("密码").fill("pw-kaohe-2022")
    refused = []

    def refuse_first_poll(route):
        # The database restarting: the first status poll gets a 503, then the run finishes.
        if not refused:
            refused.append(True)
            route.fulfill(status=503, content_type="application/json", body='{"detail": "x", "code": "unavailable"}')
            AggregationRun.objects.filter(pk=run.pk).update(state="succeeded", progress=100)
            return
        route.continue_()

    console.route(re.compile(rf"/api/v1/meetings/{meeting.pk}/aggregations/{run.pk}$"), refuse_first_poll)
    console.get_by_role("button", name="登录").click()

    expect(console.locator("[data-run-state]")).to_have_text("已完成", timeout=15000)
    assert refused
    context.close()


def test_console_turnout_polls_with_the_signed_in_session_and_logs_no_error(browser, live_server, small_document):
    meeting = meeting_import(document=small_document(departments=2, seats=2), actor=None).meeting
    user = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", user, meeting)
    context = browser.new_context(**LAPTOP, base_url=live_server.url, locale="zh-CN")
    console = context.new_page()
    errors, polls = [], []
    console.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    console.on("response", lambda response: polls.append(response.status) if "/progress" in response.url else None)
    console.goto(f"/console/m/{meeting.pk}/")
    console.get_by_label("用户名").fill("kaohe")
    console.get_by_label("密码").fill("pw-kaohe-2022")
    console.get_by_role("button", name="登录").click()
    expect(console.get_by_role("heading", name="测试考评大会")).to_be_visible()

    first = Presentation.objects.filter(meeting=meeting).order_by("order").first()
    cast_any = Rater.objects.filter(meeting=meeting, role__code="leadership", name="").order_by("seat_no").first()
    console.get_by_role("button", name="下一个述职").click()
    from voting.services import ballot_submit

    ballot_submit(rater=cast_any, presentation_id=first.pk, scores={"performance": "50", "innovation": "30"})
    turnout = console.locator(f'tr[data-presentation="{first.pk}"] [data-total]')
    expect(turnout).to_have_text(re.compile(r"^1 / "), timeout=5000)  # refreshed by the poll, not a reload

    assert polls and set(polls) == {200}
    assert errors == []
    context.close()
