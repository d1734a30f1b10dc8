"""A published result survives pg_dump and pg_restore into a fresh database, verifiably."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from meetings.services import meeting_import
from reports.services import snapshot_compute, snapshot_publish
from voting.simulation import ballots_simulate

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)

CHECK = """
import json, django
django.setup()
from meetings.selectors import audit_chain_problems
from reports.exports import export_document, verify_export
from reports.models import ResultSnapshot
from reports.services import snapshot_compute
published = ResultSnapshot.objects.get(published_at__isnull=False)
print(json.dumps({
    "digest": published.digest,
    "problems": verify_export(export_document(published)),
    "recomputed": snapshot_compute(meeting=published.meeting).digest,
    "audit": audit_chain_problems(meeting=published.meeting),
}))
"""


def test_published_snapshot_verifies_after_dump_and_restore(small_document, tmp_path):
    meeting = meeting_import(document=small_document(departments=4, seats=4), actor=None).meeting
    ballots_simulate(meeting=meeting, seed=4)
    snapshot = snapshot_compute(meeting=meeting)
    snapshot_publish(meeting=meeting, actor=None, ip=None)
    db = connection.settings_dict
    server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}"
    restored = f"kaoping_restore_{os.getpid()}"
    dump = tmp_path / "kaoping.dump"

    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"{server}/{db['NAME']}"], check=True)
    subprocess.run(["dropdb", "--if-exists", "-h", db["HOST"], "-U", db["USER"], restored], check=True)
    subprocess.run(["createdb", "-h", db["HOST"], "-U", db["USER"], restored], check=True)
    try:
        subprocess.run(["pg_restore", "--no-owner", f"--dbname={server}/{restored}", str(dump)], check=True)
        out = subprocess.run(
            [sys.executable, "-c", CHECK],
            cwd=ROOT,
            env=os.environ | {"DATABASE_URL": f"{server}/{restored}", "DJANGO_SETTINGS_MODULE": "appraisal.settings"},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        subprocess.run(["dropdb", "--if-exists", "-h", db["HOST"], "-U", db["USER"], restored], check=True)

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["digest"] == snapshot.digest
    assert result["problems"] == []
    assert result["recomputed"] == snapshot.digest
    assert result["audit"] == []
