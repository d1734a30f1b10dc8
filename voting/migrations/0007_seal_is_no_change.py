"""The ballot-change trigger ignores the seal (voting.services.meeting_seal): rewriting a final meeting's
ballots in random order changes nothing a result is computed from, so it is no change to count. The
flag is a transaction-local setting only the seal sets."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION voting_ballot_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('kaoping.seal', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    INSERT INTO meetings_meetingchange (meeting_id, kind, shard, count)
    SELECT p.meeting_id,
           CASE WHEN c.state = 'void' THEN 'voids'
                WHEN c.source = 'survey' THEN 'survey'
                WHEN c.source = 'paper' THEN 'paper'
                ELSE 'ballots' END AS kind,
           floor(random() * 8)::int,
           count(*)
    FROM changed c JOIN meetings_presentation p ON p.id = c.presentation_id
    GROUP BY 1, 2
    ON CONFLICT (meeting_id, kind, shard) DO UPDATE SET count = meetings_meetingchange.count + EXCLUDED.count;
    RETURN NULL;
END;
$$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("voting", "0006_anonymity")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
