"""适老化 (issue 18): at 360x640 with 200% text, the rater form, home and sheet keep the score readable
(the input at least 120 px wide), every control at least 48 px (the -/+ and submit 60), and nothing scrolls
sideways; the 字号 switch works without script and is remembered."""

import pytest
from playwright.sync_api import expect

from tests.browser import screenshot
from tests.voting.test_rater_browser import seats  # noqa: F401 - the fixture
from voting.services import voting_set

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SMALL_PHONE = {
    "viewport": {"width": 360, "height": 640},
    "has_touch": True,
    "is_mobile": True,
    "device_scale_factor": 2,
}

MEASURE = """() => {
  const visible = el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden';
  const controls = [...document.querySelectorAll('a, button, input:not([type=hidden]):not([type=radio]), select, textarea, .choice span')]
    .filter(visible).filter(el => el.getAttribute('aria-hidden') !== 'true');
  const small = controls.map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
    .filter(([_, h]) => h < 47.5);
  const big = [...document.querySelectorAll('.step, button[type=submit]')].filter(visible)
    .map(el => [el.outerHTML.slice(0, 60), el.getBoundingClientRect().height]).filter(([_, h]) => h < 59.5);
  const inputs = [...document.querySelectorAll('.control input')].map(el => el.getBoundingClientRect().width);
  const fonts = [...document.querySelectorAll('body *')].filter(visible).filter(el => el.childNodes.length &&
      [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(el => [el.tagName + '.' + el.className, parseFloat(getComputedStyle(el).fontSize)]);
  return {small, big, inputs, overflow: document.documentElement.scrollWidth - window.innerWidth,
          smallest: Math.min(...fonts.map(f => f[1])), tiny: fonts.filter(f => f[1] < 16).slice(0, 5)};
}"""


def test_rater_pages_at_200_percent_text_on_a_small_phone(browser, live_server, seats):  # noqa: F811
    meeting, presentations, link = seats
    voting_set(meeting=meeting, presentation_id=presentations[1].pk, action="open", actor=None, ip=None)
    context = browser.new_context(**SMALL_PHONE, locale="zh-CN", base_url=live_server.url, bypass_csp=True)
    phone = context.new_page()
    pages = {
        "home": link("leadership"),
        "form": f"{link('leadership')}p/{presentations[1].pk}/",
        "grades": f"{link('public')}p/{presentations[1].pk}/",
        "sheet": f"{link('leadership')}sheet/",
    }
    standard = {}
    for name, url in pages.items():
        phone.goto(url)
        standard[name] = phone.evaluate(MEASURE)
        phone.add_style_tag(content="html { font-size: 200% !important; }")
        measured = phone.evaluate(MEASURE)
        screenshot(phone, f"elderly-{name}-200pct")

        assert measured["overflow"] <= 1, (name, measured["overflow"])
        assert measured["small"] == [], (name, measured["small"])
        assert measured["big"] == [], (name, measured["big"])
        assert all(width >= 120 for width in measured["inputs"]), (name, measured["inputs"])
        assert standard[name]["smallest"] >= 16, (name, standard[name]["tiny"])
    assert standard["form"]["inputs"] and standard["sheet"]["inputs"]
    context.close()


def test_text_size_switch_works_without_script_and_is_remembered(browser, live_server, seats):  # noqa: F811
    meeting, presentations, link = seats
    voting_set(meeting=meeting, presentation_id=presentations[0].pk, action="open", actor=None, ip=None)
    context = browser.new_context(**SMALL_PHONE, locale="zh-CN", base_url=live_server.url, java_script_enabled=False)
    phone = context.new_page()
    phone.goto(f"{link('leadership')}p/{presentations[0].pk}/")
    body = float(phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    assert phone.locator('meta[name="text-scale"]').get_attribute("content") == "scale"

    phone.get_by_role("link", name="特大").click()
    larger = float(phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))
    url_after = phone.url
    phone.goto(link("leadership"))
    remembered = phone.evaluate("document.documentElement.className")
    screenshot(phone, "elderly-home-extra-large")

    assert body >= 18
    assert larger >= 1.45 * body and url_after.endswith(f"p/{presentations[0].pk}/")
    assert remembered == "text-xl"
    expect(phone.get_by_role("link", name="特大")).to_have_attribute("aria-current", "true")
    context.close()


def test_sheet_has_a_jump_to_the_department_presenting_now(browser, live_server, seats):  # noqa: F811
    meeting, presentations, link = seats
    voting_set(meeting=meeting, presentation_id=presentations[2].pk, action="open", actor=None, ip=None)
    context = browser.new_context(**SMALL_PHONE, locale="zh-CN", base_url=live_server.url)
    phone = context.new_page()
    phone.goto(f"{link('leadership')}sheet/")
    phone.get_by_role("link", name="跳到正在述职的部门").click()

    assert phone.url.endswith(f"#p{presentations[2].pk}")
    top = phone.evaluate(f"document.getElementById('p{presentations[2].pk}').getBoundingClientRect().top")
    assert -2 <= top < 100  # at the top of the screen, to a sub-pixel
    context.close()


def test_public_results_page_fits_a_small_phone(browser, live_server, small_document):
    from django.contrib.auth import get_user_model

    from meetings.services import meeting_import
    from reports.services import snapshot_compute, snapshot_publish
    from voting.simulation import ballots_simulate

    meeting = meeting_import(document=small_document(departments=6, seats=3), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=6)
    snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=get_user_model().objects.create_user("kaohe"), ip=None)
    context = browser.new_context(**SMALL_PHONE, locale="zh-CN", base_url=live_server.url, bypass_csp=True)
    phone = context.new_page()
    overflow = {}
    for url in (f"/results/m/{meeting.pk}/", "/"):
        phone.goto(url)
        phone.add_style_tag(content="html { font-size: 200% !important; }")
        overflow[url] = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    screenshot(phone, "elderly-public-home-200pct")
    phone.goto(f"/results/m/{meeting.pk}/")
    screenshot(phone, "elderly-public-results")

    assert all(value <= 1 for value in overflow.values()), overflow
    context.close()
