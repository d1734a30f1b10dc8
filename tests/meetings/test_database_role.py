"""The application's database role (scripts/postgres/app-role.sql, docs/operations.md) does its work and
cannot touch the audit log: not by UPDATE, DELETE or TRUNCATE, nor by dropping or disabling the triggers."""

import os
import subprocess
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from meetings.services import audit_record
from tests.factories import MeetingFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "postgres" / "app-role.sql"
ROLE = f"kaoping_app_test_{os.getpid()}"


@pytest.fixture
def app_connection():
    db = connection.settings_dict
    owner = ["psql", "-X", "-q", "-h", db["HOST"], "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", db["NAME"]]
    subprocess.run(
        [*owner, "-v", "ON_ERROR_STOP=1", "-v", f"app_role={ROLE}", "-v", "app_password=pw-app-1", "-f", str(SCRIPT)],
        check=True,
        capture_output=True,
    )
    conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=ROLE, password="pw-app-1", dbname=db["NAME"], autocommit=True
    )
    yield conn
    conn.close()
    cleanup = f'DROP OWNED BY "{ROLE}"; DROP ROLE "{ROLE}";'
    subprocess.run([*owner, "-c", cleanup], check=True, capture_output=True)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE meetings_auditentry SET action = 'forged'",
        "DELETE FROM meetings_auditentry",
        "TRUNCATE meetings_auditentry CASCADE",
        "DROP TRIGGER meetings_auditentry_no_update_delete ON meetings_auditentry",
        "ALTER TABLE meetings_auditentry DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "DROP FUNCTION meetings_auditentry_append_only() CASCADE",
    ],
)
def test_application_role_cannot_change_the_audit_log_or_its_guards(app_connection, statement):
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=None, ip=None, action="a")

    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app_connection.execute(statement)

    assert meeting.audit_entries.values_list("action", flat=True).get() == "a"


def test_application_role_reads_and_appends(app_connection):
    meeting = MeetingFactory()
    audit_record(meeting=meeting, actor=None, ip=None, action="a")

    count = app_connection.execute("SELECT count(*) FROM meetings_auditentry WHERE meeting_id = %s", [meeting.pk])
    app_connection.execute(
        "INSERT INTO meetings_meetingchange (meeting_id, kind, shard, count) VALUES (%s, 'setup', 0, 1)", [meeting.pk]
    )

    assert count.fetchone()[0] == 1
