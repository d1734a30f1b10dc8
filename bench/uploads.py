"""Issue 17: the hall while four hostile uploads hit the web tier, next to the same hall without them.

gunicorn with 4 workers; phones poll the live state (wrk, 200 connections, with their cards) and raters
send ballots one after another; the figures are taken once quietly and once while four clients keep
uploading the 700 KB shared-strings bomb to the survey import (each refused from its zip directory).
"""

import io
import json
import os
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.server import Gunicorn, bench_env  # noqa: E402

os.environ.update(bench_env())
os.environ["DJANGO_SETTINGS_MODULE"] = "appraisal.settings"

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from guardian.shortcuts import assign_perm  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from appraisal.parsers import loads_exact  # noqa: E402
from bench.live import wrk  # noqa: E402
from meetings.services import meeting_import  # noqa: E402
from voting.services import voting_set  # noqa: E402

BALLOTS = int(os.environ.get("BENCH_UPLOAD_BALLOTS", "150"))
UPLOADERS = 4


def bomb() -> bytes:
    """An .xlsx of about 700 KB declaring six million shared strings (the file of issue 17)."""
    import zipfile

    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["部门", "总体评价"])
    plain = io.BytesIO()
    workbook.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != "xl/sharedStrings.xml":
                target.writestr(item, source.read(item.filename))
        target.writestr(
            "xl/sharedStrings.xml",
            b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
            b' count="6000000" uniqueCount="6000000">' + b"<si><t>a</t></si>" * 6_000_000 + b"</sst>",
        )
    return out.getvalue()


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="survey.xlsx"\r\n'
            "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def ballots(url: str, pairs: list[tuple[str, int]]) -> dict:
    body = json.dumps({"scores": {"overall": "good"}}).encode()
    latencies, errors = [], 0
    for token, presentation in pairs:
        request = urllib.request.Request(
            f"{url}/api/v1/rater/ballots/{presentation}",
            data=body,
            method="PUT",
            headers={
                "Authorization": f"Rater {token}",
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            },
        )
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                errors += response.status >= 400
        except urllib.error.HTTPError as exc:
            errors += 1
            print("ballot", exc.code, exc.read()[:200], file=sys.stderr)
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "n": len(latencies),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
        "errors": errors,
    }


def main() -> None:
    call_command("migrate", verbosity=0)
    document = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
    imported = meeting_import(document=document, actor=None)
    meeting = imported.meeting
    voting_set(meeting=meeting, presentation_id=None, action="next", actor=None, ip=None)
    # Several presentations open at once (sheet mode), so that the public's 78 seats send enough ballots.
    presentations = list(meeting.presentations.order_by("order").values_list("pk", flat=True)[:8])
    meeting.presentations.filter(pk__in=presentations).update(state="open")
    public = [r.token for r in imported.raters if r.role == "public" and not r.name]
    pairs = [(t, p) for p in presentations for t in public]
    quiet_pairs, busy_pairs = pairs[:BALLOTS], pairs[BALLOTS : 2 * BALLOTS]
    organizer = get_user_model().objects.create_user(f"bench-{uuid.uuid4().hex[:6]}", password=uuid.uuid4().hex)
    assign_perm("meetings.organize_meeting", organizer, meeting)
    token = Token.objects.create(user=organizer).key
    body, content_type = multipart(bomb())
    card = f"Authorization: Rater {public[-1]}"
    uploads = {"n": 0, "statuses": {}, "seconds": []}
    stop = threading.Event()

    with Gunicorn() as server:
        live = f"{server.url}/api/v1/meetings/{meeting.pk}/live"
        etag = urllib.request.urlopen(urllib.request.Request(live, headers={"Authorization": card[15:]})).headers[
            "ETag"
        ]

        def uploader():
            while not stop.is_set():
                request = urllib.request.Request(
                    f"{server.url}/api/v1/meetings/{meeting.pk}/surveys/public",
                    data=body,
                    method="POST",
                    headers={"Authorization": f"Token {token}", "Content-Type": content_type},
                )
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=120) as response:
                        status = response.status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                except OSError:
                    status = "none"
                uploads["n"] += 1
                uploads["seconds"].append(time.perf_counter() - started)
                uploads["statuses"][str(status)] = uploads["statuses"].get(str(status), 0) + 1

        quiet = {"live_304": wrk(live, [f"If-None-Match: {etag}", card]), "ballot": ballots(server.url, quiet_pairs)}
        threads = [threading.Thread(target=uploader, daemon=True) for _ in range(UPLOADERS)]
        for thread in threads:
            thread.start()
        time.sleep(1)
        busy = {"live_304": wrk(live, [f"If-None-Match: {etag}", card]), "ballot": ballots(server.url, busy_pairs)}
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    result = {
        "bomb_bytes": len(body),
        "uploaders": UPLOADERS,
        "quiet": quiet,
        "with_bombs": busy,
        "uploads": {
            "n": uploads["n"],
            "statuses": uploads["statuses"],
            "median_s": round(statistics.median(uploads["seconds"]), 3) if uploads["seconds"] else None,
        },
    }
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "uploads.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
