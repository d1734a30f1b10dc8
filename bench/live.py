"""Live-state polling: 2,000 phones following the meeting, next to a bare 304 view in the same processes.

A phone polls every 2.5 to 4 seconds: 2,000 phones make about 670 requests a second.
wrk (a separate process) sends polls carrying the current ETag, as the phones do.
"""

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.server import BENCH_DB, Gunicorn, bench_env  # noqa: E402

os.environ.update(bench_env())
os.environ["DJANGO_SETTINGS_MODULE"] = "appraisal.settings"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from appraisal.parsers import loads_exact  # noqa: E402
from meetings.services import meeting_import  # noqa: E402
from voting.services import voting_set  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "200"))
PHONES = 2000
POLLS_PER_SECOND_NEEDED = round(PHONES / 3.0)


def wrk(url: str, headers: list[str]) -> dict:
    args = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(name):
        m = re.search(rf"{name}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": round(rps),
        "p50_ms": round(pct("50"), 2),
        "p99_ms": round(pct("99"), 2),
        "errors": (int(errors.group(1)) if errors else 0) + (sum(map(int, socket.groups())) if socket else 0),
    }


def main() -> None:
    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, body text)")
    document = loads_exact((ROOT / "data" / "sample-meeting.json").read_text(encoding="utf-8"))
    imported = meeting_import(document=document, actor=None)
    meeting = imported.meeting
    voting_set(meeting=meeting, presentation_id=None, action="next", actor=None, ip=None)
    # The meeting is not public yet: a phone polls with its card (issue 17).
    card = f"Authorization: Rater {imported.raters[0].token}"
    with Gunicorn() as server:
        live = f"{server.url}/api/v1/meetings/{meeting.pk}/live"
        request = urllib.request.Request(live, headers={"Authorization": card.split(": ", 1)[1]})
        etag = urllib.request.urlopen(request).headers["ETag"]
        baseline = wrk(f"{server.url}/bench/baseline-304", [])
        ours = wrk(live, [f"If-None-Match: {etag}", card])
        full = wrk(live, [card])
    result = {
        "database": BENCH_DB.rsplit("/", 1)[1],
        "connections": CONNECTIONS,
        "duration": DURATION,
        "needed_rps": POLLS_PER_SECOND_NEEDED,
        "baseline_304": baseline,
        "live_304": ours,
        "live_200": full,
        "ratio": round(ours["rps"] / baseline["rps"], 2),
    }
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "live.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
