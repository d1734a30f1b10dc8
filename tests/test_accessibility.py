"""axe-core (from npm, pinned in package-lock.json) against Debian's chromium, over the rater, console,
review, projector and public pages (issue 18): no serious or critical violation."""

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from guardian.shortcuts import assign_perm

from meetings.services import meeting_import
from reports.services import snapshot_compute, snapshot_publish
from tests.browser import PHONE
from voting.services import voting_set
from voting.simulation import ballots_simulate

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_or_critical_accessibility_violation(browser, live_server, small_document):
    assert AXE.exists(), "npm ci (scripts/ensure-system-packages) installs axe-core"
    imported = meeting_import(document=small_document(departments=4, seats=3), actor=None)
    meeting = imported.meeting
    ballots_simulate(meeting=meeting, seed=4)
    organizer = get_user_model().objects.create_user("kaohe", password="pw-kaohe-2022")
    assign_perm("meetings.organize_meeting", organizer, meeting)
    snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    voting_set(meeting=meeting, presentation_id=None, action="next", actor=None, ip=None)
    token = next(r.token for r in imported.raters if r.role == "public")
    presentation = meeting.presentations.order_by("order").first()

    found = {}
    phone = browser.new_context(**PHONE, locale="zh-CN", base_url=live_server.url, bypass_csp=True)
    page = phone.new_page()
    for url in (
        f"/r/{token}/",
        f"/r/{token}/p/{presentation.pk}/",
        f"/r/{token}/sheet/",
        f"/results/m/{meeting.pk}/",
        "/",
    ):
        page.goto(url)
        found[url] = violations(page)
    phone.close()

    desk = browser.new_context(
        viewport={"width": 1366, "height": 800}, locale="zh-CN", base_url=live_server.url, bypass_csp=True
    )
    page = desk.new_page()
    page.goto("/accounts/login/")
    page.get_by_label("用户名").fill("kaohe")
    page.get_by_label("密码").fill("pw-kaohe-2022")
    page.get_by_role("button", name="登录").click()
    for url in (f"/console/m/{meeting.pk}/", f"/console/m/{meeting.pk}/review/", f"/projector/m/{meeting.pk}/"):
        page.goto(url)
        found[url] = violations(page)
    desk.close()

    assert {url: v for url, v in found.items() if v} == {}
    assert len(found) == 8
