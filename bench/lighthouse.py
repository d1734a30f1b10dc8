"""Lighthouse accessibility and best-practices scores of the rater, console, review, projector and public
pages (issue 18), run by the Lighthouse CLI from npm against Debian's chromium, served by gunicorn.

Lighthouse is large (about 190 MB with what it needs), so it is installed here, for `make bench`, and not by
the tests; the tests run axe-core, which is what Lighthouse's accessibility audits are built on.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.server import Gunicorn, bench_env  # noqa: E402

os.environ.update(bench_env())
os.environ["DJANGO_SETTINGS_MODULE"] = "appraisal.settings"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from guardian.shortcuts import assign_perm  # noqa: E402

from appraisal.parsers import loads_exact  # noqa: E402
from meetings.services import meeting_import  # noqa: E402
from reports.services import snapshot_compute, snapshot_publish  # noqa: E402
from voting.services import voting_set  # noqa: E402
from voting.simulation import ballots_simulate  # noqa: E402

TOOLS = ROOT / "bench" / ".lighthouse"
FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-background-networking --disable-component-update --disable-sync --no-first-run"


def lighthouse() -> Path:
    binary = TOOLS / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(TOOLS), "lighthouse@12.8.2"],
            check=True,
        )
    return binary


def session_cookie(user) -> str:
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def audit(binary: Path, url: str, *, cookie: str | None, mobile: bool) -> dict:
    args = [
        str(binary),
        url,
        "--quiet",
        "--output=json",
        "--only-categories=accessibility,best-practices",
        f"--chrome-flags={FLAGS}",
        "--form-factor=" + ("mobile" if mobile else "desktop"),
    ]
    if not mobile:
        args.append("--screenEmulation.disabled")
    if cookie:
        args.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    out = subprocess.run(
        args, capture_output=True, text=True, env=os.environ | {"CHROME_PATH": "/usr/bin/chromium"}, timeout=300
    )
    report = json.loads(out.stdout)
    categories = report["categories"]
    failed = [
        audit_id
        for audit_id, result in report["audits"].items()
        if result.get("score") is not None and result["score"] < 1 and result.get("scoreDisplayMode") == "binary"
    ]
    return {
        "accessibility": round(categories["accessibility"]["score"] * 100),
        "best_practices": round(categories["best-practices"]["score"] * 100),
        "failed": failed[:8],
    }


def main() -> None:
    call_command("migrate", verbosity=0)
    binary = lighthouse()
    document = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
    imported = meeting_import(document=document, actor=None)
    meeting = imported.meeting
    ballots_simulate(meeting=meeting, seed=9)
    organizer = get_user_model().objects.create_user(f"lh-{meeting.pk}", password=os.urandom(8).hex())
    assign_perm("meetings.organize_meeting", organizer, meeting)
    snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=organizer, ip=None)
    voting_set(meeting=meeting, presentation_id=None, action="next", actor=None, ip=None)
    token = next(r.token for r in imported.raters if r.role == "public")
    presentation = meeting.presentations.order_by("order").first().pk
    cookie = session_cookie(organizer)
    pages = [
        ("rater home", f"/r/{token}/", None, True),
        ("rater form", f"/r/{token}/p/{presentation}/", None, True),
        ("public results", f"/results/m/{meeting.pk}/", None, True),
        ("console", f"/console/m/{meeting.pk}/", cookie, False),
        ("review", f"/console/m/{meeting.pk}/review/", cookie, False),
        ("projector", f"/projector/m/{meeting.pk}/", cookie, False),
    ]
    results = []
    with Gunicorn(workers=2) as server:
        for name, path, with_cookie, mobile in pages:
            row = {"page": name, "mobile": mobile} | audit(binary, server.url + path, cookie=with_cookie, mobile=mobile)
            print(json.dumps(row), flush=True)
            results.append(row)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "lighthouse.json").write_text(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    main()
