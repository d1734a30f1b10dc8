"""On PostgreSQL the audit log refuses UPDATE, DELETE and TRUNCATE in the database itself, for
every role that does not own the table (see docs/operations.md: the application does not run as
the owner, so it can neither drop nor disable these triggers)."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION meetings_auditentry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % on meetings_auditentry refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER meetings_auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON meetings_auditentry
    FOR EACH ROW EXECUTE FUNCTION meetings_auditentry_append_only();
CREATE TRIGGER meetings_auditentry_no_truncate
    BEFORE TRUNCATE ON meetings_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION meetings_auditentry_append_only();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS meetings_auditentry_no_truncate ON meetings_auditentry;
DROP TRIGGER IF EXISTS meetings_auditentry_no_update_delete ON meetings_auditentry;
DROP FUNCTION IF EXISTS meetings_auditentry_append_only();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("meetings", "0003_change_counters")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
