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


def stored_reaches(presentation_id: int, count: int, load: subprocess.Popen, timeout: float = 60) -> int:
    """Wait until the burst has stored `count` ballots: a disruption lands mid-burst, not before it starts."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = Ballot.objects.filter(presentation_id=presentation_id).count()
        if stored >= count:
            return stored
        if load.poll() is not None:
            raise AssertionError(f"the phones stopped (exit {load.returncode}) with {stored} of {count} ballots in")
        time.sleep(0.02)
    raise AssertionError(f"the burst never reached {count} ballots")


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
        disruption = disrupt(server, lambda count: stored_reaches(presentation, count, load))
        out = json.loads(load.stdout.read())
        load.wait(timeout=120)
    connection.close()  # the test's own connection may have died with a restart
    stored = Ballot.objects.filter(presentation_id=presentation).count()
    distinct = Ballot.objects.filter(presentation_id=presentation).values("pseudonym").distinct().count()
    report = {
        "expected": RATERS,
        "found": stored,
        "lost": RATERS - distinct,
        "doubled": stored - distinct,
        **disruption,
        **out,
    }
    print(json.dumps(report))
    return report


def test_killed_gunicorn_worker_mid_burst_loses_and_doubles_nothing(small_document):
    def kill_busy_workers(server, stored_reaches):
        # A worker in the middle of a request, so that a phone really loses its answer and resends;
        # five times over the burst: a worker may have written its answer just before the signal lands.
        # A worker seen idle for a whole second is killed anyway: a burst lasts only a few seconds, and a
        # kill after it would prove nothing.
        killed_at, busy_kills = [], 0
        for percent in (10, 25, 40, 55, 70):
            killed_at.append(stored_reaches(RATERS * percent // 100))
            deadline = time.monotonic() + 1
            while not (busy := server.busy_worker_pids()) and time.monotonic() < deadline:
                time.sleep(0.001)
            busy_kills += bool(busy)
            os.kill((busy or server.worker_pids())[0], signal.SIGKILL)
        return {"killed_at": killed_at, "busy_kills": busy_kills}

    report = burst_with(small_document, kill_busy_workers, port=8771)

    assert max(report["killed_at"]) < RATERS  # the kills came mid-burst
    # and cut off phones' requests in flight (ballots, resent with their key, or polls)
    assert report["retries"] + report["poll_errors"] >= 1
    assert "500" not in report["statuses"]
    assert (report["found"], report["lost"], report["doubled"], report["errors"]) == (RATERS, 0, 0, 0)


def test_postgresql_restart_mid_burst_loses_and_doubles_nothing(small_document):
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True).stdout.split()[0]

    def restart_postgresql(server, stored_reaches):
        restarted_at = stored_reaches(RATERS // 10)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart"], check=True)
        return {"restarted_at": restarted_at}

    report = burst_with(small_document, restart_postgresql, port=8772)

    assert report["restarted_at"] < RATERS
    assert report["retries"] >= 1
    # While PostgreSQL is down the answer is "try again shortly", never a server error.
    assert "500" not in report["statuses"]
    assert (report["found"], report["lost"], report["doubled"], report["errors"]) == (RATERS, 0, 0, 0)
