"""Bytes on the wire of the rater's pages (gzip, as served), HTML + CSS + JS, for the largest real form."""

import gzip
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "appraisal.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kaoping_bench")
os.environ["REDIS_URL"] = ""

import django  # noqa: E402

django.setup()

from django.contrib.staticfiles import finders  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from appraisal.parsers import loads_exact  # noqa: E402
from meetings.services import meeting_import  # noqa: E402
from voting.services import voting_set  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    document = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
    result = meeting_import(document=document, actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="next", actor=None, ip=None)
    presentation = result.meeting.presentations.order_by("order").first()
    client = Client(HTTP_ACCEPT_ENCODING="gzip")
    assets = {
        name: len(gzip.compress(Path(finders.find(name)).read_bytes()))
        for name in ("voting/rater.css", "voting/rater.js")
    }
    pages = {}
    for role in ("leadership", "public"):
        token = next(r.token for r in result.raters if r.role == role and not r.name)
        for name, url in (("home (73 presentations)", f"/r/{token}/"), ("form", f"/r/{token}/p/{presentation.pk}/")):
            response = client.get(url)
            pages[f"{role} {name}"] = len(response.content)  # already gzip-compressed by the middleware
    result = {"assets_gzip": assets, "pages_gzip": pages, "budget": 50 * 1024}
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results" / "page_weight.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
