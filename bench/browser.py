"""In Chromium against the real stack: the rater form under slow 3G, and projector freshness.

1. The form: time until it can be used (the first criterion's input is in the DOM and the page has
   loaded) under Chrome's "Slow 3G" profile (400 ms latency, 400 kbit/s each way), next to an empty
   page fetched over the same emulated network (the network's own floor). Bytes on the wire counted.
2. The projector: time from a ballot's 201 to the projector page showing the new turnout, over
   10 ballots, next to the projector's 1 s polling period.
"""

import json
import os
import statistics
import sys
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.server import Gunicorn, bench_env  # noqa: E402

os.environ.update(bench_env())
os.environ["DJANGO_SETTINGS_MODULE"] = "appraisal.settings"
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from guardian.shortcuts import assign_perm  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from appraisal.parsers import loads_exact  # noqa: E402
from meetings.services import meeting_import  # noqa: E402
from voting.services import voting_set  # noqa: E402

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1024 / 8, "uploadThroughput": 400 * 1024 / 8}
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def slow_page(browser, url: str, ready: str) -> tuple[float, int]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", SLOW_3G)
    received = []
    cdp.on("Network.loadingFinished", lambda e: received.append(e.get("encodedDataLength", 0)))
    started = time.perf_counter()
    page.goto(url, wait_until="load")
    page.wait_for_selector(ready, state="attached")
    elapsed = time.perf_counter() - started
    context.close()
    return elapsed, int(sum(received))


def put_ballot(server: str, token: str, presentation: int) -> None:
    body = json.dumps({"scores": {"performance": "35", "innovation": "18", "conduct": "18.5", "report": "17"}}).encode()
    request = urllib.request.Request(
        f"{server}/api/v1/rater/ballots/{presentation}", data=body, method="PUT",
        headers={"Authorization": f"Rater {token}", "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"},
    )  # fmt: skip
    assert urllib.request.urlopen(request).status == 201


def main() -> None:
    call_command("migrate", verbosity=0)
    document = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
    result = meeting_import(document=document, actor=None)
    meeting = result.meeting
    voting_set(meeting=meeting, presentation_id=None, action="next", actor=None, ip=None)
    presentation = result.presentations[0][0]
    leaders = [r.token for r in result.raters if r.role == "leadership"]
    user, _created = get_user_model().objects.get_or_create(username="bench-organizer")
    user.set_password("bench-organizer-pw")
    user.save()
    assign_perm("meetings.organize_meeting", user, meeting)
    out = {}
    with Gunicorn() as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        form_url = f"{server.url}/r/{leaders[0]}/p/{presentation}/"
        floors, forms, sizes = [], [], []
        for _ in range(3):
            floors.append(slow_page(browser, f"{server.url}/bench/baseline-page", "p")[0])
            elapsed, size = slow_page(browser, form_url, "input[name=performance]")
            forms.append(elapsed)
            sizes.append(size)
        out["form_slow3g"] = {
            "baseline_s": round(statistics.median(floors), 2),
            "form_s": round(statistics.median(forms), 2),
            "bytes": sizes[-1],
        }

        context = browser.new_context(viewport={"width": 1366, "height": 800})
        page = context.new_page()
        page.goto(f"{server.url}/accounts/login/?next=/projector/m/{meeting.pk}/")
        page.fill("#id_username", "bench-organizer")
        page.fill("#id_password", "bench-organizer-pw")
        page.click("form.login button[type=submit]")
        page.wait_for_selector(".role .count")
        delays = []
        for index, token in enumerate(leaders[1:11], start=1):
            put_ballot(server.url, token, presentation)
            sent = time.perf_counter()
            page.wait_for_function(
                "n => document.querySelector('.role .count').textContent.startsWith(n + ' /')", arg=index, timeout=10000
            )
            delays.append(time.perf_counter() - sent)
            time.sleep(0.3)
        out["projector"] = {
            "poll_period_s": 1.0,
            "median_s": round(statistics.median(delays), 2),
            "max_s": round(max(delays), 2),
            "samples": len(delays),
        }
        browser.close()
    print(json.dumps(out, indent=2))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "browser.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
