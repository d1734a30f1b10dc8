"""A burst of phones that retry with their Idempotency-Key survives a killed web worker and a
PostgreSQL restart: afterwards exactly one ballot per rater, none lost, none doubled."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from bench.server import Gunicorn
from meetings.services import meeting_import
from voting.models import Ballot
from voting.services import voting_set

ROOT = Path(__file__).resolve().parents[2]
RATERS = 600
pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def two_criteria_document(small_document):
    document = small_document(departments=2, seats=RATERS)
    document["raters"] = [{"role": "leadership", "count": RATERS}]
    return document


def burst_with(small_document, disrupt, port: int) -> dict:
    result = meeting_import(document=two_criteria_document(small_document), actor=None)
    voting_set(meeting=result.meeting, presentation_id=None, action="next", actor=None, ip=None)
    presentation = result.presentations[0][0]
    db = connection.settings_dict
    env = {
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "CACHE_URL": "redis://127.0.0.1:6379/1",
        "ROOT_URLCONF": "appraisal.urls",
        "CONN_MAX_AGE": "60",
    }
    with Gunicorn(port=port, workers=3, env=env) as server:
        spec = {
            "server": server.url,
            "kind": "ballot",
            "tokens": [r.token for r in result.raters],
            "presentation": presentation,
            "live": f"/api/v1/meetings/{result.meeting.pk}/live",
        }
        load = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "load.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        load.stdin.write(json.dumps(spec))
        load.stdin.close()
        time.sleep(1.6)  # the pollers start, then the burst is under way
        disrupt(server)
        out = json.loads(load.stdout.read())
        load.wait(timeout=120)
    connection.close()  # the test's own connection may have died with a restart
    stored = Ballot.objects.filter(presentation_id=presentation).count()
    distinct = Ballot.objects.filter(presentation_id=presentation).values("pseudonym").distinct().count()
    report = {"expected": RATERS, "found": stored, "lost": RATERS - distinct, "doubled": stored - distinct, **out}
    print(json.dumps(report))
    return report


def test_killed_gunicorn_worker_mid_burst_loses_and_doubles_nothing(small_document):
    def kill_a_worker(server):
        os.kill(server.worker_pids()[0], signal.SIGKILL)

    report = burst_with(small_document, kill_a_worker, port=8771)

    assert (report["found"], report["lost"], report["doubled"], report["errors"]) == (RATERS, 0, 0, 0)


def test_postgresql_restart_mid_burst_loses_and_doubles_nothing(small_document):
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]

    def restart_postgresql(server):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)

    report = burst_with(small_document, restart_postgresql, port=8772)

    assert (report["found"], report["lost"], report["doubled"], report["errors"]) == (RATERS, 0, 0, 0)
