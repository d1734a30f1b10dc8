"""On PostgreSQL every write to the ballot table, by whatever path (a service, the ORM, raw SQL),
moves the meeting's change counter (meetings.MeetingChange) in the same transaction, so publishing
sees it. Statement-level with transition tables: a bulk insert of 200,000 simulated ballots bumps
each counter once, not 200,000 times. The kind follows the rows: void, survey, paper, else ballots."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION voting_ballot_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER voting_ballot_inserted AFTER INSERT ON voting_ballot
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION voting_ballot_changed();
CREATE TRIGGER voting_ballot_updated AFTER UPDATE ON voting_ballot
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION voting_ballot_changed();
CREATE TRIGGER voting_ballot_deleted AFTER DELETE ON voting_ballot
    REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION voting_ballot_changed();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS voting_ballot_inserted ON voting_ballot;
DROP TRIGGER IF EXISTS voting_ballot_updated ON voting_ballot;
DROP TRIGGER IF EXISTS voting_ballot_deleted ON voting_ballot;
DROP FUNCTION IF EXISTS voting_ballot_changed();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("voting", "0003_paper_entry"), ("meetings", "0003_change_counters")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
