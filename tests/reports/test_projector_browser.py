"""The projector's published ranking (issue 18): 表扬 and 诫勉 in words, not colour alone, and every
department in turn, a page that fits the screen at a time."""

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm
from playwright.sync_api import expect

from meetings.services import meeting_import
from reports.services import snapshot_compute, snapshot_publish
from tests.browser import screenshot
from voting.simulation import ballots_simulate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_projector_marks_results_in_words_and_pages_through_every_department(browser, live_server, small_document):
    meeting = meeting_import(document=small_document(departments=30, seats=3), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=30)
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    snapshot = snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    ranked = [r for r in snapshot.rows if r["rank"] is not None]
    context = browser.new_context(viewport={"width": 1366, "height": 800}, locale="zh-CN", base_url=live_server.url)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("kaohe")
    page.get_by_label("密码").fill("pw-kaohe-2022")
    page.get_by_role("button", name="登录").click()
    page.goto(f"/projector/m/{meeting.pk}/")
    expect(page.locator("[data-page]")).to_have_text("第 1 / 2 页")

    visible = page.locator("[data-ranking-list] li:visible")
    first = [visible.nth(i).locator(".n").inner_text() for i in range(visible.count())]
    label = page.locator("[data-page]").inner_text()
    marks = page.locator("[data-ranking-list] li .m").all_inner_texts()
    screenshot(page, "projector-ranking-page-1")
    overflow = page.evaluate("document.documentElement.scrollHeight - window.innerHeight")

    assert len(ranked) > 20 and len(first) == 20 and label == "第 1 / 2 页"
    assert overflow <= 1
    assert sum("表扬" in m for m in marks) == sum(r["reward"] for r in ranked)
    assert sum("诫勉" in m or "一票否决" in m for m in marks) == sum(r["admonition"] for r in ranked)
    expect(page.locator("[data-page]")).to_have_text("第 2 / 2 页", timeout=15000)
    second = page.locator("[data-ranking-list] li:visible").all_inner_texts()
    assert len(second) == len(ranked) - 20
    context.close()
